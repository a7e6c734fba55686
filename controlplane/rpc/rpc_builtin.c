/* The methods every server has: help, version, ping. */
#include <errno.h>

#include "rpc.h"
#include "siphon_version.h"

static int m_help(const json_t *params, void *ctx, json_t **result, struct rpc_error *err)
{
	const struct rpc_table *t = ctx;
	const json_t *name = json_object_get(params, "method");
	json_t *list;

	if (name) {
		const struct rpc_entry *e = rpc_table_find(t, json_string_value(name));

		if (!e)
			return rpc_fail(err, RPC_E_NOT_FOUND, "params.method: no method '%.64s'",
					json_string_value(name));
		*result = rpc_method_json(e->method);
		return *result ? 0 : -ENOMEM;
	}
	list = json_array();
	for (size_t i = 0; list && i < t->n; i++)
		if (json_array_append_new(list, rpc_method_json(t->entry[i].method)))
			return json_decref(list), -ENOMEM;
	*result = list ? json_pack("{s:o}", "methods", list) : NULL;
	return *result ? 0 : -ENOMEM;
}

static int m_version(const json_t *params, void *ctx, json_t **result, struct rpc_error *err)
{
	(void)params, (void)ctx, (void)err;
	*result = json_pack("{s:s}", "version", SIPHON_VERSION);
	return *result ? 0 : -ENOMEM;
}

static int m_ping(const json_t *params, void *ctx, json_t **result, struct rpc_error *err)
{
	(void)params, (void)ctx, (void)err;
	*result = json_string("pong");
	return *result ? 0 : -ENOMEM;
}

static const struct rpc_param help_params[] = {
	{ "method", RPC_STRING, false, "describe only this method" },
	{ NULL },
};

static const struct rpc_method builtin[] = {
	{ "help", m_help, help_params,
	  "Every method with its parameters and doc, in the order of the table; or one method." },
	{ "version", m_version, NULL, "The version of siphon the server was built from." },
	{ "ping", m_ping, NULL, "Answers \"pong\": the server is up and its event loop turns." },
};

int rpc_builtin_add(struct rpc_table *t)
{
	return rpc_table_add(t, builtin, sizeof(builtin) / sizeof(builtin[0]), t);
}
