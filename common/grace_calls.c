#include <stdlib.h>
#include <string.h>

#include "siphon/grace_calls.h"

/* Seconds in an entry's 32 bits (136 years of CLOCK_MONOTONIC). */
static uint32_t secs32(uint64_t s)
{
	return s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
}

/* The tag (the hash's high half: the bucket took bits of the low half)
 * and the change it was noted for. Never 0 for until > now. */
static uint64_t entry(uint64_t hash, uint64_t until)
{
	return (hash >> 32) << 32 | secs32(until);
}

static uint64_t *bucket(const struct grace_calls *gc, uint64_t hash)
{
	return gc->entries + (hash & gc->mask) * GRACE_CALLS_WAYS;
}

struct grace_calls *grace_calls_new(unsigned bits)
{
	struct grace_calls *gc;
	size_t bytes;

	if (bits > GRACE_CALLS_BITS_MAX)
		return NULL;
	gc = malloc(sizeof(*gc));
	if (!gc)
		return NULL;
	bytes = ((size_t)1 << bits) * GRACE_CALLS_WAYS * sizeof(uint64_t);
	gc->entries = aligned_alloc(64, bytes); /* a bucket is one cache line */
	if (!gc->entries) {
		free(gc);
		return NULL;
	}
	memset(gc->entries, 0, bytes);
	gc->mask = ((uint64_t)1 << bits) - 1;
	return gc;
}

void grace_calls_free(struct grace_calls *gc)
{
	if (!gc)
		return;
	free(gc->entries);
	free(gc);
}

/* Relaxed atomics: an entry is the whole message, nothing else is
 * published with it. */
enum grace_note grace_calls_note(struct grace_calls *gc, uint64_t hash, uint64_t until,
				 uint64_t now)
{
	uint64_t *b = bucket(gc, hash);
	const uint64_t want = entry(hash, until);
	const uint32_t now32 = secs32(now);

	if ((uint32_t)want <= now32)
		return GRACE_FULL;
	for (unsigned i = 0; i < GRACE_CALLS_WAYS; i++)
		if (__atomic_load_n(&b[i], __ATOMIC_RELAXED) == want)
			return GRACE_ALREADY;
	for (unsigned i = 0; i < GRACE_CALLS_WAYS; i++) {
		uint64_t e = __atomic_load_n(&b[i], __ATOMIC_RELAXED);

		if ((uint32_t)e > now32)
			continue; /* live */
		if (__atomic_compare_exchange_n(&b[i], &e, want, false, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED))
			return GRACE_NOTED;
		/* another worker took the slot first: perhaps for this call */
		if (e == want)
			return GRACE_ALREADY;
	}
	return GRACE_FULL;
}

bool grace_calls_seen(const struct grace_calls *gc, uint64_t hash, uint64_t until)
{
	const uint64_t *b = bucket(gc, hash);
	const uint64_t want = entry(hash, until);

	for (unsigned i = 0; i < GRACE_CALLS_WAYS; i++)
		if (__atomic_load_n(&b[i], __ATOMIC_RELAXED) == want)
			return true;
	return false;
}
