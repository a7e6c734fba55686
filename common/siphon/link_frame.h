/* Captured records of other link types as Ethernet frames, for the code
 * that reads captures (siphon --io pcap, siphonctl explain --pcap): the
 * pipeline and pkt_parse() work on Ethernet. Pure C: no libpcap, no I/O, no
 * allocation; reads only rec[0..len), writes only out[0..cap).
 *
 * Link types (pcap-linktype(7); the value pcap_datalink() returns, or the
 * one in a pcap file header: the two agree except for raw IP):
 *
 *   LINK_DLT_EN10MB      1         Ethernet: copied as it is
 *   LINK_DLT_RAW         12, 14, 101  raw IPv4 / IPv6, by the version nibble
 *   LINK_DLT_IPV4 / IPV6 228 / 229 raw IPv4 / raw IPv6
 *   LINK_DLT_LINUX_SLL   113       Linux cooked v1 (tcpdump -i any, libpcap < 1.10),
 *                                  16-byte header
 *   LINK_DLT_LINUX_SLL2  276       Linux cooked v2 (tcpdump -i any, libpcap >= 1.10),
 *                                  20-byte header
 *
 * The frame built for a non-Ethernet record:
 *
 *   [dst 02:00:00:00:00:00][src MAC][EtherType][the rest of the record]
 *
 * - dst is always LINK_FRAME_DST (synthesised, locally administered);
 * - src is the cooked header's link-layer address when it is 6 bytes long
 *   (the sender's MAC on an Ethernet-like device), else LINK_FRAME_SRC;
 * - EtherType: the cooked header's protocol field (so a VLAN tag libpcap
 *   put back after the cooked header, protocol 0x8100, stays a VLAN tag);
 *   for raw IP 0x0800 / 0x86DD, and 0x0000 when the version nibble is
 *   neither 4 nor 6 (pkt_parse() then says not_ip).
 *
 * Frame length: len (Ethernet), len - 2 (SLL), len - 6 (SLL2), len + 14
 * (raw IP). The wire length of the frame is the record's original length
 * minus the same difference; link_frame_delta() gives it. */
#ifndef SIPHON_LINK_FRAME_H
#define SIPHON_LINK_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LINK_DLT_EN10MB     1
#define LINK_DLT_RAW        12  /* DLT_RAW on Linux and most systems */
#define LINK_DLT_RAW_OPENBSD 14 /* DLT_RAW on OpenBSD */
#define LINK_DLT_RAW_FILE   101 /* LINKTYPE_RAW as written in files */
#define LINK_DLT_LINUX_SLL  113
#define LINK_DLT_IPV4       228
#define LINK_DLT_IPV6       229
#define LINK_DLT_LINUX_SLL2 276

#define LINK_SLL_HLEN  16
#define LINK_SLL2_HLEN 20
#define LINK_ETH_HLEN  14

/* the synthesised MACs */
#define LINK_FRAME_DST { 0x02, 0x00, 0x00, 0x00, 0x00, 0x00 }
#define LINK_FRAME_SRC { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 }

enum link_frame_status {
#define LINK_FRAME_STATUS(id, name, help) LINK_FRAME_##id,
#include "siphon/link_frame_status.def"
#undef LINK_FRAME_STATUS
	LINK_FRAME__COUNT
};

/* Whether link_frame() reads this link type: check once per capture and
 * refuse the file with a clear message when it does not. */
bool link_frame_supported(uint32_t linktype);

/* Frame length minus record length for this link type: 0, -2, -6 or +14
 * (0 for an unsupported type). A record of wire length L gives a frame of
 * wire length L + link_frame_delta(linktype). */
int link_frame_delta(uint32_t linktype);

/* The record rec[0..len) of link type `linktype` as an Ethernet frame in
 * out[0..cap); *out_len is its length on LINK_FRAME_OK (untouched
 * otherwise). On any other status nothing is written to out. out may be
 * rec itself (converted in place) when cap allows the frame.
 *
 * Use (siphonctl explain --pcap, for instance):
 *
 *	uint32_t dlt = (uint32_t)pcap_datalink(p);
 *	if (!link_frame_supported(dlt)) -> refuse the capture, naming its link type
 *	static uint8_t frame[BUFSIZE];
 *	size_t flen;
 *	switch (link_frame(dlt, data, hdr->caplen, frame, sizeof(frame), &flen)) {
 *	case LINK_FRAME_OK: pkt_udp_from_eth(frame, flen, &udp) or pkt_parse(frame, flen, &l); break;
 *	default: skip the record, reported as link_frame_status_name(status)
 *	}
 */
enum link_frame_status link_frame(uint32_t linktype, const uint8_t *rec, size_t len,
				  uint8_t *out, size_t cap, size_t *out_len);

/* "ok", "unsupported", ...; "?" out of range. */
const char *link_frame_status_name(unsigned s);
const char *link_frame_status_help(unsigned s);

#endif
