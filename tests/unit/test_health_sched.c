/* The probe scheduler (controlplane/health/health_sched.c): which nodes
 * are due, which probes timed out, bounded work per call, no starving. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "health.h"

#define N 5

static struct health_params params;
static struct health_node nodes[N];
static struct health_sched sched;

static int setup(void **state)
{
	(void)state;
	health_params_default(&params); /* interval 500, timeout 1000 */
	for (unsigned i = 0; i < N; i++)
		health_node_init(&nodes[i], &params, 100, 0);
	sched = (struct health_sched){ nodes, N, 0, 0 };
	return 0;
}

/* out[0..got) equals want[0..n) */
static void same(const uint32_t *out, uint32_t got, const uint32_t *want, uint32_t n)
{
	assert_int_equal(got, n);
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal(out[i], want[i]);
}

static void send_all(const uint32_t *idx, uint32_t n, uint64_t t)
{
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal(health_probe_sent(&nodes[idx[i]], t, NULL), 0);
}

static void due_round_robin(void **state)
{
	uint32_t out[N];
	uint32_t got;

	(void)state;
	got = health_sched_due(&sched, 0, N, out, 2);
	same(out, got, (const uint32_t[]){ 0, 1 }, 2);
	send_all(out, got, 0);
	got = health_sched_due(&sched, 0, N, out, 2);
	same(out, got, (const uint32_t[]){ 2, 3 }, 2);
	send_all(out, got, 0);
	got = health_sched_due(&sched, 0, N, out, N);
	same(out, got, (const uint32_t[]){ 4 }, 1);
	send_all(out, got, 0);
	assert_int_equal(health_sched_due(&sched, 0, N, out, N), 0); /* all out */
	/* answered at 100: due again at 500, not before */
	for (unsigned i = 0; i < N; i++) {
		struct health_result r = { .kind = HEALTH_RESULT_REPLY, .code = 200,
					   .oc = HEALTH_OC_ABSENT };
		assert_int_equal(health_probe_result(&nodes[i], 100, &r), 0);
	}
	assert_int_equal(health_sched_due(&sched, 499, N, out, N), 0);
	got = health_sched_due(&sched, 500, N, out, N);
	assert_int_equal(got, N);
}

/* max_scan bounds the work: two nodes looked at per call */
static void due_bounded_scan(void **state)
{
	uint32_t out[N];

	(void)state;
	nodes[1].state = HEALTH_DISABLED;
	same(out, health_sched_due(&sched, 0, 2, out, N), (const uint32_t[]){ 0 }, 1);
	same(out, health_sched_due(&sched, 0, 2, out, N), (const uint32_t[]){ 2, 3 }, 2);
	same(out, health_sched_due(&sched, 0, 2, out, N), (const uint32_t[]){ 4, 0 }, 2);
	assert_int_equal(sched.due_cursor, 1);
	assert_int_equal(health_sched_due(&sched, 0, 0, out, N), 0);
}

/* disabled and held nodes are not probed */
static void due_skips_disabled_and_held(void **state)
{
	struct health_result r503 = { .kind = HEALTH_RESULT_REPLY, .code = 503, .retry_after_s = 5,
				      .oc = HEALTH_OC_ABSENT };
	uint32_t out[N];

	(void)state;
	health_disable(&nodes[0], 0);
	assert_int_equal(health_probe_sent(&nodes[3], 0, NULL), 0);
	assert_int_equal(health_probe_result(&nodes[3], 0, &r503), 0);
	same(out, health_sched_due(&sched, 1000, N, out, N), (const uint32_t[]){ 1, 2, 4 }, 3);
	same(out, health_sched_due(&sched, 5000, N, out, N), (const uint32_t[]){ 1, 2, 3, 4 }, 4);
	assert_int_equal(nodes[3].state, HEALTH_ACTIVE);
}

static void timeouts(void **state)
{
	uint32_t out[N];

	(void)state;
	assert_int_equal(health_probe_sent(&nodes[1], 0, NULL), 0);
	assert_int_equal(health_probe_sent(&nodes[3], 200, NULL), 0);
	assert_int_equal(health_probe_sent(&nodes[4], 300, NULL), 0);
	assert_int_equal(health_sched_timeouts(&sched, 999, N, out, N), 0);
	same(out, health_sched_timeouts(&sched, 1000, N, out, N), (const uint32_t[]){ 1 }, 1);
	same(out, health_sched_timeouts(&sched, 1300, N, out, N), (const uint32_t[]){ 1, 3, 4 }, 3);
	/* bounded: at most 2 out per call, the next call goes on */
	same(out, health_sched_timeouts(&sched, 1300, N, out, 2), (const uint32_t[]){ 1, 3 }, 2);
	same(out, health_sched_timeouts(&sched, 1300, N, out, 2), (const uint32_t[]){ 4, 1 }, 2);
	/* reported: no longer outstanding, no longer timed out */
	for (unsigned i = 0; i < N; i++) {
		struct health_result r = { .kind = HEALTH_RESULT_TIMEOUT };
		if (nodes[i].outstanding)
			assert_int_equal(health_probe_result(&nodes[i], 1300, &r), 0);
	}
	assert_int_equal(health_sched_timeouts(&sched, 5000, N, out, N), 0);
	assert_int_equal(nodes[1].state, HEALTH_TRYING);
	/* a clock behind the send time times nothing out */
	assert_int_equal(health_probe_sent(&nodes[2], 9000, NULL), 0);
	assert_int_equal(health_sched_timeouts(&sched, 8000, N, out, N), 0);
}

static void empty_pool(void **state)
{
	struct health_sched none = { NULL, 0, 0, 0 };
	uint32_t out[1];

	(void)state;
	assert_int_equal(health_sched_due(&none, 0, 10, out, 1), 0);
	assert_int_equal(health_sched_timeouts(&none, 0, 10, out, 1), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(due_round_robin, setup),
		cmocka_unit_test_setup(due_bounded_scan, setup),
		cmocka_unit_test_setup(due_skips_disabled_and_held, setup),
		cmocka_unit_test_setup(timeouts, setup),
		cmocka_unit_test_setup(empty_pool, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
