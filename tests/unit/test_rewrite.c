/* The fast path's packet layer: pkt_parse(), the checksum helpers and the
 * three forwarding rewrites (docs/packets.md).
 *
 * The fixtures below (in_*, and the expected dsr_*, nat_*, ipip_*, gue_*,
 * reply_*) were written by an independent Python script from the RFC byte
 * layouts (RFC 791, 768, 793, 8200, 2003, 2473, draft-ietf-intarea-gue) with
 * its own checksum code, not by this code. By hand, the IPv4 header of in_v4:
 * 45b8 + 004c + 1234 + 4000 + 3f11 + c000 + 0207 + cb00 + 710a = 0x2d55a,
 * folded 0xd55c, complemented 0x2aa3 (bytes 28-29 of the frame).
 *
 * Every frame a rewrite produces is also checked from scratch: it parses
 * again, and every checksum in it (IPv4 header, UDP/TCP, outer GUE UDP, and
 * the inner packet of an encap) is recomputed twice, by this file's own byte
 * loop and by checksum.c's full functions. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "checksum.h"
#include "siphon/packet.h"
#include "rewrite.h"

/* IPv4/UDP, VLAN 100, 192.0.2.7:5062 -> 203.0.113.10:5060, DS 0xb8, payload 48 bytes (45 SIP + 3 junk) */
static const uint8_t in_v4[94] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x81, 0x00, 0x00, 0x64, 0x08, 0x00, 0x45, 0xb8, 0x00, 0x4c, 0x12, 0x34,
	0x40, 0x00, 0x3f, 0x11, 0x2a, 0xa3, 0xc0, 0x00, 0x02, 0x07, 0xcb, 0x00,
	0x71, 0x0a, 0x13, 0xc6, 0x13, 0xc4, 0x00, 0x38, 0xdd, 0x21, 0x4f, 0x50,
	0x54, 0x49, 0x4f, 0x4e, 0x53, 0x20, 0x73, 0x69, 0x70, 0x3a, 0x6c, 0x62,
	0x20, 0x53, 0x49, 0x50, 0x2f, 0x32, 0x2e, 0x30, 0x0d, 0x0a, 0x43, 0x6f,
	0x6e, 0x74, 0x65, 0x6e, 0x74, 0x2d, 0x4c, 0x65, 0x6e, 0x67, 0x74, 0x68,
	0x3a, 0x20, 0x30, 0x0d, 0x0a, 0x0d, 0x0a, 0x58, 0x59, 0x5a,
};
/* dsr: MACs */
static const uint8_t dsr_v4[94] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x0b, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a,
	0x81, 0x00, 0x00, 0x64, 0x08, 0x00, 0x45, 0xb8, 0x00, 0x4c, 0x12, 0x34,
	0x40, 0x00, 0x3f, 0x11, 0x2a, 0xa3, 0xc0, 0x00, 0x02, 0x07, 0xcb, 0x00,
	0x71, 0x0a, 0x13, 0xc6, 0x13, 0xc4, 0x00, 0x38, 0xdd, 0x21, 0x4f, 0x50,
	0x54, 0x49, 0x4f, 0x4e, 0x53, 0x20, 0x73, 0x69, 0x70, 0x3a, 0x6c, 0x62,
	0x20, 0x53, 0x49, 0x50, 0x2f, 0x32, 0x2e, 0x30, 0x0d, 0x0a, 0x43, 0x6f,
	0x6e, 0x74, 0x65, 0x6e, 0x74, 0x2d, 0x4c, 0x65, 0x6e, 0x67, 0x74, 0x68,
	0x3a, 0x20, 0x30, 0x0d, 0x0a, 0x0d, 0x0a, 0x58, 0x59, 0x5a,
};
/* nat: to 198.51.100.21:5080 */
static const uint8_t nat_v4[94] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x0b, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a,
	0x81, 0x00, 0x00, 0x64, 0x08, 0x00, 0x45, 0xb8, 0x00, 0x4c, 0x12, 0x34,
	0x40, 0x00, 0x3f, 0x11, 0x3c, 0x65, 0xc0, 0x00, 0x02, 0x07, 0xc6, 0x33,
	0x64, 0x15, 0x13, 0xc6, 0x13, 0xd8, 0x00, 0x38, 0xee, 0xcf, 0x4f, 0x50,
	0x54, 0x49, 0x4f, 0x4e, 0x53, 0x20, 0x73, 0x69, 0x70, 0x3a, 0x6c, 0x62,
	0x20, 0x53, 0x49, 0x50, 0x2f, 0x32, 0x2e, 0x30, 0x0d, 0x0a, 0x43, 0x6f,
	0x6e, 0x74, 0x65, 0x6e, 0x74, 0x2d, 0x4c, 0x65, 0x6e, 0x67, 0x74, 0x68,
	0x3a, 0x20, 0x30, 0x0d, 0x0a, 0x0d, 0x0a, 0x58, 0x59, 0x5a,
};
/* nat, msg_len 45: the 3 junk bytes cut */
static const uint8_t nat_cut_v4[91] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x0b, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a,
	0x81, 0x00, 0x00, 0x64, 0x08, 0x00, 0x45, 0xb8, 0x00, 0x49, 0x12, 0x34,
	0x40, 0x00, 0x3f, 0x11, 0x3c, 0x68, 0xc0, 0x00, 0x02, 0x07, 0xc6, 0x33,
	0x64, 0x15, 0x13, 0xc6, 0x13, 0xd8, 0x00, 0x35, 0x48, 0x88, 0x4f, 0x50,
	0x54, 0x49, 0x4f, 0x4e, 0x53, 0x20, 0x73, 0x69, 0x70, 0x3a, 0x6c, 0x62,
	0x20, 0x53, 0x49, 0x50, 0x2f, 0x32, 0x2e, 0x30, 0x0d, 0x0a, 0x43, 0x6f,
	0x6e, 0x74, 0x65, 0x6e, 0x74, 0x2d, 0x4c, 0x65, 0x6e, 0x67, 0x74, 0x68,
	0x3a, 0x20, 0x30, 0x0d, 0x0a, 0x0d, 0x0a,
};
/* encap: IPv4-in-IPv4 198.18.0.1 -> 198.51.100.21 */
static const uint8_t ipip_v4[114] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x0b, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a,
	0x81, 0x00, 0x00, 0x64, 0x08, 0x00, 0x45, 0xb8, 0x00, 0x60, 0x00, 0x00,
	0x40, 0x00, 0x40, 0x04, 0x49, 0x86, 0xc6, 0x12, 0x00, 0x01, 0xc6, 0x33,
	0x64, 0x15, 0x45, 0xb8, 0x00, 0x4c, 0x12, 0x34, 0x40, 0x00, 0x3f, 0x11,
	0x2a, 0xa3, 0xc0, 0x00, 0x02, 0x07, 0xcb, 0x00, 0x71, 0x0a, 0x13, 0xc6,
	0x13, 0xc4, 0x00, 0x38, 0xdd, 0x21, 0x4f, 0x50, 0x54, 0x49, 0x4f, 0x4e,
	0x53, 0x20, 0x73, 0x69, 0x70, 0x3a, 0x6c, 0x62, 0x20, 0x53, 0x49, 0x50,
	0x2f, 0x32, 0x2e, 0x30, 0x0d, 0x0a, 0x43, 0x6f, 0x6e, 0x74, 0x65, 0x6e,
	0x74, 0x2d, 0x4c, 0x65, 0x6e, 0x67, 0x74, 0x68, 0x3a, 0x20, 0x30, 0x0d,
	0x0a, 0x0d, 0x0a, 0x58, 0x59, 0x5a,
};
/* encap: GUE to port 6080 over IPv4, source port 0xc4b0 from the flow hash, UDP checksum 0 */
static const uint8_t gue_v4[126] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x0b, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a,
	0x81, 0x00, 0x00, 0x64, 0x08, 0x00, 0x45, 0xb8, 0x00, 0x6c, 0x00, 0x00,
	0x40, 0x00, 0x40, 0x11, 0x49, 0x6d, 0xc6, 0x12, 0x00, 0x01, 0xc6, 0x33,
	0x64, 0x15, 0xc4, 0xb0, 0x17, 0xc0, 0x00, 0x58, 0x00, 0x00, 0x00, 0x04,
	0x00, 0x00, 0x45, 0xb8, 0x00, 0x4c, 0x12, 0x34, 0x40, 0x00, 0x3f, 0x11,
	0x2a, 0xa3, 0xc0, 0x00, 0x02, 0x07, 0xcb, 0x00, 0x71, 0x0a, 0x13, 0xc6,
	0x13, 0xc4, 0x00, 0x38, 0xdd, 0x21, 0x4f, 0x50, 0x54, 0x49, 0x4f, 0x4e,
	0x53, 0x20, 0x73, 0x69, 0x70, 0x3a, 0x6c, 0x62, 0x20, 0x53, 0x49, 0x50,
	0x2f, 0x32, 0x2e, 0x30, 0x0d, 0x0a, 0x43, 0x6f, 0x6e, 0x74, 0x65, 0x6e,
	0x74, 0x2d, 0x4c, 0x65, 0x6e, 0x67, 0x74, 0x68, 0x3a, 0x20, 0x30, 0x0d,
	0x0a, 0x0d, 0x0a, 0x58, 0x59, 0x5a,
};
/* IPv6/HBH/UDP, [2001:db8:1::7]:5062 -> [2001:db8:2::10]:5060, TC 0xb8, flow 0x12345 */
static const uint8_t in_v6[118] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x86, 0xdd, 0x6b, 0x81, 0x23, 0x45, 0x00, 0x40, 0x00, 0x3f, 0x20, 0x01,
	0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x07, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x11, 0x00, 0x01, 0x04, 0x00, 0x00,
	0x00, 0x00, 0x13, 0xc6, 0x13, 0xc4, 0x00, 0x38, 0x7f, 0xa8, 0x4f, 0x50,
	0x54, 0x49, 0x4f, 0x4e, 0x53, 0x20, 0x73, 0x69, 0x70, 0x3a, 0x6c, 0x62,
	0x20, 0x53, 0x49, 0x50, 0x2f, 0x32, 0x2e, 0x30, 0x0d, 0x0a, 0x43, 0x6f,
	0x6e, 0x74, 0x65, 0x6e, 0x74, 0x2d, 0x4c, 0x65, 0x6e, 0x67, 0x74, 0x68,
	0x3a, 0x20, 0x30, 0x0d, 0x0a, 0x0d, 0x0a, 0x58, 0x59, 0x5a,
};
/* dsr: MACs */
static const uint8_t dsr_v6[118] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x0b, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a,
	0x86, 0xdd, 0x6b, 0x81, 0x23, 0x45, 0x00, 0x40, 0x00, 0x3f, 0x20, 0x01,
	0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x07, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x11, 0x00, 0x01, 0x04, 0x00, 0x00,
	0x00, 0x00, 0x13, 0xc6, 0x13, 0xc4, 0x00, 0x38, 0x7f, 0xa8, 0x4f, 0x50,
	0x54, 0x49, 0x4f, 0x4e, 0x53, 0x20, 0x73, 0x69, 0x70, 0x3a, 0x6c, 0x62,
	0x20, 0x53, 0x49, 0x50, 0x2f, 0x32, 0x2e, 0x30, 0x0d, 0x0a, 0x43, 0x6f,
	0x6e, 0x74, 0x65, 0x6e, 0x74, 0x2d, 0x4c, 0x65, 0x6e, 0x67, 0x74, 0x68,
	0x3a, 0x20, 0x30, 0x0d, 0x0a, 0x0d, 0x0a, 0x58, 0x59, 0x5a,
};
/* nat: to [2001:db8:3::21]:5080 */
static const uint8_t nat_v6[118] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x0b, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a,
	0x86, 0xdd, 0x6b, 0x81, 0x23, 0x45, 0x00, 0x40, 0x00, 0x3f, 0x20, 0x01,
	0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x07, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x21, 0x11, 0x00, 0x01, 0x04, 0x00, 0x00,
	0x00, 0x00, 0x13, 0xc6, 0x13, 0xd8, 0x00, 0x38, 0x7f, 0x82, 0x4f, 0x50,
	0x54, 0x49, 0x4f, 0x4e, 0x53, 0x20, 0x73, 0x69, 0x70, 0x3a, 0x6c, 0x62,
	0x20, 0x53, 0x49, 0x50, 0x2f, 0x32, 0x2e, 0x30, 0x0d, 0x0a, 0x43, 0x6f,
	0x6e, 0x74, 0x65, 0x6e, 0x74, 0x2d, 0x4c, 0x65, 0x6e, 0x67, 0x74, 0x68,
	0x3a, 0x20, 0x30, 0x0d, 0x0a, 0x0d, 0x0a, 0x58, 0x59, 0x5a,
};
/* nat, msg_len 45 */
static const uint8_t nat_cut_v6[115] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x0b, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a,
	0x86, 0xdd, 0x6b, 0x81, 0x23, 0x45, 0x00, 0x3d, 0x00, 0x3f, 0x20, 0x01,
	0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x07, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x21, 0x11, 0x00, 0x01, 0x04, 0x00, 0x00,
	0x00, 0x00, 0x13, 0xc6, 0x13, 0xd8, 0x00, 0x35, 0xd9, 0x3a, 0x4f, 0x50,
	0x54, 0x49, 0x4f, 0x4e, 0x53, 0x20, 0x73, 0x69, 0x70, 0x3a, 0x6c, 0x62,
	0x20, 0x53, 0x49, 0x50, 0x2f, 0x32, 0x2e, 0x30, 0x0d, 0x0a, 0x43, 0x6f,
	0x6e, 0x74, 0x65, 0x6e, 0x74, 0x2d, 0x4c, 0x65, 0x6e, 0x67, 0x74, 0x68,
	0x3a, 0x20, 0x30, 0x0d, 0x0a, 0x0d, 0x0a,
};
/* encap: IPv6-in-IPv6 2001:db8:4::1 -> 2001:db8:3::21, flow label 0x3e071 */
static const uint8_t ip6ip6_v6[158] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x0b, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a,
	0x86, 0xdd, 0x6b, 0x83, 0xe0, 0x71, 0x00, 0x68, 0x29, 0x40, 0x20, 0x01,
	0x0d, 0xb8, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x01, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x21, 0x6b, 0x81, 0x23, 0x45, 0x00, 0x40,
	0x00, 0x3f, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x11, 0x00,
	0x01, 0x04, 0x00, 0x00, 0x00, 0x00, 0x13, 0xc6, 0x13, 0xc4, 0x00, 0x38,
	0x7f, 0xa8, 0x4f, 0x50, 0x54, 0x49, 0x4f, 0x4e, 0x53, 0x20, 0x73, 0x69,
	0x70, 0x3a, 0x6c, 0x62, 0x20, 0x53, 0x49, 0x50, 0x2f, 0x32, 0x2e, 0x30,
	0x0d, 0x0a, 0x43, 0x6f, 0x6e, 0x74, 0x65, 0x6e, 0x74, 0x2d, 0x4c, 0x65,
	0x6e, 0x67, 0x74, 0x68, 0x3a, 0x20, 0x30, 0x0d, 0x0a, 0x0d, 0x0a, 0x58,
	0x59, 0x5a,
};
/* encap: GUE over IPv6, source port 0xe071, UDP checksum mandatory */
static const uint8_t gue_v6[170] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x0b, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a,
	0x86, 0xdd, 0x6b, 0x83, 0xe0, 0x71, 0x00, 0x74, 0x11, 0x40, 0x20, 0x01,
	0x0d, 0xb8, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x01, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x21, 0xe0, 0x71, 0x17, 0xc0, 0x00, 0x74,
	0x0a, 0x10, 0x00, 0x29, 0x00, 0x00, 0x6b, 0x81, 0x23, 0x45, 0x00, 0x40,
	0x00, 0x3f, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x11, 0x00,
	0x01, 0x04, 0x00, 0x00, 0x00, 0x00, 0x13, 0xc6, 0x13, 0xc4, 0x00, 0x38,
	0x7f, 0xa8, 0x4f, 0x50, 0x54, 0x49, 0x4f, 0x4e, 0x53, 0x20, 0x73, 0x69,
	0x70, 0x3a, 0x6c, 0x62, 0x20, 0x53, 0x49, 0x50, 0x2f, 0x32, 0x2e, 0x30,
	0x0d, 0x0a, 0x43, 0x6f, 0x6e, 0x74, 0x65, 0x6e, 0x74, 0x2d, 0x4c, 0x65,
	0x6e, 0x67, 0x74, 0x68, 0x3a, 0x20, 0x30, 0x0d, 0x0a, 0x0d, 0x0a, 0x58,
	0x59, 0x5a,
};
/* IPv4 with options/TCP, QinQ 10/20 */
static const uint8_t in_tcp4[111] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x88, 0xa8, 0x00, 0x0a, 0x81, 0x00, 0x00, 0x14, 0x08, 0x00, 0x46, 0x00,
	0x00, 0x59, 0x12, 0x34, 0x40, 0x00, 0x3f, 0x06, 0x28, 0x58, 0xc0, 0x00,
	0x02, 0x07, 0xcb, 0x00, 0x71, 0x0a, 0x01, 0x01, 0x01, 0x00, 0x13, 0xc6,
	0x13, 0xc4, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x07, 0xd0, 0x50, 0x18,
	0xff, 0xff, 0xdb, 0x3d, 0x00, 0x00, 0x4f, 0x50, 0x54, 0x49, 0x4f, 0x4e,
	0x53, 0x20, 0x73, 0x69, 0x70, 0x3a, 0x6c, 0x62, 0x20, 0x53, 0x49, 0x50,
	0x2f, 0x32, 0x2e, 0x30, 0x0d, 0x0a, 0x43, 0x6f, 0x6e, 0x74, 0x65, 0x6e,
	0x74, 0x2d, 0x4c, 0x65, 0x6e, 0x67, 0x74, 0x68, 0x3a, 0x20, 0x30, 0x0d,
	0x0a, 0x0d, 0x0a,
};
/* nat: to 198.51.100.21:5080 */
static const uint8_t nat_tcp4[111] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x0b, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a,
	0x88, 0xa8, 0x00, 0x0a, 0x81, 0x00, 0x00, 0x14, 0x08, 0x00, 0x46, 0x00,
	0x00, 0x59, 0x12, 0x34, 0x40, 0x00, 0x3f, 0x06, 0x3a, 0x1a, 0xc0, 0x00,
	0x02, 0x07, 0xc6, 0x33, 0x64, 0x15, 0x01, 0x01, 0x01, 0x00, 0x13, 0xc6,
	0x13, 0xd8, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x07, 0xd0, 0x50, 0x18,
	0xff, 0xff, 0xec, 0xeb, 0x00, 0x00, 0x4f, 0x50, 0x54, 0x49, 0x4f, 0x4e,
	0x53, 0x20, 0x73, 0x69, 0x70, 0x3a, 0x6c, 0x62, 0x20, 0x53, 0x49, 0x50,
	0x2f, 0x32, 0x2e, 0x30, 0x0d, 0x0a, 0x43, 0x6f, 0x6e, 0x74, 0x65, 0x6e,
	0x74, 0x2d, 0x4c, 0x65, 0x6e, 0x67, 0x74, 0x68, 0x3a, 0x20, 0x30, 0x0d,
	0x0a, 0x0d, 0x0a,
};
/* a nat node's reply: 198.51.100.21:5080 -> 192.0.2.7:5062 */
static const uint8_t reply_in_v4[87] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0b,
	0x08, 0x00, 0x45, 0x00, 0x00, 0x49, 0x12, 0x34, 0x40, 0x00, 0x3f, 0x11,
	0x3d, 0x20, 0xc6, 0x33, 0x64, 0x15, 0xc0, 0x00, 0x02, 0x07, 0x13, 0xd8,
	0x13, 0xc6, 0x00, 0x35, 0x48, 0x88, 0x4f, 0x50, 0x54, 0x49, 0x4f, 0x4e,
	0x53, 0x20, 0x73, 0x69, 0x70, 0x3a, 0x6c, 0x62, 0x20, 0x53, 0x49, 0x50,
	0x2f, 0x32, 0x2e, 0x30, 0x0d, 0x0a, 0x43, 0x6f, 0x6e, 0x74, 0x65, 0x6e,
	0x74, 0x2d, 0x4c, 0x65, 0x6e, 0x67, 0x74, 0x68, 0x3a, 0x20, 0x30, 0x0d,
	0x0a, 0x0d, 0x0a,
};
/* from the VIP 203.0.113.10:5060 */
static const uint8_t reply_out_v4[87] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0b,
	0x08, 0x00, 0x45, 0x00, 0x00, 0x49, 0x12, 0x34, 0x40, 0x00, 0x3f, 0x11,
	0x2b, 0x5e, 0xcb, 0x00, 0x71, 0x0a, 0xc0, 0x00, 0x02, 0x07, 0x13, 0xc4,
	0x13, 0xc6, 0x00, 0x35, 0x36, 0xda, 0x4f, 0x50, 0x54, 0x49, 0x4f, 0x4e,
	0x53, 0x20, 0x73, 0x69, 0x70, 0x3a, 0x6c, 0x62, 0x20, 0x53, 0x49, 0x50,
	0x2f, 0x32, 0x2e, 0x30, 0x0d, 0x0a, 0x43, 0x6f, 0x6e, 0x74, 0x65, 0x6e,
	0x74, 0x2d, 0x4c, 0x65, 0x6e, 0x67, 0x74, 0x68, 0x3a, 0x20, 0x30, 0x0d,
	0x0a, 0x0d, 0x0a,
};
/* a nat node's reply over IPv6 */
static const uint8_t reply_in_v6[107] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0b,
	0x86, 0xdd, 0x60, 0x00, 0x00, 0x00, 0x00, 0x35, 0x11, 0x3f, 0x20, 0x01,
	0x0d, 0xb8, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x21, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x13, 0xd8, 0x13, 0xc6, 0x00, 0x35,
	0xd9, 0x3a, 0x4f, 0x50, 0x54, 0x49, 0x4f, 0x4e, 0x53, 0x20, 0x73, 0x69,
	0x70, 0x3a, 0x6c, 0x62, 0x20, 0x53, 0x49, 0x50, 0x2f, 0x32, 0x2e, 0x30,
	0x0d, 0x0a, 0x43, 0x6f, 0x6e, 0x74, 0x65, 0x6e, 0x74, 0x2d, 0x4c, 0x65,
	0x6e, 0x67, 0x74, 0x68, 0x3a, 0x20, 0x30, 0x0d, 0x0a, 0x0d, 0x0a,
};
/* from the VIP [2001:db8:2::10]:5060 */
static const uint8_t reply_out_v6[107] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0b,
	0x86, 0xdd, 0x60, 0x00, 0x00, 0x00, 0x00, 0x35, 0x11, 0x3f, 0x20, 0x01,
	0x0d, 0xb8, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x10, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x13, 0xc4, 0x13, 0xc6, 0x00, 0x35,
	0xd9, 0x60, 0x4f, 0x50, 0x54, 0x49, 0x4f, 0x4e, 0x53, 0x20, 0x73, 0x69,
	0x70, 0x3a, 0x6c, 0x62, 0x20, 0x53, 0x49, 0x50, 0x2f, 0x32, 0x2e, 0x30,
	0x0d, 0x0a, 0x43, 0x6f, 0x6e, 0x74, 0x65, 0x6e, 0x74, 0x2d, 0x4c, 0x65,
	0x6e, 0x67, 0x74, 0x68, 0x3a, 0x20, 0x30, 0x0d, 0x0a, 0x0d, 0x0a,
};

#define CAP         2048
#define GUE_PORT    6080
#define CLIENT_PORT 5062
#define VIP_PORT    5060
#define NODE_PORT   5080

static const uint8_t MAC_LB[6] = { 2, 0, 0, 0, 0, 0x02 }, MAC_CLIENT[6] = { 2, 0, 0, 0, 0, 0x01 };
static const uint8_t MAC_NODE[6] = { 2, 0, 0, 0, 0, 0x0b }, MAC_SRC[6] = { 2, 0, 0, 0, 0, 0x0a };

/* client, VIP, node, encap source */
static const uint8_t C4[4] = { 192, 0, 2, 7 }, V4[4] = { 203, 0, 113, 10 };
static const uint8_t N4[4] = { 198, 51, 100, 21 }, E4[4] = { 198, 18, 0, 1 };
#define A6(net, host) { 0x20, 0x01, 0x0d, 0xb8, 0, net, 0, 0, 0, 0, 0, 0, 0, 0, 0, host }
static const uint8_t C6[16] = A6(1, 0x07), V6[16] = A6(2, 0x10);
static const uint8_t N6[16] = A6(3, 0x21), E6[16] = A6(4, 0x01);

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* ---- the test's own checksum: byte by byte, even positions high */

static uint64_t ref_add(uint64_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		s += i % 2 ? p[i] : (uint64_t)p[i] << 8;
	return s;
}

static uint16_t ref_fold(uint64_t s)
{
	while (s >> 16)
		s = (s & 0xFFFF) + (s >> 16);
	return (uint16_t)s;
}

/* ip: the IPv4 / IPv6 header (source and destination are adjacent in both) */
static uint64_t ref_pseudo(int family, const uint8_t *ip, uint8_t proto, size_t len)
{
	return family == AF_INET ? ref_add(0, ip + 12, 8) + proto + len
				 : ref_add(0, ip + 8, 32) + proto + len;
}

static bool ref_l4_ok(int family, const uint8_t *ip, uint8_t proto, const uint8_t *seg, size_t len)
{
	return ref_fold(ref_add(ref_pseudo(family, ip, proto, len), seg, len)) == 0xFFFF;
}

/* the value for the checksum field at seg + at */
static uint16_t ref_l4(int family, const uint8_t *ip, uint8_t proto, uint8_t *seg, size_t len,
		       size_t at)
{
	uint16_t c;

	wr16(seg + at, 0);
	c = (uint16_t)~ref_fold(ref_add(ref_pseudo(family, ip, proto, len), seg, len));
	return proto == 17 && c == 0 ? 0xFFFF : c;
}

static void ref_ipv4_header(uint8_t *ip, size_t ihl)
{
	wr16(ip + 10, 0);
	wr16(ip + 10, (uint16_t)~ref_fold(ref_add(0, ip, ihl)));
}

/* ---- building frames */

enum { EXT_HBH = 1, EXT_DST = 2, EXT_RT = 4, EXT_FRAG = 8 };

struct spec {
	int family;
	int vlans;       /* 0..2 */
	size_t opts;     /* IPv4 option bytes, a multiple of 4 */
	unsigned ext;    /* IPv6 extension headers, in this order: EXT_HBH, _DST, _RT, _FRAG (atomic) */
	uint8_t proto;   /* 17 or 6 */
	bool no_csum;    /* UDP with a zero checksum field */
	bool reply;      /* node -> client instead of client -> VIP */
	size_t payload;  /* L4 payload bytes */
	size_t pad;      /* Ethernet padding after the IP packet */
	uint8_t ds;      /* IPv4 TOS / IPv6 traffic class */
};

static uint8_t payload_byte(size_t i)
{
	return (uint8_t)(i * 31 + 7);
}

static size_t ext_len(unsigned e)
{
	return e == EXT_HBH ? 8 : e == EXT_DST ? 16 : e == EXT_RT ? 24 : 8;
}

/* The next header after extension header `e` (or after the fixed header, e = 0). */
static uint8_t next_after(const struct spec *s, unsigned e)
{
	static const uint8_t num[] = { [EXT_HBH] = 0, [EXT_DST] = 60, [EXT_RT] = 43, [EXT_FRAG] = 44 };

	for (unsigned n = e ? e << 1 : 1; n <= EXT_FRAG; n <<= 1)
		if (s->ext & n)
			return num[n];
	return s->proto;
}

static size_t build(uint8_t *b, const struct spec *s)
{
	const bool v4 = s->family == AF_INET;
	const uint8_t *src = s->reply ? (v4 ? N4 : N6) : (v4 ? C4 : C6);
	const uint8_t *dst = s->reply ? (v4 ? C4 : C6) : (v4 ? V4 : V6);
	const size_t hl = s->proto == 17 ? 8 : 24;
	const size_t seg_len = hl + s->payload;
	size_t off = 12, l3, l4, ext = 0, end;
	uint8_t *ip, *seg;

	memset(b, 0, CAP);
	memcpy(b, MAC_LB, 6);
	memcpy(b + 6, MAC_CLIENT, 6);
	for (int i = 0; i < s->vlans; i++, off += 4) {
		wr16(b + off, i == 0 && s->vlans == 2 ? 0x88A8 : 0x8100);
		wr16(b + off + 2, (uint16_t)(100 + i));
	}
	wr16(b + off, v4 ? 0x0800 : 0x86DD);
	l3 = off + 2;
	ip = b + l3;
	if (v4) {
		const size_t ihl = 20 + s->opts;
		ip[0] = (uint8_t)(0x40 | ihl / 4);
		ip[1] = s->ds;
		wr16(ip + 2, (uint16_t)(ihl + seg_len));
		wr16(ip + 4, 0x4242);
		wr16(ip + 6, 0x4000);
		ip[8] = 64;
		ip[9] = s->proto;
		memcpy(ip + 12, src, 4);
		memcpy(ip + 16, dst, 4);
		memset(ip + 20, 1, s->opts); /* NOPs ... */
		if (s->opts)
			ip[ihl - 1] = 0; /* ... and an end of options */
		l4 = l3 + ihl;
	} else {
		uint8_t *h = ip + 40;
		for (unsigned e = EXT_HBH; e <= EXT_FRAG; e <<= 1) {
			if (!(s->ext & e))
				continue;
			h[0] = next_after(s, e);
			if (e == EXT_HBH) {
				h[2] = 1, h[3] = 4; /* PadN */
			} else if (e == EXT_DST) {
				h[1] = 1, h[2] = 1, h[3] = 12;
			} else if (e == EXT_RT) {
				h[1] = 2, h[2] = 4; /* segment routing, segments left 0 */
				memcpy(h + 8, dst, 16);
			} else {
				memcpy(h + 4, "\x01\x02\x03\x04", 4); /* atomic fragment */
			}
			h += ext_len(e);
			ext += ext_len(e);
		}
		ip[0] = (uint8_t)(0x60 | s->ds >> 4);
		ip[1] = (uint8_t)(s->ds << 4 | 0x0A);
		wr16(ip + 2, 0xBCDE);
		wr16(ip + 4, (uint16_t)(ext + seg_len));
		ip[6] = next_after(s, 0);
		ip[7] = 64;
		memcpy(ip + 8, src, 16);
		memcpy(ip + 24, dst, 16);
		l4 = l3 + 40 + ext;
	}
	seg = b + l4;
	wr16(seg, s->reply ? NODE_PORT : CLIENT_PORT);
	wr16(seg + 2, s->reply ? CLIENT_PORT : VIP_PORT);
	if (s->proto == 17) {
		wr16(seg + 4, (uint16_t)seg_len);
	} else {
		memcpy(seg + 4, "\x00\x00\x03\xe8\x00\x00\x07\xd0", 8); /* seq, ack */
		seg[12] = 6 << 4;
		seg[13] = 0x18;
		wr16(seg + 14, 65535);
		memset(seg + 20, 1, 4); /* NOP options */
	}
	for (size_t i = 0; i < s->payload; i++)
		seg[hl + i] = payload_byte(i);
	if (!(s->proto == 17 && s->no_csum))
		wr16(seg + (s->proto == 17 ? 6 : 16),
		     ref_l4(s->family, ip, s->proto, seg, seg_len, s->proto == 17 ? 6 : 16));
	if (v4)
		ref_ipv4_header(ip, 20 + s->opts);
	end = l4 + seg_len;
	return end + s->pad;
}

/* ---- checking frames */

/* The packet an encap frame carries (IPIP, IP6IP6 or GUE), as a frame of
 * its own behind the outer Ethernet addresses; 0 when f is no encap frame. */
static size_t decap(const uint8_t *f, size_t len, uint8_t *buf)
{
	struct pkt_layout l;
	enum pkt_status st = pkt_parse(f, len, &l);
	uint8_t proto;
	size_t off, n;

	if (st == PKT_STATUS_NOT_UDP_TCP && (l.l4_proto == 4 || l.l4_proto == 41)) {
		off = l.l4_off;
		proto = l.l4_proto;
	} else if (st == PKT_STATUS_OK && l.l4_proto == 17 && rd16(f + l.l4_off + 2) == GUE_PORT) {
		const uint8_t *gue = f + l.payload_off;
		assert_true(l.payload_len >= 4);
		assert_int_equal(gue[0], 0); /* version 0, C 0, hlen 0 */
		assert_int_equal(rd16(gue + 2), 0);
		proto = gue[1];
		off = l.payload_off + 4u;
		assert_int_equal(rd16(f + l.l4_off) & 0xC000, 0xC000);
	} else {
		return 0;
	}
	n = (size_t)l.l3_off + l.l3_len - off;
	assert_true(n >= 1);
	assert_int_equal(f[off] >> 4, proto == 4 ? 4 : 6);
	memcpy(buf, f, 12);
	wr16(buf + 12, proto == 4 ? 0x0800 : 0x86DD);
	memcpy(buf + 14, f + off, n);
	return 14 + n;
}

/* Parses a rewritten frame and checks every checksum in it from scratch,
 * with this file's byte loop and with checksum.c; descends into an encap. */
static void verify_frame(const uint8_t *f, size_t len)
{
	uint8_t inner[CAP];
	struct pkt_layout l;
	enum pkt_status st = pkt_parse(f, len, &l);
	const uint8_t *ip = f + l.l3_off;
	size_t n;

	assert_true(st == PKT_STATUS_OK || st == PKT_STATUS_NOT_UDP_TCP || st == PKT_STATUS_FRAGMENT);
	assert_int_equal((size_t)l.l3_off + l.l3_len, len); /* no padding after a rewrite */
	if (l.family == AF_INET) {
		assert_true(csum_ipv4_header_ok(ip, l.l3_hlen));
		assert_int_equal(ref_fold(ref_add(0, ip, l.l3_hlen)), 0xFFFF);
	}
	if (st == PKT_STATUS_OK && !l.is_fragment) {
		const uint8_t *seg = f + l.l4_off;
		const size_t seg_len = len - l.l4_off;
		const bool none = l.l4_proto == 17 && rd16(seg + 6) == 0;
		const uint8_t *src = ip + (l.family == AF_INET ? 12 : 8);
		const uint8_t *dst = src + (l.family == AF_INET ? 4 : 16);

		assert_true(csum_l4_ok(l.family, src, dst, l.l4_proto, seg, seg_len));
		if (!(none && l.family == AF_INET))
			assert_true(ref_l4_ok(l.family, ip, l.l4_proto, seg, seg_len));
	}
	n = decap(f, len, inner);
	if (n)
		verify_frame(inner, n);
	else
		assert_true(st != PKT_STATUS_NOT_UDP_TCP);
}

static struct rewrite_target target(enum pool_mode mode, int node_family, uint16_t gue_port)
{
	static struct pool_node n4, n6;
	struct rewrite_target t;

	n4.addr.family = AF_INET;
	memcpy(n4.addr.addr, N4, 4);
	n4.port = NODE_PORT;
	n6.addr.family = AF_INET6;
	memcpy(n6.addr.addr, N6, 16);
	n6.port = NODE_PORT;
	memset(&t, 0, sizeof(t));
	t.mode = mode;
	t.node = node_family == AF_INET ? &n4 : &n6;
	memcpy(t.node_mac, MAC_NODE, 6);
	memcpy(t.src_mac, MAC_SRC, 6);
	t.encap_src.family = node_family;
	memcpy(t.encap_src.addr, node_family == AF_INET ? E4 : E6, node_family == AF_INET ? 4 : 16);
	t.gue_port = gue_port;
	return t;
}

/* Parses `in` into buf (CAP bytes of room), rewrites, checks from scratch;
 * returns the new length. */
/* rewrite_forward() on what pkt_parse() says `status` to (OK; the tests of
 * a zero IPv6 UDP checksum give the rewrite the complete layout the parser
 * fills before it says udp6_zero_checksum) */
static size_t rewrite_status(uint8_t *buf, const uint8_t *in, size_t in_len, uint16_t msg_len,
			     const struct rewrite_target *t, enum pkt_status status)
{
	struct pkt_layout l;
	size_t len = in_len;

	memset(buf, 0xEE, CAP);
	memcpy(buf, in, in_len);
	assert_int_equal(pkt_parse(buf, len, &l), status);
	assert_int_equal(rewrite_forward(buf, &len, CAP, &l, msg_len, t), 0);
	verify_frame(buf, len);
	return len;
}

static size_t rewrite_ok(uint8_t *buf, const uint8_t *in, size_t in_len, uint16_t msg_len,
			 const struct rewrite_target *t)
{
	struct pkt_layout l;
	size_t len = in_len;

	memset(buf, 0xEE, CAP);
	memcpy(buf, in, in_len);
	assert_int_equal(pkt_parse(buf, len, &l), PKT_STATUS_OK);
	assert_int_equal(rewrite_forward(buf, &len, CAP, &l, msg_len, t), 0);
	verify_frame(buf, len);
	return len;
}

static void expect_rewrite(const uint8_t *in, size_t in_len, uint16_t msg_len,
			   const struct rewrite_target *t, const uint8_t *want, size_t want_len)
{
	uint8_t buf[CAP];
	size_t len = rewrite_ok(buf, in, in_len, msg_len, t);

	assert_int_equal(len, want_len);
	assert_memory_equal(buf, want, want_len);
}

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* ---- checksums */

static void checksum_rfc_examples(void **state)
{
	static const uint8_t rfc1071[8] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	uint8_t buf[64], old[16];

	(void)state;
	/* RFC 1071 §3: the sum of these bytes is 0xddf2 */
	assert_int_equal(csum_fold(csum_add(0, rfc1071, 8)), 0xddf2);
	for (size_t k = 0; k <= 8; k++) /* split anywhere, odd starts included */
		assert_int_equal(csum_fold(csum_add_at(csum_add(0, rfc1071, k), rfc1071 + k, 8 - k, k)),
				 0xddf2);
	assert_int_equal(csum_fold(csum_add(0, rfc1071, 7)), ref_fold(ref_add(0, rfc1071, 7)));
	/* RFC 1624 §4: HC 0xdd2f, m 0x5555 -> m' 0x3285 gives 0x0000 by eqn. 3 */
	assert_int_equal(csum_update16(0xdd2f, 0x5555, 0x3285), 0x0000);

	/* incremental updates keep random data valid */
	for (int round = 0; round < 2000; round++) {
		size_t at = (rng() % 24) * 2, n = rng() % 2 ? 4 : 16;
		uint16_t c;
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = (uint8_t)rng();
		wr16(buf + 62, 0);
		wr16(buf + 62, (uint16_t)~ref_fold(ref_add(0, buf, 64)));
		memcpy(old, buf + at, n);
		for (size_t i = 0; i < n; i++)
			buf[at + i] = (uint8_t)rng();
		c = csum_update_bytes(rd16(buf + 62), old, buf + at, n);
		memcpy(old, buf + at + 2, 2);
		wr16(buf + at + 2, (uint16_t)rng());
		c = csum_update16(c, rd16(old), rd16(buf + at + 2));
		wr16(buf + 62, c);
		assert_int_equal(ref_fold(ref_add(0, buf, 64)), 0xFFFF);
	}
}

static void checksum_zero_is_sent_as_ffff(void **state)
{
	uint8_t in[CAP], out[CAP];
	const struct spec s = { .family = AF_INET, .proto = 17, .payload = 2 };
	const struct rewrite_target t = target(POOL_MODE_NAT, AF_INET, 0);
	size_t len = build(in, &s), l4 = 14 + 20;
	uint8_t *ip = in + 14, *seg = in + l4;

	(void)state;
	/* choose the payload word so that the datagram, once at the node,
	 * sums to 0xffff: its checksum computes as 0 and must go as 0xffff */
	memcpy(ip + 16, N4, 4);
	wr16(seg + 2, NODE_PORT);
	wr16(seg + 8, 0);
	wr16(seg + 6, 0);
	wr16(seg + 8, (uint16_t)~ref_fold(ref_add(ref_pseudo(AF_INET, ip, 17, 10), seg, 10)));
	assert_int_equal(csum_l4(AF_INET, ip + 12, ip + 16, 17, seg, 10), 0xFFFF);
	/* back to the VIP, with a valid checksum; nat's incremental update
	 * then lands on 0 and must write 0xffff */
	memcpy(ip + 16, V4, 4);
	wr16(seg + 2, VIP_PORT);
	wr16(seg + 6, ref_l4(AF_INET, ip, 17, seg, 10, 6));
	ref_ipv4_header(ip, 20);
	len = rewrite_ok(out, in, len, 2, &t);
	assert_int_equal(rd16(out + l4 + 6), 0xFFFF);
}

/* ---- parsing */

static void parse_fixture_layouts(void **state)
{
	struct pkt_layout l;

	(void)state;
	assert_int_equal(pkt_parse(in_v4, sizeof(in_v4), &l), PKT_STATUS_OK);
	assert_int_equal(l.vlan_tags, 1);
	assert_int_equal(l.ethertype_off, 16);
	assert_int_equal(l.family, AF_INET);
	assert_int_equal(l.l3_off, 18);
	assert_int_equal(l.l3_len, 76);
	assert_int_equal(l.l3_hlen, 20);
	assert_int_equal(l.nexthdr_off, 27);
	assert_int_equal(l.frag_id, 0x1234);
	assert_true(l.dont_fragment && !l.is_fragment && !l.first_fragment && !l.more_fragments);
	assert_int_equal(l.l4_proto, 17);
	assert_int_equal(l.l4_off, 38);
	assert_int_equal(l.l4_len, 56);
	assert_int_equal(l.payload_off, 46);
	assert_int_equal(l.payload_len, 48);

	assert_int_equal(pkt_parse(in_v6, sizeof(in_v6), &l), PKT_STATUS_OK);
	assert_int_equal(l.vlan_tags, 0);
	assert_int_equal(l.family, AF_INET6);
	assert_int_equal(l.l3_off, 14);
	assert_int_equal(l.l3_len, 104);
	assert_int_equal(l.l3_hlen, 48);
	assert_int_equal(l.nexthdr_off, 54); /* the hop-by-hop header's next header */
	assert_int_equal(l.frag_hdr_off, 0);
	assert_int_equal(l.l4_off, 62);
	assert_int_equal(l.payload_off, 70);
	assert_int_equal(l.payload_len, 48);

	assert_int_equal(pkt_parse(in_tcp4, sizeof(in_tcp4), &l), PKT_STATUS_OK);
	assert_int_equal(l.vlan_tags, 2);
	assert_int_equal(l.l3_off, 22);
	assert_int_equal(l.l3_hlen, 24);
	assert_int_equal(l.l4_proto, 6);
	assert_int_equal(l.l4_off, 46);
	assert_int_equal(l.l4_len, 65);
	assert_int_equal(l.payload_off, 66);
	assert_int_equal(l.payload_len, 45);

	assert_string_equal(pkt_status_name(PKT_STATUS_OK), "ok");
	assert_string_equal(pkt_status_name(PKT_STATUS_IPV6_EXT_TOO_DEEP), "ipv6_ext_too_deep");
	assert_string_equal(pkt_status_name(PKT_STATUS__COUNT), "?");
	for (unsigned i = 0; i < PKT_STATUS__COUNT; i++) {
		assert_non_null(pkt_status_name(i));
		assert_true(strlen(pkt_status_help(i)) > 10);
		for (unsigned j = 0; j < i; j++)
			assert_string_not_equal(pkt_status_name(i), pkt_status_name(j));
	}
}

static const size_t v4_opts[] = { 0, 4, 12, 40 };
static const unsigned v6_exts[] = { 0, EXT_HBH, EXT_DST | EXT_FRAG,
				    EXT_HBH | EXT_DST | EXT_RT | EXT_FRAG };

static void parse_built_frames(void **state)
{
	uint8_t b[CAP];
	struct pkt_layout l;

	(void)state;
	for (int fam = 0; fam < 2; fam++)
		for (int vlans = 0; vlans <= 2; vlans++)
			for (int v = 0; v < 4; v++)
				for (int p = 0; p < 2; p++) {
					struct spec s = { .family = fam ? AF_INET6 : AF_INET, .vlans = vlans,
							  .opts = fam ? 0 : v4_opts[v], .ext = fam ? v6_exts[v] : 0,
							  .proto = p ? 6 : 17, .payload = 33, .pad = 5 };
					size_t len = build(b, &s), hdrs = 0;
					for (unsigned e = EXT_HBH; e <= EXT_FRAG; e <<= 1)
						hdrs += s.ext & e ? ext_len(e) : 0;
					assert_int_equal(pkt_parse(b, len, &l), PKT_STATUS_OK);
					assert_int_equal(l.vlan_tags, vlans);
					assert_int_equal(l.l3_off, 14 + 4 * vlans);
					assert_int_equal(l.l3_hlen, fam ? 40 + hdrs : 20 + s.opts);
					assert_int_equal(l.payload_off - l.l4_off, p ? 24 : 8);
					assert_int_equal(l.payload_len, 33);
					assert_int_equal((size_t)l.l3_off + l.l3_len + 5, len);
					assert_int_equal(b[l.payload_off + 32], payload_byte(32));
					assert_false(l.is_fragment);
					if (s.ext & EXT_FRAG) {
						assert_int_not_equal(l.frag_hdr_off, 0);
						assert_int_equal(l.frag_id, 0x01020304);
					}
				}
}

/* Mutates byte `at` of a freshly built frame and expects status `want`. */
static void expect_status(const struct spec *s, size_t at, uint8_t val, enum pkt_status want)
{
	uint8_t b[CAP];
	struct pkt_layout l;
	size_t len = build(b, s);

	if (at != SIZE_MAX)
		b[at] = val;
	assert_string_equal(pkt_status_name(pkt_parse(b, len, &l)), pkt_status_name(want));
}

static void parse_errors(void **state)
{
	const struct spec u4 = { .family = AF_INET, .proto = 17, .payload = 20 };
	const struct spec t4 = { .family = AF_INET, .proto = 6, .payload = 20 };
	const struct spec u6 = { .family = AF_INET6, .proto = 17, .payload = 20 };
	const struct spec u6x = { .family = AF_INET6, .ext = EXT_HBH | EXT_DST | EXT_RT,
				  .proto = 17, .payload = 20 };
	uint8_t b[CAP];
	struct pkt_layout l;
	size_t len;

	(void)state;
	expect_status(&u4, SIZE_MAX, 0, PKT_STATUS_OK);
	expect_status(&u4, 12, 0x08, PKT_STATUS_OK);
	expect_status(&u4, 13, 0x06, PKT_STATUS_NOT_IP);            /* ARP */
	expect_status(&u4, 14, 0x65, PKT_STATUS_BAD_IP_HEADER);     /* version 6 behind 0x0800 */
	expect_status(&u4, 14, 0x44, PKT_STATUS_BAD_IP_HEADER);     /* IHL 4 */
	expect_status(&u4, 17, 19, PKT_STATUS_BAD_IP_HEADER);       /* total length below the header */
	expect_status(&u4, 17, 120, PKT_STATUS_TRUNCATED);          /* total length past the frame */
	expect_status(&u4, 17, 20 + 8 + 19, PKT_STATUS_BAD_L4_HEADER); /* UDP length != IP payload */
	expect_status(&u4, 23, 1, PKT_STATUS_NOT_UDP_TCP);          /* ICMP */
	expect_status(&u4, 39, 7, PKT_STATUS_BAD_L4_HEADER);        /* UDP length 7 */
	expect_status(&u4, 39, 29, PKT_STATUS_BAD_L4_HEADER);       /* UDP length > IP payload */
	expect_status(&t4, 34 + 12, 4 << 4, PKT_STATUS_BAD_L4_HEADER);  /* TCP data offset 4 */
	expect_status(&t4, 34 + 12, 15 << 4, PKT_STATUS_BAD_L4_HEADER); /* options past the end */
	expect_status(&u6, 14, 0x45, PKT_STATUS_BAD_IP_HEADER);     /* version 4 behind 0x86dd */
	expect_status(&u6, 19, 100, PKT_STATUS_TRUNCATED);          /* payload length past the frame */
	expect_status(&u6, 20, 50, PKT_STATUS_NOT_UDP_TCP);         /* ESP */
	expect_status(&u6, 20, 59, PKT_STATUS_NOT_UDP_TCP);         /* no next header */
	expect_status(&u6x, 54 + 8 + 16 + 3, 1, PKT_STATUS_IPV6_ROUTING); /* segments left 1 */
	expect_status(&u6x, 54 + 8 + 1, 40, PKT_STATUS_BAD_IP_HEADER);    /* dest-opts past the end */
	expect_status(&u6x, 54 + 8, 0, PKT_STATUS_BAD_IP_HEADER);  /* a second hop-by-hop */

	/* VLAN tags: two is the limit */
	memset(b, 0, sizeof(b));
	for (int i = 0; i < 3; i++)
		wr16(b + 12 + 4 * i, 0x8100);
	wr16(b + 24, 0x0800);
	assert_int_equal(pkt_parse(b, 100, &l), PKT_STATUS_VLAN_TOO_DEEP);
	assert_int_equal(pkt_parse(NULL, 100, &l), PKT_STATUS_TRUNCATED);

	/* IPv6 extension headers: eight are walked, a ninth is too deep; two
	 * fragment headers are not allowed */
	for (int n = 8; n <= 9; n++) {
		struct spec s = u6;
		uint8_t *ip = b + 14;
		len = build(b, &s);
		memmove(ip + 40 + 8 * n, ip + 40, 28);
		for (int i = 0; i < n; i++) {
			memset(ip + 40 + 8 * i, 0, 8);
			ip[40 + 8 * i] = i + 1 < n ? 60 : 17;
		}
		ip[6] = 60;
		wr16(ip + 4, (uint16_t)(28 + 8 * n));
		len += 8 * (size_t)n;
		assert_int_equal(pkt_parse(b, len, &l), n == 8 ? PKT_STATUS_OK : PKT_STATUS_IPV6_EXT_TOO_DEEP);
		ip[6] = 44;
		ip[40] = 44;
		assert_int_equal(pkt_parse(b, len, &l), PKT_STATUS_BAD_IP_HEADER);
	}

	/* an IP packet that ends past 65535 bytes into the frame */
	{
		static uint8_t big[70000];
		struct spec s = { .family = AF_INET, .vlans = 1, .proto = 17 };
		build(big, &s);
		wr16(big + 18 + 2, 65535);
		wr16(big + 38 + 4, 65535 - 20);
		assert_int_equal(pkt_parse(big, sizeof(big), &l), PKT_STATUS_TOO_BIG);
		assert_int_equal(pkt_parse(big, 60, &l), PKT_STATUS_TRUNCATED);
	}
}

/* Splits a built UDP frame into two fragments at `at` bytes of the L4
 * segment (a multiple of 8): IPv4 by its flags, IPv6 with a fragment header
 * after the fixed and extension headers. */
static void split(const uint8_t *full, size_t len, size_t at, uint8_t *f1, size_t *n1, uint8_t *f2,
		  size_t *n2)
{
	struct pkt_layout l;
	size_t rest;

	assert_int_equal(pkt_parse(full, len, &l), PKT_STATUS_OK);
	rest = (size_t)l.l3_off + l.l3_len - l.l4_off - at;
	memset(f1, 0, CAP);
	memset(f2, 0, CAP);
	if (l.family == AF_INET) {
		memcpy(f1, full, l.l4_off + at);
		memcpy(f2, full, l.l4_off);
		memcpy(f2 + l.l4_off, full + l.l4_off + at, rest);
		wr16(f1 + l.l3_off + 2, (uint16_t)(l.l3_hlen + at));
		wr16(f1 + l.l3_off + 6, 0x2000); /* MF */
		wr16(f2 + l.l3_off + 2, (uint16_t)(l.l3_hlen + rest));
		wr16(f2 + l.l3_off + 6, (uint16_t)(at / 8));
		ref_ipv4_header(f1 + l.l3_off, l.l3_hlen);
		ref_ipv4_header(f2 + l.l3_off, l.l3_hlen);
		*n1 = l.l4_off + at;
		*n2 = l.l4_off + rest;
	} else {
		const uint8_t fh1[8] = { 17, 0, 0, 0, 0xca, 0xfe, 0xf0, 0x0d };
		uint8_t fh2[8] = { 17, 0, 0, 0, 0xca, 0xfe, 0xf0, 0x0d };
		memcpy(f1, full, l.l4_off);
		memcpy(f2, full, l.l4_off);
		f1[l.nexthdr_off] = f2[l.nexthdr_off] = 44;
		memcpy(f1 + l.l4_off, fh1, 8);
		f1[l.l4_off + 3] = 1; /* M */
		wr16(fh2 + 2, (uint16_t)at);
		memcpy(f2 + l.l4_off, fh2, 8);
		memcpy(f1 + l.l4_off + 8, full + l.l4_off, at);
		memcpy(f2 + l.l4_off + 8, full + l.l4_off + at, rest);
		wr16(f1 + l.l3_off + 4, (uint16_t)(l.l3_hlen - 40 + 8 + at));
		wr16(f2 + l.l3_off + 4, (uint16_t)(l.l3_hlen - 40 + 8 + rest));
		*n1 = l.l4_off + 8 + at;
		*n2 = l.l4_off + 8 + rest;
	}
}

static void parse_fragments(void **state)
{
	uint8_t full[CAP], f1[CAP], f2[CAP];
	struct pkt_layout l;
	size_t n, n1, n2;

	(void)state;
	for (int fam = 0; fam < 2; fam++) {
		const struct spec s = { .family = fam ? AF_INET6 : AF_INET, .vlans = fam,
					.ext = fam ? EXT_HBH : 0, .proto = 17, .payload = 100 };
		n = build(full, &s);
		split(full, n, 48, f1, &n1, f2, &n2);

		assert_int_equal(pkt_parse(f1, n1, &l), PKT_STATUS_OK);
		assert_true(l.is_fragment && l.first_fragment && l.more_fragments);
		assert_int_equal(l.frag_off, 0);
		assert_int_equal(l.frag_id, fam ? 0xcafef00d : 0x4242);
		assert_int_equal(l.l4_len, 108); /* the whole datagram's */
		assert_int_equal(l.payload_len, 40); /* what this fragment holds */
		if (fam) {
			assert_int_equal(l.frag_hdr_off, 18 + 40 + 8);
			assert_int_equal(l.nexthdr_off, l.frag_hdr_off);
		}

		assert_int_equal(pkt_parse(f2, n2, &l), PKT_STATUS_FRAGMENT);
		assert_true(l.is_fragment && !l.first_fragment && !l.more_fragments);
		assert_int_equal(l.frag_off, 48);
		assert_int_equal(l.l4_proto, 17);
		assert_int_equal(l.payload_off, l.l4_off);
		assert_int_equal(l.payload_len, 60);
		assert_int_equal(l.l3_hlen, fam ? 40 + 8 + 8 : 20);
		assert_int_equal(l.frag_id, fam ? 0xcafef00d : 0x4242);

		/* a first fragment without room for the UDP header, a non-last
		 * one not a multiple of 8, one that overruns 65535 bytes */
		split(full, n, 8, f1, &n1, f2, &n2);
		assert_int_equal(pkt_parse(f1, n1, &l), PKT_STATUS_OK);
		split(full, n, 48, f1, &n1, f2, &n2);
		if (fam) {
			wr16(f1 + 18 + 4, (uint16_t)(rd16(f1 + 18 + 4) - 44));
			assert_int_equal(pkt_parse(f1, n1 - 44, &l), PKT_STATUS_BAD_FRAGMENT);
			wr16(f1 + 18 + 4, (uint16_t)(rd16(f1 + 18 + 4) + 1));
			assert_int_equal(pkt_parse(f1, n1 - 43, &l), PKT_STATUS_BAD_FRAGMENT);
			wr16(f2 + 18 + 40 + 8 + 2, 0xFFF8);
			assert_int_equal(pkt_parse(f2, n2, &l), PKT_STATUS_BAD_FRAGMENT);
		} else {
			wr16(f1 + 14 + 2, 20 + 4);
			assert_int_equal(pkt_parse(f1, n1, &l), PKT_STATUS_BAD_FRAGMENT);
			wr16(f1 + 14 + 2, 20 + 47);
			assert_int_equal(pkt_parse(f1, n1, &l), PKT_STATUS_BAD_FRAGMENT);
			wr16(f2 + 14 + 6, 0x1FFF);
			assert_int_equal(pkt_parse(f2, n2, &l), PKT_STATUS_BAD_FRAGMENT);
		}
	}
}

/* Every prefix of a valid frame is an error (and reads nothing past it:
 * each prefix sits in a heap block of its exact size for ASan). */
static void check_prefixes(const uint8_t *f, size_t len)
{
	struct pkt_layout l;

	assert_int_equal(pkt_parse(f, len, &l), PKT_STATUS_OK);
	for (size_t n = 0; n < len; n++) {
		uint8_t *p = test_malloc(n ? n : 1);
		memcpy(p, f, n);
		assert_string_equal(pkt_status_name(pkt_parse(p, n, &l)),
				    pkt_status_name(PKT_STATUS_TRUNCATED));
		test_free(p);
	}
}

static void parse_every_prefix(void **state)
{
	uint8_t b[CAP];

	(void)state;
	check_prefixes(in_v4, sizeof(in_v4));
	check_prefixes(in_v6, sizeof(in_v6));
	check_prefixes(in_tcp4, sizeof(in_tcp4));
	check_prefixes(gue_v6, sizeof(gue_v6));
	for (int fam = 0; fam < 2; fam++)
		for (int v = 0; v < 4; v++)
			for (int p = 0; p < 2; p++) {
				struct spec s = { .family = fam ? AF_INET6 : AF_INET, .vlans = v % 3,
						  .opts = fam ? 0 : v4_opts[v], .ext = fam ? v6_exts[v] : 0,
						  .proto = p ? 6 : 17, .payload = 9 };
				check_prefixes(b, build(b, &s));
			}
}

/* The layout of an OK parse stays inside the frame and adds up. */
static void check_layout(const struct pkt_layout *l, size_t len)
{
	const size_t end = (size_t)l->l3_off + l->l3_len;

	assert_true(end <= len);
	assert_int_equal(l->l3_off, l->ethertype_off + 2);
	assert_int_equal(l->l4_off, l->l3_off + l->l3_hlen);
	assert_int_equal((size_t)l->payload_off + l->payload_len, end);
	assert_true(l->payload_off >= l->l4_off + (l->l4_proto == 17 ? 8 : 20));
	assert_true(l->nexthdr_off > l->l3_off && l->nexthdr_off < l->l4_off);
}

static void parse_garbage(void **state)
{
	const uint8_t *const seeds[] = { in_v4, in_v6, in_tcp4, gue_v4, ip6ip6_v6 };
	const size_t seed_len[] = { sizeof(in_v4), sizeof(in_v6), sizeof(in_tcp4), sizeof(gue_v4),
				    sizeof(ip6ip6_v6) };
	unsigned ok = 0;

	(void)state;
	for (int round = 0; round < 200000; round++) {
		struct pkt_layout l;
		size_t n;
		uint8_t *p;

		if (round % 2) { /* random bytes, with a plausible EtherType and version */
			n = rng() % 160;
			p = test_malloc(n ? n : 1);
			for (size_t i = 0; i < n; i++)
				p[i] = (uint8_t)rng();
			if (n > 14 && rng() % 4) {
				const bool v6 = rng() % 2;
				wr16(p + 12, v6 ? 0x86DD : 0x0800);
				p[14] = (uint8_t)((v6 ? 0x60 : 0x45) | (p[14] & (v6 ? 0x0F : 0x00)));
			}
		} else { /* a fixture with a few bytes changed */
			const int k = (int)(rng() % 5);
			n = seed_len[k];
			n -= rng() % 3 == 0 ? rng() % n : 0;
			p = test_malloc(n);
			memcpy(p, seeds[k], n);
			for (int i = (int)(rng() % 4); i >= 0; i--)
				p[rng() % n] = (uint8_t)rng();
		}
		if (pkt_parse(p, n, &l) == PKT_STATUS_OK) {
			check_layout(&l, n);
			ok++;
		}
		test_free(p);
	}
	print_message("garbage: %u of 200000 inputs parsed OK\n", ok);
	assert_true(ok > 1000);
}

/* ---- rewrites: exact bytes */

static void dsr_exact(void **state)
{
	const struct rewrite_target t4 = target(POOL_MODE_DSR, AF_INET, 0);
	const struct rewrite_target t6 = target(POOL_MODE_DSR, AF_INET6, 0);

	(void)state;
	expect_rewrite(in_v4, sizeof(in_v4), 48, &t4, dsr_v4, sizeof(dsr_v4));
	expect_rewrite(in_v4, sizeof(in_v4), UINT16_MAX, &t4, dsr_v4, sizeof(dsr_v4));
	expect_rewrite(in_v6, sizeof(in_v6), 48, &t6, dsr_v6, sizeof(dsr_v6));
	/* dsr never looks at the node's address */
	expect_rewrite(in_v6, sizeof(in_v6), 48, &t4, dsr_v6, sizeof(dsr_v6));
}

static void nat_exact(void **state)
{
	const struct rewrite_target t4 = target(POOL_MODE_NAT, AF_INET, 0);
	const struct rewrite_target t6 = target(POOL_MODE_NAT, AF_INET6, 0);

	(void)state;
	expect_rewrite(in_v4, sizeof(in_v4), 48, &t4, nat_v4, sizeof(nat_v4));
	expect_rewrite(in_v6, sizeof(in_v6), 48, &t6, nat_v6, sizeof(nat_v6));
	expect_rewrite(in_tcp4, sizeof(in_tcp4), 45, &t4, nat_tcp4, sizeof(nat_tcp4));
	/* Content-Length 0: the 3 bytes after the message go, at an odd offset */
	expect_rewrite(in_v4, sizeof(in_v4), 45, &t4, nat_cut_v4, sizeof(nat_cut_v4));
	expect_rewrite(in_v6, sizeof(in_v6), 45, &t6, nat_cut_v6, sizeof(nat_cut_v6));
}

static void encap_exact(void **state)
{
	const struct rewrite_target ipip = target(POOL_MODE_ENCAP, AF_INET, 0);
	const struct rewrite_target ip6ip6 = target(POOL_MODE_ENCAP, AF_INET6, 0);
	const struct rewrite_target gue4 = target(POOL_MODE_ENCAP, AF_INET, GUE_PORT);
	const struct rewrite_target gue6 = target(POOL_MODE_ENCAP, AF_INET6, GUE_PORT);

	(void)state;
	expect_rewrite(in_v4, sizeof(in_v4), 48, &ipip, ipip_v4, sizeof(ipip_v4));
	expect_rewrite(in_v6, sizeof(in_v6), 48, &ip6ip6, ip6ip6_v6, sizeof(ip6ip6_v6));
	expect_rewrite(in_v4, sizeof(in_v4), 48, &gue4, gue_v4, sizeof(gue_v4));
	expect_rewrite(in_v6, sizeof(in_v6), 48, &gue6, gue_v6, sizeof(gue_v6));
}

static void reply_exact(void **state)
{
	const struct {
		const uint8_t *in, *want;
		size_t len;
		struct self_addr vip;
	} cases[] = {
		{ reply_in_v4, reply_out_v4, sizeof(reply_in_v4), { AF_INET, { 203, 0, 113, 10 } } },
		{ reply_in_v6, reply_out_v6, sizeof(reply_in_v6), { AF_INET6, A6(2, 0x10) } },
	};

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		uint8_t b[CAP];
		struct pkt_layout l;
		memcpy(b, cases[i].in, cases[i].len);
		assert_int_equal(pkt_parse(b, cases[i].len, &l), PKT_STATUS_OK);
		assert_int_equal(rewrite_reply_source(b, cases[i].len, &l, &cases[i].vip, VIP_PORT), 0);
		assert_memory_equal(b, cases[i].want, cases[i].len);
		verify_frame(b, cases[i].len);
	}
}

/* ---- rewrites: every shape of frame, checked from scratch */

static size_t addr_at(const struct pkt_layout *l, bool dst)
{
	return (size_t)l->l3_off + (l->family == AF_INET ? 12 : 8) + (dst ? (l->family == AF_INET ? 4 : 16) : 0);
}

/* f with the fields nat may change zeroed: destination address and port,
 * IPv4 header and L4 checksums */
static void blank_nat_fields(uint8_t *f, const struct pkt_layout *l)
{
	memset(f + addr_at(l, true), 0, l->family == AF_INET ? 4 : 16);
	if (l->family == AF_INET)
		wr16(f + l->l3_off + 10, 0);
	wr16(f + l->l4_off + 2, 0);
	wr16(f + l->l4_off + (l->l4_proto == 17 ? 6 : 16), 0);
}

static unsigned matrix_case(const struct spec *s, uint16_t msg_len)
{
	uint8_t in[CAP], ref[CAP], out[CAP], inner[CAP], a[CAP], b[CAP];
	struct pkt_layout li, lr, lo;
	const size_t in_len = build(in, s);
	const size_t alen = s->family == AF_INET ? 4 : 16;
	const bool cut = s->proto == 17 && msg_len < s->payload;
	struct rewrite_target t;
	size_t ref_len, len, n;
	unsigned checked = 0;

	assert_int_equal(pkt_parse(in, in_len, &li), PKT_STATUS_OK);

	/* dsr: the reference for the others */
	t = target(POOL_MODE_DSR, s->family, 0);
	ref_len = rewrite_ok(ref, in, in_len, msg_len, &t);
	checked++;
	assert_memory_equal(ref, MAC_NODE, 6);
	assert_memory_equal(ref + 6, MAC_SRC, 6);
	assert_memory_equal(ref + 12, in + 12, li.l3_off - 12u); /* VLAN tags, EtherType */
	assert_int_equal(pkt_parse(ref, ref_len, &lr), PKT_STATUS_OK);
	assert_int_equal(lr.payload_len, cut ? msg_len : s->payload);
	assert_memory_equal(ref + lr.payload_off, in + li.payload_off, lr.payload_len);
	assert_memory_equal(ref + addr_at(&lr, false), in + addr_at(&li, false), 2 * alen);
	assert_memory_equal(ref + lr.l4_off, in + li.l4_off, 4);
	if (!cut)
		assert_memory_equal(ref + li.l3_off, in + li.l3_off, li.l3_len);
	if (s->no_csum)
		assert_int_equal(rd16(ref + lr.l4_off + 6), 0);

	/* nat: the reference but for the destination and the checksums */
	t = target(POOL_MODE_NAT, s->family, 0);
	len = rewrite_ok(out, in, in_len, msg_len, &t);
	checked++;
	assert_int_equal(len, ref_len);
	assert_int_equal(pkt_parse(out, len, &lo), PKT_STATUS_OK);
	assert_memory_equal(out + addr_at(&lo, true), t.node->addr.addr, alen);
	assert_int_equal(rd16(out + lo.l4_off + 2), NODE_PORT);
	if (s->no_csum)
		assert_int_equal(rd16(out + lo.l4_off + 6), 0);
	memcpy(a, out, len);
	memcpy(b, ref, len);
	blank_nat_fields(a, &lo);
	blank_nat_fields(b, &lr);
	assert_memory_equal(a, b, len);

	/* encap: IPIP / IP6IP6 / 4in6 / 6in4, plain and GUE; the inner packet
	 * is the reference's */
	for (int nf = 0; nf < 2; nf++)
		for (int g = 0; g < 2; g++) {
			const int fam = nf ? AF_INET6 : AF_INET;
			const size_t hlen = (nf ? 40 : 20) + (g ? 12 : 0);
			const uint32_t hash = rewrite_flow_hash(in, &li);
			const uint8_t *ip;

			t = target(POOL_MODE_ENCAP, fam, g ? GUE_PORT : 0);
			len = rewrite_ok(out, in, in_len, msg_len, &t);
			checked += 2;
			assert_int_equal(len, ref_len + hlen);
			assert_memory_equal(out, ref, li.l3_off - 2u);
			assert_int_equal(rd16(out + li.l3_off - 2), nf ? 0x86DD : 0x0800);
			n = decap(out, len, inner);
			assert_int_equal(n, 14 + ref_len - li.l3_off);
			assert_memory_equal(inner + 14, ref + li.l3_off, n - 14);
			ip = out + li.l3_off;
			if (nf) {
				assert_int_equal(ip[0] >> 4, 6);
				assert_int_equal((ip[0] & 0x0F) << 4 | ip[1] >> 4, s->ds);
				assert_int_equal((uint32_t)(ip[1] & 0x0F) << 16 | rd16(ip + 2), hash & 0xFFFFF);
				assert_int_equal(ip[6], g ? 17 : s->family == AF_INET ? 4 : 41);
				assert_int_equal(ip[7], 64);
				assert_memory_equal(ip + 8, E6, 16);
				assert_memory_equal(ip + 24, N6, 16);
			} else {
				assert_int_equal(ip[0], 0x45);
				assert_int_equal(ip[1], s->ds);
				assert_int_equal(rd16(ip + 4), 0);      /* id */
				assert_int_equal(rd16(ip + 6), 0x4000); /* DF */
				assert_int_equal(ip[8], 64);
				assert_int_equal(ip[9], g ? 17 : s->family == AF_INET ? 4 : 41);
				assert_memory_equal(ip + 12, E4, 4);
				assert_memory_equal(ip + 16, N4, 4);
			}
			if (g) {
				const uint8_t *udp = ip + (nf ? 40 : 20);
				assert_int_equal(rd16(udp), 0xC000 | (hash & 0x3FFF));
				assert_int_equal(rd16(udp + 2), GUE_PORT);
				assert_int_equal(rd16(udp + 4), len - li.l3_off - (nf ? 40 : 20));
				if (!nf)
					assert_int_equal(rd16(udp + 6), 0);
				else
					assert_int_not_equal(rd16(udp + 6), 0);
			}
		}
	return checked;
}

static void forward_matrix(void **state)
{
	static const size_t payloads[] = { 0, 1, 45, 200 };
	static const size_t cuts[] = { 0, 1, 3, 1000 };
	unsigned checked = 0;

	(void)state;
	for (int fam = 0; fam < 2; fam++)
		for (int vlans = 0; vlans <= 2; vlans++)
			for (int v = 0; v < 4; v++)
				for (int k = 0; k < 3; k++)
					for (int p = 0; p < 4; p++)
						for (int pad = 0; pad <= 7; pad += 7)
							for (int c = 0; c < 4; c++) {
								struct spec s = {
									.family = fam ? AF_INET6 : AF_INET, .vlans = vlans,
									.opts = fam ? 0 : v4_opts[v], .ext = fam ? v6_exts[v] : 0,
									.proto = k == 2 ? 6 : 17, .no_csum = k == 1,
									.payload = payloads[p], .pad = (size_t)pad,
									.ds = (uint8_t)(0x28 + 4 * c),
								};
								size_t cut = cuts[c] < s.payload ? cuts[c] : s.payload;
								if (s.no_csum && fam)
									continue; /* a zero IPv6 UDP checksum: udp_zero_checksum */
								if (s.proto == 6 && c)
									continue; /* no cut for TCP */
								checked += matrix_case(&s, (uint16_t)(s.payload - cut));
							}
	print_message("matrix: %u rewritten frames checked from scratch\n", checked);
	assert_true(checked > 5000);
}

/* ---- errors: the frame stays as it was */

static void expect_error(const uint8_t *in, size_t in_len, size_t cap, uint16_t msg_len,
			 const struct pkt_layout *l, const struct rewrite_target *t, int err)
{
	uint8_t b[CAP];
	size_t len = in_len;

	memset(b, 0xEE, sizeof(b));
	memcpy(b, in, in_len);
	assert_int_equal(rewrite_forward(b, &len, cap, l, msg_len, t), err);
	assert_int_equal(len, in_len);
	assert_memory_equal(b, in, in_len);
}

static void forward_errors(void **state)
{
	static uint8_t big[70000];
	const struct rewrite_target nat4 = target(POOL_MODE_NAT, AF_INET, 0);
	const struct rewrite_target nat6 = target(POOL_MODE_NAT, AF_INET6, 0);
	const struct rewrite_target ipip = target(POOL_MODE_ENCAP, AF_INET, 0);
	const struct rewrite_target gue6 = target(POOL_MODE_ENCAP, AF_INET6, GUE_PORT);
	struct rewrite_target t;
	struct pool_node node;
	struct pkt_layout l4, l6, lt, bad;
	uint8_t b[CAP];
	size_t len;

	(void)state;
	assert_int_equal(pkt_parse(in_v4, sizeof(in_v4), &l4), PKT_STATUS_OK);
	assert_int_equal(pkt_parse(in_v6, sizeof(in_v6), &l6), PKT_STATUS_OK);
	assert_int_equal(pkt_parse(in_tcp4, sizeof(in_tcp4), &lt), PKT_STATUS_OK);

	/* nat keeps the family */
	expect_error(in_v4, sizeof(in_v4), CAP, 48, &l4, &nat6, -EAFNOSUPPORT);
	expect_error(in_v6, sizeof(in_v6), CAP, 48, &l6, &nat4, -EAFNOSUPPORT);
	/* encap: the outer source is the node's family, the node has one */
	t = ipip;
	t.encap_src.family = AF_INET6;
	expect_error(in_v4, sizeof(in_v4), CAP, 48, &l4, &t, -EAFNOSUPPORT);
	node = *ipip.node;
	node.addr.family = 0;
	t = ipip;
	t.node = &node;
	expect_error(in_v4, sizeof(in_v4), CAP, 48, &l4, &t, -EAFNOSUPPORT);
	t.mode = POOL_MODE_NAT;
	expect_error(in_v4, sizeof(in_v4), CAP, 48, &l4, &t, -EAFNOSUPPORT);

	/* room: exactly enough works, one byte less does not */
	expect_error(in_v4, sizeof(in_v4), sizeof(in_v4) + 19, 48, &l4, &ipip, -ENOSPC);
	expect_error(in_v4, sizeof(in_v4), sizeof(in_v4) + 16, 45, &l4, &ipip, -ENOSPC);
	expect_error(in_v6, sizeof(in_v6), sizeof(in_v6) + 51, 48, &l6, &gue6, -ENOSPC);
	memcpy(b, in_v4, sizeof(in_v4));
	len = sizeof(in_v4);
	assert_int_equal(rewrite_forward(b, &len, sizeof(in_v4) + 17, &l4, 45, &ipip), 0);
	assert_int_equal(len, sizeof(in_v4) + 17);
	memcpy(b, in_v6, sizeof(in_v6));
	len = sizeof(in_v6);
	assert_int_equal(rewrite_forward(b, &len, sizeof(in_v6) + 52, &l6, 48, &gue6), 0);
	assert_memory_equal(b, gue_v6, sizeof(gue_v6));

	/* what cannot be done, or makes no sense */
	expect_error(in_tcp4, sizeof(in_tcp4), CAP, 10, &lt, &nat4, -EINVAL); /* cut a TCP segment */
	expect_error(in_v4, sizeof(in_v4), sizeof(in_v4) - 1, 48, &l4, &nat4, -EINVAL); /* len > cap */
	expect_error(in_v4, sizeof(in_v4), CAP, 48, NULL, &nat4, -EINVAL);
	expect_error(in_v4, sizeof(in_v4), CAP, 48, &l4, NULL, -EINVAL);
	t = nat4;
	t.node = NULL;
	expect_error(in_v4, sizeof(in_v4), CAP, 48, &l4, &t, -EINVAL);
	t = nat4;
	t.mode = (enum pool_mode)7;
	expect_error(in_v4, sizeof(in_v4), CAP, 48, &l4, &t, -EINVAL);
	/* layouts that do not fit the frame */
	expect_error(in_v4, sizeof(in_v4) - 1, CAP, 48, &l4, &nat4, -EINVAL);
	bad = l4, bad.payload_len--;
	expect_error(in_v4, sizeof(in_v4), CAP, 48, &bad, &nat4, -EINVAL);
	bad = l4, bad.family = 0;
	expect_error(in_v4, sizeof(in_v4), CAP, 48, &bad, &nat4, -EINVAL);
	bad = l4, bad.l3_hlen = 12;
	expect_error(in_v4, sizeof(in_v4), CAP, 48, &bad, &nat4, -EINVAL);
	bad = l4, bad.l4_proto = 1;
	expect_error(in_v4, sizeof(in_v4), CAP, 48, &bad, &nat4, -EINVAL);
	bad = l4, bad.l3_off = 4, bad.ethertype_off = 2;
	expect_error(in_v4, sizeof(in_v4), CAP, 48, &bad, &nat4, -EINVAL);
	len = sizeof(in_v4);
	assert_int_equal(rewrite_forward(NULL, &len, CAP, &l4, 48, &nat4), -EINVAL);
	assert_int_equal(rewrite_forward(b, NULL, CAP, &l4, 48, &nat4), -EINVAL);

	/* an outer IPv4 packet would pass 65535 bytes */
	{
		const struct spec s = { .family = AF_INET, .proto = 17 };
		struct pkt_layout lb;
		build(big, &s);
		wr16(big + 14 + 2, 65535 - 14);
		wr16(big + 34 + 4, 65535 - 14 - 20);
		ref_ipv4_header(big + 14, 20);
		assert_int_equal(pkt_parse(big, 65535, &lb), PKT_STATUS_OK);
		len = 65535;
		assert_int_equal(rewrite_forward(big, &len, sizeof(big), &lb, UINT16_MAX, &ipip), -EMSGSIZE);
		assert_int_equal(len, 65535);
		t = target(POOL_MODE_ENCAP, AF_INET6, GUE_PORT); /* the IPv6 payload length has room */
		assert_int_equal(rewrite_forward(big, &len, sizeof(big), &lb, UINT16_MAX, &t), 0);
		assert_int_equal(len, 65535 + 52);
	}

	/* the return path */
	{
		const struct self_addr vip4 = { AF_INET, { 203, 0, 113, 10 } };
		const struct self_addr vip6 = { AF_INET6, A6(2, 0x10) };
		memcpy(b, reply_in_v4, sizeof(reply_in_v4));
		assert_int_equal(pkt_parse(b, sizeof(reply_in_v4), &l4), PKT_STATUS_OK);
		assert_int_equal(rewrite_reply_source(b, sizeof(reply_in_v4), &l4, &vip6, VIP_PORT),
				 -EAFNOSUPPORT);
		assert_int_equal(rewrite_reply_source(b, sizeof(reply_in_v4), &l4, NULL, VIP_PORT), -EINVAL);
		assert_int_equal(rewrite_reply_source(b, sizeof(reply_in_v4) - 1, &l4, &vip4, VIP_PORT),
				 -EINVAL);
		assert_int_equal(rewrite_reply_source(b, sizeof(reply_in_v4), NULL, &vip4, VIP_PORT), -EINVAL);
		assert_memory_equal(b, reply_in_v4, sizeof(reply_in_v4));
	}
}

/* ---- fragments */

/* The L4 segment of two fragments put back together, checked against the
 * first fragment's addresses. */
static void check_reassembled(const uint8_t *f1, size_t n1, const uint8_t *f2, size_t n2)
{
	struct pkt_layout l1, l2;
	uint8_t seg[CAP];
	size_t a, c;

	assert_int_equal(pkt_parse(f1, n1, &l1), PKT_STATUS_OK);
	assert_int_equal(pkt_parse(f2, n2, &l2), PKT_STATUS_FRAGMENT);
	a = n1 - l1.l4_off;
	c = n2 - l2.payload_off;
	assert_int_equal(l2.frag_off, a);
	memcpy(seg, f1 + l1.l4_off, a);
	memcpy(seg + a, f2 + l2.payload_off, c);
	assert_int_equal(l1.l4_len, a + c);
	assert_true(ref_l4_ok(l1.family, f1 + l1.l3_off, 17, seg, a + c));
	assert_true(csum_l4_ok(l1.family, f1 + addr_at(&l1, false), f1 + addr_at(&l1, true), 17, seg,
			       a + c));
}

static void rewrite_fragments(void **state)
{
	uint8_t full[CAP], f1[CAP], f2[CAP], o1[CAP], o2[CAP], inner[CAP];
	struct pkt_layout l1, l2;
	size_t n, n1, n2, m1, m2;

	(void)state;
	for (int fam = 0; fam < 2; fam++) {
		const int family = fam ? AF_INET6 : AF_INET;
		const size_t alen = fam ? 16 : 4;
		const struct rewrite_target nat = target(POOL_MODE_NAT, family, 0);
		const struct rewrite_target gue = target(POOL_MODE_ENCAP, family, GUE_PORT);
		struct spec s = { .family = family, .vlans = 1, .ext = fam ? EXT_HBH : 0, .proto = 17,
				  .payload = 100 };

		n = build(full, &s);
		split(full, n, 48, f1, &n1, f2, &n2);
		assert_int_equal(pkt_parse(f1, n1, &l1), PKT_STATUS_OK);
		assert_int_equal(pkt_parse(f2, n2, &l2), PKT_STATUS_FRAGMENT);
		check_reassembled(f1, n1, f2, n2);
		/* one path for every fragment of a datagram */
		assert_int_equal(rewrite_flow_hash(f1, &l1), rewrite_flow_hash(f2, &l2));

		/* nat: the first fragment's checksum covers the whole datagram */
		memcpy(o1, f1, n1);
		memcpy(o2, f2, n2);
		m1 = n1, m2 = n2;
		assert_int_equal(rewrite_forward(o1, &m1, CAP, &l1, 10, &nat), -EINVAL); /* no cut */
		assert_int_equal(rewrite_forward(o1, &m1, CAP, &l1, l1.payload_len, &nat), 0);
		assert_int_equal(rewrite_forward(o2, &m2, CAP, &l2, 0, &nat), 0); /* msg_len unused */
		verify_frame(o1, m1);
		verify_frame(o2, m2);
		check_reassembled(o1, m1, o2, m2);
		assert_memory_equal(o1 + addr_at(&l1, true), nat.node->addr.addr, alen);
		assert_memory_equal(o2 + addr_at(&l2, true), nat.node->addr.addr, alen);
		assert_int_equal(rd16(o1 + l1.l4_off + 2), NODE_PORT);
		assert_memory_equal(o2 + l2.payload_off, f2 + l2.payload_off, l2.payload_len);

		/* encap carries a later fragment as it is */
		m2 = n2;
		memcpy(o2, f2, n2);
		assert_int_equal(rewrite_forward(o2, &m2, CAP, &l2, 0, &gue), 0);
		verify_frame(o2, m2);
		assert_int_equal(decap(o2, m2, inner), 14 + n2 - l2.l3_off);
		assert_memory_equal(inner + 14, f2 + l2.l3_off, n2 - l2.l3_off);

		/* the return path over fragments */
		s.reply = true;
		n = build(full, &s);
		split(full, n, 48, f1, &n1, f2, &n2);
		assert_int_equal(pkt_parse(f1, n1, &l1), PKT_STATUS_OK);
		assert_int_equal(pkt_parse(f2, n2, &l2), PKT_STATUS_FRAGMENT);
		{
			struct self_addr vip = { .family = family };
			memcpy(vip.addr, fam ? V6 : V4, alen);
			assert_int_equal(rewrite_reply_source(f1, n1, &l1, &vip, VIP_PORT), 0);
			assert_int_equal(rewrite_reply_source(f2, n2, &l2, &vip, VIP_PORT), 0);
		}
		verify_frame(f1, n1);
		verify_frame(f2, n2);
		check_reassembled(f1, n1, f2, n2);
		assert_memory_equal(f2 + addr_at(&l2, false), fam ? V6 : V4, alen);
		assert_int_equal(rd16(f1 + l1.l4_off), VIP_PORT);
	}
}

/* ---- UDP without a checksum */

static void udp_zero_checksum(void **state)
{
	uint8_t in[CAP], out[CAP];
	struct pkt_layout l;
	size_t len;

	(void)state;
	/* IPv4: 0 means none, and stays 0 through nat, a cut, and the return path */
	{
		struct spec s = { .family = AF_INET, .proto = 17, .no_csum = true, .payload = 30 };
		const struct rewrite_target nat = target(POOL_MODE_NAT, AF_INET, 0);
		const struct self_addr vip = { AF_INET, { 203, 0, 113, 10 } };
		len = rewrite_ok(out, in, build(in, &s), 21, &nat);
		assert_int_equal(rd16(out + 34 + 6), 0);
		assert_int_equal(rd16(out + 34 + 4), 8 + 21);
		s.reply = true;
		len = build(in, &s);
		assert_int_equal(pkt_parse(in, len, &l), PKT_STATUS_OK);
		assert_int_equal(rewrite_reply_source(in, len, &l, &vip, VIP_PORT), 0);
		assert_int_equal(rd16(in + 34 + 6), 0);
		verify_frame(in, len);
	}
	/* IPv6: 0 is invalid (RFC 8200); the parser says udp6_zero_checksum
	 * and the pipeline drops it, with the layout complete. The rewrite
	 * stays safe for such a layout: dsr passes it on untouched, a packet
	 * it changes gets a full checksum */
	{
		struct spec s = { .family = AF_INET6, .ext = EXT_DST, .proto = 17, .no_csum = true,
				  .payload = 31 };
		const struct rewrite_target dsr = target(POOL_MODE_DSR, AF_INET6, 0);
		const struct rewrite_target nat = target(POOL_MODE_NAT, AF_INET6, 0);
		const struct self_addr vip = { AF_INET6, A6(2, 0x10) };
		const size_t udp = 14 + 40 + 16;

		len = build(in, &s);
		memcpy(out, in, len);
		assert_int_equal(pkt_parse(out, len, &l), PKT_STATUS_UDP6_ZERO_CHECKSUM);
		assert_int_equal(l.family, AF_INET6);
		assert_int_equal(l.l4_off, udp);
		assert_int_equal(l.l4_len, 8 + 31);
		assert_int_equal(l.payload_off, udp + 8);
		assert_int_equal(l.payload_len, 31);
		assert_int_equal(rewrite_forward(out, &len, CAP, &l, 31, &dsr), 0);
		assert_int_equal(rd16(out + udp + 6), 0);

		len = rewrite_status(out, in, build(in, &s), 31, &nat, PKT_STATUS_UDP6_ZERO_CHECKSUM);
		assert_int_not_equal(rd16(out + udp + 6), 0);
		len = rewrite_status(out, in, build(in, &s), 20, &dsr, PKT_STATUS_UDP6_ZERO_CHECKSUM);
		assert_int_equal(len, udp + 8 + 20);
		assert_int_not_equal(rd16(out + udp + 6), 0);
		s.reply = true;
		len = build(in, &s);
		assert_int_equal(pkt_parse(in, len, &l), PKT_STATUS_UDP6_ZERO_CHECKSUM);
		assert_int_equal(rewrite_reply_source(in, len, &l, &vip, VIP_PORT), 0);
		verify_frame(in, len);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(checksum_rfc_examples),
		cmocka_unit_test(checksum_zero_is_sent_as_ffff),
		cmocka_unit_test(parse_fixture_layouts),
		cmocka_unit_test(parse_built_frames),
		cmocka_unit_test(parse_errors),
		cmocka_unit_test(parse_fragments),
		cmocka_unit_test(parse_every_prefix),
		cmocka_unit_test(parse_garbage),
		cmocka_unit_test(dsr_exact),
		cmocka_unit_test(nat_exact),
		cmocka_unit_test(encap_exact),
		cmocka_unit_test(reply_exact),
		cmocka_unit_test(forward_matrix),
		cmocka_unit_test(forward_errors),
		cmocka_unit_test(rewrite_fragments),
		cmocka_unit_test(udp_zero_checksum),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
