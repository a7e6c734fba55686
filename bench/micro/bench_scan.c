/* Micro-benchmark of the SIP scanner: ns per message on one core.
 *
 *   bench-scan [--runs R] [--iters N] NAME=FILE[,FILE...] ...
 *
 * For each named set it scans the set's messages round-robin N times per
 * run, R runs, and prints the median, min and max ns per message. With
 * --callgrind it scans each set N times once and nothing else, for
 * `valgrind --tool=callgrind --toggle-collect=sip_scan`. With --routing it
 * scans as the fast path does: sip_scan_fields() with SIP_FIELDS_ROUTING
 * (--toggle-collect=sip_scan_fields). */
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "siphon/sip_scan.h"

#define MAX_MSGS 1024

struct msg_set {
	const char *name;
	unsigned count;
	const uint8_t *data[MAX_MSGS];
	size_t len[MAX_MSGS];
};

static volatile unsigned sink;
static unsigned fields = SIP_FIELDS_ALL;


static void parse_set(char *arg, struct msg_set *set)
{
	char *eq = strchr(arg, '='), *save = NULL;

	if (!eq) {
		fprintf(stderr, "bad set '%s': want NAME=FILE[,FILE...]\n", arg);
		exit(2);
	}
	*eq = 0;
	set->name = arg;
	for (char *f = strtok_r(eq + 1, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
		if (set->count == MAX_MSGS) {
			fprintf(stderr, "set %s: more than %d files\n", arg, MAX_MSGS);
			exit(2);
		}
		set->data[set->count] = bench_slurp(f, &set->len[set->count]);
		set->count++;
	}
}


static void scan_set(const struct msg_set *set, unsigned long iters)
{
	struct sip_msg msg;
	unsigned acc = 0, i = 0;

	for (unsigned long n = 0; n < iters; n++) {
		if (fields == SIP_FIELDS_ALL)
			sip_scan(set->data[i], set->len[i], NULL, NULL, &msg);
		else
			sip_scan_fields(set->data[i], set->len[i], set->len[i], NULL, NULL, fields, &msg);
		acc += msg.reason + msg.call_id.len;
		if (++i == set->count)
			i = 0;
	}
	sink = acc;
}


int main(int argc, char **argv)
{
	static struct msg_set sets[16];
	unsigned nsets = 0, runs = 15;
	unsigned long iters = 200000;
	int callgrind = 0;
	cpu_set_t cpus;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
			runs = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--iters") == 0 && i + 1 < argc)
			iters = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--callgrind") == 0)
			callgrind = 1;
		else if (strcmp(argv[i], "--routing") == 0)
			fields = SIP_FIELDS_ROUTING;
		else if (nsets < 16)
			parse_set(argv[i], &sets[nsets++]);
	}
	if (nsets == 0 || runs == 0 || runs > 1000 || iters == 0) {
		fprintf(stderr, "usage: %s [--runs R] [--iters N] [--callgrind] [--routing] NAME=FILE[,FILE...]...\n",
			argv[0]);
		return 2;
	}
	if (callgrind) {
		for (unsigned s = 0; s < nsets; s++)
			scan_set(&sets[s], iters);
		return 0;
	}
	CPU_ZERO(&cpus);
	CPU_SET(sched_getcpu() < 0 ? 0 : sched_getcpu(), &cpus);
	sched_setaffinity(0, sizeof(cpus), &cpus); /* one core, best effort */

	printf("{\"runs\":%u,\"iters\":%lu,\"sets\":[", runs, iters);
	for (unsigned s = 0; s < nsets; s++) {
		double ns[1000];
		size_t bytes = 0;
		scan_set(&sets[s], iters / 10); /* warm up */
		for (unsigned r = 0; r < runs; r++) {
			double t0 = bench_now_ns();
			scan_set(&sets[s], iters);
			ns[r] = (bench_now_ns() - t0) / (double)iters;
		}
		qsort(ns, runs, sizeof(ns[0]), bench_cmp_double);
		for (unsigned i = 0; i < sets[s].count; i++)
			bytes += sets[s].len[i];
		printf("%s{\"name\":\"%s\",\"messages\":%u,\"avg_bytes\":%zu,"
		       "\"ns_median\":%.1f,\"ns_min\":%.1f,\"ns_max\":%.1f}",
		       s ? "," : "", sets[s].name, sets[s].count, bytes / sets[s].count,
		       ns[runs / 2], ns[0], ns[runs - 1]);
	}
	printf("]}\n");
	return 0;
}
