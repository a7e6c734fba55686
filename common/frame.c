#include <string.h>
#include <sys/socket.h>

#include "siphon/bytes.h"
#include "siphon/frame.h"
#include "siphon/node_index.h"

static const char *const kind_names[] = {
#define X(id, name, help) [FRAME_##id] = name,
	FRAME_KINDS(X)
#undef X
};

const char *frame_kind_name(unsigned k)
{
	return k < FRAME__COUNT ? kind_names[k] : "?";
}

static const uint8_t *src_addr(const uint8_t *frame, const struct pkt_layout *l)
{
	return frame + l->l3_off + (l->family == AF_INET ? 12 : 8);
}

static const uint8_t *dst_addr(const uint8_t *frame, const struct pkt_layout *l)
{
	return frame + l->l3_off + (l->family == AF_INET ? 16 : 24);
}

static bool is_our_address(const struct compiled_tables *t, const uint8_t *frame,
			   const struct pkt_layout *l)
{
	const uint8_t *dst = dst_addr(frame, l);

	/* a constant length each: compares inline, no memcmp() call */
	if (l->family == AF_INET) {
		for (uint32_t i = 0; i < t->n_self_addrs; i++)
			if (t->self_addrs[i].family == AF_INET &&
			    memcmp(t->self_addrs[i].addr, dst, 4) == 0)
				return true;
		return false;
	}
	for (uint32_t i = 0; i < t->n_self_addrs; i++)
		if (t->self_addrs[i].family == l->family &&
		    memcmp(t->self_addrs[i].addr, dst, 16) == 0)
			return true;
	return false;
}

bool frame_port_is_ours(const struct compiled_tables *t, uint16_t port)
{
	for (uint32_t i = 0; i < t->n_ports; i++)
		if (t->ports[i] == port)
			return true;
	return false;
}

enum frame_kind frame_kind(const struct compiled_tables *t, const uint8_t *frame,
			   enum pkt_status st, const struct pkt_layout *l)
{
	/* not IP, or IP that is not UDP or TCP (ICMP: ping, "fragmentation
	 * needed"; ND) or an IPv6 routing header: the kernel's, as the XDP
	 * program passes them; with no kernel before the pipeline (--io dpdk)
	 * a ping to the VIP would be dropped */
	if (st == PKT_STATUS_NOT_IP || st == PKT_STATUS_NOT_UDP_TCP ||
	    st == PKT_STATUS_IPV6_ROUTING || l->family == 0)
		return FRAME_NOT_FOR_US;
	if (!is_our_address(t, frame, l)) {
		/* nat's return path: from a nat node's address and SIP port */
		if (st == PKT_STATUS_OK && !l->is_fragment &&
		    node_index_has_addr(t, l->family, src_addr(frame, l),
					rd16(frame + l->l4_off), true))
			return FRAME_NAT_REPLY;
		return FRAME_NOT_FOR_US;
	}
	/* the port is in the first fragment only */
	if (st == PKT_STATUS_FRAGMENT || (st == PKT_STATUS_OK && l->is_fragment))
		return FRAME_FRAGMENT;
	if (st != PKT_STATUS_OK)
		return FRAME_BAD;
	if (!frame_port_is_ours(t, rd16(frame + l->l4_off + 2)))
		return FRAME_NOT_FOR_US;
	return FRAME_MESSAGE;
}

void frame_packet_meta(const uint8_t *frame, const struct pkt_layout *l, struct packet_meta *pm)
{
	const uint8_t *l4 = frame + l->l4_off;

	memset(pm, 0, sizeof(*pm));
	pm->family = l->family;
	if (l->family == AF_INET) { /* constant lengths: no memcpy() call */
		memcpy(pm->src, src_addr(frame, l), 4);
		memcpy(pm->dst, dst_addr(frame, l), 4);
	} else {
		memcpy(pm->src, src_addr(frame, l), 16);
		memcpy(pm->dst, dst_addr(frame, l), 16);
	}
	pm->sport = rd16(l4);
	pm->dport = rd16(l4 + 2);
	if (l->l4_proto == PKT_PROTO_TCP) {
		pm->transport = TRANSPORT_TCP;
		pm->tcp_syn = (l4[13] & 0x12) == 0x02; /* SYN without ACK: a new connection */
	} else {
		pm->transport = TRANSPORT_UDP;
	}
}
