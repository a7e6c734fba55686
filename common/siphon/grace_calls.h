/* The grace register (docs/dispatch.md "Calls begun during the grace
 * period"): the Call-IDs whose initial request the fast path sent, during a
 * pool's grace period, to the current table's node of a slot that moved.
 * Their later messages follow that node, not the previous table.
 *
 * One per siphon process, shared by its workers: notes by compare-and-swap,
 * reads by atomic loads, no lock. Allocated once at start; nothing per
 * packet but at most 8 entries read and one swapped. */
#ifndef SIPHON_GRACE_CALLS_H
#define SIPHON_GRACE_CALLS_H

#include <stdbool.h>
#include <stdint.h>

#define GRACE_CALLS_WAYS 8 /* entries per bucket: 64 bytes, one cache line */
/* 2^16 buckets of 8 entries, 4 MiB: 524,288 entries. An entry lives until
 * its grace period ends, so what counts is the calls begun on moved slots
 * within grace_s: with 50,000 of them about 1 note in 700,000 finds its
 * bucket full, with 100,000 (a 4th node joining at 2,200 calls/s over
 * 180 s) 1 in 5,000, with 150,000 1 in 400 (docs/dispatch.md). */
#define GRACE_CALLS_BITS_DEFAULT 16
#define GRACE_CALLS_BITS_MAX 24

struct grace_calls {
	uint64_t mask;     /* buckets - 1 */
	uint64_t *entries; /* (mask + 1) * GRACE_CALLS_WAYS; 0 or expired: free */
};

enum grace_note {
	GRACE_NOTED,   /* remembered now */
	GRACE_ALREADY, /* remembered before (a retransmission) */
	GRACE_FULL,    /* not remembered: the bucket holds 8 live entries */
};

/* 2^bits buckets (bits 0..GRACE_CALLS_BITS_MAX), all free; NULL: out of
 * memory or bits out of range. */
struct grace_calls *grace_calls_new(unsigned bits);
void grace_calls_free(struct grace_calls *gc);

/* Remembers the call of `hash` for the pool change `until` (the pool's
 * previous_until, CLOCK_MONOTONIC seconds below 2^32; the entry is free
 * once now reaches it). until <= now keeps nothing (GRACE_FULL). */
enum grace_note grace_calls_note(struct grace_calls *gc, uint64_t hash, uint64_t until,
				 uint64_t now);

/* Whether the call of `hash` was noted for the pool change `until`: an
 * entry of an earlier change of the pool (another until) does not count. */
bool grace_calls_seen(const struct grace_calls *gc, uint64_t hash, uint64_t until);

#endif
