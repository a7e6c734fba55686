/* The RPC layer without sockets: the method table and one request line
 * to one reply line, with the exact reply for every kind of input
 * (docs/rpc.md), and the counters. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rpc.h"
#include "siphon_version.h"

static int pool_ctx = 42;

static int m_pool_show(const json_t *params, void *ctx, json_t **result, struct rpc_error *err)
{
	(void)err;
	*result = json_pack("{s:O, s:i}", "pool", json_object_get(params, "pool"), "ctx",
			    *(int *)ctx);
	return 0;
}

static int m_fail(const json_t *params, void *ctx, json_t **result, struct rpc_error *err)
{
	(void)params, (void)ctx, (void)result;
	return rpc_fail(err, RPC_E_NOT_FOUND, "no pool '%s'", "core");
}

static int m_oops(const json_t *params, void *ctx, json_t **result, struct rpc_error *err)
{
	(void)params, (void)ctx, (void)result, (void)err;
	return -EIO;
}

static int m_null(const json_t *params, void *ctx, json_t **result, struct rpc_error *err)
{
	(void)params, (void)ctx, (void)err;
	*result = NULL;
	return 0;
}

static int m_big(const json_t *params, void *ctx, json_t **result, struct rpc_error *err)
{
	char *s = malloc(RPC_REPLY_MAX);

	(void)params, (void)ctx, (void)err;
	memset(s, 'x', RPC_REPLY_MAX - 1);
	s[RPC_REPLY_MAX - 1] = '\0';
	*result = json_string(s);
	free(s);
	return 0;
}

static const struct rpc_param pool_params[] = {
	{ "pool", RPC_STRING, true, "the pool" },
	{ "verbose", RPC_BOOLEAN, false, "more" },
	{ "depth", RPC_INTEGER, false, "how deep", RPC_RANGE(1, 9) },
	{ "from", RPC_INTEGER, false, "where to start", RPC_RANGE(0, RPC_NO_MAX) },
	{ NULL },
};

static const struct rpc_method daemon_methods[] = {
	{ "pool.show", m_pool_show, pool_params, "Show a pool." },
	{ "fail", m_fail, NULL, "Fails." },
};

static const struct rpc_method odd_methods[] = {
	{ "oops", m_oops, NULL, "Fails without saying why." },
	{ "null", m_null, NULL, "Returns no result." },
	{ "big", m_big, NULL, "Returns too much." },
};

static struct rpc_table table;
static struct rpc_counters counters;

static int setup(void **state)
{
	(void)state;
	rpc_table_init(&table);
	memset(&counters, 0, sizeof(counters));
	assert_int_equal(rpc_builtin_add(&table), 0);
	assert_int_equal(rpc_table_add(&table, daemon_methods, 2, &pool_ctx), 0);
	assert_int_equal(rpc_table_add(&table, odd_methods, 3, NULL), 0);
	return 0;
}

static void expect_reply_n(const char *line, size_t len, const char *want)
{
	char *got = rpc_handle_line(&table, line, len, &counters);

	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void expect_reply(const char *line, const char *want)
{
	expect_reply_n(line, strlen(line), want);
}

#define ERR(id, code, msg) "{\"id\":" id ",\"error\":{\"code\":\"" code "\",\"message\":\"" msg "\"}}"

static void test_valid_calls(void **state)
{
	(void)state;
	expect_reply("{\"method\":\"ping\",\"id\":1}", "{\"id\":1,\"result\":\"pong\"}");
	expect_reply("{\"id\": \"a\", \"method\": \"ping\"}", "{\"id\":\"a\",\"result\":\"pong\"}");
	expect_reply("{\"method\":\"ping\"}", "{\"id\":null,\"result\":\"pong\"}");
	expect_reply("{\"method\":\"ping\",\"params\":null,\"id\":-7}", "{\"id\":-7,\"result\":\"pong\"}");
	expect_reply("{\"method\":\"ping\",\"params\":{},\"id\":2}\r", "{\"id\":2,\"result\":\"pong\"}");
	expect_reply("{\"method\":\"version\",\"id\":3}",
		     "{\"id\":3,\"result\":{\"version\":\"" SIPHON_VERSION "\"}}");
	/* the daemon's methods get their own context */
	expect_reply("{\"method\":\"pool.show\",\"params\":{\"pool\":\"core\",\"verbose\":true},\"id\":4}",
		     "{\"id\":4,\"result\":{\"pool\":\"core\",\"ctx\":42}}");
	expect_reply("{\"method\":\"help\",\"params\":{\"method\":\"pool.show\"},\"id\":5}",
		     "{\"id\":5,\"result\":{\"name\":\"pool.show\",\"doc\":\"Show a pool.\",\"params\":["
		     "{\"name\":\"pool\",\"type\":\"string\",\"required\":true,\"doc\":\"the pool\"},"
		     "{\"name\":\"verbose\",\"type\":\"boolean\",\"required\":false,\"doc\":\"more\"},"
		     "{\"name\":\"depth\",\"type\":\"integer\",\"required\":false,\"doc\":\"how deep\","
		     "\"min\":1,\"max\":9},"
		     "{\"name\":\"from\",\"type\":\"integer\",\"required\":false,"
		     "\"doc\":\"where to start\",\"min\":0}]}}");
	/* the ends of a range are in it */
	expect_reply("{\"method\":\"pool.show\",\"params\":{\"pool\":\"a\",\"depth\":9,\"from\":0}}",
		     "{\"id\":null,\"result\":{\"pool\":\"a\",\"ctx\":42}}");
	assert_int_equal(counters.requests, 9);
	assert_int_equal(counters.ok, 9);
}

static void test_help_lists_the_table_in_order(void **state)
{
	const char *want[] = { "help", "version", "ping", "pool.show", "fail", "oops", "null", "big" };
	char *got = rpc_handle_line(&table, "{\"method\":\"help\",\"id\":1}", 24, &counters);
	json_t *r = json_loads(got, 0, NULL), *methods;

	(void)state;
	assert_non_null(r);
	methods = json_object_get(json_object_get(r, "result"), "methods");
	assert_int_equal(json_array_size(methods), 8);
	for (size_t i = 0; i < 8; i++) {
		json_t *m = json_array_get(methods, i);

		assert_string_equal(json_string_value(json_object_get(m, "name")), want[i]);
		assert_true(json_is_array(json_object_get(m, "params")));
		assert_true(json_is_string(json_object_get(m, "doc")));
	}
	json_decref(r);
	free(got);
}

static void test_not_json(void **state)
{
	(void)state;
	expect_reply("hello", ERR("null", "parse_error",
				  "not JSON: '[' or '{' expected near 'hello' (column 5)"));
	expect_reply("", ERR("null", "parse_error",
			     "not JSON: '[' or '{' expected near end of file (column 0)"));
	expect_reply("{\"method\":\"ping\",\"id\":1", ERR("null", "parse_error",
		     "not JSON: '}' expected near end of file (column 23)"));
	expect_reply("{\"method\":\"ping\",\"method\":\"help\"}",
		     ERR("null", "parse_error", "not JSON: duplicate object key near '\\\"method\\\"' (column 25)"));
	/* bytes that are not UTF-8, and a NUL: still one valid reply */
	expect_reply_n("{\"method\":\"\xff\"}", 14, ERR("null", "parse_error",
		       "not JSON: unable to decode byte 0xff near '\\\"' (column 11)"));
	expect_reply_n("{\"method\":\0}", 12, ERR("null", "parse_error",
		       "not JSON: invalid token near end of file (column 11)"));
	assert_int_equal(counters.errors[RPC_E_PARSE], 6);
	assert_int_equal(counters.requests, 6);
	assert_int_equal(counters.ok, 0);
}

static void test_bad_requests(void **state)
{
	(void)state;
	expect_reply("[1,2]", ERR("null", "bad_request", "expected a JSON object"));
	expect_reply("{\"id\":1}", ERR("1", "bad_request", "method: missing"));
	expect_reply("{\"method\":5,\"id\":1}", ERR("1", "bad_request", "method: expected a string"));
	expect_reply("{\"method\":\"ping\",\"id\":1.5}",
		     ERR("null", "bad_request", "id: expected an integer or a string"));
	expect_reply("{\"method\":\"ping\",\"id\":{}}",
		     ERR("null", "bad_request", "id: expected an integer or a string"));
	expect_reply("{\"method\":\"ping\",\"id\":1,\"jsonrpc\":\"2.0\"}",
		     ERR("1", "bad_request", "unknown member 'jsonrpc' (known: method, params, id)"));
	assert_int_equal(counters.errors[RPC_E_BAD_REQUEST], 6);
}

static void test_unknown_method(void **state)
{
	(void)state;
	expect_reply("{\"method\":\"nope\",\"id\":9}",
		     ERR("9", "unknown_method",
			 "unknown method 'nope' (known: help, version, ping, pool.show, fail, oops, null, big)"));
	expect_reply("{\"method\":\"\",\"id\":9}",
		     ERR("9", "unknown_method",
			 "unknown method '' (known: help, version, ping, pool.show, fail, oops, null, big)"));
	expect_reply("{\"method\":\"help\",\"params\":{\"method\":\"nope\"},\"id\":9}",
		     ERR("9", "not_found", "params.method: no method 'nope'"));
	assert_int_equal(counters.errors[RPC_E_UNKNOWN_METHOD], 2);
	assert_int_equal(counters.errors[RPC_E_NOT_FOUND], 1);
}

static void test_bad_params(void **state)
{
	(void)state;
	expect_reply("{\"method\":\"pool.show\",\"params\":{\"pool\":7},\"id\":1}",
		     ERR("1", "bad_params", "params.pool: expected a string"));
	expect_reply("{\"method\":\"pool.show\",\"params\":{\"pool\":\"a\",\"verbose\":1},\"id\":1}",
		     ERR("1", "bad_params", "params.verbose: expected a boolean"));
	expect_reply("{\"method\":\"pool.show\",\"id\":1}",
		     ERR("1", "bad_params", "params.pool: missing (a required string)"));
	expect_reply("{\"method\":\"pool.show\",\"params\":{\"pool\":\"a\",\"x\":1},\"id\":1}",
		     ERR("1", "bad_params", "params.x: unknown parameter (known: pool, verbose, depth, from)"));
	expect_reply("{\"method\":\"pool.show\",\"params\":{\"pool\":\"a\",\"depth\":0},\"id\":1}",
		     ERR("1", "bad_params", "params.depth: 0 is out of range (1 to 9)"));
	expect_reply("{\"method\":\"pool.show\",\"params\":{\"pool\":\"a\",\"depth\":10},\"id\":1}",
		     ERR("1", "bad_params", "params.depth: 10 is out of range (1 to 9)"));
	expect_reply("{\"method\":\"pool.show\",\"params\":{\"pool\":\"a\",\"from\":-1},\"id\":1}",
		     ERR("1", "bad_params", "params.from: -1 is out of range (at least 0)"));
	expect_reply("{\"method\":\"pool.show\",\"params\":{\"pool\":\"a\",\"depth\":2.5},\"id\":1}",
		     ERR("1", "bad_params", "params.depth: expected an integer"));
	expect_reply("{\"method\":\"ping\",\"params\":{\"x\":1},\"id\":1}",
		     ERR("1", "bad_params", "params.x: unknown parameter (ping takes none)"));
	expect_reply("{\"method\":\"ping\",\"params\":[1],\"id\":1}",
		     ERR("1", "bad_params", "params: expected an object"));
	assert_int_equal(counters.errors[RPC_E_BAD_PARAMS], 10);
}

static void test_method_failures(void **state)
{
	(void)state;
	expect_reply("{\"method\":\"fail\",\"id\":1}", ERR("1", "not_found", "no pool 'core'"));
	expect_reply("{\"method\":\"oops\",\"id\":2}",
		     ERR("2", "internal", "oops failed: Input/output error"));
	expect_reply("{\"method\":\"null\",\"id\":3}", ERR("3", "internal", "null returned no result"));
	expect_reply("{\"method\":\"big\",\"id\":4}",
		     ERR("4", "internal", "the reply is larger than 1 MiB"));
	assert_int_equal(counters.errors[RPC_E_NOT_FOUND], 1);
	assert_int_equal(counters.errors[RPC_E_INTERNAL], 3);
	assert_int_equal(counters.ok, 0);
	assert_int_equal(counters.requests, 4);
}

static void test_error_line_and_counters_json(void **state)
{
	char *line = rpc_error_line(RPC_E_BUSY, "too many clients (2); try again later", &counters);
	json_t *c;
	char *text;

	(void)state;
	assert_string_equal(line, ERR("null", "busy", "too many clients (2); try again later"));
	free(line);
	expect_reply("{\"method\":\"ping\",\"id\":1}", "{\"id\":1,\"result\":\"pong\"}");
	c = rpc_counters_json(&counters);
	text = json_dumps(c, JSON_COMPACT);
	assert_string_equal(text, "{\"requests\":1,\"ok\":1,\"errors\":{\"parse_error\":0,"
				  "\"bad_request\":0,\"unknown_method\":0,\"bad_params\":0,"
				  "\"too_long\":0,\"busy\":1,\"not_found\":0,\"failed\":0,"
				  "\"internal\":0},\"accepted\":0,\"closed_mid_request\":0,"
				  "\"write_failed\":0,\"accept_failed\":0,\"read_failed\":0,\"handed_over\":0}");
	free(text);
	json_decref(c);
}

static int m_dummy(const json_t *params, void *ctx, json_t **result, struct rpc_error *err)
{
	(void)params, (void)ctx, (void)err;
	*result = json_null();
	return 0;
}

static void test_table_registration(void **state)
{
	static const struct rpc_method dup[] = { { "x", m_dummy, NULL, "" }, { "ping", m_dummy, NULL, "" } };
	static const struct rpc_method twice[] = { { "y", m_dummy, NULL, "" }, { "y", m_dummy, NULL, "" } };
	static const struct rpc_method nohandler[] = { { "z", NULL, NULL, "" } };
	static struct rpc_method many[RPC_METHODS_MAX];
	static char names[RPC_METHODS_MAX][8];
	size_t n = table.n;

	(void)state;
	assert_int_equal(rpc_table_add(&table, dup, 2, NULL), -EEXIST);
	assert_int_equal(rpc_table_add(&table, twice, 2, NULL), -EEXIST);
	assert_int_equal(rpc_table_add(&table, nohandler, 1, NULL), -EINVAL);
	assert_int_equal(table.n, n); /* nothing of a refused array is added */
	assert_null(rpc_table_find(&table, "x"));
	for (size_t i = 0; i < RPC_METHODS_MAX; i++) {
		snprintf(names[i], sizeof(names[i]), "m%zu", i);
		many[i] = (struct rpc_method){ names[i], m_dummy, NULL, "" };
	}
	assert_int_equal(rpc_table_add(&table, many, RPC_METHODS_MAX - n + 1, NULL), -ENOSPC);
	assert_int_equal(rpc_table_add(&table, many, RPC_METHODS_MAX - n, NULL), 0);
	assert_int_equal(table.n, RPC_METHODS_MAX);
	/* a null result is a result */
	expect_reply("{\"method\":\"m0\",\"id\":1}", "{\"id\":1,\"result\":null}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_valid_calls, setup),
		cmocka_unit_test_setup(test_help_lists_the_table_in_order, setup),
		cmocka_unit_test_setup(test_not_json, setup),
		cmocka_unit_test_setup(test_bad_requests, setup),
		cmocka_unit_test_setup(test_unknown_method, setup),
		cmocka_unit_test_setup(test_bad_params, setup),
		cmocka_unit_test_setup(test_method_failures, setup),
		cmocka_unit_test_setup(test_error_line_and_counters_json, setup),
		cmocka_unit_test_setup(test_table_registration, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
