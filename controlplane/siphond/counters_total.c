/* Continuous counters across generations (counters_total.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "counters_total.h"

struct fp_last {
	char name[64];
	uint64_t instance, generation;
	struct gen_wire_indexed *ix; /* the previous snapshot's, sorted */
	uint32_t n;
};

struct ctotals {
	struct ctot_entry **e;
	size_t n, cap;
	uint32_t *slot; /* hash: index + 1, 0 free */
	size_t nslot;
	bool sorted;
	const struct ctot_entry **view;
	struct gen_names *names[CTOT_NAMES_KEPT];
	unsigned names_next;
	struct fp_last *fp;
	size_t n_fp;
	uint64_t unattributed;
};

static uint32_t fnv(uint32_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

void rule_key(const struct siphon_config *cfg, uint32_t i, char key[CTOT_RULE_KEY_MAX])
{
	const char *text = cfg->rules[i].text;
	uint32_t h = fnv(2166136261u, text, strlen(text));
	unsigned same = 0;

	for (uint32_t k = 0; k < i; k++)
		same += strcmp(cfg->rules[k].text, text) == 0;
	if (same)
		snprintf(key, CTOT_RULE_KEY_MAX, "%08x-%u", h, same + 1);
	else
		snprintf(key, CTOT_RULE_KEY_MAX, "%08x", h);
}

static void names_free(struct gen_names *g)
{
	if (!g)
		return;
	free(g->flag);
	free(g->rule);
	free(g->rule_line);
	free(g->pool);
	free(g->node);
	free(g);
}

struct ctotals *ctotals_new(void)
{
	return calloc(1, sizeof(struct ctotals));
}

void ctotals_free(struct ctotals *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		free(t->e[i]);
	free(t->e);
	free(t->slot);
	free(t->view);
	for (unsigned i = 0; i < CTOT_NAMES_KEPT; i++)
		names_free(t->names[i]);
	for (size_t i = 0; i < t->n_fp; i++)
		free(t->fp[i].ix);
	free(t->fp);
	free(t);
}

int ctotals_note_generation(struct ctotals *t, const struct siphon_config *cfg, uint64_t number)
{
	struct gen_names *g;
	uint32_t nn = cfg->tables.n_nodes;

	if (ctotals_names(t, number))
		return 0;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->number = number;
	g->n_flags = cfg->n_flags;
	g->n_rules = cfg->n_rules;
	g->n_nodes = nn;
	g->flag = calloc(cfg->n_flags + 1, sizeof(*g->flag));
	g->rule = calloc(cfg->n_rules + 1, sizeof(*g->rule));
	g->rule_line = calloc(cfg->n_rules + 1, sizeof(*g->rule_line));
	g->pool = calloc(nn + 1, sizeof(*g->pool));
	g->node = calloc(nn + 1, sizeof(*g->node));
	if (!g->flag || !g->rule || !g->rule_line || !g->pool || !g->node) {
		names_free(g);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < cfg->n_flags; i++)
		snprintf(g->flag[i], sizeof(g->flag[i]), "%s", cfg->flags[i].name);
	for (uint32_t i = 0; i < cfg->n_rules; i++) {
		rule_key(cfg, i, g->rule[i]);
		g->rule_line[i] = cfg->rules[i].line;
	}
	for (uint32_t i = 0; i < nn; i++) {
		const struct pool_node *pn = &cfg->tables.nodes[i];
		const struct cfg_pool *cp = &cfg->pools[pn->pool];

		snprintf(g->pool[i], sizeof(g->pool[i]), "%s", cp->name);
		snprintf(g->node[i], sizeof(g->node[i]), "%s",
			 cp->nodes[i - cfg->tables.pools[pn->pool].first_node].name);
	}
	names_free(t->names[t->names_next]);
	t->names[t->names_next] = g;
	t->names_next = (t->names_next + 1) % CTOT_NAMES_KEPT;
	return 0;
}

const struct gen_names *ctotals_names(const struct ctotals *t, uint64_t number)
{
	for (unsigned i = 0; i < CTOT_NAMES_KEPT; i++)
		if (t->names[i] && t->names[i]->number == number)
			return t->names[i];
	return NULL;
}

uint64_t ctotals_unattributed(const struct ctotals *t)
{
	return t->unattributed;
}

static uint32_t entry_hash(const char *fp, unsigned kind, unsigned sub, const char *a,
			  const char *b)
{
	uint32_t h = fnv(2166136261u, fp, strlen(fp) + 1);
	uint16_t ks[2] = { (uint16_t)kind, (uint16_t)sub };

	h = fnv(h, ks, sizeof(ks));
	h = fnv(h, a, strlen(a) + 1);
	return fnv(h, b, strlen(b) + 1);
}

static bool entry_is(const struct ctot_entry *e, const char *fp, unsigned kind, unsigned sub,
		     const char *a, const char *b)
{
	return e->kind == kind && e->sub == sub && !strcmp(e->a, a) && !strcmp(e->b, b) &&
	       !strcmp(e->fp, fp);
}

static int rehash(struct ctotals *t, size_t nslot)
{
	uint32_t *s = calloc(nslot, sizeof(*s));

	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < t->n; i++) {
		const struct ctot_entry *e = t->e[i];
		size_t k = entry_hash(e->fp, e->kind, e->sub, e->a, e->b) & (nslot - 1);

		while (s[k])
			k = (k + 1) & (nslot - 1);
		s[k] = (uint32_t)i + 1;
	}
	free(t->slot);
	t->slot = s;
	t->nslot = nslot;
	return 0;
}

static struct ctot_entry *entry_find(const struct ctotals *t, const char *fp, unsigned kind,
				     unsigned sub, const char *a, const char *b)
{
	size_t k;

	if (!t->nslot)
		return NULL;
	k = entry_hash(fp, kind, sub, a, b) & (t->nslot - 1);
	for (; t->slot[k]; k = (k + 1) & (t->nslot - 1))
		if (entry_is(t->e[t->slot[k] - 1], fp, kind, sub, a, b))
			return t->e[t->slot[k] - 1];
	return NULL;
}

/* The entry, made (at 0) when missing; NULL: no memory. */
static struct ctot_entry *entry_get(struct ctotals *t, const char *fp, unsigned kind,
				    unsigned sub, const char *a, const char *b)
{
	struct ctot_entry *e = entry_find(t, fp, kind, sub, a, b);
	size_t k;

	if (e)
		return e;
	if ((t->n + 1) * 2 > t->nslot && rehash(t, t->nslot ? t->nslot * 2 : 256))
		return NULL;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 128;
		struct ctot_entry **m = realloc(t->e, cap * sizeof(*m));

		if (!m)
			return NULL;
		t->e = m;
		t->cap = cap;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	snprintf(e->fp, sizeof(e->fp), "%s", fp);
	e->kind = (uint16_t)kind;
	e->sub = (uint16_t)sub;
	snprintf(e->a, sizeof(e->a), "%s", a);
	snprintf(e->b, sizeof(e->b), "%s", b);
	t->e[t->n++] = e;
	k = entry_hash(fp, kind, sub, a, b) & (t->nslot - 1);
	while (t->slot[k])
		k = (k + 1) & (t->nslot - 1);
	t->slot[k] = (uint32_t)t->n;
	t->sorted = false;
	return e;
}

uint64_t ctotals_get(const struct ctotals *t, const char *fp, unsigned kind, unsigned sub,
		     const char *a, const char *b)
{
	const struct ctot_entry *e = entry_find(t, fp, kind, sub, a, b);

	return e ? e->total : 0;
}

static struct fp_last *fp_last_of(struct ctotals *t, const char *name)
{
	struct fp_last *m;

	for (size_t i = 0; i < t->n_fp; i++)
		if (!strcmp(t->fp[i].name, name))
			return &t->fp[i];
	m = realloc(t->fp, (t->n_fp + 1) * sizeof(*m));
	if (!m)
		return NULL;
	t->fp = m;
	m = &t->fp[t->n_fp++];
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", name);
	return m;
}

static uint64_t prev_value(const struct fp_last *l, uint16_t kind, uint32_t index)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct gen_wire_indexed *x = &l->ix[mid];

		if (x->kind < kind || (x->kind == kind && x->index < index))
			lo = mid + 1;
		else if (x->kind == kind && x->index == index)
			return x->value;
		else
			hi = mid;
	}
	return 0;
}

static bool node_kind(unsigned kind)
{
	return kind == GEN_COUNTER_NODE_PACKETS || kind == GEN_COUNTER_KERNEL_NODE_PACKETS ||
	       kind == GEN_COUNTER_KERNEL_NODE_BYTES || kind == GEN_COUNTER_NODE_MSG ||
	       kind == GEN_COUNTER_KERNEL_NODE_MSG;
}

/* The series of index i of kind in g; NULL: beyond g, or no memory. */
static struct ctot_entry *series(struct ctotals *t, const char *fp, const struct gen_names *g,
				 unsigned kind, uint32_t i)
{
	switch (kind) {
	case GEN_COUNTER_FLAG:
	case GEN_COUNTER_KERNEL_FLAG:
		return i < g->n_flags ? entry_get(t, fp, kind, 0, g->flag[i], "") : NULL;
	case GEN_COUNTER_RULE:
	case GEN_COUNTER_KERNEL_RULE:
		return i < g->n_rules ? entry_get(t, fp, kind, 0, g->rule[i], "") : NULL;
	case GEN_COUNTER_NODE_MSG:
	case GEN_COUNTER_KERNEL_NODE_MSG:
		if (i / GEN_NODE_MSG_SLOTS >= g->n_nodes)
			return NULL;
		return entry_get(t, fp, kind, i % GEN_NODE_MSG_SLOTS, g->pool[i / GEN_NODE_MSG_SLOTS],
				 g->node[i / GEN_NODE_MSG_SLOTS]);
	default:
		return node_kind(kind) && i < g->n_nodes ?
			entry_get(t, fp, kind, 0, g->pool[i], g->node[i]) : NULL;
	}
}

/* How many series of kind a generation has (flags, rules or nodes). */
static uint32_t kind_count(const struct gen_names *g, unsigned kind)
{
	switch (kind) {
	case GEN_COUNTER_FLAG:
	case GEN_COUNTER_KERNEL_FLAG:
		return g->n_flags;
	case GEN_COUNTER_RULE:
	case GEN_COUNTER_KERNEL_RULE:
		return g->n_rules;
	default:
		return g->n_nodes;
	}
}

static void sample(struct ctot_entry *e, uint64_t now_ms)
{
	e->s[e->head] = (struct ctot_sample){ now_ms, e->total };
	e->head = (e->head + 1) % CTOT_SAMPLES;
	if (e->ns < CTOT_SAMPLES)
		e->ns++;
}

int ctotals_feed(struct ctotals *t, const char *fp, const void *snap, size_t len, uint64_t now_ms)
{
	const struct gen_wire_counters *h = snap;
	const struct gen_wire_indexed *ix = gen_counters_indexed(snap);
	const struct gen_names *g = ctotals_names(t, h->generation);
	struct fp_last *l = fp_last_of(t, fp);
	bool same;
	struct gen_wire_indexed *copy;
	int rc = 0;

	(void)len;
	if (!l)
		return -ENOMEM;
	same = l->ix && l->instance == h->instance && l->generation == h->generation;
	if (!g) {
		t->unattributed++;
	} else {
		/* every series of the generation, 0 included, so that each shows */
		static const struct {
			unsigned kind;
			uint32_t lane;
		} always[] = {
			{ GEN_COUNTER_FLAG, GEN_COUNTERS_LANE_AFXDP },
			{ GEN_COUNTER_RULE, GEN_COUNTERS_LANE_AFXDP },
			{ GEN_COUNTER_NODE_PACKETS, GEN_COUNTERS_LANE_AFXDP },
			{ GEN_COUNTER_KERNEL_RULE, GEN_COUNTERS_LANE_KERNEL },
			{ GEN_COUNTER_KERNEL_NODE_PACKETS, GEN_COUNTERS_LANE_KERNEL },
			{ GEN_COUNTER_KERNEL_NODE_BYTES, GEN_COUNTERS_LANE_KERNEL },
			{ GEN_COUNTER_KERNEL_FLAG, GEN_COUNTERS_LANE_KERNEL },
		};

		for (size_t k = 0; k < sizeof(always) / sizeof(always[0]); k++) {
			uint32_t n = kind_count(g, always[k].kind);

			if (!(h->lanes & always[k].lane))
				continue;
			for (uint32_t i = 0; i < n; i++)
				if (!series(t, fp, g, always[k].kind, i))
					rc = -ENOMEM;
		}
		for (uint32_t i = 0; i < h->n_indexed; i++) {
			uint64_t prev = same ? prev_value(l, ix[i].kind, ix[i].index) : 0;
			uint64_t delta = ix[i].value >= prev ? ix[i].value - prev : ix[i].value;
			struct ctot_entry *e;

			if (!delta)
				continue;
			e = series(t, fp, g, ix[i].kind, ix[i].index);
			if (e)
				e->total += delta;
			else
				rc = rc ? rc : -ENOMEM;
		}
	}
	/* the rate's samples: every node packet series of this fast path,
	 * those of nodes that left the config too (their rate goes to 0) */
	for (size_t i = 0; i < t->n; i++) {
		struct ctot_entry *e = t->e[i];

		if (((e->kind == GEN_COUNTER_NODE_PACKETS && (h->lanes & GEN_COUNTERS_LANE_AFXDP)) ||
		     (e->kind == GEN_COUNTER_KERNEL_NODE_PACKETS &&
		      (h->lanes & GEN_COUNTERS_LANE_KERNEL))) && !strcmp(e->fp, fp))
			sample(e, now_ms);
	}
	copy = malloc((size_t)h->n_indexed * sizeof(*copy) + 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, ix, (size_t)h->n_indexed * sizeof(*copy));
	free(l->ix);
	l->ix = copy;
	l->n = h->n_indexed;
	l->instance = h->instance;
	l->generation = h->generation;
	return rc;
}

static int by_key(const void *x, const void *y)
{
	const struct ctot_entry *a = *(const struct ctot_entry *const *)x;
	const struct ctot_entry *b = *(const struct ctot_entry *const *)y;
	int c = strcmp(a->fp, b->fp);

	if (c)
		return c;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if ((c = strcmp(a->a, b->a)) || (c = strcmp(a->b, b->b)))
		return c;
	return a->sub < b->sub ? -1 : a->sub > b->sub;
}

size_t ctotals_sorted(struct ctotals *t, const struct ctot_entry *const **out)
{
	if (!t->sorted || !t->view) {
		const struct ctot_entry **v = realloc(t->view, (t->n + 1) * sizeof(*v));

		if (!v) {
			*out = NULL;
			return 0;
		}
		t->view = v;
		for (size_t i = 0; i < t->n; i++)
			v[i] = t->e[i];
		qsort(v, t->n, sizeof(*v), by_key);
		t->sorted = true;
	}
	*out = t->view;
	return t->n;
}

double ctot_entry_rate(const struct ctot_entry *e, uint64_t now_ms)
{
	const struct ctot_sample *newest, *oldest = NULL;

	if (!e->ns)
		return 0;
	newest = &e->s[(e->head + CTOT_SAMPLES - 1) % CTOT_SAMPLES];
	if (newest->t_ms + CTOT_RATE_WINDOW_MS < now_ms)
		return 0; /* no snapshot for a while: nothing seen moving */
	for (unsigned k = e->ns; k-- > 0;) {
		const struct ctot_sample *s = &e->s[(e->head + CTOT_SAMPLES - 1 - k) % CTOT_SAMPLES];

		if (s->t_ms + CTOT_RATE_WINDOW_MS >= newest->t_ms) {
			oldest = s;
			break;
		}
	}
	if (!oldest || newest->t_ms <= oldest->t_ms)
		return 0;
	return (double)(newest->total - oldest->total) * 1000.0 /
	       (double)(newest->t_ms - oldest->t_ms);
}

/* By lookup per fast path seen (a handful), not a walk of every series:
 * pool show and pool.list ask for each node. */
uint64_t ctotals_node(const struct ctotals *t, const char *pool, const char *node,
		      uint64_t now_ms, double *rate)
{
	static const unsigned kinds[] = { GEN_COUNTER_NODE_PACKETS,
					  GEN_COUNTER_KERNEL_NODE_PACKETS };
	uint64_t sum = 0;

	*rate = 0;
	for (size_t f = 0; f < t->n_fp; f++)
		for (size_t k = 0; k < 2; k++) {
			const struct ctot_entry *e = entry_find(t, t->fp[f].name, kinds[k], 0,
								pool, node);

			if (e) {
				sum += e->total;
				*rate += ctot_entry_rate(e, now_ms);
			}
		}
	return sum;
}

void ctotals_node_msg(const struct ctotals *t, const char *pool, const char *node,
		      uint64_t out[2][GEN_NODE_MSG_SLOTS])
{
	static const unsigned kinds[] = { GEN_COUNTER_NODE_MSG, GEN_COUNTER_KERNEL_NODE_MSG };

	memset(out, 0, sizeof(uint64_t) * 2 * GEN_NODE_MSG_SLOTS);
	for (size_t f = 0; f < t->n_fp; f++)
		for (size_t k = 0; k < 2; k++)
			for (unsigned s = 0; s < GEN_NODE_MSG_SLOTS; s++)
				out[k][s] += ctotals_get(t, t->fp[f].name, kinds[k], s, pool, node);
}
