/* siphon --io dpdk --siphond: the control thread (dpdk_siphond.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "siphon/json_write.h"
#include "counters_snap.h"
#include "dpdk_siphond.h"
#include "siphon_main.h"

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The counters the summary shows for generation st, as a snapshot on the
 * publish channel (docs/metrics.md; the pipeline's lane, as --io pcap's). */
static void send_counters_of(struct dpdk_siphond *s, const struct dpdk_gen_state *st, bool final)
{
	struct pipeline_worker **pw = calloc(s->n, sizeof(*pw));
	struct gen_counters_builder b;

	if (!pw)
		return;
	gen_counters_init(&b);
	for (unsigned i = 0; i < s->n; i++)
		pw[i] = &s->w[i].pipe;
	counters_snap_pipeline(&b, pw, s->n, &st->g->t, (const struct pipeline_gen *const *)st->pw);
	free(pw);
	for (unsigned k = 0; k < dpdk_worker_counter_count(); k++)
		gen_counters_add_named(&b, "dpdk", dpdk_worker_counter_name(k),
				       dpdk_workers_counter(s->w, s->n, k));
	for (unsigned k = 0; k < dpdk_gen_counter_count(); k++)
		gen_counters_add_named(&b, "swap", dpdk_gen_counter_name(k), dpdk_gen_counter(&s->x, k));
	counters_snap_receiver(&b, s->r);
	counters_snap_send_gen(s->r, &b, st->g->number, GEN_COUNTERS_LANE_AFXDP,
			       final ? GEN_COUNTERS_FINAL : 0);
}

/* dpdk_gen_retired_fn: siphond loses nothing a generation counted
 * between the last snapshot and its swap. */
static void send_final(void *ctx, const struct dpdk_gen_state *st)
{
	struct dpdk_siphond *s = ctx;

	if (s->r->fd >= 0)
		send_counters_of(s, st, true);
}

int dpdk_siphond_init(struct dpdk_siphond *s, struct gen_receiver *r, struct gen_generation *g,
		      struct dpdk_worker *w, unsigned n, const char *kernel_iface,
		      volatile sig_atomic_t *stop)
{
	struct pipeline_gen **pw;

	memset(s, 0, sizeof(*s));
	s->r = r;
	s->w = w;
	s->n = n;
	s->stop = stop;
	pw = calloc(n, sizeof(*pw));
	if (!pw || dpdk_gen_init(&s->x, n, kernel_iface)) {
		free(pw);
		gen_generation_free(g);
		gen_swap_free(&s->x.swap);
		fprintf(stderr, "siphon: out of memory for the generation's state\n");
		return -ENOMEM;
	}
	for (unsigned i = 0; i < n; i++) {
		pw[i] = pipeline_worker_disown(&w[i].pipe);
		w[i].gen = pw[i];
		w[i].swap = &s->x.swap;
	}
	if (dpdk_gen_start(&s->x, g, pw)) { /* frees pw and g */
		fprintf(stderr, "siphon: out of memory for the generation's state\n");
		for (unsigned i = 0; i < n; i++)
			w[i].swap = NULL;
		gen_swap_free(&s->x.swap);
		return -ENOMEM;
	}
	s->x.retired_fn = send_final;
	s->x.retired_ctx = s;
	r->apply = dpdk_gen_apply;
	r->ctx = &s->x;
	return 0;
}

static void *control_main(void *arg)
{
	struct dpdk_siphond *s = arg;
	uint64_t last_snap_ms = 0;

	s->r->defer_ack = false; /* the first generation runs: the workers are launched */
	gen_receiver_ack_pending(s->r);
	while (!*s->stop) {
		gen_receiver_tick(s->r, 50);
		if (s->r->fd >= 0 && now_ms() - last_snap_ms >= COUNTERS_SNAP_INTERVAL_MS) {
			send_counters_of(s, s->x.cur, false);
			last_snap_ms = now_ms();
		}
		if (s->tick_fn)
			s->tick_fn(s->tick_ctx);
	}
	return NULL;
}

int dpdk_siphond_start(struct dpdk_siphond *s)
{
	int rc = pthread_create(&s->thread, NULL, control_main, s);

	s->started = rc == 0;
	return -rc;
}

void dpdk_siphond_join(struct dpdk_siphond *s)
{
	if (s->started)
		pthread_join(s->thread, NULL);
	s->started = false;
	/* the workers stopped: siphond's last snapshot is what the exit
	 * summary says (nothing of the last second lost), after the final one
	 * of a generation whose grace period had not ended */
	if (s->r->fd < 0)
		return;
	if (s->x.retired)
		send_counters_of(s, s->x.retired, true);
	send_counters_of(s, s->x.cur, false);
}

const struct compiled_tables *dpdk_siphond_tables(const struct dpdk_siphond *s)
{
	return &s->x.cur->g->t;
}

const struct pipeline_gen *const *dpdk_siphond_gens(const struct dpdk_siphond *s)
{
	return (const struct pipeline_gen *const *)s->x.cur->pw;
}

void dpdk_siphond_print(FILE *f, const struct dpdk_siphond *s, int *first)
{
	int inner = 1;

	json_key(f, "generation", first);
	fputc('{', f);
	print_receiver_members(f, s->r, &inner);
	for (unsigned k = 0; k < dpdk_gen_counter_count(); k++) {
		json_key(f, dpdk_gen_counter_name(k), &inner);
		fprintf(f, "%llu", (unsigned long long)dpdk_gen_counter(&s->x, k));
	}
	fputc('}', f);
}

void dpdk_siphond_close(struct dpdk_siphond *s)
{
	dpdk_gen_close(&s->x);
}
