/* pool.show (docs/rpc.md): the pools, their nodes' health, and where a
 * node differs from the config file (the RPC's changes, pool_rpc.c). */
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

/* What the RPC changed of the node: ["added" or "replaced", "weight",
 * "draining", "disabled"], and the weight it has when not draining. */
static json_t *changes_json(const struct ovr_node *e, uint32_t *weight)
{
	json_t *a = json_array();

	if (!e)
		return a;
	if (e->added)
		json_array_append_new(a, json_string(e->removed ? "replaced" : "added"));
	if (e->weighted && !e->added)
		json_array_append_new(a, json_string("weight"));
	if (e->drained)
		json_array_append_new(a, json_string("draining"));
	if (e->disabled)
		json_array_append_new(a, json_string("disabled"));
	if (e->drained)
		*weight = e->weighted ? e->weight : e->config_weight;
	return a;
}

static json_t *node_json(const struct hl_pool *p, uint32_t i, const struct overrides *ovr,
			 uint64_t now_ms)
{
	const struct health_node *n = &p->nodes[i];
	const struct cfg_node *cn = &p->cp->nodes[i];
	const struct ovr_node *e = ovr_find(ovr, p->cp->name, cn->name);
	uint32_t weight = n->weight;
	json_t *replies = json_object(), *changes = changes_json(e, &weight), *o;

	for (unsigned c = 1; c <= 6; c++) {
		char key[4] = { (char)('0' + c), 'x', 'x', 0 };

		json_object_set_new(replies, key,
				    json_integer((json_int_t)n->counters[HEALTH_CNT_REPLIES_1XX + c - 1]));
	}
	o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:i, s:b, s:I, s:o, s:I, s:I, s:I, s:I, s:I, s:I, "
		      "s:f, s:f, s:b}",
		      "name", cn->name, "state", siphond_node_state(n, e), "why",
		      health_why_name(n->why), "weight", (json_int_t)weight, "effective_weight",
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
	if (o) {
		json_object_set_new(o, "draining", json_boolean(e && e->drained));
		json_object_set_new(o, "changes", changes);
	} else {
		json_decref(changes);
	}
	if (o && e && e->weighted && e->in_config && !e->added)
		json_object_set_new(o, "config_weight", json_integer(e->config_weight));
	if (o && n->state == HEALTH_INACTIVE && n->why == HEALTH_WHY_RETRY_AFTER)
		json_object_set_new(o, "until_s",
				    json_real((double)(n->until_ms - now_ms) / 1000.0));
	return o;
}

json_t *health_set_json(const struct health_set *s, const char *pool, const struct overrides *ovr,
			uint64_t now_ms)
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
			json_array_append_new(nodes, node_json(p, i, ovr, now_ms));
		o = json_pack("{s:s, s:I, s:I, s:{s:I, s:I, s:i, s:i, s:I}, s:s?, s:I, s:I, s:o}",
			      "name", p->cp->name, "live", (json_int_t)health_set_live(p), "generations",
			      (json_int_t)p->generations, "probe", "interval_ms",
			      (json_int_t)hp->interval_ms, "timeout_ms", (json_int_t)hp->timeout_ms,
			      "down", hp->down, "up", hp->up, "retry_after_max_s",
			      (json_int_t)hp->retry_after_max_s, "fallback",
			      p->cp->fallback >= 0 ? s->pools[p->cp->fallback].cp->name : NULL,
			      "previous_s", (json_int_t)p->prev_until, "retry_after_s",
			      (json_int_t)p->cp->retry_after_s, "nodes", nodes);
		if (o) {
			json_t *removed = json_array();

			/* the config file's nodes the RPC removed */
			for (uint32_t k = 0; k < ovr->n; k++)
				if (ovr->v[k].removed && !ovr->v[k].added &&
				    strcmp(ovr->v[k].pool, p->cp->name) == 0)
					json_array_append_new(removed, json_string(ovr->v[k].node));
			json_object_set_new(o, "removed", removed);
		}
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

	*result = health_set_json(d->hl->set, pool, &d->ovr, health_now_ms());
	if (!*result && pool)
		return rpc_fail(err, RPC_E_NOT_FOUND, "no pool named '%.64s'", pool);
	if (*result)
		dns_pool_show(d, *result); /* each pool's nodes given by name */
	if (*result)
		json_object_set_new(*result, "counters", health_loop_counters_json(d->hl));
	if (*result)
		json_object_set_new(*result, "generation", json_integer((json_int_t)d->cur->number));
	if (*result) /* the traffic each node still gets (a drained one: until 0) */
		metrics_traffic_json(d, json_object_get(*result, "pools"));
	return *result ? 0 : -ENOMEM;
}

static const struct rpc_param show_params[] = {
	{ "pool", RPC_STRING, false, "one pool (default: every pool)" },
	{ NULL },
};

static const struct rpc_method methods[] = {
	{ "pool.show", m_pool_show, show_params,
	  "Pools and their nodes: state (active, trying, inactive, disabled) and why, weight and "
	  "effective weight (oc), probes sent, replies by class, timeouts, ICMP unreachables, the "
	  "last state change, and where a node differs from the config file (added, weight, "
	  "draining, disabled over the RPC; the config's nodes removed); the probe counters." },
};

int health_methods_add(struct siphond *d)
{
	return rpc_table_add(&d->table, methods, sizeof(methods) / sizeof(methods[0]), d);
}
