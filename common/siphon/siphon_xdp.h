/* What the XDP program (bpf/siphon.bpf.c) and user space share: limits,
 * the verdict reasons and the layout of the counter map. No includes and no
 * libc: compiled for both -target bpf and the host (docs/xdp.md). */
#ifndef SIPHON_XDP_H
#define SIPHON_XDP_H

#include "siphon/limits.h" /* SIPHON_XDP_MAX_VIPS, SIPHON_XDP_MAX_PORTS */

#define SIPHON_XDP_HASH_MAX   256 /* bytes XXH64 reads at most */

enum xdp_reason {
#define XDP_REASON(id, name, help) XDP_REASON_##id,
#include "siphon/xdp_reasons.def"
#undef XDP_REASON
	XDP_REASON__COUNT
};

/* The counter map ("counters", per-CPU array of struct siphon_xdp_counter):
 * index s < PKT_STATUS__COUNT counts the packets pkt_parse() status s (the
 * BPF parser's twin) was given; index PKT_STATUS__COUNT + r counts verdict
 * reason r. Every packet moves exactly one of each. */
#define SIPHON_XDP_REASON_INDEX(n_status, r) ((n_status) + (r))

struct siphon_xdp_counter {
	unsigned long long packets;
	unsigned long long bytes;
};

/* The kernel lane's flag counters ("flag_stats", per-CPU array keyed by
 * the table half): set[f] counts the messages the kernel lane itself took
 * a verdict on (drop, punt / reply, forward) with flag f surely set. One
 * value per half, so that one lookup per message reaches every flag. */
#define SIPHON_XDP_FLAGS 128 /* two 64-bit words (struct sk_flags) */

struct siphon_xdp_flag_counts {
	unsigned long long set[SIPHON_XDP_FLAGS];
};

_Static_assert(sizeof(struct siphon_xdp_flag_counts) == SIPHON_XDP_FLAGS * 8,
	       "flag counters are plain 64-bit words");

#endif
