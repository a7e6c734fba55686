/* siphond's RPC methods (docs/rpc.md, docs/siphond.md): state, reload,
 * and fastpath.attach, whose success hands the connection to the
 * publisher; the pool methods are health_rpc.c's and pool_rpc.c's. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dns.h"
#include "metrics.h"
#include "siphon/gen_wire.h"
#include "siphond.h"

static json_t *counters_json(const struct siphond *d)
{
	const struct pub_counters *p = publisher_counters(d->pub);

	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:{s:I, s:I, s:I, s:I, s:I, "
			 "s:I, s:I, s:I, s:I}, s:o}",
			 "reloads", (json_int_t)d->c.reloads, "reloads_rejected",
			 (json_int_t)d->c.reloads_rejected, "reloads_unchanged",
			 (json_int_t)d->c.reloads_unchanged, "dry_runs", (json_int_t)d->c.dry_runs,
			 "persist_failed", (json_int_t)d->c.persist_failed, "pool_changes",
			 (json_int_t)d->c.pool_changes, "pool_changes_refused",
			 (json_int_t)d->c.pool_changes_refused, "overrides_refused",
			 (json_int_t)d->c.overrides_refused, "overrides_dropped",
			 (json_int_t)d->c.overrides_dropped, "fast_paths",
			 "attached", (json_int_t)p->attached, "detached", (json_int_t)p->detached,
			 "refused", (json_int_t)p->refused, "acks", (json_int_t)p->acks,
			 "refusals", (json_int_t)p->refusals, "protocol_errors",
			 (json_int_t)p->protocol_errors, "stalled", (json_int_t)p->stalled,
			 "write_failed", (json_int_t)p->write_failed, "published",
			 (json_int_t)p->published, "rpc", rpc_counters_json(rpc_server_counters(d->rpc)));
}

static int m_state(const json_t *params, void *ctx, json_t **result, struct rpc_error *err)
{
	struct siphond *d = ctx;
	time_t now = time(NULL);

	(void)params, (void)err;
	*result = json_pack("{s:I, s:I, s:I, s:I, s:s, s:s, s:o, s:o, s:o, s:o}", "generation",
			    (json_int_t)d->cur->number, "made", (json_int_t)d->cur->made, "age_s",
			    (json_int_t)(now - d->cur->made), "bytes", (json_int_t)d->cur->len,
			    "config", d->o.config, "state_dir", d->o.state_dir, "pool_changes",
			    ovr_list_json(&d->ovr), "fast_paths", publisher_json(d->pub), "counters",
			    counters_json(d), "punts", punt_json(d));
	if (*result) { /* docs/siphond.md "Events", docs/dns.md */
		json_object_set_new(*result, "events", events_json(d));
		json_object_set_new(*result, "dns", dns_counters_json(d));
	}
	return *result ? 0 : -ENOMEM;
}

static int m_reload(const json_t *params, void *ctx, json_t **result, struct rpc_error *err)
{
	struct siphond *d = ctx;
	bool dry = json_is_true(json_object_get(params, "dry_run"));
	char msg[SIPHOND_ERR_MAX];
	int rc = siphond_reload(d, dry, "rpc", result, msg, sizeof(msg));

	if (rc == -ENOMEM)
		return rpc_fail(err, RPC_E_INTERNAL, "out of memory");
	if (rc)
		return rpc_fail(err, RPC_E_FAILED, "%.480s", msg);
	return 0;
}

/* A printable name of 1 to 63 bytes: it goes into log lines and JSON. */
static bool good_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= PUB_NAME_MAX)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static int m_attach(const json_t *params, void *ctx, json_t **result, struct rpc_error *err)
{
	struct siphond *d = ctx;
	const json_t *name = json_object_get(params, "name");
	json_int_t gen = json_integer_value(json_object_get(params, "generation"));

	if (!good_name(json_string_value(name)) ||
	    json_string_length(name) != strlen(json_string_value(name)))
		return rpc_fail(err, RPC_E_BAD_PARAMS,
				"params.name: 1 to %d printable characters, no spaces",
				PUB_NAME_MAX - 1);
	if (publisher_full(d->pub))
		return rpc_fail(err, RPC_E_FAILED, "%d fast paths are attached already",
				PUB_MAX_FASTPATHS);
	*result = json_pack("{s:I, s:b}", "generation", (json_int_t)d->cur->number, "send",
			    (uint64_t)gen != d->cur->number);
	return *result ? 0 : -ENOMEM;
}

static int attach_take(void *ctx, int fd, const json_t *params, const void *rest, size_t len)
{
	struct siphond *d = ctx;
	const char *name = json_string_value(json_object_get(params, "name"));
	int rc;

	if (fd < 0) {
		/* refused: rest is the error reply; the server closes the connection */
		publisher_count_refused(d->pub);
		siphond_log("fast path %.64s refused at attach: %.*s", name ? name : "(no name)",
			    (int)(len > 600 ? 600 : len), (const char *)rest);
		return 0;
	}
	rc = publisher_attach(d->pub, fd, name,
			      (uint64_t)json_integer_value(json_object_get(params, "generation")),
			      rest, len, d->cur);
	if (rc) {
		publisher_count_refused(d->pub);
		siphond_log("fast path %s refused at attach: %s", name, strerror(-rc));
	}
	return rc;
}

static const struct rpc_param reload_params[] = {
	{ "dry_run", RPC_BOOLEAN, false,
	  "compile and report what would change (flags, rules, pools, nodes, the Maglev share "
	  "that would move); publish nothing" },
	{ NULL },
};

static const struct rpc_param attach_params[] = {
	{ "name", RPC_STRING, true, "the fast path's name, for logs and state" },
	{ "generation", RPC_INTEGER, true, "the generation it runs (0: none)",
	  RPC_RANGE(0, RPC_NO_MAX) },
	{ NULL },
};

static const struct rpc_method methods[] = {
	{ "state", m_state, NULL,
	  "The running generation (number, age, size), the config, the attached fast paths with "
	  "the generation each acknowledged, the counters, and the punts: sockets and answers "
	  "by outcome (docs/answers.md)." },
	{ "reload", m_reload, reload_params,
	  "Compile the config file again and publish it as a new generation (persisted first); a "
	  "config that does not load is rejected with FILE:LINE: reason and the running "
	  "generation stays." },
	{ GEN_WIRE_ATTACH, m_attach, attach_params,
	  "A fast path attaches: after the reply the connection carries the binary publish "
	  "channel (common/siphon/gen_wire.h).", attach_take },
};

int siphond_methods_add(struct siphond *d)
{
	int rc = rpc_table_add(&d->table, methods, sizeof(methods) / sizeof(methods[0]), d);

	if (!rc)
		rc = stats_methods_add(d);
	if (!rc)
		rc = health_methods_add(d);
	return rc ? rc : pool_methods_add(d);
}
