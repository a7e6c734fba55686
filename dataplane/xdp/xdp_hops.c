// SPDX-License-Identifier: Apache-2.0
/* The nodes' next hops into kt_nodes (xdp_hops.h). */
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "siphon/siphon_tables.h"
#include "siphon.skel.h"
#include "xdp_hops.h"

void xdp_hops_init(struct xdp_hops *h, const struct siphon_bpf *skel)
{
	memset(h, 0, sizeof(*h));
	pthread_mutex_init(&h->mu, NULL);
	h->nodes_fd = skel ? bpf_map__fd(skel->maps.kt_nodes) : -1;
	for (uint32_t half = 0; half < 2; half++)
		h->binding[half] = (struct xdp_hops_binding){ h, half };
}

void xdp_hops_close(struct xdp_hops *h)
{
	pthread_mutex_destroy(&h->mu);
	h->nodes_fd = -1;
}

void xdp_hops_unbind(struct xdp_hops *h, uint32_t half)
{
	pthread_mutex_lock(&h->mu);
	h->owner[half & 1] = NULL;
	pthread_mutex_unlock(&h->mu);
}

static unsigned ifindex_mtu(int ifindex)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	unsigned mtu = 0;

	if (fd < 0)
		return 0;
	if (if_indextoname((unsigned)ifindex, ifr.ifr_name) && ioctl(fd, SIOCGIFMTU, &ifr) == 0)
		mtu = (unsigned)ifr.ifr_mtu;
	close(fd);
	return mtu;
}

/* Node i's hop as c has it now into its kt_nodes entry of `half` (mtu:
 * the egress interface's, read once by the caller for all it writes): the
 * new hop into the slot packets do not read, then hop_sel switched to it
 * (one byte): a packet takes the old hop or the new one whole. No hop
 * (not resolved, no route by the egress): hop_sel 0, the program asks
 * the kernel. Called with h->mu held. */
static void write_node(struct xdp_hops *h, uint32_t half, const struct neigh_ctl *c, uint32_t i,
		       unsigned mtu)
{
	uint32_t key = half * SK_MAX_NODES + i;
	struct sk_node n;
	struct sk_hop hop = { .ifindex = (unsigned)c->egress_ifindex, .mtu = mtu };
	uint8_t sel;

	if (h->nodes_fd < 0 || i >= SK_MAX_NODES || bpf_map_lookup_elem(h->nodes_fd, &key, &n))
		return;
	if (next_hop_unpack(atomic_load_explicit(&c->hops.node[i], memory_order_acquire),
			    hop.dmac) != NEXT_HOP_OK ||
	    next_hop_unpack(atomic_load_explicit(&c->hops.src, memory_order_acquire),
			    hop.smac) != NEXT_HOP_OK ||
	    !mtu) {
		if (!n.hop_sel)
			return;
		n.hop_sel = 0;
	} else {
		if (n.hop_sel && !memcmp(&n.hop[(n.hop_sel - 1) & 1], &hop, sizeof(hop)))
			return;
		sel = n.hop_sel == 1 ? 2 : 1;
		n.hop[sel - 1] = hop;
		if (bpf_map_update_elem(h->nodes_fd, &key, &n, BPF_ANY)) {
			h->failed++;
			return;
		}
		n.hop_sel = sel;
	}
	if (bpf_map_update_elem(h->nodes_fd, &key, &n, BPF_ANY))
		h->failed++;
	else
		h->written++;
}

static void node_changed(void *ctx, const struct neigh_ctl *c, uint32_t node)
{
	struct xdp_hops_binding *b = ctx;

	pthread_mutex_lock(&b->h->mu);
	if (b->h->owner[b->half] == c) /* else tables newer than c's own the half */
		write_node(b->h, b->half, c, node, ifindex_mtu(c->egress_ifindex));
	pthread_mutex_unlock(&b->h->mu);
}

void xdp_hops_bind(struct xdp_hops *h, uint32_t half, struct neigh_ctl *c)
{
	unsigned mtu;

	half &= 1;
	pthread_mutex_lock(&h->mu);
	h->owner[half] = c;
	mtu = ifindex_mtu(c->egress_ifindex);
	for (uint32_t i = 0; i < c->hops.n_nodes; i++)
		write_node(h, half, c, i, mtu);
	pthread_mutex_unlock(&h->mu);
	c->on_node_ctx = &h->binding[half];
	c->on_node = node_changed;
}
