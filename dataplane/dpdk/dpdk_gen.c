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

int dpdk_gen_init(struct dpdk_gen *x, unsigned n)
{
	memset(x, 0, sizeof(*x));
	x->n = n;
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

int dpdk_gen_apply(void *ctx, struct gen_generation *g, char *err, size_t errlen)
{
	struct dpdk_gen *x = ctx;
	struct dpdk_gen_state *s, *old;
	unsigned failed;
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
	s = calloc(1, sizeof(*s));
	rc = s ? pipeline_gens_new(&s->pw, x->n, &g->t, NULL, &failed) : -ENOMEM;
	if (rc) {
		snprintf(err, errlen, "lcore worker %u: the generation's classifier: %s", s ? failed : 0,
			 strerror(-rc));
		free(s);
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
