/* The XDP program's maps (docs/xdp.md "Maps"). Sizes may be overridden at
 * compile time; everything else that is set at load time is rodata in
 * siphon.bpf.c. */
#ifndef SIPHON_MAPS_BPF_H
#define SIPHON_MAPS_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "parse.bpf.h"
#include "siphon/siphon_xdp.h"
#include "siphon/siphon_tables.h"

/* Every map is pinned by name: siphon opens the object with
 * bpf_object_open_opts.pin_root_path and reuses the maps (tables, counters)
 * pinned there by an earlier run; tests clear the pin paths (no pins). */
#define SIPHON_PIN __uint(pinning, LIBBPF_PIN_BY_NAME)

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
	SIPHON_PIN;
} counters SEC(".maps");

/* The AF_XDP lane: receive queue index -> socket. */
struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, SIPHON_XSK_MAX);
	__type(key, __u32);
	__type(value, __u32);
	SIPHON_PIN;
} xsks SEC(".maps");

/* xdp_hash_test's copy of the payload (the kernel lane hashes the Call-ID
 * in its scan buffer); 32 bytes of slack so that a masked index plus an
 * 8-byte read stays inside the value. */
struct hash_scratch {
	__u8 b[SIPHON_XDP_HASH_MAX + 32];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hash_scratch);
	SIPHON_PIN;
} scratch SEC(".maps");

/* xdp_hash_test's result: the XXH64 of the last packet's UDP payload. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
	SIPHON_PIN;
} hash_out SEC(".maps");

/* ---- the kernel lane's tables (siphon_tables.h), double-buffered ---- */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sk_gen);
	SIPHON_PIN;
} generation SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct sk_tables);
	SIPHON_PIN;
} kt_tables SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * SK_MAX_RULE_TERMS);
	__type(key, __u32);
	__type(value, struct sk_term);
	SIPHON_PIN;
} kt_terms SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * SK_MAX_EXPR_TERMS);
	__type(key, __u32);
	__type(value, struct sk_term);
	SIPHON_PIN;
} kt_expr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * SK_MAX_RULES);
	__type(key, __u32);
	__type(value, struct sk_rule_action);
	SIPHON_PIN;
} kt_actions SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * SK_MAX_POOLS);
	__type(key, __u32);
	__type(value, struct sk_pool);
	SIPHON_PIN;
} kt_pools SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * SK_MAX_NODES);
	__type(key, __u32);
	__type(value, struct sk_node);
	SIPHON_PIN;
} kt_nodes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * SK_MAX_POOLS * SK_MAGLEV_MAX);
	__type(key, __u32);
	__type(value, __u32);
	SIPHON_PIN;
} kt_maglev SEC(".maps");

/* header names (lower case) -> SKH_* | extra mask << 16 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SK_MAX_NAMES);
	__type(key, struct sk_name_key);
	__type(value, __u32);
	SIPHON_PIN;
} kt_hdrs SEC(".maps");

/* method names (exact) -> flags */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SK_MAX_NAMES);
	__type(key, struct sk_name_key);
	__type(value, struct sk_flags);
	SIPHON_PIN;
} kt_methods SEC(".maps");

/* node-id tokens of each pool (exact) -> node index into kt_nodes of the
 * half: what a nid may name, only nodes of the pool the route chose */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * SK_MAX_NODES);
	__type(key, struct sk_nid_key);
	__type(value, __u32);
	SIPHON_PIN;
} kt_nids SEC(".maps");

/* source prefixes -> the union of the flags of every prefix covering them */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, SK_MAX_PREFIXES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct sk_lpm4);
	__type(value, struct sk_flags);
	SIPHON_PIN;
} kt_src4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, SK_MAX_PREFIXES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct sk_lpm6);
	__type(value, struct sk_flags);
	SIPHON_PIN;
} kt_src6 SEC(".maps");

/* where forwarded frames leave: entry 0 = the egress ifindex; empty: XDP_TX.
 * Not pinned: the kernel marks every DEVMAP read-only for programs
 * (BPF_F_RDONLY_PROG) but refuses that flag from user space, so libbpf
 * 1.1 can never reuse a pinned one ("parameter mismatch"). Each loaded
 * program has its own, written by every publication. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bpf_devmap_val);
} tx_ports SEC(".maps");

/* kernel-lane counters: per node (index into the tables' nodes) and per
 * rule, packets and bytes; double-buffered like the tables (key = half *
 * SK_MAX_NODES + node, half * SK_MAX_RULES + rule), so that what a
 * generation counts never mixes with the next one's (docs/generations.md) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2 * SK_MAX_NODES);
	__type(key, __u32);
	__type(value, struct siphon_xdp_counter);
	SIPHON_PIN;
} node_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2 * SK_MAX_RULES);
	__type(key, __u32);
	__type(value, struct siphon_xdp_counter);
	SIPHON_PIN;
} rule_stats SEC(".maps");

/* kernel-lane forwards per node x message: (half * SK_MAX_NODES + node) *
 * 13 + slot (slots of common/siphon/node_msg.h: INVITE ACK BYE CANCEL
 * OPTIONS REGISTER other, then the response classes 1xx-6xx) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2 * SK_MAX_NODES * 13);
	__type(key, __u32);
	__type(value, struct siphon_xdp_counter);
	SIPHON_PIN;
} node_msg_stats SEC(".maps");

/* kernel-lane flag counters: table half -> one counter per flag */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct siphon_xdp_flag_counts);
	SIPHON_PIN;
} flag_stats SEC(".maps");

/* the kernel lane's forwards by nid, and nids naming no node of the pool:
 * half * SK_NID_STATS + enum sk_nid_stat */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2 * SK_NID_STATS);
	__type(key, __u32);
	__type(value, struct siphon_xdp_counter);
	SIPHON_PIN;
} nid_stats SEC(".maps");

/* next-hop counters (enum sk_hop_stat), not per half: the fallbacks to
 * bpf_fib_lookup() an operator watches */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SK_HOP_STATS);
	__type(key, __u32);
	__type(value, struct siphon_xdp_counter);
	SIPHON_PIN;
} hop_stats SEC(".maps");

/* why packets went to user space, also when no AF_XDP socket took them
 * (then the reason counter says pass_no_xsk): index = enum xdp_reason */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XDP_REASON__COUNT);
	__type(key, __u32);
	__type(value, struct siphon_xdp_counter);
	SIPHON_PIN;
} up_why SEC(".maps");

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
