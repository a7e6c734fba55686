#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gen_swap.h"

int gen_swap_init(struct gen_swap *s, unsigned n)
{
	memset(s, 0, sizeof(*s));
	s->slot = aligned_alloc(64, sizeof(*s->slot) * (n ? n : 1));
	if (!s->slot)
		return -ENOMEM;
	s->n = n;
	atomic_init(&s->period, 1);
	for (unsigned i = 0; i < n; i++) {
		atomic_init(&s->slot[i].cur, NULL);
		atomic_init(&s->slot[i].seen, GEN_SWAP_OFFLINE);
	}
	return 0;
}

void gen_swap_free(struct gen_swap *s)
{
	free(s->slot);
	memset(s, 0, sizeof(*s));
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int gen_swap_wait(struct gen_swap *s, unsigned timeout_ms)
{
	uint64_t target = atomic_fetch_add(&s->period, 1) + 1;
	uint64_t deadline = now_us() + (uint64_t)timeout_ms * 1000u;
	unsigned spins = 0;

	for (unsigned i = 0; i < s->n; i++) {
		uint64_t seen;

		/* a worker announcing OFFLINE can only come back through
		 * gen_swap_quiescent, which reads the new period */
		while ((seen = atomic_load(&s->slot[i].seen)) < target) {
			if (now_us() > deadline)
				return -ETIMEDOUT;
			if (++spins > 64) { /* workers pass once per burst: ≤ ~20 ms when idle */
				struct timespec ts = { 0, 200 * 1000 };
				nanosleep(&ts, NULL);
			}
		}
	}
	return 0;
}

int gen_swap_publish(struct gen_swap *s, void *const *v, unsigned timeout_ms)
{
	for (unsigned i = 0; i < s->n; i++)
		gen_swap_set(s, i, v[i]);
	return gen_swap_wait(s, timeout_ms);
}
