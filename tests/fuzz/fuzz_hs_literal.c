/* Fuzz harness for the literal pre-check (common/hs_literal.c,
 * docs/scanner.md "The literal pre-check") against Hyperscan itself. The
 * input: a flags byte (bit 0: caseless), a pattern up to the first 0xff
 * byte, the value after it. Pattern bytes that are letters, digits or
 * regex syntax are kept, other ones below 0x80 drawn from an alphabet of
 * letters in both cases and the syntax the extractor reads or refuses;
 * value bytes that are printable ASCII are kept, other ones below 0xc0
 * drawn from a few letters and line breaks, the rest kept (non-ASCII). Checks (abort() on a breach):
 *   - a pattern the extractor gives literals for that Hyperscan compiles
 *     never matches a value the pre-check says "surely no match" for;
 *   - for a plain literal (no syntax, at most HS_LITERAL_MAX bytes) the
 *     pre-check's answer is exactly Hyperscan's;
 *   - the AVX2, SSE2 and scalar searches agree. */
#include <hs/hs.h>
#include <string.h>

#include "fuzz_check.h"
#include "siphon/hs_literal.h"

static const char pattern_alphabet[] = "abcxyzABCXYZ-_ :@\"|^$?*+.[]\\(){}0";
static const char value_alphabet[] = "abcxyzABCXYZ-_ :@\"|^$.[]\\\r\n\t0";

static bool is_alnum(uint8_t c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

static int on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
		    void *ctx)
{
	(void)id, (void)from, (void)to, (void)flags;
	*(int *)ctx = 1;
	return 1; /* stop: one is enough */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned flags = HS_FLAG_SINGLEMATCH | (size && (data[0] & 1) ? HS_FLAG_CASELESS : 0);
	char pattern[64];
	uint8_t value[512];
	size_t np = 0, nv = 0, i = 1;
	struct hs_literal lit[HS_PRECHECK_MAX];
	struct hs_precheck pre;
	hs_database_t *db = NULL;
	hs_compile_error_t *cerr = NULL;
	hs_scratch_t *scratch = NULL;
	bool plain = true, may;
	int matched = 0;
	unsigned n;

	if (size < 2)
		return 0;
	for (; i < size && data[i] != 0xff && np < sizeof(pattern) - 1; i++) {
		const uint8_t b = data[i];

		pattern[np] = b >= 0x80 || is_alnum(b) || (b && strchr(pattern_alphabet, b))
				      ? (char)b
				      : pattern_alphabet[b % (sizeof(pattern_alphabet) - 1)];
		if (!is_alnum((uint8_t)pattern[np]) && !strchr("-_ :@\"", pattern[np]))
			plain = false;
		np++;
	}
	pattern[np] = 0;
	for (i++; i < size && nv < sizeof(value); i++)
		value[nv++] = (data[i] >= 0x20 && data[i] < 0x7f) || data[i] >= 0xc0
				      ? data[i]
				      : (uint8_t)value_alphabet[data[i] % (sizeof(value_alphabet) - 1)];
	n = hs_literal_extract(pattern, flags, 0, lit, HS_PRECHECK_MAX);
	if (n == 0)
		return 0;
	CHECK(hs_precheck_build(&pre, lit, n));
	may = hs_precheck_may_match(&pre, value, nv);
	CHECK(may == hs_precheck_may_match_scalar(&pre, value, nv));
	if (pre.wide) { /* and 16 at a time */
		pre.wide = 0;
		CHECK(may == hs_precheck_may_match(&pre, value, nv));
	}
	if (hs_compile(pattern, flags, HS_MODE_BLOCK, NULL, &db, &cerr) != HS_SUCCESS) {
		hs_free_compile_error(cerr);
		return 0;
	}
	CHECK(hs_alloc_scratch(db, &scratch) == HS_SUCCESS);
	hs_scan(db, (const char *)value, (unsigned)nv, 0, scratch, on_match, &matched);
	CHECK(!matched || may);
	if (plain && np <= HS_LITERAL_MAX)
		CHECK(may == (matched != 0));
	hs_free_scratch(scratch);
	hs_free_database(db);
	return 0;
}
