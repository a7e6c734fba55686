/* The fixture of the reassembly tests (test_frag_reasm.c,
 * test_frag_limits.c; docs/fragments.md): a ~3000-byte SIP INVITE in a UDP
 * datagram, framed as IPv4 or IPv6 fragments (VLAN tag, destination
 * options, hop-by-hop headers, another protocol), and one fragment table
 * fed through add(), which files every first fragment for reassembly. */
#ifndef SIPHON_TEST_FRAG_FIXTURE_H
#define SIPHON_TEST_FRAG_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fragments.h"
#include "siphon/packet.h"
#include "frag_build.h"

#define MAX_FRAGS 8
#define FRAME_CAP 12288

extern const uint8_t MAC_BAL[6], MAC_CLIENT[6];
extern const uint8_t CLIENT4[4], VIP4[4], CLIENT6[16], VIP6[16];

/* How a datagram is framed. */
struct spec {
	int family;
	uint32_t id;
	bool vlan;      /* an 802.1Q tag */
	bool dstopts;   /* IPv6: a destination-options header after the fragment header */
	uint16_t hbh;   /* IPv6: a hop-by-hop header of this many bytes in every fragment */
	uint8_t proto;  /* 0: UDP */
	uint16_t sport; /* 0: 5062 */
};

struct frag {
	uint8_t buf[FRAME_CAP];
	size_t len;
	struct pkt_layout l;
	enum pkt_status st;
};

struct decision {
	uint32_t node;
	uint8_t mode;
};

extern char sip[4096];
extern size_t sip_len;
extern uint8_t dgram[65536]; /* the fragmentable part: [dest-opts] UDP header, payload */
extern size_t dgram_len, l4_rel;
extern struct frag fr[MAX_FRAGS];
extern struct frag extra;
extern struct frag_table tab;

/* building frames */
void make_invite(void);                 /* sip, sip_len: the INVITE */
void make_datagram(const struct spec *s, const uint8_t *payload, size_t plen);
void make_frag(struct frag *f, const struct spec *s, size_t off, size_t len, bool mf);
void cut(const struct spec *s, unsigned n); /* dgram into fr[0..n) */
void invite(const struct spec *s, unsigned n);

/* the table */
enum frag_result add(const struct frag *f, uint64_t now, struct frag_datagram **done);
void init(const struct frag_limits *lim);
void check_complete(const struct frag_datagram *d, unsigned n);
struct frag_datagram *feed(const unsigned *order, unsigned n, uint64_t now);
struct frag_datagram *feed_in_order(unsigned n, uint64_t now);
uint32_t rnd(void);
void decide_node(struct frag_datagram *d, uint32_t node);
void check_decision(uint32_t node);

#endif
