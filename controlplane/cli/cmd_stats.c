/* siphonctl stats: the traffic counters siphond keeps of its fast paths
 * and its node health, as tables for people or the `stats` method's JSON
 * (docs/metrics.md). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static long long num(const json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "-";
}

static void print_nodes(const json_t *nodes)
{
	const json_t *n;
	size_t i;

	if (!json_array_size(nodes))
		return;
	printf("\n%-24s %-9s %3s %8s %10s %10s\n", "NODE", "STATE", "UP", "PROBES", "RTT LAST",
	       "RTT AVG");
	json_array_foreach (nodes, i, n) {
		char name[160];

		snprintf(name, sizeof(name), "%s/%s", str(n, "pool"), str(n, "node"));
		printf("%-24s %-9s %3d %8lld %7.2f ms %7.2f ms\n", name, str(n, "state"),
		       json_is_true(json_object_get(n, "up")), num(n, "probes_sent"),
		       json_real_value(json_object_get(n, "rtt_last_ms")),
		       json_real_value(json_object_get(n, "rtt_avg_ms")));
	}
}

/* NAME AFXDP KERNEL for the counters of two groups, the non-zero ones */
static void two_lanes(const json_t *groups, const char *title, const char *a, const char *k)
{
	const json_t *ga = json_object_get(groups, a), *gk = json_object_get(groups, k), *v;
	const char *name;
	bool head = false;

	for (int pass = 0; pass < 2; pass++)
		json_object_foreach ((json_t *)(pass ? gk : ga), name, v) {
			long long x = json_integer_value(json_object_get(ga, name));
			long long y = json_integer_value(json_object_get(gk, name));

			if (pass && json_object_get(ga, name))
				continue; /* shown in the first pass */
			if (!x && !y)
				continue;
			if (!head)
				printf("\n  %-24s %14s %14s\n", title, "AFXDP", "KERNEL");
			head = true;
			printf("  %-24s %14lld %14lld\n", name, x, y);
		}
}

static void print_fast_path(const json_t *fp)
{
	const json_t *c = json_object_get(fp, "counters"), *g, *e, *v;
	const char *name;
	size_t i;

	printf("\nfast path %s%s: acked generation %lld", str(fp, "name"),
	       json_is_true(json_object_get(fp, "attached")) ? "" : " (detached: its last counters)",
	       num(fp, "generation"));
	if (!json_is_object(c)) {
		printf("; no counters yet\n");
		return;
	}
	printf("; counters of generation %lld, %.1f s old (snapshot %lld%s)\n", num(c, "generation"),
	       json_real_value(json_object_get(c, "age_s")), num(c, "seq"),
	       json_is_true(json_object_get(c, "current")) ? "" :
	       ", not the running generation: no flags, rules or nodes");
	g = json_object_get(c, "groups");
	printf("  AF_XDP lane: %lld packets in, %lld bytes in, %lld bytes out",
	       num(json_object_get(g, "packets"), "in"), num(json_object_get(g, "bytes"), "in"),
	       num(json_object_get(g, "bytes"), "out"));
	json_object_foreach (json_object_get(g, "outcome"), name, v)
		printf(", %s %lld", name, (long long)json_integer_value(v));
	printf("\n");
	if (json_is_array(json_object_get(c, "nodes"))) {
		printf("\n  %-24s %14s %14s %14s\n", "NODE", "AFXDP PKTS", "KERNEL PKTS", "KERNEL BYTES");
		json_array_foreach (json_object_get(c, "nodes"), i, e) {
			char nm[160];

			snprintf(nm, sizeof(nm), "%s/%s", str(e, "pool"), str(e, "node"));
			printf("  %-24s %14lld %14lld %14lld\n", nm, num(e, "afxdp_packets"),
			       num(e, "kernel_packets"), num(e, "kernel_bytes"));
		}
		printf("\n  %-24s %14s %14s %14s\n", "POOL", "AFXDP PKTS", "KERNEL PKTS", "KERNEL BYTES");
		json_array_foreach (json_object_get(c, "pools"), i, e)
			printf("  %-24s %14lld %14lld %14lld\n", str(e, "pool"), num(e, "afxdp_packets"),
			       num(e, "kernel_packets"), num(e, "kernel_bytes"));
		printf("\n  %-24s %14s %14s\n", "FLAG", "AFXDP SET", "KERNEL SET");
		json_object_foreach (json_object_get(c, "flags"), name, v)
			printf("  %-24s %14lld %14lld\n", name, (long long)json_integer_value(v),
			       (long long)json_integer_value(
				       json_object_get(json_object_get(c, "kernel_flags"), name)));
		printf("\n  %-6s %14s %14s  %s\n", "LINE", "AFXDP", "KERNEL", "RULE");
		json_array_foreach (json_object_get(c, "rules"), i, e)
			printf("  %-6lld %14lld %14lld  %s\n", num(e, "line"), num(e, "afxdp"),
			       num(e, "kernel"), str(e, "rule"));
	}
	two_lanes(g, "REASON", "reason", "kernel_reason");
	two_lanes(g, "PARSE", "packet", "kernel_packet");
}

static void print_stats(const json_t *r)
{
	const json_t *m = json_object_get(r, "metrics"), *snaps = json_object_get(r, "snapshots"),
		     *fp;
	size_t i;

	printf("generation %lld (%.0f s old); snapshots received %lld, refused %lld; metrics ",
	       num(r, "generation"), json_real_value(json_object_get(r, "age_s")),
	       num(snaps, "received"), num(snaps, "refused"));
	if (json_is_string(json_object_get(m, "listen")))
		printf("on http://%s/metrics (%lld scrapes)\n", str(m, "listen"), num(m, "scrapes"));
	else if (json_is_string(json_object_get(m, "error")))
		printf("not served: %s\n", str(m, "error"));
	else
		printf("off\n");
	print_nodes(json_object_get(r, "nodes"));
	if (!json_array_size(json_object_get(r, "fast_paths")))
		printf("\nno fast path attached\n");
	json_array_foreach (json_object_get(r, "fast_paths"), i, fp)
		print_fast_path(fp);
}

int cmd_stats(int argc, char **argv)
{
	bool as_json = false;
	json_t *r;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			as_json = true;
			continue;
		}
		cli_error("stats", "usage: siphonctl [--socket PATH] %s", STATS_USAGE);
		return CLI_USAGE;
	}
	rc = cli_call("stats", "stats", NULL, &r);
	if (rc)
		return rc;
	if (as_json) {
		char *s = json_dumps(r, JSON_COMPACT);

		if (s)
			puts(s);
		free(s);
	} else {
		print_stats(r);
	}
	json_decref(r);
	return CLI_OK;
}
