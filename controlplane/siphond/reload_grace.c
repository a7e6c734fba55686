/* Grace across a reload or a restart: the new generation keeps, as each
 * pool's `previous` table, where the running (or persisted) generation
 * sends in-dialog traffic, so that dialogs of nodes that stay do not move
 * (docs/siphond.md "What a reload keeps"). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "health_loop.h"

/* The old pool's table `m` through map (old node -> new node). With
 * `dialogs`, a slot takes the old previous table's node where that table
 * is live and the node up: what old dispatch() did for a dialog. */
static uint16_t *through(const struct compiled_tables *ot, const struct pool_table *opt,
			 const struct maglev_table *m, const uint16_t *map, bool dialogs,
			 uint64_t now_s)
{
	uint16_t *out = malloc(((size_t)m->size + 1) * sizeof(*out));
	bool live = dialogs && opt->previous_until > now_s && opt->previous.size;

	if (!out)
		return NULL;
	for (uint32_t s = 0; s < m->size; s++) {
		uint16_t v = m->slots[s];

		/* a previous table of another size maps hashes otherwise:
		 * not composed (its slots are not this table's) */
		if (live && opt->previous.size == m->size) {
			uint16_t pv = opt->previous.slots[s];

			if (pv < opt->n_nodes && ot->nodes[opt->first_node + pv].up)
				v = pv;
		}
		out[s] = v < opt->n_nodes ? map[v] : MAGLEV_NO_NODE;
	}
	return out;
}

static void set_prev(struct hl_pool *hp, struct pool_table *pt, uint16_t *prev, uint32_t size,
		     uint64_t until)
{
	free(hp->prev);
	hp->prev = prev;
	hp->prev_size = size;
	hp->prev_until = until;
	pt->previous = (struct maglev_table){ size, prev };
	pt->previous_until = until;
}

/* One pool: old pool opt of tables ot, its nodes mapped by map. */
static int grace(struct hl_pool *hp, struct pool_table *pt, const struct compiled_tables *ot,
		 const struct pool_table *opt, const uint16_t *map, bool restart, uint64_t now_s,
		 uint32_t grace_s)
{
	uint16_t *cur = through(ot, opt, &opt->maglev, map, false, now_s), *prev;

	if (!cur)
		return -ENOMEM;
	if (opt->maglev.size == pt->maglev.size &&
	    memcmp(cur, pt->maglev.slots, (size_t)pt->maglev.size * sizeof(*cur)) == 0) {
		free(cur);
		/* nothing moves: the running live previous table stays, with its
		 * until (the grace register knows its calls by it). A reload keeps
		 * what carry_over kept (the same nodes: a reload that changes
		 * nothing publishes nothing), else, as a restart, the table mapped
		 * into the new node order (a node removed after its drain: none) */
		if ((!restart && hp->prev) || opt->previous_until <= now_s || !opt->previous.size)
			return 0;
		prev = through(ot, opt, &opt->previous, map, false, now_s);
		if (!prev)
			return -ENOMEM;
		set_prev(hp, pt, prev, opt->previous.size, opt->previous_until);
		return 0;
	}
	free(cur);
	prev = through(ot, opt, &opt->maglev, map, true, now_s);
	if (!prev)
		return -ENOMEM;
	set_prev(hp, pt, prev, opt->maglev.size,
		 health_grace_until(opt->previous_until, now_s, grace_s));
	return 0;
}

int health_set_reload_grace(struct health_set *s, const struct health_set *old,
			    struct siphon_config *cfg, uint64_t now_s)
{
	if (!old || !cfg->tables.grace_s)
		return 0;
	for (uint32_t p = 0; p < s->n_pools; p++) {
		struct hl_pool *hp = &s->pools[p];
		uint32_t o;
		uint16_t *map;
		int rc;

		for (o = 0; o < old->n_pools && strcmp(old->pools[o].cp->name, hp->cp->name); o++)
			;
		if (o == old->n_pools)
			continue;
		const struct cfg_pool *ocp = old->pools[o].cp;

		map = malloc(((size_t)ocp->n_nodes + 1) * sizeof(*map));
		if (!map)
			return -ENOMEM;
		for (uint32_t k = 0; k < ocp->n_nodes; k++) {
			map[k] = MAGLEV_NO_NODE;
			for (uint32_t i = 0; i < hp->cp->n_nodes; i++)
				if (strcmp(ocp->nodes[k].name, hp->cp->nodes[i].name) == 0)
					map[k] = (uint16_t)i;
		}
		rc = grace(hp, &cfg->tables.pools[p], &old->cfg->tables, &old->cfg->tables.pools[o],
			   map, false, now_s, cfg->tables.grace_s);
		free(map);
		if (rc)
			return rc;
	}
	return 0;
}

int health_set_start_grace(struct health_set *s, const struct compiled_tables *was,
			   struct siphon_config *cfg, uint64_t now_s)
{
	if (!cfg->tables.grace_s)
		return 0;
	for (uint32_t p = 0; p < s->n_pools; p++) {
		struct hl_pool *hp = &s->pools[p];
		const struct pool_table *opt;
		uint32_t o;
		uint16_t *map;
		int rc;

		for (o = 0; o < was->n_pools && strcmp(was->pool_names[o], hp->cp->name); o++)
			;
		if (o == was->n_pools)
			continue;
		opt = &was->pools[o];
		map = malloc(((size_t)opt->n_nodes + 1) * sizeof(*map));
		if (!map)
			return -ENOMEM;
		/* a blob names its nodes by id only */
		for (uint32_t k = 0; k < opt->n_nodes; k++) {
			const struct pool_node *on = &was->nodes[opt->first_node + k];

			map[k] = MAGLEV_NO_NODE;
			for (uint32_t i = 0; i < hp->cp->n_nodes; i++)
				if (strlen(hp->cp->nodes[i].id) == on->id_len &&
				    memcmp(hp->cp->nodes[i].id, on->id, on->id_len) == 0)
					map[k] = (uint16_t)i;
		}
		rc = grace(hp, &cfg->tables.pools[p], was, opt, map, true, now_s,
			   cfg->tables.grace_s);
		free(map);
		if (rc)
			return rc;
	}
	return 0;
}
