/* Building a weighted Maglev table off the fast path. */
#ifndef SIPHON_MAGLEV_BUILD_H
#define SIPHON_MAGLEV_BUILD_H

#include <stdbool.h>
#include <stdint.h>

#include "siphon/maglev.h"

struct maglev_node {
	const char *id;  /* stable identity: the node's preferences depend on it only */
	uint32_t weight; /* 0 takes no share */
	bool up;         /* only live nodes get slots */
};

/* True when size is a prime from 3 to MAGLEV_MAX_SIZE. */
bool maglev_valid_size(uint32_t size);

/* Fills slots[size] for nodes[n]: each live node with a weight gets a share
 * of the slots in proportion to its weight, every slot a node or, when no
 * node is live, MAGLEV_NO_NODE. The same input gives the same bytes, and a
 * node leaving or joining moves little beyond its own share. 0 or -EINVAL
 * (bad size, too many nodes, an id missing) or -ENOMEM. */
int maglev_build(const struct maglev_node *nodes, unsigned n, uint32_t size, uint64_t seed,
		 uint16_t *slots);

#endif
