/* siphonctl pool list|show: siphond's pools and nodes (docs/health.md,
 * docs/siphond.md "Pool management", docs/rpc.md). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "-";
}

static long long num(const json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

/* Nodes given by name (docs/dns.md): what each resolved to, the TTL
 * left, the last error. */
static void print_names(const json_t *p)
{
	const json_t *nm, *n;
	size_t i, k;

	json_array_foreach (json_object_get(p, "names"), i, nm) {
		const json_t *err = json_object_get(nm, "last_error");

		printf("name %s: %s %s (%s): %zu node%s, %s, next in %.1f s (TTL %lld s)%s%s",
		       str(nm, "node"), str(nm, "kind"), str(nm, "query"), str(nm, "family"),
		       json_array_size(json_object_get(nm, "nodes")),
		       json_array_size(json_object_get(nm, "nodes")) == 1 ? "" : "s",
		       !json_is_true(json_object_get(nm, "answered")) ? "no answer yet"
		       : json_is_true(json_object_get(nm, "failing")) ? "DNS failing, last answer kept"
								      : "resolved",
		       json_real_value(json_object_get(nm, "ttl_left_s")), num(nm, "ttl_s"),
		       json_is_string(err) ? "; last error: " : "",
		       json_is_string(err) ? json_string_value(err) : "");
		if (json_is_string(err))
			printf(" (%.0f s ago)",
			       json_real_value(json_object_get(nm, "last_error_age_s")));
		putchar('\n');
		json_array_foreach (json_object_get(nm, "nodes"), k, n)
			printf("  %-28s id %-24s weight %5lld priority %5lld%s\n", str(n, "name"),
			       str(n, "id"), num(n, "weight"), num(n, "priority"),
			       json_is_true(json_object_get(n, "standby")) ? "  [standby]" : "");
	}
}

static void print_json(const json_t *r)
{
	char *s = json_dumps(r, JSON_COMPACT);

	if (s)
		puts(s);
	free(s);
}

static bool has(const json_t *node, const char *change)
{
	const json_t *v;
	size_t i;

	json_array_foreach (json_object_get(node, "changes"), i, v)
		if (strcmp(json_string_value(v), change) == 0)
			return true;
	return false;
}

/* Where the node differs from the config file, for people. */
static void print_marks(const json_t *n)
{
	if (has(n, "added"))
		printf("  [added by rpc]");
	if (has(n, "replaced"))
		printf("  [replaced by rpc]");
	if (has(n, "weight"))
		printf("  [weight by rpc; %lld in the config]", num(n, "config_weight"));
	if (has(n, "draining"))
		printf("  [drained by rpc]");
	if (json_is_true(json_object_get(n, "admin_disabled")))
		printf("  [disabled by an operator]");
}

static void print_pools(const json_t *r)
{
	const json_t *p, *n, *v;
	size_t i, k;

	printf("generation %lld\n", num(r, "generation"));
	json_array_foreach (json_object_get(r, "pools"), i, p) {
		const json_t *probe = json_object_get(p, "probe");

		printf("\npool %s: %lld live; probe every %lld ms, timeout %lld ms, down %lld, up %lld",
		       str(p, "name"), num(p, "live"), num(probe, "interval_ms"),
		       num(probe, "timeout_ms"), num(probe, "down"), num(probe, "up"));
		if (json_is_string(json_object_get(p, "fallback")))
			printf("; fallback %s", str(p, "fallback"));
		if (num(p, "retry_after_s"))
			printf("; none live: 503, Retry-After %lld s", num(p, "retry_after_s"));
		else
			printf("; none live: 503, no Retry-After");
		json_array_foreach (json_object_get(p, "removed"), k, v)
			printf("%s%s", k ? ", " : "; removed by rpc: ", json_string_value(v));
		printf("\n%-16s %-9s %-17s %6s %6s %8s %7s %7s %8s %5s %11s %8s  %s\n", "NODE", "STATE",
		       "WHY", "WEIGHT", "EFFECT", "PROBES", "2XX", "OTHER", "TIMEOUTS", "ICMP",
		       "FORWARDED", "PKT/S", "LAST CHANGE");
		json_array_foreach (json_object_get(p, "nodes"), k, n) {
			const json_t *rep = json_object_get(n, "replies");
			long long other = num(rep, "1xx") + num(rep, "3xx") + num(rep, "4xx") +
					  num(rep, "5xx") + num(rep, "6xx");
			time_t when = (time_t)json_real_value(json_object_get(n, "last_change"));
			char at[32];

			strftime(at, sizeof(at), "%Y-%m-%d %H:%M:%S", localtime(&when));
			printf("%-16s %-9s %-17s %6lld %6lld %8lld %7lld %7lld %8lld %5lld %11lld %8.1f  "
			       "%s (%.1f s ago)",
			       str(n, "name"), str(n, "state"), str(n, "why"), num(n, "weight"),
			       num(n, "effective_weight"), num(n, "probes_sent"), num(rep, "2xx"), other,
			       num(n, "timeouts"), num(n, "icmp_unreachable"), num(n, "forwarded"),
			       json_number_value(json_object_get(n, "rate_pps")), at,
			       json_real_value(json_object_get(n, "last_change_age_s")));
			print_marks(n);
			putchar('\n');
		}
		print_names(p);
	}
}

static void print_list(const json_t *r)
{
	const json_t *p, *c;
	size_t i;

	printf("generation %lld\n%-16s %5s %5s %9s %9s %9s %8s %11s %8s  %s\n", num(r, "generation"),
	       "POOL", "NODES", "LIVE", "DRAINING", "INACTIVE", "DISABLED", "CHANGED", "FORWARDED",
	       "PKT/S", "FALLBACK");
	json_array_foreach (json_object_get(r, "pools"), i, p)
		printf("%-16s %5lld %5lld %9lld %9lld %9lld %8lld %11lld %8.1f  %s\n", str(p, "name"),
		       num(p, "nodes"), num(p, "live"), num(p, "draining"), num(p, "inactive"),
		       num(p, "disabled"), num(p, "changed"), num(p, "forwarded"),
		       json_number_value(json_object_get(p, "rate_pps")), str(p, "fallback"));
	json_array_foreach (json_object_get(r, "changes"), i, c)
		printf("%s%s", i ? ", " : "changed by rpc (until a reload): ", json_string_value(c));
	if (json_array_size(json_object_get(r, "changes")))
		putchar('\n');
}

static int usage(const char *arg)
{
	if (arg)
		cli_error("pool", "'%s': usage: siphonctl [--socket PATH] %s", arg, POOL_USAGE);
	else
		cli_error("pool", "usage: siphonctl [--socket PATH] %s", POOL_USAGE);
	return CLI_USAGE;
}

int cmd_pool(int argc, char **argv)
{
	const char *pool = NULL;
	bool as_json = false, list;
	json_t *params, *r;
	int rc;

	if (argc < 2 || (strcmp(argv[1], "show") != 0 && strcmp(argv[1], "list") != 0))
		return usage(argc < 2 ? NULL : argv[1]);
	list = argv[1][0] == 'l';
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			as_json = true;
		else if (argv[i][0] != '-' && !pool && !list)
			pool = argv[i];
		else
			return usage(argv[i]);
	}
	params = pool ? json_pack("{s:s}", "pool", pool) : json_object();
	rc = cli_call("pool", list ? "pool.list" : "pool.show", params, &r);
	json_decref(params);
	if (rc)
		return rc;
	if (as_json)
		print_json(r);
	else if (list)
		print_list(r);
	else
		print_pools(r);
	json_decref(r);
	return CLI_OK;
}
