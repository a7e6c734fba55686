#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "siphon.skel.h"
#include "xdp_gen.h"
#include "xdp_tables.h"

static const char *const counter_names[] = {
#define X(id, help) #id,
	XDP_GEN_COUNTERS(X)
#undef X
};

const char *xdp_gen_counter_name(unsigned i)
{
	return i < xdp_gen_counter_count() ? counter_names[i] : "?";
}

uint64_t xdp_gen_counter(const struct xdp_gen *x, unsigned i)
{
	return i < xdp_gen_counter_count() ? ((const uint64_t *)&x->c)[i] : 0;
}

unsigned xdp_gen_counter_count(void)
{
	return sizeof(counter_names) / sizeof(counter_names[0]);
}

/* The kernel's own grace period from user space: an update of a
 * map-in-map returns only after synchronize_rcu() (kernel/bpf/syscall.c,
 * maybe_wait_bpf_programs), and XDP programs run inside RCU read-side
 * sections (NAPI, softirq). So once it returns, no program run that started
 * before the update is still reading. */
static void grace_open(struct xdp_gen *x)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts);

	x->grace_inner = bpf_map_create(BPF_MAP_TYPE_ARRAY, "sgrace_inner", 4, 4, 1, NULL);
	x->grace_outer = -1;
	if (x->grace_inner < 0)
		return;
	opts.inner_map_fd = x->grace_inner;
	x->grace_outer = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "sgrace", 4, 4, 1, &opts);
}

static void kernel_grace(struct xdp_gen *x)
{
	uint32_t zero = 0;

	if (x->grace_outer >= 0 &&
	    bpf_map_update_elem(x->grace_outer, &zero, &x->grace_inner, BPF_ANY) == 0)
		return;
	/* no map-in-map: a program run lasts microseconds; 50 ms is ample */
	x->c.kernel_grace_sleeps++;
	usleep(50 * 1000);
}

int xdp_gen_init(struct xdp_gen *x, unsigned n)
{
	memset(x, 0, sizeof(*x));
	x->grace_outer = x->grace_inner = -1;
	return gen_swap_init(&x->swap, n);
}

/* The kernel lane's indexed counters of tables t in table half `half` now
 * (NULL: no memory, or no maps: the unit tests). */
static uint64_t *kernel_read(const struct xdp_gen *x, const struct compiled_tables *t,
			     uint32_t half)
{
	struct xdp_counter_fds m;

	if (!x->l || !x->l->skel)
		return NULL;
	xdp_counter_fds_of(&m, x->l->skel);
	return xdp_counters_read_new(&m, t, half);
}

/* s is left by every worker: its final snapshot, then free. */
static void state_retire(struct xdp_gen *x, struct xdp_gen_state *s)
{
	if (s && x->retired_fn)
		x->retired_fn(x->retired_ctx, s);
}

static void state_free(struct xdp_gen_state *s)
{
	if (!s)
		return;
	pipeline_gens_free(s->pw, s->n);
	free(s->kbase);
	free(s->kfinal);
	if (s->nc) {
		neigh_close(s->nc);
		free(s->nc);
	}
	gen_generation_free(s->g);
	free(s);
}

int xdp_gen_start(struct xdp_gen *x, struct xdp_loader *l, struct xsk_worker *w,
		  const char *egress, struct gen_generation *g)
{
	struct xdp_gen_state *s = calloc(1, sizeof(*s));

	if (!s || !(s->pw = calloc(x->swap.n, sizeof(*s->pw)))) {
		free(s);
		return -ENOMEM;
	}
	x->l = l;
	x->w = w;
	x->n = s->n = x->swap.n;
	x->egress = egress;
	s->g = g;
	for (unsigned i = 0; i < x->n; i++) {
		s->pw[i] = pipeline_worker_disown(&w[i].pipe);
		gen_swap_set(&x->swap, i, s->pw[i]);
	}
	x->cur = s;
	/* the loader read the first half's counters before it published */
	s->half = l->first_half;
	s->kbase = l->first_base;
	l->first_base = NULL;
	grace_open(x);
	return 0;
}

int xdp_gen_same_load(const struct compiled_tables *a, const struct compiled_tables *b,
		      char *err, size_t errlen)
{
	const char *what = NULL;

	if (a->n_self_addrs != b->n_self_addrs ||
	    memcmp(a->self_addrs, b->self_addrs, sizeof(a->self_addrs[0]) * a->n_self_addrs))
		what = "the balancer addresses";
	else if (a->n_ports != b->n_ports || memcmp(a->ports, b->ports, sizeof(a->ports[0]) * a->n_ports))
		what = "the SIP ports";
	else if (a->hash_seed != b->hash_seed)
		what = "the hash seed";
	if (!what)
		return 0;
	snprintf(err, errlen, "%s changed: they are load-time settings of the XDP program "
			      "(restart siphon to take them)", what);
	return -EOPNOTSUPP;
}

/* Everything of g the workers and the next hops need, off the packet path. */
static int prepare(struct xdp_gen *x, struct gen_generation *g, struct xdp_gen_state **out,
		   char *err, size_t errlen)
{
	struct xdp_gen_state *s = calloc(1, sizeof(*s));
	unsigned failed;
	int rc;

	if (!s || !(s->nc = calloc(1, sizeof(*s->nc)))) {
		snprintf(err, errlen, "no memory for the generation's state");
		state_free(s);
		return -ENOMEM;
	}
	s->n = x->n;
	rc = neigh_open(s->nc, &g->t, x->egress, 1000, err, errlen);
	if (rc) {
		free(s->nc);
		s->nc = NULL;
		state_free(s);
		return rc;
	}
	rc = pipeline_gens_new(&s->pw, x->n, &g->t, &s->nc->hops, &failed);
	if (rc) {
		snprintf(err, errlen, "queue %u: the generation's classifier: %s", failed, strerror(-rc));
		state_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int xdp_gen_apply(void *ctx, struct gen_generation *g, char *err, size_t errlen)
{
	struct xdp_gen *x = ctx;
	struct xdp_gen_state *s, *old;
	int rc;

	/* a generation replaced earlier whose grace period did not end */
	if (x->retired) {
		if (gen_swap_wait(&x->swap, XDP_GEN_GRACE_MS)) {
			x->c.swap_refused++;
			snprintf(err, errlen, "a worker has not passed a quiescent state since generation "
					      "%llu was replaced", (unsigned long long)x->retired->g->number);
			return -EBUSY;
		}
		state_retire(x, x->retired);
		state_free(x->retired);
		x->retired = NULL;
	}
	rc = xdp_gen_same_load(&x->cur->g->t, &g->t, err, errlen);
	if (!rc)
		rc = prepare(x, g, &s, err, errlen);
	if (rc) {
		x->c.swap_refused++;
		return rc;
	}
	/* the kernel lane: the inactive half's counters (nothing counts into
	 * it), its tables, the switch, then a grace period so that no run
	 * still reads the half the next publication rewrites */
	rc = xdp_counters_next_base(x->l->skel, &g->t, &s->half, &s->kbase, err, errlen);
	if (!rc && x->hops) /* the half's nodes change: no older thread writes them */
		xdp_hops_unbind(x->hops, s->half);
	if (!rc)
		rc = xdp_tables_publish(x->l->skel, &g->t, x->l->egress_ifindex, err, errlen);
	if (rc) {
		state_free(s);
		x->c.swap_refused++;
		return rc;
	}
	if (x->hops) /* until then its packets asked bpf_fib_lookup() */
		xdp_hops_bind(x->hops, s->half, s->nc);
	kernel_grace(x);
	/* no run of the old tables is left: what the kernel counted in their
	 * half is final (the new ones count into the other half) */
	x->cur->kfinal = kernel_read(x, &x->cur->g->t, x->cur->half);
	rc = neigh_start(s->nc);
	if (rc)
		fprintf(stderr, "siphon: generation %llu: the next-hop thread did not start (%s): "
				"next hops stay as resolved now\n", (unsigned long long)g->number,
			strerror(-rc));
	s->g = g;
	old = x->cur;
	x->cur = s;
	if (gen_swap_publish(&x->swap, (void *const *)s->pw, XDP_GEN_GRACE_MS)) {
		x->c.swap_grace_timeouts++;
		fprintf(stderr, "siphon: generation %llu: a worker did not pass a quiescent state in "
				"%u ms; generation %llu is kept until it does\n",
			(unsigned long long)g->number, XDP_GEN_GRACE_MS,
			(unsigned long long)old->g->number);
		x->retired = old;
	} else {
		state_retire(x, old);
		state_free(old);
	}
	x->c.swapped++;
	return 0;
}

const struct compiled_tables *xdp_gen_tables(const struct xdp_gen *x)
{
	return &x->cur->g->t;
}

const struct neigh_ctl *xdp_gen_neigh(const struct xdp_gen *x, const struct neigh_ctl *first)
{
	return x->cur && x->cur->nc ? x->cur->nc : first;
}

void xdp_gen_retire_stopped(struct xdp_gen *x)
{
	state_retire(x, x->retired);
	state_free(x->retired);
	x->retired = NULL;
}

void xdp_gen_close(struct xdp_gen *x)
{
	state_free(x->retired);
	state_free(x->cur);
	if (x->grace_outer >= 0)
		close(x->grace_outer);
	if (x->grace_inner >= 0)
		close(x->grace_inner);
	gen_swap_free(&x->swap);
	memset(x, 0, sizeof(*x));
}
