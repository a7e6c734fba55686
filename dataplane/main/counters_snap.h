/* The fast path's counters as a COUNTERS snapshot for siphond
 * (common/siphon/gen_counters.h, docs/metrics.md). Made by the thread that
 * talks to siphond, never by a worker: the workers' counters are read as
 * the summary reads them, plain 64-bit loads, a figure a batch behind at
 * worst, never torn. */
#ifndef SIPHON_COUNTERS_SNAP_H
#define SIPHON_COUNTERS_SNAP_H

#include "siphon/gen_counters.h"
#include "pipeline.h"
#include "receiver.h"

#define COUNTERS_SNAP_INTERVAL_MS 1000u /* --io xdp sends one about this often */

/* n workers' pipeline counters, summed: named groups packets, bytes,
 * outcome, packet, reason, dispatch, fragments, ratelimit; flags, rules
 * and nodes of t indexed (gens: where the rule and node counters are,
 * NULL: w[i]->c). */
void counters_snap_pipeline(struct gen_counters_builder *b, struct pipeline_worker *const *w,
			    unsigned n, const struct compiled_tables *t,
			    const struct pipeline_gen *const *gens);

/* The receiver's own counters, as group "channel". */
void counters_snap_receiver(struct gen_counters_builder *b, const struct gen_receiver *r);

/* Finishes b as the snapshot of r's running generation and sends it;
 * frees b. 0 or -errno (not attached, skipped, failed: the receiver
 * counts and logs as for its other writes). */
int counters_snap_send(struct gen_receiver *r, struct gen_counters_builder *b, uint32_t lanes);
/* The same for `generation` with flags (GEN_COUNTERS_FINAL: its last). */
int counters_snap_send_gen(struct gen_receiver *r, struct gen_counters_builder *b,
			   uint64_t generation, uint32_t lanes, uint32_t flags);
/* This process's instance number (random, not 0): siphond tells a
 * restarted fast path, whose counters start from 0, from one that
 * reconnected. */
uint64_t counters_snap_instance(void);

#endif
