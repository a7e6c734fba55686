/* Weighted Maglev: balance, minimal disruption, determinism, and Call-ID
 * spread (suite dp). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "maglev_build.h"

#define M MAGLEV_DEFAULT_SIZE
#define SEED 0x5eedull

static uint16_t a[M], b[M];
static char ids[200][16];

static void make_nodes(struct maglev_node *nodes, unsigned n, uint32_t weight)
{
	for (unsigned i = 0; i < n; i++) {
		snprintf(ids[i], sizeof(ids[i]), "b%u", i + 1);
		nodes[i] = (struct maglev_node){ ids[i], weight, true };
	}
}

static void count_shares(const uint16_t *slots, unsigned n, unsigned *count)
{
	memset(count, 0, n * sizeof(*count));
	for (unsigned s = 0; s < M; s++) {
		assert_true(slots[s] < n);
		count[slots[s]]++;
	}
}

static void equal_weights_balance(void **state)
{
	static const unsigned sizes[] = { 2, 3, 5, 10, 100 };
	struct maglev_node nodes[100];
	unsigned count[100];

	(void)state;
	for (unsigned k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		unsigned n = sizes[k], max = 0;
		make_nodes(nodes, n, 100);
		assert_int_equal(maglev_build(nodes, n, M, SEED, a), 0);
		count_shares(a, n, count);
		for (unsigned i = 0; i < n; i++)
			max = count[i] > max ? count[i] : max;
		/* max / avg <= 1.01 */
		assert_true((double)max * n / M <= 1.01);
	}
}

static unsigned moved(const uint16_t *x, const uint16_t *y, int except_from)
{
	unsigned n = 0;
	for (unsigned s = 0; s < M; s++)
		if (x[s] != y[s] && x[s] != except_from)
			n++;
	return n;
}

static void removing_a_node_moves_only_its_share(void **state)
{
	struct maglev_node nodes[10];

	(void)state;
	make_nodes(nodes, 10, 100);
	assert_int_equal(maglev_build(nodes, 10, M, SEED, a), 0);
	for (unsigned gone = 0; gone < 10; gone++) {
		make_nodes(nodes, 10, 100);
		nodes[gone].up = false;
		assert_int_equal(maglev_build(nodes, 10, M, SEED, b), 0);
		for (unsigned s = 0; s < M; s++)
			assert_true(b[s] != gone);
		assert_true(moved(a, b, (int)gone) <= M / 100);
	}
}

static void adding_a_node_moves_its_fair_share(void **state)
{
	struct maglev_node nodes[11];

	(void)state;
	make_nodes(nodes, 10, 100);
	assert_int_equal(maglev_build(nodes, 10, M, SEED, a), 0);
	make_nodes(nodes, 11, 100);
	assert_int_equal(maglev_build(nodes, 11, M, SEED, b), 0);
	assert_true(moved(a, b, -1) <= M / 11 + M / 100);
}

static void weights_set_shares(void **state)
{
	struct maglev_node nodes[3];
	unsigned count[3];

	(void)state;
	make_nodes(nodes, 3, 100);
	nodes[2].weight = 50; /* 100 : 100 : 50 -> 40% 40% 20% */
	assert_int_equal(maglev_build(nodes, 3, M, SEED, a), 0);
	count_shares(a, 3, count);
	assert_true(abs((int)count[0] - (int)(M * 2 / 5)) < (int)(M / 100));
	assert_true(abs((int)count[2] - (int)(M / 5)) < (int)(M / 100));
	nodes[1].weight = 0; /* no share at all */
	assert_int_equal(maglev_build(nodes, 3, M, SEED, a), 0);
	count_shares(a, 3, count);
	assert_int_equal(count[1], 0);
}

static void same_input_same_bytes_in_any_order(void **state)
{
	struct maglev_node nodes[5], reversed[5];

	(void)state;
	make_nodes(nodes, 5, 100);
	assert_int_equal(maglev_build(nodes, 5, M, SEED, a), 0);
	assert_int_equal(maglev_build(nodes, 5, M, SEED, b), 0);
	assert_memory_equal(a, b, sizeof(a));
	for (unsigned i = 0; i < 5; i++)
		reversed[i] = nodes[4 - i];
	assert_int_equal(maglev_build(reversed, 5, M, SEED, b), 0);
	for (unsigned s = 0; s < M; s++) /* same node by id, whatever the index */
		assert_string_equal(nodes[a[s]].id, reversed[b[s]].id);
	/* another seed, another table */
	assert_int_equal(maglev_build(nodes, 5, M, SEED + 1, b), 0);
	assert_true(moved(a, b, -1) > M / 2);
}

static void no_live_node_and_bad_input(void **state)
{
	struct maglev_node nodes[2];

	(void)state;
	make_nodes(nodes, 2, 100);
	nodes[0].up = nodes[1].up = false;
	assert_int_equal(maglev_build(nodes, 2, M, SEED, a), 0);
	for (unsigned s = 0; s < M; s++)
		assert_int_equal(a[s], MAGLEV_NO_NODE);
	assert_int_equal(maglev_build(nodes, 0, M, SEED, a), 0);
	assert_int_equal(maglev_build(nodes, 2, 65536, SEED, a), -EINVAL); /* not prime */
	assert_int_equal(maglev_build(nodes, 2, 1, SEED, a), -EINVAL);
	assert_true(maglev_valid_size(65537) && maglev_valid_size(251) && !maglev_valid_size(65535));
}

/* A million random Call-IDs over 3 equal nodes: each within +-2% of 1/3. */
static void callid_spread(void **state)
{
	struct maglev_node nodes[3];
	const struct maglev_table t = { M, a };
	unsigned count[3] = { 0 };
	uint64_t x = 88172645463325252ull;
	char callid[48];

	(void)state;
	make_nodes(nodes, 3, 100);
	assert_int_equal(maglev_build(nodes, 3, M, SEED, a), 0);
	for (unsigned i = 0; i < 1000000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
		int len = snprintf(callid, sizeof(callid), "%016llx@192.0.2.%u",
				   (unsigned long long)x, (unsigned)(x >> 56));
		count[maglev_lookup(&t, callid_hash((const uint8_t *)callid, (size_t)len, SEED))]++;
	}
	for (unsigned i = 0; i < 3; i++)
		assert_true(count[i] > 1000000 / 3 * 0.98 && count[i] < 1000000 / 3 * 1.02);
}

static void callid_hash_is_xxh64(void **state)
{
	(void)state;
	/* XXH64 reference values: the BPF program must reproduce these */
	assert_true(callid_hash((const uint8_t *)"", 0, 0) == 0xef46db3751d8e999ull);
	assert_true(callid_hash((const uint8_t *)"abc", 3, 0) == 0x44bc2cf5ad770999ull);
	assert_true(callid_hash((const uint8_t *)"abc", 3, 1) != callid_hash((const uint8_t *)"abc", 3, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(equal_weights_balance),
		cmocka_unit_test(removing_a_node_moves_only_its_share),
		cmocka_unit_test(adding_a_node_moves_its_fair_share),
		cmocka_unit_test(weights_set_shares),
		cmocka_unit_test(same_input_same_bytes_in_any_order),
		cmocka_unit_test(no_live_node_and_bad_input),
		cmocka_unit_test(callid_spread),
		cmocka_unit_test(callid_hash_is_xxh64),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
