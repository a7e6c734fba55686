/* The `stats` method (docs/rpc.md): what /metrics shows, as JSON for
 * siphonctl stats: per fast path its snapshot's counters by group, and
 * flags, rules, nodes and pools by name with both lanes side by side;
 * per node its health and probe round trips. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "metrics.h"

static json_t *u64(uint64_t v)
{
	return json_integer((json_int_t)v);
}

static uint64_t at(const struct fp_view *v, unsigned kind, uint32_t i)
{
	return v->v[kind] && i < v->n[kind] ? v->v[kind][i] : 0;
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

static json_t *indexed(const struct metrics_src *s, const struct fp_view *v)
{
	const struct siphon_config *cfg = s->cfg;
	json_t *flags = json_object(), *rules = json_array(), *nodes = json_array(),
	       *pools = json_array();

	for (uint32_t i = 0; i < cfg->n_flags; i++)
		json_object_set_new(flags, cfg->flags[i].name, u64(at(v, GEN_COUNTER_FLAG, i)));
	for (uint32_t i = 0; i < cfg->n_rules; i++)
		json_array_append_new(rules, json_pack("{s:i, s:s, s:o, s:o}", "line",
						       cfg->rules[i].line, "rule", cfg->rules[i].text,
						       "afxdp", u64(at(v, GEN_COUNTER_RULE, i)),
						       "kernel", u64(at(v, GEN_COUNTER_KERNEL_RULE, i))));
	for (uint32_t i = 0; i < cfg->tables.n_nodes; i++) {
		const char *pool, *node;

		metrics_node_names(cfg, i, &pool, &node);
		json_array_append_new(nodes, json_pack(
			"{s:s, s:s, s:o, s:o, s:o}", "pool", pool, "node", node, "afxdp_packets",
			u64(at(v, GEN_COUNTER_NODE_PACKETS, i)), "kernel_packets",
			u64(at(v, GEN_COUNTER_KERNEL_NODE_PACKETS, i)), "kernel_bytes",
			u64(at(v, GEN_COUNTER_KERNEL_NODE_BYTES, i))));
	}
	for (uint32_t p = 0; p < cfg->n_pools; p++) {
		const struct pool_table *pt = &cfg->tables.pools[p];
		uint64_t a = 0, k = 0, b = 0;

		for (uint32_t i = pt->first_node; i < pt->first_node + pt->n_nodes; i++) {
			a += at(v, GEN_COUNTER_NODE_PACKETS, i);
			k += at(v, GEN_COUNTER_KERNEL_NODE_PACKETS, i);
			b += at(v, GEN_COUNTER_KERNEL_NODE_BYTES, i);
		}
		json_array_append_new(pools, json_pack("{s:s, s:o, s:o, s:o}", "pool",
						       cfg->pools[p].name, "afxdp_packets", u64(a),
						       "kernel_packets", u64(k), "kernel_bytes", u64(b)));
	}
	return json_pack("{s:o, s:o, s:o, s:o}", "flags", flags, "rules", rules, "nodes", nodes,
			 "pools", pools);
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
	if (c && v->current)
		json_object_update_new(c, indexed(s, v));
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
