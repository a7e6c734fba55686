/* Continuous per-flag, per-rule and per-node counters (docs/metrics.md
 * "Continuity"). A fast path counts flags, rules and nodes by index of the
 * generation it runs, from 0 at each generation; siphond adds what each
 * snapshot moved to totals kept by a stable key: the flag's name, the
 * rule's key (rule_key below), the node's (pool, name). A node or rule
 * that leaves the config keeps its total until siphond restarts.
 *
 * What moved: the difference to the previous snapshot of the same fast
 * path when both are of the same instance (process) and generation; the
 * whole value otherwise (a new generation, or a restarted fast path,
 * counts from 0). The fast path sends a generation's last snapshot once
 * every worker left it (GEN_COUNTERS_FINAL), so nothing counted between
 * the last periodic snapshot and the swap is lost.
 *
 * Pure: no I/O; the time is given. */
#ifndef SIPHON_COUNTERS_TOTAL_H
#define SIPHON_COUNTERS_TOTAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "siphon/gen_counters.h"
#include "siphon/tables.h"

struct siphon_config;

#define CTOT_NAMES_KEPT 8      /* generations whose names are kept */
#define CTOT_RATE_WINDOW_MS 5000u
#define CTOT_SAMPLES 8         /* per node series: (time, total) of the last snapshots */
#define CTOT_RULE_KEY_MAX 16   /* "1a2b3c4d-2" */

/* What a generation's indices mean. */
struct gen_names {
	uint64_t number;
	uint32_t n_flags, n_rules, n_nodes;
	char (*flag)[TABLES_NAME_MAX];
	char (*rule)[CTOT_RULE_KEY_MAX];
	int *rule_line;
	char (*pool)[TABLES_NAME_MAX]; /* per node: its pool's name */
	char (*node)[TABLES_NAME_MAX];
};

/* A rule's stable key: the FNV-1a 32 of its text as written, in hex, and
 * "-N" for the Nth rule of the same text. It follows the rule when rules
 * are added or moved around it; editing the rule's text starts a new
 * series. */
void rule_key(const struct siphon_config *cfg, uint32_t i, char key[CTOT_RULE_KEY_MAX]);

struct ctot_sample {
	uint64_t t_ms, total;
};

/* One continuous series. kind: enum gen_counter_kind (the lane is in
 * it); sub: the slot of a node x message kind, else 0. a, b: flag name /
 * rule key / pool and node. */
struct ctot_entry {
	char fp[64];
	uint16_t kind, sub;
	char a[TABLES_NAME_MAX], b[TABLES_NAME_MAX];
	uint64_t total;
	struct ctot_sample s[CTOT_SAMPLES]; /* node packet kinds: a ring */
	unsigned ns, head;
};

struct ctotals;

struct ctotals *ctotals_new(void);
void ctotals_free(struct ctotals *t);

/* Keeps cfg's names as those of generation `number` (the last
 * CTOT_NAMES_KEPT generations are kept). 0 or -ENOMEM. */
int ctotals_note_generation(struct ctotals *t, const struct siphon_config *cfg, uint64_t number);
const struct gen_names *ctotals_names(const struct ctotals *t, uint64_t number);

/* A snapshot that checked (gen_counters_check) from fast path fp at
 * now_ms. Its indexed counters are added when its generation's names are
 * known; else counted in ctotals_unattributed. 0 or -ENOMEM. */
int ctotals_feed(struct ctotals *t, const char *fp, const void *snap, size_t len, uint64_t now_ms);
uint64_t ctotals_unattributed(const struct ctotals *t);

/* Every series, sorted by fast path, kind, a, b, sub. *out valid until
 * the next feed. */
size_t ctotals_sorted(struct ctotals *t, const struct ctot_entry *const **out);

/* A node's forwarded packets, both lanes and every fast path summed; its
 * rate (packets/s) over the samples of the last CTOT_RATE_WINDOW_MS. */
uint64_t ctotals_node(const struct ctotals *t, const char *pool, const char *node,
		      uint64_t now_ms, double *rate);
/* A node's messages by slot, per lane (0 afxdp, 1 kernel), summed over
 * fast paths. */
void ctotals_node_msg(const struct ctotals *t, const char *pool, const char *node,
		      uint64_t out[2][GEN_NODE_MSG_SLOTS]);

/* One series' total (0 when it has none). */
uint64_t ctotals_get(const struct ctotals *t, const char *fp, unsigned kind, unsigned sub,
		     const char *a, const char *b);

/* The rate of one entry's samples. */
double ctot_entry_rate(const struct ctot_entry *e, uint64_t now_ms);

#endif
