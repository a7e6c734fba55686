// SPDX-License-Identifier: Apache-2.0
/* The XDP program: the one BPF entry point (docs/xdp.md).
 *
 * Parse L2-L4 (parse.bpf.h, pkt_parse()'s twin), drop malformed IP to a
 * VIP, pass everything not for a VIP address and port to the kernel stack.
 * UDP to a VIP:port goes through the kernel lane when `kernel_lane` is set:
 * a source-prefix drop rule that surely holds drops before any scan; else
 * the strict SIP scan (sipscan.bpf.h), the flags the kernel knows, the
 * route with three-valued logic, and for a dsr pool Maglev dispatch and the
 * MAC rewrite (XDP_TX / redirect through tx_ports), the MACs from the
 * config or else from bpf_fib_lookup(). Whatever the kernel is
 * not sure of goes to the AF_XDP socket of the receive queue (the
 * user-space pipeline), counted by why. Every packet moves one status
 * counter and one reason counter (maps.bpf.h). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "siphon/siphon_xdp.h"
#include "parse.bpf.h"
#include "maps.bpf.h"
#include "hash.bpf.h"
#include "sipscan.bpf.h"
#include "sipnid.bpf.h"

/* the actions and pool modes of the tables, from the lists user space
 * builds its enums from */
enum siphon_action {
#define ACTION(id, key, terminal, help) SK_ACTION_##id,
#include "siphon/actions.def"
#undef ACTION
};

enum siphon_pool_mode {
#define POOL_MODE(id, key, help) SK_POOL_##id,
#include "siphon/pool_modes.def"
#undef POOL_MODE
};
#define SK_AF_INET           2  /* AF_INET / AF_INET6, as bpf_fib_lookup() wants them */
#define SK_AF_INET6          10

/* Load-time settings (rodata, frozen at load: the verifier prunes the
 * unused array slots). Addresses as on the wire; ports in host order. */
const volatile __u32 vip4[SIPHON_XDP_MAX_VIPS] = {};
const volatile __u32 vip4_count = 0;
const volatile __u32 vip6[SIPHON_XDP_MAX_VIPS][4] = {};
const volatile __u32 vip6_count = 0;
const volatile __u16 vip_ports[SIPHON_XDP_MAX_PORTS] = {};
const volatile __u32 vip_port_count = 0;
const volatile __u64 hash_seed = 0;
const volatile __u32 kernel_lane = 0; /* 0: every VIP:port packet goes to AF_XDP */

static __always_inline int is_vip_addr(const struct xdp_pkt *p)
{
	if (p->family == 4) {
		for (__u32 i = 0; i < SIPHON_XDP_MAX_VIPS; i++) {
			if (i >= vip4_count)
				break;
			if (vip4[i] == p->daddr[0])
				return 1;
		}
		return 0;
	}
	for (__u32 i = 0; i < SIPHON_XDP_MAX_VIPS; i++) {
		if (i >= vip6_count)
			break;
		if (vip6[i][0] == p->daddr[0] && vip6[i][1] == p->daddr[1] &&
		    vip6[i][2] == p->daddr[2] && vip6[i][3] == p->daddr[3])
			return 1;
	}
	return 0;
}

static __always_inline int is_vip_port(__u16 port)
{
	for (__u32 i = 0; i < SIPHON_XDP_MAX_PORTS; i++) {
		if (i >= vip_port_count)
			break;
		if (vip_ports[i] == port)
			return 1;
	}
	return 0;
}

static __always_inline void count_at(void *map, __u32 idx, __u32 bytes)
{
	struct siphon_xdp_counter *c = bpf_map_lookup_elem(map, &idx);

	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
}

/* The kernel lane's per-rule and per-node counters of table half `half`
 * (maps.bpf.h: double-buffered like the tables). */
static __always_inline void count_rule(__u32 half, __s32 rule, __u32 bytes)
{
	count_at(&rule_stats, half * SK_MAX_RULES + ((__u32)rule & (SK_MAX_RULES - 1)), bytes);
}

static __always_inline void count_node(__u32 half, __u32 node, __u32 slot, __u32 bytes)
{
	count_at(&node_stats, half * SK_MAX_NODES + node, bytes);
	count_at(&node_msg_stats, (half * SK_MAX_NODES + node) * 13 + (slot < 13 ? slot : 12), bytes);
}

/* The node_msg_stats slot of a forwarded message (node_msg_slot() in
 * common/siphon/node_msg.h): the method is the scan key's first word
 * (zero-padded) when it is 8 bytes or shorter. */
#define MSG_W(a, b, c, d, e, f, g, h)                                                   \
	((__u64)(a) | (__u64)(b) << 8 | (__u64)(c) << 16 | (__u64)(d) << 24 |            \
	 (__u64)(e) << 32 | (__u64)(f) << 40 | (__u64)(g) << 48 | (__u64)(h) << 56)

static __always_inline __u32 msg_slot(const struct sk_scan *t, __u64 w0)
{
	if (!t->is_request)
		return t->status >= 100 && t->status <= 699 ? 6 + t->status / 100 : 12;
	if (t->method_len > 8)
		return 6;
	if (w0 == MSG_W('I', 'N', 'V', 'I', 'T', 'E', 0, 0))
		return 0;
	if (w0 == MSG_W('A', 'C', 'K', 0, 0, 0, 0, 0))
		return 1;
	if (w0 == MSG_W('B', 'Y', 'E', 0, 0, 0, 0, 0))
		return 2;
	if (w0 == MSG_W('C', 'A', 'N', 'C', 'E', 'L', 0, 0))
		return 3;
	if (w0 == MSG_W('O', 'P', 'T', 'I', 'O', 'N', 'S', 0))
		return 4;
	if (w0 == MSG_W('R', 'E', 'G', 'I', 'S', 'T', 'E', 'R'))
		return 5;
	return 6;
}

/* The redirect to the AF_XDP lane and its up_why count: one body for the
 * two dozen places that send a packet up (a global function, verified
 * once; inlined, it was ~600 bytes of JIT code). */
__noinline int sk_up(struct xdp_md *ctx, __u32 why, __u32 bytes)
{
	int act = bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);

	count_at(&up_why, why, bytes);
	return act;
}

/* To the AF_XDP lane, counted by why (up_why) and by the reason counter
 * (pass_no_xsk when no socket is bound on the queue). */
static __always_inline int to_user(struct xdp_md *ctx, enum xdp_reason why, enum xdp_reason *r,
				   __u32 bytes)
{
	int act = sk_up(ctx, (__u32)why, bytes);

	*r = act == XDP_REDIRECT ? why : XDP_REASON_PASS_NO_XSK;
	return act;
}

/* ---- flags in three values: val (surely set), unk (unknown) ---- */

struct eval_ctx {
	__u64 val[2], unk[2];
	__u32 half;
	__s32 rule;       /* the rule a term surely picks, or -1 */
	__u32 kind, pool; /* its action (struct sk_rule_action) */
	__u32 why;        /* 0, or the reason to go up */
};

/* 1: the term surely holds, 0: surely fails, 2: might hold */
static __always_inline int term_eval(const struct eval_ctx *e, const struct sk_term *t)
{
	__u64 fail = 0, maybe = 0;

	for (int w = 0; w < 2; w++) {
		fail |= (t->must.w[w] & ~e->val[w] & ~e->unk[w]) | (t->must_not.w[w] & e->val[w]);
		maybe |= (t->must.w[w] | t->must_not.w[w]) & e->unk[w];
	}
	if (fail)
		return 0;
	return maybe ? 2 : 1;
}

/* Derived flags, then the route: e->rule, or e->why. Open-coded loops
 * (no callbacks); the term pointers come from array lookups the verifier
 * inlines. */
static __always_inline void route_eval(struct eval_ctx *e, const struct sk_tables *tb)
{
	const struct sk_rule_action *a;
	struct bpf_iter_num it;
	const struct sk_term *t;
	__u32 n, hit, idx;
	int *ip, r = 0;

	e->rule = -1;
	e->why = 0;
	n = tb->n_expr_terms;
	if (n > SK_MAX_EXPR_TERMS)
		n = SK_MAX_EXPR_TERMS;
	if (n) {
		SK_FOR(it, ip, 0, n) {
			__u64 bit;
			__u32 w;

			idx = e->half * SK_MAX_EXPR_TERMS + ((__u32)*ip & (SK_MAX_EXPR_TERMS - 1));
			t = bpf_map_lookup_elem(&kt_expr, &idx);
			if (!t)
				break;
			r = term_eval(e, t);
			w = (t->target >> 6) & 1;
			bit = 1ull << (t->target & 63);
			if (r == 1) {
				e->val[w] |= bit;
				e->unk[w] &= ~bit;
			} else if (r == 2 && !(e->val[w] & bit)) {
				e->unk[w] |= bit;
			}
		}
		SK_END(it);
	}
	n = tb->n_rule_terms;
	if (n > SK_MAX_RULE_TERMS)
		n = SK_MAX_RULE_TERMS;
	hit = ~0u; /* the first term that does not surely fail */
	SK_FOR(it, ip, 0, n) {
		idx = e->half * SK_MAX_RULE_TERMS + ((__u32)*ip & (SK_MAX_RULE_TERMS - 1));
		t = bpf_map_lookup_elem(&kt_terms, &idx);
		if (!t)
			break; /* cannot happen: the index is inside the map */
		r = term_eval(e, t);
		if (r == 0)
			continue;
		hit = t->target;
		break;
	}
	SK_END(it);
	if (hit == ~0u) {
		e->why = XDP_REASON_UP_SCAN; /* no rule held: unreachable with a loaded config */
		return;
	}
	idx = e->half * SK_MAX_RULES + (hit & (SK_MAX_RULES - 1));
	a = bpf_map_lookup_elem(&kt_actions, &idx);
	if (!a) {
		e->why = XDP_REASON_UP_SCAN;
	} else if (a->kind == SK_ACTION_RATE_LIMIT) {
		e->why = XDP_REASON_UP_RATE_LIMIT;
	} else if (r == 2) {
		e->why = XDP_REASON_UP_FLAGS;
	} else {
		e->rule = (__s32)hit;
		e->kind = a->kind;
		e->pool = a->pool;
	}
}

static __always_inline int route_memo_holds(const struct sk_memo_route *m, const struct eval_ctx *e,
					    __u32 gen)
{
	return m->gen == gen && m->val.w[0] == e->val[0] && m->val.w[1] == e->val[1] &&
	       m->unk.w[0] == e->unk[0] && m->unk.w[1] == e->unk[1];
}

/* route_eval() memoised per CPU: a pure function of the flags in three
 * values and the generation (gen = seq * 2 + half), and most messages
 * come with one of a few flag sets (before the scan; after it, by method
 * and dialog state). Two ways a slot pair, so that two sets the hash puts
 * on one pair do not evict each other. (As a global function, one body
 * for its two calls a packet, the mix took ~100-150 ns more: inline.) */
static __always_inline int route_eval_memo(struct eval_ctx *e, const struct sk_tables *tb, struct sk_scratch *s,
			       __u32 gen)
{
	__u64 h;
	__u32 pair;
	struct sk_memo_route *m;

	if (!e || !tb || !s)
		return 0;
	h = e->val[0] ^ e->val[1] * 3 ^ e->unk[0] * 5 ^ e->unk[1] * 7;
	pair = sk_memo_slot(h) & ~1u;
	m = &s->routes[pair];

	if (!route_memo_holds(m, e, gen)) {
		m = &s->routes[pair | 1];
		if (!route_memo_holds(m, e, gen)) {
			/* fill the way the pair's victim bit names, then flip it */
			m = &s->routes[pair | (s->routes[pair].victim & 1)];
			s->routes[pair].victim ^= 1;
			m->gen = gen;
			m->val.w[0] = e->val[0];
			m->val.w[1] = e->val[1];
			m->unk.w[0] = e->unk[0];
			m->unk.w[1] = e->unk[1];
			route_eval(e, tb);
			m->rule = e->rule;
			m->kind = e->kind;
			m->pool = e->pool;
			m->why = e->why;
			m->dval.w[0] = e->val[0];
			m->dval.w[1] = e->val[1];
			m->dunk.w[0] = e->unk[0];
			m->dunk.w[1] = e->unk[1];
			return 0;
		}
	}
	e->rule = m->rule;
	e->kind = m->kind;
	e->pool = m->pool;
	e->why = m->why;
	e->val[0] = m->dval.w[0];
	e->val[1] = m->dval.w[1];
	e->unk[0] = m->dunk.w[0];
	e->unk[1] = m->dunk.w[1];
	return 0;
}

static __always_inline void flags_or(struct eval_ctx *e, const struct sk_flags *f)
{
	e->val[0] |= f->w[0];
	e->val[1] |= f->w[1];
}

static __always_inline void flags_unk(struct eval_ctx *e, const struct sk_flags *f)
{
	e->unk[0] |= f->w[0];
	e->unk[1] |= f->w[1];
}

/* The source-prefix flags (zero when no prefix covers the source),
 * memoised per CPU by address and generation: a trunk's packets skip the
 * LPM trie's walk (its nodes and the helper's code). */
static __always_inline void source_flags(struct xdp_md *ctx, const struct xdp_pkt *p, __u32 half,
					 __u32 gen, struct sk_scratch *s, struct sk_flags *out)
{
	const struct sk_flags *f = NULL;
	struct sk_memo_source *m;
	__u64 a0 = 0, a1 = 0;
	const __u8 *a;

	if (p->family == 4) {
		a = pkt_ptr(ctx, p->l3_off + 12, 4);
		if (!a)
			return;
		__builtin_memcpy(&a0, a, 4);
	} else {
		a = pkt_ptr(ctx, p->l3_off + 8, 16);
		if (!a)
			return;
		__builtin_memcpy(&a0, a, 8);
		__builtin_memcpy(&a1, a + 8, 8);
	}
	m = &s->sources[sk_memo_slot(a0 ^ a1 * 3 ^ p->family)];
	if (m->gen == gen && m->family == p->family && m->addr[0] == a0 && m->addr[1] == a1) {
		out->w[0] = m->flags.w[0];
		out->w[1] = m->flags.w[1];
		return;
	}
	if (p->family == 4) {
		struct sk_lpm4 k = { .prefixlen = 64, .half = half };

		__builtin_memcpy(k.addr, &a0, 4);
		f = bpf_map_lookup_elem(&kt_src4, &k);
	} else {
		struct sk_lpm6 k = { .prefixlen = 160, .half = half };

		__builtin_memcpy(k.addr, &a0, 8);
		__builtin_memcpy(k.addr + 8, &a1, 8);
		f = bpf_map_lookup_elem(&kt_src6, &k);
	}
	if (f) {
		out->w[0] = f->w[0];
		out->w[1] = f->w[1];
	}
	m->gen = gen;
	m->family = p->family;
	m->addr[0] = a0;
	m->addr[1] = a1;
	m->flags.w[0] = out->w[0];
	m->flags.w[1] = out->w[1];
}

/* The next hop to node nd from the kernel's FIB and neighbour table: the
 * destination MAC into mac[0..6), the egress port's into mac[6..12); a
 * configured MAC (node or balancer) overrides the kernel's. 0, or the
 * reason to go up: no neighbour entry yet (user space has the kernel
 * resolve it), or no route leaving by the egress interface. */
static __always_inline __u32 next_hop(struct xdp_md *ctx, const struct xdp_pkt *p,
				      const struct sk_node *nd, const struct sk_tables *tb,
				      struct sk_scratch *s, __u8 *mac)
{
	__u32 egress = tb->egress_ifindex ? tb->egress_ifindex : ctx->ingress_ifindex;
	struct bpf_fib_lookup *fp = &s->fib;
	const __u8 *src;
	long rc;

	__builtin_memset(fp, 0, sizeof(*fp));
#define f (*fp)
	f.ifindex = ctx->ingress_ifindex;
	f.l4_protocol = PROTO_UDP;
	f.tot_len = (__u16)(p->end - p->l3_off); /* what leaves: the MTU check */
	if (nd->family == 4) {
		f.family = SK_AF_INET;
		f.ipv4_dst = nd->addr[0];
		src = p->family == 4 ? pkt_ptr(ctx, p->l3_off + 12, 4) : NULL;
		if (src) /* the client: source-based routing rules see the forwarded packet */
			__builtin_memcpy(&f.ipv4_src, src, 4);
	} else {
		f.family = SK_AF_INET6;
		__builtin_memcpy(f.ipv6_dst, nd->addr, 16);
		src = p->family == 6 ? pkt_ptr(ctx, p->l3_off + 8, 16) : NULL;
		if (src)
			__builtin_memcpy(f.ipv6_src, src, 16);
	}
	rc = bpf_fib_lookup(ctx, fp, sizeof(*fp), 0);
	/* NO_NEIGH has the route's ifindex set too: a route by another
	 * interface is no route, whatever its neighbour */
	if ((rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH) ||
	    f.ifindex != egress)
		return XDP_REASON_UP_NO_ROUTE;
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH)
		return XDP_REASON_UP_NO_NEIGH;
	__builtin_memcpy(mac, nd->has_mac ? nd->mac : f.dmac, 6);
	__builtin_memcpy(mac + 6, tb->has_mac ? tb->mac : f.smac, 6);
	return 0;
#undef f
}

/* The next hop user space wrote into the node's entry, into mac as
 * next_hop() does: 1, or 0 (counted) when there is none to take: none
 * written (no writer, not resolved yet, a route changing), a route by
 * another interface than the egress, or a packet over its MTU. Then
 * next_hop() asks the kernel, which gives the same answer or a reason. */
static __always_inline int written_hop(struct xdp_md *ctx, const struct xdp_pkt *p,
				       const struct sk_node *nd, const struct sk_tables *tb,
				       __u8 *mac, __u32 bytes)
{
	__u32 egress = tb->egress_ifindex ? tb->egress_ifindex : ctx->ingress_ifindex;
	__u8 sel = *(volatile const __u8 *)&nd->hop_sel;
	const struct sk_hop *h;

	if (sel == 1)
		h = &nd->hop[0];
	else if (sel == 2)
		h = &nd->hop[1];
	else
		goto fallback;
	if (h->ifindex != egress || p->end - p->l3_off > h->mtu)
		goto fallback;
	__builtin_memcpy(mac, nd->has_mac ? nd->mac : h->dmac, 6);
	__builtin_memcpy(mac + 6, tb->has_mac ? tb->mac : h->smac, 6);
	return 1;
fallback:
	count_at(&hop_stats, SK_HOP_FIB_FALLBACK, bytes);
	return 0;
}

/* The flags of the scanned message's method (kt_methods), NULL for none.
 * s->key holds the method, zero-padded (msg_slot() reads its first word).
 * Methods of at most 8 bytes are memoised per CPU: most messages then skip
 * hashing a 40-byte key, and the table's cache lines. */
static __always_inline const struct sk_flags *method_flags(struct sk_scratch *s,
							   const struct sk_scan *t, __u32 gen)
{
	__u64 *k = (__u64 *)s->key.name;
	struct sk_memo_method *m;
	const struct sk_flags *f;

	/* the method (at most 31 bytes), zero-padded, word by word */
	for (__u32 j = 0; j < SK_NAME_MAX / 8; j++) {
		__u32 n = t->method_len > j * 8 ? t->method_len - j * 8 : 0;

		k[j] = sk_ld(s, t->method_off + j * 8) & m_bytes(n);
	}
	s->key.len = t->method_len;
	if (t->method_len > 8)
		return bpf_map_lookup_elem(&kt_methods, &s->key);
	m = &s->methods[sk_memo_slot(k[0])];
	if (m->gen != gen || m->word != k[0]) {
		f = bpf_map_lookup_elem(&kt_methods, &s->key);
		m->gen = gen;
		m->word = k[0];
		m->found = f != NULL;
		if (f)
			m->flags = *f;
	}
	return m->found ? &m->flags : NULL;
}

/* XXH64 over the payload copy (every read masked with SKS_MASK) */
XXH64_DEFINE(xxh64_sks, SKS_MASK)

/* The index of a word's lowest set bit, from that bit alone: BPF has no
 * ctz, and a de Bruijn multiply is one multiply, a shift and a load. */
#define DEBRUIJN64 0x03f79d71b4cb0a89ull
static const __u8 debruijn_bit[64] = {
	0,  1,  48, 2,  57, 49, 28, 3,  61, 58, 50, 42, 38, 29, 17, 4,
	62, 55, 59, 36, 53, 51, 43, 22, 45, 39, 33, 30, 24, 18, 12, 5,
	63, 47, 56, 27, 60, 41, 37, 16, 54, 35, 52, 21, 44, 32, 23, 11,
	46, 26, 40, 15, 34, 20, 31, 10, 25, 14, 19, 9,  13, 8,  7,  6,
};

/* One counter per set bit of `bits` (flags base..base+63): as many turns
 * as bits set, at most 64. */
static __always_inline void count_flag_word(struct siphon_xdp_flag_counts *c, __u64 bits,
					    __u32 base)
{
#pragma clang loop unroll(disable)
	for (__u32 k = 0; k < 64 && bits; k++) {
		__u64 low = bits & -bits;

		c->set[base + (debruijn_bit[(low * DEBRUIJN64) >> 58] & 63)]++;
		bits ^= low;
	}
}

/* The flags surely set in e into its half's counters: one lookup per
 * message, then one increment per flag set. */
static __always_inline void count_flags(const struct eval_ctx *e)
{
	struct siphon_xdp_flag_counts *c = bpf_map_lookup_elem(&flag_stats, &e->half);

	if (!c)
		return;
	count_flag_word(c, e->val[0], 0);
	count_flag_word(c, e->val[1], 64);
}

/* A verdict the kernel lane took on a rule itself (not one for user space,
 * whose lane classifies and counts the message again). */
static __always_inline int kernel_verdict(enum xdp_reason r)
{
	return r == XDP_REASON_KERNEL_DROP_RULE || r == XDP_REASON_KERNEL_PUNT_RULE ||
	       r == XDP_REASON_KERNEL_FORWARD;
}

/* The kernel lane for UDP to a VIP:port: the action, and *r; e holds the
 * flags the verdict was taken on. */
static __always_inline int kernel_lane_decide(struct xdp_md *ctx, const struct xdp_pkt *p,
					      struct eval_ctx *ep, enum xdp_reason *r)
{
	__u32 zero = 0, len = p->payload_len, half, gen, idx, slot, node, bytes = p->len;
	const struct sk_gen *g = bpf_map_lookup_elem(&generation, &zero);
	const struct sk_tables *tb;
	const struct sk_pool *pool;
	const struct sk_node *nd;
	const __u32 *slotv;
	struct sk_scratch *s;
	struct sk_scan *t;
	struct sk_flags src = {};
	const __u8 *pl;
	__u64 hash;

#define e (*ep) /* the caller's: it counts the flags of the verdict */
	if (!g)
		return to_user(ctx, XDP_REASON_UP_NO_TABLES, r, bytes);
	half = g->active & 1;
	tb = bpf_map_lookup_elem(&kt_tables, &half);
	if (!tb || !tb->valid)
		return to_user(ctx, XDP_REASON_UP_NO_TABLES, r, bytes);
	e.half = half;
	gen = g->seq * 2 + half;
	s = bpf_map_lookup_elem(&sip_scratch, &zero);
	if (!s)
		return to_user(ctx, XDP_REASON_UP_SCAN, r, bytes);

	/* before the scan: the source and transport flags are known, the
	 * message's are not; a drop that surely holds is an early drop
	 * (unless it may be a STUN binding request, which the scanner punts) */
	source_flags(ctx, p, half, gen, s, &src);
	flags_or(&e, &src);
	flags_or(&e, &tb->udp);
	flags_unk(&e, &tb->msg_flags);
	route_eval_memo(&e, tb, s, gen);
	if (e.rule >= 0 && e.kind == SK_ACTION_DROP) {
		pl = pkt_ptr(ctx, p->payload_off, 2);
		if (!pl || len < 20 || pl[0] != 0 || pl[1] != 1) {
			count_rule(half, e.rule, bytes);
			*r = XDP_REASON_KERNEL_DROP_RULE;
			return XDP_DROP;
		}
	}

	/* the scan */
	if (len > SK_SCAN_MAX)
		return to_user(ctx, XDP_REASON_UP_TOO_LONG, r, bytes);
	if (len == 0)
		return to_user(ctx, XDP_REASON_UP_SCAN, r, bytes);
	{
		__u64 n = len;

		/* the bound on the register the call gets (clang keeps copies) */
		asm volatile("" : "+r"(n));
		if (n == 0 || n > SK_SCAN_MAX ||
		    bpf_xdp_load_bytes(ctx, p->payload_off, s->buf, n))
			return to_user(ctx, XDP_REASON_UP_SCAN, r, bytes);
	}
	if (!sk_scan_payload(s, len, half | (tb->has_extra ? 2 : 0), tb->max_msg_bytes,
			     tb->max_vias))
		return to_user(ctx, XDP_REASON_UP_SCAN, r, bytes);
	t = &s->st;

	/* the flags of the message */
	{
		const struct sk_flags *mf;

		s->key.half = half;
		e.val[0] = e.val[1] = e.unk[0] = e.unk[1] = 0;
		flags_or(&e, &src);
		flags_or(&e, &tb->udp);
		mf = method_flags(s, t, gen);
		if (mf)
			flags_or(&e, mf);
		if (t->to_tag)
			flags_or(&e, &tb->in_dialog);
		if (t->is_request)
			flags_unk(&e, &tb->to_self);
		else
			flags_unk(&e, &tb->own_probe);
		if (t->extra_seen) {
			for (__u32 j = 0; j < SK_EXTRA_MAX; j++) {
				if (t->extra_seen & (1u << j)) {
					flags_or(&e, &tb->extra_present[j]);
					flags_unk(&e, &tb->extra_match[j]);
				}
			}
		}
		e.unk[0] &= ~e.val[0];
		e.unk[1] &= ~e.val[1];
	}
	route_eval_memo(&e, tb, s, gen);
	if (e.rule < 0)
		return to_user(ctx, (enum xdp_reason)e.why, r, bytes);
	{
		if (e.kind == SK_ACTION_DROP) {
			count_rule(half, e.rule, bytes);
			*r = XDP_REASON_KERNEL_DROP_RULE;
			return XDP_DROP;
		}
		if (e.kind == SK_ACTION_PUNT || e.kind == SK_ACTION_REPLY) {
			count_rule(half, e.rule, bytes);
			*r = XDP_REASON_KERNEL_PUNT_RULE;
			return XDP_PASS;
		}
		if (e.kind != SK_ACTION_POOL || e.pool >= SK_MAX_POOLS)
			return to_user(ctx, XDP_REASON_UP_SCAN, r, bytes);
		idx = half * SK_MAX_POOLS + e.pool;
	}

	/* dispatch (common/dispatch.c) */
	pool = bpf_map_lookup_elem(&kt_pools, &idx);
	if (!pool)
		return to_user(ctx, XDP_REASON_UP_SCAN, r, bytes);
	if (pool->mode != SK_POOL_DSR)
		return to_user(ctx, XDP_REASON_UP_NOT_DSR, r, bytes);
	/* a response's top Via, an in-dialog request's top Route or
	 * Request-URI naming an up node of this pool (sipnid.bpf.h); the scan
	 * set the fields when "nid" is there at all. The answer stays in
	 * t->via_nid for the counters (nid_stats). */
	if (t->via_nid | t->route_nid | t->ruri_nid) {
		t->via_nid = sk_nid_node(s, half << 8 | (idx & (SK_MAX_POOLS - 1)));
		if (t->via_nid & SKN_UP)
			return to_user(ctx, XDP_REASON_UP_NID, r, bytes);
	}
	if (t->via_nid & SKN_FOUND) {
		node = t->via_nid & (SK_MAX_NODES - 1);
		goto chosen;
	}
	/* the grace period: a dialog may follow the previous table, an initial
	 * request is remembered when its slot moved; the grace register lives
	 * in user space, so every message of the pool goes up */
	if (pool->previous_until && pool->previous_until > bpf_ktime_get_ns() / 1000000000ull)
		return to_user(ctx, XDP_REASON_UP_GRACE, r, bytes);
	if (t->callid_len > SK_CALLID_MAX || t->callid_len == 0)
		return to_user(ctx, XDP_REASON_UP_TOO_LONG, r, bytes);
	/* the Call-ID straight from the scan's copy */
	hash = xxh64_sks(s->buf, t->callid_off, t->callid_len, hash_seed);
	if (!pool->size || pool->size > SK_MAGLEV_MAX)
		return to_user(ctx, XDP_REASON_UP_NO_NODE, r, bytes);
	slot = (__u32)(((hash >> 32) * pool->size) >> 32);
	idx = (half * SK_MAX_POOLS + (idx & (SK_MAX_POOLS - 1))) * SK_MAGLEV_MAX + slot;
	slotv = bpf_map_lookup_elem(&kt_maglev, &idx);
	if (!slotv || *slotv >= pool->n_nodes)
		return to_user(ctx, XDP_REASON_UP_NO_NODE, r, bytes);
	node = pool->first_node + *slotv;
chosen:
	if (node >= SK_MAX_NODES)
		return to_user(ctx, XDP_REASON_UP_NO_NODE, r, bytes);
	idx = half * SK_MAX_NODES + node;
	nd = bpf_map_lookup_elem(&kt_nodes, &idx);
	if (!nd)
		return to_user(ctx, XDP_REASON_UP_NO_NODE, r, bytes);

	/* rewrite (dataplane/rewrite.c, dsr): the frame ends where the IP
	 * packet ends, then the MACs; VLAN tags and IP stay */
	{
		__u8 mac[12];
		__u8 *d, *de;
		__u32 why;

		if (nd->has_mac && tb->has_mac) { /* both configured: no lookup */
			__builtin_memcpy(mac, nd->mac, 6);
			__builtin_memcpy(mac + 6, tb->mac, 6);
		} else if (!written_hop(ctx, p, nd, tb, mac, bytes) &&
			   (why = next_hop(ctx, p, nd, tb, s, mac))) {
			return to_user(ctx, (enum xdp_reason)why, r, bytes);
		}
		if (p->len > p->end && bpf_xdp_adjust_tail(ctx, (int)p->end - (int)p->len))
			return to_user(ctx, XDP_REASON_UP_NO_NODE, r, bytes);
		d = (__u8 *)(long)ctx->data;
		de = (__u8 *)(long)ctx->data_end;
		if (d + 12 > de) { /* cannot happen: the frame holds an IP packet */
			*r = XDP_REASON_DROP_MALFORMED;
			return XDP_ABORTED;
		}
		__builtin_memcpy(d, mac, 12);
	}
	count_node(half, node, msg_slot(t, *(const __u64 *)s->key.name), bytes);
	if (t->via_nid & SKN_FOUND)
		count_at(&nid_stats, half * SK_NID_STATS + ((t->via_nid >> SKN_BY_SHIFT) & 3), bytes);
	if (t->via_nid & SKN_UNKNOWN)
		count_at(&nid_stats, half * SK_NID_STATS + SK_NID_UNKNOWN, bytes);
	count_rule(half, e.rule, bytes);
	*r = XDP_REASON_KERNEL_FORWARD;
	return bpf_redirect_map(&tx_ports, 0, XDP_TX);
#undef e
}

/* The kernel lane, and its flag counters where it took the verdict. */
static __always_inline int kernel_lane_udp(struct xdp_md *ctx, const struct xdp_pkt *p,
					   enum xdp_reason *r)
{
	struct eval_ctx e = {};
	int act = kernel_lane_decide(ctx, p, &e, r);

	if (kernel_verdict(*r))
		count_flags(&e);
	return act;
}

SEC("xdp")
int siphon_xdp(struct xdp_md *ctx)
{
	struct xdp_pkt p = {};
	enum pkt_status st = parse(ctx, &p);
	enum xdp_reason r;
	int act = XDP_PASS;

	if (!p.family) {
		r = XDP_REASON_PASS_NOT_IP;
	} else if (!is_vip_addr(&p)) {
		r = XDP_REASON_PASS_NOT_FOR_US;
	} else {
		switch (st) {
		case PKT_STATUS_OK:
			if (!is_vip_port(p.dport)) {
				r = XDP_REASON_PASS_NOT_FOR_US;
				break;
			}
			if (kernel_lane) {
				if (p.is_fragment)
					act = to_user(ctx, XDP_REASON_UP_FRAGMENT, &r, p.len);
				else if (p.l4_proto != PROTO_UDP)
					act = to_user(ctx, XDP_REASON_UP_TCP, &r, p.len);
				else
					act = kernel_lane_udp(ctx, &p, &r);
				break;
			}
			act = bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);
			r = act == XDP_REDIRECT ? XDP_REASON_TO_USERSPACE : XDP_REASON_PASS_NO_XSK;
			break;
		case PKT_STATUS_FRAGMENT: /* reassembled in user space */
			if (kernel_lane) {
				act = to_user(ctx, XDP_REASON_UP_FRAGMENT, &r, p.len);
				break;
			}
			act = bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);
			r = act == XDP_REDIRECT ? XDP_REASON_TO_USERSPACE : XDP_REASON_PASS_NO_XSK;
			break;
		case PKT_STATUS_NOT_UDP_TCP:
			r = XDP_REASON_PASS_NOT_UDP_TCP;
			break;
		case PKT_STATUS_IPV6_ROUTING:
			r = XDP_REASON_PASS_NOT_FOR_US;
			break;
		default:
			r = XDP_REASON_DROP_MALFORMED;
			act = XDP_DROP;
			break;
		}
	}
	count_verdict(st, r, p.len);
	return act;
}

/* Tests only (tests/bpf/test_xdp.c): XXH64 with hash_seed over the UDP
 * payload (at most SIPHON_XDP_HASH_MAX bytes) into hash_out[0]. */
SEC("xdp")
int xdp_hash_test(struct xdp_md *ctx)
{
	struct xdp_pkt p = {};
	struct hash_scratch *s;
	__u32 zero = 0, len;
	__u64 *out;

	if (parse(ctx, &p) != PKT_STATUS_OK || p.l4_proto != PROTO_UDP)
		return XDP_ABORTED;
	s = bpf_map_lookup_elem(&scratch, &zero);
	out = bpf_map_lookup_elem(&hash_out, &zero);
	if (!s || !out)
		return XDP_ABORTED;
	len = p.payload_len;
	if (len > SIPHON_XDP_HASH_MAX)
		len = SIPHON_XDP_HASH_MAX;
	if (len && bpf_xdp_load_bytes(ctx, p.payload_off, s->b, len))
		return XDP_ABORTED;
	*out = xxh64(s->b, len, hash_seed);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
