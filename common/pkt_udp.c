#include <string.h>
#include <sys/socket.h>

#include "siphon/pkt_udp.h"

#define ETH_HLEN 14
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86DD
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88A8
#define IPPROTO_UDP_ 17
#define IPV6_EXT_MAX 8 /* extension headers walked before giving up */

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static enum pkt_udp_status udp_at(const uint8_t *base, size_t off, size_t len, struct pkt_udp *out)
{
	size_t ulen;

	if (len < off + 8)
		return PKT_UDP_TRUNCATED;
	ulen = rd16(base + off + 4);
	if (ulen < 8 || off + ulen > len)
		return PKT_UDP_TRUNCATED;
	out->sport = rd16(base + off);
	out->dport = rd16(base + off + 2);
	out->payload_off = off + 8;
	out->payload_len = ulen - 8;
	return PKT_UDP_OK;
}

static enum pkt_udp_status from_ipv4(const uint8_t *ip, size_t len, struct pkt_udp *out)
{
	size_t ihl, total;

	if (len < 20)
		return PKT_UDP_TRUNCATED;
	ihl = (size_t)(ip[0] & 0x0F) * 4;
	total = rd16(ip + 2);
	if (ihl < 20 || total < ihl || total > len)
		return PKT_UDP_TRUNCATED;
	out->family = AF_INET;
	memcpy(out->src, ip + 12, 4);
	memcpy(out->dst, ip + 16, 4);
	if ((rd16(ip + 6) & 0x3FFF) != 0) /* MF set or offset non-zero */
		return PKT_UDP_FRAGMENT;
	if (ip[9] != IPPROTO_UDP_)
		return PKT_UDP_NOT_UDP;
	return udp_at(ip, ihl, total, out);
}

static enum pkt_udp_status from_ipv6(const uint8_t *ip, size_t len, struct pkt_udp *out)
{
	size_t off = 40, total;
	uint8_t next;

	if (len < 40)
		return PKT_UDP_TRUNCATED;
	total = 40 + (size_t)rd16(ip + 4);
	if (total > len)
		return PKT_UDP_TRUNCATED;
	out->family = AF_INET6;
	memcpy(out->src, ip + 8, 16);
	memcpy(out->dst, ip + 24, 16);
	next = ip[6];
	for (int i = 0; i < IPV6_EXT_MAX; i++) {
		switch (next) {
		case IPPROTO_UDP_:
			return udp_at(ip, off, total, out);
		case 0:  /* hop-by-hop */
		case 43: /* routing */
		case 60: /* destination options */
			if (total < off + 8)
				return PKT_UDP_TRUNCATED;
			next = ip[off];
			off += 8 + (size_t)ip[off + 1] * 8;
			break;
		case 51: /* AH: length in 4-byte units, minus 2 */
			if (total < off + 8)
				return PKT_UDP_TRUNCATED;
			next = ip[off];
			off += ((size_t)ip[off + 1] + 2) * 4;
			break;
		case 44: /* fragment */
			if (total < off + 8)
				return PKT_UDP_TRUNCATED;
			if ((rd16(ip + off + 2) & 0xFFF9) != 0) /* offset or M flag */
				return PKT_UDP_FRAGMENT;
			next = ip[off];
			off += 8;
			break;
		default:
			return PKT_UDP_NOT_UDP;
		}
	}
	return PKT_UDP_NOT_UDP;
}

enum pkt_udp_status pkt_udp_from_ip(const uint8_t *ip, size_t len, struct pkt_udp *out)
{
	memset(out, 0, sizeof(*out));
	if (len < 1)
		return PKT_UDP_TRUNCATED;
	switch (ip[0] >> 4) {
	case 4:
		return from_ipv4(ip, len, out);
	case 6:
		return from_ipv6(ip, len, out);
	default:
		return PKT_UDP_NOT_IP;
	}
}

enum pkt_udp_status pkt_udp_from_eth(const uint8_t *frame, size_t len, struct pkt_udp *out)
{
	size_t off = 12;
	uint16_t type;
	enum pkt_udp_status st;

	memset(out, 0, sizeof(*out));
	if (len < ETH_HLEN)
		return PKT_UDP_TRUNCATED;
	type = rd16(frame + off);
	for (int tags = 0; tags < 2 && (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ); tags++) {
		off += 4;
		if (len < off + 2)
			return PKT_UDP_TRUNCATED;
		type = rd16(frame + off);
	}
	off += 2;
	if (type != ETHERTYPE_IPV4 && type != ETHERTYPE_IPV6)
		return PKT_UDP_NOT_IP;
	st = pkt_udp_from_ip(frame + off, len - off, out);
	out->payload_off += off;
	return st;
}

const char *pkt_udp_status_name(enum pkt_udp_status s)
{
	static const char *const names[] = {
		[PKT_UDP_OK] = "ok",
		[PKT_UDP_NOT_IP] = "not IPv4 or IPv6",
		[PKT_UDP_NOT_UDP] = "not UDP",
		[PKT_UDP_TRUNCATED] = "truncated",
		[PKT_UDP_FRAGMENT] = "IP fragment",
	};
	return (unsigned)s < PKT_UDP__COUNT ? names[s] : "?";
}
