/* Weighted Maglev population. Each node walks its own permutation of the
 * slots, (offset + j * skip) mod size, taken from hashes of its id; nodes
 * take turns claiming their next free preferred slot. Weights are credits:
 * every round a node earns its weight and claims one slot per max-weight
 * of credit, so shares follow the weights (the idea katran uses too). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "maglev_build.h"

#define OFFSET_SALT 0x6f66667365742d31ull /* distinct seeds for the two hashes */
#define SKIP_SALT   0x736b69702d736b69ull

struct walker {
	unsigned node; /* index into the caller's array */
	uint64_t pos, skip; /* pos = (offset + j * skip) mod size, advanced without a division */
	uint64_t credit;
	const char *id;
};

bool maglev_valid_size(uint32_t size)
{
	if (size < 3 || size > MAGLEV_MAX_SIZE || size % 2 == 0)
		return false;
	for (uint32_t d = 3; (uint64_t)d * d <= size; d += 2)
		if (size % d == 0)
			return false;
	return true;
}

static int by_id(const void *a, const void *b)
{
	return strcmp(((const struct walker *)a)->id, ((const struct walker *)b)->id);
}

int maglev_build(const struct maglev_node *nodes, unsigned n, uint32_t size, uint64_t seed,
		 uint16_t *slots)
{
	struct walker *w;
	unsigned live = 0;
	uint64_t max_weight = 0, filled = 0;

	if (!maglev_valid_size(size) || n > MAGLEV_MAX_NODES)
		return -EINVAL;
	for (uint32_t s = 0; s < size; s++)
		slots[s] = MAGLEV_NO_NODE;
	w = calloc(n ? n : 1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		const char *id = nodes[i].id;
		if (!id) {
			free(w);
			return -EINVAL;
		}
		if (!nodes[i].up || nodes[i].weight == 0)
			continue;
		w[live] = (struct walker){
			.node = i,
			.pos = callid_hash((const uint8_t *)id, strlen(id), seed ^ OFFSET_SALT) % size,
			.skip = callid_hash((const uint8_t *)id, strlen(id), seed ^ SKIP_SALT) % (size - 1) + 1,
			.id = id,
		};
		if (nodes[i].weight > max_weight)
			max_weight = nodes[i].weight;
		live++;
	}
	/* claim in id order, so the table does not depend on the config's order */
	qsort(w, live, sizeof(*w), by_id);
	while (live && filled < size) {
		for (unsigned k = 0; k < live && filled < size; k++) {
			struct walker *x = &w[k];
			x->credit += nodes[x->node].weight;
			while (x->credit >= max_weight && filled < size) {
				uint64_t slot;
				do { /* at most size steps: skip is coprime with a prime size */
					slot = x->pos;
					x->pos += x->skip;
					if (x->pos >= size)
						x->pos -= size;
				} while (slots[slot] != MAGLEV_NO_NODE);
				slots[slot] = (uint16_t)x->node;
				filled++;
				x->credit -= max_weight;
			}
		}
	}
	free(w);
	return 0;
}
