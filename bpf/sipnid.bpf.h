/* The kernel lane's node-id dispatch (docs/dispatch.md, docs/xdp.md "The
 * kernel lane"): dispatch.c's by_nid() over the scan's copy. The `nid`
 * parameter is found exactly as dispatch_find_nid() finds it, within the
 * span dispatch.c searches (the top Via's parameters of a response; the
 * top Route value, then the Request-URI, of an in-dialog request), and
 * looked up in kt_nids, which holds only the nodes of each pool: a nid
 * chooses among the nodes of the pool the route chose, never past it.
 *
 * dispatch_find_nid(): from each ';' of the span in order, blanks, "nid"
 * in any case, '=', then a token (empty: no nid at all); the first such
 * parameter decides. Here: every "nid" of the span in order (word-wise);
 * one preceded by ';' and followed by '=' is that parameter. Where the
 * kernel cannot be sure of user space's answer it says SKN_UP and the
 * message goes up (to_userspace_nid): a blank between ';' and "nid" (the
 * scan has no HTAB, but blanks are rare enough not to be worth a loop), a
 * token over SK_NAME_MAX bytes (no id that long is published), a Via
 * whose sent-protocol and sent-by are not the plain `SIP/2.0/T HOST`
 * (sip_parse_via() might fail and leave no parameters), a Route line with
 * a ',' (its first value may end before the nid). */
#ifndef SIPHON_SIPNID_BPF_H
#define SIPHON_SIPNID_BPF_H

#include "sipscan_words.bpf.h"

#define SKN_VIA   0
#define SKN_ROUTE 1
#define SKN_RURI  2

/* sk_nid(): 0 no nid, SKN_UP, or SKN_FOUND | len << 16 | off */
#define SKN_FOUND 0x40000000u
#define SKN_UP    0x80000000u
#define SKN_EMPTY 0x20000000u /* "nid=" with an empty token: no nid, stop */

/* sk_nid_node(): also SKN_UNKNOWN (some nid named no node of the pool),
 * and with SKN_FOUND the span that chose (SKN_BY_SHIFT) and the node */
#define SKN_UNKNOWN  0x10000000u
#define SKN_BY_SHIFT 24

/* "sip/2.0/" as a word, the first three letters as OR-ing 0x202020 leaves them */
#define SKN_SIP20 0x2F302E322F706973ull

/* "nid" (any case) starts at byte k of the word at q */
static __always_inline __u64 m_nid(const struct sk_scratch *s, __u32 q)
{
	return m_eq(sk_ld(s, q) | B20, 'n') & m_eq(sk_ld(s, q + 1) | B20, 'i') &
	       m_eq(sk_ld(s, q + 2) | B20, 'd');
}

/* "nid" at c (c + 3 < the span's end): 0 when it starts no parameter,
 * else sk_nid()'s answer (SKN_EMPTY for an empty token). */
static __always_inline __u32 sk_nid_at(const struct sk_scratch *s, __u32 from, __u32 c)
{
	__u32 before, len = SKS_NONE;
	__u64 stop;

	if (sk_byte(s, c + 3) != '=' || c <= from)
		return 0;
	before = sk_byte(s, c - 1);
	if (before == ' ')
		return SKN_UP; /* maybe "; nid=": dispatch_find_nid() skips blanks */
	if (before != ';')
		return 0;
	/* the token: it ends at the span's end too (CR, or the SP after a URI) */
	for (__u32 j = 0; j < 5; j++) {
		stop = ~m_token(sk_ld(s, c + 4 + j * 8)) & B80;
		if (stop) {
			len = j * 8 + m_first(stop);
			break;
		}
	}
	if (len == 0)
		return SKN_EMPTY;
	if (len > SK_NAME_MAX)
		return SKN_UP;
	return SKN_FOUND | len << 16 | (c + 4);
}

/* The top Via value at v parses in sip_parse_via() with its parameters
 * from the first ';' on: `SIP/2.0/` (SIP in any case), a transport token
 * of 1-7 bytes, one blank, a host that starts with a token byte (not an
 * IPv6 '['). Token bytes, blanks and '/' hold no ';'. */
static __always_inline int sk_via_plain(const struct sk_scratch *s, __u32 v)
{
	__u64 w, stop;
	__u32 k;

	if (sk_byte(s, v) == ' ')
		v++;
	if ((sk_ld(s, v) | 0x202020) != SKN_SIP20)
		return 0;
	w = sk_ld(s, v + 8);
	stop = ~m_token(w) & B80;
	if (!stop)
		return 0;
	k = m_first(stop);
	if (k == 0 || ((w >> (8 * k)) & 0xFF) != ' ')
		return 0;
	return c_token(sk_byte(s, v + 9 + k));
}

/* dispatch_find_nid() over [from, to) of the scan's copy, whose first
 * "nid" the scan found at first (>= from). A global function, verified
 * once. */
__noinline __u32 sk_nid(struct sk_scratch *s, __u32 from, __u32 to, __u32 first, __u32 mode)
{
	struct bpf_iter_num it;
	__u32 r = 0;
	int *ip;

	if (!s || from >= to || to > SK_SCAN_MAX || first < from || first + 3 > to)
		return 0;
	/* the usual case: the first "nid" is the parameter (no iterator) */
	r = sk_nid_at(s, from, first);
	if (r)
		goto found;
	first++;
	SK_FOR(it, ip, 0, SK_SCAN_MAX / 8 + 1) {
		__u32 q = first + 8 * (__u32)*ip;
		__u64 m;

		if (q + 3 > to || q > SK_SCAN_MAX)
			break;
		m = m_nid(s, q) & m_low(to - q - 2);
		for (__u32 k = 0; k < 8 && m; k++) {
			r = sk_nid_at(s, from, q + m_first(m));
			if (r)
				break;
			m &= m - 1;
		}
		if (r)
			break;
	}
	SK_END(it);
found:
	if (!(r & SKN_FOUND))
		return r & SKN_UP; /* none, an empty token (none), or unsure */
	if (mode == SKN_VIA && !sk_via_plain(s, from))
		return SKN_UP;
	if (mode == SKN_ROUTE && sk_find(s, from, to, ',') != SKS_NONE)
		return SKN_UP;
	return r;
}

/* by_nid(): the nid of [from, to) in pool hp & 0xFF of half hp >> 8.
 * SKN_FOUND | node (up), 0 (no nid; or its node is down: the next span or
 * the hash decides), SKN_UNKNOWN, or SKN_UP. The key is built in the
 * scan's line words (s->st.w: 40 bytes, unused after the scan). */
static __always_inline __u32 sk_nid_pick(struct sk_scratch *s, __u32 hp, __u32 from, __u32 to,
					 __u32 first, __u32 mode)
{
	__u32 r = sk_nid(s, from, to, first, mode), off, len, idx;
	__u64 *k = s->st.w;
	const struct sk_node *nd;
	const __u32 *node;

	if (!(r & SKN_FOUND))
		return r;
	off = r & 0xFFFF;
	len = (r >> 16) & 0x3F;
	/* struct sk_nid_key: half, pool, len, then the id zero-padded */
	k[0] = (__u64)(hp >> 8) | (__u64)(hp & 0xFF) << 32 | (__u64)len << 48;
	for (__u32 j = 0; j < SK_NAME_MAX / 8; j++)
		k[j + 1] = sk_ld(s, off + j * 8) & m_bytes(len > j * 8 ? len - j * 8 : 0);
	node = bpf_map_lookup_elem(&kt_nids, k);
	if (!node)
		return SKN_UNKNOWN;
	idx = (hp >> 8) * SK_MAX_NODES + (*node & (SK_MAX_NODES - 1));
	nd = bpf_map_lookup_elem(&kt_nodes, &idx);
	if (!nd || !nd->up)
		return 0;
	return SKN_FOUND | (*node & (SK_MAX_NODES - 1));
}

/* dispatch()'s nid steps for the scanned message and pool hp & 0xFF of
 * half hp >> 8: a response by its top Via, an in-dialog request by its
 * top Route, else its Request-URI. SKN_UP, or SKN_FOUND | span << 24 |
 * node, else 0 (the hash decides); SKN_UNKNOWN added when a nid named no
 * node of the pool. A global function, verified once. */
__noinline __u32 sk_nid_node(struct sk_scratch *s, __u32 hp)
{
	__u32 r = 0, unknown = 0;

	if (!s)
		return SKN_UP;
	if (!s->st.is_request) {
		if (s->st.via_nid)
			r = sk_nid_pick(s, hp, s->st.via_off, s->st.via_end, s->st.via_nid - 1,
					SKN_VIA);
		if (r & SKN_FOUND)
			return r | SKN_VIA << SKN_BY_SHIFT;
		return r;
	}
	if (!s->st.to_tag)
		return 0;
	if (s->st.route_nid) {
		r = sk_nid_pick(s, hp, s->st.route_off, s->st.route_end, s->st.route_nid - 1,
				SKN_ROUTE);
		if (r & (SKN_FOUND | SKN_UP))
			return r | (r & SKN_FOUND ? SKN_ROUTE << SKN_BY_SHIFT : 0);
		unknown = r;
	}
	r = 0;
	if (s->st.ruri_nid)
		r = sk_nid_pick(s, hp, s->st.ruri_off, s->st.ruri_off + s->st.ruri_len,
				 s->st.ruri_nid - 1, SKN_RURI);
	if (r & SKN_FOUND)
		return r | SKN_RURI << SKN_BY_SHIFT | unknown;
	return r | unknown;
}

#endif
