/* The last steps of loading: the Hyperscan database of all header-value
 * patterns, the source prefix tables, and pointing the tables at them. */
#include <errno.h>
#include <hs/hs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_load.h"
#include "maglev_build.h"
#include "siphon/node_index.h"

/* Which flag a pattern belongs to, for error messages. */
static const struct cfg_flag *pattern_flag(const struct loader *L, unsigned pattern)
{
	return &L->cfg->flags[L->patterns[pattern].flag];
}

/* One block-mode database of the patterns i with want(i), serialized into
 * *bytes (malloc'd by Hyperscan) and *len; their ids are their indexes in
 * L->patterns. 0 or -errno, with the message in L->err. */
static int compile_some(struct loader *L, unsigned header, char **bytes, size_t *len)
{
	const struct compiled_tables *t = &L->cfg->tables;
	const char *expressions[TABLES_MAX_PATTERNS];
	unsigned flags[TABLES_MAX_PATTERNS], ids[TABLES_MAX_PATTERNS], n = 0;
	hs_compile_error_t *cerr = NULL;
	hs_database_t *db = NULL;
	int err = 0;

	for (unsigned i = 0; i < L->n_patterns; i++) {
		if (header != HS_DB_ALL && t->patterns[i].header != header)
			continue;
		expressions[n] = L->patterns[i].expression;
		flags[n] = L->patterns[i].hs_flags;
		ids[n++] = i;
	}
	if (hs_compile_multi(expressions, flags, ids, n, HS_MODE_BLOCK, NULL, &db, &cerr) !=
	    HS_SUCCESS) {
		int which = cerr && cerr->expression >= 0 ? cerr->expression : 0;
		const struct cfg_flag *f = pattern_flag(L, ids[which]);
		snprintf(L->err->text, sizeof(L->err->text), "%s:%d: flag %s: match \"%s\": %s",
			 f->file, f->line, f->name, expressions[which],
			 cerr ? cerr->message : "Hyperscan failed");
		hs_free_compile_error(cerr);
		return -EINVAL;
	}
	/* The tables carry the database serialized; the fast path only
	 * deserializes it (no regex is compiled there). */
	if (hs_serialize_database(db, bytes, len) != HS_SUCCESS) {
		snprintf(L->err->text, sizeof(L->err->text), "%s: Hyperscan could not serialize the "
			 "pattern database", L->path);
		err = -ENOMEM;
	}
	hs_free_database(db);
	return err;
}

/* The Hyperscan section (struct hs_db_entry in tables.h): the database of
 * every pattern (what decides whether the config is valid, and what
 * classifies a header without a database of its own), then one per header
 * with patterns, then the directory. Should a header's own database not
 * compile, the section is the database of every pattern alone. */
static int compile_patterns(struct loader *L)
{
	struct siphon_config *cfg = L->cfg;
	const struct compiled_tables *t = &cfg->tables;
	char *part[SIP_EXTRA_MAX + 1] = { NULL };
	struct hs_db_entry dir[SIP_EXTRA_MAX + 1];
	uint32_t n = 0, magic = HS_DB_MAGIC;
	size_t len[SIP_EXTRA_MAX + 1], total, off = 0;
	uint8_t *out;
	int err;

	if (L->n_patterns == 0)
		return 0;
	err = compile_some(L, HS_DB_ALL, &part[0], &len[0]);
	if (err)
		return err;
	total = len[0];
	dir[n++] = (struct hs_db_entry){ (uint32_t)len[0], HS_DB_ALL };
	for (unsigned h = 0; h < t->headers.count; h++) {
		bool any = false;

		for (unsigned i = 0; i < L->n_patterns && !any; i++)
			any = t->patterns[i].header == h;
		if (!any)
			continue;
		if (compile_some(L, h, &part[n], &len[n]) != 0) {
			L->err->text[0] = 0;
			n = 1; /* every pattern in one database, as before */
			break;
		}
		total += len[n];
		dir[n] = (struct hs_db_entry){ (uint32_t)len[n], h };
		n++;
	}
	if (n == 1)
		total = len[0];
	out = malloc(total + n * sizeof(dir[0]) + 8);
	if (!out) {
		snprintf(L->err->text, sizeof(L->err->text), "%s: no memory for the pattern databases",
			 L->path);
		err = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < n; i++) {
		memcpy(out + off, part[i], len[i]);
		off += len[i];
	}
	if (n > 1) {
		memcpy(out + off, dir, n * sizeof(dir[0]));
		off += n * sizeof(dir[0]);
		memcpy(out + off, &n, 4);
		memcpy(out + off + 4, &magic, 4);
		off += 8;
	}
	cfg->hs_db = out;
	cfg->tables.hs_db = out;
	cfg->tables.hs_db_len = off;
	cfg->tables.n_patterns = L->n_patterns;
out:
	for (uint32_t i = 0; i < SIP_EXTRA_MAX + 1; i++)
		free(part[i]); /* Hyperscan's default allocator is malloc() */
	return err;
}

/* The literal pre-check (siphon/hs_literal.h): for each header all of
 * whose patterns have required literals, those literals (each distinct
 * once), at most HS_PRECHECK_MAX; other headers are always scanned. */
static int extract_literals(struct loader *L)
{
	struct siphon_config *cfg = L->cfg;
	const struct compiled_tables *t = &cfg->tables;
	struct hs_literal *out;
	uint32_t n = 0;

	if (L->n_patterns == 0)
		return 0;
	out = calloc((size_t)t->headers.count * HS_PRECHECK_MAX + 1, sizeof(*out));
	if (!out) {
		snprintf(L->err->text, sizeof(L->err->text), "%s: out of memory", L->path);
		return -ENOMEM;
	}
	for (unsigned h = 0; h < t->headers.count; h++) {
		struct hs_literal lit[HS_PRECHECK_MAX], *mine = out + n;
		unsigned have = 0, any = 0;
		bool ok = true;

		for (unsigned i = 0; i < L->n_patterns && ok; i++) {
			unsigned got;

			if (t->patterns[i].header != h)
				continue;
			any++;
			got = hs_literal_extract(L->patterns[i].expression, L->patterns[i].hs_flags,
						 (uint16_t)h, lit, HS_PRECHECK_MAX);
			ok = got > 0;
			for (unsigned k = 0; k < got && ok; k++) {
				unsigned j = 0;

				while (j < have && memcmp(&mine[j], &lit[k], sizeof(lit[k])) != 0)
					j++;
				if (j < have)
					continue; /* the same literal twice */
				if (have == HS_PRECHECK_MAX)
					ok = false;
				else
					mine[have++] = lit[k];
			}
		}
		if (ok && any)
			n += have;
		else
			memset(mine, 0, HS_PRECHECK_MAX * sizeof(*mine));
	}
	cfg->literals = out;
	cfg->tables.literals = out;
	cfg->tables.n_literals = n;
	return 0;
}

static int build_prefixes(struct loader *L)
{
	int err = prefix_builder_build(L->b4, &L->cfg->tables.source4);

	if (!err)
		err = prefix_builder_build(L->b6, &L->cfg->tables.source6);
	if (err)
		snprintf(L->err->text, sizeof(L->err->text), "%s: building the source prefix tables: "
			 "%s", L->path, strerror(-err));
	return err;
}

/* A to_self flag with nothing to compare with would silently never match. */
static int check_self(struct loader *L)
{
	const struct compiled_tables *t = &L->cfg->tables;

	for (unsigned i = 0; i < L->cfg->n_flags; i++) {
		const struct cfg_flag *f = &L->cfg->flags[i];
		if (f->kind == FLAG_KIND_TO_SELF && !t->n_self_addrs && !t->n_self_names)
			goto fail;
		if (f->kind == FLAG_KIND_OWN_PROBE_ANSWER && !t->n_control_addrs)
			goto fail;
		continue;
fail:
		snprintf(L->err->text, sizeof(L->err->text), "%s:%d: flag %s: %s needs balancer %s",
			 f->file, f->line, f->name, flag_kind_key(f->kind),
			 f->kind == FLAG_KIND_TO_SELF ? "addresses or names" : "control addresses");
		return -EINVAL;
	}
	return 0;
}

/* nid and address lookups for the fast path: built here, never a scan
 * per message there. */
static int build_node_index(struct loader *L)
{
	struct siphon_config *cfg = L->cfg;
	uint32_t n = node_index_slots(cfg->tables.n_nodes);

	cfg->nid_slots = calloc(n, sizeof(*cfg->nid_slots));
	cfg->addr_slots = calloc(n, sizeof(*cfg->addr_slots));
	if (!cfg->nid_slots || !cfg->addr_slots) {
		snprintf(L->err->text, sizeof(L->err->text), "%s: out of memory for the node index",
			 L->path);
		return -ENOMEM;
	}
	node_index_build(&cfg->tables, n, cfg->nid_slots, cfg->addr_slots);
	cfg->tables.node_index_mask = n - 1;
	cfg->tables.nid_slots = cfg->nid_slots;
	cfg->tables.addr_slots = cfg->addr_slots;
	return 0;
}

/* Nodes in one array, a Maglev table per pool (all nodes up until
 * siphond's health checks say otherwise). */
static int build_pools(struct loader *L)
{
	struct siphon_config *cfg = L->cfg;
	size_t n_nodes = 0, n_slots = 0, node = 0, slot = 0;

	for (uint32_t p = 0; p < cfg->n_pools; p++) {
		n_nodes += cfg->pools[p].n_nodes;
		n_slots += cfg->pools[p].maglev_size;
	}
	if (n_nodes > TABLES_MAX_NODES) {
		snprintf(L->err->text, sizeof(L->err->text), "%s: pools: %zu nodes in all; at most %d",
			 L->path, n_nodes, TABLES_MAX_NODES);
		return -EINVAL;
	}
	cfg->nodes = calloc(n_nodes + 1, sizeof(*cfg->nodes));
	cfg->maglev_slots = calloc(n_slots + 1, sizeof(*cfg->maglev_slots));
	if (!cfg->nodes || !cfg->maglev_slots) {
		snprintf(L->err->text, sizeof(L->err->text), "%s: out of memory for the pools", L->path);
		return -ENOMEM;
	}
	for (uint32_t p = 0; p < cfg->n_pools; p++) {
		const struct cfg_pool *cp = &cfg->pools[p];
		struct pool_table *pt = &cfg->tables.pools[p];
		struct maglev_node *in = calloc(cp->n_nodes + 1, sizeof(*in));
		int err;

		if (!in) {
			snprintf(L->err->text, sizeof(L->err->text), "%s: out of memory", L->path);
			return -ENOMEM;
		}
		pt->mode = cp->mode;
		pt->encap_source4 = cp->encap_source4;
		pt->encap_source6 = cp->encap_source6;
		pt->gue_port = (uint16_t)cp->gue_port;
		pt->first_node = (uint32_t)node;
		pt->n_nodes = cp->n_nodes;
		for (uint32_t i = 0; i < cp->n_nodes; i++, node++) {
			struct pool_node *pn = &cfg->nodes[node];
			pn->addr = cp->nodes[i].addr;
			pn->port = cp->nodes[i].port;
			pn->pool = (uint16_t)p;
			pn->up = true;
			pn->has_mac = cp->nodes[i].has_mac;
			memcpy(pn->mac, cp->nodes[i].mac, 6);
			pn->id_len = (uint8_t)strlen(cp->nodes[i].id);
			memcpy(pn->id, cp->nodes[i].id, pn->id_len);
			/* SRV: a higher priority waits (siphond's health_set_apply too) */
			in[i] = (struct maglev_node){ cp->nodes[i].id,
						      cfg_srv_waits(cp, i) ? 0 : cp->nodes[i].weight, true };
		}
		err = maglev_build(in, cp->n_nodes, cp->maglev_size, cfg->tables.hash_seed,
				   &cfg->maglev_slots[slot]);
		free(in);
		if (err) {
			snprintf(L->err->text, sizeof(L->err->text), "%s:%d: pool %s: building its "
				 "Maglev table: %s", L->path, cp->line, cp->name, strerror(-err));
			return err;
		}
		pt->maglev = (struct maglev_table){ cp->maglev_size, &cfg->maglev_slots[slot] };
		slot += cp->maglev_size;
	}
	cfg->tables.nodes = cfg->nodes;
	cfg->tables.n_nodes = (uint32_t)n_nodes;
	return build_node_index(L);
}

int compile_tables(struct loader *L)
{
	struct siphon_config *cfg = L->cfg;
	int err = check_self(L);

	if (!err)
		err = compile_patterns(L);
	if (!err)
		err = extract_literals(L);
	if (!err)
		err = build_prefixes(L);
	if (!err)
		err = build_pools(L);
	if (err)
		return err;
	/* the builders own the prefix arrays now held by the tables */
	cfg->prefixes4 = L->b4;
	cfg->prefixes6 = L->b6;
	L->b4 = L->b6 = NULL;
	cfg->tables.expr_terms = cfg->expr_terms;
	cfg->tables.n_expr_terms = L->n_expr_terms;
	cfg->tables.rule_terms = cfg->rule_terms;
	cfg->tables.n_rule_terms = L->n_rule_terms;
	cfg->tables.actions = cfg->actions;
	cfg->tables.n_rules = cfg->n_rules;
	return 0;
}

static void free_builder(struct prefix_builder *b)
{
	if (b) {
		prefix_builder_free(b);
		free(b);
	}
}

void loader_release(struct loader *L)
{
	free_builder(L->b4);
	free_builder(L->b6);
	L->b4 = L->b6 = NULL;
}

void config_free(struct siphon_config *cfg)
{
	if (!cfg)
		return;
	for (uint32_t i = 0; cfg->pools && i <= cfg->n_pools; i++) { /* and a half-loaded one */
		free(cfg->pools[i].nodes);
		free(cfg->pools[i].names);
	}
	free(cfg->pools);
	free(cfg->pool_names);
	free(cfg->rules);
	free(cfg->actions);
	free(cfg->rule_terms);
	free(cfg->expr_terms);
	free(cfg->hs_db);
	free(cfg->literals);
	free(cfg->nodes);
	free(cfg->maglev_slots);
	free(cfg->nid_slots);
	free(cfg->addr_slots);
	free_builder(cfg->prefixes4);
	free_builder(cfg->prefixes6);
	config_source_unref(cfg->src);
	free(cfg);
}
