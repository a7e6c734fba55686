/* Node health (controlplane/health/health.c, docs/health.md): Kamailio's
 * thresholds, trying, disable, ICMP, 503 + Retry-After, oc, reply codes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "health.h"

static struct health_params params; /* down 3, up 2, 2xx, interval 500, timeout 1000 */

static int setup(void **state)
{
	(void)state;
	health_params_default(&params);
	return 0;
}

static void sent(struct health_node *n, uint64_t t)
{
	assert_int_equal(health_probe_sent(n, t, NULL), 0);
}

static void answer(struct health_node *n, uint64_t t, uint16_t code, uint32_t retry_after, int16_t oc)
{
	struct health_result r = { .kind = HEALTH_RESULT_REPLY, .code = code,
				   .retry_after_s = retry_after, .oc = oc };
	sent(n, t);
	assert_int_equal(health_probe_result(n, t + 10, &r), 0);
}

static void ok(struct health_node *n, uint64_t t)
{
	answer(n, t, 200, 0, HEALTH_OC_ABSENT);
}

static void timeout(struct health_node *n, uint64_t t)
{
	struct health_result r = { .kind = HEALTH_RESULT_TIMEOUT };
	sent(n, t);
	assert_int_equal(health_probe_result(n, t + params.timeout_ms, &r), 0);
}

static void icmp(struct health_node *n, uint64_t t)
{
	struct health_result r = { .kind = HEALTH_RESULT_ICMP_UNREACHABLE };
	assert_int_equal(health_probe_result(n, t, &r), 0);
}

static void expect(const struct health_node *n, enum health_state s, enum health_why w)
{
	assert_string_equal(health_state_name(n->state), health_state_name(s));
	assert_string_equal(health_why_name(n->why), health_why_name(w));
}

/* ds_probing_threshold: N failures in a row make inactive, trying before */
static void down_threshold(void **state)
{
	struct health_node n;

	(void)state;
	health_node_init(&n, &params, 100, 0);
	expect(&n, HEALTH_ACTIVE, HEALTH_WHY_NONE);
	assert_false(health_take_changed(&n));
	timeout(&n, 1000);
	expect(&n, HEALTH_TRYING, HEALTH_WHY_NONE);
	assert_int_equal(n.failures, 1);
	assert_true(health_take_changed(&n));
	assert_int_equal(health_effective_weight(&n), 100); /* trying still takes calls */
	answer(&n, 2000, 500, 0, HEALTH_OC_ABSENT);         /* a code outside 2xx fails */
	expect(&n, HEALTH_TRYING, HEALTH_WHY_NONE);
	assert_false(health_take_changed(&n)); /* same state, same weight */
	timeout(&n, 3000);
	expect(&n, HEALTH_INACTIVE, HEALTH_WHY_FAILURES);
	assert_int_equal(n.failures, 3);
	assert_int_equal(health_effective_weight(&n), 0);
	assert_true(health_take_changed(&n));
	assert_int_equal(n.last_change_ms, 3000 + params.timeout_ms);
	assert_int_equal(n.counters[HEALTH_CNT_TIMEOUTS], 2);
	assert_int_equal(n.counters[HEALTH_CNT_REPLIES_5XX], 1);
	assert_int_equal(n.counters[HEALTH_CNT_PROBES_SENT], 3);
	assert_int_equal(n.counters[HEALTH_CNT_STATE_CHANGES], 2);
}

/* Kamailio's defaults (1 and 1): the first failure takes the node out */
static void thresholds_of_one(void **state)
{
	struct health_params p1 = params;
	struct health_node n;

	(void)state;
	p1.down = 1;
	p1.up = 1;
	health_node_init(&n, &p1, 10, 0);
	timeout(&n, 0);
	expect(&n, HEALTH_INACTIVE, HEALTH_WHY_FAILURES);
	ok(&n, 2000);
	expect(&n, HEALTH_ACTIVE, HEALTH_WHY_NONE);
}

/* ds_inactive_threshold: M answers in a row bring it back */
static void up_threshold(void **state)
{
	struct health_node n;

	(void)state;
	health_node_init(&n, &params, 100, 0);
	for (int i = 0; i < 3; i++)
		timeout(&n, 1000u * i);
	expect(&n, HEALTH_INACTIVE, HEALTH_WHY_FAILURES);
	ok(&n, 5000);
	expect(&n, HEALTH_INACTIVE, HEALTH_WHY_FAILURES);
	assert_int_equal(n.successes, 1);
	timeout(&n, 6000); /* a failure between restarts the count */
	assert_int_equal(n.successes, 0);
	ok(&n, 8000);
	expect(&n, HEALTH_INACTIVE, HEALTH_WHY_FAILURES);
	health_take_changed(&n);
	ok(&n, 9000);
	expect(&n, HEALTH_ACTIVE, HEALTH_WHY_NONE);
	assert_int_equal(n.failures, 0);
	assert_true(health_take_changed(&n));
	assert_int_equal(health_effective_weight(&n), 100);
}

/* trying: one answer makes it active again, the failures forgotten */
static void trying_recovers(void **state)
{
	struct health_node n;

	(void)state;
	health_node_init(&n, &params, 100, 0);
	timeout(&n, 0);
	timeout(&n, 1000);
	expect(&n, HEALTH_TRYING, HEALTH_WHY_NONE);
	ok(&n, 2000);
	expect(&n, HEALTH_ACTIVE, HEALTH_WHY_NONE);
	assert_int_equal(n.failures, 0);
	timeout(&n, 3000);
	timeout(&n, 4000);
	expect(&n, HEALTH_TRYING, HEALTH_WHY_NONE); /* 2 of 3 again, not 4 */
}

static void disable_wins(void **state)
{
	struct health_result r200 = { .kind = HEALTH_RESULT_REPLY, .code = 200, .oc = HEALTH_OC_ABSENT };
	struct health_node n;
	uint32_t seq = 0;

	(void)state;
	health_node_init(&n, &params, 100, 0);
	assert_int_equal(health_probe_sent(&n, 0, &seq), 0);
	assert_int_equal(seq, 1);
	assert_int_equal(health_disable(&n, 5), 0);
	expect(&n, HEALTH_DISABLED, HEALTH_WHY_ADMIN);
	assert_true(health_take_changed(&n));
	assert_int_equal(health_effective_weight(&n), 0);
	/* the answer to the probe out before: counted, no effect */
	assert_int_equal(health_probe_result(&n, 10, &r200), 0);
	expect(&n, HEALTH_DISABLED, HEALTH_WHY_ADMIN);
	assert_int_equal(n.counters[HEALTH_CNT_STALE], 1);
	assert_int_equal(health_probe_sent(&n, 20, NULL), -EPERM);
	icmp(&n, 30);
	expect(&n, HEALTH_DISABLED, HEALTH_WHY_ADMIN);
	assert_false(health_take_changed(&n));
	/* enable: probed again, active after `up` answers */
	assert_int_equal(health_enable(&n, 100), 0);
	expect(&n, HEALTH_INACTIVE, HEALTH_WHY_START);
	assert_int_equal(n.next_ms, 100);
	ok(&n, 100);
	expect(&n, HEALTH_INACTIVE, HEALTH_WHY_START);
	ok(&n, 600);
	expect(&n, HEALTH_ACTIVE, HEALTH_WHY_NONE);
	assert_int_equal(health_enable(&n, 700), 0); /* not disabled: nothing */
	expect(&n, HEALTH_ACTIVE, HEALTH_WHY_NONE);
}

/* enabled, then failing: why becomes failures once down is reached */
static void enable_then_fail(void **state)
{
	struct health_node n;

	(void)state;
	health_node_init(&n, &params, 100, 0);
	health_disable(&n, 0);
	health_enable(&n, 0);
	timeout(&n, 0);
	timeout(&n, 1000);
	expect(&n, HEALTH_INACTIVE, HEALTH_WHY_START);
	timeout(&n, 2000);
	expect(&n, HEALTH_INACTIVE, HEALTH_WHY_FAILURES);
}

/* enabled with nothing to probe it: active at once, one state change */
static void enable_unprobed(void **state)
{
	struct health_node n;
	uint64_t changes;

	(void)state;
	health_node_init(&n, &params, 100, 0);
	health_disable(&n, 10);
	assert_true(health_take_changed(&n));
	changes = n.counters[HEALTH_CNT_STATE_CHANGES];
	assert_int_equal(health_enable_unprobed(&n, 20), 0);
	expect(&n, HEALTH_ACTIVE, HEALTH_WHY_NONE);
	assert_int_equal(n.counters[HEALTH_CNT_STATE_CHANGES], changes + 1);
	assert_int_equal(n.last_change_ms, 20);
	assert_true(health_take_changed(&n));
	assert_int_equal(health_effective_weight(&n), 100);
	assert_int_equal(health_enable_unprobed(&n, 30), 0); /* not disabled: nothing */
	assert_false(health_take_changed(&n));
}

/* ICMP port unreachable: out at once, back after `up` answers */
static void icmp_at_once(void **state)
{
	struct health_node n;

	(void)state;
	health_node_init(&n, &params, 100, 0);
	sent(&n, 0);
	icmp(&n, 3);
	expect(&n, HEALTH_INACTIVE, HEALTH_WHY_ICMP);
	assert_false(n.outstanding);
	assert_int_equal(n.failures, 3);
	assert_int_equal(n.counters[HEALTH_CNT_ICMP], 1);
	assert_true(health_take_changed(&n));
	assert_int_equal(health_effective_weight(&n), 0);
	ok(&n, 500);
	expect(&n, HEALTH_INACTIVE, HEALTH_WHY_ICMP);
	ok(&n, 1000);
	expect(&n, HEALTH_ACTIVE, HEALTH_WHY_NONE);
}

/* 503 + Retry-After: out for N seconds, not a failure, then back */
static void retry_after_hold(void **state)
{
	struct health_node n;
	struct health_sched s = { &n, 1, 0, 0 };
	uint32_t due[4];

	(void)state;
	health_node_init(&n, &params, 100, 0);
	answer(&n, 1000, 503, 30, HEALTH_OC_ABSENT); /* answered at 1010 */
	expect(&n, HEALTH_INACTIVE, HEALTH_WHY_RETRY_AFTER);
	assert_int_equal(n.until_ms, 31010);
	assert_int_equal(n.failures, 0);
	assert_int_equal(n.counters[HEALTH_CNT_RETRY_AFTER], 1);
	assert_true(health_take_changed(&n));
	assert_int_equal(health_effective_weight(&n), 0);
	assert_int_equal(health_probe_sent(&n, 20000, NULL), -EPERM);
	assert_int_equal(health_sched_due(&s, 31009, 4, due, 4), 0);
	expect(&n, HEALTH_INACTIVE, HEALTH_WHY_RETRY_AFTER);
	assert_int_equal(health_sched_due(&s, 31010, 4, due, 4), 1);
	assert_int_equal(due[0], 0);
	expect(&n, HEALTH_ACTIVE, HEALTH_WHY_NONE);
	assert_true(health_take_changed(&n));
	assert_int_equal(health_effective_weight(&n), 100);
	/* a 503 without Retry-After is a failure like any code outside 2xx */
	answer(&n, 32000, 503, 0, HEALTH_OC_ABSENT);
	expect(&n, HEALTH_TRYING, HEALTH_WHY_NONE);
	/* held from trying: back to trying with its count */
	answer(&n, 33000, 503, 2, HEALTH_OC_ABSENT);
	expect(&n, HEALTH_INACTIVE, HEALTH_WHY_RETRY_AFTER);
	health_expire(&n, 35010);
	expect(&n, HEALTH_TRYING, HEALTH_WHY_NONE);
	assert_int_equal(n.failures, 1);
}

static void retry_after_bounded(void **state)
{
	struct health_params p = params;
	struct health_node n;

	(void)state;
	p.retry_after_max_s = 60;
	health_node_init(&n, &p, 100, 0);
	answer(&n, 0, 503, 4000000000u, HEALTH_OC_ABSENT);
	assert_int_equal(n.until_ms, 10 + 60000);
	/* ICMP while held: the process is gone, the hold ends */
	icmp(&n, 100);
	expect(&n, HEALTH_INACTIVE, HEALTH_WHY_ICMP);
	assert_int_equal(health_probe_sent(&n, 200, NULL), 0);
}

/* RFC 7339 oc: the weight lowered by P percent until an answer lifts it */
static void oc_weight(void **state)
{
	struct health_node n, one;

	(void)state;
	health_node_init(&n, &params, 100, 0);
	answer(&n, 0, 200, 0, 20);
	assert_int_equal(health_effective_weight(&n), 80);
	assert_true(health_take_changed(&n));
	expect(&n, HEALTH_ACTIVE, HEALTH_WHY_NONE);
	answer(&n, 500, 200, 0, HEALTH_OC_INVALID); /* ignored: 20 stays */
	assert_int_equal(health_effective_weight(&n), 80);
	assert_int_equal(n.counters[HEALTH_CNT_BAD_OC], 1);
	assert_false(health_take_changed(&n));
	answer(&n, 1000, 200, 0, 100);
	assert_int_equal(health_effective_weight(&n), 0);
	expect(&n, HEALTH_ACTIVE, HEALTH_WHY_NONE);
	answer(&n, 1500, 200, 0, HEALTH_OC_ABSENT);
	assert_int_equal(health_effective_weight(&n), 100);
	assert_true(health_take_changed(&n));
	answer(&n, 2000, 200, 0, 0);
	assert_int_equal(health_effective_weight(&n), 100);
	health_node_init(&one, &params, 1, 0);
	answer(&one, 0, 200, 0, 99); /* rounded up: a weight stays a weight */
	assert_int_equal(health_effective_weight(&one), 1);
	health_node_init(&one, &params, 3, 0);
	answer(&one, 0, 200, 0, 50);
	assert_int_equal(health_effective_weight(&one), 2);
}

static void reply_codes(void **state)
{
	struct health_params p = params;
	struct health_node n;

	(void)state;
	assert_true(health_codes_accept(&p.codes, 200));
	assert_true(health_codes_accept(&p.codes, 299));
	assert_false(health_codes_accept(&p.codes, 300));
	assert_false(health_codes_accept(&p.codes, 404));
	assert_int_equal(health_codes_add(&p.codes, "2xx"), 0);
	assert_int_equal(health_codes_add(&p.codes, "404"), 0);
	assert_int_equal(health_codes_add(&p.codes, "48X"), -EINVAL);
	assert_int_equal(health_codes_add(&p.codes, "7xx"), -EINVAL);
	assert_int_equal(health_codes_add(&p.codes, "099"), -EINVAL);
	assert_int_equal(health_codes_add(&p.codes, "20"), -EINVAL);
	assert_int_equal(health_codes_add(&p.codes, "2000"), -EINVAL);
	assert_int_equal(health_codes_add(&p.codes, "4x4"), -EINVAL);
	assert_true(health_codes_accept(&p.codes, 404));
	assert_true(health_codes_accept(&p.codes, 250));
	assert_false(health_codes_accept(&p.codes, 403));
	assert_false(health_codes_accept(&p.codes, 405));
	for (int i = 2; i < HEALTH_CODES_MAX; i++)
		assert_int_equal(health_codes_add(&p.codes, "6xx"), 0);
	assert_int_equal(health_codes_add(&p.codes, "5xx"), -ENOSPC);

	p.codes.n = 0;
	assert_int_equal(health_codes_add(&p.codes, "404"), 0); /* a node with no OPTIONS handler */
	health_node_init(&n, &p, 100, 0);
	answer(&n, 0, 404, 0, HEALTH_OC_ABSENT);
	expect(&n, HEALTH_ACTIVE, HEALTH_WHY_NONE);
	answer(&n, 500, 200, 0, HEALTH_OC_ABSENT);
	expect(&n, HEALTH_TRYING, HEALTH_WHY_NONE);
}

/* 1xx keeps the probe out; answers with none out are stale; bad input */
static void provisional_stale_invalid(void **state)
{
	struct health_result r = { .kind = HEALTH_RESULT_REPLY, .code = 100, .oc = HEALTH_OC_ABSENT };
	struct health_node n;

	(void)state;
	health_node_init(&n, &params, 100, 0);
	sent(&n, 0);
	assert_int_equal(health_probe_sent(&n, 1, NULL), -EBUSY);
	assert_int_equal(health_probe_result(&n, 5, &r), 0);
	assert_true(n.outstanding);
	assert_int_equal(n.counters[HEALTH_CNT_REPLIES_1XX], 1);
	r.code = 486;
	assert_int_equal(health_probe_result(&n, 6, &r), 0);
	assert_false(n.outstanding);
	expect(&n, HEALTH_TRYING, HEALTH_WHY_NONE);
	r.code = 200; /* late: the probe was already answered */
	assert_int_equal(health_probe_result(&n, 7, &r), 0);
	expect(&n, HEALTH_TRYING, HEALTH_WHY_NONE);
	assert_int_equal(n.counters[HEALTH_CNT_STALE], 1);
	r.kind = HEALTH_RESULT_TIMEOUT;
	assert_int_equal(health_probe_result(&n, 8, &r), 0);
	assert_int_equal(n.counters[HEALTH_CNT_STALE], 2);
	r = (struct health_result){ .kind = HEALTH_RESULT_REPLY, .code = 99 };
	assert_int_equal(health_probe_result(&n, 9, &r), -EINVAL);
	r.code = 700;
	assert_int_equal(health_probe_result(&n, 9, &r), -EINVAL);
	r.code = 200;
	r.oc = 101;
	assert_int_equal(health_probe_result(&n, 9, &r), -EINVAL);
	r.kind = HEALTH_RESULT__COUNT;
	assert_int_equal(health_probe_result(&n, 9, &r), -EINVAL);
	assert_int_equal(n.counters[HEALTH_CNT_REPLIES_2XX], 1); /* the late one: counted */
	assert_int_equal(n.counters[HEALTH_CNT_REPLIES_4XX], 1);
}

static void params_check(void **state)
{
	struct health_params p = params;

	(void)state;
	assert_int_equal(health_params_check(&p), 0);
	assert_int_equal(p.interval_ms, 500);
	assert_int_equal(p.down, 3);
	assert_int_equal(p.up, 2);
	p.down = 0;
	assert_int_equal(health_params_check(&p), -EINVAL);
	p = params;
	p.timeout_ms = 0;
	assert_int_equal(health_params_check(&p), -EINVAL);
}

static void names(void **state)
{
	static const char *const want[] = { "active", "trying", "inactive", "disabled" };

	(void)state;
	assert_int_equal(HEALTH__COUNT, 4);
	for (unsigned i = 0; i < HEALTH__COUNT; i++) {
		assert_string_equal(health_state_name(i), want[i]);
		assert_int_equal(health_state_from_name(want[i]), (int)i);
		assert_true(strlen(health_state_help(i)) > 0);
	}
	assert_true(health_state_takes_calls(HEALTH_ACTIVE));
	assert_true(health_state_takes_calls(HEALTH_TRYING));
	assert_false(health_state_takes_calls(HEALTH_INACTIVE));
	assert_false(health_state_takes_calls(HEALTH_DISABLED));
	assert_false(health_state_takes_calls(HEALTH__COUNT));
	assert_string_equal(health_state_name(HEALTH__COUNT), "?");
	assert_int_equal(health_state_from_name("up"), -1);
	assert_string_equal(health_why_name(HEALTH_WHY_RETRY_AFTER), "retry_after");
	assert_string_equal(health_why_name(HEALTH_WHY_ICMP), "icmp_unreachable");
	assert_string_equal(health_result_name(HEALTH_RESULT_TIMEOUT), "timeout");
	for (unsigned i = 0; i < HEALTH_CNT__COUNT; i++)
		for (unsigned j = i + 1; j < HEALTH_CNT__COUNT; j++)
			assert_true(strcmp(health_counter_name(i), health_counter_name(j)) != 0);
	assert_string_equal(health_counter_name(HEALTH_CNT_REPLIES_5XX), "replies_5xx");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(down_threshold, setup),
		cmocka_unit_test_setup(thresholds_of_one, setup),
		cmocka_unit_test_setup(up_threshold, setup),
		cmocka_unit_test_setup(trying_recovers, setup),
		cmocka_unit_test_setup(disable_wins, setup),
		cmocka_unit_test_setup(enable_then_fail, setup),
		cmocka_unit_test_setup(enable_unprobed, setup),
		cmocka_unit_test_setup(icmp_at_once, setup),
		cmocka_unit_test_setup(retry_after_hold, setup),
		cmocka_unit_test_setup(retry_after_bounded, setup),
		cmocka_unit_test_setup(oc_weight, setup),
		cmocka_unit_test_setup(reply_codes, setup),
		cmocka_unit_test_setup(provisional_stale_invalid, setup),
		cmocka_unit_test_setup(params_check, setup),
		cmocka_unit_test_setup(names, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
