/* The per-worker RCU-style swap (dataplane/gen/gen_swap.h): simulated
 * workers in threads read their slot once per burst, use what it points at
 * through the burst and announce a quiescent state; the control thread
 * swaps thousands of generations and poisons, then frees, each old one
 * right after the grace period. A worker that ever sees a poisoned
 * generation counts a violation. The same run without the grace period
 * must count some (the check can fail); a worker that never announces
 * makes the wait time out; an offline one does not hold it up. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <cmocka.h>

#include "gen_swap.h"

#define WORKERS 3
#define ALIVE   0x600DC0DEu
#define DEAD    0xDEADDEADu

struct gen {
	_Atomic uint32_t magic;
	uint64_t number, a, b, sum; /* sum == a + b while alive */
};

struct run {
	struct gen_swap s;
	atomic_bool stop;
	_Atomic uint64_t violations, bursts[WORKERS], adopted[WORKERS];
};

struct worker_arg {
	struct run *run;
	unsigned i;
};

static void *worker(void *arg)
{
	struct worker_arg *wa = arg;
	struct run *r = wa->run;
	uint64_t last = 0;

	gen_swap_quiescent(&r->s, wa->i);
	while (!atomic_load(&r->stop)) {
		struct gen *g = gen_swap_read(&r->s, wa->i);

		/* a "burst": the generation is used throughout */
		for (int k = 0; k < 16; k++) {
			if (atomic_load_explicit(&g->magic, memory_order_relaxed) != ALIVE ||
			    g->sum != g->a + g->b)
				atomic_fetch_add(&r->violations, 1);
		}
		if (g->number != last) {
			if (g->number < last) /* a worker never goes back */
				atomic_fetch_add(&r->violations, 1);
			last = g->number;
			atomic_fetch_add(&r->adopted[wa->i], 1);
		}
		atomic_fetch_add(&r->bursts[wa->i], 1);
		gen_swap_quiescent(&r->s, wa->i);
	}
	gen_swap_offline(&r->s, wa->i);
	return NULL;
}

static struct gen *make(uint64_t number)
{
	struct gen *g = malloc(sizeof(*g));

	assert_non_null(g);
	atomic_init(&g->magic, ALIVE);
	g->number = number;
	g->a = number * 3;
	g->b = number * 5;
	g->sum = g->a + g->b;
	return g;
}

static void poison(struct gen *g)
{
	g->a = g->b = 1;
	g->sum = 0;
	atomic_store(&g->magic, DEAD);
}

/* Swaps `rounds` generations; with grace, frees each old one after the
 * wait, without, poisons it at once and frees it at the end. */
static void run_swaps(struct run *r, unsigned rounds, bool grace)
{
	struct worker_arg wa[WORKERS];
	pthread_t t[WORKERS];
	struct gen *cur[WORKERS], **kept = calloc((size_t)rounds * WORKERS, sizeof(*kept));
	size_t n_kept = 0;

	assert_non_null(kept);
	assert_int_equal(gen_swap_init(&r->s, WORKERS), 0);
	for (unsigned i = 0; i < WORKERS; i++) {
		cur[i] = make(1);
		gen_swap_set(&r->s, i, cur[i]);
		wa[i] = (struct worker_arg){ r, i };
		assert_int_equal(pthread_create(&t[i], NULL, worker, &wa[i]), 0);
	}
	/* every worker online and running before the swaps: an offline worker
	 * is (rightly) not waited for, which would test nothing */
	for (unsigned i = 0; i < WORKERS; i++)
		while (atomic_load(&r->bursts[i]) == 0)
			sched_yield();
	for (unsigned n = 2; n < rounds + 2; n++) {
		struct gen *old[WORKERS];

		for (unsigned i = 0; i < WORKERS; i++) {
			old[i] = cur[i];
			cur[i] = make(n);
			gen_swap_set(&r->s, i, cur[i]);
		}
		if (grace)
			assert_int_equal(gen_swap_wait(&r->s, 5000), 0);
		for (unsigned i = 0; i < WORKERS; i++) {
			poison(old[i]);
			if (grace)
				free(old[i]);
			else
				kept[n_kept++] = old[i];
		}
		if (!grace) { /* give the workers time to be caught */
			struct timespec ts = { 0, 20 * 1000 };
			nanosleep(&ts, NULL);
		}
	}
	atomic_store(&r->stop, true);
	for (unsigned i = 0; i < WORKERS; i++) {
		pthread_join(t[i], NULL);
		free(cur[i]);
	}
	for (size_t k = 0; k < n_kept; k++)
		free(kept[k]);
	free(kept);
	gen_swap_free(&r->s);
}

static void test_thousands_of_swaps(void **state)
{
	static struct run r;

	(void)state;
	run_swaps(&r, 3000, true);
	assert_int_equal(atomic_load(&r.violations), 0);
	for (unsigned i = 0; i < WORKERS; i++) {
		/* each grace period needed one announce, after a burst, of every worker */
		assert_true(atomic_load(&r.bursts[i]) >= 3000);
		assert_true(atomic_load(&r.adopted[i]) >= 1);
	}
}

static void test_without_grace_is_caught(void **state)
{
	static struct run r;

	(void)state;
	/* a race has to be met: a few tries bound the time on a busy machine */
	for (int k = 0; k < 5 && atomic_load(&r.violations) == 0; k++) {
		atomic_store(&r.stop, false);
		run_swaps(&r, 3000, false);
	}
	assert_true(atomic_load(&r.violations) > 0);
}

static void test_stuck_worker_times_out(void **state)
{
	struct gen_swap s;
	struct timespec t0, t1;
	long ms;

	(void)state;
	assert_int_equal(gen_swap_init(&s, 2), 0);
	gen_swap_quiescent(&s, 0); /* online, then silent */
	gen_swap_quiescent(&s, 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(gen_swap_wait(&s, 50), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms >= 50 && ms < 1000);
	/* both announce the current period: the next wait needs them again */
	gen_swap_quiescent(&s, 0);
	gen_swap_quiescent(&s, 1);
	assert_int_equal(gen_swap_wait(&s, 50), -ETIMEDOUT);
	gen_swap_free(&s);
}

static void test_offline_does_not_hold(void **state)
{
	struct gen_swap s;

	(void)state;
	assert_int_equal(gen_swap_init(&s, 3), 0); /* all offline from the start */
	assert_int_equal(gen_swap_wait(&s, 0), 0);
	gen_swap_quiescent(&s, 1);
	assert_int_equal(gen_swap_wait(&s, 20), -ETIMEDOUT); /* 1 is online and silent */
	gen_swap_offline(&s, 1);
	assert_int_equal(gen_swap_wait(&s, 20), 0);
	gen_swap_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_thousands_of_swaps),
		cmocka_unit_test(test_without_grace_is_caught),
		cmocka_unit_test(test_stuck_worker_times_out),
		cmocka_unit_test(test_offline_does_not_hold),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
