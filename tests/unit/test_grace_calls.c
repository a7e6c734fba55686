/* The grace register (common/grace_calls.c, docs/dispatch.md "Calls begun
 * during the grace period"): note, seen, a retransmission, expiry, a full
 * bucket, an older change, and two threads noting at once losing nothing. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "siphon/grace_calls.h"

/* A hash in bucket b with tag `tag` (the register takes the bucket from
 * the low bits and the tag from the high half). */
static uint64_t h(uint32_t tag, uint32_t b)
{
	return (uint64_t)tag << 32 | b;
}

static void note_and_seen(void **state)
{
	struct grace_calls *gc = grace_calls_new(4);

	(void)state;
	assert_non_null(gc);
	assert_false(grace_calls_seen(gc, h(7, 3), 200));
	assert_int_equal(grace_calls_note(gc, h(7, 3), 200, 100), GRACE_NOTED);
	assert_true(grace_calls_seen(gc, h(7, 3), 200));
	/* the INVITE again: nothing new */
	assert_int_equal(grace_calls_note(gc, h(7, 3), 200, 150), GRACE_ALREADY);
	/* another call in the same bucket, the same call's low bits elsewhere */
	assert_false(grace_calls_seen(gc, h(8, 3), 200));
	assert_false(grace_calls_seen(gc, h(7, 4), 200));
	/* a grace period that is over keeps nothing */
	assert_int_equal(grace_calls_note(gc, h(9, 3), 100, 100), GRACE_FULL);
	assert_false(grace_calls_seen(gc, h(9, 3), 100));
	grace_calls_free(gc);
	assert_null(grace_calls_new(GRACE_CALLS_BITS_MAX + 1));
}

/* until names the pool's change: a call noted in an earlier grace period
 * is not one begun in this one. */
static void an_older_change_is_not_seen(void **state)
{
	struct grace_calls *gc = grace_calls_new(4);

	(void)state;
	assert_int_equal(grace_calls_note(gc, h(7, 3), 200, 100), GRACE_NOTED);
	assert_false(grace_calls_seen(gc, h(7, 3), 201));
	assert_int_equal(grace_calls_note(gc, h(7, 3), 201, 120), GRACE_NOTED);
	assert_true(grace_calls_seen(gc, h(7, 3), 201));
	assert_true(grace_calls_seen(gc, h(7, 3), 200));
	grace_calls_free(gc);
}

static void a_full_bucket_and_expiry(void **state)
{
	struct grace_calls *gc = grace_calls_new(1);

	(void)state;
	for (uint32_t i = 1; i <= GRACE_CALLS_WAYS; i++)
		assert_int_equal(grace_calls_note(gc, h(i, 0), 150 + i, 100), GRACE_NOTED);
	assert_int_equal(grace_calls_note(gc, h(99, 0), 300, 100), GRACE_FULL);
	assert_false(grace_calls_seen(gc, h(99, 0), 300));
	/* the other bucket has room */
	assert_int_equal(grace_calls_note(gc, h(99, 1), 300, 100), GRACE_NOTED);
	/* at 151 the first entry has expired: its slot is free again */
	assert_int_equal(grace_calls_note(gc, h(99, 0), 300, 151), GRACE_NOTED);
	assert_true(grace_calls_seen(gc, h(99, 0), 300));
	assert_false(grace_calls_seen(gc, h(1, 0), 151));
	for (uint32_t i = 2; i <= GRACE_CALLS_WAYS; i++)
		assert_true(grace_calls_seen(gc, h(i, 0), 150 + i));
	assert_int_equal(grace_calls_note(gc, h(100, 0), 300, 151), GRACE_FULL);
	grace_calls_free(gc);
}

/* Two workers note at once into the same buckets, 4 calls each per
 * bucket: 8 fill a bucket exactly, so a lost compare-and-swap would show
 * as a call not seen or a bucket found full. */
#define RACE_BITS 12
#define RACE_CALLS ((GRACE_CALLS_WAYS / 2) << RACE_BITS)

struct racer {
	struct grace_calls *gc;
	uint32_t tag0;
	unsigned noted;
	pthread_barrier_t *start;
};

static void *race(void *arg)
{
	struct racer *r = arg;

	pthread_barrier_wait(r->start);
	for (uint32_t i = 0; i < RACE_CALLS; i++)
		r->noted += grace_calls_note(r->gc, h(r->tag0 + i, i & ((1u << RACE_BITS) - 1)), 500,
					     100) == GRACE_NOTED;
	return NULL;
}

static void two_threads_lose_nothing(void **state)
{
	(void)state;
	for (unsigned round = 0; round < 50; round++) {
		struct grace_calls *gc = grace_calls_new(RACE_BITS);
		pthread_barrier_t start;
		struct racer r[2] = { { gc, 1, 0, &start }, { gc, 1u << 30, 0, &start } };
		pthread_t th[2];

		assert_non_null(gc);
		assert_int_equal(pthread_barrier_init(&start, NULL, 2), 0);
		for (int k = 0; k < 2; k++)
			assert_int_equal(pthread_create(&th[k], NULL, race, &r[k]), 0);
		for (int k = 0; k < 2; k++)
			pthread_join(th[k], NULL);
		pthread_barrier_destroy(&start);
		assert_int_equal(r[0].noted, RACE_CALLS);
		assert_int_equal(r[1].noted, RACE_CALLS);
		for (int k = 0; k < 2; k++)
			for (uint32_t i = 0; i < RACE_CALLS; i++)
				assert_true(grace_calls_seen(
					gc, h(r[k].tag0 + i, i & ((1u << RACE_BITS) - 1)), 500));
		grace_calls_free(gc);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(note_and_seen),
		cmocka_unit_test(an_older_change_is_not_seen),
		cmocka_unit_test(a_full_bucket_and_expiry),
		cmocka_unit_test(two_threads_lose_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
