/* The health of every node of the running config, and what it makes of
 * the tables: a node out of service is down, the Maglev table is built
 * from effective weights, the table it replaces stays as `previous` for
 * grace_s (after a health change, and after a reload that moves slots),
 * and a pool with no live node sends its rules to its fallback. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "health_loop.h"
#include "maglev_build.h"

void health_set_free(struct health_set *s)
{
	if (!s)
		return;
	for (uint32_t p = 0; s->pools && p < s->n_pools; p++) {
		free(s->pools[p].nodes);
		free(s->pools[p].prev);
	}
	free(s->pools);
	free(s->rule_pool);
	free(s);
}

static const struct hl_pool *old_pool(const struct health_set *old, const char *name)
{
	for (uint32_t p = 0; old && p < old->n_pools; p++)
		if (strcmp(old->pools[p].cp->name, name) == 0)
			return &old->pools[p];
	return NULL;
}

/* The same nodes in the same order: the old previous table still means
 * the same nodes. */
static bool same_nodes(const struct cfg_pool *a, const struct cfg_pool *b)
{
	if (a->n_nodes != b->n_nodes || a->maglev_size != b->maglev_size)
		return false;
	for (uint32_t i = 0; i < a->n_nodes; i++)
		if (strcmp(a->nodes[i].id, b->nodes[i].id) != 0)
			return false;
	return true;
}

static int carry_over(struct hl_pool *np, const struct hl_pool *op)
{
	for (uint32_t i = 0; i < np->cp->n_nodes; i++)
		for (uint32_t k = 0; k < op->cp->n_nodes; k++) {
			if (strcmp(np->cp->nodes[i].name, op->cp->nodes[k].name) != 0)
				continue;
			struct health_node *n = &np->nodes[i];
			const struct health_params *params = n->params;

			*n = op->nodes[k];
			n->params = params;
			if (n->weight != np->cp->nodes[i].weight) {
				n->weight = np->cp->nodes[i].weight;
				n->changed = true;
			}
		}
	if (op->prev && same_nodes(np->cp, op->cp)) {
		np->prev = malloc(op->prev_size * sizeof(*np->prev));
		if (!np->prev)
			return -ENOMEM;
		memcpy(np->prev, op->prev, op->prev_size * sizeof(*np->prev));
		np->prev_size = op->prev_size;
		np->prev_until = op->prev_until;
	}
	np->generations = op->generations;
	return 0;
}

int health_set_new(const struct siphon_config *cfg, const struct health_set *old, uint64_t now_ms,
		   struct health_set **out)
{
	struct health_set *s = calloc(1, sizeof(*s));
	uint32_t first = 0;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->cfg = cfg;
	s->n_pools = cfg->n_pools;
	s->pools = calloc(cfg->n_pools + 1, sizeof(*s->pools));
	s->rule_pool = calloc(cfg->n_rules + 1, sizeof(*s->rule_pool));
	if (!s->pools || !s->rule_pool)
		goto nomem;
	for (uint32_t r = 0; r < cfg->n_rules; r++)
		s->rule_pool[r] = cfg->tables.actions[r].pool;
	for (uint32_t p = 0; p < cfg->n_pools; p++) {
		struct hl_pool *hp = &s->pools[p];
		const struct hl_pool *op;

		hp->cp = &cfg->pools[p];
		hp->first = first;
		first += hp->cp->n_nodes;
		hp->nodes = calloc(hp->cp->n_nodes + 1, sizeof(*hp->nodes));
		if (!hp->nodes)
			goto nomem;
		for (uint32_t i = 0; i < hp->cp->n_nodes; i++)
			health_node_init(&hp->nodes[i], &hp->cp->probe, hp->cp->nodes[i].weight, now_ms);
		hp->sched = (struct health_sched){ .nodes = hp->nodes, .n = hp->cp->n_nodes };
		op = old_pool(old, hp->cp->name);
		if (op && carry_over(hp, op))
			goto nomem;
	}
	*out = s;
	return 0;
nomem:
	health_set_free(s);
	return -ENOMEM;
}

uint32_t health_set_live(const struct hl_pool *p)
{
	uint32_t live = 0;

	for (uint32_t i = 0; i < p->cp->n_nodes; i++)
		live += health_effective_weight(&p->nodes[i]) > 0;
	return live;
}

/* The pool a rule naming `p` sends new calls to: p, or the first pool of
 * its fallback chain with a live node (the loader refused cycles); p when
 * none has one (its 503 answer). */
static uint16_t rule_target(const struct health_set *s, uint16_t p)
{
	for (int q = p; q >= 0 && (uint32_t)q < s->n_pools; q = s->pools[q].cp->fallback)
		if (health_set_live(&s->pools[q]))
			return (uint16_t)q;
	return p;
}

int health_set_apply(struct health_set *s, struct siphon_config *cfg, uint64_t now_s, bool rotate)
{
	for (uint32_t p = 0; p < s->n_pools; p++) {
		struct hl_pool *hp = &s->pools[p];
		struct pool_table *pt = &cfg->tables.pools[p];
		uint32_t size = pt->maglev.size;
		uint16_t *cur = cfg->maglev_slots + (pt->maglev.slots - cfg->maglev_slots);
		uint16_t *next = malloc((size_t)size * sizeof(*next));
		struct maglev_node *in = calloc(hp->cp->n_nodes + 1, sizeof(*in));
		int rc;

		if (!next || !in) {
			free(next);
			free(in);
			return -ENOMEM;
		}
		for (uint32_t i = 0; i < hp->cp->n_nodes; i++) {
			/* SRV: a higher priority waits while a lower one lives (docs/dns.md) */
			uint32_t w = dns_standby(hp, i) ? 0 : health_effective_weight(&hp->nodes[i]);

			cfg->nodes[hp->first + i].up = health_state_takes_calls(hp->nodes[i].state);
			in[i] = (struct maglev_node){ hp->cp->nodes[i].id, w, w > 0 };
		}
		rc = maglev_build(in, hp->cp->n_nodes, size, cfg->tables.hash_seed, next);
		free(in);
		if (rc) {
			free(next);
			return rc;
		}
		if (memcmp(next, cur, (size_t)size * sizeof(*cur)) != 0) {
			if (rotate) {
				/* dialogs of calls on live nodes stay where this table sent them */
				free(hp->prev);
				hp->prev = malloc((size_t)size * sizeof(*hp->prev));
				if (!hp->prev) {
					free(next);
					hp->prev_size = 0, hp->prev_until = 0;
					return -ENOMEM;
				}
				memcpy(hp->prev, cur, (size_t)size * sizeof(*cur));
				hp->prev_size = size;
				hp->prev_until = health_grace_until(hp->prev_until, now_s,
								    cfg->tables.grace_s);
				hp->generations++;
			}
			memcpy(cur, next, (size_t)size * sizeof(*cur));
		}
		free(next);
		if (hp->prev && hp->prev_until > now_s) {
			pt->previous = (struct maglev_table){ hp->prev_size, hp->prev };
			pt->previous_until = hp->prev_until;
		} else {
			pt->previous = (struct maglev_table){ 0, NULL };
			pt->previous_until = 0;
		}
	}
	for (uint32_t r = 0; r < cfg->n_rules; r++)
		if (cfg->actions[r].kind == ACTION_POOL)
			cfg->actions[r].pool = rule_target(s, s->rule_pool[r]);
	return 0;
}

struct health_node *health_set_node(struct health_set *s, uint32_t global, struct hl_pool **pool)
{
	for (uint32_t p = 0; s && p < s->n_pools; p++)
		if (global >= s->pools[p].first && global - s->pools[p].first < s->pools[p].cp->n_nodes) {
			if (pool)
				*pool = &s->pools[p];
			return &s->pools[p].nodes[global - s->pools[p].first];
		}
	return NULL;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

uint64_t health_set_next_ms(const struct health_set *s, uint64_t now_ms)
{
	uint64_t next = UINT64_MAX;

	for (uint32_t p = 0; s && p < s->n_pools; p++)
		for (uint32_t i = 0; i < s->pools[p].cp->n_nodes; i++) {
			const struct health_node *n = &s->pools[p].nodes[i];

			if (n->state == HEALTH_DISABLED)
				continue;
			if (n->why == HEALTH_WHY_RETRY_AFTER && n->state == HEALTH_INACTIVE &&
			    n->until_ms > now_ms)
				next = min_u64(next, n->until_ms);
			else if (n->outstanding)
				next = min_u64(next, n->sent_ms + n->params->timeout_ms);
			else
				next = min_u64(next, n->next_ms);
		}
	return next;
}
