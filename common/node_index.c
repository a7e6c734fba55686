#include <string.h>
#include <sys/socket.h>

#include "siphon/maglev.h" /* callid_hash(): XXH64 */
#include "siphon/node_index.h"

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

static uint64_t nid_hash(uint64_t seed, uint16_t pool, const uint8_t *id, size_t len)
{
	return callid_hash(id, len, seed ^ ((uint64_t)pool * 0x9E3779B97F4A7C15ull));
}

static uint64_t addr_hash(uint64_t seed, int family, const uint8_t *addr)
{
	return callid_hash(addr, addr_len(family), seed ^ (uint64_t)family);
}

uint32_t node_index_slots(uint32_t n_nodes)
{
	uint32_t n = 2;

	while (n < 2 * n_nodes)
		n <<= 1;
	return n;
}

static void put(uint16_t *slots, uint32_t mask, uint64_t hash, uint32_t node)
{
	uint32_t i = (uint32_t)hash & mask;

	while (slots[i])
		i = (i + 1) & mask;
	slots[i] = (uint16_t)(node + 1);
}

void node_index_build(const struct compiled_tables *t, uint32_t n_slots, uint16_t *nid_slots,
		      uint16_t *addr_slots)
{
	for (uint32_t i = 0; i < t->n_nodes; i++) {
		const struct pool_node *n = &t->nodes[i];
		put(nid_slots, n_slots - 1,
		    nid_hash(t->hash_seed, n->pool, (const uint8_t *)n->id, n->id_len), i);
		put(addr_slots, n_slots - 1, addr_hash(t->hash_seed, n->addr.family, n->addr.addr), i);
	}
}

/* Every probe sequence ends at an empty slot (at most half are used), and
 * is bounded by the slot count besides. */
int node_index_by_nid(const struct compiled_tables *t, uint16_t pool, const uint8_t *id,
		      size_t len)
{
	const uint32_t mask = t->node_index_mask;
	uint32_t i;

	if (!t->nid_slots)
		return -1;
	i = (uint32_t)nid_hash(t->hash_seed, pool, id, len) & mask;
	for (uint32_t probes = 0; probes <= mask && t->nid_slots[i]; probes++, i = (i + 1) & mask) {
		const struct pool_node *n = &t->nodes[t->nid_slots[i] - 1];
		if (n->pool == pool && n->id_len == len && memcmp(n->id, id, len) == 0)
			return t->nid_slots[i] - 1;
	}
	return -1;
}

bool node_index_has_addr(const struct compiled_tables *t, int family, const uint8_t *addr,
			 uint16_t port, bool nat_only)
{
	const uint32_t mask = t->node_index_mask;
	uint32_t i;

	if (!t->addr_slots || (family != AF_INET && family != AF_INET6))
		return false;
	i = (uint32_t)addr_hash(t->hash_seed, family, addr) & mask;
	for (uint32_t probes = 0; probes <= mask && t->addr_slots[i]; probes++, i = (i + 1) & mask) {
		const struct pool_node *n = &t->nodes[t->addr_slots[i] - 1];
		if (n->addr.family == family && memcmp(n->addr.addr, addr, addr_len(family)) == 0 &&
		    (!port || n->port == port) &&
		    (!nat_only || t->pools[n->pool].mode == POOL_MODE_NAT))
			return true;
	}
	return false;
}
