/* Table generations of siphon --io dpdk --siphond (dpdk_gen.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpdk_gen.h"

static const char *const counter_names[] = {
#define X(id, help) #id,
	DPDK_GEN_COUNTERS(X)
#undef X
};

static void state_free(struct dpdk_gen *x, struct dpdk_gen_state *s)
{
	if (!s)
		return;
	pipeline_gens_free(s->pw, x->n);
	if (s->nc) { /* after the workers left the generation: nothing reads its hops */
		neigh_close(s->nc);
		free(s->nc);
	}
	gen_generation_free(s->g);
	free(s);
}

/* s is left by every worker: its final snapshot, then free. */
static void state_retire(struct dpdk_gen *x, struct dpdk_gen_state *s)
{
	if (s && x->retired_fn)
		x->retired_fn(x->retired_ctx, s);
	state_free(x, s);
}

int dpdk_gen_init(struct dpdk_gen *x, unsigned n, const char *kernel_iface)
{
	memset(x, 0, sizeof(*x));
	x->n = n;
	x->kernel_iface = kernel_iface;
	return gen_swap_init(&x->swap, n);
}

int dpdk_gen_start(struct dpdk_gen *x, struct gen_generation *g, struct pipeline_gen **pw)
{
	struct dpdk_gen_state *s = calloc(1, sizeof(*s));

	if (!s) {
		pipeline_gens_free(pw, x->n);
		gen_generation_free(g);
		return -ENOMEM;
	}
	s->g = g;
	s->pw = pw;
	for (unsigned i = 0; i < x->n; i++)
		gen_swap_set(&x->swap, i, pw[i]);
	x->cur = s;
	return 0;
}

/* What g's workers run, off the packet path: with a kernel interface, the
 * next hops of g's nodes first (the kernel resolves them, up to a second),
 * then one pipeline_gen per worker reading them. */
static int prepare(struct dpdk_gen *x, struct gen_generation *g, struct dpdk_gen_state **out,
		   char *err, size_t errlen)
{
	struct dpdk_gen_state *s = calloc(1, sizeof(*s));
	unsigned failed;
	int rc = s ? 0 : -ENOMEM;

	if (!rc && x->kernel_iface) {
		s->nc = calloc(1, sizeof(*s->nc));
		rc = s->nc ? neigh_open(s->nc, &g->t, x->kernel_iface, 1000, err, errlen) : -ENOMEM;
		if (rc) {
			free(s->nc);
			s->nc = NULL;
		}
	}
	if (!rc) {
		rc = pipeline_gens_new(&s->pw, x->n, &g->t, s->nc ? &s->nc->hops : NULL, &failed);
		if (rc)
			snprintf(err, errlen, "lcore worker %u: the generation's classifier: %s", failed,
				 strerror(-rc));
	}
	if (rc == -ENOMEM && !err[0])
		snprintf(err, errlen, "no memory for the generation's state");
	if (!rc && s->nc && neigh_start(s->nc))
		fprintf(stderr, "siphon: generation %llu: the next-hop thread did not start: next "
				"hops stay as resolved now\n", (unsigned long long)g->number);
	if (rc) {
		state_free(x, s);
		return rc;
	}
	*out = s;
	return 0;
}

int dpdk_gen_apply(void *ctx, struct gen_generation *g, char *err, size_t errlen)
{
	struct dpdk_gen *x = ctx;
	struct dpdk_gen_state *s, *old;
	int rc;

	/* a generation replaced earlier whose grace period did not end */
	if (x->retired) {
		if (gen_swap_wait(&x->swap, DPDK_GEN_GRACE_MS)) {
			x->c.swap_refused++;
			snprintf(err, errlen, "a worker has not passed a quiescent state since generation "
					      "%llu was replaced", (unsigned long long)x->retired->g->number);
			return -EBUSY;
		}
		state_retire(x, x->retired);
		x->retired = NULL;
	}
	if (errlen)
		err[0] = 0;
	rc = prepare(x, g, &s, err, errlen);
	if (rc) {
		x->c.swap_refused++;
		return rc;
	}
	s->g = g;
	old = x->cur;
	x->cur = s;
	if (gen_swap_publish(&x->swap, (void *const *)s->pw, DPDK_GEN_GRACE_MS)) {
		x->c.swap_grace_timeouts++;
		fprintf(stderr, "siphon: generation %llu: a worker did not pass a quiescent state in "
				"%u ms; generation %llu is kept until it does\n",
			(unsigned long long)g->number, DPDK_GEN_GRACE_MS,
			(unsigned long long)old->g->number);
		x->retired = old;
	} else {
		state_retire(x, old);
	}
	x->c.swapped++;
	return 0;
}

const struct neigh_ctl *dpdk_gen_neigh(const struct dpdk_gen *x, const struct neigh_ctl *first)
{
	return x->cur && x->cur->nc ? x->cur->nc : first;
}

void dpdk_gen_close(struct dpdk_gen *x)
{
	state_free(x, x->retired);
	state_free(x, x->cur);
	gen_swap_free(&x->swap);
	memset(x, 0, sizeof(*x));
}

const char *dpdk_gen_counter_name(unsigned i)
{
	return i < dpdk_gen_counter_count() ? counter_names[i] : "?";
}

uint64_t dpdk_gen_counter(const struct dpdk_gen *x, unsigned i)
{
	return i < dpdk_gen_counter_count() ? ((const uint64_t *)&x->c)[i] : 0;
}

unsigned dpdk_gen_counter_count(void)
{
	return sizeof(counter_names) / sizeof(counter_names[0]);
}
