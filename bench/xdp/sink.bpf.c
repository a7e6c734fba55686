// SPDX-License-Identifier: Apache-2.0
/* The bench's sink (docs/bench-xdp.md): attached in place of the lab's
 * XDP_PASS program on sph-sw-lb (the core switch's port facing siphon), it
 * counts every frame by destination node MAC and drops it, so a bench
 * measures what the balancer forwarded, and the core nodes see none of it. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "bench_xdp.h"

const volatile __u8 node_mac[BENCH_SINK_NODES][ETH_ALEN] = {};
const volatile __u32 node_count = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BENCH_SINK_SLOTS);
	__type(key, __u32);
	__type(value, struct bench_counter);
} sink_counters SEC(".maps");

static __always_inline int mac_eq(const __u8 *a, const volatile __u8 *b)
{
	for (int i = 0; i < ETH_ALEN; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

SEC("xdp")
int sink(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct bench_counter *c;
	__u32 idx = BENCH_SINK_OTHER;

	if ((void *)(eth + 1) <= end && eth->h_proto == bpf_htons(ETH_P_IP)) {
		for (__u32 i = 0; i < BENCH_SINK_NODES; i++) {
			if (i >= node_count)
				break;
			if (mac_eq(eth->h_dest, node_mac[i])) {
				idx = 1 + i;
				break;
			}
		}
	}
	c = bpf_map_lookup_elem(&sink_counters, &idx);
	if (c) {
		c->packets++;
		c->bytes += end - data;
	}
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
