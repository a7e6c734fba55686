/* siphon --io dpdk --siphond (docs/dpdk.md, docs/generations.md): the
 * control thread, off the lcores, that is siphond's receiver. It ACKs the
 * first generation once the workers run, applies the next ones through
 * dpdk_gen (swapped into the workers RCU-style), and sends siphond a
 * COUNTERS snapshot about every second, and a final one of each
 * generation every worker left; and calls tick_fn (--stats-interval's
 * summary) in the same loop. No DPDK header: the workers' state only. */
#ifndef SIPHON_DPDK_SIPHOND_H
#define SIPHON_DPDK_SIPHOND_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

#include "dpdk_gen.h"
#include "dpdk_worker.h"
#include "receiver.h"

struct dpdk_siphond {
	struct gen_receiver *r;
	struct dpdk_gen x;
	struct dpdk_worker *w;
	unsigned n;
	volatile sig_atomic_t *stop;
	pthread_t thread;
	bool started;
	/* set before dpdk_siphond_start, or NULL: called by the control
	 * thread every loop (about 50 ms), where the tables running now may
	 * be read (the summary every --stats-interval) */
	void (*tick_fn)(void *ctx);
	void *tick_ctx;
};

/* After the n workers are initialised: g (taken over, also on failure)
 * runs in them, their own pipeline state becoming its (with the caller's
 * next hops, if any); r's apply hook is set. Each later generation gets
 * its nodes' next hops from kernel_iface (kept; NULL: config MACs only).
 * 0 or -ENOMEM (after a message). */
int dpdk_siphond_init(struct dpdk_siphond *s, struct gen_receiver *r, struct gen_generation *g,
		      struct dpdk_worker *w, unsigned n, const char *kernel_iface,
		      volatile sig_atomic_t *stop);
/* The control thread, until *stop. 0 or -errno (it did not start). */
int dpdk_siphond_start(struct dpdk_siphond *s);
/* After the workers stopped: the thread ends, then siphond gets the last
 * COUNTERS snapshot (what the exit summary will say). */
void dpdk_siphond_join(struct dpdk_siphond *s);
/* The tables running now, and their per-worker counters. */
const struct compiled_tables *dpdk_siphond_tables(const struct dpdk_siphond *s);
const struct pipeline_gen *const *dpdk_siphond_gens(const struct dpdk_siphond *s);
/* The summary's "generation" member. */
void dpdk_siphond_print(FILE *f, const struct dpdk_siphond *s, int *first);
/* After the workers stopped (and before they are freed). */
void dpdk_siphond_close(struct dpdk_siphond *s);

#endif
