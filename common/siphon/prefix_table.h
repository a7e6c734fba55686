/* The source-prefix classifier's table: the ABI shared by the builder
 * (control plane), the fast path, BPF-adjacent code and the CLI.
 *
 * A stride-8 multibit trie over the address bytes, one table per family
 * (key 4 or 16 bytes). Looking up an address gives the union of the
 * flagsets of every configured prefix that contains it (docs/prefix-table.md).
 * The arrays hold indices, never pointers, so a table can be copied whole
 * into shared memory or a BPF array map. */
#ifndef SIPHON_PREFIX_TABLE_H
#define SIPHON_PREFIX_TABLE_H

#include <stdint.h>

#include "siphon/flagset.h"

#define PREFIX_STRIDE_BITS 8
#define PREFIX_FANOUT      (1u << PREFIX_STRIDE_BITS) /* entries per node */
#define PREFIX_KEY_MAX     16                          /* bytes: IPv6 */

/* Nodes per table, root included: 65536 nodes x 256 entries x 8 bytes is
 * 128 MiB at most; the builder refuses (-E2BIG) rather than grow past it.
 * Map sizes are the one thing a BPF build may override. */
#ifndef PREFIX_MAX_NODES
#define PREFIX_MAX_NODES 65536u
#endif

struct prefix_entry {
	uint32_t child; /* node index, 0 = none (node 0 is the root, never a child) */
	uint32_t value; /* index into values[], 0 = no flags */
};

_Static_assert(sizeof(struct prefix_entry) == 8, "prefix_entry is two u32, no padding");
_Static_assert(PREFIX_FANOUT == 256, "one node per address byte");

/* An entry's value is the union of the prefixes that cover the entry's
 * whole address range; every entry of its child node includes it. */
struct prefix_table {
	uint32_t key_bytes; /* 4 or 16 */
	uint32_t n_nodes;
	uint32_t n_values;
	const struct prefix_entry *nodes; /* n_nodes * 256 entries, node 0 = root */
	const struct flagset *values;     /* values[0] is the empty set */
};

/* The union flagset for addr (key_bytes bytes, network order): values[0]
 * when nothing matches, a static empty set for a table with no nodes.
 * Never NULL. At most key_bytes steps; no allocation, no locks. Indices
 * are range-checked, so a corrupt table gives wrong flags, never a wild read. */
const struct flagset *prefix_lookup(const struct prefix_table *t, const uint8_t *addr);

#endif
