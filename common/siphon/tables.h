/* The compiled tables: what siphond builds from a config and the fast path
 * executes. Flags are bits here; their names stay in the control plane
 * (controlplane/config/). Everything is arrays with counts, built whole off
 * the fast path and swapped as one generation. */
#ifndef SIPHON_TABLES_H
#define SIPHON_TABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "siphon/flagset.h"
#include "siphon/hs_literal.h"
#include "siphon/limits.h"
#include "siphon/maglev.h"
#include "siphon/names.h"
#include "siphon/prefix_table.h"
#include "siphon/sip_scan.h"

#define TABLES_NAME_MAX     64

/* One conjunction of a flag expression in disjunctive normal form: it holds
 * when every `must` flag is set and no `must_not` flag is. */
struct dnf_term {
	struct flagset must, must_not;
	uint16_t target; /* the flag it sets (derived flags) or the rule it picks */
};

struct method_flags {
	char name[TABLES_NAME_MAX]; /* exact, case-sensitive */
	uint8_t len;
	struct flagset flags;
};

/* An IPv4 or IPv6 address the balancer owns (family AF_INET / AF_INET6). */
struct self_addr {
	int family;
	uint8_t addr[16];
};

struct pattern_ref {
	uint16_t header; /* index into the extra header set */
	uint16_t flag;
};

struct rule_action {
	enum action_kind kind;
	uint16_t pool;          /* ACTION_POOL: index into pool_names */
	uint16_t reply_code;    /* ACTION_REPLY */
	char reply_reason[TABLES_NAME_MAX];
	uint32_t rate_per_sec;  /* ACTION_RATE_LIMIT */
	uint32_t burst;
};

enum pool_mode {
#define POOL_MODE(id, key, help) POOL_MODE_##id,
#include "siphon/pool_modes.def"
#undef POOL_MODE
	POOL_MODE__COUNT
};

/* A core node as the fast path sees it. */
struct pool_node {
	struct self_addr addr;
	uint16_t port;
	uint16_t pool;
	bool up; /* the health verdict (siphond's probes; all up until then) */
	bool has_mac;
	uint8_t mac[6]; /* next-hop MAC toward the node (neighbour resolution comes later) */
	uint8_t id_len;
	char id[TABLES_NAME_MAX]; /* the node-id token a core node puts in Via / Route */
};

struct pool_table {
	enum pool_mode mode;
	uint32_t first_node, n_nodes; /* a range of compiled_tables.nodes */
	struct maglev_table maglev;   /* current: initial requests */
	struct maglev_table previous; /* the table before the last change, for in-dialog traffic */
	uint64_t previous_until;      /* seconds (CLOCK_MONOTONIC); 0: no previous table */
	struct self_addr encap_source4, encap_source6; /* encap mode: outer source addresses */
	uint16_t gue_port;            /* encap mode: 0 for IPIP / IP6IP6, else GUE to this port */
};

/* The Hyperscan section (compiled_tables.hs_db): the serialized database
 * of every pattern, then one per header that has patterns (a header's
 * value is scanned against its own patterns only: the same matches, less
 * work per scan), then a directory at the end: an hs_db_entry per
 * database in that order (the first has header HS_DB_ALL), their count
 * (uint32_t) and HS_DB_MAGIC (uint32_t), native byte order. A section
 * without the directory is the database of every pattern alone. */
struct hs_db_entry {
	uint32_t len;    /* serialized bytes */
	uint32_t header; /* index into the extra header set, or HS_DB_ALL */
};
#define HS_DB_ALL   UINT32_MAX
#define HS_DB_MAGIC 0x42444853u /* "SHDB" */

struct compiled_tables {
	uint32_t n_flags;
	struct sip_limits limits;

	/* headers that flags name: the scanner records their first value */
	struct sip_extra_set headers;
	struct flagset header_present[SIP_EXTRA_MAX];

	/* simple flags */
	uint32_t n_methods;
	struct method_flags methods[TABLES_MAX_METHODS];
	struct flagset transports[TRANSPORT__COUNT];
	struct flagset to_self, own_probe_answer, in_dialog;

	/* what "self" means */
	uint32_t n_self_addrs, n_self_names, n_control_addrs, n_ports;
	uint16_t ports[8]; /* the SIP ports of the addresses (default 5060) */
	struct self_addr self_addrs[TABLES_MAX_SELF];
	char self_names[TABLES_MAX_SELF][TABLES_NAME_MAX]; /* lower case */
	struct self_addr control_addrs[TABLES_MAX_SELF];

	/* source prefixes */
	struct prefix_table source4, source6;

	/* header-value patterns: one serialized Hyperscan block-mode database,
	 * pattern id = index into patterns[] */
	uint32_t n_patterns;
	struct pattern_ref patterns[TABLES_MAX_PATTERNS];
	const void *hs_db; /* see struct hs_db_entry */
	size_t hs_db_len;
	/* the literal pre-check (siphon/hs_literal.h): the required literals
	 * of each header all of whose patterns have them; a header with none
	 * is always scanned */
	uint32_t n_literals;
	const struct hs_literal *literals;

	/* derived flags, evaluated in order after the others */
	uint32_t n_expr_terms;
	const struct dnf_term *expr_terms;

	/* the route: terms in rule order; the last rule always matches */
	uint32_t n_rule_terms, n_rules;
	const struct dnf_term *rule_terms;
	const struct rule_action *actions; /* n_rules */

	uint32_t n_pools;
	const char (*pool_names)[TABLES_NAME_MAX];
	/* inline, not a pointer: each holds pointers to its Maglev slots, so a
	 * reader of a table blob (common/table_blob.c) fills these in place */
	struct pool_table pools[TABLES_MAX_POOLS];
	uint32_t n_nodes;
	const struct pool_node *nodes;
	/* node lookups without a scan (common/node_index.c): open addressing,
	 * node_index_mask + 1 slots (a power of two, at least twice n_nodes),
	 * each slot a node index + 1, 0 when empty. By (pool, id) for a nid,
	 * by address for a packet's source. Built with the tables. */
	uint32_t node_index_mask;
	const uint16_t *nid_slots;
	const uint16_t *addr_slots;
	uint64_t hash_seed;  /* Call-ID hash seed: the same on every siphon node */
	bool has_mac, has_gateway_mac;
	uint8_t mac[6];         /* the balancer's own MAC: the source of what it sends */
	uint8_t gateway_mac[6]; /* next hop toward clients: nat replies go there */
	uint32_t grace_s;    /* how long a previous Maglev table serves in-dialog traffic */
};

#endif
