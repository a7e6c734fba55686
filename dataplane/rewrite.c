#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "checksum.h"
#include "rewrite.h"
#include "siphon/bytes.h"

#define IPV4_HLEN 20
#define IPV6_HLEN 40
#define UDP_HLEN  8
#define TCP_HLEN  20

static size_t addr_len(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

static size_t ip_end(const struct pkt_layout *l)
{
	return (size_t)l->l3_off + l->l3_len;
}

/* A later fragment: no L4 header in this packet. */
static bool no_l4(const struct pkt_layout *l)
{
	return l->is_fragment && !l->first_fragment;
}

/* The layout fits a frame of `len` bytes well enough that every offset
 * rewrite uses lies inside the IP packet. It does not re-parse: pass a
 * layout pkt_parse() filled for these bytes. */
static bool layout_fits(const uint8_t *f, size_t len, const struct pkt_layout *l)
{
	const size_t end = ip_end(l);
	size_t min_hlen, l4_min;

	if (!f || l->l3_off < PKT_ETH_HLEN || (size_t)l->ethertype_off + 2 != l->l3_off ||
	    end > len)
		return false;
	if (l->family == AF_INET)
		min_hlen = IPV4_HLEN;
	else if (l->family == AF_INET6)
		min_hlen = IPV6_HLEN;
	else
		return false;
	if (l->l3_hlen < min_hlen || l->l3_hlen > l->l3_len ||
	    l->l4_off != (size_t)l->l3_off + l->l3_hlen)
		return false;
	if (no_l4(l))
		return true;
	if (l->l4_proto == PKT_PROTO_UDP)
		l4_min = UDP_HLEN;
	else if (l->l4_proto == PKT_PROTO_TCP)
		l4_min = TCP_HLEN;
	else
		return false;
	return l->payload_off >= (size_t)l->l4_off + l4_min &&
	       (size_t)l->payload_off + l->payload_len == end;
}

static size_t l4_check_at(const struct pkt_layout *l)
{
	return (size_t)l->l4_off + (l->l4_proto == PKT_PROTO_UDP ? 6 : 16);
}

/* Writes an L4 checksum that came from an incremental update. */
static void put_l4_check(uint8_t *f, const struct pkt_layout *l, uint16_t c)
{
	if (l->l4_proto == PKT_PROTO_UDP && c == 0)
		c = 0xFFFF; /* 0 would say "no checksum" */
	wr16(f + l4_check_at(l), c);
}

/* UDP over IPv4 may carry no checksum (0): it stays without one. Over IPv6
 * a zero is invalid; a packet we change gets a full one (see full_l4). */
static bool l4_check_absent(const uint8_t *f, const struct pkt_layout *l)
{
	return l->l4_proto == PKT_PROTO_UDP && rd16(f + l4_check_at(l)) == 0;
}

/* An IPv6 UDP datagram that came with a zero checksum, now changed: a full
 * sum (the whole datagram is here: not for fragments). The IP packet now
 * ends at `end`. */
static void full_l4(uint8_t *f, const struct pkt_layout *l, size_t end)
{
	const uint8_t *ip = f + l->l3_off;

	if (l->family != AF_INET6 || l->is_fragment || !l4_check_absent(f, l))
		return;
	wr16(f + l4_check_at(l), csum_l4(AF_INET6, ip + 8, ip + 24, l->l4_proto, f + l->l4_off,
					 end - l->l4_off));
}

/* Cuts the UDP payload to msg_len bytes; returns the new IP packet length.
 * The caller checked that this is a whole UDP datagram longer than that. */
static uint16_t truncate_udp(uint8_t *f, const struct pkt_layout *l, uint16_t msg_len)
{
	uint8_t *ip = f + l->l3_off, *udp = f + l->l4_off;
	const uint16_t cut = (uint16_t)(l->payload_len - msg_len);
	const uint16_t ulen = rd16(udp + 4), new_ulen = (uint16_t)(ulen - cut);
	const uint16_t new_l3_len = (uint16_t)(l->l3_len - cut);

	if (!l4_check_absent(f, l)) {
		const size_t from = (size_t)l->payload_off + msg_len;
		uint16_t c = rd16(udp + 6);

		c = csum_update_sum(c, csum_add_at(0, f + from, cut, from - l->l4_off), 0);
		/* the length is in the pseudo-header and in the UDP header */
		c = csum_update16(c, ulen, new_ulen);
		c = csum_update16(c, ulen, new_ulen);
		put_l4_check(f, l, c);
	}
	wr16(udp + 4, new_ulen);
	if (l->family == AF_INET) {
		wr16(ip + 10, csum_update16(rd16(ip + 10), l->l3_len, new_l3_len));
		wr16(ip + 2, new_l3_len);
	} else {
		wr16(ip + 4, (uint16_t)(new_l3_len - IPV6_HLEN));
	}
	return new_l3_len;
}

/* Sets the source (src=true) or destination address and port of the
 * packet, updating the IPv4 header and L4 checksums. The port stays in a
 * later fragment; so does the L4 checksum, which is in the first one. */
static void set_endpoint(uint8_t *f, const struct pkt_layout *l, bool src, const uint8_t *addr,
			 uint16_t port)
{
	uint8_t *ip = f + l->l3_off, *a, *p;
	const size_t alen = addr_len(l->family);
	uint8_t old[16];

	if (l->family == AF_INET)
		a = ip + (src ? 12 : 16);
	else
		a = ip + (src ? 8 : 24);
	memcpy(old, a, alen);
	memcpy(a, addr, alen);
	if (l->family == AF_INET)
		wr16(ip + 10, csum_update_bytes(rd16(ip + 10), old, addr, 4));
	if (no_l4(l))
		return;
	p = f + l->l4_off + (src ? 0 : 2);
	if (!l4_check_absent(f, l)) {
		uint16_t c = rd16(f + l4_check_at(l));
		c = csum_update_bytes(c, old, addr, alen);
		c = csum_update16(c, rd16(p), port);
		put_l4_check(f, l, c);
	}
	wr16(p, port);
}

void rewrite_macs(uint8_t *frame, const uint8_t dst[PKT_ETH_ALEN], const uint8_t src[PKT_ETH_ALEN])
{
	memcpy(frame, dst, PKT_ETH_ALEN);
	memcpy(frame + PKT_ETH_ALEN, src, PKT_ETH_ALEN);
}

uint32_t rewrite_flow_hash(const uint8_t *frame, const struct pkt_layout *l)
{
	const uint8_t *ip = frame + l->l3_off;
	const size_t alen = addr_len(l->family);
	const uint8_t *src = ip + (l->family == AF_INET ? 12 : 8);
	uint8_t key[16 + 16 + 1 + 4];
	size_t n = 0;
	uint32_t h = 2166136261u;

	memcpy(key + n, src, alen);
	n += alen;
	memcpy(key + n, src + alen, alen); /* the destination follows the source */
	n += alen;
	key[n++] = l->l4_proto;
	if (!l->is_fragment) {
		memcpy(key + n, frame + l->l4_off, 4);
		n += 4;
	}
	for (size_t i = 0; i < n; i++) {
		h ^= key[i];
		h *= 16777619u;
	}
	return h ^ (h >> 16);
}

/* The outer headers of encap, written in front of the inner packet, which
 * already sits at ip + hlen. */
static void write_outer(uint8_t *ip, size_t hlen, uint16_t inner_len, uint8_t inner_proto,
			uint8_t ds, uint32_t hash, const struct rewrite_target *t)
{
	const int family = t->node->addr.family;
	const size_t iph = family == AF_INET ? IPV4_HLEN : IPV6_HLEN;
	const uint8_t proto = t->gue_port ? PKT_PROTO_UDP : inner_proto;
	const size_t alen = addr_len(family);
	uint8_t *src, *dst;

	memset(ip, 0, hlen);
	if (family == AF_INET) {
		ip[0] = 0x45;
		ip[1] = ds;
		wr16(ip + 2, (uint16_t)(hlen + inner_len));
		ip[6] = 0x40; /* DF, id 0 */
		ip[8] = REWRITE_TTL;
		ip[9] = proto;
		src = ip + 12;
		dst = ip + 16;
	} else {
		const uint32_t flow = hash & 0xFFFFF;
		ip[0] = (uint8_t)(0x60 | ds >> 4);
		ip[1] = (uint8_t)((ds & 0x0F) << 4 | flow >> 16);
		wr16(ip + 2, (uint16_t)flow);
		wr16(ip + 4, (uint16_t)(hlen - IPV6_HLEN + inner_len));
		ip[6] = proto;
		ip[7] = REWRITE_TTL;
		src = ip + 8;
		dst = ip + 24;
	}
	memcpy(src, t->encap_src.addr, alen);
	memcpy(dst, t->node->addr.addr, alen);
	if (t->gue_port) {
		uint8_t *udp = ip + iph;
		const uint16_t ulen = (uint16_t)(hlen - iph + inner_len);
		wr16(udp, (uint16_t)(0xC000 | (hash & 0x3FFF)));
		wr16(udp + 2, t->gue_port);
		wr16(udp + 4, ulen);
		udp[UDP_HLEN + 1] = inner_proto; /* GUE: version 0, C 0, hlen 0, flags 0 */
		/* over IPv4 the outer UDP checksum stays 0 (as Katran and RFC 8086
		 * tunnels do); over IPv6 it is mandatory */
		if (family == AF_INET6)
			wr16(udp + 6, csum_l4(AF_INET6, src, dst, PKT_PROTO_UDP, udp, ulen));
	}
	if (family == AF_INET)
		wr16(ip + 10, csum_ipv4_header(ip, IPV4_HLEN));
}

/* The encap outer header length for t, or -errno. */
static int encap_hlen(const struct rewrite_target *t)
{
	const int family = t->node->addr.family;

	if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	if (t->encap_src.family != family)
		return -EAFNOSUPPORT;
	return (family == AF_INET ? IPV4_HLEN : IPV6_HLEN) +
	       (t->gue_port ? UDP_HLEN + REWRITE_GUE_HLEN : 0);
}

int rewrite_forward(uint8_t *frame, size_t *len, size_t cap, const struct pkt_layout *l,
		    uint16_t msg_len, const struct rewrite_target *t)
{
	bool cut;
	uint16_t l3_len;
	size_t hlen = 0;

	if (!len || !l || !t || !t->node || *len > cap || !layout_fits(frame, *len, l))
		return -EINVAL;
	cut = msg_len < l->payload_len && !no_l4(l);
	if (cut && (l->l4_proto != PKT_PROTO_UDP || l->is_fragment ||
		    rd16(frame + l->l4_off + 4) != ip_end(l) - l->l4_off))
		return -EINVAL;
	l3_len = cut ? (uint16_t)(l->l3_len - (l->payload_len - msg_len)) : l->l3_len;

	/* everything that can fail, before the frame changes */
	switch (t->mode) {
	case POOL_MODE_DSR:
		break;
	case POOL_MODE_NAT:
		if (t->node->addr.family != l->family)
			return -EAFNOSUPPORT;
		break;
	case POOL_MODE_ENCAP: {
		int h = encap_hlen(t);
		if (h < 0)
			return h;
		hlen = (size_t)h;
		if ((size_t)l->l3_off + hlen + l3_len > cap)
			return -ENOSPC;
		if (hlen + l3_len - (t->node->addr.family == AF_INET6 ? IPV6_HLEN : 0) > UINT16_MAX)
			return -EMSGSIZE;
		break;
	}
	default:
		return -EINVAL;
	}

	if (cut)
		truncate_udp(frame, l, msg_len);
	rewrite_macs(frame, t->node_mac, t->src_mac);
	if (t->mode == POOL_MODE_NAT)
		set_endpoint(frame, l, false, t->node->addr.addr, t->node->port);
	if (cut || t->mode == POOL_MODE_NAT)
		full_l4(frame, l, (size_t)l->l3_off + l3_len);
	if (t->mode == POOL_MODE_ENCAP) {
		uint8_t *ip = frame + l->l3_off;
		const uint32_t hash = rewrite_flow_hash(frame, l);
		const uint8_t ds = l->family == AF_INET ? ip[1] : (uint8_t)(ip[0] << 4 | ip[1] >> 4);
		const uint8_t inner = l->family == AF_INET ? PKT_PROTO_IPIP : PKT_PROTO_IPV6;

		memmove(ip + hlen, ip, l3_len);
		write_outer(ip, hlen, l3_len, inner, ds, hash, t);
		wr16(frame + l->ethertype_off, t->node->addr.family == AF_INET ? PKT_ETHERTYPE_IPV4
									     : PKT_ETHERTYPE_IPV6);
	}
	*len = (size_t)l->l3_off + hlen + l3_len;
	return 0;
}

int rewrite_reply_source(uint8_t *frame, size_t len, const struct pkt_layout *l,
			 const struct self_addr *vip, uint16_t vip_port)
{
	if (!vip || !l || !layout_fits(frame, len, l))
		return -EINVAL;
	if (vip->family != l->family)
		return -EAFNOSUPPORT;
	set_endpoint(frame, l, true, vip->addr, vip_port);
	full_l4(frame, l, ip_end(l));
	return 0;
}
