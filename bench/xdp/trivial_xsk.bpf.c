// SPDX-License-Identifier: Apache-2.0
/* The AF_XDP lane's baseline, kernel half (docs/bench-xdp.md): every frame
 * to the AF_XDP socket of its receive queue (bench-trivial-afxdp), to the
 * kernel stack when none is bound there. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

SEC("xdp")
int trivial_xsk(struct xdp_md *ctx)
{
	return bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
