#include <string.h>
#include <sys/socket.h>

#include "siphon/packet.h"
#include "siphon/bytes.h"

#define IPV6_HLEN 40
#define UDP_HLEN  8
#define TCP_HLEN  20

#define NH_HOPOPTS  0
#define NH_ROUTING  43
#define NH_FRAGMENT 44
#define NH_DSTOPTS  60

/* The L4 header at l->l4_off, inside the IP packet ending at `end`. A first
 * fragment holds the L4 header but only part of the datagram. */
static enum pkt_status parse_l4(const uint8_t *f, size_t end, struct pkt_layout *l)
{
	const enum pkt_status short_hdr =
		l->first_fragment ? PKT_STATUS_BAD_FRAGMENT : PKT_STATUS_BAD_L4_HEADER;
	size_t off = l->l4_off, avail = end - off, hlen;

	switch (l->l4_proto) {
	case PKT_PROTO_UDP: {
		size_t ulen;
		if (avail < UDP_HLEN)
			return short_hdr;
		ulen = rd16(f + off + 4);
		if (ulen < UDP_HLEN)
			return PKT_STATUS_BAD_L4_HEADER;
		if (l->first_fragment ? ulen < avail : ulen != avail)
			return PKT_STATUS_BAD_L4_HEADER;
		hlen = UDP_HLEN;
		l->l4_len = (uint16_t)ulen;
		break;
	}
	case PKT_PROTO_TCP:
		if (avail < TCP_HLEN)
			return short_hdr;
		hlen = (size_t)(f[off + 12] >> 4) * 4;
		if (hlen < TCP_HLEN)
			return PKT_STATUS_BAD_L4_HEADER;
		if (hlen > avail)
			return short_hdr;
		l->l4_len = (uint16_t)avail;
		break;
	default:
		return PKT_STATUS_NOT_UDP_TCP;
	}
	l->payload_off = (uint16_t)(off + hlen);
	l->payload_len = (uint16_t)(avail - hlen);
	/* 0 means "no checksum" over IPv4 only; over IPv6 the receiving stack
	 * drops it (RFC 8200 8.1), so forwarding it would only lose it later
	 * and uncounted. The layout is complete; the status says drop. */
	if (l->l4_proto == PKT_PROTO_UDP && l->family == AF_INET6 && rd16(f + off + 6) == 0)
		return PKT_STATUS_UDP6_ZERO_CHECKSUM;
	return PKT_STATUS_OK;
}

/* Fragment sanity shared by both families: the data must fit a 65535-byte
 * datagram, and every fragment but the last carries a multiple of 8. */
static bool fragment_ok(const struct pkt_layout *l, size_t data_len)
{
	if ((size_t)l->frag_off + data_len > 65535)
		return false;
	return !l->more_fragments || data_len % 8 == 0;
}

static enum pkt_status parse_ipv4(const uint8_t *f, size_t len, struct pkt_layout *l)
{
	const size_t l3 = l->l3_off;
	size_t ihl, total, end;
	uint16_t fo;

	if (len < l3 + 20)
		return PKT_STATUS_TRUNCATED;
	/* as the XDP parser: the addresses count from here, whatever follows,
	 * so a malformed packet to a VIP is dropped, not taken for another's */
	l->family = AF_INET;
	if (f[l3] >> 4 != 4)
		return PKT_STATUS_BAD_IP_HEADER;
	ihl = (size_t)(f[l3] & 0x0F) * 4;
	total = rd16(f + l3 + 2);
	if (ihl < 20 || total < ihl)
		return PKT_STATUS_BAD_IP_HEADER;
	end = l3 + total;
	if (end > len)
		return PKT_STATUS_TRUNCATED;
	if (end > UINT16_MAX)
		return PKT_STATUS_TOO_BIG;

	l->l3_len = (uint16_t)total;
	l->l3_hlen = (uint16_t)ihl;
	l->nexthdr_off = (uint16_t)(l3 + 9);
	l->l4_proto = f[l3 + 9];
	l->l4_off = (uint16_t)(l3 + ihl);
	l->frag_id = rd16(f + l3 + 4);
	fo = rd16(f + l3 + 6);
	l->dont_fragment = (fo & 0x4000) != 0;
	l->more_fragments = (fo & 0x2000) != 0;
	l->frag_off = (uint16_t)((fo & 0x1FFF) * 8);
	l->is_fragment = l->more_fragments || l->frag_off != 0;
	l->first_fragment = l->is_fragment && l->frag_off == 0;

	if (l->is_fragment && !fragment_ok(l, total - ihl))
		return PKT_STATUS_BAD_FRAGMENT;
	if (l->is_fragment && !l->first_fragment) {
		l->payload_off = l->l4_off;
		l->payload_len = (uint16_t)(total - ihl);
		return PKT_STATUS_FRAGMENT;
	}
	return parse_l4(f, end, l);
}

static bool is_ext(uint8_t nh)
{
	return nh == NH_HOPOPTS || nh == NH_ROUTING || nh == NH_DSTOPTS || nh == NH_FRAGMENT;
}

static enum pkt_status parse_ipv6(const uint8_t *f, size_t len, struct pkt_layout *l)
{
	const size_t l3 = l->l3_off;
	size_t end, off;
	uint8_t nh;

	if (len < l3 + IPV6_HLEN)
		return PKT_STATUS_TRUNCATED;
	l->family = AF_INET6;
	if (f[l3] >> 4 != 6)
		return PKT_STATUS_BAD_IP_HEADER;
	end = l3 + IPV6_HLEN + rd16(f + l3 + 4);
	if (end > len)
		return PKT_STATUS_TRUNCATED;
	if (end > UINT16_MAX)
		return PKT_STATUS_TOO_BIG;

	l->l3_len = (uint16_t)(end - l3);
	l->nexthdr_off = (uint16_t)(l3 + 6);
	nh = f[l3 + 6];
	off = l3 + IPV6_HLEN;

	for (int n = 0; n < PKT_IPV6_EXT_MAX && is_ext(nh); n++) {
		/* a header chain that does not fit a first fragment is a bad
		 * fragment (RFC 7112), elsewhere a bad IP header */
		const enum pkt_status past_end =
			l->first_fragment ? PKT_STATUS_BAD_FRAGMENT : PKT_STATUS_BAD_IP_HEADER;
		const uint8_t hdr = nh;
		size_t hlen = 8;

		if (end - off < 8)
			return past_end;
		if (hdr == NH_HOPOPTS && n > 0) /* only right after the fixed header */
			return PKT_STATUS_BAD_IP_HEADER;
		if (hdr == NH_FRAGMENT) {
			uint16_t fo = rd16(f + off + 2);
			if (l->frag_hdr_off)
				return PKT_STATUS_BAD_IP_HEADER;
			l->frag_hdr_off = (uint16_t)off;
			l->frag_off = fo & 0xFFF8;
			l->more_fragments = (fo & 1) != 0;
			l->frag_id = rd32(f + off + 4);
			l->is_fragment = l->more_fragments || l->frag_off != 0;
			l->first_fragment = l->is_fragment && l->frag_off == 0;
		} else {
			hlen = ((size_t)f[off + 1] + 1) * 8;
			if (hlen > end - off)
				return past_end;
			if (hdr == NH_ROUTING && f[off + 3] != 0)
				return PKT_STATUS_IPV6_ROUTING;
		}
		l->nexthdr_off = (uint16_t)off;
		nh = f[off];
		off += hlen;
		if (hdr != NH_FRAGMENT)
			continue;
		/* the fragmentable part starts here */
		if (l->is_fragment && !fragment_ok(l, end - off))
			return PKT_STATUS_BAD_FRAGMENT;
		if (l->is_fragment && !l->first_fragment) {
			l->l4_proto = nh;
			l->l3_hlen = (uint16_t)(off - l3);
			l->l4_off = l->payload_off = (uint16_t)off;
			l->payload_len = (uint16_t)(end - off);
			return PKT_STATUS_FRAGMENT;
		}
	}
	if (is_ext(nh))
		return PKT_STATUS_IPV6_EXT_TOO_DEEP;
	l->l4_proto = nh;
	l->l3_hlen = (uint16_t)(off - l3);
	l->l4_off = (uint16_t)off;
	return parse_l4(f, end, l);
}

enum pkt_status pkt_parse(const uint8_t *frame, size_t len, struct pkt_layout *l)
{
	size_t off = 12;
	uint16_t type;

	memset(l, 0, sizeof(*l));
	if (!frame || len < PKT_ETH_HLEN)
		return PKT_STATUS_TRUNCATED;
	type = rd16(frame + off);
	while (type == PKT_ETHERTYPE_VLAN || type == PKT_ETHERTYPE_QINQ) {
		if (l->vlan_tags == PKT_VLAN_MAX)
			return PKT_STATUS_VLAN_TOO_DEEP;
		l->vlan_tags++;
		off += 4;
		if (len < off + 2)
			return PKT_STATUS_TRUNCATED;
		type = rd16(frame + off);
	}
	l->ethertype_off = (uint16_t)off;
	l->l3_off = (uint16_t)(off + 2);
	switch (type) {
	case PKT_ETHERTYPE_IPV4:
		return parse_ipv4(frame, len, l);
	case PKT_ETHERTYPE_IPV6:
		return parse_ipv6(frame, len, l);
	default:
		return PKT_STATUS_NOT_IP;
	}
}

static const char *const status_names[] = {
#define PKT_STATUS(id, name, help) [PKT_STATUS_##id] = name,
#include "siphon/pkt_status.def"
#undef PKT_STATUS
};

static const char *const status_help[] = {
#define PKT_STATUS(id, name, help) [PKT_STATUS_##id] = help,
#include "siphon/pkt_status.def"
#undef PKT_STATUS
};

const char *pkt_status_name(unsigned s)
{
	return s < PKT_STATUS__COUNT ? status_names[s] : "?";
}

const char *pkt_status_help(unsigned s)
{
	return s < PKT_STATUS__COUNT ? status_help[s] : "?";
}
