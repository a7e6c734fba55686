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

/* The same over the first nw words (nw 1: a config of at most 64 flags,
 * whose sets have every other word clear), and an OR of as many. */
static inline __attribute__((always_inline)) bool overlaps_w(const struct flagset *a,
							    const struct flagset *b, unsigned nw)
{
	uint64_t any = 0;
	for (unsigned i = 0; i < nw; i++)
		any |= a->w[i] & b->w[i];
	return any != 0;
}

static inline __attribute__((always_inline)) void or_w(struct flagset *into,
						       const struct flagset *from, unsigned nw)
{
	for (unsigned i = 0; i < nw; i++)
		into->w[i] |= from->w[i];
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
	c->has_derived = t->n_expr_terms > 0;
	c->one_word = t->n_flags <= 64;
	/* each term reads only flags complete before it: not its own target,
	 * nor a derived flag with a term at or after it; a derived flag's base
	 * flags are those of its terms, derived ones replaced by theirs */
	for (uint32_t k = 0; k < t->n_expr_terms; k++) {
		const struct dnf_term *term = &t->expr_terms[k];
		struct flagset *deps = &c->derived_deps[term->target];

		for (uint32_t b = 0; b < t->n_flags; b++) {
			if (!flagset_has(&term->must, b) && !flagset_has(&term->must_not, b))
				continue;
			if (!flagset_has(&derived, b))
				flagset_set(deps, b);
			else if (c->expr_end[b] > k)
				return false;
			else
				flagset_or(deps, &c->derived_deps[b]);
		}
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

static void method_flags(const struct compiled_tables *t, const uint8_t *name, size_t len,
			 struct flagset *flags);

static void free_databases(struct classifier *c)
{
	if (c->scratch)
		hs_free_scratch(c->scratch);
	if (c->db)
		hs_free_database(c->db);
	for (unsigned h = 0; h < SIP_EXTRA_MAX; h++)
		if (c->header_db[h])
			hs_free_database(c->header_db[h]);
	c->scratch = NULL;
	c->db = NULL;
	memset(c->header_db, 0, sizeof(c->header_db));
}

/* The directory at the end of the Hyperscan section (struct hs_db_entry);
 * false when there is none (one database) or it does not add up. */
static bool hs_db_directory(const struct compiled_tables *t, struct hs_db_entry *e, uint32_t *n)
{
	const uint8_t *b = t->hs_db;
	const size_t len = t->hs_db_len;
	uint32_t magic, count;
	size_t dir, sum = 0;

	if (len < 8)
		return false;
	memcpy(&magic, b + len - 4, 4);
	memcpy(&count, b + len - 8, 4);
	if (magic != HS_DB_MAGIC || count < 1 || count > SIP_EXTRA_MAX + 1)
		return false;
	dir = 8 + (size_t)count * sizeof(*e);
	if (dir > len)
		return false;
	memcpy(e, b + len - dir, count * sizeof(*e));
	for (uint32_t i = 0; i < count; i++) {
		if (i == 0 ? e[i].header != HS_DB_ALL : e[i].header >= t->headers.count)
			return false;
		sum += e[i].len;
	}
	*n = count;
	return sum + dir == len;
}

/* Every database of the tables, and one scratch big enough for each. */
static int load_databases(struct classifier *c, const struct compiled_tables *t)
{
	struct hs_db_entry dir[SIP_EXTRA_MAX + 1];
	uint32_t n = 0;
	size_t off = 0;

	if (!hs_db_directory(t, dir, &n)) {
		n = 1;
		dir[0] = (struct hs_db_entry){ (uint32_t)t->hs_db_len, HS_DB_ALL };
	}
	for (uint32_t i = 0; i < n; i++) {
		hs_database_t **db = i == 0 ? &c->db : &c->header_db[dir[i].header];

		if (*db || hs_deserialize_database((const char *)t->hs_db + off, dir[i].len, db) !=
				   HS_SUCCESS) {
			free_databases(c);
			return -EINVAL;
		}
		if (hs_alloc_scratch(*db, &c->scratch) != HS_SUCCESS) {
			free_databases(c);
			return -ENOMEM;
		}
		off += dir[i].len;
	}
	return 0;
}

/* A literal pre-check for each header the tables give literals for
 * (grouped here: the blob lists them in any order). */
static void precheck_init(struct classifier *c, const struct compiled_tables *t)
{
	for (unsigned h = 0; h < t->headers.count && h < SIP_EXTRA_MAX; h++) {
		struct hs_literal lit[HS_PRECHECK_MAX];
		unsigned n = 0;

		if (!(c->pattern_headers & (1u << h)))
			continue;
		for (uint32_t i = 0; i < t->n_literals; i++) {
			if (t->literals[i].header != h)
				continue;
			if (n == HS_PRECHECK_MAX) {
				n = 0;
				break;
			}
			lit[n++] = t->literals[i];
		}
		if (n && hs_precheck_build(&c->precheck[h], lit, n))
			c->precheck_headers |= 1u << h;
	}
}

int classifier_init(struct classifier *c, const struct compiled_tables *t)
{
	static const char *const method_names[SIP_METHOD__COUNT] = {
#define SIP_METHOD(id, name) [SIP_METHOD_##id] = name,
#include "siphon/sip_methods.def"
#undef SIP_METHOD
	};

	memset(c, 0, sizeof(*c));
	c->tables = t;
	for (unsigned m = 0; m < SIP_METHOD__COUNT; m++)
		if (m != SIP_METHOD_OTHER)
			method_flags(t, (const uint8_t *)method_names[m], strlen(method_names[m]),
				     &c->method_by_id[m]);
	for (uint32_t i = 0; i < t->n_patterns; i++)
		c->pattern_headers |= 1u << t->patterns[i].header;
	precheck_init(c, t);
	c->lazy_ok = lazy_init(c, t);
	if (!t->n_patterns)
		return 0;
	return load_databases(c, t);
}

void classifier_free(struct classifier *c)
{
	free_databases(c);
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

/* The method flags of a message: a known method's (the scanner matched
 * its exact name) from the classifier, another name compared. */
static void msg_method_flags(const struct classifier *c, const uint8_t *buf,
			     const struct sip_msg *msg, struct flagset *flags)
{
	const unsigned id = msg->is_request ? msg->method : msg->cseq_method;
	const struct sip_span *m = method_span(msg);

	if (id != SIP_METHOD_OTHER && id < SIP_METHOD__COUNT)
		flagset_or(flags, &c->method_by_id[id]);
	else
		method_flags(c->tables, buf + m->off, m->len, flags);
}

/* Hyperscan over the first value of header i: its match flags into
 * flags. Unless the literal pre-check says no pattern can match (false:
 * no call made, no flag set). */
static bool scan_header(const struct classifier *c, const uint8_t *buf, const struct sip_msg *msg,
			unsigned i, struct flagset *flags)
{
	const uint8_t *v = buf + msg->extra[i].off;
	struct match_ctx ctx = { c->tables, flags, i };

	if ((c->precheck_headers & (1u << i)) && !c->precheck_off &&
	    !hs_precheck_may_match(&c->precheck[i], v, msg->extra[i].len))
		return false;
	hs_scan(c->header_db[i] ? c->header_db[i] : c->db, (const char *)v, msg->extra[i].len, 0,
		c->scratch, on_match, &ctx);
	return true;
}

void classify(const struct classifier *c, const uint8_t *buf, const struct sip_msg *msg,
	      const struct packet_meta *pm, struct flagset *flags)
{
	const struct compiled_tables *t = c->tables;

	memset(flags, 0, sizeof(*flags));
	source_flags(t, pm, flags);
	msg_method_flags(c, buf, msg, flags);
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

void flag_eval_init(struct flag_eval *e, const struct classifier *c, const uint8_t *buf,
		    const struct sip_msg *msg, const struct packet_meta *pm)
{
	e->c = c, e->buf = buf, e->msg = msg, e->pm = pm;
	memset(&e->known, 0, sizeof(e->known));
	memset(&e->value, 0, sizeof(e->value));
	e->groups_done = 0;
	e->headers_scanned = 0;
	e->hs_scans = 0;
	e->hs_spared = 0;
}

/* The derived flags, in definition order as decide() computes them, over
 * e->value; those whose base flags are all known are known. A derived flag
 * with a base flag not computed may come out wrong here (that flag reads
 * as clear), and is not marked known: no term that reads it is decided
 * before its base flags are in (decide_lazy()). */
static inline __attribute__((always_inline)) bool matches_w(const struct flagset *f,
								   const struct dnf_term *term,
								   unsigned nw)
{
	uint64_t miss = 0;
	for (unsigned i = 0; i < nw; i++)
		miss |= (term->must.w[i] & ~f->w[i]) | (term->must_not.w[i] & f->w[i]);
	return miss == 0;
}

static inline __attribute__((always_inline)) void derive_w(struct flag_eval *e, unsigned nw)
{
	const struct classifier *c = e->c;
	const struct compiled_tables *t = c->tables;

	for (unsigned i = 0; i < nw; i++)
		e->value.w[i] &= ~c->group[FLAG_GROUP_DERIVED].w[i];
	for (uint32_t k = 0; k < t->n_expr_terms; k++)
		if (matches_w(&e->value, &t->expr_terms[k], nw))
			flagset_set(&e->value, t->expr_terms[k].target);
	for (unsigned i = 0; i < nw; i++)
		for (uint64_t bits = c->group[FLAG_GROUP_DERIVED].w[i] & ~e->known.w[i]; bits;
		     bits &= bits - 1) {
			const unsigned d = i * 64 + (unsigned)__builtin_ctzll(bits);
			const struct flagset *deps = &c->derived_deps[d];
			uint64_t missing = 0;

			for (unsigned j = 0; j < nw; j++)
				missing |= deps->w[j] & ~e->known.w[j];
			if (!missing)
				flagset_set(&e->known, d);
		}
}

/* Configs of at most 64 flags (most) look at one word of each set. */
static void derive(struct flag_eval *e)
{
	if (e->c->one_word)
		derive_w(e, 1);
	else
		derive_w(e, FLAGSET_WORDS);
}

/* The cheap kinds, together, before the first rule: a trie lookup, a few
 * compares and bit tests, less than the bookkeeping to avoid them would
 * cost. The derived flags come when a term needs one. */
static inline __attribute__((always_inline)) void compute_cheap_w(struct flag_eval *e, unsigned nw)
{
	const struct classifier *c = e->c;
	const struct compiled_tables *t = c->tables;
	const struct sip_msg *msg = e->msg;

	source_flags(t, e->pm, &e->value);
	msg_method_flags(c, e->buf, msg, &e->value);
	if (sip_in_dialog(msg))
		or_w(&e->value, &t->in_dialog, nw);
	or_w(&e->known, &c->cheap, nw);
	for (unsigned i = 0; i < t->headers.count; i++) {
		if (msg->extra_count[i]) {
			or_w(&e->value, &t->header_present[i], nw);
		} else {
			/* no value, no match: settled without a scan */
			or_w(&e->known, &c->header_match[i], nw);
			e->headers_scanned |= 1u << i;
		}
	}
	e->groups_done |= 1u << FLAG_GROUP_SOURCE | 1u << FLAG_GROUP_METHOD |
			  1u << FLAG_GROUP_DIALOG | 1u << FLAG_GROUP_PRESENT;
}

/* The costly flags (to_self, own_probe_answer, match) in `need`, the
 * cheaper kinds first, Hyperscan once per header. */
static inline __attribute__((always_inline)) void compute_costly_w(struct flag_eval *e,
								 const struct flagset *need,
								 unsigned nw)
{
	const struct classifier *c = e->c;
	const struct compiled_tables *t = c->tables;

	if (overlaps_w(need, &c->group[FLAG_GROUP_TO_SELF], nw)) {
		e->groups_done |= 1u << FLAG_GROUP_TO_SELF;
		if (is_to_self(t, e->buf, e->msg))
			or_w(&e->value, &t->to_self, nw);
		or_w(&e->known, &t->to_self, nw);
	}
	if (overlaps_w(need, &c->group[FLAG_GROUP_PROBE], nw)) {
		e->groups_done |= 1u << FLAG_GROUP_PROBE;
		if (is_own_probe_answer(t, e->buf, e->msg, e->pm))
			or_w(&e->value, &t->own_probe_answer, nw);
		or_w(&e->known, &t->own_probe_answer, nw);
	}
	if (overlaps_w(need, &c->group[FLAG_GROUP_MATCH], nw))
		for (unsigned h = 0; h < t->headers.count; h++) {
			if (!overlaps_w(need, &c->header_match[h], nw))
				continue;
			e->headers_scanned |= 1u << h;
			if (!scan_header(c, e->buf, e->msg, h, &e->value))
				e->hs_spared++;
			e->hs_scans++;
			or_w(&e->known, &c->header_match[h], nw);
		}
}

/* Both for any config: one word when it has at most 64 flags. */
static void compute_cheap(struct flag_eval *e)
{
	if (e->c->one_word)
		compute_cheap_w(e, 1);
	else
		compute_cheap_w(e, FLAGSET_WORDS);
}

static void compute_costly(struct flag_eval *e, const struct flagset *need)
{
	if (e->c->one_word)
		compute_costly_w(e, need, 1);
	else
		compute_costly_w(e, need, FLAGSET_WORDS);
}

/* A term over what is known: 0 fails (a known flag contradicts it), 1
 * holds (every flag known, all agree), 2 open (it needs flags not known). */
static inline __attribute__((always_inline)) int term_state(const struct flag_eval *e,
								   const struct dnf_term *term,
								   unsigned nw)
{
	uint64_t dead = 0, open = 0;

	for (unsigned i = 0; i < nw; i++) {
		const uint64_t k = e->known.w[i], v = e->value.w[i];
		dead |= (term->must.w[i] & k & ~v) | (term->must_not.w[i] & k & v);
		open |= (term->must.w[i] | term->must_not.w[i]) & ~k;
	}
	return dead ? 0 : open ? 2 : 1;
}

/* The costly base flags a term's open flags stand on (a derived flag
 * stands on its base flags). */
static inline __attribute__((always_inline)) void costly_needs(const struct flag_eval *e,
							      const struct dnf_term *term,
							      struct flagset *need, unsigned nw)
{
	const struct classifier *c = e->c;

	memset(need, 0, sizeof(*need));
	for (unsigned w = 0; w < nw; w++) {
		const uint64_t open = (term->must.w[w] | term->must_not.w[w]) & ~e->known.w[w];
		need->w[w] |= open & ~c->group[FLAG_GROUP_DERIVED].w[w];
		for (uint64_t bits = open & c->group[FLAG_GROUP_DERIVED].w[w]; bits; bits &= bits - 1)
			flagset_or(need, &c->derived_deps[w * 64 + (unsigned)__builtin_ctzll(bits)]);
	}
	for (unsigned w = 0; w < nw; w++)
		need->w[w] &= ~e->known.w[w];
}

/* Whether every base flag of a term's open flags is known (its derived
 * flags can be computed without any costly flag). */
static inline __attribute__((always_inline)) bool base_known(const struct flag_eval *e,
							    const struct dnf_term *term,
							    unsigned nw)
{
	const struct classifier *c = e->c;
	uint64_t missing = 0;

	for (unsigned w = 0; w < nw; w++) {
		const uint64_t open = (term->must.w[w] | term->must_not.w[w]) & ~e->known.w[w];
		missing |= open & ~c->group[FLAG_GROUP_DERIVED].w[w];
		for (uint64_t bits = open & c->group[FLAG_GROUP_DERIVED].w[w]; bits; bits &= bits - 1) {
			const struct flagset *deps = &c->derived_deps[w * 64 + (unsigned)__builtin_ctzll(bits)];
			for (unsigned j = 0; j < nw; j++)
				missing |= deps->w[j] & ~e->known.w[j];
		}
	}
	return missing == 0;
}

void flag_eval_all(struct flag_eval *e)
{
	const struct classifier *c = e->c;
	struct flagset need;

	if (!(e->groups_done & (1u << FLAG_GROUP_SOURCE)))
		compute_cheap(e);
	for (unsigned i = 0; i < FLAGSET_WORDS; i++)
		need.w[i] = c->all.w[i] & ~e->known.w[i];
	compute_costly(e, &need);
	if (c->has_derived)
		derive(e);
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

/* A matching term: its rule decides (true), or it is a rate-limit rule
 * the message is within (the fast path keeps the buckets): noted, and the
 * walk goes on after this rule's terms (*i moved past them). */
static inline bool term_decides(const struct compiled_tables *t, const struct dnf_term *term,
				struct decision *d, uint32_t *i)
{
	const struct rule_action *a = &t->actions[term->target];

	if (a->kind != ACTION_RATE_LIMIT) {
		d->rule = term->target;
		d->reason = action_reason(a->kind);
		d->verdict = sip_reason_verdict(d->reason);
		return true;
	}
	if (d->n_rate_limits < DECISION_MAX_RATE_LIMITS)
		d->rate_limits[d->n_rate_limits++] = term->target;
	while (*i < t->n_rule_terms && t->rule_terms[*i].target == term->target)
		(*i)++;
	return false;
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

		if (!flagset_matches(flags, &term->must, &term->must_not)) {
			i++;
			continue;
		}
		if (term_decides(t, term, d, &i))
			return;
	}
	/* unreachable with a loaded config: its last rule always holds */
	d->reason = SIP_REASON_RULE_DROP;
	d->verdict = SIP_VERDICT_DROP;
}

static inline __attribute__((always_inline)) void decide_lazy_w(struct flag_eval *e,
								 struct decision *d, unsigned nw)
{
	const struct compiled_tables *t = e->c->tables;
	uint32_t i = 0;

	memset(d, 0, sizeof(*d));
	d->rule = -1;
	if (!(e->groups_done & (1u << FLAG_GROUP_SOURCE)))
		compute_cheap_w(e, nw);
	while (i < t->n_rule_terms) {
		const struct dnf_term *term = &t->rule_terms[i];
		int st = term_state(e, term, nw);

		/* open: its derived flags once their base flags are known, else
		 * the costly flags it stands on (at most these two rounds) */
		for (unsigned round = 0; st == 2; round++) {
			if (round >= 2) { /* unreachable: every flag known by now */
				flag_eval_all(e);
			} else if (base_known(e, term, nw)) {
				derive(e);
			} else {
				struct flagset need;

				costly_needs(e, term, &need, nw);
				compute_costly_w(e, &need, nw);
			}
			st = term_state(e, term, nw);
		}
		if (st != 1) {
			i++;
			continue;
		}
		if (term_decides(t, term, d, &i))
			break;
	}
	/* what derive() could not settle is not reported */
	for (unsigned w = 0; w < FLAGSET_WORDS; w++)
		e->value.w[w] &= e->known.w[w];
	if (d->rule < 0) { /* unreachable with a loaded config: its last rule always holds */
		d->reason = SIP_REASON_RULE_DROP;
		d->verdict = SIP_VERDICT_DROP;
	}
}

void decide_lazy(struct flag_eval *e, struct decision *d)
{
	if (e->c->one_word)
		decide_lazy_w(e, d, 1);
	else
		decide_lazy_w(e, d, FLAGSET_WORDS);
}
