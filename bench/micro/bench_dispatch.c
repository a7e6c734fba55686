/* Micro-benchmark of dispatch: Call-ID hash + Maglev lookup (ns) and a
 * Maglev table rebuild (ms).
 *   bench-dispatch [--runs R] [--nodes N] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "maglev_build.h"

#define CALLIDS 4096

static volatile unsigned sink;



int main(int argc, char **argv)
{
	static char callids[CALLIDS][48];
	static size_t lens[CALLIDS];
	static uint16_t slots[MAGLEV_DEFAULT_SIZE];
	static char ids[MAGLEV_MAX_NODES][16];
	struct maglev_node nodes[MAGLEV_MAX_NODES];
	unsigned runs = 15, n_nodes = 100;
	double lookup_ns[1000], build_ms[1000];
	uint64_t x = 0x2545F4914F6CDD1Dull;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--runs"))
			runs = (unsigned)strtoul(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--nodes"))
			n_nodes = (unsigned)strtoul(argv[i + 1], NULL, 10);
	}
	if (!runs || runs > 1000 || !n_nodes || n_nodes > MAGLEV_MAX_NODES) {
		fprintf(stderr, "usage: bench-dispatch [--runs 1-1000] [--nodes 1-%u]\n", MAGLEV_MAX_NODES);
		return 2;
	}
	for (unsigned i = 0; i < n_nodes; i++) {
		snprintf(ids[i], sizeof(ids[i]), "node-%u", i);
		nodes[i] = (struct maglev_node){ ids[i], 100, true };
	}
	for (unsigned i = 0; i < CALLIDS; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		lens[i] = (size_t)snprintf(callids[i], sizeof(callids[i]), "%016llx-%08x@192.0.2.%u",
					   (unsigned long long)x, (unsigned)(x >> 17), (unsigned)(x >> 56));
	}
	for (unsigned r = 0; r < runs; r++) {
		const struct maglev_table t = { MAGLEV_DEFAULT_SIZE, slots };
		unsigned acc = 0;
		double t0 = bench_now_ns();
		if (maglev_build(nodes, n_nodes, MAGLEV_DEFAULT_SIZE, 0x5eed, slots))
			return 1;
		build_ms[r] = (bench_now_ns() - t0) / 1e6;
		t0 = bench_now_ns();
		for (unsigned k = 0; k < 100; k++)
			for (unsigned i = 0; i < CALLIDS; i++)
				acc += maglev_lookup(&t, callid_hash((const uint8_t *)callids[i], lens[i], 0x5eed));
		lookup_ns[r] = (bench_now_ns() - t0) / (100.0 * CALLIDS);
		sink = acc;
	}
	qsort(lookup_ns, runs, sizeof(double), bench_cmp_double);
	qsort(build_ms, runs, sizeof(double), bench_cmp_double);
	printf("{\"nodes\":%u,\"table_size\":%u,\"runs\":%u,\"hash_lookup_ns_median\":%.1f,"
	       "\"rebuild_ms_median\":%.3f,\"rebuild_ms_max\":%.3f}\n", n_nodes, MAGLEV_DEFAULT_SIZE,
	       runs, lookup_ns[runs / 2], build_ms[runs / 2], build_ms[runs - 1]);
	return 0;
}
