/* One request line in, one reply line out. Every input gets a reply:
 * the checks run in the order of docs/rpc.md and the first that fails
 * answers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc.h"

static bool type_ok(const json_t *v, enum rpc_type t)
{
	switch (t) {
	case RPC_STRING:
		return json_is_string(v);
	case RPC_INTEGER:
		return json_is_integer(v);
	case RPC_BOOLEAN:
		return json_is_boolean(v);
	case RPC_OBJECT:
		return json_is_object(v);
	case RPC_ARRAY:
		return json_is_array(v);
	case RPC_ANY:
		return true;
	}
	return false;
}

/* "a, b, c" into buf, cut at its size. */
static void join_names(char *buf, size_t size, const char *const *names, size_t n)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && used < size; i++) {
		int w = snprintf(buf + used, size - used, "%s%s", i ? ", " : "", names[i]);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

static int range_error(const struct rpc_param *p, json_int_t v, struct rpc_error *err)
{
	if (p->max == RPC_NO_MAX)
		return rpc_fail(err, RPC_E_BAD_PARAMS, "params.%s: %lld is out of range (at least %lld)",
				p->name, (long long)v, (long long)p->min);
	return rpc_fail(err, RPC_E_BAD_PARAMS, "params.%s: %lld is out of range (%lld to %lld)",
			p->name, (long long)v, (long long)p->min, (long long)p->max);
}

/* Every member declared and of its type (and range), the required ones there. */
static int check_params(const struct rpc_method *m, const json_t *params, struct rpc_error *err)
{
	const char *key;
	const json_t *v;

	json_object_foreach ((json_t *)params, key, v) {
		const struct rpc_param *p = m->params;
		const char *known[RPC_METHODS_MAX];
		size_t n = 0;
		char list[256];

		for (; p && p->name && strcmp(p->name, key) != 0; p++)
			if (n < RPC_METHODS_MAX)
				known[n++] = p->name;
		if (p && p->name) {
			if (!type_ok(v, p->type))
				return rpc_fail(err, RPC_E_BAD_PARAMS, "params.%s: expected %s %s", key,
						p->type == RPC_INTEGER || p->type == RPC_OBJECT ||
								p->type == RPC_ARRAY ?
							"an" :
							"a",
						rpc_type_name(p->type));
			if (p->ranged && (json_integer_value(v) < p->min || json_integer_value(v) > p->max))
				return range_error(p, json_integer_value(v), err);
			continue;
		}
		for (; p && p->name; p++)
			if (n < RPC_METHODS_MAX)
				known[n++] = p->name;
		if (!n)
			return rpc_fail(err, RPC_E_BAD_PARAMS, "params.%s: unknown parameter (%s takes none)",
					key, m->name);
		join_names(list, sizeof(list), known, n);
		return rpc_fail(err, RPC_E_BAD_PARAMS, "params.%s: unknown parameter (known: %s)", key,
				list);
	}
	for (const struct rpc_param *p = m->params; p && p->name; p++)
		if (p->required && !json_object_get(params, p->name))
			return rpc_fail(err, RPC_E_BAD_PARAMS, "params.%s: missing (a required %s)",
					p->name, rpc_type_name(p->type));
	return 0;
}

static int unknown_method(const struct rpc_table *t, const char *name, struct rpc_error *err)
{
	const char *names[RPC_METHODS_MAX];
	char list[RPC_MESSAGE_MAX / 2];

	for (size_t i = 0; i < t->n; i++)
		names[i] = t->entry[i].method->name;
	join_names(list, sizeof(list), names, t->n);
	return rpc_fail(err, RPC_E_UNKNOWN_METHOD, "unknown method '%.64s' (known: %s)", name, list);
}

/* Checks the request and runs its method: 0 with *result, or -errno with
 * err. *ran is the method's entry once the method is known. */
static int dispatch(const struct rpc_table *t, const json_t *req, json_t **result,
		    const struct rpc_entry **ran, struct rpc_error *err)
{
	const json_t *method, *params;
	const struct rpc_entry *e;
	const char *key;
	const json_t *v;
	json_t *empty;
	int rc;

	if (!json_is_object(req))
		return rpc_fail(err, RPC_E_BAD_REQUEST, "expected a JSON object");
	json_object_foreach ((json_t *)req, key, v)
		if (strcmp(key, "method") != 0 && strcmp(key, "params") != 0 && strcmp(key, "id") != 0)
			return rpc_fail(err, RPC_E_BAD_REQUEST,
					"unknown member '%.64s' (known: method, params, id)", key);
	v = json_object_get(req, "id");
	if (v && !json_is_integer(v) && !json_is_string(v))
		return rpc_fail(err, RPC_E_BAD_REQUEST, "id: expected an integer or a string");
	method = json_object_get(req, "method");
	if (!method)
		return rpc_fail(err, RPC_E_BAD_REQUEST, "method: missing");
	if (!json_is_string(method))
		return rpc_fail(err, RPC_E_BAD_REQUEST, "method: expected a string");
	e = rpc_table_find(t, json_string_value(method));
	/* a name with a NUL inside is no method's name */
	if (!e || strlen(json_string_value(method)) != json_string_length(method))
		return unknown_method(t, json_string_value(method), err);
	*ran = e;
	params = json_object_get(req, "params");
	if (params && !json_is_object(params) && !json_is_null(params))
		return rpc_fail(err, RPC_E_BAD_PARAMS, "params: expected an object");
	if (!json_is_object(params))
		params = empty = json_object();
	else
		empty = NULL;
	if (!params)
		return rpc_fail(err, RPC_E_INTERNAL, "out of memory");
	rc = check_params(e->method, params, err);
	if (rc == 0) {
		err->code = RPC_E_COUNT; /* "not set" */
		rc = e->method->handler(params, e->ctx, result, err);
		if (rc == 0 && !*result)
			rc = rpc_fail(err, RPC_E_INTERNAL, "%s returned no result", e->method->name);
		else if (rc < 0 && err->code == RPC_E_COUNT)
			rpc_fail(err, RPC_E_INTERNAL, "%s failed: %s", e->method->name, strerror(-rc));
		else if (rc > 0)
			rc = -EINVAL; /* handlers return 0 or -errno; be safe anyway */
	}
	json_decref(empty);
	return rc;
}

/* A JSON string for a message that may hold bytes that are not UTF-8
 * (jansson's parse errors quote the input): those become '?'. */
static json_t *message_string(const char *msg)
{
	char clean[RPC_MESSAGE_MAX];
	json_t *s = json_string(msg);
	size_t i;

	if (s)
		return s;
	for (i = 0; msg[i] && i < sizeof(clean) - 1; i++)
		clean[i] = (unsigned char)msg[i] >= 0x20 && (unsigned char)msg[i] < 0x7f ? msg[i] : '?';
	clean[i] = '\0';
	return json_string(clean);
}

/* The reply as one line; NULL when out of memory or (*too_big) over RPC_REPLY_MAX. */
static char *dump(json_t *reply, bool *too_big)
{
	char *line = reply ? json_dumps(reply, JSON_COMPACT) : NULL;

	json_decref(reply);
	*too_big = line && strlen(line) > RPC_REPLY_MAX;
	if (*too_big) {
		free(line);
		return NULL;
	}
	return line;
}

static char *error_reply(json_t *id, enum rpc_code code, const char *message,
			 struct rpc_counters *c)
{
	bool too_big; /* an id and a message are far below the bound */

	c->errors[code]++;
	return dump(json_pack("{s:O?, s:{s:s, s:o}}", "id", id, "error", "code",
			      rpc_code_name(code), "message", message_string(message)),
		    &too_big);
}

char *rpc_error_line(enum rpc_code code, const char *message, struct rpc_counters *c)
{
	return error_reply(NULL, code, message, c);
}

char *rpc_handle_line(const struct rpc_table *t, const char *line, size_t len,
		      struct rpc_counters *c)
{
	const struct rpc_entry *taken;
	json_t *params;
	bool ok;
	char *out = rpc_handle_line_take(t, line, len, c, &taken, &params, &ok);

	json_decref(params);
	return out;
}

char *rpc_handle_line_take(const struct rpc_table *t, const char *line, size_t len,
			   struct rpc_counters *c, const struct rpc_entry **taken, json_t **params,
			   bool *ok)
{
	const struct rpc_entry *ran = NULL;
	struct rpc_error err;
	json_error_t jerr;
	json_t *req, *result = NULL, *id;
	char *out;
	bool too_big;

	*taken = NULL;
	*params = NULL;
	*ok = false;
	c->requests++;
	if (len && line[len - 1] == '\r')
		len--;
	req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!req) {
		snprintf(err.message, sizeof(err.message), "not JSON: %s (column %d)", jerr.text,
			 jerr.column);
		return error_reply(NULL, RPC_E_PARSE, err.message, c);
	}
	if (dispatch(t, req, &result, &ran, &err) != 0) {
		if (ran && ran->method->take) {
			const json_t *p = json_object_get(req, "params");

			*taken = ran;
			*params = json_is_object(p) ? json_incref((json_t *)p) : NULL;
		}
		/* an id of the wrong type is not echoed */
		id = json_object_get(req, "id");
		out = error_reply(json_is_integer(id) || json_is_string(id) ? id : NULL, err.code,
				  err.message, c);
		json_decref(req);
		return out;
	}
	id = json_object_get(req, "id");
	out = dump(json_pack("{s:O?, s:o}", "id", id, "result", result), &too_big);
	if (too_big)
		out = error_reply(id, RPC_E_INTERNAL, "the reply is larger than 1 MiB", c);
	else if (out)
		c->ok++;
	if (out && !too_big && ran->method->take) {
		json_t *p = json_object_get(req, "params");

		*params = json_is_object(p) ? json_incref(p) : json_object();
		*taken = *params ? ran : NULL;
		*ok = *taken != NULL;
	}
	json_decref(req);
	return out;
}
