/* Rewrite, step 6 of the per-packet path (docs/design.md, docs/packets.md): turn
 * a parsed frame into the frame that goes to a core node, per pool mode
 * (dsr, nat, encap), and give replies of nat nodes the VIP as their source.
 * Checksums are updated incrementally (RFC 1624) where the packet keeps its
 * bytes. No allocation, no syscalls; every function checks the layout
 * against the frame and returns 0 or -errno, leaving the frame unchanged on
 * an error. */
#ifndef SIPHON_REWRITE_H
#define SIPHON_REWRITE_H

#include <stddef.h>
#include <stdint.h>

#include "siphon/tables.h"

#include "siphon/packet.h"

/* GUE / IPIP outer headers (docs/packets.md "encap") */
#define REWRITE_TTL        64
#define REWRITE_GUE_HLEN   4
#define REWRITE_ENCAP_MAX  (40 + 8 + REWRITE_GUE_HLEN) /* most bytes encap adds */

struct rewrite_target {
	enum pool_mode mode;
	const struct pool_node *node;
	uint8_t node_mac[PKT_ETH_ALEN]; /* next hop towards the node: the frame's new destination */
	uint8_t src_mac[PKT_ETH_ALEN];  /* the balancer's port: the frame's new source */
	struct self_addr encap_src;     /* encap: the outer source, the node's family */
	uint16_t gue_port;              /* encap: 0 for IPIP / IP6IP6, else GUE to this UDP port */
};

/* Rewrites the frame[0..*len) described by `l` (pkt_parse() said OK, or
 * FRAGMENT for a later fragment) for target t, in place; cap is the room
 * the buffer has (encap grows the frame by up to REWRITE_ENCAP_MAX bytes).
 * On success *len is the new frame length: the frame ends where the IP
 * packet ends (Ethernet padding is dropped), and `l` no longer describes it.
 *
 * msg_len: the SIP message's length; when below l->payload_len the UDP
 * payload is cut to it (Content-Length smaller than the datagram) and the
 * UDP length, IP length and checksums follow. Pass l->payload_len (or more)
 * for no cut; a cut of a TCP segment or of a fragment is -EINVAL.
 *
 *   dsr    destination MAC = node_mac, source MAC = src_mac; IP and L4 unchanged
 *   nat    the MACs as dsr; destination address and port = the node's (the
 *          port not in a later fragment); -EAFNOSUPPORT when the node's family
 *          is not the packet's
 *   encap  the MACs as dsr; an outer IPv4 (protocol 4 / 41) or IPv6 header
 *          (next header 4 / 41) of the node's family, from encap_src to the
 *          node, TTL / hop limit 64, IPv4 DF with id 0, the inner DS field
 *          copied, IPv6 flow label = flow hash; with gue_port an outer UDP
 *          header (source port from the flow hash, 49152-65535) and a GUE
 *          header (version 0, C 0, hlen 0, proto 4 / 41) in between;
 *          -EAFNOSUPPORT when encap_src's family is not the node's,
 *          -ENOSPC when cap is too small, -EMSGSIZE when the outer packet
 *          would pass 65535 bytes
 *
 * -EINVAL: a layout that does not fit the frame, no node, an unknown mode. */
int rewrite_forward(uint8_t *frame, size_t *len, size_t cap, const struct pkt_layout *l,
		    uint16_t msg_len, const struct rewrite_target *t);

/* nat's stateless return path: a packet from a pool node to a client gets
 * the VIP as its source address and vip_port as its source port (not in a
 * later fragment), checksums updated. MACs are left to the caller
 * (rewrite_macs()). -EAFNOSUPPORT when the VIP's family is not the
 * packet's, -EINVAL for a layout that does not fit the frame. */
int rewrite_reply_source(uint8_t *frame, size_t len, const struct pkt_layout *l,
			 const struct self_addr *vip, uint16_t vip_port);

/* Destination and source MAC of an Ethernet frame of at least 12 bytes. */
void rewrite_macs(uint8_t *frame, const uint8_t dst[PKT_ETH_ALEN], const uint8_t src[PKT_ETH_ALEN]);

/* The encap flow hash of a frame and the layout pkt_parse() gave for it
 * (OK or FRAGMENT): FNV-1a (32-bit) over source address, destination
 * address, protocol, source port, destination port (ports big-endian, and
 * left out for fragments, first or not, so that every fragment of a
 * datagram takes one path), then h ^ (h >> 16). */
uint32_t rewrite_flow_hash(const uint8_t *frame, const struct pkt_layout *l);

#endif
