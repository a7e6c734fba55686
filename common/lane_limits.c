#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>

#include "siphon/lane_limits.h"

/* Depth is bounded by key_bytes (at most 16); child indices are checked. */
static unsigned leaves_below(const struct prefix_table *pt, uint32_t node, unsigned depth)
{
	unsigned n = 0;

	for (unsigned b = 0; b < PREFIX_FANOUT; b++) {
		const struct prefix_entry *e = &pt->nodes[(size_t)node * PREFIX_FANOUT + b];
		if (e->child != 0 && e->child < pt->n_nodes && depth + 1 < pt->key_bytes)
			n += leaves_below(pt, e->child, depth + 1);
		else if (e->value != 0 && e->value < pt->n_values &&
			 !flagset_empty(&pt->values[e->value]))
			n++;
	}
	return n;
}

unsigned prefix_table_leaves(const struct prefix_table *pt)
{
	if (pt->n_nodes == 0 || pt->n_values == 0)
		return 0;
	return leaves_below(pt, 0, 0);
}

int kernel_lane_fits(const struct compiled_tables *t, char *err, size_t errlen)
{
	unsigned long have = 0, max = 0;
	const char *what = NULL;
	uint32_t v4 = 0, v6 = 0;

	for (uint32_t i = 0; i < t->n_self_addrs; i++)
		*(t->self_addrs[i].family == AF_INET ? &v4 : &v6) += 1;
	if (v4 > SIPHON_XDP_MAX_VIPS)
		what = "IPv4 balancer addresses", have = v4, max = SIPHON_XDP_MAX_VIPS;
	else if (v6 > SIPHON_XDP_MAX_VIPS)
		what = "IPv6 balancer addresses", have = v6, max = SIPHON_XDP_MAX_VIPS;
	else if (t->n_ports > SIPHON_XDP_MAX_PORTS)
		what = "SIP ports", have = t->n_ports, max = SIPHON_XDP_MAX_PORTS;
	else if (t->n_pools > SK_MAX_POOLS)
		what = "pools", have = t->n_pools, max = SK_MAX_POOLS;
	else if (t->n_nodes > SK_MAX_NODES)
		what = "nodes", have = t->n_nodes, max = SK_MAX_NODES;
	else if (t->n_rule_terms > SK_MAX_RULE_TERMS)
		what = "route terms", have = t->n_rule_terms, max = SK_MAX_RULE_TERMS;
	else if (t->n_rules > SK_MAX_RULES)
		what = "rules", have = t->n_rules, max = SK_MAX_RULES;
	else if (t->n_expr_terms > SK_MAX_EXPR_TERMS)
		what = "expr terms", have = t->n_expr_terms, max = SK_MAX_EXPR_TERMS;
	for (uint32_t p = 0; !what && p < t->n_pools; p++)
		if (t->pools[p].maglev.size > SK_MAGLEV_MAX)
			what = "Maglev slots in a pool", have = t->pools[p].maglev.size,
			max = SK_MAGLEV_MAX;
	if (!what && (have = prefix_table_leaves(&t->source4)) > SK_MAX_PREFIXES / 2)
		what = "IPv4 source prefix entries", max = SK_MAX_PREFIXES / 2;
	if (!what && (have = prefix_table_leaves(&t->source6)) > SK_MAX_PREFIXES / 2)
		what = "IPv6 source prefix entries", max = SK_MAX_PREFIXES / 2;
	if (!what)
		return 0;
	snprintf(err, errlen,
		 "the XDP kernel lane takes at most %lu %s, the config has %lu (use --io pcap, or "
		 "build bpf/ with larger SK_ limits)", max, what, have);
	return -E2BIG;
}
