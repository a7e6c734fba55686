/* The compiled tables as the XDP program reads them (docs/xdp.md "Maps"):
 * load-time settings (rodata) before the program loads, then the table maps,
 * written into the inactive generation and switched in one map update. */
#ifndef SIPHON_XDP_TABLES_H
#define SIPHON_XDP_TABLES_H

#include <stdbool.h>
#include <stddef.h>

#include "siphon/tables.h"

struct siphon_bpf;

/* Between siphon_bpf__open() and __load(): VIPs, ports, the hash seed and
 * whether the kernel lane decides at all (false: every VIP:port packet goes
 * to AF_XDP). 0, or -errno with a message in err. */
int xdp_tables_configure(struct siphon_bpf *skel, const struct compiled_tables *t,
			 bool kernel_lane, char *err, size_t errlen);

/* After load (maps possibly reused from the pins of an earlier run): writes
 * t into the inactive half of the table maps and switches the generation.
 * egress_ifindex: where the kernel lane redirects forwarded frames (0: back
 * out of the receiving interface, XDP_TX). 0, or -errno with a message. */
int xdp_tables_publish(struct siphon_bpf *skel, const struct compiled_tables *t,
		       int egress_ifindex, char *err, size_t errlen);
/* Fails with -E2BIG and a message when t does not fit the maps: more than
 * SK_MAX_POOLS pools, SK_MAGLEV_MAX slots in a pool, SK_MAX_NODES nodes,
 * SK_MAX_RULE_TERMS / SK_MAX_RULES / SK_MAX_EXPR_TERMS route terms, rules,
 * expr terms (bpf/siphon_tables.h), or SK_MAX_PREFIXES / 2 LPM entries. */

/* The table half the next xdp_tables_publish writes (the inactive one: no
 * program run reads or counts into it once the previous publication's
 * kernel grace period ended), or -errno. */
int xdp_tables_next_half(const struct siphon_bpf *skel);

/* The table maps (bpf/siphon_tables.h) are pinned by name under the
 * pin_root_path siphon opens the object with, and reused from there by the
 * next run. Tests and benches want no pins: this opens the program with
 * none, configures, loads and publishes t in one go. NULL with a message
 * in err when a step fails. */
struct siphon_bpf *xdp_tables_load_unpinned(const struct compiled_tables *t, bool kernel_lane,
					    int egress_ifindex, char *err, size_t errlen);

#endif
