/* The kernel lane's next hops from user space (docs/xdp.md "Sixth pass"):
 * the AF_XDP lane's next-hop thread (neigh.c) already follows the
 * kernel's routes and neighbour table for every node; through its node
 * hook, each change is also written into the node's kt_nodes entry of the
 * table half that node belongs to (struct sk_hop: next-hop MAC, egress
 * MAC, ifindex, MTU), so the program takes it without bpf_fib_lookup().
 * An entry without a hop (hop_sel 0) makes the program ask the kernel, as
 * before. */
#ifndef SIPHON_XDP_HOPS_H
#define SIPHON_XDP_HOPS_H

#include <pthread.h>
#include <stdint.h>

#include "neigh.h"

struct siphon_bpf;

struct xdp_hops;
struct xdp_hops_binding { /* what a next-hop thread's hook writes to */
	struct xdp_hops *h;
	uint32_t half;
};

struct xdp_hops {
	pthread_mutex_t mu;       /* a write and a half's change of owner */
	int nodes_fd;             /* kt_nodes; -1: none (writes do nothing) */
	/* the next-hop thread whose nodes a half holds; NULL: none (the
	 * half is being, or was last, published by tables no thread binds) */
	const struct neigh_ctl *owner[2];
	struct xdp_hops_binding binding[2]; /* per half: the hooks' context */
	uint64_t written, failed; /* kt_nodes updates made, refused */
};

void xdp_hops_init(struct xdp_hops *h, const struct siphon_bpf *skel);
void xdp_hops_close(struct xdp_hops *h);
/* Before tables are published into `half`: no writer touches it from now
 * on (a thread still running for older tables finds itself unbound). */
void xdp_hops_unbind(struct xdp_hops *h, uint32_t half);
/* After tables were published into `half`: c (opened for those tables,
 * node i = kt_nodes index i) writes its nodes' hops there, all of them
 * now, each change later from its thread. */
void xdp_hops_bind(struct xdp_hops *h, uint32_t half, struct neigh_ctl *c);

#endif
