/* siphon's program: options and the I/O backends (siphon.c, io_pcap.c,
 * io_xdp.c). Each backend runs the same pipeline (dataplane/pipeline.h). */
#ifndef SIPHON_MAIN_H
#define SIPHON_MAIN_H

#include <stdbool.h>
#include <stdio.h>

#include "config.h"
#include "pipeline.h"

struct options {
	const char *io, *config, *in, *out, *punt;            /* pcap */
	const char *iface, *egress, *bpffs, *punt_tap, *summary; /* xdp */
	unsigned queues, frames, seconds, stats_interval;
	int cpu; /* -1: workers not pinned */
	bool skb_mode, kernel_lane, zero_copy, copy, detach, counters;
};

/* The pipeline counters of n workers, summed, as JSON members (no braces). */
void print_pipeline_summary(FILE *f, struct pipeline_worker *const *w, unsigned n,
			    const struct siphon_config *cfg, int *first);

/* The backends run `tables`, opened from a table blob of cfg's tables
 * (docs/tables.md), as they will run siphond's; cfg gives the names. */
int run_pcap(const struct options *o, const struct siphon_config *cfg,
	     const struct compiled_tables *tables);

/* --io xdp: runs until SIGINT/SIGTERM (or --seconds). Exit status. */
int run_xdp(const struct options *o, const struct siphon_config *cfg,
	    const struct compiled_tables *tables);
/* --io xdp --detach / --counters: no config needed. Exit status. */
int run_xdp_admin(const struct options *o);

#endif
