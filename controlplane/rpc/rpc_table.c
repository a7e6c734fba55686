/* The method table: registration, lookup, descriptions, error codes and
 * the counters' JSON form. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rpc.h"

static const char *const code_names[RPC_E_COUNT] = {
#define RPC_ERROR(id, code, doc) [RPC_E_##id] = code,
#include "rpc_errors.def"
#undef RPC_ERROR
};

static const char *const type_names[] = {
	[RPC_STRING] = "string", [RPC_INTEGER] = "integer", [RPC_BOOLEAN] = "boolean",
	[RPC_OBJECT] = "object", [RPC_ARRAY] = "array",     [RPC_ANY] = "any",
};

const char *rpc_code_name(enum rpc_code code)
{
	return (unsigned)code < RPC_E_COUNT ? code_names[code] : NULL;
}

const char *rpc_type_name(enum rpc_type t)
{
	return (unsigned)t < sizeof(type_names) / sizeof(type_names[0]) ? type_names[t] : "?";
}

int rpc_fail(struct rpc_error *err, enum rpc_code code, const char *fmt, ...)
{
	va_list ap;

	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return code == RPC_E_NOT_FOUND ? -ENOENT : code == RPC_E_INTERNAL ? -ENOMEM : -EINVAL;
}

void rpc_table_init(struct rpc_table *t)
{
	memset(t, 0, sizeof(*t));
}

const struct rpc_entry *rpc_table_find(const struct rpc_table *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->entry[i].method->name, name) == 0)
			return &t->entry[i];
	return NULL;
}

int rpc_table_add(struct rpc_table *t, const struct rpc_method *methods, size_t n, void *ctx)
{
	if (n > RPC_METHODS_MAX - t->n)
		return -ENOSPC;
	/* check the whole array first, so that a refused one adds nothing */
	for (size_t i = 0; i < n; i++) {
		if (!methods[i].name || !*methods[i].name || !methods[i].handler)
			return -EINVAL;
		if (rpc_table_find(t, methods[i].name))
			return -EEXIST;
		for (size_t j = 0; j < i; j++)
			if (strcmp(methods[i].name, methods[j].name) == 0)
				return -EEXIST;
	}
	for (size_t i = 0; i < n; i++)
		t->entry[t->n++] = (struct rpc_entry){ &methods[i], ctx };
	return 0;
}

static json_t *param_json(const struct rpc_param *p)
{
	json_t *o = json_pack("{s:s, s:s, s:b, s:s}", "name", p->name, "type",
			      rpc_type_name(p->type), "required", p->required, "doc",
			      p->doc ? p->doc : "");

	if (o && p->ranged &&
	    (json_object_set_new(o, "min", json_integer(p->min)) ||
	     (p->max != RPC_NO_MAX && json_object_set_new(o, "max", json_integer(p->max)))))
		return json_decref(o), NULL;
	return o;
}

json_t *rpc_method_json(const struct rpc_method *m)
{
	json_t *params = json_array();

	for (const struct rpc_param *p = m->params; params && p && p->name; p++)
		if (json_array_append_new(params, param_json(p)))
			return json_decref(params), NULL;
	if (!params)
		return NULL;
	return json_pack("{s:s, s:s, s:o}", "name", m->name, "doc", m->doc ? m->doc : "",
			 "params", params);
}

json_t *rpc_counters_json(const struct rpc_counters *c)
{
	json_t *errors = json_object();

	for (unsigned i = 0; errors && i < RPC_E_COUNT; i++)
		if (json_object_set_new(errors, code_names[i], json_integer((json_int_t)c->errors[i])))
			return json_decref(errors), NULL;
	if (!errors)
		return NULL;
	return json_pack("{s:I, s:I, s:o, s:I, s:I, s:I, s:I, s:I, s:I}",
			 "requests", (json_int_t)c->requests, "ok", (json_int_t)c->ok,
			 "errors", errors, "accepted", (json_int_t)c->accepted,
			 "closed_mid_request", (json_int_t)c->closed_mid_request,
			 "write_failed", (json_int_t)c->write_failed,
			 "accept_failed", (json_int_t)c->accept_failed,
			 "read_failed", (json_int_t)c->read_failed,
			 "handed_over", (json_int_t)c->handed_over);
}
