/* What a reload would change, for people to see before it happens: flags,
 * rules, pools and nodes by name, and per pool the share of the Call-ID
 * hash space that would go to another node (Maglev slots that move). */
#include <string.h>

#include "siphond.h"

/* Appends s to the array at key `key` of obj (created on first use). */
static int add(json_t *obj, const char *key, json_t *s)
{
	json_t *a = json_object_get(obj, key);

	return s ? json_array_append_new(a, s) : -1;
}

static json_t *added_removed(void)
{
	return json_pack("{s:[], s:[]}", "added", "removed");
}

static bool has_flag(const struct siphon_config *c, const char *name)
{
	for (uint32_t i = 0; i < c->n_flags; i++)
		if (strcmp(c->flags[i].name, name) == 0)
			return true;
	return false;
}

static json_t *flags_diff(const struct siphon_config *a, const struct siphon_config *b)
{
	json_t *o = added_removed();
	int rc = o ? 0 : -1;

	for (uint32_t i = 0; !rc && i < b->n_flags; i++)
		if (!has_flag(a, b->flags[i].name))
			rc = add(o, "added", json_string(b->flags[i].name));
	for (uint32_t i = 0; !rc && i < a->n_flags; i++)
		if (!has_flag(b, a->flags[i].name))
			rc = add(o, "removed", json_string(a->flags[i].name));
	return rc ? json_decref(o), NULL : o;
}

static bool has_rule(const struct siphon_config *c, const char *text)
{
	for (uint32_t i = 0; i < c->n_rules; i++)
		if (strcmp(c->rules[i].text, text) == 0)
			return true;
	return false;
}

/* Rules by their text: added, removed, and whether the order of the ones
 * that stay changed (first match wins, so order is meaning). */
static json_t *rules_diff(const struct siphon_config *a, const struct siphon_config *b)
{
	json_t *o = added_removed();
	int rc = o ? 0 : -1;
	uint32_t i = 0, j = 0;
	bool reordered = false;

	for (uint32_t k = 0; !rc && k < b->n_rules; k++)
		if (!has_rule(a, b->rules[k].text))
			rc = add(o, "added", json_pack("{s:i, s:s}", "line", b->rules[k].line, "rule",
						       b->rules[k].text));
	for (uint32_t k = 0; !rc && k < a->n_rules; k++)
		if (!has_rule(b, a->rules[k].text))
			rc = add(o, "removed", json_pack("{s:i, s:s}", "line", a->rules[k].line,
							 "rule", a->rules[k].text));
	/* the rules in both, in each order: the same sequence? */
	while (!reordered) {
		while (i < a->n_rules && !has_rule(b, a->rules[i].text))
			i++;
		while (j < b->n_rules && !has_rule(a, b->rules[j].text))
			j++;
		if (i == a->n_rules || j == b->n_rules)
			break;
		reordered = strcmp(a->rules[i++].text, b->rules[j++].text) != 0;
	}
	if (!rc)
		rc = json_object_set_new(o, "reordered", json_boolean(reordered));
	return rc ? json_decref(o), NULL : o;
}

static int find_pool(const struct siphon_config *c, const char *name)
{
	for (uint32_t i = 0; i < c->n_pools; i++)
		if (strcmp(c->pools[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int find_node(const struct cfg_pool *p, const char *name)
{
	for (uint32_t i = 0; i < p->n_nodes; i++)
		if (strcmp(p->nodes[i].name, name) == 0)
			return (int)i;
	return -1;
}

static json_t *node_name(const struct cfg_pool *p, const struct cfg_node *n)
{
	return json_sprintf("%s/%s", p->name, n->name);
}

/* Where the node of an old slot went: its new index, -1 when it left. */
static int moved_to(uint16_t slot, const int *map, uint32_t map_n)
{
	if (slot == MAGLEV_NO_NODE)
		return MAGLEV_NO_NODE;
	return slot < map_n ? map[slot] : -1;
}

double maglev_moved_share(const uint16_t *a, uint32_t a_size, const uint16_t *b, uint32_t b_size,
			  const int *map, uint32_t map_n, uint64_t *slots_moved)
{
	/* slot i of a table of size s serves hashes h (high 32 bits) with
	 * (h * s) >> 32 == i: [ceil(i * 2^32 / s), ceil((i + 1) * 2^32 / s)) */
	uint64_t pos = 0, moved = 0, end = 1ull << 32;
	uint32_t i = 0, j = 0;

	*slots_moved = 0;
	for (uint32_t k = 0; a_size == b_size && k < a_size; k++) {
		*slots_moved += moved_to(a[k], map, map_n) != (int)b[k];
	}
	if (a_size == b_size) /* slots map to equal hash ranges: count them */
		return a_size ? (double)*slots_moved / (double)a_size : 0.0;
	if (!a_size || !b_size)
		return 1.0;
	while (pos < end) {
		uint64_t ea = ((((uint64_t)i + 1) << 32) + a_size - 1) / a_size;
		uint64_t eb = ((((uint64_t)j + 1) << 32) + b_size - 1) / b_size;
		uint64_t next = ea < eb ? ea : eb;
		if (moved_to(a[i], map, map_n) != (int)b[j])
			moved += next - pos;
		pos = next;
		i += ea == next;
		j += eb == next;
	}
	return (double)moved / (double)end;
}

/* Per pool in both: nodes added, removed, changed; the Maglev share moved. */
static int pool_diff(json_t *nodes, json_t *maglev, const struct siphon_config *a, uint32_t pa,
		     const struct siphon_config *b, uint32_t pb)
{
	const struct cfg_pool *x = &a->pools[pa], *y = &b->pools[pb];
	const struct maglev_table *ma = &a->tables.pools[pa].maglev, *mb = &b->tables.pools[pb].maglev;
	int map[MAGLEV_MAX_NODES];
	uint64_t slots;
	double share;
	int rc = 0;

	for (uint32_t i = 0; !rc && i < x->n_nodes; i++) {
		const struct cfg_node *n = &x->nodes[i], *m;

		map[i] = find_node(y, n->name);
		if (map[i] < 0) {
			rc = add(nodes, "removed", node_name(x, n));
			continue;
		}
		m = &y->nodes[map[i]];
		if (memcmp(&n->addr, &m->addr, sizeof(n->addr)) || n->port != m->port ||
		    n->weight != m->weight || strcmp(n->id, m->id))
			rc = add(nodes, "changed", node_name(x, n));
	}
	for (uint32_t i = 0; !rc && i < y->n_nodes; i++)
		if (find_node(x, y->nodes[i].name) < 0)
			rc = add(nodes, "added", node_name(y, &y->nodes[i]));
	if (rc)
		return rc;
	share = maglev_moved_share(ma->slots, ma->size, mb->slots, mb->size, map, x->n_nodes,
				   &slots);
	return json_array_append_new(maglev, json_pack("{s:s, s:I, s:I, s:o, s:f}", "pool", x->name, "old_size",
					   (json_int_t)ma->size, "size", (json_int_t)mb->size,
					   "slots_moved",
					   ma->size == mb->size ? json_integer((json_int_t)slots) :
								  json_null(),
					   "share_moved", share));
}

json_t *config_diff(const struct siphon_config *a, const struct siphon_config *b)
{
	json_t *pools = added_removed();
	json_t *nodes = json_pack("{s:[], s:[], s:[]}", "added", "removed", "changed");
	json_t *maglev = json_array();
	int rc = pools && nodes && maglev ? 0 : -1;

	for (uint32_t i = 0; !rc && i < b->n_pools; i++)
		if (find_pool(a, b->pools[i].name) < 0) {
			rc = add(pools, "added", json_string(b->pools[i].name));
			for (uint32_t k = 0; !rc && k < b->pools[i].n_nodes; k++)
				rc = add(nodes, "added", node_name(&b->pools[i], &b->pools[i].nodes[k]));
		}
	for (uint32_t i = 0; !rc && i < a->n_pools; i++) {
		int j = find_pool(b, a->pools[i].name);

		if (j >= 0) {
			rc = pool_diff(nodes, maglev, a, i, b, (uint32_t)j);
			continue;
		}
		rc = add(pools, "removed", json_string(a->pools[i].name));
		for (uint32_t k = 0; !rc && k < a->pools[i].n_nodes; k++)
			rc = add(nodes, "removed", node_name(&a->pools[i], &a->pools[i].nodes[k]));
	}
	if (rc) {
		json_decref(pools);
		json_decref(nodes);
		json_decref(maglev);
		return NULL;
	}
	return json_pack("{s:o, s:o, s:o, s:o, s:o}", "flags", flags_diff(a, b), "rules",
			 rules_diff(a, b), "pools", pools, "nodes", nodes, "maglev", maglev);
}
