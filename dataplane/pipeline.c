#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "pipeline.h"
#include "siphon/node_msg.h"

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

int pipeline_gen_init(struct pipeline_gen *g, const struct compiled_tables *t,
		      const struct next_hops *nh)
{
	int err;

	memset(g, 0, sizeof(*g));
	g->t = t;
	g->nh = nh;
	g->rule = calloc(t->n_rules + 1, sizeof(uint64_t));
	g->node = calloc(t->n_nodes + 1, sizeof(uint64_t));
	g->node_msg = calloc((size_t)t->n_nodes * GEN_NODE_MSG_SLOTS + 1, sizeof(uint64_t));
	if (!g->rule || !g->node || !g->node_msg) {
		pipeline_gen_free(g);
		return -ENOMEM;
	}
	err = classifier_init(&g->cls, t);
	if (err)
		pipeline_gen_free(g);
	return err;
}

void pipeline_gen_free(struct pipeline_gen *g)
{
	free(g->rule);
	free(g->node);
	free(g->node_msg);
	classifier_free(&g->cls);
	memset(g, 0, sizeof(*g));
}

void pipeline_gens_free(struct pipeline_gen **pw, unsigned n)
{
	for (unsigned i = 0; pw && i < n; i++) {
		if (pw[i])
			pipeline_gen_free(pw[i]);
		free(pw[i]);
	}
	free(pw);
}

int pipeline_gens_new(struct pipeline_gen ***out, unsigned n, const struct compiled_tables *t,
		      const struct next_hops *nh, unsigned *failed)
{
	struct pipeline_gen **pw = calloc(n ? n : 1, sizeof(*pw));
	int rc = pw ? 0 : -ENOMEM;

	*out = NULL;
	*failed = 0;
	for (unsigned i = 0; !rc && i < n; i++) {
		pw[i] = calloc(1, sizeof(*pw[i]));
		rc = pw[i] ? pipeline_gen_init(pw[i], t, nh) : -ENOMEM;
		if (rc) {
			free(pw[i]);
			pw[i] = NULL;
			*failed = i;
		}
	}
	if (rc) {
		pipeline_gens_free(pw, n);
		return rc;
	}
	*out = pw;
	return 0;
}

int pipeline_worker_init(struct pipeline_worker *w, const struct compiled_tables *t)
{
	int err;

	memset(w, 0, sizeof(*w));
	w->own = calloc(1, sizeof(*w->own));
	if (!w->own)
		return -ENOMEM;
	err = pipeline_gen_init(w->own, t, NULL);
	if (err) {
		free(w->own);
		w->own = NULL;
		return err;
	}
	pipeline_worker_adopt(w, w->own);
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
	if (w->own) {
		pipeline_gen_free(w->own);
		free(w->own);
	}
	frag_table_free(&w->frags);
	ratelimit_free(&w->buckets);
	memset(w, 0, sizeof(*w));
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

/* The flags set, among those computed: with lazy flags (the default) a
 * costly flag is counted only where the route needed it, so its counter
 * means "set, among the messages where it was evaluated" (docs/config.md
 * "When flags are computed"); md->flags holds no bit outside md->known. */
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
					uint16_t msg_len, enum dispatch_by by, unsigned slot)
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
	if (slot < GEN_NODE_MSG_SLOTS)
		w->c.node_msg[(size_t)node_idx * GEN_NODE_MSG_SLOTS + slot]++;
	w->c.dispatch_by[by]++;
	w->c.bytes_out += *len;
	return done(w, PIPELINE_FORWARD);
}

/* The decision for one UDP datagram or TCP segment: what to do and, to
 * forward, the node and the bytes to keep. It is also what the fragment
 * table remembers. */
struct udp_decision {
	uint8_t outcome;   /* enum pipeline_outcome */
	int32_t node;      /* FORWARD: index into tables->nodes */
	uint16_t msg_len;  /* FORWARD: the L4 payload bytes to keep */
	uint8_t by;        /* FORWARD: enum dispatch_by */
	uint8_t slot;      /* FORWARD: node_msg_slot, or 0xff (a TCP segment without a message start) */
};

static void count_decision(struct pipeline_counters *c, const struct msg_decision *md)
{
	if (md->classified)
		count_flags(c, &md->flags);
	for (unsigned i = 0; i < md->n_rate_limits; i++)
		c->rule[md->rate_limits[i]]++;
	if (md->rule >= 0)
		c->rule[md->rule]++;
	c->sip_reason[md->reason]++;
	if (md->node.nid_unknown)
		c->reason[PIPELINE_REASON_NID_UNKNOWN]++;
	c->reason[PIPELINE_REASON_GRACE_NOTED] += md->node.grace_noted;
	c->reason[PIPELINE_REASON_GRACE_FULL] += md->node.grace_full;
	if (md->stream_rule_ignored)
		c->reason[PIPELINE_REASON_TCP_RULE_IGNORED]++;
}

/* Everything is decided in common/decide.c, as explain decides it; here
 * the packet's addresses go in and the counters come out.
 * payload[0..payload_len) starts a datagram of datagram_len bytes (more
 * when it is a first fragment's). HOLD when that prefix does not hold the
 * whole header block: decide once the datagram is reassembled. */
static struct udp_decision decide_l4(struct pipeline_worker *w, const uint8_t *frame,
				     const struct pkt_layout *l, const uint8_t *payload,
				     size_t payload_len, size_t datagram_len)
{
	/* only the flags the route needs, unless asked for all: the flag
	 * counters count what was computed (docs/design.md "Classify") */
	const struct decide_ctx ctx = { &w->cls, &w->buckets, w->now_s, w->now_ms, w->grace_calls,
					.lazy_flags = !w->all_flags };
	struct udp_decision ud = { .outcome = PIPELINE_DROP, .node = -1 };
	struct packet_meta pm;
	struct msg_decision md;

	frame_packet_meta(frame, l, &pm);
	pm.datagram_len = (uint32_t)datagram_len;
	decide_message(&ctx, payload, payload_len, &pm, &md);
	if (md.incomplete) {
		ud.outcome = PIPELINE_HOLD; /* counted when the whole is decided */
		return ud;
	}
	count_decision(&w->c, &md);
	switch (md.verdict) {
	case SIP_VERDICT_FORWARD:
		ud.outcome = PIPELINE_FORWARD;
		ud.node = md.node.node;
		ud.msg_len = md.fwd_len;
		ud.by = (uint8_t)md.node.by;
		ud.slot = md.msg.parsed ? (uint8_t)node_msg_slot(md.msg.is_request, md.msg.method,
								 md.msg.status) : 0xff;
		break;
	case SIP_VERDICT_DROP:
		break;
	default: /* punt, reply: siphond answers */
		ud.outcome = PIPELINE_PUNT;
		break;
	}
	return ud;
}

/* One stored fragment out, the way its datagram was decided. */
static void emit_fragment(struct pipeline_worker *w, uint8_t *frame, size_t len, size_t cap,
			  const struct pkt_layout *l, const struct udp_decision *ud)
{
	enum pipeline_outcome o = (enum pipeline_outcome)ud->outcome;

	if (o == PIPELINE_FORWARD) /* a fragment cannot be cut: keep every byte */
		o = forward_to(w, frame, &len, cap, l, ud->node, UINT16_MAX, (enum dispatch_by)ud->by,
			       ud->slot);
	else
		done(w, o);
	w->c.emitted[o]++;
	if (w->emit && o != PIPELINE_DROP)
		w->emit(w->emit_ctx, frame, len, o);
}

/* The decision for a datagram from what the fragment table gives: the
 * first fragment (FIRST: a prefix of the payload) or the whole (COMPLETE).
 * frame and l: the first fragment. */
static struct udp_decision decide_fragmented(struct pipeline_worker *w, const uint8_t *frame,
					     const struct pkt_layout *l,
					     const struct frag_datagram *dg)
{
	if (!frame_port_is_ours(w->t, dg->dport)) {
		w->c.reason[PIPELINE_REASON_NOT_FOR_US]++;
		return (struct udp_decision){ .outcome = PIPELINE_PASS, .node = -1 };
	}
	return decide_l4(w, frame, l, dg->payload, dg->payload_len, dg->udp_len - 8u);
}

/* The held fragments of dg out, in the order they came. */
static void emit_held(struct pipeline_worker *w, struct frag_datagram *dg,
		      const struct udp_decision *ud)
{
	for (uint16_t i = 0; i < dg->n_frames; i++) {
		struct frag_frame *f = &dg->frames[dg->order[i]];
		emit_fragment(w, f->frame, f->len, f->cap, &f->l, ud);
	}
}

/* The table's counters are the pipeline's (its events as well as the
 * results of frag_add()); a datagram evicted for room had its fragments
 * held: they are dropped now. */
static void frag_sync(struct pipeline_worker *w)
{
	const uint64_t *r = w->frags.c.result;
	const uint64_t before = w->c.fragments[FRAG_RESULT_EVICTED] +
				w->c.fragments[FRAG_RESULT_SOURCE_LIMIT];
	const uint64_t n = r[FRAG_RESULT_EVICTED] + r[FRAG_RESULT_SOURCE_LIMIT] - before;

	w->c.reason[PIPELINE_REASON_FRAGMENT_DROP] += n;
	w->c.outcome[PIPELINE_DROP] += n;
	memcpy(w->c.fragments, r, sizeof(w->c.fragments));
}

/* The current fragment out in place (*len in and out: encap grows it). */
static enum pipeline_outcome forward_current(struct pipeline_worker *w, uint8_t *frame,
					     size_t *len, size_t cap, const struct pkt_layout *l,
					     const struct udp_decision *ud)
{
	if (ud->outcome != PIPELINE_FORWARD)
		return done(w, (enum pipeline_outcome)ud->outcome);
	/* a fragment cannot be cut: keep every byte */
	return forward_to(w, frame, len, cap, l, ud->node, UINT16_MAX, (enum dispatch_by)ud->by,
			  ud->slot);
}

static enum pipeline_outcome take_fragment(struct pipeline_worker *w, uint8_t *frame, size_t *len,
					   size_t cap, const struct pkt_layout *l)
{
	struct frag_datagram *dg = NULL;
	enum frag_result fr = frag_add(&w->frags, frame, *len, l, w->now_ms, &dg);
	enum pipeline_outcome o;
	struct udp_decision ud;
	size_t dlen;
	const uint8_t *stored;

	switch (fr) {
	case FRAG_RESULT_HELD:
		o = done(w, PIPELINE_HOLD);
		break;
	case FRAG_RESULT_FIRST:
		/* the header block in the first fragment decides at once; the
		 * later fragments follow the remembered decision as they come */
		ud = decide_fragmented(w, frame, l, dg);
		if (ud.outcome == PIPELINE_HOLD) { /* the Call-ID comes later: reassemble */
			fr = frag_hold(&w->frags, frame, *len, l);
			o = fr == FRAG_RESULT_HELD ? done(w, PIPELINE_HOLD)
						   : drop_for(w, PIPELINE_REASON_FRAGMENT_DROP);
			break;
		}
		emit_held(w, dg, &ud); /* later fragments that came before it */
		frag_decide(&w->frags, dg, &ud, sizeof(ud));
		o = forward_current(w, frame, len, cap, l, &ud);
		break;
	case FRAG_RESULT_COMPLETE:
		ud = decide_fragmented(w, dg->frames[0].frame, &dg->frames[0].l, dg);
		emit_held(w, dg, &ud);
		frag_decide(&w->frags, dg, &ud, sizeof(ud));
		o = done(w, PIPELINE_HOLD);
		break;
	case FRAG_RESULT_DECIDED:
		stored = frag_decision(&w->frags, &dlen);
		if (!stored || dlen != sizeof(ud)) {
			o = drop_for(w, PIPELINE_REASON_FRAGMENT_DROP);
			break;
		}
		memcpy(&ud, stored, sizeof(ud));
		o = forward_current(w, frame, len, cap, l, &ud);
		break;
	default:
		o = drop_for(w, PIPELINE_REASON_FRAGMENT_DROP);
		break;
	}
	frag_sync(w);
	return o;
}

void pipeline_expire(struct pipeline_worker *w, uint64_t now_ms)
{
	unsigned n = frag_expire(&w->frags, now_ms);

	w->c.reason[PIPELINE_REASON_FRAGMENT_TIMEOUT] += n;
	w->c.outcome[PIPELINE_DROP] += n;
	frag_sync(w);
}

/* nat's return path, stateless: a packet from a nat pool's node (its
 * address and SIP port) to anyone but us gets the VIP of its family and the
 * first SIP port as its source and goes to the gateway. */
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
	struct pkt_layout l;
	struct udp_decision ud;
	enum pkt_status st;

	w->c.packets++;
	w->c.bytes_in += *len;
	st = pkt_parse(frame, *len, &l);
	w->c.pkt_status[st]++;
	switch (frame_kind(w->t, frame, st, &l)) {
	case FRAME_NAT_REPLY:
		return nat_reply(w, frame, *len, &l);
	case FRAME_NOT_FOR_US:
		w->c.reason[PIPELINE_REASON_NOT_FOR_US]++;
		return done(w, PIPELINE_PASS);
	case FRAME_FRAGMENT:
		/* a later IPv6 fragment names the header after the fragment
		 * header (RFC 8200: only the first fragment's counts) */
		if (l.l4_proto != PKT_PROTO_UDP && (l.first_fragment || l.family == AF_INET))
			return drop_for(w, PIPELINE_REASON_FRAGMENT_DROP);
		return take_fragment(w, frame, len, cap, &l);
	case FRAME_BAD:
		return done(w, PIPELINE_DROP); /* counted by its pkt_status */
	default:
		break;
	}
	/* UDP: one SIP message; TCP: one segment of a connection */
	if (l.l4_proto == PKT_PROTO_TCP)
		w->c.tcp++;
	ud = decide_l4(w, frame, &l, frame + l.payload_off, l.payload_len, l.payload_len);
	if (ud.outcome != PIPELINE_FORWARD)
		return done(w, (enum pipeline_outcome)ud.outcome);
	return forward_to(w, frame, len, cap, &l, ud.node, ud.msg_len, (enum dispatch_by)ud.by,
			  ud.slot);
}

static void add_each(uint64_t *sum, const uint64_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sum[i] += v[i];
}

void pipeline_counters_add(struct pipeline_counters *sum, const struct pipeline_counters *x)
{
	sum->packets += x->packets, sum->bytes_in += x->bytes_in, sum->bytes_out += x->bytes_out;
	sum->tcp += x->tcp;
	add_each(sum->outcome, x->outcome, PIPELINE__COUNT);
	add_each(sum->pkt_status, x->pkt_status, PKT_STATUS__COUNT);
	add_each(sum->sip_reason, x->sip_reason, SIP_REASON__COUNT);
	add_each(sum->reason, x->reason, PIPELINE_REASON__COUNT);
	add_each(sum->dispatch_by, x->dispatch_by, DISPATCH_BY__COUNT);
	add_each(sum->fragments, x->fragments, FRAG_RESULT__COUNT);
	add_each(sum->flag, x->flag, SIPHON_MAX_FLAGS);
	add_each(sum->emitted, x->emitted, PIPELINE__COUNT);
}
