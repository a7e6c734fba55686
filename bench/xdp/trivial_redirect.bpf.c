// SPDX-License-Identifier: Apache-2.0
/* The in-kernel lane's baseline (docs/bench-xdp.md): the least a DSR
 * balancer does to a frame. Set the destination MAC to one fixed node and
 * the source MAC to the balancer's, and redirect it through a DEVMAP to the
 * core interface. No parsing, no choice of node. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

const volatile __u8 node_mac[ETH_ALEN] = {};
const volatile __u8 src_mac[ETH_ALEN] = {};

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} egress SEC(".maps");

SEC("xdp")
int trivial_redirect(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > end)
		return XDP_PASS;
	for (int i = 0; i < ETH_ALEN; i++) {
		eth->h_dest[i] = node_mac[i];
		eth->h_source[i] = src_mac[i];
	}
	return bpf_redirect_map(&egress, 0, 0);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
