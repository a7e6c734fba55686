/* A set of named flags as bits: the compiled form of a config's flags.
 * Names live in the control plane; the fast path sees only bits. */
#ifndef SIPHON_FLAGSET_H
#define SIPHON_FLAGSET_H

#include <stdbool.h>
#include <stdint.h>

#define SIPHON_MAX_FLAGS 128
#define FLAGSET_WORDS (SIPHON_MAX_FLAGS / 64)

struct flagset {
	uint64_t w[FLAGSET_WORDS];
};

_Static_assert(sizeof(struct flagset) == SIPHON_MAX_FLAGS / 8, "flagset is plain bits");

static inline void flagset_set(struct flagset *f, unsigned bit)
{
	f->w[bit / 64] |= 1ull << (bit % 64);
}

static inline bool flagset_has(const struct flagset *f, unsigned bit)
{
	return (f->w[bit / 64] >> (bit % 64)) & 1;
}

static inline void flagset_or(struct flagset *into, const struct flagset *from)
{
	for (unsigned i = 0; i < FLAGSET_WORDS; i++)
		into->w[i] |= from->w[i];
}

static inline bool flagset_empty(const struct flagset *f)
{
	uint64_t any = 0;
	for (unsigned i = 0; i < FLAGSET_WORDS; i++)
		any |= f->w[i];
	return any == 0;
}

static inline bool flagset_equal(const struct flagset *a, const struct flagset *b)
{
	uint64_t diff = 0;
	for (unsigned i = 0; i < FLAGSET_WORDS; i++)
		diff |= a->w[i] ^ b->w[i];
	return diff == 0;
}

/* True when every bit of `must` is set in f and no bit of `must_not` is. */
static inline bool flagset_matches(const struct flagset *f, const struct flagset *must,
				   const struct flagset *must_not)
{
	uint64_t miss = 0;
	for (unsigned i = 0; i < FLAGSET_WORDS; i++)
		miss |= (must->w[i] & ~f->w[i]) | (must_not->w[i] & f->w[i]);
	return miss == 0;
}

#endif
