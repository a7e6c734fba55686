/* Whether a table set fits the XDP kernel lane (limits.h), said before
 * anything is loaded: `siphonctl check` and `siphon --io xdp` ask the same
 * function, so check never accepts what the XDP mode then refuses. */
#ifndef SIPHON_LANE_LIMITS_H
#define SIPHON_LANE_LIMITS_H

#include <stddef.h>

#include "siphon/tables.h"

/* LPM entries the kernel lane needs for a source prefix table: one per
 * leaf entry of the trie that carries flags. */
unsigned prefix_table_leaves(const struct prefix_table *pt);

/* 0, or -E2BIG with err saying what is over which limit and by how much. */
int kernel_lane_fits(const struct compiled_tables *t, char *err, size_t errlen);

#endif
