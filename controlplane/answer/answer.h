/* Answers siphond gives to what the fast path punts, whatever way the
 * punt arrived: a SIP response built from the request (a `reply` rule,
 * OPTIONS to the balancer, 503 when a pool has no live node) and a STUN
 * binding success. Pure: bytes in, bytes out, no allocation. Reference:
 * docs/answers.md. */
#ifndef SIPHON_ANSWER_H
#define SIPHON_ANSWER_H

#include <stddef.h>
#include <stdint.h>

#include "sip_out.h"

/* A reason phrase is at most this long (the config allows 63). */
#define ANSWER_REASON_MAX 127

/* The response to make. */
struct answer_status {
	uint16_t code;          /* 100-699 */
	const char *reason;     /* printable ASCII, may be empty */
	uint32_t retry_after_s; /* 0: no Retry-After header */
};

/* Builds the response to the request in req[0..len) that arrived from
 * `src` (RFC 3261 8.2.6):
 *
 *   SIP/2.0 CODE REASON
 *   Via: ...          every Via of the request, in order; the top one with
 *                     received=SRC when its sent-by host is not SRC, and
 *                     rport=PORT (and received= always, RFC 3581) when it
 *                     has an rport without a value
 *   From: ...         as in the request
 *   To: ...           as in the request, with ;tag=... added when it has none
 *   Call-ID: ...
 *   CSeq: N METHOD
 *   Retry-After: S    when retry_after_s is not 0
 *   Content-Length: 0
 *
 * Header names are written in their long forms. -EINVAL: the request does
 * not scan as one siphon forwards (docs/scanner.md), is a response, or the
 * status is bad; -ENOMSG: it is an ACK (never answered); -ENOSPC: the
 * answer does not fit in cap. */
int answer_request(const uint8_t *req, size_t len, const struct sip_endpoint *src,
		   const struct answer_status *st, uint8_t *out, size_t cap, size_t *out_len);

/* answer_request() for an OPTIONS request only (-EINVAL otherwise). */
int answer_options(const uint8_t *req, size_t len, const struct sip_endpoint *src,
		   const struct answer_status *st, uint8_t *out, size_t cap, size_t *out_len);

/* 503 Service Unavailable with Retry-After: retry_after_s (none when 0),
 * to an initial request (no To tag) for a pool with no live node; -EINVAL
 * for an in-dialog request. */
int answer_no_live_node(const uint8_t *req, size_t len, const struct sip_endpoint *src,
			uint32_t retry_after_s, uint8_t *out, size_t cap, size_t *out_len);

/* The To tag the answers add: 16 hex digits of a hash of the Call-ID and
 * the From tag, so a retransmission gets the same tag. */
void answer_to_tag(const uint8_t *call_id, size_t call_id_len, const uint8_t *from_tag,
		   size_t from_tag_len, char tag[17]);

/* STUN (RFC 5389) */
#define STUN_HEADER_LEN      20
#define STUN_MAGIC_COOKIE    0x2112A442u
#define STUN_BINDING_REQUEST 0x0001u
#define STUN_BINDING_SUCCESS 0x0101u
#define STUN_XOR_MAPPED_ADDRESS 0x0020u
#define STUN_ANSWER_MAX      (STUN_HEADER_LEN + 4 + 20)

/* The binding success response to the binding request req[0..len) that
 * came from `src`: the same transaction id and one XOR-MAPPED-ADDRESS
 * (32 bytes for IPv4, 44 for IPv6). Attributes of the request are walked
 * (each within the message) and otherwise ignored. -EINVAL: not a binding
 * request (type, cookie, length, an attribute running past the end, an
 * unknown source family); -ENOSPC: cap is too small. */
int answer_stun(const uint8_t *req, size_t len, const struct sip_endpoint *src, uint8_t *out,
		size_t cap, size_t *out_len);

#endif
