/* Per-source token buckets for the route's rate-limit rules: one bounded
 * table per worker, allocated once. A source over its bucket is dropped
 * (reason rate_limited); within it, the route goes on. */
#ifndef SIPHON_RATELIMIT_H
#define SIPHON_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#define RATELIMIT_SLOTS  65536u /* buckets per worker (a power of two) */
#define RATELIMIT_PROBES 8u     /* slots looked at before the oldest one is reused */

struct ratelimit_bucket {
	uint64_t key;     /* hash of (rule, source); 0 = free */
	uint64_t last_ms; /* last refill */
	uint32_t milli_tokens;
};

struct ratelimit {
	struct ratelimit_bucket *b;
	uint64_t seed;
	uint64_t reused; /* buckets taken over from another source (table under pressure) */
};

int ratelimit_init(struct ratelimit *r, uint64_t seed);
void ratelimit_free(struct ratelimit *r);

/* Takes one token from the bucket of (rule, source): true when there was
 * one. A new source starts with a full bucket. */
bool ratelimit_take(struct ratelimit *r, uint16_t rule, int family, const uint8_t *src,
		    uint32_t rate_per_sec, uint32_t burst, uint64_t now_ms);

#endif
