/* siphonctl node add|remove|weight|drain|enable|disable: siphond's pool
 * changes (docs/siphond.md "Pool management", docs/rpc.md). Arguments are
 * checked for shape here (exit 2); their values (an address, a weight's
 * range) by siphond, which counts what it refuses (exit 1). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static int usage(const char *arg)
{
	if (arg)
		cli_error("node", "'%s': usage: siphonctl [--socket PATH] %s", arg, NODE_USAGE);
	else
		cli_error("node", "usage: siphonctl [--socket PATH] %s", NODE_USAGE);
	return CLI_USAGE;
}

/* A whole number, of any size siphond may refuse: 0 or -EINVAL. */
static int integer(const char *arg, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(arg, &end, 10);
	return *arg && !*end && !errno ? 0 : -EINVAL;
}

/* What the reply says, for people. */
static void print(const char *what, const json_t *r)
{
	const char *pool = str(r, "pool"), *node = str(r, "node");
	const bool changed = json_is_true(json_object_get(r, "changed"));
	const long long gen = num(r, "generation");

	if (strcmp(what, "add") == 0)
		printf("%s/%s added: %s%s%s:%lld weight %lld id %s, %s (generation %lld)\n", pool, node,
		       strchr(str(r, "address"), ':') ? "[" : "", str(r, "address"),
		       strchr(str(r, "address"), ':') ? "]" : "", num(r, "port"), num(r, "weight"),
		       str(r, "id"), str(r, "state"), gen);
	else if (strcmp(what, "remove") == 0)
		printf("%s/%s removed (it was %s; generation %lld)\n", pool, node, str(r, "before"), gen);
	else if (strcmp(what, "weight") == 0 && changed)
		printf("%s/%s: weight %lld -> %lld (generation %lld)\n", pool, node,
		       num(r, "weight_before"), num(r, "weight"), gen);
	else if (strcmp(what, "weight") == 0)
		printf("%s/%s: weight %lld (generation %lld)\n", pool, node, num(r, "weight"), gen);
	else
		printf("%s/%s: %s%s%s (generation %lld)\n", pool, node, changed ? str(r, "before") : "",
		       changed ? " -> " : "", str(r, "state"), gen);
}

/* --NAME VALUE or --NAME=VALUE at argv[*i]: the value, or NULL. */
static const char *option(int argc, char **argv, int *i, const char *name)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n) != 0)
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] == '\0' && *i + 1 < argc)
		return argv[++*i];
	return NULL;
}

int cmd_node(int argc, char **argv)
{
	static const char *const verbs[] = { "add", "remove", "weight", "drain", "enable", "disable" };
	const char *pos[3] = { 0 }, *id = NULL, *verb = argc > 1 ? argv[1] : "", *v;
	long long weight = -1;
	bool as_json = false, has_weight = false;
	int npos = 0, want, rc;
	size_t k;
	json_t *params, *r;
	char method[16];

	for (k = 0; k < sizeof(verbs) / sizeof(verbs[0]) && strcmp(verbs[k], verb); k++)
		;
	if (k == sizeof(verbs) / sizeof(verbs[0]))
		return usage(argc > 1 ? verb : NULL);
	want = k == 0 || k == 2 ? 3 : 2; /* POOL NODE, and ADDRESS or W */
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			as_json = true;
		else if (k == 0 && (v = option(argc, argv, &i, "--weight")) != NULL) {
			if (integer(v, &weight))
				return usage(v);
			has_weight = true;
		} else if (k == 0 && (v = option(argc, argv, &i, "--id")) != NULL)
			id = v;
		else if (argv[i][0] == '-' && !(k == 2 && npos == 2 && integer(argv[i], &weight) == 0))
			return usage(argv[i]);
		else if (npos < want)
			pos[npos++] = argv[i];
		else
			return usage(argv[i]);
	}
	if (npos != want)
		return usage(NULL);
	if (k == 2 && integer(pos[2], &weight))
		return usage(pos[2]);
	params = json_pack("{s:s, s:s}", "pool", pos[0], "node", pos[1]);
	if (params && k == 0 && json_object_set_new(params, "address", json_string(pos[2])))
		json_decref(params), params = NULL;
	if (params && k == 0 && id && json_object_set_new(params, "id", json_string(id)))
		json_decref(params), params = NULL;
	if (params && (k == 2 || has_weight))
		json_object_set_new(params, "weight", json_integer(weight));
	if (!params) {
		cli_error("node", "the arguments must be UTF-8 text");
		return CLI_USAGE;
	}
	snprintf(method, sizeof(method), "node.%s", verb);
	rc = cli_call("node", method, params, &r);
	json_decref(params);
	if (rc)
		return rc;
	if (as_json) {
		char *s = json_dumps(r, JSON_COMPACT);

		if (s)
			puts(s);
		free(s);
	} else {
		print(verb, r);
	}
	json_decref(r);
	return CLI_OK;
}
