/* Builds a prefix_table (common/siphon/prefix_table.h) off the fast path.
 *
 *   struct prefix_builder b;
 *   prefix_builder_init(&b, 4);
 *   prefix_builder_add(&b, addr, 24, &flags);   // any number, any order
 *   prefix_builder_build(&b, &table);           // table valid until free
 *   ...publish a copy of table...
 *   prefix_builder_free(&b);
 *
 * Every function returns 0 or -errno; a failed add leaves the builder as it
 * was. See docs/prefix-table.md for the layout and the build order. */
#ifndef SIPHON_PREFIX_BUILD_H
#define SIPHON_PREFIX_BUILD_H

#include <stdbool.h>
#include <stdint.h>

#include "siphon/flagset.h"
#include "siphon/prefix_table.h"

/* Prefixes one builder accepts (-E2BIG past it): bounds the record list,
 * whatever the config holds. */
#define PREFIX_MAX_PREFIXES (1u << 20)

struct prefix_rec; /* one added prefix: its node, entry range and flags */

/* Visible so callers can keep one on the stack; the fields are private. */
struct prefix_builder {
	unsigned key_bytes;
	/* The shape, grown by add: child node of each entry, in creation order. */
	uint32_t *child;
	uint32_t n_nodes, cap_nodes;
	struct prefix_rec *recs;
	uint32_t n_recs, cap_recs;
	/* The last build's output, in canonical order. */
	struct prefix_entry *out_nodes;
	struct flagset *out_values;
	uint32_t out_n_nodes, out_n_values;
};

/* key_bytes 4 (IPv4) or 16 (IPv6), else -EINVAL. Allocates nothing. */
int prefix_builder_init(struct prefix_builder *b, unsigned key_bytes);

/* Adds addr/plen (key_bytes bytes, network order) carrying flags.
 * -EINVAL: plen > 8 * key_bytes, a bit set past plen, or no flags pointer;
 * -E2BIG: the table would pass PREFIX_MAX_NODES nodes or the builder
 * PREFIX_MAX_PREFIXES prefixes; -ENOMEM. An empty flagset changes nothing.
 * Adding the same prefix twice ORs the flags. */
int prefix_builder_add(struct prefix_builder *b, const uint8_t *addr, unsigned plen,
		       const struct flagset *flags);

/* Fills out from every prefix added so far. The same set of adds in any
 * order gives byte-identical nodes and values; values are deduplicated and
 * values[0] is the empty set; n_nodes >= 1 even with nothing added.
 * The arrays belong to the builder until the next build or free. -ENOMEM
 * leaves out and the previous build untouched. */
int prefix_builder_build(struct prefix_builder *b, struct prefix_table *out);

void prefix_builder_free(struct prefix_builder *b);

/* Parses "198.51.100.0/24", "2001:db8::/32" or a bare address (/32, /128)
 * into addr (zero-padded to 16 bytes), key_bytes (4 or 16) and plen.
 * -EINVAL for anything else (no spaces, signs, leading zeros or zone ids);
 * -EDOM when a bit past plen is set ("198.51.100.1/24"), with the outputs
 * filled so the caller can show the prefix it probably meant. */
int prefix_parse(const char *text, uint8_t addr[16], unsigned *key_bytes, unsigned *plen);

/* True when no bit of addr (key_bytes bytes) past plen is set. */
bool prefix_host_bits_clear(const uint8_t *addr, unsigned key_bytes, unsigned plen);

#endif
