/* A table generation as one flat, versioned, position-independent blob
 * (docs/tables.md): the control plane builds it (controlplane/publish/),
 * the fast path, explain and siphond open it where it lies (a buffer, a
 * file read back, an mmap at any address) and run the tables in place.
 *
 * Layout: a header with a directory of sections, then the sections, each
 * at an 8-byte aligned offset, in directory order, not overlapping. Array
 * elements are this build's structs of tables.h (used in place), so the
 * directory records each element's size and a change of any of them bumps
 * TABLES_BLOB_ABI. Offsets, never pointers. */
#ifndef SIPHON_TABLE_BLOB_H
#define SIPHON_TABLE_BLOB_H

#include <stddef.h>
#include <stdint.h>

#include "siphon/tables.h"

#define TABLES_BLOB_MAGIC   0x54485053u /* "SPHT" as stored by a little-endian host */
#define TABLES_BLOB_ABI     3u
#define TABLES_BLOB_ALIGN   8u

/* X(ID, name, element type): the sections, in blob order. */
#define TABLES_BLOB_SECTIONS(X)                                        \
	X(CORE, core, struct tables_blob_core)                        \
	X(METHODS, methods, struct method_flags)                       \
	X(SELF_ADDRS, self_addrs, struct self_addr)                    \
	X(SELF_NAMES, self_names, struct tables_blob_name)             \
	X(CONTROL_ADDRS, control_addrs, struct self_addr)              \
	X(HEADERS, headers, struct sip_extra_header)                   \
	X(HEADER_PRESENT, header_present, struct flagset)              \
	X(PATTERNS, patterns, struct pattern_ref)                      \
	X(HS_DB, hs_db, uint8_t)                                       \
	X(EXPR_TERMS, expr_terms, struct dnf_term)                     \
	X(RULE_TERMS, rule_terms, struct dnf_term)                     \
	X(ACTIONS, actions, struct rule_action)                        \
	X(POOL_NAMES, pool_names, struct tables_blob_name)             \
	X(POOLS, pools, struct tables_blob_pool)                       \
	X(MAGLEV_SLOTS, maglev_slots, uint16_t)                        \
	X(NODES, nodes, struct pool_node)                              \
	X(NID_SLOTS, nid_slots, uint16_t)                              \
	X(ADDR_SLOTS, addr_slots, uint16_t)                            \
	X(PREFIX4_NODES, prefix4_nodes, struct tables_blob_prefix_node) \
	X(PREFIX4_VALUES, prefix4_values, struct flagset)              \
	X(PREFIX6_NODES, prefix6_nodes, struct tables_blob_prefix_node) \
	X(PREFIX6_VALUES, prefix6_values, struct flagset)              \
	X(HS_LITERALS, hs_literals, struct hs_literal)

enum tables_blob_section_id {
#define X(id, name, type) TABLES_BLOB_##id,
	TABLES_BLOB_SECTIONS(X)
#undef X
	TABLES_BLOB__COUNT
};

struct tables_blob_name {
	char s[TABLES_NAME_MAX]; /* NUL-terminated */
};

struct tables_blob_prefix_node {
	struct prefix_entry e[PREFIX_FANOUT];
};

/* The scalars of struct compiled_tables (counts come from the sections). */
struct tables_blob_core {
	uint32_t n_flags;
	uint32_t n_ports;
	struct sip_limits limits;
	uint64_t hash_seed;
	uint32_t grace_s;
	uint32_t node_index_mask;
	uint32_t source4_key_bytes, source6_key_bytes;
	uint16_t ports[8];
	uint8_t has_mac, has_gateway_mac; /* 0 or 1 */
	uint8_t mac[6], gateway_mac[6];
	uint8_t pad[2];
	struct flagset transports[TRANSPORT__COUNT];
	struct flagset to_self, own_probe_answer, in_dialog;
};

/* A pool: its Maglev tables as ranges of the maglev_slots section. */
struct tables_blob_pool {
	uint32_t mode; /* enum pool_mode */
	uint32_t first_node, n_nodes;
	uint32_t maglev_first, maglev_size;
	uint32_t previous_first, previous_size; /* size 0: no previous table */
	uint16_t gue_port;
	uint16_t pad;
	uint64_t previous_until;
	struct self_addr encap_source4, encap_source6;
};

struct tables_blob_section {
	uint64_t offset;    /* from the start of the blob, TABLES_BLOB_ALIGN aligned */
	uint32_t count;     /* elements */
	uint32_t elem_size; /* sizeof the element type in the writer's build */
};

struct tables_blob_header {
	uint32_t magic;
	uint16_t abi;
	uint16_t header_size; /* sizeof(struct tables_blob_header) */
	uint64_t checksum;    /* XXH64 (seed 0) of every byte after this field */
	uint64_t total_len;   /* the whole blob, header included */
	uint64_t generation;
	uint32_t n_sections;  /* TABLES_BLOB__COUNT */
	uint32_t reserved;    /* 0 */
	struct tables_blob_section sec[TABLES_BLOB__COUNT];
};

/* Where the checksum starts: right after its own field. */
#define TABLES_BLOB_SUMMED_FROM (offsetof(struct tables_blob_header, checksum) + sizeof(uint64_t))

/* The section's name ("rule_terms"), for messages; "?" out of range. */
const char *tables_blob_section_name(unsigned id);

/* XXH64 of blob[TABLES_BLOB_SUMMED_FROM, len): what the checksum field holds. */
uint64_t tables_blob_checksum(const void *blob, size_t len);

/* Validates blob[0, len) whole (docs/tables.md "What is validated") and
 * fills out with pointers into it: no copy of an array, no allocation.
 * 0; -EPROTO for another ABI (version, byte order, element sizes);
 * -EINVAL for anything else, err saying which field. On failure out is
 * zeroed. The blob must stay mapped and unchanged while out is used. */
int tables_blob_open(const void *blob, size_t len, struct compiled_tables *out, char *err,
		     size_t errlen);

/* The generation number of a blob tables_blob_open() accepted. */
uint64_t tables_blob_generation(const void *blob);

#endif
