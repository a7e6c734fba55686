/* COUNTERS snapshots: build (the fast path), check (siphond). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "siphon/flagset.h"
#include "siphon/gen_counters.h"
#include "siphon/limits.h"

const struct gen_counters_limits gen_counters_any = { SIPHON_MAX_FLAGS, TABLES_MAX_RULES,
						      TABLES_MAX_NODES };

static const char *const kind_names[] = {
	"none",
#define X(id, name, help) name,
	GEN_COUNTER_KINDS(X)
#undef X
};

const char *gen_counter_kind_name(unsigned kind)
{
	return kind < GEN_COUNTER__COUNT ? kind_names[kind] : "?";
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* group.counter, each part non-empty of [a-z0-9_], NUL-terminated inside
 * the field and zeros after it (so equal names are equal bytes). */
static bool good_name(const char n[GEN_COUNTERS_NAME_MAX])
{
	size_t len = strnlen(n, GEN_COUNTERS_NAME_MAX), dots = 0;
	const char *dot = memchr(n, '.', len);

	if (len == GEN_COUNTERS_NAME_MAX || !dot || dot == n || (size_t)(dot - n) == len - 1)
		return false;
	for (size_t i = 0; i < len; i++) {
		dots += n[i] == '.';
		if (n[i] != '.' && !name_char(n[i]))
			return false;
	}
	for (size_t i = len; i < GEN_COUNTERS_NAME_MAX; i++)
		if (n[i])
			return false;
	return dots == 1;
}

static uint32_t kind_limit(const struct gen_counters_limits *lim, unsigned kind)
{
	switch (kind) {
	case GEN_COUNTER_FLAG:
	case GEN_COUNTER_KERNEL_FLAG:
		return lim->n_flags;
	case GEN_COUNTER_RULE:
	case GEN_COUNTER_KERNEL_RULE:
		return lim->n_rules;
	case GEN_COUNTER_NODE_MSG:
	case GEN_COUNTER_KERNEL_NODE_MSG:
		return lim->n_nodes * GEN_NODE_MSG_SLOTS;
	default:
		return lim->n_nodes;
	}
}

int gen_counters_check(const void *p, size_t len, const struct gen_counters_limits *lim,
		       char *err, size_t errlen)
{
	const struct gen_wire_counters *h = p;
	const struct gen_wire_named *nm;
	const struct gen_wire_indexed *ix;

	/* the version first, alone: a siphon of another build is told so */
	if (len >= sizeof(h->version) && h->version != GEN_COUNTERS_VERSION) {
		snprintf(err, errlen, "counters: version %u, this siphond reads version %u only "
			 "(siphon and siphond are of different builds: run the same version of both)",
			 h->version, GEN_COUNTERS_VERSION);
		return -EPROTO;
	}
	if (len < sizeof(*h)) {
		snprintf(err, errlen, "counters: %zu bytes, shorter than the header", len);
		return -EMSGSIZE;
	}
	if (h->lanes & ~(GEN_COUNTERS_LANE_AFXDP | GEN_COUNTERS_LANE_KERNEL) ||
	    h->generation == 0 || h->instance == 0 || h->flags & ~GEN_COUNTERS_FINAL || h->zero) {
		snprintf(err, errlen, "counters: lanes %#x, generation %llu, instance %llu, flags %#x, "
			 "zero %u (want lanes of %#x, a generation, an instance, flags of %#x, 0)",
			 h->lanes, (unsigned long long)h->generation,
			 (unsigned long long)h->instance, h->flags, h->zero,
			 GEN_COUNTERS_LANE_AFXDP | GEN_COUNTERS_LANE_KERNEL, GEN_COUNTERS_FINAL);
		return -EPROTO;
	}
	if (h->n_named > GEN_COUNTERS_MAX_NAMED || h->n_indexed > GEN_COUNTERS_MAX_INDEXED ||
	    len != sizeof(*h) + (size_t)h->n_named * sizeof(*nm) +
			   (size_t)h->n_indexed * sizeof(*ix)) {
		snprintf(err, errlen, "counters: %u named and %u indexed entries do not make %zu "
			 "bytes (at most %u and %u)", h->n_named, h->n_indexed, len,
			 GEN_COUNTERS_MAX_NAMED, GEN_COUNTERS_MAX_INDEXED);
		return -EMSGSIZE;
	}
	nm = gen_counters_named(p);
	for (uint32_t i = 0; i < h->n_named; i++) {
		if (!good_name(nm[i].name)) {
			snprintf(err, errlen, "counters: named entry %u is not group.counter of "
				 "[a-z0-9_] with its NUL", i);
			return -EPROTO;
		}
		if (i && strcmp(nm[i - 1].name, nm[i].name) >= 0) {
			snprintf(err, errlen, "counters: named entry %u (%s) out of order", i,
				 nm[i].name);
			return -EPROTO;
		}
	}
	ix = gen_counters_indexed(p);
	for (uint32_t i = 0; i < h->n_indexed; i++) {
		const struct gen_wire_indexed *e = &ix[i];

		if (e->kind == GEN_COUNTER__NONE || e->kind >= GEN_COUNTER__COUNT || e->zero) {
			snprintf(err, errlen, "counters: indexed entry %u: kind %u, zero %u (want a known "
				 "kind, 0)", i, e->kind, e->zero);
			return -EPROTO;
		}
		if (i && (ix[i - 1].kind > e->kind ||
			  (ix[i - 1].kind == e->kind && ix[i - 1].index >= e->index))) {
			snprintf(err, errlen, "counters: indexed entry %u (%s %u) out of order", i,
				 gen_counter_kind_name(e->kind), e->index);
			return -EPROTO;
		}
		if (e->index >= kind_limit(lim, e->kind)) {
			snprintf(err, errlen, "counters: %s %u, generation %llu has %u",
				 gen_counter_kind_name(e->kind), e->index,
				 (unsigned long long)h->generation, kind_limit(lim, e->kind));
			return -ERANGE;
		}
	}
	return 0;
}

void gen_counters_init(struct gen_counters_builder *b)
{
	memset(b, 0, sizeof(*b));
}

void gen_counters_free(struct gen_counters_builder *b)
{
	free(b->named);
	free(b->indexed);
	gen_counters_init(b);
}

/* Room for one more of n in *a (capacity *cap, elements of size sz). */
static bool grow(void **a, uint32_t n, uint32_t *cap, size_t sz, uint32_t max)
{
	void *m;
	uint32_t c;

	if (n < *cap)
		return true;
	if (n >= max)
		return false;
	c = *cap ? *cap * 2 : 64;
	c = c > max ? max : c;
	m = realloc(*a, (size_t)c * sz);
	if (!m)
		return false;
	*a = m;
	*cap = c;
	return true;
}

void gen_counters_add_named(struct gen_counters_builder *b, const char *group, const char *name,
			    uint64_t value)
{
	struct gen_wire_named e;
	int n;

	memset(&e, 0, sizeof(e));
	n = snprintf(e.name, sizeof(e.name), "%s.%s", group, name);
	if (n < 0 || n >= (int)sizeof(e.name) || !good_name(e.name) ||
	    !grow((void **)&b->named, b->n_named, &b->cap_named, sizeof(e), GEN_COUNTERS_MAX_NAMED * 2)) {
		b->failed = true;
		return;
	}
	e.value = value;
	b->named[b->n_named++] = e;
}

void gen_counters_add_indexed(struct gen_counters_builder *b, enum gen_counter_kind kind,
			      uint32_t index, uint64_t value)
{
	if (!value)
		return;
	if (kind == GEN_COUNTER__NONE || kind >= GEN_COUNTER__COUNT ||
	    !grow((void **)&b->indexed, b->n_indexed, &b->cap_indexed, sizeof(*b->indexed),
		  GEN_COUNTERS_MAX_INDEXED * 2)) {
		b->failed = true;
		return;
	}
	b->indexed[b->n_indexed++] = (struct gen_wire_indexed){ .kind = (uint16_t)kind,
								.index = index, .value = value };
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct gen_wire_named *)a)->name,
		      ((const struct gen_wire_named *)b)->name);
}

static int by_kind_index(const void *a, const void *b)
{
	const struct gen_wire_indexed *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

int gen_counters_finish(struct gen_counters_builder *b, const struct gen_counters_head *head,
			void **payload, size_t *len)
{
	struct gen_wire_counters h = { .version = GEN_COUNTERS_VERSION, .lanes = head->lanes,
				       .generation = head->generation, .seq = head->seq,
				       .instance = head->instance, .flags = head->flags };
	uint32_t n = 0, k = 0;
	uint8_t *out;

	*payload = NULL;
	*len = 0;
	if (b->failed)
		return -EINVAL;
	if (b->n_named)
		qsort(b->named, b->n_named, sizeof(*b->named), by_name);
	if (b->n_indexed)
		qsort(b->indexed, b->n_indexed, sizeof(*b->indexed), by_kind_index);
	/* the same name twice (a reason of two lists): one entry, summed */
	for (uint32_t i = 0; i < b->n_named; i++)
		if (n && strcmp(b->named[n - 1].name, b->named[i].name) == 0)
			b->named[n - 1].value += b->named[i].value;
		else
			b->named[n++] = b->named[i];
	for (uint32_t i = 0; i < b->n_indexed; i++)
		if (k && by_kind_index(&b->indexed[k - 1], &b->indexed[i]) == 0)
			b->indexed[k - 1].value += b->indexed[i].value;
		else
			b->indexed[k++] = b->indexed[i];
	b->n_named = n;
	b->n_indexed = k;
	if (n > GEN_COUNTERS_MAX_NAMED || k > GEN_COUNTERS_MAX_INDEXED)
		return -EINVAL;
	h.n_named = n;
	h.n_indexed = k;
	*len = sizeof(h) + (size_t)n * sizeof(*b->named) + (size_t)k * sizeof(*b->indexed);
	out = malloc(*len);
	if (!out) {
		*len = 0;
		return -ENOMEM;
	}
	memcpy(out, &h, sizeof(h));
	if (n)
		memcpy(out + sizeof(h), b->named, (size_t)n * sizeof(*b->named));
	if (k)
		memcpy(out + sizeof(h) + (size_t)n * sizeof(*b->named), b->indexed,
		       (size_t)k * sizeof(*b->indexed));
	*payload = out;
	return 0;
}
