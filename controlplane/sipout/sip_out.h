/* A bounded writer for the SIP messages siphond makes (probes, answers):
 * appends never pass the capacity, and one that would marks the output
 * full, so a builder checks once at the end. */
#ifndef SIPHON_SIP_OUT_H
#define SIPHON_SIP_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "siphon/tables.h"

/* An address (AF_INET / AF_INET6) and a UDP port, host byte order. */
struct sip_endpoint {
	struct self_addr ip;
	uint16_t port;
};

struct sip_out {
	uint8_t *buf;
	size_t cap, len;
	bool full; /* something did not fit: the output is unusable */
};

void sip_out_init(struct sip_out *o, uint8_t *buf, size_t cap);
void sip_out_put(struct sip_out *o, const void *bytes, size_t n);
void sip_out_str(struct sip_out *o, const char *s);
void sip_out_uint(struct sip_out *o, uint32_t v);
/* 8 lower-case hex digits */
void sip_out_hex32(struct sip_out *o, uint32_t v);
/* An IP literal; IPv6 in brackets when `brackets`. Unknown family: full. */
void sip_out_ip(struct sip_out *o, const struct self_addr *ip, bool brackets);
/* host:port, IPv6 in brackets */
void sip_out_hostport(struct sip_out *o, const struct sip_endpoint *e);
/* A header value copied from a message: CR and LF (folding) become SP. */
void sip_out_value(struct sip_out *o, const uint8_t *v, size_t n);
/* 0 and the length, or -ENOSPC when something did not fit. */
int sip_out_finish(const struct sip_out *o, size_t *len);

/* The family and bytes of an IP literal (IPv6 with or without brackets);
 * false when it is not one. */
bool sip_parse_ip(const uint8_t *s, size_t n, struct self_addr *ip);

/* [p, p+n) equals `lower` (a lower-case name) in any case: parameter names. */
bool sip_eq_nocase(const uint8_t *p, size_t n, const char *lower);

#endif
