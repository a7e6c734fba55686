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
	for (uint32_t p = 0; p < t->n_pools; p++)
		w->has_nat_pool |= t->pools[p].mode == POOL_MODE_NAT;
	w->c.rule = calloc(t->n_rules + 1, sizeof(uint64_t));
	w->c.node = calloc(t->n_nodes + 1, sizeof(uint64_t));
	if (!w->c.rule || !w->c.node) {
		pipeline_worker_free(w);
		return -ENOMEM;
	}
	err = classifier_init(&w->cls, t);
	if (!err)
		err = ratelimit_init(&w->buckets, t->hash_seed);
	if (!err) {
		struct frag_limits lim = FRAG_LIMITS_DEFAULT;
		lim.hash_seed = t->hash_seed;
		err = frag_table_init(&w->frags, &lim);
	}
	if (err)
		pipeline_worker_free(w);
	return err;
}

void pipeline_worker_free(struct pipeline_worker *w)
{
	free(w->c.rule);
	free(w->c.node);
	classifier_free(&w->cls);
	frag_table_free(&w->frags);
	ratelimit_free(&w->buckets);
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

static bool port_is_ours(const struct compiled_tables *t, uint16_t port)
{
	for (uint32_t i = 0; i < t->n_ports; i++)
		if (t->ports[i] == port)
			return true;
	return false;
}

static bool is_our_port(const struct compiled_tables *t, const uint8_t *frame,
			const struct pkt_layout *l)
{
	return port_is_ours(t, (uint16_t)(frame[l->l4_off + 2] << 8 | frame[l->l4_off + 3]));
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

/* A next-hop MAC: the config's when set (an override), else the kernel's
 * entry e of w->nh (want index wi). 0, or the reason to drop. */
static int next_hop_mac(const struct pipeline_worker *w, bool has, const uint8_t *conf,
			const _Atomic uint64_t *e, uint32_t wi, uint8_t mac[PKT_ETH_ALEN])
{
	if (has) {
		memcpy(mac, conf, PKT_ETH_ALEN);
		return 0;
	}
	if (!w->nh)
		return PIPELINE_REASON_NO_NEXT_HOP;
	switch (next_hops_read(w->nh, e, wi, mac)) {
	case NEXT_HOP_OK:
		return 0;
	case NEXT_HOP_NONE:
		return PIPELINE_REASON_NO_NEIGHBOUR;
	default:
		return PIPELINE_REASON_NO_ROUTE;
	}
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
	int why = next_hop_mac(w, node->has_mac, node->mac,
			       w->nh ? &w->nh->node[node_idx] : NULL, (uint32_t)node_idx, rt.node_mac);

	if (!why)
		why = next_hop_mac(w, t->has_mac, t->mac, w->nh ? &w->nh->src : NULL, 0, rt.src_mac);
	if (why)
		return drop_for(w, (enum pipeline_reason)why);
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

/* The decision for one UDP datagram: what to do and, to forward, the node
 * and the bytes to keep. It is also what the fragment table remembers. */
struct udp_decision {
	uint8_t outcome;   /* enum pipeline_outcome */
	int32_t node;      /* FORWARD: index into tables->nodes */
	uint16_t msg_len;  /* FORWARD: the SIP message's length */
	uint8_t by;        /* FORWARD: enum dispatch_by */
};

static struct udp_decision decide_udp(struct pipeline_worker *w, const uint8_t *frame,
				      const struct pkt_layout *l, const uint8_t *payload,
				      size_t payload_len)
{
	const struct compiled_tables *t = w->t;
	struct packet_meta pm = { .family = l->family, .transport = TRANSPORT_UDP };
	struct udp_decision ud = { .outcome = PIPELINE_DROP, .node = -1 };
	struct sip_msg msg;
	struct flagset flags;
	struct decision d;
	struct dispatch_result r;

	sip_scan(payload, payload_len, &t->limits, &t->headers, &msg);
	if (msg.verdict != SIP_VERDICT_FORWARD) {
		w->c.sip_reason[msg.reason]++;
		ud.outcome = msg.verdict == SIP_VERDICT_PUNT ? PIPELINE_PUNT : PIPELINE_DROP;
		return ud;
	}
	memcpy(pm.src, src_addr(frame, l), l->family == AF_INET ? 4 : 16);
	classify(&w->cls, payload, &msg, &pm, &flags);
	decide(t, &flags, &d);
	count_flags(&w->c, &flags);
	/* the rate-limit rules the route passed: the first one over its
	 * bucket drops the message */
	for (unsigned i = 0; i < d.n_rate_limits; i++) {
		const struct rule_action *a = &t->actions[d.rate_limits[i]];
		w->c.rule[d.rate_limits[i]]++;
		if (!ratelimit_take(&w->buckets, d.rate_limits[i], l->family, src_addr(frame, l),
				    a->rate_per_sec, a->burst, w->now_ms)) {
			w->c.sip_reason[SIP_REASON_RATE_LIMITED]++;
			return ud; /* DROP */
		}
	}
	if (d.rule >= 0)
		w->c.rule[d.rule]++;
	if (d.verdict != SIP_VERDICT_FORWARD) {
		w->c.sip_reason[d.reason]++;
		ud.outcome = d.verdict == SIP_VERDICT_DROP ? PIPELINE_DROP : PIPELINE_PUNT;
		return ud;
	}
	dispatch(t, payload, &msg, t->actions[d.rule].pool, w->now_s, &r);
	if (r.node < 0) {
		w->c.sip_reason[SIP_REASON_NO_LIVE_NODE]++;
		ud.outcome = PIPELINE_PUNT;
		return ud;
	}
	w->c.sip_reason[d.reason]++;
	ud.outcome = PIPELINE_FORWARD;
	ud.node = r.node;
	ud.msg_len = msg.msg_len;
	ud.by = (uint8_t)r.by;
	return ud;
}

/* One stored fragment out, the way its datagram was decided. */
static void emit_fragment(struct pipeline_worker *w, uint8_t *frame, size_t len, size_t cap,
			  const struct pkt_layout *l, const struct udp_decision *ud)
{
	enum pipeline_outcome o = (enum pipeline_outcome)ud->outcome;

	if (o == PIPELINE_FORWARD) /* a fragment cannot be cut: keep every byte */
		o = forward_to(w, frame, &len, cap, l, ud->node, UINT16_MAX, (enum dispatch_by)ud->by);
	else
		done(w, o);
	w->c.emitted[o]++;
	if (w->emit && o != PIPELINE_DROP)
		w->emit(w->emit_ctx, frame, len, o);
}

static enum pipeline_outcome take_fragment(struct pipeline_worker *w, uint8_t *frame, size_t len,
					   size_t cap, const struct pkt_layout *l)
{
	struct frag_datagram *dg = NULL;
	enum frag_result fr = frag_add(&w->frags, frame, len, l, w->now_ms, &dg);
	struct udp_decision ud;
	size_t dlen;
	const uint8_t *stored;

	w->c.fragments[fr]++;
	switch (fr) {
	case FRAG_RESULT_HELD:
		return done(w, PIPELINE_HOLD);
	case FRAG_RESULT_COMPLETE:
		if (!port_is_ours(w->t, dg->dport)) {
			ud = (struct udp_decision){ .outcome = PIPELINE_PASS, .node = -1 };
			w->c.reason[PIPELINE_REASON_NOT_FOR_US]++;
		} else {
			ud = decide_udp(w, dg->frames[0].frame, &dg->frames[0].l, dg->payload,
					dg->payload_len);
		}
		for (uint16_t i = 0; i < dg->n_frames; i++)
			emit_fragment(w, dg->frames[i].frame, dg->frames[i].len, dg->frames[i].cap,
				      &dg->frames[i].l, &ud);
		frag_decide(&w->frags, dg, &ud, sizeof(ud));
		return done(w, PIPELINE_HOLD);
	case FRAG_RESULT_DECIDED:
		stored = frag_decision(&w->frags, &dlen);
		if (!stored || dlen != sizeof(ud))
			return drop_for(w, PIPELINE_REASON_FRAGMENT_DROP);
		memcpy(&ud, stored, sizeof(ud));
		if (ud.outcome != PIPELINE_FORWARD)
			return done(w, (enum pipeline_outcome)ud.outcome);
		return forward_to(w, frame, &len, cap, l, ud.node, UINT16_MAX, (enum dispatch_by)ud.by);
	default:
		return drop_for(w, PIPELINE_REASON_FRAGMENT_DROP);
	}
}

void pipeline_expire(struct pipeline_worker *w, uint64_t now_ms)
{
	unsigned n = frag_expire(&w->frags, now_ms);

	w->c.reason[PIPELINE_REASON_FRAGMENT_TIMEOUT] += n;
	w->c.outcome[PIPELINE_DROP] += n;
}

/* nat's return path, stateless: a packet from a nat pool's node (its
 * address and SIP port) to anyone but us gets the VIP of its family and the
 * first SIP port as its source and goes to the gateway. */
static bool from_nat_node(const struct compiled_tables *t, const uint8_t *frame,
			  const struct pkt_layout *l)
{
	const uint8_t *src = src_addr(frame, l);
	uint16_t sport = (uint16_t)(frame[l->l4_off] << 8 | frame[l->l4_off + 1]);

	for (uint32_t i = 0; i < t->n_nodes; i++) {
		const struct pool_node *n = &t->nodes[i];
		if (t->pools[n->pool].mode == POOL_MODE_NAT && n->addr.family == l->family &&
		    n->port == sport && memcmp(n->addr.addr, src, l->family == AF_INET ? 4 : 16) == 0)
			return true;
	}
	return false;
}

static enum pipeline_outcome nat_reply(struct pipeline_worker *w, uint8_t *frame, size_t len,
				       const struct pkt_layout *l)
{
	const struct compiled_tables *t = w->t;
	const struct self_addr *vip = NULL;
	const uint32_t gw = l->family == AF_INET ? NEXT_HOP_GW4 : NEXT_HOP_GW6;
	uint8_t dst[PKT_ETH_ALEN], src[PKT_ETH_ALEN];
	int why;

	for (uint32_t i = 0; i < t->n_self_addrs && !vip; i++)
		if (t->self_addrs[i].family == l->family)
			vip = &t->self_addrs[i];
	w->c.reason[PIPELINE_REASON_NAT_REPLY]++;
	if (!vip)
		return drop_for(w, PIPELINE_REASON_NO_NEXT_HOP);
	why = next_hop_mac(w, t->has_gateway_mac, t->gateway_mac,
			   w->nh ? &w->nh->gateway[gw] : NULL, w->nh ? w->nh->n_nodes + gw : 0, dst);
	if (!why)
		why = next_hop_mac(w, t->has_mac, t->mac, w->nh ? &w->nh->src : NULL, 0, src);
	if (why)
		return drop_for(w, (enum pipeline_reason)why);
	if (rewrite_reply_source(frame, len, l, vip, t->ports[0]) != 0)
		return drop_for(w, PIPELINE_REASON_REWRITE_FAILED);
	rewrite_macs(frame, dst, src);
	w->c.bytes_out += len;
	return done(w, PIPELINE_FORWARD);
}

enum pipeline_outcome pipeline_process(struct pipeline_worker *w, uint8_t *frame, size_t *len,
				       size_t cap)
{
	const struct compiled_tables *t = w->t;
	struct pkt_layout l;
	struct udp_decision ud;
	enum pkt_status st;

	w->c.packets++;
	w->c.bytes_in += *len;
	st = pkt_parse(frame, *len, &l);
	w->c.pkt_status[st]++;
	if (w->has_nat_pool && st == PKT_STATUS_OK && !l.is_fragment &&
	    !is_our_address(t, frame, &l) && from_nat_node(t, frame, &l))
		return nat_reply(w, frame, *len, &l);
	if (st == PKT_STATUS_NOT_IP || l.family == 0 || !is_our_address(t, frame, &l)) {
		w->c.reason[PIPELINE_REASON_NOT_FOR_US]++;
		return done(w, PIPELINE_PASS);
	}
	if (st == PKT_STATUS_FRAGMENT || (st == PKT_STATUS_OK && l.is_fragment)) {
		/* the port is in the first fragment only: the table keeps the
		 * datagram, the decision checks the port */
		/* a later IPv6 fragment names the header after the fragment
		 * header (RFC 8200: only the first fragment's counts) */
		if (l.l4_proto != PKT_PROTO_UDP && (l.first_fragment || l.family == AF_INET))
			return drop_for(w, PIPELINE_REASON_FRAGMENT_DROP);
		return take_fragment(w, frame, *len, cap, &l);
	}
	if (st != PKT_STATUS_OK)
		return done(w, PIPELINE_DROP); /* counted by its pkt_status */
	if (!is_our_port(t, frame, &l)) {
		w->c.reason[PIPELINE_REASON_NOT_FOR_US]++;
		return done(w, PIPELINE_PASS);
	}
	if (l.l4_proto == PKT_PROTO_TCP)
		return steer_tcp(w, frame, len, cap, &l);

	/* UDP: one SIP message */
	ud = decide_udp(w, frame, &l, frame + l.payload_off, l.payload_len);
	if (ud.outcome != PIPELINE_FORWARD)
		return done(w, (enum pipeline_outcome)ud.outcome);
	return forward_to(w, frame, len, cap, &l, ud.node, ud.msg_len, (enum dispatch_by)ud.by);
}
