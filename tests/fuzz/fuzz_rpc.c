/* Fuzz harness over the RPC request parser and dispatcher
 * (controlplane/rpc/rpc_dispatch.c, docs/rpc.md); abort() on a breach.
 *
 * The input is split at '\n' into lines, as the server does; every line
 * must get exactly one reply: one line of valid JSON, an object of exactly
 * "id" (null, an integer or a string: the request's when it had a valid
 * one) and either "result" or "error" {"code" (a known code), "message"};
 * the same line must get the same reply again, and the counters must add
 * up. The table has the built-ins and methods with every parameter type. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"

#include "rpc.h"

static int m_echo(const json_t *params, void *ctx, json_t **result, struct rpc_error *err)
{
	(void)ctx, (void)err;
	*result = json_deep_copy(params);
	return *result ? 0 : -ENOMEM;
}

static int m_fail(const json_t *params, void *ctx, json_t **result, struct rpc_error *err)
{
	const json_t *name = json_object_get(params, "name");

	(void)ctx, (void)result;
	return rpc_fail(err, json_string_length(name) % 2 ? RPC_E_NOT_FOUND : RPC_E_FAILED,
			"no node '%s'", json_string_value(name));
}

static const struct rpc_param echo_params[] = {
	{ "s", RPC_STRING, false, "" },  { "i", RPC_INTEGER, false, "" },
	{ "b", RPC_BOOLEAN, false, "" }, { "o", RPC_OBJECT, false, "" },
	{ "a", RPC_ARRAY, false, "" },   { "x", RPC_ANY, false, "" },
	{ "w", RPC_INTEGER, false, "", RPC_RANGE(0, 65535) },
	{ "g", RPC_INTEGER, false, "", RPC_RANGE(0, RPC_NO_MAX) },
	{ "n", RPC_INTEGER, false, "", RPC_RANGE(-5, 5) },
	{ NULL },
};

static const struct rpc_param fail_params[] = {
	{ "name", RPC_STRING, true, "" },
	{ NULL },
};

static const struct rpc_method methods[] = {
	{ "echo", m_echo, echo_params, "" },
	{ "node.enable", m_fail, fail_params, "" },
};

static struct rpc_table table;

static void init_table(void)
{
	if (table.n)
		return;
	rpc_table_init(&table);
	CHECK(rpc_builtin_add(&table) == 0);
	CHECK(rpc_table_add(&table, methods, 2, NULL) == 0);
}

static bool known_code(const char *code)
{
	for (unsigned i = 0; i < RPC_E_COUNT; i++)
		if (strcmp(code, rpc_code_name(i)) == 0)
			return true;
	return false;
}

/* The request's id when it is an object with a valid one, else NULL. */
static json_t *request_id(const char *line, size_t len)
{
	json_t *req, *id;

	if (len && line[len - 1] == '\r')
		len--;
	req = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
	id = json_object_get(req, "id");
	id = json_is_integer(id) || json_is_string(id) ? json_incref(id) : NULL;
	json_decref(req);
	return id;
}

static void check_reply(const char *line, size_t len, const char *reply)
{
	json_t *r, *id, *e, *want;

	CHECK(reply != NULL);
	CHECK(strchr(reply, '\n') == NULL);
	r = json_loads(reply, 0, NULL);
	CHECK(json_is_object(r) && json_object_size(r) == 2);
	id = json_object_get(r, "id");
	CHECK(json_is_null(id) || json_is_integer(id) || json_is_string(id));
	e = json_object_get(r, "error");
	if (e) {
		CHECK(json_is_object(e) && json_object_size(e) == 2);
		CHECK(json_is_string(json_object_get(e, "code")));
		CHECK(known_code(json_string_value(json_object_get(e, "code"))));
		CHECK(json_is_string(json_object_get(e, "message")));
	} else {
		CHECK(json_object_get(r, "result") != NULL);
	}
	want = request_id(line, len);
	CHECK(want ? json_equal(want, id) : json_is_null(id));
	json_decref(want);
	json_decref(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rpc_counters c = { 0 };
	const char *p = (const char *)data, *end = p + size;
	uint64_t lines = 0, errors = 0;

	init_table();
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *reply = rpc_handle_line(&table, p, len, &c), *again;

		check_reply(p, len, reply);
		again = rpc_handle_line(&table, p, len, &c);
		CHECK(again && strcmp(reply, again) == 0);
		free(reply);
		free(again);
		lines += 2;
		p += len + 1;
	}
	for (unsigned i = 0; i < RPC_E_COUNT; i++)
		errors += c.errors[i];
	CHECK(c.requests == lines);
	CHECK(c.ok + errors == lines);
	return 0;
}
