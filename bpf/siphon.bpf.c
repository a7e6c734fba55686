// SPDX-License-Identifier: Apache-2.0
/* The XDP program: the one BPF entry point (STYLE.md rule 6; docs/xdp.md).
 *
 * Today: parse L2-L4 (parse.bpf.h, pkt_parse()'s twin), drop malformed IP
 * to a VIP, pass everything not for a VIP address and port to the kernel
 * stack, and send UDP/TCP to a VIP:port (and non-first fragments to a VIP)
 * to the AF_XDP socket of the receive queue, or to the kernel stack when no
 * socket is bound there. Every packet moves one status counter and one
 * reason counter (maps.bpf.h). No SIP parsing in the kernel yet. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "siphon_xdp.h"
#include "parse.bpf.h"
#include "maps.bpf.h"
#include "hash.bpf.h"

/* Load-time settings (rodata, frozen at load: the verifier prunes the
 * unused array slots). Addresses as on the wire; ports in host order. */
const volatile __u32 vip4[SIPHON_XDP_MAX_VIPS] = {};
const volatile __u32 vip4_count = 0;
const volatile __u32 vip6[SIPHON_XDP_MAX_VIPS][4] = {};
const volatile __u32 vip6_count = 0;
const volatile __u16 vip_ports[SIPHON_XDP_MAX_PORTS] = {};
const volatile __u32 vip_port_count = 0;
const volatile __u64 hash_seed = 0;

static __always_inline int is_vip_addr(const struct xdp_pkt *p)
{
	if (p->family == 4) {
		for (__u32 i = 0; i < SIPHON_XDP_MAX_VIPS; i++) {
			if (i >= vip4_count)
				break;
			if (vip4[i] == p->daddr[0])
				return 1;
		}
		return 0;
	}
	for (__u32 i = 0; i < SIPHON_XDP_MAX_VIPS; i++) {
		if (i >= vip6_count)
			break;
		if (vip6[i][0] == p->daddr[0] && vip6[i][1] == p->daddr[1] &&
		    vip6[i][2] == p->daddr[2] && vip6[i][3] == p->daddr[3])
			return 1;
	}
	return 0;
}

static __always_inline int is_vip_port(__u16 port)
{
	for (__u32 i = 0; i < SIPHON_XDP_MAX_PORTS; i++) {
		if (i >= vip_port_count)
			break;
		if (vip_ports[i] == port)
			return 1;
	}
	return 0;
}

SEC("xdp")
int siphon_xdp(struct xdp_md *ctx)
{
	struct xdp_pkt p = {};
	enum pkt_status st = parse(ctx, &p);
	enum xdp_reason r;
	int act = XDP_PASS;

	if (!p.family) {
		r = XDP_REASON_PASS_NOT_IP;
	} else if (!is_vip_addr(&p)) {
		r = XDP_REASON_PASS_NOT_FOR_US;
	} else {
		switch (st) {
		case PKT_STATUS_OK:
			if (!is_vip_port(p.dport)) {
				r = XDP_REASON_PASS_NOT_FOR_US;
				break;
			}
			/* fall through */
		case PKT_STATUS_FRAGMENT: /* reassembled in user space */
			act = bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);
			r = act == XDP_REDIRECT ? XDP_REASON_TO_USERSPACE : XDP_REASON_PASS_NO_XSK;
			break;
		case PKT_STATUS_NOT_UDP_TCP:
			r = XDP_REASON_PASS_NOT_UDP_TCP;
			break;
		case PKT_STATUS_IPV6_ROUTING:
			r = XDP_REASON_PASS_NOT_FOR_US;
			break;
		default:
			r = XDP_REASON_DROP_MALFORMED;
			act = XDP_DROP;
			break;
		}
	}
	count_verdict(st, r, p.len);
	return act;
}

/* Tests only (tests/bpf/test_xdp.c): XXH64 with hash_seed over the UDP
 * payload (at most SIPHON_XDP_HASH_MAX bytes) into hash_out[0]. */
SEC("xdp")
int xdp_hash_test(struct xdp_md *ctx)
{
	struct xdp_pkt p = {};
	struct hash_scratch *s;
	__u32 zero = 0, len;
	__u64 *out;

	if (parse(ctx, &p) != PKT_STATUS_OK || p.l4_proto != PROTO_UDP)
		return XDP_ABORTED;
	s = bpf_map_lookup_elem(&scratch, &zero);
	out = bpf_map_lookup_elem(&hash_out, &zero);
	if (!s || !out)
		return XDP_ABORTED;
	len = p.payload_len;
	if (len > SIPHON_XDP_HASH_MAX)
		len = SIPHON_XDP_HASH_MAX;
	if (len && bpf_xdp_load_bytes(ctx, p.payload_off, s->b, len))
		return XDP_ABORTED;
	*out = xxh64(s->b, len, hash_seed);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
