/* What a received frame is to the balancer, before any SIP is read: a
 * message for a balancer address and SIP port, something for the kernel,
 * a nat node's answer to a client, an IP fragment, or a broken packet.
 * The pipeline and `siphonctl explain --pcap` both ask here. */
#ifndef SIPHON_FRAME_H
#define SIPHON_FRAME_H

#include "siphon/classify.h"
#include "siphon/packet.h"

#define FRAME_KINDS(X)                                                                          \
	X(MESSAGE, "message", "UDP or TCP to a balancer address and SIP port: decide_message()") \
	X(NOT_FOR_US, "not_for_us", "not to a balancer address and SIP port: the kernel's")      \
	X(NAT_REPLY, "nat_reply", "from a nat pool node's address and port to a client")         \
	X(FRAGMENT, "fragment", "an IP fragment to a balancer address")                          \
	X(BAD, "bad", "to a balancer address, but the packet parser's status drops it")

enum frame_kind {
#define X(id, name, help) FRAME_##id,
	FRAME_KINDS(X)
#undef X
	FRAME__COUNT
};

/* `st` and `l` are pkt_parse()'s for the frame. */
enum frame_kind frame_kind(const struct compiled_tables *t, const uint8_t *frame,
			   enum pkt_status st, const struct pkt_layout *l);

/* Whether `port` is one of the balancer's SIP ports. */
bool frame_port_is_ours(const struct compiled_tables *t, uint16_t port);

/* Addresses, ports, transport and the SYN bit of a MESSAGE or NAT_REPLY
 * frame (a first fragment too), for decide_message(). */
void frame_packet_meta(const uint8_t *frame, const struct pkt_layout *l, struct packet_meta *pm);

const char *frame_kind_name(unsigned k);

#endif
