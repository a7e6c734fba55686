/* What /metrics and `stats` share: siphond's state gathered in one place,
 * and a fast path's snapshot made ready to read by index. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics.h"

void metrics_node_names(const struct siphon_config *cfg, uint32_t i, const char **pool,
			const char **node)
{
	const struct pool_node *pn = &cfg->tables.nodes[i];
	const struct cfg_pool *cp = &cfg->pools[pn->pool];

	*pool = cp->name;
	*node = cp->nodes[i - cfg->tables.pools[pn->pool].first_node].name;
}

int fp_view_open(struct fp_view *v, const struct pub_snapshot *s, const struct metrics_src *src)
{
	memset(v, 0, sizeof(*v));
	v->s = s;
	if (!s->p)
		return 0;
	v->h = s->p;
	v->named = gen_counters_named(s->p);
	/* indices name flags, rules and nodes only in the generation they
	 * were counted in: the running one, whose config siphond has */
	v->current = v->h->generation == src->generation && src->cfg;
	return 0;
}

void fp_view_close(struct fp_view *v)
{
	memset(v, 0, sizeof(*v));
}

void metrics_src_of(const struct siphond *d, struct metrics_src *s, struct pub_snapshot *fp)
{
	*s = (struct metrics_src){
		.cfg = d->cfg,
		.generation = d->cur->number,
		.generation_age_s = difftime(time(NULL), d->cur->made),
		.generation_bytes = d->cur->len,
		.health = d->hl ? d->hl->set : NULL,
		.punts = d->punt ? &d->punt->c : NULL,
		.pub = publisher_counters(d->pub),
		.dc = &d->c,
		.fp = fp,
		.n_fp = publisher_snapshots(d->pub, fp, 2 * PUB_MAX_FASTPATHS),
		.scrapes = metrics_http_scrapes(d),
		.tot = d->tot,
		.dns = d->dns,
	};
}

void metrics_limits(void *ctx, uint64_t generation, struct gen_counters_limits *lim)
{
	const struct siphond *d = ctx;
	const struct gen_names *g;

	if (d->cur && d->cfg && generation == d->cur->number) {
		*lim = (struct gen_counters_limits){ d->cfg->n_flags, d->cfg->n_rules,
						     d->cfg->tables.n_nodes };
		return;
	}
	/* an earlier generation's (its final snapshot comes after the next
	 * one is published) */
	if (d->tot && (g = ctotals_names(d->tot, generation)))
		*lim = (struct gen_counters_limits){ g->n_flags, g->n_rules, g->n_nodes };
}


void metrics_snap(void *ctx, const char *fastpath, const void *snap, size_t len)
{
	struct siphond *d = ctx;

	if (d->tot && ctotals_feed(d->tot, fastpath, snap, len, health_now_ms()))
		siphond_log("fast path %s: counters: out of memory for the totals", fastpath);
}

void metrics_node_traffic(const struct siphond *d, const char *pool, const char *node,
			  uint64_t *forwarded, double *rate)
{
	*rate = 0;
	*forwarded = d->tot ? ctotals_node(d->tot, pool, node, health_now_ms(), rate) : 0;
}

void metrics_traffic_nodes(const struct siphond *d, const char *pool, json_t *nodes,
			   const char *name_key, json_t *owner)
{
	uint64_t sum = 0;
	double rsum = 0;
	size_t i;
	json_t *n;

	json_array_foreach(nodes, i, n) {
		const char *node = json_string_value(json_object_get(n, name_key));
		uint64_t fwd;
		double rate;

		if (!pool || !node)
			continue;
		metrics_node_traffic(d, pool, node, &fwd, &rate);
		json_object_set_new(n, "forwarded", json_integer((json_int_t)fwd));
		json_object_set_new(n, "rate_pps", json_real(rate));
		sum += fwd;
		rsum += rate;
	}
	json_object_set_new(owner, "forwarded", json_integer((json_int_t)sum));
	json_object_set_new(owner, "rate_pps", json_real(rsum));
}

void metrics_traffic_json(const struct siphond *d, json_t *pools)
{
	size_t q;
	json_t *p;

	json_array_foreach(pools, q, p)
		metrics_traffic_nodes(d, json_string_value(json_object_get(p, "name")),
				      json_object_get(p, "nodes"), "name", p);
}

void metrics_generation(struct siphond *d)
{
	if (d->tot && d->cfg && d->cur && ctotals_note_generation(d->tot, d->cfg, d->cur->number))
		siphond_log("generation %llu: out of memory for its counters' names",
			    (unsigned long long)d->cur->number);
}
