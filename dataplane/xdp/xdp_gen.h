/* Table generations in siphon --io xdp --siphond (docs/generations.md):
 * the apply hook of the receiver (dataplane/gen/receiver.h). Everything a
 * generation needs is built in the control thread (per worker: a
 * pipeline_gen with its own Hyperscan scratch; the next hops of its nodes),
 * then the kernel lane switches (xdp_tables_publish, then a kernel grace
 * period) and each worker's slot is swapped (gen_swap); the generation it
 * replaces is freed after every worker passed a quiescent state. */
#ifndef SIPHON_XDP_GEN_H
#define SIPHON_XDP_GEN_H

#include "gen_swap.h"
#include "neigh.h"
#include "pipeline.h"
#include "receiver.h"
#include "xdp_hops.h"
#include "xdp_load.h"
#include "xsk_worker.h"

#define XDP_GEN_GRACE_MS 2000u /* a worker passes once per burst, or every 20 ms idle */

#define XDP_GEN_COUNTERS(X)                                                            \
	X(swapped, "generations swapped into both lanes")                               \
	X(swap_refused, "generations not applied (see the log: tables, next hops, maps)") \
	X(swap_grace_timeouts, "grace periods a worker did not finish in time (old kept)") \
	X(kernel_grace_sleeps, "kernel grace periods taken by sleeping (no map-in-map)")

struct xdp_gen_counters {
#define X(id, help) uint64_t id;
	XDP_GEN_COUNTERS(X)
#undef X
};

/* One generation as this backend runs it. */
struct xdp_gen_state {
	struct gen_generation *g;  /* blob and tables */
	struct neigh_ctl *nc;      /* owned; NULL: the caller's (the first generation) */
	struct pipeline_gen **pw;  /* one per worker */
	unsigned n;
	/* the kernel lane's: the table half its tables and counters are in,
	 * and the indexed counters of that half (XDP_KINDEX_LEN of its
	 * tables) before it was published (nothing counts into an inactive
	 * half) and when it was replaced (after the kernel grace period: no
	 * run of it is left, and the next generation counts in the other
	 * half): what it counted is exactly their difference */
	uint32_t half;
	uint64_t *kbase, *kfinal;
};

/* Called with a generation every worker has left, before it is freed:
 * its counters will not move again (the final COUNTERS snapshot). */
typedef void (*xdp_gen_retired_fn)(void *ctx, const struct xdp_gen_state *s);

struct xdp_gen {
	struct gen_swap swap;      /* give &swap to the workers' config */
	struct xdp_loader *l;
	struct xsk_worker *w;
	unsigned n;
	const char *egress;        /* the interface the next hops are on */
	struct xdp_hops *hops;     /* the kernel lane's next hops; NULL: not written */
	struct xdp_gen_state *cur, *retired;
	int grace_outer, grace_inner; /* map-in-map for the kernel grace period; -1: none */
	xdp_gen_retired_fn retired_fn; /* NULL: none */
	void *retired_ctx;
	struct xdp_gen_counters c;
};

/* Before the workers open: the swap with n slots. 0 or -ENOMEM. */
int xdp_gen_init(struct xdp_gen *x, unsigned n);
/* After the workers opened (not yet started): the first generation g
 * (taken over) runs; the workers' own pipeline state becomes its. */
int xdp_gen_start(struct xdp_gen *x, struct xdp_loader *l, struct xsk_worker *w,
		  const char *egress, struct gen_generation *g);
/* gen_apply_fn: ctx is the struct xdp_gen. */
int xdp_gen_apply(void *ctx, struct gen_generation *g, char *err, size_t errlen);
/* The tables and next hops running now. */
const struct compiled_tables *xdp_gen_tables(const struct xdp_gen *x);
const struct neigh_ctl *xdp_gen_neigh(const struct xdp_gen *x, const struct neigh_ctl *first);
/* After the workers stopped: a generation replaced earlier whose grace
 * period had not ended is left by every worker now; its final snapshot
 * (retired_fn), then it is freed. */
void xdp_gen_retire_stopped(struct xdp_gen *x);
/* After the workers stopped: frees every generation. */
void xdp_gen_close(struct xdp_gen *x);

/* 0 when a's load-time settings of the XDP program (VIPs, ports, hash
 * seed) are b's; -EOPNOTSUPP with a message otherwise. */
int xdp_gen_same_load(const struct compiled_tables *a, const struct compiled_tables *b,
		      char *err, size_t errlen);

const char *xdp_gen_counter_name(unsigned i);
uint64_t xdp_gen_counter(const struct xdp_gen *x, unsigned i);
unsigned xdp_gen_counter_count(void);

#endif
