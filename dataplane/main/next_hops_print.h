/* The summary's "next_hops" member, the same in --io xdp and --io dpdk:
 * the next-hop thread's counters (dataplane/neigh.h) and each node's entry
 * (its config MAC, the kernel's MAC, or why there is none). */
#ifndef SIPHON_NEXT_HOPS_PRINT_H
#define SIPHON_NEXT_HOPS_PRINT_H

#include <stdio.h>

#include "neigh.h"

/* nc NULL: no kernel interface faces the nodes, "next_hops": null. */
void print_next_hops(FILE *f, const struct neigh_ctl *nc, const struct compiled_tables *t,
		     int *first);

#endif
