#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "siphon/ratelimit.h"
#include "siphon/maglev.h"

int ratelimit_init(struct ratelimit *r, uint64_t seed)
{
	r->b = calloc(RATELIMIT_SLOTS, sizeof(*r->b));
	r->seed = seed;
	r->reused = 0;
	return r->b ? 0 : -ENOMEM;
}

void ratelimit_free(struct ratelimit *r)
{
	free(r->b);
	r->b = NULL;
}

bool ratelimit_take(struct ratelimit *r, uint16_t rule, int family, const uint8_t *src,
		    uint32_t rate_per_sec, uint32_t burst, uint64_t now_ms)
{
	uint8_t key_bytes[2 + 1 + 16];
	size_t alen = family == AF_INET ? 4 : 16;
	struct ratelimit_bucket *b = NULL, *oldest = NULL;
	uint64_t key, refill;

	key_bytes[0] = (uint8_t)(rule >> 8), key_bytes[1] = (uint8_t)rule;
	key_bytes[2] = (uint8_t)family;
	memcpy(key_bytes + 3, src, alen);
	key = callid_hash(key_bytes, 3 + alen, r->seed) | 1; /* never 0: 0 marks a free slot */
	for (uint32_t i = 0; i < RATELIMIT_PROBES; i++) {
		struct ratelimit_bucket *x = &r->b[(key + i) & (RATELIMIT_SLOTS - 1)];
		if (x->key == key || x->key == 0) {
			b = x;
			break;
		}
		if (!oldest || x->last_ms < oldest->last_ms)
			oldest = x;
	}
	if (!b) { /* the window is full: the least recently refilled bucket goes */
		b = oldest;
		r->reused++;
		b->key = 0;
	}
	if (b->key != key) {
		b->key = key;
		b->last_ms = now_ms;
		b->milli_tokens = burst * 1000u;
	}
	if (now_ms > b->last_ms) {
		uint64_t dt = now_ms - b->last_ms;
		/* milli-tokens: rate/s x ms; an hour refills any bucket, and keeps this small */
		refill = (dt < 3600000u ? dt : 3600000u) * rate_per_sec;
		b->milli_tokens = refill + b->milli_tokens >= (uint64_t)burst * 1000u
					  ? burst * 1000u
					  : b->milli_tokens + (uint32_t)refill;
		b->last_ms = now_ms;
	}
	if (b->milli_tokens < 1000u)
		return false;
	b->milli_tokens -= 1000u;
	return true;
}
