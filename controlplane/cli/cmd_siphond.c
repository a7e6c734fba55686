/* siphonctl state and reload: siphond's generations and fast paths
 * (docs/siphond.md). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rpc_client.h"

/* Calls method; prints why it failed (and the error reply) and returns
 * CLI_FAILED, or CLI_OK with *result a new reference. */
static int call(const char *cmd, const char *method, json_t *params, json_t **result)
{
	char err[512];
	const char *path = cli_socket_path();
	json_t *reply;
	const json_t *e;
	int rc = rpc_call(path, method, params, cli_timeout_ms(), &reply, err, sizeof(err));

	if (rc == -ETIMEDOUT) {
		cli_error(cmd, "siphond at %s: no reply within %d s", path, cli_timeout_ms() / 1000);
		return CLI_FAILED;
	}
	if (rc) {
		cli_error(cmd, rc == -EPROTO ? "siphond at %s: %s" : "%.0s%s", path, err);
		return CLI_FAILED;
	}
	e = json_object_get(reply, "error");
	if (e) {
		cli_error(cmd, "%s", json_string_value(json_object_get(e, "message")));
		json_decref(reply);
		return CLI_FAILED;
	}
	*result = json_incref(json_object_get(reply, "result"));
	json_decref(reply);
	return CLI_OK;
}

int cli_call(const char *cmd, const char *method, json_t *params, json_t **result)
{
	return call(cmd, method, params, result);
}

static void print_json(const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT);

	if (s)
		puts(s);
	free(s);
}

static json_int_t num(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "-";
}

/* The sum of a map's numbers ({"200": 3, "503": 1} -> 4). */
static long long map_sum(const json_t *o)
{
	const char *k;
	const json_t *v;
	long long n = 0;

	json_object_foreach ((json_t *)o, k, v)
		n += json_integer_value(v);
	return n;
}

/* One line of the punts (docs/answers.md "Counters"). */
static void print_punts(const json_t *p)
{
	const json_t *socks = json_object_get(p, "sockets"), *s;
	size_t i, bound = 0;

	if (!json_is_object(p))
		return;
	json_array_foreach (socks, i, s)
		bound += json_is_true(json_object_get(s, "bound"));
	printf("punts       %lld received: %lld answered, %lld unanswered, %lld bad, %lld send "
	       "failures; %zu of %zu sockets bound\n",
	       (long long)num(p, "received"),
	       map_sum(json_object_get(p, "answered_options")) +
		       map_sum(json_object_get(p, "answered_reply")) + num(p, "answered_stun") +
		       num(p, "answered_503"),
	       map_sum(json_object_get(p, "unanswered")), map_sum(json_object_get(p, "bad")),
	       (long long)num(p, "send_failed"), bound, json_array_size(socks));
}

static void print_state(const json_t *r)
{
	const json_t *fps = json_object_get(r, "fast_paths"), *f;
	size_t i;

	printf("generation  %lld (%lld s old, %lld bytes)\nconfig      %s\nstate dir   %s\n",
	       (long long)num(r, "generation"), (long long)num(r, "age_s"),
	       (long long)num(r, "bytes"), str(r, "config"), str(r, "state_dir"));
	print_punts(json_object_get(r, "punts"));
	if (!json_array_size(fps)) {
		puts("fast paths  none attached");
		return;
	}
	printf("\n%-20s %8s %10s %10s %9s  %s\n", "FAST PATH", "PID", "ACKED", "ATTACHED", "SENDING",
	       "LAST REFUSAL");
	json_array_foreach (fps, i, f) {
		const json_t *ref = json_object_get(f, "refused");
		char refused[200] = "-";

		if (json_is_object(ref))
			snprintf(refused, sizeof(refused), "generation %lld: %s",
				 (long long)num(ref, "generation"), str(ref, "reason"));
		printf("%-20s %8lld %10lld %9llds %9s  %s\n", str(f, "name"), (long long)num(f, "pid"),
		       (long long)num(f, "generation"), (long long)num(f, "attached_s"),
		       json_is_true(json_object_get(f, "pending")) ? "yes" : "no", refused);
	}
}

int cmd_state(int argc, char **argv)
{
	bool as_json = false;
	json_t *r;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") != 0) {
			cli_error("state", "'%s': usage: siphonctl [--socket PATH] %s", argv[i],
				  STATE_USAGE);
			return CLI_USAGE;
		}
		as_json = true;
	}
	rc = call("state", "state", NULL, &r);
	if (rc)
		return rc;
	if (as_json)
		print_json(r);
	else
		print_state(r);
	json_decref(r);
	return CLI_OK;
}

static void print_list(const char *what, const json_t *o, const char *key, const char *sign)
{
	const json_t *v;
	size_t i;

	json_array_foreach (json_object_get(o, key), i, v) {
		if (json_is_object(v))
			printf("  %s %s line %lld: %s\n", sign, what,
			       (long long)num(v, "line"), str(v, "rule"));
		else
			printf("  %s %s %s\n", sign, what, json_string_value(v));
	}
}

static void print_changes(const json_t *r)
{
	const json_t *c = json_object_get(r, "changes"), *m;
	const char *kinds[] = { "flags", "rules", "pools", "nodes" };
	const char *what[] = { "flag", "rule", "pool", "node" };
	size_t i;

	for (size_t k = 0; k < 4; k++) {
		const json_t *o = json_object_get(c, kinds[k]);

		print_list(what[k], o, "added", "+");
		print_list(what[k], o, "removed", "-");
		print_list(what[k], o, "changed", "~");
	}
	if (json_is_true(json_object_get(json_object_get(c, "rules"), "reordered")))
		puts("  ~ the order of the rules");
	json_array_foreach (json_object_get(c, "maglev"), i, m) {
		const json_t *moved = json_object_get(m, "slots_moved");

		if (json_is_integer(moved))
			printf("  pool %s: %.2f%% of the Maglev slots move (%lld of %lld)\n",
			       str(m, "pool"), 100.0 * json_real_value(json_object_get(m, "share_moved")),
			       (long long)json_integer_value(moved), (long long)num(m, "size"));
		else
			printf("  pool %s: %.2f%% of the Call-ID hash space moves (table size %lld -> %lld)\n",
			       str(m, "pool"), 100.0 * json_real_value(json_object_get(m, "share_moved")),
			       (long long)num(m, "old_size"), (long long)num(m, "size"));
	}
}

int cmd_reload(int argc, char **argv)
{
	bool dry = false, as_json = false;
	json_t *r, *params;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dry-run") == 0) {
			dry = true;
		} else if (strcmp(argv[i], "--json") == 0) {
			as_json = true;
		} else {
			cli_error("reload", "'%s': usage: siphonctl [--socket PATH] %s", argv[i],
				  RELOAD_USAGE);
			return CLI_USAGE;
		}
	}
	params = json_pack("{s:b}", "dry_run", dry);
	rc = call("reload", "reload", params, &r);
	json_decref(params);
	if (rc)
		return rc;
	if (as_json) {
		print_json(r);
	} else if (json_is_true(json_object_get(r, "unchanged"))) {
		printf("no change: generation %lld stays\n", (long long)num(r, "generation"));
	} else {
		if (dry)
			printf("dry run: generation %lld runs; the config would change:\n",
			       (long long)num(r, "generation"));
		else
			printf("generation %lld published:\n", (long long)num(r, "generation"));
		print_changes(r);
	}
	if (!as_json && json_array_size(json_object_get(r, "overrides_dropped"))) {
		const json_t *v;
		size_t i;

		/* the RPC's pool changes do not survive a reload (docs/siphond.md) */
		json_array_foreach (json_object_get(r, "overrides_dropped"), i, v)
			printf("%s%s", i ? ", " : dry ? "RPC changes it would drop: " : "RPC changes dropped: ",
			       json_string_value(v));
		putchar('\n');
	}
	json_decref(r);
	return CLI_OK;
}
