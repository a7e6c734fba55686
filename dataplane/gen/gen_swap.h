/* One pointer per worker, swapped RCU-style (docs/generations.md).
 *
 * Each worker reads its slot once per burst (gen_swap_read) and announces
 * a quiescent state after the burst (gen_swap_quiescent): from then on it
 * holds nothing it read from an earlier slot value. The control thread
 * stores new slot values (gen_swap_set), then waits a grace period
 * (gen_swap_wait): the global period counter is bumped and every online
 * worker must have announced the new period. Then nothing older than the
 * values stored before the bump is in use and may be freed.
 *
 * QSBR with per-worker counters of our own instead of liburcu: the domain
 * is an object (tests run many side by side), the wait has a timeout (a
 * stuck worker makes the swap fail and keeps the old generation, instead of
 * hanging the control thread), and the worker side is two relaxed-cost
 * atomic operations per burst. No lock, no allocation, no system call on
 * the worker side. */
#ifndef SIPHON_GEN_SWAP_H
#define SIPHON_GEN_SWAP_H

#include <stdatomic.h>
#include <stdint.h>

#define GEN_SWAP_OFFLINE UINT64_MAX /* a worker that does not run (blocked, stopped) */

struct gen_swap_slot {
	_Atomic(void *) cur;   /* what the worker runs: set by the control thread */
	_Atomic uint64_t seen; /* the last period the worker announced */
} __attribute__((aligned(64)));

struct gen_swap {
	_Atomic uint64_t period;
	unsigned n;
	struct gen_swap_slot *slot; /* n, cache-line aligned */
};

/* n slots, all NULL and offline until their worker comes online. 0 or -ENOMEM. */
int gen_swap_init(struct gen_swap *s, unsigned n);
void gen_swap_free(struct gen_swap *s);

/* ---- the worker side (no lock, no allocation, no system call) ---- */

/* The worker's current value; acquire pairs with gen_swap_set's release so
 * what the control thread prepared is visible. */
static inline void *gen_swap_read(struct gen_swap *s, unsigned i)
{
	return atomic_load_explicit(&s->slot[i].cur, memory_order_acquire);
}

/* After a burst: nothing read before this call is used after it. seq_cst:
 * the loads of the burst are ordered before the announce, and a worker that
 * announces period p reads, in its next burst, every value stored before p. */
static inline void gen_swap_quiescent(struct gen_swap *s, unsigned i)
{
	atomic_store(&s->slot[i].seen, atomic_load(&s->period));
}

/* The worker stops or blocks for long: grace periods do not wait for it.
 * It must call gen_swap_quiescent before reading its slot again. */
static inline void gen_swap_offline(struct gen_swap *s, unsigned i)
{
	atomic_store(&s->slot[i].seen, GEN_SWAP_OFFLINE);
}

/* ---- the control side ---- */

static inline void gen_swap_set(struct gen_swap *s, unsigned i, void *v)
{
	atomic_store_explicit(&s->slot[i].cur, v, memory_order_release);
}

/* A grace period: 0 once every worker announced a period started after
 * this call (or is offline), -ETIMEDOUT after timeout_ms (values stored
 * before the call may still be in use: free nothing). */
int gen_swap_wait(struct gen_swap *s, unsigned timeout_ms);

/* A new generation for every worker (slot i: v[i]), then a grace period:
 * gen_swap_wait's result. 0: the values replaced are free to go. */
int gen_swap_publish(struct gen_swap *s, void *const *v, unsigned timeout_ms);

#endif
