/* The XDP program's maps (docs/xdp.md "Maps"). Sizes may be overridden at
 * compile time; everything else that is set at load time is rodata in
 * siphon.bpf.c. */
#ifndef SIPHON_MAPS_BPF_H
#define SIPHON_MAPS_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "parse.bpf.h"
#include "siphon_xdp.h"

#ifndef SIPHON_XSK_MAX
#define SIPHON_XSK_MAX 64 /* receive queues with an AF_XDP socket */
#endif

#define SIPHON_COUNTERS (PKT_STATUS__COUNT + XDP_REASON__COUNT)

/* Per-CPU packet and byte counters: one per parse status, then one per
 * verdict reason (siphon_xdp.h). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SIPHON_COUNTERS);
	__type(key, __u32);
	__type(value, struct siphon_xdp_counter);
} counters SEC(".maps");

/* The AF_XDP lane: receive queue index -> socket. */
struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, SIPHON_XSK_MAX);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

/* Bytes copied out of the packet for hashing; 32 bytes of slack so that a
 * masked index plus an 8-byte read stays inside the value. */
struct hash_scratch {
	__u8 b[SIPHON_XDP_HASH_MAX + 32];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hash_scratch);
} scratch SEC(".maps");

/* xdp_hash_test's result: the XXH64 of the last packet's UDP payload. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} hash_out SEC(".maps");

static __always_inline void count(__u32 idx, __u32 bytes)
{
	struct siphon_xdp_counter *c = bpf_map_lookup_elem(&counters, &idx);

	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
}

static __always_inline void count_verdict(enum pkt_status st, enum xdp_reason r, __u32 bytes)
{
	count((__u32)st, bytes);
	count(SIPHON_XDP_REASON_INDEX(PKT_STATUS__COUNT, (__u32)r), bytes);
}

#endif
