/* The COUNTERS message of the publish channel (gen_wire.h): built by the
 * fast path's control thread from its counters, checked whole by siphond
 * before it keeps one (docs/metrics.md). Pure: no I/O. */
#ifndef SIPHON_GEN_COUNTERS_H
#define SIPHON_GEN_COUNTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "siphon/gen_wire.h"

/* What the indices of a generation may reach. */
struct gen_counters_limits {
	uint32_t n_flags, n_rules, n_nodes;
};

/* The bounds of any generation (SIPHON_MAX_FLAGS, TABLES_MAX_RULES,
 * TABLES_MAX_NODES): for a snapshot of a generation one does not know. */
extern const struct gen_counters_limits gen_counters_any;

/* 0, or -EPROTO (version first: another build's snapshot is refused by
 * its version alone; lanes, flags, instance 0, generation 0, a bad or unsorted name or
 * entry), -EMSGSIZE (counts over the bounds or not matching len), -ERANGE
 * (an index beyond lim) with err saying which entry. p: len bytes, 8-byte
 * aligned. */
int gen_counters_check(const void *p, size_t len, const struct gen_counters_limits *lim,
		       char *err, size_t errlen);

static inline const struct gen_wire_named *gen_counters_named(const void *p)
{
	return (const struct gen_wire_named *)((const uint8_t *)p + sizeof(struct gen_wire_counters));
}

static inline const struct gen_wire_indexed *gen_counters_indexed(const void *p)
{
	const struct gen_wire_counters *h = p;

	return (const struct gen_wire_indexed *)((const uint8_t *)gen_counters_named(p) +
						 h->n_named * sizeof(struct gen_wire_named));
}

const char *gen_counter_kind_name(unsigned kind);

/* The builder: entries in any order; gen_counters_finish sorts them, sums
 * named entries of the same name, leaves out indexed zeros. */
struct gen_counters_builder {
	struct gen_wire_named *named;
	struct gen_wire_indexed *indexed;
	uint32_t n_named, n_indexed, cap_named, cap_indexed;
	bool failed; /* out of memory, a bad name, over a bound: finish refuses */
};

void gen_counters_init(struct gen_counters_builder *b);
void gen_counters_free(struct gen_counters_builder *b);
/* "group.name": both of [a-z0-9_], 1 to 38 bytes together with the dot. */
void gen_counters_add_named(struct gen_counters_builder *b, const char *group, const char *name,
			    uint64_t value);
void gen_counters_add_indexed(struct gen_counters_builder *b, enum gen_counter_kind kind,
			      uint32_t index, uint64_t value);
/* The payload (malloc'ed, *len bytes). 0, -ENOMEM, -EINVAL (failed). */
struct gen_counters_head {
	uint64_t generation;
	uint32_t lanes;  /* GEN_COUNTERS_LANE_* */
	uint64_t seq;
	uint64_t instance; /* not 0 */
	uint32_t flags;  /* GEN_COUNTERS_FINAL */
};
int gen_counters_finish(struct gen_counters_builder *b, const struct gen_counters_head *head,
			void **payload, size_t *len);

#endif
