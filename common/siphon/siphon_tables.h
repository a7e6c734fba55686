/* The table maps of the kernel lane: what xdp_tables_publish()
 * (dataplane/xdp/xdp_tables.c) writes and bpf/siphon.bpf.c reads
 * (docs/xdp.md "Maps"). No includes and no libc: compiled for both
 * -target bpf and the host. Every table map is double-buffered: "half" 0
 * or 1, and the `generation` map names the half the program reads.
 * Publishing writes the other half whole, then flips `generation` in one
 * update. Sizes may be overridden with -D at compile time (#ifndef). */
#ifndef SIPHON_TABLES_ABI_H
#define SIPHON_TABLES_ABI_H

#include "siphon/limits.h" /* SK_*: what the kernel lane takes */

/* 128 flag bits (struct flagset). */
struct sk_flags {
	unsigned long long w[2];
};

/* generation[0]: the half the program reads. */
struct sk_gen {
	unsigned int active; /* 0 or 1 */
	unsigned int seq;    /* publications so far */
};

/* Header-name kinds (kt_hdrs value: these bits | extra-header mask << 16). */
#define SKH_CALL_ID  0x01
#define SKH_VIA      0x02
#define SKH_FROM     0x04
#define SKH_TO       0x08
#define SKH_CSEQ     0x10
#define SKH_CLEN     0x20
#define SKH_ROUTE    0x40

/* kt_tables[half]: the scalars of one generation. */
struct sk_tables {
	unsigned int valid;        /* 0: nothing published in this half (all goes up) */
	unsigned int n_rule_terms, n_rules, n_expr_terms, n_pools, n_nodes;
	unsigned int max_msg_bytes, max_vias;
	unsigned char has_mac;
	unsigned char has_extra;   /* any extra-header flag: the scan looks up every header name */
	unsigned char pad[2];
	unsigned char mac[6], pad2[2]; /* mac: the balancer's, when has_mac (an override) */
	unsigned int egress_ifindex;   /* where tx_ports sends; 0: XDP_TX (the receiving one) */
	unsigned int pad3;
	struct sk_flags udp;          /* transports[TRANSPORT_UDP] */
	struct sk_flags in_dialog;
	struct sk_flags to_self;      /* unknown for requests when not empty */
	struct sk_flags own_probe;    /* unknown for responses when not empty */
	struct sk_flags msg_flags;    /* every flag a message sets: unknown before the scan */
	struct sk_flags extra_present[SK_EXTRA_MAX];
	struct sk_flags extra_match[SK_EXTRA_MAX]; /* Hyperscan flags of that header */
};

/* kt_terms[half * SK_MAX_RULE_TERMS + i], kt_expr[half * SK_MAX_EXPR_TERMS + i] */
struct sk_term {
	struct sk_flags must, must_not;
	unsigned int target;
	unsigned int pad;
};

/* kt_actions[half * SK_MAX_RULES + rule]; kind: enum action_kind */
struct sk_rule_action {
	unsigned int kind;
	unsigned int pool;
};

/* kt_pools[half * SK_MAX_POOLS + pool]; mode: enum pool_mode */
struct sk_pool {
	unsigned int mode;
	unsigned int size;       /* Maglev slots; 0: no table */
	unsigned int first_node; /* into kt_nodes of the half */
	unsigned int n_nodes;
	unsigned long long previous_until; /* CLOCK_MONOTONIC seconds; the pool's messages go up before it */
};

/* A node's next hop as user space resolved it from the kernel's routes
 * and neighbour table (dataplane/xdp/xdp_hops.c). */
struct sk_hop {
	unsigned char dmac[6];  /* the next hop's (the node, or its gateway) */
	unsigned char smac[6];  /* the egress interface's */
	unsigned int ifindex;   /* the interface the route leaves by */
	unsigned int mtu;       /* its MTU: a longer IP packet takes the lookup */
};

/* kt_nodes[half * SK_MAX_NODES + node]. Without a configured MAC (has_mac
 * 0) the kernel lane takes the next hop user space wrote (hop_sel 1 or 2:
 * hop[hop_sel - 1]; two slots, so that a change is written beside the one
 * packets read and then switched to in one byte) and else asks
 * bpf_fib_lookup() for the next hop to addr (hop_sel 0: none yet, or no
 * writer, or the route changing). */
struct sk_node {
	unsigned char mac[6];
	unsigned char has_mac;
	unsigned char up;
	unsigned char family; /* 4 or 6 */
	unsigned char hop_sel;
	unsigned char pad[2];
	unsigned int addr[4]; /* as on the wire; IPv4: addr[0] */
	struct sk_hop hop[2];
};

/* hop_stats[i]: how the kernel lane found its next hops (per CPU). */
enum sk_hop_stat {
	SK_HOP_FIB_FALLBACK, /* no usable hop in kt_nodes: bpf_fib_lookup() asked */
	SK_HOP_STATS
};

/* kt_maglev[(half * SK_MAX_POOLS + pool) * SK_MAGLEV_MAX + slot]: the node
 * index within the pool, or 0xFFFF (MAGLEV_NO_NODE). */

/* kt_hdrs and kt_methods keys: a lower-case header name (long or compact)
 * or an exact method name, zero-padded. */
struct sk_name_key {
	unsigned int half;
	unsigned int len;
	unsigned char name[SK_NAME_MAX];
};

/* kt_nids key: a node-id token of a pool, exact bytes, zero-padded;
 * the value is the node's index into kt_nodes of the half (a node of that
 * pool). Ids over SK_NAME_MAX bytes are not published: the kernel lane
 * sends a longer token up (docs/dispatch.md "The node-id token"). */
struct sk_nid_key {
	unsigned int half;
	unsigned short pool;
	unsigned short len;
	unsigned char id[SK_NAME_MAX];
};

/* nid_stats[half * SK_NID_STATS + i]: the kernel lane's forwards by nid
 * (as dispatch.c's DISPATCH_BY_*_NID) and those where a nid named no node
 * of the pool (the pipeline's nid_unknown). */
enum sk_nid_stat { SK_NID_VIA, SK_NID_ROUTE, SK_NID_RURI, SK_NID_UNKNOWN, SK_NID_STATS };

/* kt_src4 / kt_src6 (LPM tries) keys: prefixlen counts the 32 bits of
 * `half` too, so one trie holds both halves. */
struct sk_lpm4 {
	unsigned int prefixlen;
	unsigned int half;
	unsigned char addr[4];
};

struct sk_lpm6 {
	unsigned int prefixlen;
	unsigned int half;
	unsigned char addr[16];
};

#endif
