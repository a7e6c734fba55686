/* One decision for one message, from its bytes and what the packet says
 * about it: scan -> classify -> decide -> dispatch. The fast path's
 * pipeline, `siphonctl explain` and siphond call this and nothing else, so
 * they cannot disagree (docs/architecture.md "One decision path").
 *
 * No allocation, no lock, no system call (the grace register is a table
 * of atomics). */
#ifndef SIPHON_DECIDE_H
#define SIPHON_DECIDE_H

#include "siphon/classify.h"
#include "siphon/dispatch.h"
#include "siphon/ratelimit.h"

/* What a decision may read besides the tables. */
struct decide_ctx {
	const struct classifier *cls; /* the tables and the pattern database */
	struct ratelimit *buckets;    /* NULL: every source is within every limit (explain) */
	uint64_t now_s;               /* CLOCK_MONOTONIC seconds: the grace table */
	uint64_t now_ms;              /* the token buckets */
	struct grace_calls *grace_calls; /* the calls begun during a grace period on a slot
					  * that moved (grace_calls.h); NULL: none, dialogs
					  * follow the previous table (explain of one
					  * message, siphond) */
	bool lazy_flags; /* true: compute only the flags the route needs and scan
			  * only the fields routing reads (SIP_FIELDS_ROUTING; the
			  * fast path); false: every flag and field (explain,
			  * siphond) */
};

struct msg_decision {
	enum sip_verdict verdict; /* forward, drop, punt (to siphond) or reply (by siphond) */
	enum sip_reason reason;   /* the one counted for this packet */
	struct sip_msg msg;       /* the scan; msg.parsed false when there was no message */
	bool classified;          /* flags hold the message's flags */
	struct flagset flags;     /* the flags set, among those known */
	struct flagset known;     /* the flags computed: all of them unless ctx->lazy_flags
				   * (then those the rules reached needed) */
	unsigned hs_scans;        /* header values scanned for this message (Hyperscan calls,
				   * and those the literal pre-check spared on the lazy path) */
	int rule;                 /* the deciding rule, or -1 when the scanner decided */
	unsigned n_rate_limits;   /* rate-limit rules passed (the last one dropped it when
				   * reason is rate_limited) */
	uint16_t rate_limits[DECISION_MAX_RATE_LIMITS];
	int pool;                 /* forward: the pool; else -1 */
	struct dispatch_result node; /* forward: the node and how it was chosen */
	uint16_t fwd_len;         /* forward: L4 payload bytes to keep (UDP: the framed message) */
	/* TCP: the connection's node comes from its source and transport only
	 * (the route with every message flag clear); a message in the segment
	 * can drop it, but not move the connection. */
	bool incomplete; /* a first fragment without the whole header block: nothing is
			  * decided (or counted) until the datagram is reassembled */
	bool stream;
	bool stream_rule_ignored; /* the message's rule chose another pool, punt or reply: the
				   * segment stays on its connection's node */
};

/* Decides the L4 payload [payload, payload+len) of one packet. */
void decide_message(const struct decide_ctx *ctx, const uint8_t *payload, size_t len,
		    const struct packet_meta *pm, struct msg_decision *out);

#endif
