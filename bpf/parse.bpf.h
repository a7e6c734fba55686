/* The XDP program's L2-L4 parser: the same decisions as pkt_parse()
 * (dataplane/packet.c), with the same statuses (dataplane/pkt_status.def),
 * so the two lanes of the XDP mode split agree on every frame
 * (tests/bpf/test_xdp.c checks the parity).
 *
 * Verifier notes: every packet read goes through pkt_ptr(), which bounds the
 * offset (frames are linear, no xdp.frags, so no offset passes a page) and
 * checks the read against data_end; the length decisions themselves are
 * made on scalars, as pkt_parse() makes them. Loops have constant bounds. */
#ifndef SIPHON_PARSE_BPF_H
#define SIPHON_PARSE_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

enum pkt_status {
#define PKT_STATUS(id, name, help) PKT_STATUS_##id,
#include "siphon/pkt_status.def"
#undef PKT_STATUS
	PKT_STATUS__COUNT
};

#define PARSE_ETH_HLEN     14
#define PARSE_VLAN_MAX     2   /* PKT_VLAN_MAX */
#define PARSE_IPV6_EXT_MAX 8   /* PKT_IPV6_EXT_MAX */
#define PARSE_MAX_OFF      4096 /* a linear XDP frame fits a page */

#define ETH_P_IPV4_ 0x0800
#define ETH_P_IPV6_ 0x86DD
#define ETH_P_VLAN_ 0x8100
#define ETH_P_QINQ_ 0x88A8

#define PROTO_TCP 6
#define PROTO_UDP 17

#define NH_HOPOPTS  0
#define NH_ROUTING  43
#define NH_FRAGMENT 44
#define NH_DSTOPTS  60

/* What the parser found. family is 4 or 6 as soon as the fixed IP header
 * (both addresses) lies inside the frame, whatever the status; daddr then
 * holds the destination as on the wire. With PKT_STATUS_OK the L4 fields
 * are set too. */
struct xdp_pkt {
	__u32 len;         /* frame bytes */
	__u32 daddr[4];    /* IPv4: daddr[0] */
	__u16 l3_off;
	__u16 end;         /* where the IP packet ends */
	__u16 l4_off;
	__u16 payload_off;
	__u16 payload_len;
	__u16 frag_off;    /* bytes */
	__u16 dport;       /* host order */
	__u8 family;       /* 0, 4 or 6 */
	__u8 vlan_tags;
	__u8 l4_proto;
	__u8 is_fragment;
	__u8 first_fragment;
	__u8 more_fragments;
	__u8 frag_hdr_seen;
};

/* n bytes at off, or NULL when they are not inside the frame. */
static __always_inline const __u8 *pkt_ptr(const struct xdp_md *ctx, __u32 off, __u32 n)
{
	const __u8 *data = (const __u8 *)(long)ctx->data;
	const __u8 *data_end = (const __u8 *)(long)ctx->data_end;
	const __u8 *p;

	if (off > PARSE_MAX_OFF)
		return NULL;
	p = data + off;
	if (p + n > data_end)
		return NULL;
	return p;
}

static __always_inline __u32 rd16(const __u8 *p)
{
	return (__u32)p[0] << 8 | p[1];
}

static __always_inline __u32 rd32(const __u8 *p)
{
	return (__u32)p[0] << 24 | (__u32)p[1] << 16 | (__u32)p[2] << 8 | p[3];
}

/* The L4 header at p->l4_off, inside the IP packet ending at p->end. */
static __always_inline enum pkt_status parse_l4(const struct xdp_md *ctx, struct xdp_pkt *p)
{
	const enum pkt_status short_hdr =
		p->first_fragment ? PKT_STATUS_BAD_FRAGMENT : PKT_STATUS_BAD_L4_HEADER;
	__u32 off = p->l4_off, avail = (__u32)p->end - off, hlen, ulen;
	const __u8 *h;

	switch (p->l4_proto) {
	case PROTO_UDP:
		if (avail < 8)
			return short_hdr;
		h = pkt_ptr(ctx, off, 8);
		if (!h)
			return PKT_STATUS_TRUNCATED;
		ulen = rd16(h + 4);
		if (ulen < 8)
			return PKT_STATUS_BAD_L4_HEADER;
		if (p->first_fragment ? ulen < avail : ulen != avail)
			return PKT_STATUS_BAD_L4_HEADER;
		hlen = 8;
		break;
	case PROTO_TCP:
		if (avail < 20)
			return short_hdr;
		h = pkt_ptr(ctx, off, 20);
		if (!h)
			return PKT_STATUS_TRUNCATED;
		hlen = (__u32)(h[12] >> 4) * 4;
		if (hlen < 20)
			return PKT_STATUS_BAD_L4_HEADER;
		if (hlen > avail)
			return short_hdr;
		break;
	default:
		return PKT_STATUS_NOT_UDP_TCP;
	}
	p->dport = (__u16)rd16(h + 2);
	p->payload_off = (__u16)(off + hlen);
	p->payload_len = (__u16)(avail - hlen);
	/* pkt_parse(): an IPv6 UDP checksum of 0 is invalid (RFC 8200 8.1);
	 * siphon_xdp() drops it as malformed, as the pipeline drops it */
	if (p->l4_proto == PROTO_UDP && p->family == 6 && rd16(h + 6) == 0)
		return PKT_STATUS_UDP6_ZERO_CHECKSUM;
	return PKT_STATUS_OK;
}

/* Fragment data must fit a 65535-byte datagram; every fragment but the
 * last carries a multiple of 8 bytes. */
static __always_inline int fragment_ok(const struct xdp_pkt *p, __u32 data_len)
{
	if ((__u32)p->frag_off + data_len > 65535)
		return 0;
	return !p->more_fragments || data_len % 8 == 0;
}

static __always_inline enum pkt_status parse_ipv4(const struct xdp_md *ctx, struct xdp_pkt *p)
{
	const __u32 l3 = p->l3_off;
	__u32 ihl, total, end, fo;
	const __u8 *h;

	if (p->len < l3 + 20)
		return PKT_STATUS_TRUNCATED;
	h = pkt_ptr(ctx, l3, 20);
	if (!h)
		return PKT_STATUS_TRUNCATED;
	p->family = 4;
	__builtin_memcpy(&p->daddr[0], h + 16, 4);
	if (h[0] >> 4 != 4)
		return PKT_STATUS_BAD_IP_HEADER;
	ihl = (__u32)(h[0] & 0x0F) * 4;
	total = rd16(h + 2);
	if (ihl < 20 || total < ihl)
		return PKT_STATUS_BAD_IP_HEADER;
	end = l3 + total;
	if (end > p->len)
		return PKT_STATUS_TRUNCATED;
	if (end > 65535)
		return PKT_STATUS_TOO_BIG;

	p->end = (__u16)end;
	p->l4_proto = h[9];
	p->l4_off = (__u16)(l3 + ihl);
	fo = rd16(h + 6);
	p->more_fragments = (fo & 0x2000) != 0;
	p->frag_off = (__u16)((fo & 0x1FFF) * 8);
	p->is_fragment = p->more_fragments || p->frag_off != 0;
	p->first_fragment = p->is_fragment && p->frag_off == 0;

	if (p->is_fragment && !fragment_ok(p, total - ihl))
		return PKT_STATUS_BAD_FRAGMENT;
	if (p->is_fragment && !p->first_fragment) {
		p->payload_off = p->l4_off;
		p->payload_len = (__u16)(total - ihl);
		return PKT_STATUS_FRAGMENT;
	}
	return parse_l4(ctx, p);
}

static __always_inline int is_ext(__u32 nh)
{
	return nh == NH_HOPOPTS || nh == NH_ROUTING || nh == NH_DSTOPTS || nh == NH_FRAGMENT;
}

static __always_inline enum pkt_status parse_ipv6(const struct xdp_md *ctx, struct xdp_pkt *p)
{
	const __u32 l3 = p->l3_off;
	__u32 end, off, nh;
	const __u8 *h;

	if (p->len < l3 + 40)
		return PKT_STATUS_TRUNCATED;
	h = pkt_ptr(ctx, l3, 40);
	if (!h)
		return PKT_STATUS_TRUNCATED;
	p->family = 6;
	__builtin_memcpy(p->daddr, h + 24, 16);
	if (h[0] >> 4 != 6)
		return PKT_STATUS_BAD_IP_HEADER;
	end = l3 + 40 + rd16(h + 4);
	if (end > p->len)
		return PKT_STATUS_TRUNCATED;
	if (end > 65535)
		return PKT_STATUS_TOO_BIG;
	p->end = (__u16)end;
	nh = h[6];
	off = l3 + 40;

	for (int n = 0; n < PARSE_IPV6_EXT_MAX; n++) {
		/* a chain that does not fit a first fragment is a bad fragment
		 * (RFC 7112), elsewhere a bad IP header */
		const enum pkt_status past_end =
			p->first_fragment ? PKT_STATUS_BAD_FRAGMENT : PKT_STATUS_BAD_IP_HEADER;
		const __u32 hdr = nh;
		__u32 hlen = 8;

		if (!is_ext(nh))
			break;
		if (end - off < 8)
			return past_end;
		if (hdr == NH_HOPOPTS && n > 0) /* only right after the fixed header */
			return PKT_STATUS_BAD_IP_HEADER;
		h = pkt_ptr(ctx, off, 8);
		if (!h)
			return PKT_STATUS_TRUNCATED;
		if (hdr == NH_FRAGMENT) {
			__u32 fo = rd16(h + 2);
			if (p->frag_hdr_seen)
				return PKT_STATUS_BAD_IP_HEADER;
			p->frag_hdr_seen = 1;
			p->frag_off = (__u16)(fo & 0xFFF8);
			p->more_fragments = (fo & 1) != 0;
			p->is_fragment = p->more_fragments || p->frag_off != 0;
			p->first_fragment = p->is_fragment && p->frag_off == 0;
		} else {
			hlen = ((__u32)h[1] + 1) * 8;
			if (hlen > end - off)
				return past_end;
			if (hdr == NH_ROUTING && h[3] != 0)
				return PKT_STATUS_IPV6_ROUTING;
		}
		nh = h[0];
		off += hlen;
		if (hdr != NH_FRAGMENT)
			continue;
		/* the fragmentable part starts here */
		if (p->is_fragment && !fragment_ok(p, end - off))
			return PKT_STATUS_BAD_FRAGMENT;
		if (p->is_fragment && !p->first_fragment) {
			p->l4_proto = (__u8)nh;
			p->l4_off = p->payload_off = (__u16)off;
			p->payload_len = (__u16)(end - off);
			return PKT_STATUS_FRAGMENT;
		}
	}
	if (is_ext(nh))
		return PKT_STATUS_IPV6_EXT_TOO_DEEP;
	p->l4_proto = (__u8)nh;
	p->l4_off = (__u16)off;
	return parse_l4(ctx, p);
}

/* pkt_parse() for an XDP frame: fills *p (zeroed by the caller). */
static __always_inline enum pkt_status parse(const struct xdp_md *ctx, struct xdp_pkt *p)
{
	__u32 off = 12, type;
	const __u8 *h;

	p->len = ctx->data_end - ctx->data;
	if (p->len < PARSE_ETH_HLEN)
		return PKT_STATUS_TRUNCATED;
	h = pkt_ptr(ctx, off, 2);
	if (!h)
		return PKT_STATUS_TRUNCATED;
	type = rd16(h);
	for (int n = 0; n <= PARSE_VLAN_MAX; n++) {
		if (type != ETH_P_VLAN_ && type != ETH_P_QINQ_)
			break;
		if (p->vlan_tags == PARSE_VLAN_MAX)
			return PKT_STATUS_VLAN_TOO_DEEP;
		p->vlan_tags++;
		off += 4;
		if (p->len < off + 2)
			return PKT_STATUS_TRUNCATED;
		h = pkt_ptr(ctx, off, 2);
		if (!h)
			return PKT_STATUS_TRUNCATED;
		type = rd16(h);
	}
	p->l3_off = (__u16)(off + 2);
	switch (type) {
	case ETH_P_IPV4_:
		return parse_ipv4(ctx, p);
	case ETH_P_IPV6_:
		return parse_ipv6(ctx, p);
	default:
		return PKT_STATUS_NOT_IP;
	}
}

#endif
