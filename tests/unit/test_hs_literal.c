/* The literal pre-check's extractor and search (common/hs_literal.c,
 * docs/scanner.md "The literal pre-check"): which patterns give which
 * literals, which give none (their header is always scanned), and the
 * search on values at block edges, in either case. The fuzz harness
 * fuzz-hs-literal compares the search with Hyperscan itself. */
#include <hs/hs.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "siphon/hs_literal.h"

#define SM HS_FLAG_SINGLEMATCH
#define CL HS_FLAG_CASELESS

/* The literals of a pattern, joined with ' ' ("" when none). */
static const char *lits(const char *pattern, unsigned flags)
{
	static char out[512];
	struct hs_literal l[HS_PRECHECK_MAX];
	unsigned n = hs_literal_extract(pattern, flags, 3, l, HS_PRECHECK_MAX);

	out[0] = 0;
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(l[i].header, 3);
		assert_int_equal(l[i].caseless, (flags & CL) != 0);
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%.*s", i ? " " : "",
			 (int)l[i].len, (const char *)l[i].text);
	}
	return out;
}

static void extracts(void **state)
{
	(void)state;
	assert_string_equal(lits("friendly-scanner|sipvicious|iWar", SM | CL),
			    "friendly-scanner sipvicious iWar");
	assert_string_equal(lits("^\"?sipvicious", SM | CL), "sipvicious");
	assert_string_equal(lits("esnet\\.[0-9]", SM), "esnet.");
	assert_string_equal(lits("^SIPp$", SM), "SIPp");
	assert_string_equal(lits("ab+cd", SM), "ab");      /* b once, not next to c */
	assert_string_equal(lits("ab?cde", SM), "cde");    /* b optional */
	assert_string_equal(lits("x.*yz|[]a]+qq", SM), "yz qq");
	assert_string_equal(lits("a\\|b", SM), "a|b");     /* an escaped bar is a byte */
	assert_string_equal(lits("[|]xy|zz", SM), "xy zz"); /* so is one in a class */
	assert_string_equal(lits("abcdefghijklmnopqrstuvwxyz0123456789", SM),
			    "abcdefghijklmnopqrstuvwxyz01"); /* a prefix is required too */
	assert_string_equal(lits("a*?bc", SM), "bc");
}

static void refuses(void **state)
{
	static const char *const none[] = {
		"(ab|cd)", "ab{2}", "a\\d+bc", "\\x41bc", "a|", "|ab", "ab|c", "a.b", "[[:alpha:]]xy",
		"ab^cd", "ab$cd", "*ab", "ab**", "\xc3\xa9t\xc3\xa9", "[ab", "a]bc", "\\Qab\\E",
	};
	struct hs_literal l[HS_PRECHECK_MAX];

	(void)state;
	for (unsigned i = 0; i < sizeof(none) / sizeof(none[0]); i++)
		if (hs_literal_extract(none[i], SM, 0, l, HS_PRECHECK_MAX) != 0)
			fail_msg("'%s' gave a literal", none[i]);
	assert_int_equal(hs_literal_extract("abc", SM | HS_FLAG_DOTALL, 0, l, HS_PRECHECK_MAX), 0);
	assert_int_equal(hs_literal_extract("ab|cd|ef", SM, 0, l, 2), 0); /* more than max */
}

static bool may(const char *pattern, unsigned flags, const char *value)
{
	struct hs_literal l[HS_PRECHECK_MAX];
	struct hs_precheck p;
	unsigned n = hs_literal_extract(pattern, flags, 0, l, HS_PRECHECK_MAX);
	bool a, b;

	assert_true(n > 0 && hs_precheck_build(&p, l, n));
	a = hs_precheck_may_match(&p, (const uint8_t *)value, strlen(value));
	b = hs_precheck_may_match_scalar(&p, (const uint8_t *)value, strlen(value));
	assert_int_equal(a, b);
	if (p.wide) { /* the CPU has AVX2: SSE2 too */
		p.wide = 0;
		assert_int_equal(hs_precheck_may_match(&p, (const uint8_t *)value, strlen(value)), a);
	}
	return a;
}

static void searches(void **state)
{
	char v[140];

	(void)state;
	assert_true(may("sipvicious", SM | CL, "\"SIPVicious\" <sip:100@1.2.3.4>"));
	assert_false(may("sipvicious", SM, "\"SIPVicious\" <sip:100@1.2.3.4>"));
	assert_false(may("sipvicious", SM | CL, "\"Alice\" <sip:alice@example.com>;tag=9fxced76sl"));
	assert_false(may("ab", SM, "a"));
	assert_false(may("ab", SM, ""));
	/* a literal at every offset of values of every length up to 130:
	 * the short copy, whole blocks, the overlapping last one */
	for (size_t len = 2; len < 130; len++)
		for (size_t at = 0; at + 2 <= len; at++) {
			memset(v, 'x', len);
			v[len] = 0;
			memcpy(v + at, "Qz", 2);
			assert_true(may("qZ", SM | CL, v));
			assert_false(may("qZ", SM, v));
			v[at + 1] = 0;
			assert_false(may("qz", SM | CL, v)); /* cut: the pair's second byte is gone */
		}
}

/* Three or more pairs go by bucket in the AVX2 search: exact up to 8
 * pairs, shared buckets above (a start for a pair that is not there).
 * Every literal of a 3-, 8- and 16-literal pattern at every offset, and
 * values made of their pairs' bytes crossed, must give the scalar answer. */
static void searches_by_bucket(void **state)
{
	static const char *const pats[] = {
		"qz|wx|kv",
		"qz|wx|kv|jb|fy|gh|pm|ck",
		"qz|wx|kv|jb|fy|gh|pm|ck|zq|xw|vk|bj|yf|hg|mp|kc",
	};
	const char *const bytes = "qzwxkvjbfyghpmck";
	char v[80];

	(void)state;
	for (unsigned k = 0; k < sizeof(pats) / sizeof(pats[0]); k++) {
		for (size_t len = 2; len < 70; len += 3)
			for (size_t at = 0; at + 2 <= len; at += 5) {
				memset(v, 'a', len);
				v[len] = 0;
				memcpy(v + at, pats[k] + 3 * (at % (k == 0 ? 3 : k == 1 ? 8 : 16)), 2);
				assert_true(may(pats[k], SM, v));
			}
		/* crossed bytes: a first byte of one pair before the second of another */
		for (unsigned i = 0; i < 16; i++)
			for (unsigned j = 0; j < 16; j++) {
				for (size_t len = 2; len < 70; len += 17) {
					memset(v, 'a', len);
					v[len] = 0;
					v[len / 2 - (len / 2 ? 1 : 0)] = bytes[i];
					v[len / 2 - (len / 2 ? 1 : 0) + 1] = bytes[j];
					(void)may(pats[k], SM, v); /* asserts the paths agree */
				}
			}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(extracts),
		cmocka_unit_test(refuses),
		cmocka_unit_test(searches),
		cmocka_unit_test(searches_by_bucket),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
