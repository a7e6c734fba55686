#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "pipeline.h"

static const char *const outcome_names[] = {
#define X(id, name, help) [PIPELINE_##id] = name,
	PIPELINE_OUTCOMES(X)
#undef X
};

static const char *const reason_names[] = {
#define X(id, name, help) [PIPELINE_REASON_##id] = name,
	PIPELINE_REASONS(X)
#undef X
};

const char *pipeline_outcome_name(unsigned o)
{
	return o < PIPELINE__COUNT ? outcome_names[o] : "?";
}

const char *pipeline_reason_name(unsigned r)
{
	return r < PIPELINE_REASON__COUNT ? reason_names[r] : "?";
}

int pipeline_worker_init(struct pipeline_worker *w, const struct compiled_tables *t)
{
	int err;

	memset(w, 0, sizeof(*w));
	w->t = t;
	w->tcp_pool = -1;
	if (t->n_rules && t->actions[t->n_rules - 1].kind == ACTION_POOL)
		w->tcp_pool = t->actions[t->n_rules - 1].pool;
	w->c.rule = calloc(t->n_rules + 1, sizeof(uint64_t));
	w->c.node = calloc(t->n_nodes + 1, sizeof(uint64_t));
	if (!w->c.rule || !w->c.node) {
		pipeline_worker_free(w);
		return -ENOMEM;
	}
	err = classifier_init(&w->cls, t);
	if (err)
		pipeline_worker_free(w);
	return err;
}

void pipeline_worker_free(struct pipeline_worker *w)
{
	free(w->c.rule);
	free(w->c.node);
	classifier_free(&w->cls);
	memset(w, 0, sizeof(*w));
}

static const uint8_t *dst_addr(const uint8_t *frame, const struct pkt_layout *l)
{
	return frame + l->l3_off + (l->family == AF_INET ? 16 : 24);
}

static const uint8_t *src_addr(const uint8_t *frame, const struct pkt_layout *l)
{
	return frame + l->l3_off + (l->family == AF_INET ? 12 : 8);
}

static bool is_our_address(const struct compiled_tables *t, const uint8_t *frame,
			   const struct pkt_layout *l)
{
	const uint8_t *dst = dst_addr(frame, l);

	for (uint32_t i = 0; i < t->n_self_addrs; i++)
		if (t->self_addrs[i].family == l->family &&
		    memcmp(t->self_addrs[i].addr, dst, l->family == AF_INET ? 4 : 16) == 0)
			return true;
	return false;
}

static bool is_our_port(const struct compiled_tables *t, const uint8_t *frame,
			const struct pkt_layout *l)
{
	uint16_t port = (uint16_t)(frame[l->l4_off + 2] << 8 | frame[l->l4_off + 3]);

	for (uint32_t i = 0; i < t->n_ports; i++)
		if (t->ports[i] == port)
			return true;
	return false;
}

static enum pipeline_outcome done(struct pipeline_worker *w, enum pipeline_outcome o)
{
	w->c.outcome[o]++;
	return o;
}

static enum pipeline_outcome drop_for(struct pipeline_worker *w, enum pipeline_reason r)
{
	w->c.reason[r]++;
	return done(w, PIPELINE_DROP);
}

static void count_flags(struct pipeline_counters *c, const struct flagset *f)
{
	for (unsigned i = 0; i < FLAGSET_WORDS; i++)
		for (uint64_t bits = f->w[i]; bits; bits &= bits - 1)
			c->flag[i * 64 + (unsigned)__builtin_ctzll(bits)]++;
}

/* Rewrites toward node `node_idx` of the tables; the outcome. */
static enum pipeline_outcome forward_to(struct pipeline_worker *w, uint8_t *frame, size_t *len,
					size_t cap, const struct pkt_layout *l, int node_idx,
					uint16_t msg_len, enum dispatch_by by)
{
	const struct compiled_tables *t = w->t;
	const struct pool_node *node = &t->nodes[node_idx];
	const struct pool_table *pool = &t->pools[node->pool];
	struct rewrite_target rt = { .mode = pool->mode, .node = node, .gue_port = pool->gue_port };
	size_t before = *len;

	if (!node->has_mac || !t->has_mac)
		return drop_for(w, PIPELINE_REASON_NO_NEXT_HOP);
	memcpy(rt.node_mac, node->mac, PKT_ETH_ALEN);
	memcpy(rt.src_mac, t->mac, PKT_ETH_ALEN);
	rt.encap_src = node->addr.family == AF_INET ? pool->encap_source4 : pool->encap_source6;
	if (rewrite_forward(frame, len, cap, l, msg_len, &rt) != 0) {
		*len = before;
		return drop_for(w, PIPELINE_REASON_REWRITE_FAILED);
	}
	w->c.node[node_idx]++;
	w->c.dispatch_by[by]++;
	w->c.bytes_out += *len;
	return done(w, PIPELINE_FORWARD);
}

/* TCP to a SIP port: the core node terminates it; Maglev over the 5-tuple
 * of the route's default pool keeps a connection on one node. */
static enum pipeline_outcome steer_tcp(struct pipeline_worker *w, uint8_t *frame, size_t *len,
				       size_t cap, const struct pkt_layout *l)
{
	const struct compiled_tables *t = w->t;
	const size_t alen = l->family == AF_INET ? 4 : 16;
	uint8_t key[2 * 16 + 4];
	const struct pool_table *pool;
	uint16_t slot;

	w->c.tcp++;
	if (w->tcp_pool < 0)
		return drop_for(w, PIPELINE_REASON_TCP_NO_POOL);
	memcpy(key, src_addr(frame, l), alen);
	memcpy(key + alen, dst_addr(frame, l), alen);
	memcpy(key + 2 * alen, frame + l->l4_off, 4); /* both ports */
	pool = &t->pools[w->tcp_pool];
	slot = maglev_lookup(&pool->maglev, callid_hash(key, 2 * alen + 4, t->hash_seed));
	if (slot >= pool->n_nodes) {
		w->c.sip_reason[SIP_REASON_NO_LIVE_NODE]++;
		return done(w, PIPELINE_PUNT);
	}
	return forward_to(w, frame, len, cap, l, (int)(pool->first_node + slot), l->payload_len,
			  DISPATCH_BY_MAGLEV);
}

enum pipeline_outcome pipeline_process(struct pipeline_worker *w, uint8_t *frame, size_t *len,
				       size_t cap)
{
	const struct compiled_tables *t = w->t;
	struct pkt_layout l;
	struct packet_meta pm = { 0 };
	struct sip_msg msg;
	struct flagset flags;
	struct decision d;
	struct dispatch_result r;
	enum pkt_status st;

	w->c.packets++;
	w->c.bytes_in += *len;
	st = pkt_parse(frame, *len, &l);
	w->c.pkt_status[st]++;
	if (st == PKT_STATUS_NOT_IP || l.family == 0 || !is_our_address(t, frame, &l)) {
		w->c.reason[PIPELINE_REASON_NOT_FOR_US]++;
		return done(w, PIPELINE_PASS);
	}
	if (st == PKT_STATUS_FRAGMENT || (st == PKT_STATUS_OK && l.is_fragment))
		return drop_for(w, PIPELINE_REASON_FRAGMENT);
	if (st != PKT_STATUS_OK)
		return done(w, PIPELINE_DROP); /* counted by its pkt_status */
	if (!is_our_port(t, frame, &l)) {
		w->c.reason[PIPELINE_REASON_NOT_FOR_US]++;
		return done(w, PIPELINE_PASS);
	}
	if (l.l4_proto == PKT_PROTO_TCP)
		return steer_tcp(w, frame, len, cap, &l);

	/* UDP: one SIP message */
	sip_scan(frame + l.payload_off, l.payload_len, &t->limits, &t->headers, &msg);
	if (msg.verdict != SIP_VERDICT_FORWARD) {
		w->c.sip_reason[msg.reason]++;
		return done(w, msg.verdict == SIP_VERDICT_PUNT ? PIPELINE_PUNT : PIPELINE_DROP);
	}
	pm.family = l.family;
	pm.transport = TRANSPORT_UDP;
	memcpy(pm.src, src_addr(frame, &l), l.family == AF_INET ? 4 : 16);
	classify(&w->cls, frame + l.payload_off, &msg, &pm, &flags);
	decide(t, &flags, &d);
	count_flags(&w->c, &flags);
	if (d.rule >= 0)
		w->c.rule[d.rule]++;
	if (d.verdict != SIP_VERDICT_FORWARD) {
		w->c.sip_reason[d.reason]++;
		return done(w, d.verdict == SIP_VERDICT_DROP ? PIPELINE_DROP : PIPELINE_PUNT);
	}
	dispatch(t, frame + l.payload_off, &msg, t->actions[d.rule].pool, w->now_s, &r);
	if (r.node < 0) {
		w->c.sip_reason[SIP_REASON_NO_LIVE_NODE]++;
		return done(w, PIPELINE_PUNT);
	}
	w->c.sip_reason[d.reason]++;
	return forward_to(w, frame, len, cap, &l, r.node, msg.msg_len, r.by);
}
