/* Test frames for the fragment tests: a UDP datagram (IPv4 or IPv6, any
 * source) carrying a SIP INVITE, cut into Ethernet frames of fragments and
 * parsed with pkt_parse(). */
#ifndef SIPHON_TEST_FRAG_BUILD_H
#define SIPHON_TEST_FRAG_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "siphon/packet.h"

#define FB_FRAME_CAP 4096

struct fb_frame {
	uint8_t buf[FB_FRAME_CAP];
	size_t len;
	struct pkt_layout l;
	enum pkt_status st;
};

struct fb_datagram {
	int family;
	uint8_t src[16], dst[16];
	uint32_t id;
	uint8_t b[16384]; /* UDP header + payload */
	size_t len;
};

/* Network-order store and the Internet checksum, for builders. */
void fb_put16(uint8_t *p, uint32_t v);
uint32_t fb_sum16(const uint8_t *p, size_t n, uint32_t s); /* add n bytes to s */
uint16_t fb_fold(uint32_t s);                              /* fold and complement */

/* An INVITE with Call-ID call_id and an SDP-like body of body_len bytes.
 * pad > 0 puts `pad` bytes of X-Pad headers before the Call-ID, so the
 * Call-ID can be pushed out of the first fragment. Returns its length. */
size_t fb_invite(char *out, size_t cap, const char *call_id, size_t body_len, size_t pad);

/* d = UDP (sport -> 5060, valid checksum) + payload, from src to dst. */
void fb_datagram(struct fb_datagram *d, int family, const uint8_t *src, const uint8_t *dst,
		 uint32_t id, const void *payload, size_t plen);

/* The fragment carrying d->b[off, off + len), MF as given. */
void fb_frag(struct fb_frame *f, const struct fb_datagram *d, size_t off, size_t len, bool mf);

/* d cut into n fragments of equal size (multiples of 8; the last takes the rest). */
void fb_cut(struct fb_frame *f, const struct fb_datagram *d, unsigned n);

#endif
