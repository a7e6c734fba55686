/* Finding a node of the tables by its nid token or by its address in
 * O(1): a packet field chooses among what the tables hold, never by a
 * linear scan per message. The control plane builds the two slot arrays
 * with the tables (node_index_build); the fast path, explain and siphond
 * look up. */
#ifndef SIPHON_NODE_INDEX_H
#define SIPHON_NODE_INDEX_H

#include "siphon/tables.h"

/* Slots needed for n nodes: a power of two, at least 2 * n (at least 2). */
uint32_t node_index_slots(uint32_t n_nodes);

/* Fills nid_slots and addr_slots (node_index_slots(t->n_nodes) entries
 * each, zeroed by the caller) from t->nodes; sets nothing in t. */
void node_index_build(const struct compiled_tables *t, uint32_t n_slots, uint16_t *nid_slots,
		      uint16_t *addr_slots);

/* The node of `pool` whose id is [id, id+len), or -1. Ids are unique in a
 * pool; the same id in another pool is another node. */
int node_index_by_nid(const struct compiled_tables *t, uint16_t pool, const uint8_t *id,
		      size_t len);

/* Whether a node has this address (and, when port is not 0, this port);
 * with nat_only, only nodes of nat pools count. */
bool node_index_has_addr(const struct compiled_tables *t, int family, const uint8_t *addr,
			 uint16_t port, bool nat_only);

#endif
