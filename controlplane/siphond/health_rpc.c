/* Pool management over the RPC (docs/rpc.md): pool.show, node.enable,
 * node.disable. An admin change is applied at once: a new generation
 * when it changes the tables. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dns.h"
#include "health_loop.h"
#include "siphond.h"

/* ms of CLOCK_MONOTONIC to wall-clock seconds, for people and scripts */
static double wall_of(uint64_t mono_ms, uint64_t now_ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9 - (double)(now_ms - mono_ms) / 1000.0;
}

static json_t *node_json(const struct hl_pool *p, uint32_t i, uint64_t now_ms)
{
	const struct health_node *n = &p->nodes[i];
	const struct cfg_node *cn = &p->cp->nodes[i];
	json_t *replies = json_object(), *o;

	for (unsigned c = 1; c <= 6; c++) {
		char key[4] = { (char)('0' + c), 'x', 'x', 0 };

		json_object_set_new(replies, key,
				    json_integer((json_int_t)n->counters[HEALTH_CNT_REPLIES_1XX + c - 1]));
	}
	o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:i, s:b, s:I, s:o, s:I, s:I, s:I, s:I, s:I, s:I, "
		      "s:f, s:f, s:b}",
		      "name", cn->name, "state", health_state_name(n->state), "why",
		      health_why_name(n->why), "weight", (json_int_t)n->weight, "effective_weight",
		      (json_int_t)health_effective_weight(n), "oc", n->oc, "takes_calls",
		      health_state_takes_calls(n->state), "probes_sent",
		      (json_int_t)n->counters[HEALTH_CNT_PROBES_SENT], "replies", replies, "timeouts",
		      (json_int_t)n->counters[HEALTH_CNT_TIMEOUTS], "icmp_unreachable",
		      (json_int_t)n->counters[HEALTH_CNT_ICMP], "retry_after",
		      (json_int_t)n->counters[HEALTH_CNT_RETRY_AFTER], "stale",
		      (json_int_t)n->counters[HEALTH_CNT_STALE], "state_changes",
		      (json_int_t)n->counters[HEALTH_CNT_STATE_CHANGES], "failures",
		      (json_int_t)n->failures, "last_change", wall_of(n->last_change_ms, now_ms),
		      "last_change_age_s", (double)(now_ms - n->last_change_ms) / 1000.0,
		      /* differs from the config: only an operator makes that */
		      "admin_disabled", n->state == HEALTH_DISABLED);
	if (o && n->state == HEALTH_INACTIVE && n->why == HEALTH_WHY_RETRY_AFTER)
		json_object_set_new(o, "until_s",
				    json_real((double)(n->until_ms - now_ms) / 1000.0));
	return o;
}

json_t *health_set_json(const struct health_set *s, const char *pool, uint64_t now_ms)
{
	json_t *pools = json_array();

	for (uint32_t q = 0; q < s->n_pools; q++) {
		const struct hl_pool *p = &s->pools[q];
		const struct health_params *hp = &p->cp->probe;
		json_t *nodes, *o;

		if (pool && strcmp(pool, p->cp->name) != 0)
			continue;
		nodes = json_array();
		for (uint32_t i = 0; i < p->cp->n_nodes; i++)
			json_array_append_new(nodes, node_json(p, i, now_ms));
		o = json_pack("{s:s, s:I, s:I, s:{s:I, s:I, s:i, s:i, s:I}, s:s?, s:I, s:I, s:o}",
			      "name", p->cp->name, "live", (json_int_t)health_set_live(p), "generations",
			      (json_int_t)p->generations, "probe", "interval_ms",
			      (json_int_t)hp->interval_ms, "timeout_ms", (json_int_t)hp->timeout_ms,
			      "down", hp->down, "up", hp->up, "retry_after_max_s",
			      (json_int_t)hp->retry_after_max_s, "fallback",
			      p->cp->fallback >= 0 ? s->pools[p->cp->fallback].cp->name : NULL,
			      "previous_s", (json_int_t)p->prev_until, "retry_after_s",
			      (json_int_t)p->cp->retry_after_s, "nodes", nodes);
		json_array_append_new(pools, o);
	}
	if (pool && json_array_size(pools) == 0) {
		json_decref(pools);
		return NULL;
	}
	return json_pack("{s:o}", "pools", pools);
}

static int m_pool_show(const json_t *params, void *ctx, json_t **result, struct rpc_error *err)
{
	struct siphond *d = ctx;
	const char *pool = json_string_value(json_object_get(params, "pool"));

	*result = health_set_json(d->hl->set, pool, health_now_ms());
	if (!*result && pool)
		return rpc_fail(err, RPC_E_NOT_FOUND, "no pool named '%.64s'", pool);
	if (*result)
		dns_pool_show(d, *result); /* each pool's nodes given by name */
	if (*result)
		json_object_set_new(*result, "counters", health_loop_counters_json(d->hl));
	if (*result)
		json_object_set_new(*result, "generation", json_integer((json_int_t)d->cur->number));
	return *result ? 0 : -ENOMEM;
}

static int admin(void *ctx, const json_t *params, bool enable, json_t **result,
		 struct rpc_error *err)
{
	struct siphond *d = ctx;
	const char *pool = json_string_value(json_object_get(params, "pool"));
	const char *node = json_string_value(json_object_get(params, "node"));
	struct health_set *s = d->hl->set;
	uint64_t now = health_now_ms();

	for (uint32_t q = 0; q < s->n_pools; q++) {
		struct hl_pool *p = &s->pools[q];

		if (strcmp(p->cp->name, pool) != 0)
			continue;
		for (uint32_t i = 0; i < p->cp->n_nodes; i++) {
			struct health_node *n = &p->nodes[i];
			enum health_state before = n->state;

			if (strcmp(p->cp->nodes[i].name, node) != 0)
				continue;
			if (enable ? before == HEALTH_DISABLED : before != HEALTH_DISABLED) {
				if (enable)
					health_enable(n, now);
				else
					health_disable(n, now);
				d->hl->c.admin++;
				siphond_log("node %s/%s: %s -> %s (%s by rpc)", pool, node,
					    health_state_name(before), health_state_name(n->state),
					    enable ? "enabled" : "disabled");
				health_loop_changes(d, enable ? "node.enable" : "node.disable");
				events_node_change(d, p, i, before);
			}
			*result = json_pack("{s:s, s:s, s:s, s:s, s:b, s:I}", "pool", pool, "node", node,
					    "state", health_state_name(n->state), "before",
					    health_state_name(before), "changed", n->state != before,
					    "generation", (json_int_t)d->cur->number);
			return *result ? 0 : -ENOMEM;
		}
		return rpc_fail(err, RPC_E_NOT_FOUND, "pool %.64s has no node named '%.64s'", pool,
				node);
	}
	return rpc_fail(err, RPC_E_NOT_FOUND, "no pool named '%.64s'", pool);
}

static int m_enable(const json_t *params, void *ctx, json_t **result, struct rpc_error *err)
{
	return admin(ctx, params, true, result, err);
}

static int m_disable(const json_t *params, void *ctx, json_t **result, struct rpc_error *err)
{
	return admin(ctx, params, false, result, err);
}

static const struct rpc_param show_params[] = {
	{ "pool", RPC_STRING, false, "one pool (default: every pool)" },
	{ NULL },
};

static const struct rpc_param node_params[] = {
	{ "pool", RPC_STRING, true, "the pool's name" },
	{ "node", RPC_STRING, true, "the node's name in that pool" },
	{ NULL },
};

static const struct rpc_method methods[] = {
	{ "pool.show", m_pool_show, show_params,
	  "Pools and their nodes: state (active, trying, inactive, disabled) and why, weight and "
	  "effective weight (oc), probes sent, replies by class, timeouts, ICMP unreachables, the "
	  "last state change, and which nodes an operator disabled; the probe counters." },
	{ "node.enable", m_enable, node_params,
	  "Give a disabled node back to the probes: inactive until `up` answers in a row. "
	  "not_found for an unknown pool or node." },
	{ "node.disable", m_disable, node_params,
	  "Take a node out whatever its probes say (it is no longer probed); a new generation "
	  "without it. not_found for an unknown pool or node." },
};

int health_methods_add(struct siphond *d)
{
	return rpc_table_add(&d->table, methods, sizeof(methods) / sizeof(methods[0]), d);
}
