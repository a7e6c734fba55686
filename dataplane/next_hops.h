/* Next hops from the kernel, as the pipeline reads them (docs/afxdp.md
 * "Next hops"): per node, and per family toward the clients (nat replies),
 * the MAC the kernel's routes and neighbour table give, and the egress
 * interface's own MAC. A control thread (dataplane/neigh.c) writes the
 * entries; workers read them without a lock. Each entry is one 64-bit word
 * (MAC and state), stored with release and loaded with acquire semantics,
 * so a reader sees an old or a new entry whole, never half of one. The
 * pcap backend has none: the config's MACs are the only source there. */
#ifndef SIPHON_NEXT_HOPS_H
#define SIPHON_NEXT_HOPS_H

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

enum next_hop_state {
	NEXT_HOP_NONE = 0,     /* no neighbour entry (yet): resolution is asked for */
	NEXT_HOP_OK = 1,       /* mac is the next hop's */
	NEXT_HOP_NO_ROUTE = 2, /* no route, or one that leaves by another interface than the egress */
};

#define NEXT_HOP_GW4 0 /* gateway[]: toward IPv4 clients */
#define NEXT_HOP_GW6 1

struct next_hops {
	uint32_t n_nodes;
	_Atomic uint64_t *node;       /* n_nodes entries: next_hop_pack() */
	_Atomic uint64_t gateway[2];  /* the default route's next hop, per family */
	_Atomic uint64_t src;         /* the egress interface's MAC */
	/* n_nodes + 2 flags (nodes, then the two gateways): a worker met a
	 * NONE entry; the control thread asks the kernel to resolve it */
	_Atomic uint8_t *want;
	_Atomic uint32_t generation;  /* entries changed so far */
};

static inline uint64_t next_hop_pack(const uint8_t mac[6], enum next_hop_state st)
{
	uint64_t v = (uint64_t)st << 48;

	for (int i = 0; i < 6; i++)
		v |= (uint64_t)mac[i] << (8 * (5 - i));
	return v;
}

static inline enum next_hop_state next_hop_unpack(uint64_t v, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)(v >> (8 * (5 - i)));
	return (enum next_hop_state)(v >> 48 & 0xff);
}

/* The fast path's read of entry e (want index wi): its state and MAC; a
 * NONE entry raises its want flag (a load first: no cache-line write per
 * packet while the flag is up). No lock, no system call. */
static inline enum next_hop_state next_hops_read(const struct next_hops *h, const _Atomic uint64_t *e,
						 uint32_t wi, uint8_t mac[6])
{
	enum next_hop_state st = next_hop_unpack(atomic_load_explicit(e, memory_order_acquire), mac);

	if (st == NEXT_HOP_NONE && !atomic_load_explicit(&h->want[wi], memory_order_relaxed))
		atomic_store_explicit(&h->want[wi], 1, memory_order_relaxed);
	return st;
}

#endif
