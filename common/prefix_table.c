/* The classifier's per-packet lookup (docs/prefix-table.md). The builder
 * already folded every covering prefix into the deepest entry, so the walk
 * stops at the first entry without a child and returns its value: no OR,
 * no copy, one pointer. */
#include <stddef.h>

#include "siphon/prefix_table.h"

const struct flagset *prefix_lookup(const struct prefix_table *t, const uint8_t *addr)
{
	static const struct flagset empty;
	unsigned steps = t->key_bytes < PREFIX_KEY_MAX ? t->key_bytes : PREFIX_KEY_MAX;
	const struct prefix_entry *e = NULL;
	uint32_t node = 0;

	if (t->n_nodes == 0 || t->n_values == 0)
		return &empty;
	for (unsigned i = 0; i < steps; i++) {
		e = &t->nodes[(size_t)node * PREFIX_FANOUT + addr[i]];
		/* an index out of range ends the walk as if there were no child */
		if (e->child == 0 || e->child >= t->n_nodes)
			break;
		node = e->child;
	}
	if (e == NULL || e->value >= t->n_values)
		return &empty;
	return &t->values[e->value];
}
