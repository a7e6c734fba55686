/* blob-check [--json] FILE: opens a table blob file with tables_blob_open()
 * as a fast path would; prints "generation N" (exit 0) or why not (exit 1).
 * --json prints what the health tests check instead: per pool its nodes'
 * up flags, each node's Maglev slots, the previous table (size, until) and
 * the slots that differ from it by their previous node; each rule's pool.
 * --dispatch POOL N prints what dispatch() (the fast path's code) decides,
 * now on CLOCK_MONOTONIC, for N calls of pool POOL (Call-ID "c<i>@t"):
 * {"dialog": [node id or null: a BYE with a To tag, no nid], "initial":
 * [the same for an INVITE]}.
 * --slots POOL prints the pool's tables slot by slot as node ids (null: no
 * node): {"maglev": [...], "previous": [...], "previous_until": N}.
 * For tests/siphond/test_siphond.py and test_health_loop.py. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include <time.h>

#include "siphon/dispatch.h"
#include "siphon/table_blob.h"

static void decide(const struct compiled_tables *t, uint16_t pool, bool initial, uint32_t i,
		   uint64_t now, bool comma)
{
	char text[1024];
	struct sip_msg msg;
	struct dispatch_result r;
	int len = snprintf(text, sizeof(text),
			   "%s sip:b@example.com SIP/2.0\r\n"
			   "Via: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bK%u\r\n"
			   "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>%s\r\n"
			   "Call-ID: c%u@t\r\nCSeq: 2 %s\r\nMax-Forwards: 70\r\n"
			   "Content-Length: 0\r\n\r\n",
			   initial ? "INVITE" : "BYE", i, initial ? "" : ";tag=2", i,
			   initial ? "INVITE" : "BYE");

	r.node = -1;
	if (sip_scan((const uint8_t *)text, (size_t)len, NULL, NULL, &msg) == SIP_VERDICT_FORWARD)
		dispatch(t, (const uint8_t *)text, &msg, pool, now, NULL, &r);
	if (r.node < 0)
		printf("%snull", comma ? ", " : "");
	else
		printf("%s\"%.*s\"", comma ? ", " : "", t->nodes[r.node].id_len, t->nodes[r.node].id);
}

static void ids(const struct compiled_tables *t, const struct pool_table *pt,
		const struct maglev_table *m)
{
	for (uint32_t s = 0; s < m->size; s++) {
		const struct pool_node *n = &t->nodes[pt->first_node + m->slots[s]];

		if (m->slots[s] < pt->n_nodes)
			printf("%s\"%.*s\"", s ? "," : "", n->id_len, n->id);
		else
			printf("%snull", s ? "," : "");
	}
}

static int slots(const struct compiled_tables *t, uint32_t p)
{
	const struct pool_table *pt = &t->pools[p];

	printf("{\"maglev\": [");
	ids(t, pt, &pt->maglev);
	printf("], \"previous\": [");
	ids(t, pt, &pt->previous);
	printf("], \"previous_until\": %llu}\n", (unsigned long long)pt->previous_until);
	return 0;
}

static int decisions(const struct compiled_tables *t, const char *pool_name, uint32_t n)
{
	struct timespec ts;
	uint32_t p;

	for (p = 0; p < t->n_pools && strcmp(t->pool_names[p], pool_name) != 0; p++)
		;
	if (p == t->n_pools) {
		printf("no pool %s\n", pool_name);
		return 1;
	}
	if (n == 0) /* --slots */
		return slots(t, p);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	for (int initial = 0; initial < 2; initial++) {
		printf(initial ? "], \"initial\": [" : "{\"dialog\": [");
		for (uint32_t i = 0; i < n; i++)
			decide(t, (uint16_t)p, initial, i, (uint64_t)ts.tv_sec, i > 0);
	}
	printf("]}\n");
	return 0;
}

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
	bool as_dispatch = argc == 5 && strcmp(argv[1], "--dispatch") == 0;
	bool as_slots = argc == 4 && strcmp(argv[1], "--slots") == 0;
	const char *pool = as_dispatch || as_slots ? argv[2] : NULL;
	uint32_t n = as_dispatch ? (uint32_t)strtoul(argv[3], NULL, 10) : 0;

	if (as_json)
		argv++, argc--;
	if (as_dispatch)
		argv += 3, argc -= 3;
	if (as_slots)
		argv += 2, argc -= 2;
	struct compiled_tables *t = malloc(sizeof(*t));
	char err[512];
	FILE *f;
	long len;
	void *blob;

	if (argc != 2 || !t || !(f = fopen(argv[1], "rb"))) {
		fprintf(stderr, "usage: blob-check [--json | --dispatch POOL N | --slots POOL] FILE\n");
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
	if (as_dispatch || as_slots) {
		int rc = decisions(t, pool, n);

		free(blob);
		free(t);
		return rc;
	}
	if (as_json)
		dump(t, tables_blob_generation(blob));
	else
		printf("generation %llu\n", (unsigned long long)tables_blob_generation(blob));
	free(blob);
	free(t);
	return 0;
}
