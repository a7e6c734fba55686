/* Answers to punted messages (docs/answers.md "In siphond"). punt_answer.c
 * decides a message with decide_message() and builds the answer; it does
 * no I/O, so any way a punt arrives (a UDP socket on the balancer's
 * addresses today, DPDK's exception path later) feeds it the same way.
 * punt.c owns the sockets and the counters. */
#ifndef SIPHON_PUNT_H
#define SIPHON_PUNT_H

#include <stddef.h>
#include <stdint.h>

#include "siphon/classify.h"

#define PUNT_ANSWER_CAP    16384  /* the answers' own limit (docs/answers.md) */

enum punt_outcome {
	PUNT_ANSWERED_OPTIONS, /* a `reply` rule, OPTIONS: code */
	PUNT_ANSWERED_REPLY,   /* a `reply` rule, another method: code */
	PUNT_ANSWERED_STUN,
	PUNT_ANSWERED_503,     /* no live node, an initial request */
	PUNT_PROBE_ANSWER,     /* a response to one of siphond's own probes */
	PUNT_UNANSWERED,       /* read and decided, nothing to answer: why */
	PUNT_BAD,              /* not a message siphond can answer: why */
};

struct punt_result {
	enum punt_outcome outcome;
	uint16_t code;   /* SIP answers: the status code */
	const char *why; /* UNANSWERED / BAD: a static name (a sip_reason or ours) */
	size_t len;      /* answers: the bytes in out */
};

/* Decides buf[0..len), a UDP payload described by pm, with the tables of
 * cls (no rate-limit buckets: the fast path applied them), and writes the
 * answer, if any, to out[0..cap). cap must be at least PUNT_ANSWER_CAP.
 * retry_after_s[POOL]: the Retry-After of the 503 when POOL, the pool the
 * decision chose, has no live node (0: none), one per pool of the tables
 * (the config's retry_after_s: siphond's alone, not in the tables). */
void punt_answer(const struct classifier *cls, uint64_t now_ms, const uint8_t *buf, size_t len,
		 const struct packet_meta *pm, const uint32_t *retry_after_s, uint8_t *out,
		 size_t cap, struct punt_result *r);

#endif
