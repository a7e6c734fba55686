/* Finding the UDP payload of a captured frame: Ethernet with up to two VLAN
 * tags, IPv4 with options, IPv6 with extension headers. Used by the CLI to
 * read captures; the fast path's own parser comes with the dispatch issue. */
#ifndef SIPHON_PKT_UDP_H
#define SIPHON_PKT_UDP_H

#include <stddef.h>
#include <stdint.h>

enum pkt_udp_status {
	PKT_UDP_OK = 0,
	PKT_UDP_NOT_IP,    /* not IPv4 or IPv6 */
	PKT_UDP_NOT_UDP,   /* IP, other protocol */
	PKT_UDP_TRUNCATED, /* headers or payload cut short */
	PKT_UDP_FRAGMENT,  /* an IP fragment: no whole UDP datagram */
	PKT_UDP__COUNT
};

struct pkt_udp {
	int family; /* AF_INET or AF_INET6 */
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	size_t payload_off, payload_len;
};

enum pkt_udp_status pkt_udp_from_eth(const uint8_t *frame, size_t len, struct pkt_udp *out);
/* `ip` starts at the IP header; offsets in *out are relative to `ip`. */
enum pkt_udp_status pkt_udp_from_ip(const uint8_t *ip, size_t len, struct pkt_udp *out);
const char *pkt_udp_status_name(enum pkt_udp_status s);

#endif
