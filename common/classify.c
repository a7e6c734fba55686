#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "siphon/classify.h"
#include "siphon/node_index.h"

int classifier_init(struct classifier *c, const struct compiled_tables *t)
{
	memset(c, 0, sizeof(*c));
	c->tables = t;
	for (uint32_t i = 0; i < t->n_patterns; i++)
		c->pattern_headers |= 1u << t->patterns[i].header;
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
	memcpy(text, host, len);
	text[len] = 0;
	/* a name starting with a letter is never an address: skip inet_pton */
	if ((family == AF_INET6 || (text[0] >= '0' && text[0] <= '9')) &&
	    inet_pton(family, text, addr) == 1) {
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

void classify(const struct classifier *c, const uint8_t *buf, const struct sip_msg *msg,
	      const struct packet_meta *pm, struct flagset *flags)
{
	const struct compiled_tables *t = c->tables;
	const struct sip_span *m = msg->is_request ? &msg->method_name : &msg->cseq_method_name;
	const uint8_t *host;
	size_t host_len;

	memset(flags, 0, sizeof(*flags));
	source_flags(t, pm, flags);
	method_flags(t, buf + m->off, m->len, flags);
	if (sip_in_dialog(msg))
		flagset_or(flags, &t->in_dialog);
	if (!flagset_empty(&t->to_self) && msg->is_request &&
	    sip_uri_host(buf + msg->ruri.off, msg->ruri.len, &host, &host_len) &&
	    host_is(host, host_len, t->self_addrs, t->n_self_addrs, t->self_names, t->n_self_names))
		flagset_or(flags, &t->to_self);
	/* an answer to our own probe names a control address in its top Via
	 * and comes from a node: anyone can write the Via, not the source */
	if (!flagset_empty(&t->own_probe_answer) && !msg->is_request &&
	    host_is(buf + msg->via.host.off, msg->via.host.len, t->control_addrs, t->n_control_addrs,
		    NULL, 0) &&
	    node_index_has_addr(t, pm->family, pm->src, 0, false))
		flagset_or(flags, &t->own_probe_answer);
	for (unsigned i = 0; i < t->headers.count; i++) {
		if (!msg->extra_count[i])
			continue;
		flagset_or(flags, &t->header_present[i]);
		if (c->pattern_headers & (1u << i)) {
			struct match_ctx ctx = { t, flags, i };
			hs_scan(c->db, (const char *)buf + msg->extra[i].off, msg->extra[i].len, 0,
				c->scratch, on_match, &ctx);
		}
	}
}

void decide(const struct compiled_tables *t, struct flagset *flags, struct decision *d)
{
	static const enum sip_reason by_action[ACTION__COUNT] = {
		[ACTION_POOL] = SIP_REASON_RULE_POOL,
		[ACTION_DROP] = SIP_REASON_RULE_DROP,
		[ACTION_PUNT] = SIP_REASON_RULE_PUNT,
		[ACTION_REPLY] = SIP_REASON_RULE_REPLY,
		[ACTION_RATE_LIMIT] = SIP_REASON_RATE_LIMITED,
	};
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
			d->reason = by_action[a->kind];
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
