/* The source-prefix classifier: builder, lookup and parser, checked by
 * hand on nested prefixes and against a scan-every-prefix oracle. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "prefix_build.h"
#include "siphon/prefix_table.h"

/* ---- helpers ---- */

static struct flagset fs(unsigned a, unsigned b)
{
	struct flagset f = { { 0 } };

	if (a)
		flagset_set(&f, a);
	if (b)
		flagset_set(&f, b);
	return f;
}

static struct flagset fs_or(struct flagset a, struct flagset b)
{
	flagset_or(&a, &b);
	return a;
}

static const struct flagset empty_set;

/* Text to bytes; the test's own fixtures must parse. */
static unsigned addr_of(const char *text, uint8_t a[16])
{
	memset(a, 0, 16);
	if (inet_pton(AF_INET, text, a) == 1)
		return 4;
	assert_int_equal(inet_pton(AF_INET6, text, a), 1);
	return 16;
}

static void add_text(struct prefix_builder *b, const char *text, struct flagset f)
{
	uint8_t a[16];
	unsigned kb, plen;

	assert_int_equal(prefix_parse(text, a, &kb, &plen), 0);
	assert_int_equal(kb, b->key_bytes);
	assert_int_equal(prefix_builder_add(b, a, plen, &f), 0);
}

static void expect_at(const struct prefix_table *t, const char *text, struct flagset want)
{
	uint8_t a[16];
	const struct flagset *got;

	assert_int_equal(addr_of(text, a), t->key_bytes);
	got = prefix_lookup(t, a);
	assert_non_null(got);
	if (!flagset_equal(got, &want))
		fail_msg("%s: got %016llx:%016llx, want %016llx:%016llx", text,
			 (unsigned long long)got->w[1], (unsigned long long)got->w[0],
			 (unsigned long long)want.w[1], (unsigned long long)want.w[0]);
}

/* splitmix64: a fixed seed makes every run the same. */
static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned rnd_below(unsigned n)
{
	return (unsigned)(rnd() % n);
}

struct pfx {
	uint8_t addr[16];
	unsigned plen;
	struct flagset flags;
};

static void mask_host(uint8_t *a, unsigned kb, unsigned plen)
{
	for (unsigned i = 0; i < kb; i++) {
		unsigned keep = plen >= 8 * (i + 1) ? 8 : plen > 8 * i ? plen - 8 * i : 0;
		a[i] &= (uint8_t)~(0xffu >> keep);
	}
}

static bool covers(const struct pfx *p, const uint8_t *a, unsigned kb)
{
	for (unsigned i = 0; i < kb; i++) {
		unsigned keep = p->plen >= 8 * (i + 1) ? 8 : p->plen > 8 * i ? p->plen - 8 * i : 0;
		if ((a[i] ^ p->addr[i]) & (uint8_t)~(0xffu >> keep))
			return false;
	}
	return true;
}

/* The oracle: scan every prefix, OR the flags of those that contain a. */
static struct flagset naive(const struct pfx *ps, unsigned n, const uint8_t *a, unsigned kb)
{
	struct flagset f = empty_set;

	for (unsigned i = 0; i < n; i++)
		if (covers(&ps[i], a, kb))
			flagset_or(&f, &ps[i].flags);
	return f;
}

/* a + delta (+1 or -1), wrapping, big-endian over kb bytes. */
static void addr_step(uint8_t *a, unsigned kb, int delta)
{
	for (unsigned i = kb; i-- > 0;) {
		uint8_t before = a[i];
		a[i] = (uint8_t)(a[i] + delta);
		if ((delta > 0 && before != 0xff) || (delta < 0 && before != 0))
			return;
	}
}

static void last_of(const struct pfx *p, uint8_t *a, unsigned kb)
{
	memcpy(a, p->addr, 16);
	for (unsigned i = 0; i < kb; i++) {
		unsigned keep = p->plen >= 8 * (i + 1) ? 8 : p->plen > 8 * i ? p->plen - 8 * i : 0;
		a[i] |= (uint8_t)(0xffu >> keep);
	}
}

/* Random prefixes clustered around a few bases, so that many nest. */
static void random_prefix(struct pfx *p, unsigned kb, unsigned min_plen, unsigned max_plen,
			  const uint8_t bases[][16], unsigned n_bases)
{
	const uint8_t *base = bases[rnd_below(n_bases)];

	memcpy(p->addr, base, 16);
	for (unsigned i = 0; i < 2; i++)
		p->addr[rnd_below(kb)] ^= (uint8_t)(1u << rnd_below(8));
	p->plen = min_plen + rnd_below(max_plen - min_plen + 1);
	mask_host(p->addr, kb, p->plen);
	p->flags = fs(1 + rnd_below(127), rnd_below(4) ? 0 : 1 + rnd_below(127));
}

static void random_bases(uint8_t bases[][16], unsigned n, unsigned kb)
{
	memset(bases, 0, (size_t)n * 16);
	for (unsigned i = 0; i < n; i++)
		for (unsigned j = 0; j < kb; j++)
			bases[i][j] = (uint8_t)rnd();
}

static void build_all(struct prefix_builder *b, unsigned kb, const struct pfx *ps, unsigned n,
		      const unsigned *order, struct prefix_table *t)
{
	assert_int_equal(prefix_builder_init(b, kb), 0);
	for (unsigned i = 0; i < n; i++) {
		const struct pfx *p = &ps[order ? order[i] : i];
		assert_int_equal(prefix_builder_add(b, p->addr, p->plen, &p->flags), 0);
	}
	assert_int_equal(prefix_builder_build(b, t), 0);
}

static void check_lookup(const struct prefix_table *t, const struct pfx *ps, unsigned n,
			 const uint8_t *a)
{
	struct flagset want = naive(ps, n, a, t->key_bytes);
	const struct flagset *got = prefix_lookup(t, a);

	assert_true(got >= t->values && got < t->values + t->n_values);
	assert_true(flagset_equal(got, &want));
}

/* ---- the ABI ---- */

static void abi_sizes(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct prefix_entry), 8);
	assert_int_equal(offsetof(struct prefix_entry, child), 0);
	assert_int_equal(offsetof(struct prefix_entry, value), 4);
	assert_int_equal(sizeof(struct flagset), 16);
	assert_int_equal(PREFIX_FANOUT, 256);
	assert_int_equal(PREFIX_MAX_NODES, 65536);
}

static void empty_tables(void **state)
{
	struct prefix_table zero = { .key_bytes = 4 };
	struct prefix_builder b;
	struct prefix_table t;
	uint8_t a[16] = { 198, 51, 100, 1 };

	(void)state;
	assert_non_null(prefix_lookup(&zero, a));
	assert_true(flagset_empty(prefix_lookup(&zero, a)));

	assert_int_equal(prefix_builder_init(&b, 4), 0);
	assert_int_equal(prefix_builder_build(&b, &t), 0);
	assert_int_equal(t.key_bytes, 4);
	assert_int_equal(t.n_nodes, 1);
	assert_int_equal(t.n_values, 1);
	assert_ptr_equal(prefix_lookup(&t, a), &t.values[0]);
	assert_true(flagset_empty(&t.values[0]));
	prefix_builder_free(&b);
}

/* ---- semantics by hand ---- */

static void nested_v4_union(void **state)
{
	const struct flagset A = fs(1, 0), B = fs(2, 0), C = fs(3, 0), D = fs(100, 0);
	const struct flagset AB = fs_or(A, B), ABC = fs_or(AB, C), ABCD = fs_or(ABC, D);
	struct prefix_builder b;
	struct prefix_table t;

	(void)state;
	assert_int_equal(prefix_builder_init(&b, 4), 0);
	add_text(&b, "10.1.2.3/32", D);
	add_text(&b, "10.0.0.0/8", A);
	add_text(&b, "10.1.2.0/24", C);
	add_text(&b, "10.1.0.0/16", B);
	add_text(&b, "172.16.0.0/12", fs(5, 0));
	add_text(&b, "192.0.2.0/25", fs(6, 0));
	add_text(&b, "192.0.2.128/26", fs(7, 0));
	add_text(&b, "192.0.2.200/31", fs(8, 0));
	assert_int_equal(prefix_builder_build(&b, &t), 0);

	expect_at(&t, "10.1.2.3", ABCD);
	expect_at(&t, "10.1.2.2", ABC);
	expect_at(&t, "10.1.2.4", ABC);
	expect_at(&t, "10.1.2.0", ABC);
	expect_at(&t, "10.1.2.255", ABC);
	expect_at(&t, "10.1.1.255", AB);
	expect_at(&t, "10.1.3.0", AB);
	expect_at(&t, "10.1.0.0", AB);
	expect_at(&t, "10.1.255.255", AB);
	expect_at(&t, "10.0.255.255", A);
	expect_at(&t, "10.2.0.0", A);
	expect_at(&t, "10.0.0.0", A);
	expect_at(&t, "10.255.255.255", A);
	expect_at(&t, "9.255.255.255", empty_set);
	expect_at(&t, "11.0.0.0", empty_set);

	/* prefix lengths off the byte boundaries */
	expect_at(&t, "172.15.255.255", empty_set);
	expect_at(&t, "172.16.0.0", fs(5, 0));
	expect_at(&t, "172.31.255.255", fs(5, 0));
	expect_at(&t, "172.32.0.0", empty_set);
	expect_at(&t, "192.0.1.255", empty_set);
	expect_at(&t, "192.0.2.0", fs(6, 0));
	expect_at(&t, "192.0.2.127", fs(6, 0));
	expect_at(&t, "192.0.2.128", fs(7, 0));
	expect_at(&t, "192.0.2.191", fs(7, 0));
	expect_at(&t, "192.0.2.192", empty_set);
	expect_at(&t, "192.0.2.199", empty_set);
	expect_at(&t, "192.0.2.200", fs(8, 0));
	expect_at(&t, "192.0.2.201", fs(8, 0));
	expect_at(&t, "192.0.2.202", empty_set);
	prefix_builder_free(&b);
}

static void slash_zero(void **state)
{
	const struct flagset Z = fs(9, 0), Y = fs(127, 0);
	struct prefix_builder b;
	struct prefix_table t;

	(void)state;
	assert_int_equal(prefix_builder_init(&b, 4), 0);
	add_text(&b, "198.51.100.0/24", Y);
	add_text(&b, "0.0.0.0/0", Z);
	assert_int_equal(prefix_builder_build(&b, &t), 0);
	expect_at(&t, "0.0.0.0", Z);
	expect_at(&t, "255.255.255.255", Z);
	expect_at(&t, "198.51.99.255", Z);
	expect_at(&t, "198.51.100.7", fs_or(Z, Y));
	expect_at(&t, "198.51.101.0", Z);
	prefix_builder_free(&b);

	assert_int_equal(prefix_builder_init(&b, 16), 0);
	add_text(&b, "::/0", Z);
	add_text(&b, "2001:db8::/32", Y);
	assert_int_equal(prefix_builder_build(&b, &t), 0);
	expect_at(&t, "::", Z);
	expect_at(&t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Z);
	expect_at(&t, "2001:db8:ffff::1", fs_or(Z, Y));
	expect_at(&t, "2001:db9::", Z);
	prefix_builder_free(&b);
}

static void ipv6_prefixes(void **state)
{
	const struct flagset A = fs(1, 0), B = fs(64, 0), C = fs(65, 0);
	struct prefix_builder b;
	struct prefix_table t;

	(void)state;
	assert_int_equal(prefix_builder_init(&b, 16), 0);
	add_text(&b, "2001:db8:5::2/127", C);
	add_text(&b, "2001:db8:5::1/128", B);
	add_text(&b, "2001:db8:5::/48", A);
	assert_int_equal(prefix_builder_build(&b, &t), 0);
	assert_int_equal(t.key_bytes, 16);

	expect_at(&t, "2001:db8:5::", A);
	expect_at(&t, "2001:db8:5::1", fs_or(A, B));
	expect_at(&t, "2001:db8:5::2", fs_or(A, C));
	expect_at(&t, "2001:db8:5::3", fs_or(A, C));
	expect_at(&t, "2001:db8:5::4", A);
	expect_at(&t, "2001:db8:5:ffff:ffff:ffff:ffff:ffff", A);
	expect_at(&t, "2001:db8:6::", empty_set);
	expect_at(&t, "2001:db8:4:ffff:ffff:ffff:ffff:ffff", empty_set);
	expect_at(&t, "2001:db8:5:0:1::1", A);
	prefix_builder_free(&b);
}

/* ---- errors ---- */

static void builder_errors(void **state)
{
	const struct flagset A = fs(1, 0);
	struct prefix_builder b;
	struct prefix_table t1, t2;
	uint8_t a[16];

	(void)state;
	assert_int_equal(prefix_builder_init(&b, 0), -EINVAL);
	assert_int_equal(prefix_builder_init(&b, 6), -EINVAL);
	assert_int_equal(prefix_builder_init(&b, 5), -EINVAL);
	assert_int_equal(prefix_builder_init(NULL, 4), -EINVAL);

	assert_int_equal(prefix_builder_init(&b, 4), 0);
	add_text(&b, "198.51.100.0/24", A);
	assert_int_equal(prefix_builder_build(&b, &t1), 0);
	addr_of("198.51.100.1", a);
	assert_int_equal(prefix_builder_add(&b, a, 24, &A), -EINVAL); /* host bits */
	assert_int_equal(prefix_builder_add(&b, a, 33, &A), -EINVAL);
	assert_int_equal(prefix_builder_add(&b, a, 32, NULL), -EINVAL);
	addr_of("128.0.0.0", a);
	assert_int_equal(prefix_builder_add(&b, a, 0, &A), -EINVAL);
	/* refusals change nothing: the next build is the same bytes */
	assert_int_equal(prefix_builder_build(&b, &t2), 0);
	assert_int_equal(t2.n_nodes, t1.n_nodes);
	assert_int_equal(t2.n_values, 2);
	prefix_builder_free(&b);
	assert_int_equal(prefix_builder_add(&b, a, 1, &A), -EINVAL); /* freed */
	assert_int_equal(prefix_builder_build(&b, &t2), -EINVAL);

	assert_int_equal(prefix_builder_init(&b, 16), 0);
	addr_of("2001:db8:5:1::", a);
	assert_int_equal(prefix_builder_add(&b, a, 48, &A), -EINVAL);
	assert_int_equal(prefix_builder_add(&b, a, 64, &A), 0);
	assert_int_equal(prefix_builder_add(&b, a, 129, &A), -EINVAL);
	addr_of("::1", a);
	assert_int_equal(prefix_builder_add(&b, a, 127, &A), -EINVAL);
	assert_int_equal(prefix_builder_add(&b, a, 128, &A), 0);
	prefix_builder_free(&b);
}

static void empty_flags_add_nothing(void **state)
{
	struct prefix_builder b;
	struct prefix_table t;
	uint8_t a[16];

	(void)state;
	assert_int_equal(prefix_builder_init(&b, 16), 0);
	addr_of("2001:db8::1", a);
	assert_int_equal(prefix_builder_add(&b, a, 128, &empty_set), 0);
	assert_int_equal(prefix_builder_build(&b, &t), 0);
	assert_int_equal(t.n_nodes, 1);
	assert_int_equal(t.n_values, 1);
	prefix_builder_free(&b);
}

/* ---- the parser ---- */

static void parse_good(void **state)
{
	static const struct {
		const char *text;
		unsigned kb, plen;
		const char *addr;
	} cases[] = {
		{ "198.51.100.0/24", 4, 24, "198.51.100.0" },
		{ "192.0.2.0/24", 4, 24, "192.0.2.0" },
		{ "0.0.0.0/0", 4, 0, "0.0.0.0" },
		{ "10.0.0.0/8", 4, 8, "10.0.0.0" },
		{ "192.0.2.7", 4, 32, "192.0.2.7" },
		{ "192.0.2.7/32", 4, 32, "192.0.2.7" },
		{ "172.16.0.0/12", 4, 12, "172.16.0.0" },
		{ "2001:db8::/32", 16, 32, "2001:db8::" },
		{ "2001:db8:5::/48", 16, 48, "2001:db8:5::" },
		{ "::/0", 16, 0, "::" },
		{ "::1", 16, 128, "::1" },
		{ "2001:DB8::2/127", 16, 127, "2001:db8::2" },
		{ "::ffff:192.0.2.0/120", 16, 120, "::ffff:192.0.2.0" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t a[16], want[16];
		unsigned kb = 0, plen = 999;

		if (prefix_parse(cases[i].text, a, &kb, &plen) != 0)
			fail_msg("%s: rejected", cases[i].text);
		assert_int_equal(kb, cases[i].kb);
		assert_int_equal(plen, cases[i].plen);
		addr_of(cases[i].addr, want);
		assert_memory_equal(a, want, 16);
	}
}

static void parse_bad(void **state)
{
	static const char *const bad[] = {
		"", "/24", "198.51.100.0/", "198.51.100.0/33", "198.51.100.0/-1",
		"198.51.100.0/+8", "198.51.100.0/ 8", " 198.51.100.0/24", "198.51.100.0/24 ",
		"198.51.100.0/8x", "198.51.100.0/024", "198.51.100.0/00", "198.51.100.0/1000",
		"198.51.100/24", "198.51.100.0.0/24", "198.51.100.256/32", "1.2.3.04",
		"2001:db8::/129", "fe80::1%eth0", "fe80::1%eth0/128", "2001:db8:::/32",
		"[2001:db8::]/32", "localhost", "198.51.100.0/24/24", "0x0a000000/8",
		"2001:db8::/3a", "2001:db8::/", "1.2.3.4/4294967304",
		"1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc/128",
	};
	uint8_t a[16];
	unsigned kb, plen;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (prefix_parse(bad[i], a, &kb, &plen) != -EINVAL)
			fail_msg("\"%s\": not rejected as -EINVAL", bad[i]);
	assert_int_equal(prefix_parse(NULL, a, &kb, &plen), -EINVAL);
}

static void parse_host_bits(void **state)
{
	static const struct {
		const char *text;
		unsigned kb, plen;
	} cases[] = {
		{ "198.51.100.1/24", 4, 24 },
		{ "11.0.0.0/7", 4, 7 },
		{ "0.0.0.1/0", 4, 0 },
		{ "192.0.2.129/25", 4, 25 },
		{ "2001:db8::1/32", 16, 32 },
		{ "2001:db8:5::1/127", 16, 127 },
		{ "::1/0", 16, 0 },
	};
	uint8_t a[16];
	unsigned kb, plen;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (prefix_parse(cases[i].text, a, &kb, &plen) != -EDOM)
			fail_msg("\"%s\": host bits not reported", cases[i].text);
		assert_int_equal(kb, cases[i].kb);
		assert_int_equal(plen, cases[i].plen);
		assert_false(prefix_host_bits_clear(a, kb, plen));
	}
}

/* ---- determinism and dedup ---- */

static void shuffle(unsigned *order, unsigned n)
{
	for (unsigned i = n; i > 1; i--) {
		unsigned j = rnd_below(i), tmp = order[i - 1];
		order[i - 1] = order[j];
		order[j] = tmp;
	}
}

static void same_bytes_any_order_kb(unsigned kb)
{
	enum { N = 400 };
	static struct pfx ps[N];
	static unsigned order[N];
	uint8_t bases[6][16];
	struct prefix_builder ref, b;
	struct prefix_table tref, t;

	random_bases(bases, 6, kb);
	for (unsigned i = 0; i < N; i++)
		random_prefix(&ps[i], kb, 0, 8 * kb, (const uint8_t(*)[16])bases, 6);
	build_all(&ref, kb, ps, N, NULL, &tref);

	for (unsigned round = 0; round < 6; round++) {
		for (unsigned i = 0; i < N; i++)
			order[i] = round == 0 ? N - 1 - i : i;
		if (round > 1)
			shuffle(order, N);
		build_all(&b, kb, ps, N, order, &t);
		if (round == 1) { /* the same adds again: OR is idempotent */
			for (unsigned i = 0; i < N; i += 3)
				assert_int_equal(prefix_builder_add(&b, ps[i].addr, ps[i].plen,
								    &ps[i].flags), 0);
			assert_int_equal(prefix_builder_build(&b, &t), 0);
		}
		assert_int_equal(t.n_nodes, tref.n_nodes);
		assert_int_equal(t.n_values, tref.n_values);
		assert_memory_equal(t.nodes, tref.nodes,
				    (size_t)t.n_nodes * PREFIX_FANOUT * sizeof(*t.nodes));
		assert_memory_equal(t.values, tref.values, (size_t)t.n_values * sizeof(*t.values));
		prefix_builder_free(&b);
	}
	prefix_builder_free(&ref);
}

static void same_bytes_any_order(void **state)
{
	(void)state;
	rng_state = 11;
	same_bytes_any_order_kb(4);
	same_bytes_any_order_kb(16);
}

static void values_deduplicated(void **state)
{
	const struct flagset A = fs(1, 2), B = fs(3, 0);
	struct prefix_builder b;
	struct prefix_table t;
	uint8_t a[16] = { 0 };

	(void)state;
	assert_int_equal(prefix_builder_init(&b, 4), 0);
	for (unsigned i = 0; i < 1000; i++) {
		a[0] = 10;
		a[1] = (uint8_t)(i / 256);
		a[2] = (uint8_t)i;
		assert_int_equal(prefix_builder_add(&b, a, 24, i % 2 ? &A : &B), 0);
	}
	assert_int_equal(prefix_builder_build(&b, &t), 0);
	assert_int_equal(t.n_values, 3); /* {}, A, B */
	assert_true(flagset_empty(&t.values[0]));
	expect_at(&t, "10.0.1.9", A);
	expect_at(&t, "10.3.230.0", B);
	expect_at(&t, "10.3.232.0", empty_set);
	prefix_builder_free(&b);
}

/* ---- the oracle, on thousands of random prefixes ---- */

static void oracle_kb(unsigned kb, unsigned n, unsigned n_addrs)
{
	struct pfx *ps = calloc(n, sizeof(*ps));
	uint8_t bases[12][16], a[16];
	struct prefix_builder b;
	struct prefix_table t;

	assert_non_null(ps);
	random_bases(bases, 12, kb);
	for (unsigned i = 0; i < n; i++)
		random_prefix(&ps[i], kb, 0, 8 * kb, (const uint8_t(*)[16])bases, 12);
	/* a few short ones so the /0../8 expansion is exercised too */
	for (unsigned i = 0; i < 8 && i < n; i++)
		random_prefix(&ps[i], kb, 0, 8, (const uint8_t(*)[16])bases, 12);
	build_all(&b, kb, ps, n, NULL, &t);

	/* values are distinct and values[0] is the empty set */
	assert_true(flagset_empty(&t.values[0]));
	for (uint32_t i = 1; i < t.n_values; i++)
		assert_false(flagset_empty(&t.values[i]));

	for (unsigned i = 0; i < n; i++) { /* both edges of every prefix, and just outside */
		memcpy(a, ps[i].addr, 16);
		check_lookup(&t, ps, n, a);
		addr_step(a, kb, -1);
		check_lookup(&t, ps, n, a);
		last_of(&ps[i], a, kb);
		check_lookup(&t, ps, n, a);
		addr_step(a, kb, +1);
		check_lookup(&t, ps, n, a);
	}
	for (unsigned i = 0; i < n_addrs; i++) { /* near a base, and anywhere */
		memcpy(a, bases[rnd_below(12)], 16);
		for (unsigned j = rnd_below(kb); j < kb; j++)
			a[j] = (uint8_t)rnd();
		check_lookup(&t, ps, n, a);
		for (unsigned j = 0; j < kb; j++)
			a[j] = (uint8_t)rnd();
		check_lookup(&t, ps, n, a);
	}
	prefix_builder_free(&b);
	free(ps);
}

static void random_against_oracle(void **state)
{
	(void)state;
	rng_state = 20250101;
	oracle_kb(4, 3000, 10000);
	oracle_kb(16, 3000, 10000);
}

static void values_distinct(void **state)
{
	enum { N = 2000 };
	static struct pfx ps[N];
	uint8_t bases[4][16];
	struct prefix_builder b;
	struct prefix_table t;

	(void)state;
	rng_state = 5;
	random_bases(bases, 4, 4);
	for (unsigned i = 0; i < N; i++)
		random_prefix(&ps[i], 4, 4, 28, (const uint8_t(*)[16])bases, 4);
	build_all(&b, 4, ps, N, NULL, &t);
	for (uint32_t i = 0; i < t.n_values; i++)
		for (uint32_t j = i + 1; j < t.n_values; j++)
			assert_false(flagset_equal(&t.values[i], &t.values[j]));
	/* every index in range, children point forward (breadth-first) */
	for (uint32_t k = 0; k < t.n_nodes * PREFIX_FANOUT; k++) {
		assert_true(t.nodes[k].value < t.n_values);
		assert_true(t.nodes[k].child < t.n_nodes);
		if (t.nodes[k].child)
			assert_true(t.nodes[k].child > k / PREFIX_FANOUT);
	}
	prefix_builder_free(&b);
}

/* ---- sizes and limits ---- */

static void realistic_config_fits(void **state)
{
	struct prefix_builder b4, b6;
	struct prefix_table t4, t6;
	uint8_t a[16];

	(void)state;
	rng_state = 77;
	assert_int_equal(prefix_builder_init(&b4, 4), 0);
	for (unsigned i = 0; i < 1000; i++) {
		struct flagset f = fs(1 + rnd_below(127), 0);
		unsigned plen = 16 + rnd_below(13);
		memset(a, 0, 16);
		for (unsigned j = 0; j < 4; j++)
			a[j] = (uint8_t)rnd();
		mask_host(a, 4, plen);
		assert_int_equal(prefix_builder_add(&b4, a, plen, &f), 0);
	}
	assert_int_equal(prefix_builder_build(&b4, &t4), 0);
	assert_int_equal(prefix_builder_init(&b6, 16), 0);
	for (unsigned i = 0; i < 200; i++) {
		struct flagset f = fs(1 + rnd_below(127), 0);
		unsigned plen = 32 + rnd_below(97);
		for (unsigned j = 0; j < 16; j++)
			a[j] = (uint8_t)rnd();
		mask_host(a, 16, plen);
		assert_int_equal(prefix_builder_add(&b6, a, plen, &f), 0);
	}
	assert_int_equal(prefix_builder_build(&b6, &t6), 0);
	assert_true(t4.n_nodes + t6.n_nodes < PREFIX_MAX_NODES);
	print_message("1000 IPv4 /16-/28: %u nodes, %u values; 200 IPv6 /32-/128: %u nodes, %u values\n",
		      t4.n_nodes, t4.n_values, t6.n_nodes, t6.n_values);
	prefix_builder_free(&b4);
	prefix_builder_free(&b6);
}

static void node_limit(void **state)
{
	const struct flagset A = fs(1, 0);
	struct prefix_builder b;
	uint8_t a[16];
	uint32_t before;
	int err = 0;

	(void)state;
	rng_state = 3;
	assert_int_equal(prefix_builder_init(&b, 16), 0);
	/* random /128s: about 15 new nodes each, so ~4400 adds reach the limit */
	for (unsigned i = 0; i < 10000 && err == 0; i++) {
		for (unsigned j = 0; j < 16; j++)
			a[j] = (uint8_t)rnd();
		before = b.n_nodes;
		err = prefix_builder_add(&b, a, 128, &A);
	}
	assert_int_equal(err, -E2BIG);
	assert_int_equal(b.n_nodes, before); /* the refusal changed nothing */
	assert_true(b.n_nodes <= PREFIX_MAX_NODES);
	memset(a, 0, sizeof(a));
	assert_int_equal(prefix_builder_add(&b, a, 0, &A), 0); /* needs no node */
	prefix_builder_free(&b);
}

static void rebuild_after_more_adds(void **state)
{
	struct prefix_builder b, fresh;
	struct prefix_table t, tf;

	(void)state;
	assert_int_equal(prefix_builder_init(&b, 4), 0);
	add_text(&b, "192.0.2.0/24", fs(1, 0));
	assert_int_equal(prefix_builder_build(&b, &t), 0);
	expect_at(&t, "198.51.100.9", empty_set);
	add_text(&b, "198.51.100.0/24", fs(2, 0));
	assert_int_equal(prefix_builder_build(&b, &t), 0);
	expect_at(&t, "198.51.100.9", fs(2, 0));

	assert_int_equal(prefix_builder_init(&fresh, 4), 0);
	add_text(&fresh, "198.51.100.0/24", fs(2, 0));
	add_text(&fresh, "192.0.2.0/24", fs(1, 0));
	assert_int_equal(prefix_builder_build(&fresh, &tf), 0);
	assert_int_equal(t.n_nodes, tf.n_nodes);
	assert_memory_equal(t.nodes, tf.nodes, (size_t)t.n_nodes * PREFIX_FANOUT * sizeof(*t.nodes));
	prefix_builder_free(&fresh);
	prefix_builder_free(&b);
}

/* A table read from shared memory may be damaged: wrong answers, no wild reads. */
static void corrupt_table_stays_in_bounds(void **state)
{
	static struct prefix_entry nodes[2 * PREFIX_FANOUT];
	static const struct flagset values[2] = { { { 0 } }, { { 1, 0 } } };
	struct prefix_table t = { 4, 2, 2, nodes, values };
	uint8_t a[16] = { 1, 2, 3, 4 };

	(void)state;
	nodes[1].child = 7; /* no node 7 */
	nodes[1].value = 1;
	assert_ptr_equal(prefix_lookup(&t, a), &values[1]);
	nodes[1].child = 1;
	nodes[PREFIX_FANOUT + 2].value = 99; /* no value 99 */
	assert_true(flagset_empty(prefix_lookup(&t, a)));
	nodes[PREFIX_FANOUT + 2].child = 1; /* a loop: still at most 4 steps */
	assert_non_null(prefix_lookup(&t, a));
	t.key_bytes = 1000;
	assert_non_null(prefix_lookup(&t, a));
	t.n_values = 0;
	assert_true(flagset_empty(prefix_lookup(&t, a)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(abi_sizes),
		cmocka_unit_test(empty_tables),
		cmocka_unit_test(nested_v4_union),
		cmocka_unit_test(slash_zero),
		cmocka_unit_test(ipv6_prefixes),
		cmocka_unit_test(builder_errors),
		cmocka_unit_test(empty_flags_add_nothing),
		cmocka_unit_test(parse_good),
		cmocka_unit_test(parse_bad),
		cmocka_unit_test(parse_host_bits),
		cmocka_unit_test(same_bytes_any_order),
		cmocka_unit_test(values_deduplicated),
		cmocka_unit_test(random_against_oracle),
		cmocka_unit_test(values_distinct),
		cmocka_unit_test(realistic_config_fits),
		cmocka_unit_test(node_limit),
		cmocka_unit_test(rebuild_after_more_adds),
		cmocka_unit_test(corrupt_table_stays_in_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
