/* Maglev consistent hashing (Eisenbud et al., NSDI 2016) with weights: the
 * table a pool's Call-ID hash indexes. Built by the control plane
 * (controlplane/maglev/), looked up by the fast path and by explain. */
#ifndef SIPHON_MAGLEV_H
#define SIPHON_MAGLEV_H

#include <stddef.h>
#include <stdint.h>

#define MAGLEV_DEFAULT_SIZE 65537u /* a prime: every skip visits every slot */
#define MAGLEV_MAX_SIZE     1048573u
#define MAGLEV_MAX_NODES    4096u
#define MAGLEV_NO_NODE      0xFFFFu /* a pool with no live node */

struct maglev_table {
	uint32_t size;         /* a prime */
	const uint16_t *slots; /* size entries: node index within the pool */
};

/* The slot of a hash: its high 32 bits scaled to the table size by a
 * multiply and a shift (Lemire's "fastrange"), not a division. The BPF
 * program does the same. */
static inline uint16_t maglev_lookup(const struct maglev_table *t, uint64_t hash)
{
	return t->size ? t->slots[((hash >> 32) * t->size) >> 32] : (uint16_t)MAGLEV_NO_NODE;
}

/* The dispatch hash of a Call-ID: XXH64 with the config's seed, so every
 * siphon node with the same config picks the same core node. The BPF
 * program computes the same function (parity-tested). */
uint64_t callid_hash(const uint8_t *callid, size_t len, uint64_t seed);

#endif
