/* Table generations in siphon --io dpdk --siphond (docs/generations.md,
 * docs/dpdk.md): the apply hook of the receiver (dataplane/gen/receiver.h).
 * One pipeline_gen per worker is built in the control thread, each
 * worker's slot is swapped (gen_swap: the workers read it once per loop and
 * announce a quiescent state after it), and the generation it replaces is
 * freed once every worker passed one. As xdp_gen.h without a kernel lane:
 * when a kernel interface faces the nodes, each generation has the next
 * hops of its nodes from the kernel (neigh.h); else the config's MACs. */
#ifndef SIPHON_DPDK_GEN_H
#define SIPHON_DPDK_GEN_H

#include "gen_swap.h"
#include "neigh.h"
#include "pipeline.h"
#include "receiver.h"

#define DPDK_GEN_GRACE_MS 2000u /* a worker passes once per loop: microseconds */

#define DPDK_GEN_COUNTERS(X)                                                              \
	X(swapped, "generations swapped into the workers")                                 \
	X(swap_refused, "generations not applied (see the log)")                           \
	X(swap_grace_timeouts, "grace periods a worker did not finish in time (old kept)")

struct dpdk_gen_counters {
#define X(id, help) uint64_t id;
	DPDK_GEN_COUNTERS(X)
#undef X
};

/* One generation as the workers run it. */
struct dpdk_gen_state {
	struct gen_generation *g;
	struct pipeline_gen **pw; /* one per worker */
	struct neigh_ctl *nc;     /* owned; NULL: the caller's (the first) or none */
};

/* Called with a generation every worker has left, before it is freed:
 * its counters will not move again (the final COUNTERS snapshot). */
typedef void (*dpdk_gen_retired_fn)(void *ctx, const struct dpdk_gen_state *s);

struct dpdk_gen {
	struct gen_swap swap; /* the workers' slots */
	unsigned n;
	const char *kernel_iface;  /* the next hops' interface; NULL: config MACs only */
	struct dpdk_gen_state *cur, *retired;
	dpdk_gen_retired_fn retired_fn; /* NULL: none */
	void *retired_ctx;
	struct dpdk_gen_counters c;
};

/* Before the workers start: n slots; kernel_iface (kept, may be NULL) as
 * in struct dpdk_gen. 0 or -ENOMEM. */
int dpdk_gen_init(struct dpdk_gen *x, unsigned n, const char *kernel_iface);
/* The first generation g (taken over, also when this fails): pw[i] is
 * what worker i runs now (its disowned own state). 0 or -ENOMEM. */
int dpdk_gen_start(struct dpdk_gen *x, struct gen_generation *g, struct pipeline_gen **pw);
/* gen_apply_fn: ctx is the struct dpdk_gen. */
int dpdk_gen_apply(void *ctx, struct gen_generation *g, char *err, size_t errlen);
/* The next hops running now: the current generation's, else first. */
const struct neigh_ctl *dpdk_gen_neigh(const struct dpdk_gen *x, const struct neigh_ctl *first);
/* After the workers stopped: frees every generation. */
void dpdk_gen_close(struct dpdk_gen *x);

const char *dpdk_gen_counter_name(unsigned i);
uint64_t dpdk_gen_counter(const struct dpdk_gen *x, unsigned i);
unsigned dpdk_gen_counter_count(void);

#endif
