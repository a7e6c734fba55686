/* siphon's program: options and the I/O backends (siphon.c, io_pcap.c,
 * io_xdp.c). Each backend runs the same pipeline (dataplane/pipeline.h). */
#ifndef SIPHON_MAIN_H
#define SIPHON_MAIN_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "config.h"
#include "pipeline.h"
#include "receiver.h"

struct options {
	const char *io, *config, *in, *out, *punt;            /* pcap */
	const char *iface, *egress, *bpffs, *punt_tap, *summary; /* xdp */
	const char *siphond, *state_dir; /* tables from siphond (docs/generations.md) */
	char **eal_argv; /* dpdk: the arguments after `--`, for EAL */
	const char *exception_iface; /* dpdk: the TAP to the kernel, or "none" */
	int eal_argc;
	unsigned queues, frames, seconds, stats_interval;
	unsigned coalesce_us; /* xdp: a worker's sleep between batches while frames come */
	bool coalesce_set;
	int idle_sleep_us; /* dpdk: the idle back-off's longest sleep; -1: not given (its default) */
	int cpu; /* -1: workers not pinned */
	bool skb_mode, kernel_lane, zero_copy, copy, detach, counters;
};

/* The pipeline counters of n workers, summed, as JSON members (no braces).
 * t: the tables the rule and node counters index; cfg: flag names and rule
 * lines (NULL with siphond: indices instead); gens: where the rule and node
 * counters are (NULL: w[i]->c). */
void print_pipeline_summary(FILE *f, struct pipeline_worker *const *w, unsigned n,
			    const struct compiled_tables *t, const struct siphon_config *cfg,
			    const struct pipeline_gen *const *gens, int *first);

/* The summary of --io xdp and --io dpdk (summary_file.c): to stdout, or
 * with --summary FILE to FILE.tmp, renamed onto FILE when closed, so that
 * a reader never sees half of one (a FILE.tmp that cannot be opened: a
 * line on stderr, and stdout). summary_open writes `{"io":...,"running":..`;
 * the caller adds its members (json_key with first = 0), summary_close
 * ends the object. */
struct summary_out {
	FILE *f;
	const char *path;
	char tmp[4096];
};
FILE *summary_open(struct summary_out *s, const struct options *o, bool running);
void summary_close(struct summary_out *s);
/* --stats-interval: true once every S seconds (never without it; the
 * first call starts the clock). */
struct summary_clock {
	time_t last;
};
bool summary_due(const struct options *o, struct summary_clock *c);

/* With siphond: the receiver's state as members of an open JSON object
 * ("running", "connected", and its counters), for the summary's "generation". */
void print_receiver_members(FILE *f, const struct gen_receiver *r, int *inner);

/* The backends run `tables`, opened from a table blob (docs/tables.md): of
 * cfg's tables (standalone), or siphond's (cfg NULL). With r attached
 * (siphond), --io pcap sends one counters snapshot after the replay. */
int run_pcap(const struct options *o, const struct siphon_config *cfg,
	     const struct compiled_tables *tables, struct gen_receiver *r);

/* --io xdp: runs until SIGINT/SIGTERM (or --seconds). With siphond (cfg
 * NULL), r is attached (or reconnecting) and g the first generation, taken
 * over. Exit status. */
int run_xdp(const struct options *o, const struct siphon_config *cfg,
	    const struct compiled_tables *tables, struct gen_receiver *r, struct gen_generation *g);

/* --io dpdk (docs/dpdk.md): EAL from o->eal_argv, one worker per lcore,
 * until SIGINT/SIGTERM (or --seconds). With siphond (cfg NULL), r is
 * attached (or reconnecting) and g the first generation, taken over.
 * Exit status. */
int run_dpdk(const struct options *o, const struct siphon_config *cfg,
	     const struct compiled_tables *tables, struct gen_receiver *r, struct gen_generation *g);

/* --siphond: the generation to start from: siphond's current one (r stays
 * attached, its ACK held back until it runs), else the one persisted in
 * --state-dir (r not connected). 0, or -errno after a message. */
int siphond_first(const struct options *o, struct gen_receiver *r, struct gen_generation **g);
/* --io xdp --detach / --counters: no config needed. Exit status. */
int run_xdp_admin(const struct options *o);

#endif
