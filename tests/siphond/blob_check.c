/* blob-check [--json] FILE: opens a table blob file with tables_blob_open()
 * as a fast path would; prints "generation N" (exit 0) or why not (exit 1).
 * --json prints what the health tests check instead: per pool its nodes'
 * up flags, each node's Maglev slots, the previous table (size, until) and
 * the slots that differ from it by their previous node; each rule's pool.
 * For tests/siphond/test_siphond.py and test_health_loop.py. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include "siphon/table_blob.h"

static void dump(const struct compiled_tables *t, uint64_t gen)
{
	printf("{\"generation\": %llu, \"grace_s\": %u, \"rules\": [", (unsigned long long)gen,
	       t->grace_s);
	for (uint32_t r = 0; r < t->n_rules; r++)
		printf("%s\"%s\"", r ? ", " : "",
		       t->actions[r].kind == ACTION_POOL ? t->pool_names[t->actions[r].pool] : "");
	printf("], \"pools\": {");
	for (uint32_t p = 0; p < t->n_pools; p++) {
		const struct pool_table *pt = &t->pools[p];
		uint32_t *count = calloc(pt->n_nodes + 1, sizeof(*count));
		uint32_t *moved = calloc(pt->n_nodes + 1, sizeof(*moved));

		for (uint32_t s = 0; s < pt->maglev.size; s++) {
			if (pt->maglev.slots[s] < pt->n_nodes)
				count[pt->maglev.slots[s]]++;
			if (pt->previous.size == pt->maglev.size &&
			    pt->previous.slots[s] != pt->maglev.slots[s] &&
			    pt->previous.slots[s] < pt->n_nodes)
				moved[pt->previous.slots[s]]++;
		}
		printf("%s\"%s\": {\"size\": %u, \"previous_size\": %u, \"previous_until\": %llu, "
		       "\"nodes\": [", p ? ", " : "", t->pool_names[p], pt->maglev.size,
		       pt->previous.size, (unsigned long long)pt->previous_until);
		for (uint32_t i = 0; i < pt->n_nodes; i++) {
			const struct pool_node *n = &t->nodes[pt->first_node + i];

			printf("%s{\"id\": \"%.*s\", \"up\": %s, \"slots\": %u, \"moved\": %u}",
			       i ? ", " : "", n->id_len, n->id, n->up ? "true" : "false", count[i],
			       moved[i]);
		}
		printf("]}");
		free(count);
		free(moved);
	}
	printf("}}\n");
}

int main(int argc, char **argv)
{
	bool as_json = argc == 3 && strcmp(argv[1], "--json") == 0;

	if (as_json)
		argv++, argc--;
	struct compiled_tables *t = malloc(sizeof(*t));
	char err[512];
	FILE *f;
	long len;
	void *blob;

	if (argc != 2 || !t || !(f = fopen(argv[1], "rb"))) {
		fprintf(stderr, "usage: blob-check FILE\n");
		return 2;
	}
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	blob = aligned_alloc(8, ((size_t)len + 7) / 8 * 8 + 8);
	if (!blob || fread(blob, 1, (size_t)len, f) != (size_t)len) {
		fprintf(stderr, "blob-check: %s: cannot read it\n", argv[1]);
		return 1;
	}
	fclose(f);
	if (tables_blob_open(blob, (size_t)len, t, err, sizeof(err)) != 0) {
		printf("%s: %s\n", argv[1], err);
		return 1;
	}
	if (as_json)
		dump(t, tables_blob_generation(blob));
	else
		printf("generation %llu\n", (unsigned long long)tables_blob_generation(blob));
	free(blob);
	free(t);
	return 0;
}
