/* Loading, attaching and pinning the XDP program for siphon --io xdp
 * (docs/afxdp.md "Restart"). The program and its maps outlive the process:
 * the maps are pinned by name under PIN_DIR = BPFFS/siphon/IFNAME, the
 * program under PIN_DIR/prog, and the attachment stays on the interface.
 * A new siphon reuses the pinned maps, publishes its tables into the
 * inactive generation and swaps its program in atomically
 * (XDP_FLAGS_REPLACE): the kernel lane forwards throughout a restart. */
#ifndef SIPHON_XDP_LOAD_H
#define SIPHON_XDP_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/limits.h>

#include "siphon/tables.h"

struct siphon_bpf;

struct xdp_load_options {
	const char *ifname, *egress; /* egress NULL: the receiving interface (XDP_TX) */
	const char *bpffs;           /* a bpffs mount */
	bool skb_mode;               /* generic XDP instead of native */
	bool kernel_lane;            /* false: every VIP:port packet to AF_XDP */
};

struct xdp_loader {
	struct siphon_bpf *skel;
	int ifindex, egress_ifindex;
	uint32_t prog_id;
	bool replaced; /* took over from an earlier siphon's program */
	int lock_fd;   /* one siphon per pin directory */
	/* the half the first tables went into, and its indexed counters
	 * (xdp_counters_read_indexed) read just before: the first
	 * generation's base (xdp_gen_start takes it; NULL: no memory) */
	uint32_t first_half;
	uint64_t *first_base;
	char pin_dir[PATH_MAX];
};

/* 0, or -errno with a message in err (nothing left attached or pinned by
 * this call when it fails before the attach). */
int xdp_loader_start(struct xdp_loader *l, const struct xdp_load_options *o,
		     const struct compiled_tables *t, char *err, size_t errlen);

/* Closes our handles; the program stays attached and pinned. */
void xdp_loader_close(struct xdp_loader *l);

/* siphon --detach: takes siphon's program off IFNAME and removes the pins.
 * 0, or -errno with a message. */
int xdp_detach(const char *ifname, const char *bpffs, bool skb_mode, char *err, size_t errlen);

/* The pinned counter map of IFNAME as JSON on f (siphon --counters):
 * works while siphon runs and after it exits. 0 or -errno with a message. */
int xdp_print_pinned_counters(FILE *f, const char *ifname, const char *bpffs, char *err,
			      size_t errlen);

/* The kernel's per-CPU counter maps (fd -1: not there). */
struct xdp_counter_fds {
	int counters, up_why, nodes, rules, node_msg, flags, nid, hop;
};

void xdp_counter_fds_of(struct xdp_counter_fds *m, const struct siphon_bpf *skel);

/* The kernel's counters summed over CPUs, as one JSON object: packet
 * (parse status), reasons (verdicts), to_userspace_why, dispatch (the
 * kernel's forwards by via_nid, route_nid, ruri_nid, and nid_unknown),
 * next_hop (fib_fallback: forwards that asked bpf_fib_lookup()),
 * nodes (forwarded
 * in the kernel: all n_nodes by name, or the non-zero ones by index when
 * node_names is NULL) and rules (n_rules, in rule order). Nodes and rules
 * are summed over both table halves: by index, every generation since the
 * maps were pinned (as before they were double-buffered). */
void xdp_print_counters(FILE *f, const struct xdp_counter_fds *m, const char *const *node_names,
			unsigned n_nodes, unsigned n_rules);

/* The same counters into a COUNTERS snapshot (docs/metrics.md): named
 * groups kernel_packet, kernel_reason (with nid_unknown and fib_fallback), kernel_up,
 * kernel_dispatch (forwards by nid); indexed kernel rules,
 * nodes (packets and bytes), nodes x message and flags of the running
 * generation. */
struct gen_counters_builder;
/* The indexed kernel counters of a generation of tables t running in
 * table half `half` as one array: XDP_KINDEX_LEN(t) values (node packets,
 * node bytes, rules, node x message, flags), read from the maps now. The
 * maps are double-buffered by table half (bpf/maps.bpf.h) and not reset at
 * a swap (and outlive siphon: pinned), so each generation keeps their
 * values when its half was still inactive as its base, and reports what
 * it counted since (xdp_counters_snap's base; NULL: the raw values). */
#define XDP_KINDEX_LEN(t) ((size_t)(t)->n_nodes * (2 + 13) + (t)->n_rules + (t)->n_flags)
void xdp_counters_read_indexed(const struct xdp_counter_fds *m, const struct compiled_tables *t,
			       uint32_t half, uint64_t *out);
/* The same into a new array (NULL: no memory). */
uint64_t *xdp_counters_read_new(const struct xdp_counter_fds *m, const struct compiled_tables *t,
				uint32_t half);
/* The half the next publication of tables t goes into (*half), and its
 * counters now as their base (*base, NULL: no memory): read before that
 * publication, while nothing counts into the half. 0, or -errno with a
 * message. */
int xdp_counters_next_base(const struct siphon_bpf *skel, const struct compiled_tables *t,
			   uint32_t *half, uint64_t **base, char *err, size_t errlen);
/* kernel: NULL, or values read by xdp_counters_read_indexed to report
 * instead of the maps' (a generation's final snapshot). */
void xdp_counters_snap(struct gen_counters_builder *b, const struct xdp_counter_fds *m,
		       const struct compiled_tables *t, uint32_t half, const uint64_t *base,
		       const uint64_t *kernel);

const char *xdp_reason_name(unsigned r);

#endif
