/* The classifier's builder (docs/prefix-table.md).
 *
 * add only grows the trie's shape (which nodes exist) and records each
 * prefix against the node and entry range it expands over; it never
 * computes flags, so the order of adds cannot matter. build then walks the
 * shape breadth-first, in entry order, which numbers the nodes canonically,
 * and gives every entry the union of its parent entry's value and the
 * prefixes recorded on it. Values are interned as they are first met in
 * that walk, so they come out deduplicated and in a canonical order too. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "prefix_build.h"

struct prefix_rec {
	struct flagset flags;
	uint32_t node;  /* in creation order (the builder's own numbering) */
	uint16_t first; /* first entry covered */
	uint16_t span;  /* entries covered, 1..256 */
};

/* The node whose entries a prefix of length plen expands over: /1../8 in
 * the root, /9../16 one below, and /0 over the whole root too. */
static unsigned prefix_depth(unsigned plen)
{
	return plen == 0 ? 0 : (plen - 1) / PREFIX_STRIDE_BITS;
}

bool prefix_host_bits_clear(const uint8_t *addr, unsigned key_bytes, unsigned plen)
{
	for (unsigned i = 0; i < key_bytes; i++) {
		unsigned keep = plen >= 8 * (i + 1) ? 8 : plen > 8 * i ? plen - 8 * i : 0;
		if (addr[i] & (0xffu >> keep))
			return false;
	}
	return true;
}

int prefix_builder_init(struct prefix_builder *b, unsigned key_bytes)
{
	if (!b || (key_bytes != 4 && key_bytes != 16))
		return -EINVAL;
	memset(b, 0, sizeof(*b));
	b->key_bytes = key_bytes;
	return 0;
}

/* Makes room for need elements, doubling, never past max (need <= max). */
static int grow(void **p, uint32_t *cap, uint32_t need, size_t elem, uint32_t max)
{
	uint32_t n = *cap ? *cap : 16;
	void *q;

	if (need <= *cap)
		return 0;
	for (unsigned i = 0; i < 32 && n < need; i++)
		n = n > max / 2 ? max : n * 2;
	if (n < need)
		return -E2BIG;
	q = realloc(*p, (size_t)n * elem);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

/* Needs capacity for one more node. */
static uint32_t new_node(struct prefix_builder *b)
{
	uint32_t idx = b->n_nodes++;

	memset(&b->child[(size_t)idx * PREFIX_FANOUT], 0, PREFIX_FANOUT * sizeof(*b->child));
	return idx;
}

int prefix_builder_add(struct prefix_builder *b, const uint8_t *addr, unsigned plen,
		       const struct flagset *flags)
{
	unsigned depth, d = 0;
	uint32_t node = 0, missing;
	struct prefix_rec *r;
	int err;

	if (!b || !addr || !flags || (b->key_bytes != 4 && b->key_bytes != 16) ||
	    plen > 8 * b->key_bytes || !prefix_host_bits_clear(addr, b->key_bytes, plen))
		return -EINVAL;
	if (flagset_empty(flags))
		return 0; /* no nodes for a prefix that would change no lookup */
	if (b->n_recs >= PREFIX_MAX_PREFIXES)
		return -E2BIG;
	depth = prefix_depth(plen);

	/* Count what the path lacks before changing anything, so a refusal
	 * leaves the builder as it was. */
	if (b->n_nodes > 0)
		for (; d < depth; d++) {
			uint32_t c = b->child[(size_t)node * PREFIX_FANOUT + addr[d]];
			if (c == 0)
				break;
			node = c;
		}
	missing = (b->n_nodes == 0) + (depth - d);
	if (missing > PREFIX_MAX_NODES - b->n_nodes)
		return -E2BIG;
	err = grow((void **)&b->child, &b->cap_nodes, b->n_nodes + missing,
		   PREFIX_FANOUT * sizeof(*b->child), PREFIX_MAX_NODES);
	if (err)
		return err;
	err = grow((void **)&b->recs, &b->cap_recs, b->n_recs + 1, sizeof(*b->recs),
		   PREFIX_MAX_PREFIXES);
	if (err)
		return err;

	if (b->n_nodes == 0)
		new_node(b); /* the root */
	for (; d < depth; d++) {
		uint32_t c = new_node(b);
		b->child[(size_t)node * PREFIX_FANOUT + addr[d]] = c;
		node = c;
	}
	r = &b->recs[b->n_recs++];
	r->flags = *flags;
	r->node = node;
	r->first = addr[depth];
	r->span = (uint16_t)(1u << (PREFIX_STRIDE_BITS * (depth + 1) - plen));
	return 0;
}

/* Distinct flagsets in first-met order, with an open-addressing index. */
struct interner {
	struct flagset *values;
	uint32_t n, cap;
	uint32_t *slots; /* value index + 1, 0 = free; at most half full */
	uint32_t n_slots;
};

static uint32_t flagset_hash(const struct flagset *f)
{
	uint64_t h = 0x9e3779b97f4a7c15ull;

	for (unsigned i = 0; i < FLAGSET_WORDS; i++) {
		h = (h ^ f->w[i]) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	return (uint32_t)h;
}

/* The free or matching slot for f; one exists because slots stay half empty. */
static uint32_t interner_slot(const struct interner *in, const struct flagset *f)
{
	uint32_t mask = in->n_slots - 1, s = flagset_hash(f) & mask;

	for (uint32_t probe = 0; probe < in->n_slots; probe++) {
		uint32_t v = in->slots[s];
		if (v == 0 || flagset_equal(&in->values[v - 1], f))
			break;
		s = (s + 1) & mask;
	}
	return s;
}

static int interner_resize(struct interner *in, uint32_t n_slots)
{
	uint32_t *old = in->slots;

	in->slots = calloc(n_slots, sizeof(*in->slots));
	if (!in->slots) {
		in->slots = old;
		return -ENOMEM;
	}
	in->n_slots = n_slots;
	for (uint32_t i = 0; i < in->n; i++)
		in->slots[interner_slot(in, &in->values[i])] = i + 1;
	free(old);
	return 0;
}

/* At most n_nodes * 256 + 1 distinct values: 2^24 + 1, so the sizes fit. */
#define INTERN_MAX ((PREFIX_MAX_NODES * PREFIX_FANOUT) + 1u)
_Static_assert(PREFIX_MAX_NODES <= (1u << 24), "node and value counts fit in u32");

static int intern(struct interner *in, const struct flagset *f, uint32_t *idx)
{
	uint32_t s;
	int err;

	if ((uint64_t)(in->n + 1) * 2 > in->n_slots) {
		err = interner_resize(in, in->n_slots ? in->n_slots * 2 : 64);
		if (err)
			return err;
	}
	s = interner_slot(in, f);
	if (in->slots[s] != 0) {
		*idx = in->slots[s] - 1;
		return 0;
	}
	err = grow((void **)&in->values, &in->cap, in->n + 1, sizeof(*in->values), INTERN_MAX);
	if (err)
		return err;
	in->values[in->n] = *f;
	in->slots[s] = in->n + 1;
	*idx = in->n++;
	return 0;
}

/* Records grouped by node (a counting sort): node k's are
 * by_node[start[k] .. start[k + 1]). */
static int group_by_node(const struct prefix_builder *b, uint32_t **start_out,
			 uint32_t **by_node_out)
{
	uint32_t *start = calloc((size_t)b->n_nodes + 1, sizeof(*start));
	uint32_t *fill = calloc((size_t)b->n_nodes + 1, sizeof(*fill));
	uint32_t *by_node = malloc(((size_t)b->n_recs + 1) * sizeof(*by_node));

	if (!start || !fill || !by_node) {
		free(start);
		free(fill);
		free(by_node);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < b->n_recs; i++)
		start[b->recs[i].node + 1]++;
	for (uint32_t k = 0; k < b->n_nodes; k++)
		start[k + 1] += start[k];
	memcpy(fill, start, ((size_t)b->n_nodes + 1) * sizeof(*fill));
	for (uint32_t i = 0; i < b->n_recs; i++)
		by_node[fill[b->recs[i].node]++] = i;
	free(fill);
	*start_out = start;
	*by_node_out = by_node;
	return 0;
}

int prefix_builder_build(struct prefix_builder *b, struct prefix_table *out)
{
	static const struct flagset none;
	struct flagset buf[PREFIX_FANOUT];
	struct interner in = { .n = 0 };
	struct prefix_entry *nodes = NULL;
	uint32_t *order = NULL, *inherit = NULL, *start = NULL, *by_node = NULL;
	uint32_t n, next = 1, empty;
	int err;

	if (!b || !out || (b->key_bytes != 4 && b->key_bytes != 16))
		return -EINVAL;
	if (b->n_nodes == 0) {
		err = grow((void **)&b->child, &b->cap_nodes, 1, PREFIX_FANOUT * sizeof(*b->child),
			   PREFIX_MAX_NODES);
		if (err)
			return err;
		new_node(b);
	}
	n = b->n_nodes;
	err = group_by_node(b, &start, &by_node);
	if (err)
		return err;
	err = -ENOMEM;
	nodes = calloc((size_t)n * PREFIX_FANOUT, sizeof(*nodes));
	order = malloc((size_t)n * sizeof(*order));     /* new index -> builder's index */
	inherit = malloc((size_t)n * sizeof(*inherit)); /* new index -> parent entry's value */
	if (!nodes || !order || !inherit)
		goto fail;
	err = intern(&in, &none, &empty); /* values[0] */
	if (err)
		goto fail;
	order[0] = 0;
	inherit[0] = empty;

	/* Breadth-first: a parent's values are final before its children's.
	 * The shape is a tree of n nodes, so next never passes n. */
	for (uint32_t q = 0; q < next; q++) {
		const uint32_t old = order[q];
		const struct flagset base = in.values[inherit[q]];

		for (unsigned e = 0; e < PREFIX_FANOUT; e++)
			buf[e] = base;
		for (uint32_t k = start[old]; k < start[old + 1]; k++) {
			const struct prefix_rec *r = &b->recs[by_node[k]];
			for (unsigned e = r->first; e < (unsigned)r->first + r->span; e++)
				flagset_or(&buf[e], &r->flags);
		}
		for (unsigned e = 0; e < PREFIX_FANOUT; e++) {
			struct prefix_entry *pe = &nodes[(size_t)q * PREFIX_FANOUT + e];
			uint32_t c = b->child[(size_t)old * PREFIX_FANOUT + e];

			if (e > 0 && flagset_equal(&buf[e], &buf[e - 1]))
				pe->value = pe[-1].value;
			else if ((err = intern(&in, &buf[e], &pe->value)) != 0)
				goto fail;
			if (c == 0)
				continue;
			if (next >= n) {
				err = -EINVAL; /* not a tree: cannot happen */
				goto fail;
			}
			order[next] = c;
			inherit[next] = pe->value;
			pe->child = next++;
		}
	}

	free(b->out_nodes);
	free(b->out_values);
	b->out_nodes = nodes;
	b->out_values = in.values;
	b->out_n_nodes = n;
	b->out_n_values = in.n;
	out->key_bytes = b->key_bytes;
	out->n_nodes = n;
	out->n_values = in.n;
	out->nodes = nodes;
	out->values = in.values;
	nodes = NULL;
	in.values = NULL;
	err = 0;
fail:
	free(in.slots);
	free(in.values);
	free(nodes);
	free(order);
	free(inherit);
	free(start);
	free(by_node);
	return err;
}

void prefix_builder_free(struct prefix_builder *b)
{
	if (!b)
		return;
	free(b->child);
	free(b->recs);
	free(b->out_nodes);
	free(b->out_values);
	memset(b, 0, sizeof(*b));
}

int prefix_parse(const char *text, uint8_t addr[16], unsigned *key_bytes, unsigned *plen)
{
	char host[INET6_ADDRSTRLEN];
	uint8_t a[16] = { 0 };
	const char *slash;
	size_t hlen;
	unsigned kb, len;

	if (!text || !addr || !key_bytes || !plen)
		return -EINVAL;
	slash = strchr(text, '/');
	hlen = slash ? (size_t)(slash - text) : strlen(text);
	if (hlen == 0 || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, text, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET, host, a) == 1)
		kb = 4;
	else if (inet_pton(AF_INET6, host, a) == 1)
		kb = 16;
	else
		return -EINVAL;

	len = 8 * kb;
	if (slash) {
		const char *p = slash + 1;
		size_t n = strnlen(p, 4);

		/* 1 to 3 digits, no sign, no leading zero: "/024" is a typo */
		if (n == 0 || n > 3 || (p[0] == '0' && n > 1))
			return -EINVAL;
		len = 0;
		for (size_t i = 0; i < n; i++) {
			if (p[i] < '0' || p[i] > '9')
				return -EINVAL;
			len = len * 10 + (unsigned)(p[i] - '0');
		}
		if (len > 8 * kb)
			return -EINVAL;
	}
	memcpy(addr, a, sizeof(a));
	*key_bytes = kb;
	*plen = len;
	return prefix_host_bits_clear(a, kb, len) ? 0 : -EDOM;
}
