#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "siphon/classify.h"
#include "siphon/node_index.h"

static bool overlaps(const struct flagset *a, const struct flagset *b)
{
	uint64_t any = 0;
	for (unsigned i = 0; i < FLAGSET_WORDS; i++)
		any |= a->w[i] & b->w[i];
	return any != 0;
}

/* The flag masks of each kind and the derived flags' term ranges; false
 * when the tables do not allow evaluating flags one kind at a time (a bit
 * of two kinds, a derived flag's terms not together, or a term reading a
 * derived flag not complete before it): the loader never builds such
 * tables, and then every flag is computed. */
static bool lazy_init(struct classifier *c, const struct compiled_tables *t)
{
	struct flagset *g = c->group, seen = { { 0 } }, derived = { { 0 } };

	if (t->n_flags > SIPHON_MAX_FLAGS || t->headers.count > SIP_EXTRA_MAX)
		return false;
	for (uint32_t b = 0; b < t->n_flags; b++)
		flagset_set(&c->all, b);
	for (uint32_t i = 0; i < t->n_methods; i++)
		flagset_or(&g[FLAG_GROUP_METHOD], &t->methods[i].flags);
	for (unsigned i = 0; i < TRANSPORT__COUNT; i++)
		flagset_or(&g[FLAG_GROUP_SOURCE], &t->transports[i]);
	g[FLAG_GROUP_DIALOG] = t->in_dialog;
	for (unsigned i = 0; i < t->headers.count; i++)
		flagset_or(&g[FLAG_GROUP_PRESENT], &t->header_present[i]);
	g[FLAG_GROUP_TO_SELF] = t->to_self;
	g[FLAG_GROUP_PROBE] = t->own_probe_answer;
	for (uint32_t i = 0; i < t->n_patterns; i++) {
		if (t->patterns[i].header >= t->headers.count || t->patterns[i].flag >= t->n_flags)
			return false;
		flagset_set(&c->header_match[t->patterns[i].header], t->patterns[i].flag);
	}
	for (unsigned h = 0; h < t->headers.count; h++)
		flagset_or(&g[FLAG_GROUP_MATCH], &c->header_match[h]);
	for (uint32_t k = 0; k < t->n_expr_terms; k++) {
		const struct dnf_term *term = &t->expr_terms[k];
		const unsigned d = term->target;

		if (d >= t->n_flags)
			return false;
		if (!flagset_has(&derived, d)) {
			flagset_set(&derived, d);
			c->expr_first[d] = (uint16_t)k;
		} else if (c->expr_end[d] != k) {
			return false; /* not together */
		}
		c->expr_end[d] = (uint16_t)(k + 1);
	}
	g[FLAG_GROUP_DERIVED] = derived;
	/* each term reads only flags complete before it: not its own target,
	 * nor a derived flag with a term at or after it */
	for (uint32_t k = 0; k < t->n_expr_terms; k++) {
		const struct dnf_term *term = &t->expr_terms[k];
		for (uint32_t b = 0; b < t->n_flags; b++)
			if ((flagset_has(&term->must, b) || flagset_has(&term->must_not, b)) &&
			    flagset_has(&derived, b) && c->expr_end[b] > k)
				return false;
	}
	/* the kinds are disjoint; what no other kind sets is a source flag */
	for (unsigned k = 0; k < FLAG_GROUP__COUNT; k++) {
		if (k == FLAG_GROUP_SOURCE)
			continue;
		if (overlaps(&seen, &g[k]))
			return false;
		flagset_or(&seen, &g[k]);
	}
	for (unsigned h = 0; h < t->headers.count; h++)
		for (unsigned h2 = h + 1; h2 < t->headers.count; h2++)
			if (overlaps(&c->header_match[h], &c->header_match[h2]))
				return false;
	if (overlaps(&seen, &g[FLAG_GROUP_SOURCE]))
		return false; /* a transport flag of another kind too */
	for (unsigned i = 0; i < FLAGSET_WORDS; i++)
		g[FLAG_GROUP_SOURCE].w[i] |= c->all.w[i] & ~seen.w[i];
	for (unsigned k = FLAG_GROUP_SOURCE; k <= FLAG_GROUP_PRESENT; k++)
		flagset_or(&c->cheap, &g[k]);
	return true;
}

int classifier_init(struct classifier *c, const struct compiled_tables *t)
{
	memset(c, 0, sizeof(*c));
	c->tables = t;
	for (uint32_t i = 0; i < t->n_patterns; i++)
		c->pattern_headers |= 1u << t->patterns[i].header;
	c->lazy_ok = lazy_init(c, t);
	if (!t->n_patterns)
		return 0;
	if (hs_deserialize_database(t->hs_db, t->hs_db_len, &c->db) != HS_SUCCESS)
		return -EINVAL;
	if (hs_alloc_scratch(c->db, &c->scratch) != HS_SUCCESS) {
		hs_free_database(c->db);
		c->db = NULL;
		return -ENOMEM;
	}
	return 0;
}

void classifier_free(struct classifier *c)
{
	if (c->scratch)
		hs_free_scratch(c->scratch);
	if (c->db)
		hs_free_database(c->db);
	memset(c, 0, sizeof(*c));
}

enum sip_verdict classifier_scan(const struct classifier *c, const uint8_t *buf, size_t len,
				 struct sip_msg *msg)
{
	return sip_scan(buf, len, &c->tables->limits, &c->tables->headers, msg);
}

bool sip_uri_host(const uint8_t *uri, size_t len, const uint8_t **host, size_t *host_len)
{
	const uint8_t *end = uri + len, *p = memchr(uri, ':', len), *h, *q;

	if (!p)
		return false;
	h = p + 1;
	/* hostport follows the last '@' of the userinfo; '?' starts headers */
	q = memchr(h, '?', (size_t)(end - h));
	if (q)
		end = q;
	q = memrchr(h, '@', (size_t)(end - h));
	if (q)
		h = q + 1;
	if (h < end && *h == '[') {
		q = memchr(h, ']', (size_t)(end - h));
		if (!q)
			return false;
		end = q + 1;
	} else {
		for (q = h; q < end && *q != ':' && *q != ';' && *q != '>'; q++)
			;
		end = q;
	}
	*host = h;
	*host_len = (size_t)(end - h);
	return end > h;
}

/* inet_pton(AF_INET) over [p, p+len) without a copy: four decimal parts,
 * each at most 255, no leading zero but "0" itself (glibc's rules; a NUL
 * ends the text, as it ends the copy inet_pton would read); -1 when it is
 * not that, 1 when it is. */
static int ipv4_parse(const uint8_t *p, size_t len, uint8_t addr[4])
{
	const uint8_t *end = p + len;

	for (unsigned part = 0; part < 4; part++) {
		unsigned v = 0, digits = 0;

		if (part && (p >= end || *p++ != '.'))
			return -1;
		for (; p < end && *p >= '0' && *p <= '9'; p++, digits++) {
			if (digits && v == 0)
				return -1; /* a leading zero */
			v = v * 10 + (unsigned)(*p - '0');
			if (v > 255)
				return -1;
		}
		if (!digits)
			return -1;
		addr[part] = (uint8_t)v;
	}
	return p == end || *p == 0 ? 1 : -1;
}

/* A host as text (IPv6 in brackets, or a name) against a list of addresses
 * and, if names is not NULL, of lower-case names. */
static bool host_is(const uint8_t *host, size_t len, const struct self_addr *addrs, uint32_t n_addrs,
		    const char (*names)[TABLES_NAME_MAX], uint32_t n_names)
{
	char text[TABLES_NAME_MAX];
	uint8_t addr[16];
	int family = AF_INET;

	if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
		host++, len -= 2, family = AF_INET6;
	}
	if (len == 0 || len >= sizeof(text))
		return false;
	/* a name starting with a letter is never an address; an IPv4 address
	 * is read in place */
	if (family == AF_INET && host[0] >= '0' && host[0] <= '9' &&
	    ipv4_parse(host, len, addr) == 1) {
		for (uint32_t i = 0; i < n_addrs; i++)
			if (addrs[i].family == AF_INET && memcmp(addrs[i].addr, addr, 4) == 0)
				return true;
		return false;
	}
	memcpy(text, host, len);
	text[len] = 0;
	if (family == AF_INET6 && inet_pton(family, text, addr) == 1) {
		for (uint32_t i = 0; i < n_addrs; i++)
			if (addrs[i].family == family &&
			    memcmp(addrs[i].addr, addr, family == AF_INET ? 4 : 16) == 0)
				return true;
		return false;
	}
	for (uint32_t i = 0; names && i < n_names; i++)
		if (strcasecmp(names[i], text) == 0)
			return true;
	return false;
}

struct match_ctx {
	const struct compiled_tables *t;
	struct flagset *flags;
	unsigned header;
};

static int on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned hs_flags,
		    void *ctx)
{
	struct match_ctx *m = ctx;

	(void)from, (void)to, (void)hs_flags;
	/* one database for every header: keep the matches of this header's patterns */
	if (id < m->t->n_patterns && m->t->patterns[id].header == m->header)
		flagset_set(m->flags, m->t->patterns[id].flag);
	return 0;
}

static void method_flags(const struct compiled_tables *t, const uint8_t *name, size_t len,
			 struct flagset *flags)
{
	for (uint32_t i = 0; i < t->n_methods; i++)
		if (t->methods[i].len == len && memcmp(t->methods[i].name, name, len) == 0)
			flagset_or(flags, &t->methods[i].flags);
}

static void source_flags(const struct compiled_tables *t, const struct packet_meta *pm,
			 struct flagset *flags)
{
	if (pm->family == AF_INET)
		flagset_or(flags, prefix_lookup(&t->source4, pm->src));
	else if (pm->family == AF_INET6)
		flagset_or(flags, prefix_lookup(&t->source6, pm->src));
	if ((unsigned)pm->transport < TRANSPORT__COUNT)
		flagset_or(flags, &t->transports[pm->transport]);
}

void classify_connection(const struct classifier *c, const struct packet_meta *pm,
			 struct flagset *flags)
{
	memset(flags, 0, sizeof(*flags));
	source_flags(c->tables, pm, flags);
}

static bool is_to_self(const struct compiled_tables *t, const uint8_t *buf,
		       const struct sip_msg *msg)
{
	const uint8_t *host;
	size_t host_len;

	return msg->is_request &&
	       sip_uri_host(buf + msg->ruri.off, msg->ruri.len, &host, &host_len) &&
	       host_is(host, host_len, t->self_addrs, t->n_self_addrs, t->self_names,
		       t->n_self_names);
}

/* an answer to our own probe names a control address in its top Via
 * and comes from a node: anyone can write the Via, not the source */
static bool is_own_probe_answer(const struct compiled_tables *t, const uint8_t *buf,
				const struct sip_msg *msg, const struct packet_meta *pm)
{
	return !msg->is_request && node_index_has_addr(t, pm->family, pm->src, 0, false) &&
	       host_is(buf + msg->via.host.off, msg->via.host.len, t->control_addrs,
		       t->n_control_addrs, NULL, 0);
}

static const struct sip_span *method_span(const struct sip_msg *msg)
{
	return msg->is_request ? &msg->method_name : &msg->cseq_method_name;
}

/* Hyperscan over the first value of header i: its match flags into flags. */
static void scan_header(const struct classifier *c, const uint8_t *buf, const struct sip_msg *msg,
			unsigned i, struct flagset *flags)
{
	struct match_ctx ctx = { c->tables, flags, i };

	hs_scan(c->db, (const char *)buf + msg->extra[i].off, msg->extra[i].len, 0, c->scratch,
		on_match, &ctx);
}

void classify(const struct classifier *c, const uint8_t *buf, const struct sip_msg *msg,
	      const struct packet_meta *pm, struct flagset *flags)
{
	const struct compiled_tables *t = c->tables;
	const struct sip_span *m = method_span(msg);

	memset(flags, 0, sizeof(*flags));
	source_flags(t, pm, flags);
	method_flags(t, buf + m->off, m->len, flags);
	if (sip_in_dialog(msg))
		flagset_or(flags, &t->in_dialog);
	if (!flagset_empty(&t->to_self) && is_to_self(t, buf, msg))
		flagset_or(flags, &t->to_self);
	if (!flagset_empty(&t->own_probe_answer) && is_own_probe_answer(t, buf, msg, pm))
		flagset_or(flags, &t->own_probe_answer);
	for (unsigned i = 0; i < t->headers.count; i++) {
		if (!msg->extra_count[i])
			continue;
		flagset_or(flags, &t->header_present[i]);
		if (c->pattern_headers & (1u << i))
			scan_header(c, buf, msg, i, flags);
	}
}

/* ---- lazy evaluation ------------------------------------------------ */

#define CHEAP_GROUPS                                                                        \
	((1u << FLAG_GROUP_SOURCE) | (1u << FLAG_GROUP_METHOD) | (1u << FLAG_GROUP_DIALOG) | \
	 (1u << FLAG_GROUP_PRESENT))

void flag_eval_init(struct flag_eval *e, const struct classifier *c, const uint8_t *buf,
		    const struct sip_msg *msg, const struct packet_meta *pm)
{
	e->c = c, e->buf = buf, e->msg = msg, e->pm = pm;
	memset(&e->known, 0, sizeof(e->known));
	memset(&e->value, 0, sizeof(e->value));
	e->groups_done = 0;
	e->headers_scanned = 0;
	e->hs_scans = 0;
}

static void learn(struct flag_eval *e, const struct flagset *mask)
{
	flagset_or(&e->known, mask);
}

/* Computes TO_SELF or PROBE (the cheap kinds go together in
 * compute_cheap(), DERIVED and MATCH flag by flag and header by header). */
static void compute_group(struct flag_eval *e, enum flag_group g)
{
	const struct classifier *c = e->c;
	const struct compiled_tables *t = c->tables;

	e->groups_done |= 1u << g;
	if (g == FLAG_GROUP_TO_SELF && is_to_self(t, e->buf, e->msg))
		flagset_or(&e->value, &t->to_self);
	if (g == FLAG_GROUP_PROBE && is_own_probe_answer(t, e->buf, e->msg, e->pm))
		flagset_or(&e->value, &t->own_probe_answer);
	learn(e, &c->group[g]);
}

static void scan_lazy(struct flag_eval *e, unsigned h)
{
	e->headers_scanned |= 1u << h;
	if (e->msg->extra_count[h]) {
		scan_header(e->c, e->buf, e->msg, h, &e->value);
		e->hs_scans++;
	}
	learn(e, &e->c->header_match[h]);
}

static bool term_holds_slow(struct flag_eval *e, const struct dnf_term *term);

/* Whether the term holds: at once when the known flags decide it (most
 * terms, once the cheap kinds are in), else term_holds_slow(). */
static inline bool term_holds(struct flag_eval *e, const struct dnf_term *term)
{
	uint64_t dead = 0, open = 0;

	for (unsigned i = 0; i < FLAGSET_WORDS; i++) {
		const uint64_t k = e->known.w[i], v = e->value.w[i];
		dead |= (term->must.w[i] & k & ~v) | (term->must_not.w[i] & k & v);
		open |= (term->must.w[i] | term->must_not.w[i]) & ~k;
	}
	if (dead)
		return false;
	if (!open)
		return true;
	return term_holds_slow(e, term);
}

/* A derived flag from its terms: an or of them, stopping at the first that
 * holds (each reads only flags complete before it: lazy_init()). */
static void derive(struct flag_eval *e, unsigned bit)
{
	const struct compiled_tables *t = e->c->tables;

	for (unsigned k = e->c->expr_first[bit]; k < e->c->expr_end[bit]; k++)
		if (term_holds(e, &t->expr_terms[k])) {
			flagset_set(&e->value, bit);
			break;
		}
	flagset_set(&e->known, bit);
}

/* What a term still needs (open), and whether a known flag already makes
 * it fail (the return value). */
static inline bool term_fails(const struct flag_eval *e, const struct dnf_term *term,
			      struct flagset *open)
{
	uint64_t dead = 0;

	for (unsigned i = 0; i < FLAGSET_WORDS; i++) {
		const uint64_t k = e->known.w[i], v = e->value.w[i];
		dead |= (term->must.w[i] & k & ~v) | (term->must_not.w[i] & k & v);
		open->w[i] = (term->must.w[i] | term->must_not.w[i]) & ~k;
	}
	return dead != 0;
}

static inline bool needs(const struct flagset *open, const struct flagset *mask)
{
	uint64_t any = 0;
	for (unsigned i = 0; i < FLAGSET_WORDS; i++)
		any |= open->w[i] & mask->w[i];
	return any != 0;
}

/* The cheap kinds, together, before the first term: a trie lookup, a few
 * compares and bit tests, less than the bookkeeping to avoid them would
 * cost. */
static void compute_cheap(struct flag_eval *e)
{
	const struct classifier *c = e->c;
	const struct compiled_tables *t = c->tables;
	const struct sip_msg *msg = e->msg;
	const struct sip_span *m = method_span(msg);

	source_flags(t, e->pm, &e->value);
	method_flags(t, e->buf + m->off, m->len, &e->value);
	if (sip_in_dialog(msg))
		flagset_or(&e->value, &t->in_dialog);
	flagset_or(&e->known, &c->cheap);
	for (unsigned i = 0; i < t->headers.count; i++) {
		if (msg->extra_count[i]) {
			flagset_or(&e->value, &t->header_present[i]);
		} else {
			/* no value, no match: settled without a scan */
			flagset_or(&e->known, &c->header_match[i]);
			e->headers_scanned |= 1u << i;
		}
	}
	e->groups_done |= CHEAP_GROUPS;
}

/* Whether the term holds, computing what it needs in cost order and
 * stopping as soon as the known flags decide it: term_holds() when the
 * known flags do not decide it already. */
static __attribute__((noinline)) bool term_holds_slow(struct flag_eval *e,
						      const struct dnf_term *term)
{
	const struct classifier *c = e->c;
	struct flagset open;

	if (term_fails(e, term, &open))
		return false;
	/* what is left costs more: each kind in turn, then a new look */
	if (needs(&open, &c->group[FLAG_GROUP_TO_SELF])) {
		compute_group(e, FLAG_GROUP_TO_SELF);
		if (term_fails(e, term, &open))
			return false;
	}
	if (needs(&open, &c->group[FLAG_GROUP_PROBE])) {
		compute_group(e, FLAG_GROUP_PROBE);
		if (term_fails(e, term, &open))
			return false;
	}
	for (unsigned i = 0; i < FLAGSET_WORDS; i++)
		for (uint64_t bits = open.w[i] & c->group[FLAG_GROUP_DERIVED].w[i]; bits;
		     bits &= bits - 1) {
			derive(e, i * 64 + (unsigned)__builtin_ctzll(bits));
			if (term_fails(e, term, &open))
				return false;
		}
	for (unsigned h = 0; !flagset_empty(&open) && h < c->tables->headers.count; h++) {
		if (!needs(&open, &c->header_match[h]))
			continue;
		scan_lazy(e, h);
		if (term_fails(e, term, &open))
			return false;
	}
	return flagset_empty(&open); /* always: every flag is of some kind */
}

void flag_eval_all(struct flag_eval *e)
{
	const struct classifier *c = e->c;
	const struct compiled_tables *t = c->tables;

	if (!(e->groups_done & CHEAP_GROUPS))
		compute_cheap(e);
	for (unsigned g = FLAG_GROUP_TO_SELF; g <= FLAG_GROUP_PROBE; g++)
		if (!(e->groups_done & (1u << g)))
			compute_group(e, (enum flag_group)g);
	for (unsigned h = 0; h < t->headers.count; h++)
		if (!(e->headers_scanned & (1u << h)) && (c->pattern_headers & (1u << h)))
			scan_lazy(e, h);
	for (uint32_t b = 0; b < t->n_flags; b++)
		if (flagset_has(&c->group[FLAG_GROUP_DERIVED], b) && !flagset_has(&e->known, b))
			derive(e, b);
	e->known = c->all;
}

static enum sip_reason action_reason(enum action_kind k)
{
	static const enum sip_reason by_action[ACTION__COUNT] = {
		[ACTION_POOL] = SIP_REASON_RULE_POOL,
		[ACTION_DROP] = SIP_REASON_RULE_DROP,
		[ACTION_PUNT] = SIP_REASON_RULE_PUNT,
		[ACTION_REPLY] = SIP_REASON_RULE_REPLY,
		[ACTION_RATE_LIMIT] = SIP_REASON_RATE_LIMITED,
	};
	return by_action[k];
}

void decide(const struct compiled_tables *t, struct flagset *flags, struct decision *d)
{
	uint32_t i = 0;

	/* derived flags, in definition order: each sees the ones before it */
	for (uint32_t k = 0; k < t->n_expr_terms; k++)
		if (flagset_matches(flags, &t->expr_terms[k].must, &t->expr_terms[k].must_not))
			flagset_set(flags, t->expr_terms[k].target);

	memset(d, 0, sizeof(*d));
	d->rule = -1;
	while (i < t->n_rule_terms) {
		const struct dnf_term *term = &t->rule_terms[i];
		const struct rule_action *a;

		if (!flagset_matches(flags, &term->must, &term->must_not)) {
			i++;
			continue;
		}
		a = &t->actions[term->target];
		if (a->kind != ACTION_RATE_LIMIT) {
			d->rule = term->target;
			d->reason = action_reason(a->kind);
			d->verdict = sip_reason_verdict(d->reason);
			return;
		}
		/* within the bucket (the fast path keeps the buckets): go on
		 * after this rule's terms */
		if (d->n_rate_limits < DECISION_MAX_RATE_LIMITS)
			d->rate_limits[d->n_rate_limits++] = term->target;
		while (i < t->n_rule_terms && t->rule_terms[i].target == term->target)
			i++;
	}
	/* unreachable with a loaded config: its last rule always holds */
	d->reason = SIP_REASON_RULE_DROP;
	d->verdict = SIP_VERDICT_DROP;
}

void decide_lazy(struct flag_eval *e, struct decision *d)
{
	const struct compiled_tables *t = e->c->tables;
	uint32_t i = 0;

	memset(d, 0, sizeof(*d));
	d->rule = -1;
	if (!(e->groups_done & CHEAP_GROUPS))
		compute_cheap(e);
	while (i < t->n_rule_terms) {
		const struct dnf_term *term = &t->rule_terms[i];
		const struct rule_action *a;

		if (!term_holds(e, term)) {
			i++;
			continue;
		}
		a = &t->actions[term->target];
		if (a->kind != ACTION_RATE_LIMIT) {
			d->rule = term->target;
			d->reason = action_reason(a->kind);
			d->verdict = sip_reason_verdict(d->reason);
			return;
		}
		if (d->n_rate_limits < DECISION_MAX_RATE_LIMITS)
			d->rate_limits[d->n_rate_limits++] = term->target;
		while (i < t->n_rule_terms && t->rule_terms[i].target == term->target)
			i++;
	}
	d->reason = SIP_REASON_RULE_DROP;
	d->verdict = SIP_VERDICT_DROP;
}
