/* A tiny RPC server for tests/cli/test_rpc.py: the built-in methods plus
 * "echo" (returns its params) and "fail" (a not_found error).
 *
 * usage: rpc-test-server SOCKET [MAX_CLIENTS]
 * Prints "ready" once it listens; on SIGTERM or SIGINT it closes, prints
 * its counters as one JSON line and exits 0. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc.h"
#include "rpc_server.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int m_echo(const json_t *params, void *ctx, json_t **result, struct rpc_error *err)
{
	(void)ctx, (void)err;
	*result = json_deep_copy(params);
	return *result ? 0 : -ENOMEM;
}

static int m_fail(const json_t *params, void *ctx, json_t **result, struct rpc_error *err)
{
	(void)ctx, (void)result;
	return rpc_fail(err, RPC_E_NOT_FOUND, "no pool '%s'",
			json_string_value(json_object_get(params, "pool")));
}

static const struct rpc_param echo_params[] = {
	{ "value", RPC_ANY, false, "anything" },
	{ "count", RPC_INTEGER, false, "a number" },
	{ NULL },
};

static const struct rpc_param fail_params[] = {
	{ "pool", RPC_STRING, true, "a pool name" },
	{ NULL },
};

static const struct rpc_method test_methods[] = {
	{ "echo", m_echo, echo_params, "Returns its params." },
	{ "fail", m_fail, fail_params, "Fails with not_found." },
};

int main(int argc, char **argv)
{
	struct rpc_server_opts opts = { 0 };
	struct rpc_server *srv;
	struct rpc_table table;
	char err[256], *counters;
	json_t *c;
	int rc;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: rpc-test-server SOCKET [MAX_CLIENTS]\n");
		return 2;
	}
	if (argc == 3)
		opts.max_clients = (unsigned)atoi(argv[2]);
	rpc_table_init(&table);
	if (rpc_builtin_add(&table) ||
	    rpc_table_add(&table, test_methods, sizeof(test_methods) / sizeof(test_methods[0]),
			  NULL)) {
		fprintf(stderr, "rpc-test-server: cannot build the method table\n");
		return 1;
	}
	rc = rpc_server_open(&srv, argv[1], &table, &opts, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "rpc-test-server: %s\n", err);
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	printf("ready\n");
	fflush(stdout);
	while (!stop && rc == 0)
		rc = rpc_server_run_once(srv, 100);
	c = rpc_counters_json(rpc_server_counters(srv));
	counters = c ? json_dumps(c, JSON_COMPACT) : NULL;
	printf("%s\n", counters ? counters : "null");
	free(counters);
	json_decref(c);
	rpc_server_close(srv);
	return rc ? 1 : 0;
}
