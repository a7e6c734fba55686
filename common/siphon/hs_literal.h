/* The literal pre-check in front of Hyperscan (docs/scanner.md "The
 * literal pre-check"): when every `match` pattern of a header has a
 * literal every match must contain (the pattern itself when it is a plain
 * literal, else its longest required run of literal characters), the
 * classifier looks for those literals in the value first and calls
 * hs_scan() only when one occurs. The pre-check only ever says "surely no
 * match": a value with a literal is scanned as before, so the flags are
 * always Hyperscan's.
 *
 * The control plane extracts the literals once per generation
 * (hs_literal_extract(), from the pattern text the fast path never sees);
 * they travel in the table blob (section hs_literals, struct hs_literal
 * used in place); classifier_init() builds one hs_precheck per header. */
#ifndef SIPHON_HS_LITERAL_H
#define SIPHON_HS_LITERAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HS_LITERAL_MAX   28 /* bytes kept of a literal (a prefix of a required
			     * literal is required too) */
#define HS_LITERAL_MIN   2  /* shorter factors give no pre-check */
#define HS_PRECHECK_MAX  16 /* literals of one header; more: no pre-check */

/* One required literal of a header's patterns (a table blob element). */
struct hs_literal {
	uint16_t header;  /* index into the extra header set */
	uint8_t caseless; /* 0 or 1: ASCII letters match either case */
	uint8_t len;      /* HS_LITERAL_MIN .. HS_LITERAL_MAX */
	uint8_t text[HS_LITERAL_MAX]; /* ASCII 0x01..0x7f; zero after len */
};

/* The literals of one pattern compiled with hs_flags (only
 * HS_FLAG_SINGLEMATCH and HS_FLAG_CASELESS allowed): one per top-level
 * alternative, at most max, into out (header set to `header`). Returns
 * their count, or 0 when the pattern has no such literal set (a group, a
 * back slash before a letter or digit, `{`, an alternative without a
 * literal run of HS_LITERAL_MIN characters, other flags, more than max):
 * then its header gets no pre-check. Every string Hyperscan matches
 * contains one of the literals (caseless ones up to ASCII case). */
unsigned hs_literal_extract(const char *pattern, unsigned hs_flags, uint16_t header,
			    struct hs_literal *out, unsigned max);

/* A header's literals, laid out for the search: each literal is looked
 * for by one pair of adjacent bytes in it, the pair least common in SIP
 * header values (a fixed guess per byte), then compared whole. */
struct hs_precheck {
	uint8_t n_lit, n_pair;
	uint8_t wide; /* 1: search 32 positions at a time (AVX2, this CPU has it) */
	/* each distinct pair, its bytes | 0x20, 16 copies each (one SSE2
	 * compare per pair and block) */
	uint8_t first[HS_PRECHECK_MAX][16] __attribute__((aligned(16)));
	uint8_t second[HS_PRECHECK_MAX][16] __attribute__((aligned(16)));
	/* the pairs in 8 buckets (pair j in bucket j % 8) by nibble: bit k of
	 * nib[0][x & 15] & nib[1][x >> 4] says byte x is the first byte of a
	 * pair of bucket k, nib[2], nib[3] the same for the second byte; each
	 * 16-byte table twice, for both halves of a 32-byte register */
	uint8_t nib[4][32] __attribute__((aligned(32)));
	uint8_t off[HS_PRECHECK_MAX];        /* where a literal's pair is in it */
	uint8_t pa[HS_PRECHECK_MAX], pb[HS_PRECHECK_MAX]; /* its pair, | 0x20 */
	struct hs_literal lit[HS_PRECHECK_MAX];
};

/* p from the n literals of one header; false (p has no literal) when n
 * is 0 or more than HS_PRECHECK_MAX or a literal is malformed. */
bool hs_precheck_build(struct hs_precheck *p, const struct hs_literal *lits, unsigned n);

/* False when none of p's literals occurs in [v, v+len): no pattern of the
 * header can match. True when one does (Hyperscan decides). */
bool hs_precheck_may_match(const struct hs_precheck *p, const uint8_t *v, size_t len);

/* The same answer, one byte at a time (the tests compare the two, with
 * p->wide 1 and 0). */
bool hs_precheck_may_match_scalar(const struct hs_precheck *p, const uint8_t *v, size_t len);

#endif
