/* The fast path's packet layer, step 1 of the per-packet path (docs/design.md,
 * docs/packets.md): where the L2-L4 headers of a frame are. Ethernet with
 * 0-2 VLAN tags, IPv4 with options, IPv6 with hop-by-hop / routing /
 * destination-options / fragment extension headers, UDP and TCP.
 *
 * Pure C: no allocation, no syscalls, bounded loops. pkt_parse() is total:
 * any bytes give a status, and it reads nothing outside [frame, frame+len). */
#ifndef SIPHON_PACKET_H
#define SIPHON_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PKT_ETH_ALEN      6
#define PKT_ETH_HLEN      14 /* without VLAN tags */
#define PKT_VLAN_MAX      2
#define PKT_IPV6_EXT_MAX  8 /* extension headers walked before giving up */

#define PKT_ETHERTYPE_IPV4 0x0800
#define PKT_ETHERTYPE_IPV6 0x86DD
#define PKT_ETHERTYPE_VLAN 0x8100
#define PKT_ETHERTYPE_QINQ 0x88A8

#define PKT_PROTO_IPIP  4
#define PKT_PROTO_TCP   6
#define PKT_PROTO_UDP   17
#define PKT_PROTO_IPV6  41

enum pkt_status {
#define PKT_STATUS(id, name, help) PKT_STATUS_##id,
#include "siphon/pkt_status.def"
#undef PKT_STATUS
	PKT_STATUS__COUNT
};

/* Offsets are from the start of the frame; every one that is set lies
 * inside the IP packet, which ends at l3_off + l3_len <= len. Bytes after
 * the IP packet (Ethernet padding) are not part of the layout.
 *
 * With PKT_STATUS_OK everything is set. With PKT_STATUS_FRAGMENT (a
 * fragment other than the first) the L2/L3 part and the fragment fields are
 * set, l4_proto is the protocol the fragment header / IPv4 header names, and
 * l4_off = payload_off is where the fragment's data starts. With
 * PKT_STATUS_NOT_UDP_TCP the L2/L3 part is set, l4_proto names the protocol
 * (4 / 41 for IPIP / IP6IP6, 1, 50, ...) and l4_off is where it starts.
 * Other statuses leave the layout partly filled; whatever the status, a
 * non-zero family means the fixed IPv4 / IPv6 header (with both addresses)
 * lies inside the frame, and everything else in it is to be ignored. */
struct pkt_layout {
	/* L2 */
	uint16_t ethertype_off; /* the innermost EtherType */
	uint8_t vlan_tags;      /* 0..PKT_VLAN_MAX */

	/* L3 */
	uint8_t family;       /* AF_INET or AF_INET6 */
	uint16_t l3_off;      /* IPv4 / IPv6 header */
	uint16_t l3_len;      /* the IP packet: IPv4 total length, IPv6 40 + payload length */
	uint16_t l3_hlen;     /* IPv4: IHL * 4; IPv6: 40 + the extension headers before the L4 header
			       * (before the fragment data for a non-first fragment) */
	uint16_t nexthdr_off; /* the byte that holds the L4 protocol number: IPv4 protocol,
			       * IPv6 next header of the fixed header or of the last extension header */

	/* fragments: IPv4 (id, flags/offset) or an IPv6 fragment header */
	uint16_t frag_hdr_off; /* IPv6: the fragment header, 0 when none */
	uint16_t frag_off;     /* the fragment's offset in the datagram, bytes */
	uint32_t frag_id;      /* IPv4 identification (also when not fragmented), IPv6 fragment id */
	bool is_fragment;      /* MF set or offset non-zero (an atomic IPv6 fragment is not one) */
	bool first_fragment;   /* is_fragment with offset 0: the L4 header is here */
	bool more_fragments;   /* MF / M flag */
	bool dont_fragment;    /* IPv4 DF */

	/* L4 */
	uint8_t l4_proto;     /* PKT_PROTO_UDP or PKT_PROTO_TCP */
	uint16_t l4_off;      /* UDP / TCP header */
	uint16_t l4_len;      /* UDP: the length field (the whole datagram's, also for a first
			       * fragment); TCP: header + payload in this packet */
	uint16_t payload_off; /* after the UDP header / TCP header with options */
	uint16_t payload_len; /* L4 payload bytes in this packet (a first fragment: in this fragment) */
};

enum pkt_status pkt_parse(const uint8_t *frame, size_t len, struct pkt_layout *l);

/* "ok", "truncated", ...: the counter names. Out-of-range values give "?". */
const char *pkt_status_name(unsigned s);
const char *pkt_status_help(unsigned s);

#endif
