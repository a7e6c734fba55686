/* The `stats` method (docs/rpc.md): what /metrics shows, as JSON for
 * siphonctl stats: per fast path its snapshot's counters by group, and
 * flags, rules, nodes and pools by name with both lanes side by side;
 * per node its health and probe round trips. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "metrics.h"
#include "siphon/node_msg.h"

static json_t *u64(uint64_t v)
{
	return json_integer((json_int_t)v);
}

/* A series of fast path fp from the totals. */
static uint64_t at(const struct metrics_src *s, const char *fp, unsigned kind, unsigned sub,
		   const char *a, const char *b)
{
	return s->tot ? ctotals_get(s->tot, fp, kind, sub, a, b) : 0;
}

/* {"group": {"counter": n}} of the named entries */
static json_t *groups(const struct fp_view *v)
{
	json_t *o = json_object();

	for (uint32_t k = 0; o && k < v->h->n_named; k++) {
		const char *n = v->named[k].name;
		size_t g = strcspn(n, ".");
		char group[GEN_COUNTERS_NAME_MAX];
		json_t *sub;

		snprintf(group, sizeof(group), "%.*s", (int)g, n);
		sub = json_object_get(o, group);
		if (!sub) {
			sub = json_object();
			json_object_set_new(o, group, sub);
		}
		json_object_set_new(sub, n + g + 1, u64(v->named[k].value));
	}
	return o;
}

/* {"INVITE": n, ...} or {"1xx": n, ...} of one lane's node x message kind */
static json_t *msg_counts(const struct metrics_src *s, const char *fp, unsigned kind,
			  const char *pool, const char *node, bool requests)
{
	json_t *o = json_object();

	for (unsigned k = 0; o && k < GEN_NODE_MSG_SLOTS; k++) {
		bool req;
		const char *name = node_msg_slot_name(k, &req);

		if (req == requests)
			json_object_set_new(o, name, u64(at(s, fp, kind, k, pool, node)));
	}
	return o;
}

static json_t *node_json(const struct metrics_src *s, const char *fp, const char *pool,
			 const char *node, bool removed)
{
	json_t *o = json_pack(
		"{s:s, s:s, s:o, s:o, s:o, s:{s:o, s:o}, s:{s:o, s:o}}", "pool", pool, "node", node,
		"afxdp_packets", u64(at(s, fp, GEN_COUNTER_NODE_PACKETS, 0, pool, node)),
		"kernel_packets", u64(at(s, fp, GEN_COUNTER_KERNEL_NODE_PACKETS, 0, pool, node)),
		"kernel_bytes", u64(at(s, fp, GEN_COUNTER_KERNEL_NODE_BYTES, 0, pool, node)),
		"requests", "afxdp", msg_counts(s, fp, GEN_COUNTER_NODE_MSG, pool, node, true),
		"kernel", msg_counts(s, fp, GEN_COUNTER_KERNEL_NODE_MSG, pool, node, true),
		"responses", "afxdp", msg_counts(s, fp, GEN_COUNTER_NODE_MSG, pool, node, false),
		"kernel", msg_counts(s, fp, GEN_COUNTER_KERNEL_NODE_MSG, pool, node, false));

	if (o && removed)
		json_object_set_new(o, "removed", json_true());
	return o;
}

static bool in_config(const struct siphon_config *cfg, const char *pool, const char *node)
{
	for (uint32_t i = 0; i < cfg->tables.n_nodes; i++) {
		const char *p, *n;

		metrics_node_names(cfg, i, &p, &n);
		if (!strcmp(p, pool) && !strcmp(n, node))
			return true;
	}
	return false;
}

/* The continuous totals of fast path fp: the running config's flags,
 * rules, nodes and pools, then nodes that left the config ("removed"). */
static json_t *indexed(const struct metrics_src *s, const char *fp)
{
	const struct siphon_config *cfg = s->cfg;
	json_t *flags = json_object(), *kflags = json_object(), *rules = json_array(),
	       *nodes = json_array(), *pools = json_array();
	const struct ctot_entry *const *e = NULL;
	size_t n = s->tot ? ctotals_sorted(s->tot, &e) : 0;

	for (uint32_t i = 0; i < cfg->n_flags; i++) {
		const char *name = cfg->flags[i].name;

		json_object_set_new(flags, name, u64(at(s, fp, GEN_COUNTER_FLAG, 0, name, "")));
		json_object_set_new(kflags, name, u64(at(s, fp, GEN_COUNTER_KERNEL_FLAG, 0, name, "")));
	}
	for (uint32_t i = 0; i < cfg->n_rules; i++) {
		char key[CTOT_RULE_KEY_MAX];

		rule_key(cfg, i, key);
		json_array_append_new(rules, json_pack("{s:i, s:s, s:s, s:o, s:o}", "line",
						       cfg->rules[i].line, "key", key, "rule",
						       cfg->rules[i].text, "afxdp",
						       u64(at(s, fp, GEN_COUNTER_RULE, 0, key, "")),
						       "kernel",
						       u64(at(s, fp, GEN_COUNTER_KERNEL_RULE, 0, key, ""))));
	}
	for (uint32_t i = 0; i < cfg->tables.n_nodes; i++) {
		const char *pool, *node;

		metrics_node_names(cfg, i, &pool, &node);
		json_array_append_new(nodes, node_json(s, fp, pool, node, false));
	}
	for (size_t i = 0; i < n; i++)
		if (!strcmp(e[i]->fp, fp) && e[i]->kind == GEN_COUNTER_NODE_PACKETS &&
		    !in_config(cfg, e[i]->a, e[i]->b))
			json_array_append_new(nodes, node_json(s, fp, e[i]->a, e[i]->b, true));
	for (uint32_t p = 0; p < cfg->n_pools; p++) {
		const char *pool = cfg->pools[p].name;
		uint64_t a = 0, k = 0, b = 0;

		for (size_t i = 0; i < n; i++) {
			if (strcmp(e[i]->fp, fp) || strcmp(e[i]->a, pool))
				continue;
			a += e[i]->kind == GEN_COUNTER_NODE_PACKETS ? e[i]->total : 0;
			k += e[i]->kind == GEN_COUNTER_KERNEL_NODE_PACKETS ? e[i]->total : 0;
			b += e[i]->kind == GEN_COUNTER_KERNEL_NODE_BYTES ? e[i]->total : 0;
		}
		json_array_append_new(pools, json_pack("{s:s, s:o, s:o, s:o}", "pool", pool,
						       "afxdp_packets", u64(a), "kernel_packets", u64(k),
						       "kernel_bytes", u64(b)));
	}
	return json_pack("{s:o, s:o, s:o, s:o, s:o}", "flags", flags, "kernel_flags", kflags,
			 "rules", rules, "nodes", nodes, "pools", pools);
}

static json_t *fast_path(const struct metrics_src *s, const struct fp_view *v)
{
	json_t *o = json_pack("{s:s, s:b, s:I, s:I}", "name", v->s->name, "attached",
			      v->s->attached, "generation", (json_int_t)v->s->acked, "refused",
			      (json_int_t)v->s->refused);
	json_t *c;

	if (!o || !v->h) {
		if (o)
			json_object_set_new(o, "counters", json_null());
		return o;
	}
	c = json_pack("{s:I, s:I, s:f, s:b, s:b, s:b, s:o}", "generation",
		      (json_int_t)v->h->generation, "seq", (json_int_t)v->h->seq, "age_s",
		      v->s->age_s, "current", v->current, "afxdp",
		      (v->h->lanes & GEN_COUNTERS_LANE_AFXDP) != 0, "kernel",
		      (v->h->lanes & GEN_COUNTERS_LANE_KERNEL) != 0, "groups", groups(v));
	if (c && s->cfg)
		json_object_update_new(c, indexed(s, v->s->name));
	json_object_set_new(o, "counters", c);
	return o;
}

static json_t *health(const struct metrics_src *s)
{
	json_t *a = json_array();

	for (uint32_t q = 0; a && s->health && q < s->health->n_pools; q++) {
		const struct hl_pool *p = &s->health->pools[q];

		for (uint32_t i = 0; i < p->cp->n_nodes; i++) {
			const struct health_node *n = &p->nodes[i];

			json_array_append_new(a, json_pack(
				"{s:s, s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:f, s:f}", "pool",
				p->cp->name, "node", p->cp->nodes[i].name, "state",
				health_state_name(n->state), "up", health_effective_weight(n) > 0,
				"effective_weight", (json_int_t)health_effective_weight(n),
				"probes_sent", (json_int_t)n->counters[HEALTH_CNT_PROBES_SENT],
				"timeouts", (json_int_t)n->counters[HEALTH_CNT_TIMEOUTS], "rtt_count",
				(json_int_t)n->rtt_count, "rtt_last_ms", (double)n->rtt_last_us / 1000.0,
				"rtt_avg_ms",
				n->rtt_count ? (double)n->rtt_sum_us / 1000.0 / (double)n->rtt_count : 0.0));
		}
	}
	return a;
}

json_t *metrics_stats_json(const struct metrics_src *s)
{
	json_t *fps = json_array(), *r;

	for (size_t i = 0; fps && i < s->n_fp; i++) {
		struct fp_view v;

		if (fp_view_open(&v, &s->fp[i], s)) {
			json_decref(fps);
			return NULL;
		}
		json_array_append_new(fps, fast_path(s, &v));
		fp_view_close(&v);
	}
	r = json_pack("{s:I, s:f, s:o, s:o, s:{s:I, s:I}}", "generation", (json_int_t)s->generation,
		      "age_s", s->generation_age_s, "nodes", health(s), "fast_paths", fps,
		      "snapshots", "received", (json_int_t)(s->pub ? s->pub->counters : 0),
		      "refused", (json_int_t)(s->pub ? s->pub->counters_refused : 0));
	return r;
}

static int m_stats(const json_t *params, void *ctx, json_t **result, struct rpc_error *err)
{
	struct siphond *d = ctx;
	struct pub_snapshot fp[2 * PUB_MAX_FASTPATHS];
	struct metrics_src s;

	(void)params, (void)err;
	metrics_src_of(d, &s, fp);
	*result = metrics_stats_json(&s);
	if (*result)
		json_object_set_new(*result, "metrics", metrics_http_json(d));
	return *result ? 0 : -ENOMEM;
}

static const struct rpc_method methods[] = {
	{ "stats", m_stats, NULL,
	  "Traffic counters of each attached fast path's last snapshot (AF_XDP lane and kernel "
	  "lane): by reason, outcome and group, and per flag, rule, node and pool of the running "
	  "generation; node health and probe round trips; the metrics server (docs/metrics.md)." },
};

int stats_methods_add(struct siphond *d)
{
	return rpc_table_add(&d->table, methods, sizeof(methods) / sizeof(methods[0]), d);
}
