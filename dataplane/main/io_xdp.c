/* siphon --io xdp: the XDP program on the interface and one AF_XDP worker
 * per receive queue (docs/afxdp.md). Runs until SIGINT/SIGTERM or
 * --seconds, then prints a JSON summary; the program stays attached and
 * its maps pinned, so the kernel lane forwards until the next siphon takes
 * over. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/if_xdp.h>
#include <bpf/bpf.h>

#include "siphon/json_write.h"
#include "siphon.skel.h"
#include "siphon_main.h"
#include "counters_snap.h"
#include "next_hops_print.h"
#include "neigh.h"
#include "xdp_hops.h"
#include "xdp_gen.h"
#include "xdp_load.h"
#include "xsk_worker.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* The receive queues of ifname (/sys/class/net/IF/queues/rx-N), 0 if unknown. */
static unsigned rx_queues(const char *ifname)
{
	char path[512];
	DIR *d;
	struct dirent *e;
	unsigned n = 0;

	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", ifname);
	d = opendir(path);
	if (!d)
		return 0;
	while ((e = readdir(d)))
		n += strncmp(e->d_name, "rx-", 3) == 0;
	closedir(d);
	return n;
}

static void print_xsk(FILE *f, struct xsk_worker *w, unsigned n, int *first)
{
	struct xdp_statistics sum = { 0 };
	uint32_t census[4] = { 0 };
	uint64_t bad_rx = 0, bad_completion = 0, bad_addr = 0, bad_release = 0, free_stack = 0;
	int inner = 1;

	json_key(f, "xsk", first);
	fputc('{', f);
	for (unsigned k = 0; k < xsk_worker_counter_count(); k++) {
		uint64_t v = 0;

		for (unsigned i = 0; i < n; i++)
			v += xsk_worker_counter(&w[i], k);
		json_key(f, xsk_worker_counter_name(k), &inner);
		fprintf(f, "%llu", (unsigned long long)v);
	}
	fputc('}', f);
	for (unsigned i = 0; i < n; i++) {
		struct xdp_statistics s;
		socklen_t len = sizeof(s);
		uint32_t c[4];

		if (!getsockopt(xsk_socket__fd(w[i].xsk), SOL_XDP, XDP_STATISTICS, &s, &len)) {
			sum.rx_dropped += s.rx_dropped;
			sum.rx_invalid_descs += s.rx_invalid_descs;
			sum.tx_invalid_descs += s.tx_invalid_descs;
			sum.rx_ring_full += s.rx_ring_full;
			sum.rx_fill_ring_empty_descs += s.rx_fill_ring_empty_descs;
			sum.tx_ring_empty_descs += s.tx_ring_empty_descs;
		}
		umem_frames_census(&w[i].frames, c);
		for (int k = 0; k < 4; k++)
			census[k] += c[k];
		free_stack += w[i].frames.n_free;
		bad_rx += w[i].frames.bad_rx;
		bad_completion += w[i].frames.bad_completion;
		bad_addr += w[i].frames.bad_addr;
		bad_release += w[i].frames.bad_release;
	}
	json_key(f, "socket", first);
	fprintf(f, "{\"rx_dropped\":%llu,\"rx_invalid_descs\":%llu,\"tx_invalid_descs\":%llu,"
		   "\"rx_ring_full\":%llu,\"rx_fill_ring_empty_descs\":%llu,\"tx_ring_empty_descs\":%llu}",
		(unsigned long long)sum.rx_dropped, (unsigned long long)sum.rx_invalid_descs,
		(unsigned long long)sum.tx_invalid_descs, (unsigned long long)sum.rx_ring_full,
		(unsigned long long)sum.rx_fill_ring_empty_descs,
		(unsigned long long)sum.tx_ring_empty_descs);
	/* frame 0 of each worker is reserved and counted as the worker's */
	json_key(f, "umem", first);
	fprintf(f, "{\"frames\":%llu,\"free\":%u,\"free_stack\":%llu,\"kernel_rx\":%u,\"worker\":%u,"
		   "\"kernel_tx\":%u,\"refused_rx\":%llu,\"refused_completion\":%llu,\"bad_addr\":%llu,"
		   "\"refused_release\":%llu}",
		(unsigned long long)n * (n ? w[0].cfg.frames - 1 : 0), census[FRAME_FREE],
		(unsigned long long)free_stack,
		census[FRAME_KERNEL_RX], census[FRAME_WORKER], census[FRAME_KERNEL_TX],
		(unsigned long long)bad_rx, (unsigned long long)bad_completion,
		(unsigned long long)bad_addr, (unsigned long long)bad_release);
}

/* What siphon --siphond knows of its generations. */
static void print_generation(FILE *f, const struct gen_receiver *r, const struct xdp_gen *xg,
			     int *first)
{
	int inner = 1;

	json_key(f, "generation", first);
	fputc('{', f);
	print_receiver_members(f, r, &inner);
	for (unsigned k = 0; k < xdp_gen_counter_count(); k++) {
		json_key(f, xdp_gen_counter_name(k), &inner);
		fprintf(f, "%llu", (unsigned long long)xdp_gen_counter(xg, k));
	}
	fputc('}', f);
}

/* What the summary reads: standalone, the config; with siphond, the
 * generation running now (the control thread that swaps it prints). */
struct run_view {
	const struct siphon_config *cfg; /* NULL with siphond */
	const struct compiled_tables *t;
	const struct neigh_ctl *nc;
	struct gen_receiver *r;          /* NULL: standalone */
	struct xdp_gen *xg;
};

/* The summary: at exit (running false), and every --stats-interval while
 * running, read from the workers' counters as they go (plain 64-bit loads:
 * a figure may be a batch behind, never torn). To stdout or --summary
 * FILE (summary_file.c). */
static void print_summary(const struct options *o, const struct xdp_loader *l,
			  struct xsk_worker *w, unsigned n, const struct run_view *v, bool running)
{
	const struct compiled_tables *t = v->xg ? xdp_gen_tables(v->xg) : v->t;
	const struct neigh_ctl *nc = v->xg ? xdp_gen_neigh(v->xg, v->nc) : v->nc;
	struct summary_out out;
	FILE *f = summary_open(&out, o, running);
	struct pipeline_worker **pw = calloc(n ? n : 1, sizeof(*pw));
	int first = 0;

	json_key(f, "iface", &first);
	json_write_str(f, o->iface);
	json_key(f, "queues", &first);
	fprintf(f, "%u", n);
	json_key(f, "zero_copy", &first);
	fputs(n && w[0].zero_copy ? "true" : "false", f);
	json_key(f, "kernel", &first);
	{
		struct xdp_counter_fds m;
		const char **names = calloc(t->n_nodes + 1, sizeof(*names));

		for (unsigned i = 0; names && i < t->n_nodes; i++)
			names[i] = t->nodes[i].id;
		xdp_counter_fds_of(&m, l->skel);
		xdp_print_counters(f, &m, names, names ? t->n_nodes : 0, t->n_rules);
		free(names);
	}
	print_xsk(f, w, n, &first);
	print_next_hops(f, nc, t, &first);
	if (v->r)
		print_generation(f, v->r, v->xg, &first);
	for (unsigned i = 0; pw && i < n; i++)
		pw[i] = &w[i].pipe;
	json_key(f, "pipeline", &first);
	fputc('{', f);
	if (pw) {
		int pfirst = 1;
		print_pipeline_summary(f, pw, n, t, v->cfg,
				       v->xg ? (const struct pipeline_gen *const *)v->xg->cur->pw : NULL,
				       &pfirst);
	}
	fputc('}', f);
	free(pw);
	summary_close(&out);
}

int run_xdp_admin(const struct options *o)
{
	const char *bpffs = o->bpffs ? o->bpffs : getenv("SIPHON_BPFFS") ? getenv("SIPHON_BPFFS") : "/sys/fs/bpf";
	char err[512];
	int rc;

	if (o->counters)
		rc = xdp_print_pinned_counters(stdout, o->iface, bpffs, err, sizeof(err));
	else
		rc = xdp_detach(o->iface, bpffs, o->skb_mode, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "siphon: %s\n", err);
		return 1;
	}
	if (o->detach)
		fprintf(stderr, "siphon: %s: siphon's XDP program detached, pins removed\n", o->iface);
	return 0;
}

/* With siphond: the counters the summary shows, as a snapshot on the
 * publish channel (docs/metrics.md). This thread reads them as the
 * summary does; the workers never wait for it. gs: the generation whose
 * indexed counters go in (the running one; or one every worker left, with
 * final set: its last snapshot, the kernel's values taken at its swap). */
static void send_counters_of(const struct xdp_loader *l, struct xsk_worker *w, unsigned n,
			     const struct run_view *v, const struct xdp_gen_state *gs, bool final)
{
	const struct compiled_tables *t = &gs->g->t;
	struct pipeline_worker **pw = calloc(n ? n : 1, sizeof(*pw));
	struct gen_counters_builder b;
	struct xdp_counter_fds m;

	if (!pw)
		return;
	gen_counters_init(&b);
	for (unsigned i = 0; i < n; i++)
		pw[i] = &w[i].pipe;
	counters_snap_pipeline(&b, pw, n, t, (const struct pipeline_gen *const *)gs->pw);
	free(pw);
	xdp_counter_fds_of(&m, l->skel);
	xdp_counters_snap(&b, &m, t, gs->half, gs->kbase, final ? gs->kfinal : NULL);
	for (unsigned k = 0; k < xsk_worker_counter_count(); k++) {
		uint64_t sum = 0;

		for (unsigned i = 0; i < n; i++)
			sum += xsk_worker_counter(&w[i], k);
		gen_counters_add_named(&b, "xsk", xsk_worker_counter_name(k), sum);
	}
	for (unsigned k = 0; k < xdp_gen_counter_count(); k++)
		gen_counters_add_named(&b, "swap", xdp_gen_counter_name(k), xdp_gen_counter(v->xg, k));
	counters_snap_receiver(&b, v->r);
	counters_snap_send_gen(v->r, &b, gs->g->number,
			       GEN_COUNTERS_LANE_AFXDP | GEN_COUNTERS_LANE_KERNEL,
			       final ? GEN_COUNTERS_FINAL : 0);
}

static void send_counters(const struct xdp_loader *l, struct xsk_worker *w, unsigned n,
			  const struct run_view *v)
{
	send_counters_of(l, w, n, v, v->xg->cur, false);
}

struct final_ctx {
	const struct xdp_loader *l;
	struct xsk_worker *w;
	unsigned n;
	const struct run_view *v;
};

/* xdp_gen_retired_fn: a generation every worker left, so that siphond
 * loses nothing of what it counted between the last snapshot and the swap. */
static void send_final(void *ctx, const struct xdp_gen_state *s)
{
	const struct final_ctx *f = ctx;

	if (f->v->r && f->v->r->fd >= 0)
		send_counters_of(f->l, f->w, f->n, f->v, s, true);
}

/* At exit, once the workers stopped: what was counted since the last
 * periodic snapshot (up to a second) goes to siphond too; first the final
 * snapshot of a generation whose grace period had not ended. The running
 * generation's is not FINAL: the kernel lane keeps forwarding and
 * counting with its tables until the next siphon takes over. */
static void send_last(const struct xdp_loader *l, struct xsk_worker *w, unsigned n,
		      const struct run_view *v)
{
	xdp_gen_retire_stopped(v->xg);
	if (v->r->fd >= 0)
		send_counters(l, w, n, v);
}

/* Until SIGINT/SIGTERM or --seconds; the summary every --stats-interval;
 * with siphond, a counters snapshot about every second. */
static void run_until_stopped(const struct options *o, const struct xdp_loader *l,
			      struct xsk_worker *w, unsigned n, const struct run_view *v)
{
	struct timespec t0, t;
	struct sigaction sa = { .sa_handler = on_signal };
	struct summary_clock sc = { 0 };
	uint64_t last_snap_ms = 0;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	summary_due(o, &sc); /* the clock starts */
	while (!stop) {
		if (v->r) /* this thread is siphond's receiver: generations apply here */
			gen_receiver_tick(v->r, 50);
		else
			usleep(50 * 1000);
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (v->r && v->r->fd >= 0 &&
		    (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000 - last_snap_ms >=
			    COUNTERS_SNAP_INTERVAL_MS) {
			send_counters(l, w, n, v);
			last_snap_ms = (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
		}
		if (o->seconds && (unsigned)(t.tv_sec - t0.tv_sec) >= o->seconds)
			stop = 1;
		else if (summary_due(o, &sc))
			print_summary(o, l, w, n, v, true);
	}
}

int run_xdp(const struct options *o, const struct siphon_config *cfg,
	    const struct compiled_tables *tables, struct gen_receiver *r, struct gen_generation *g)
{
	struct xdp_gen xg = { 0 };
	struct run_view v = { .cfg = cfg, .t = tables, .r = r };
	struct xdp_load_options lo = {
		.ifname = o->iface, .egress = o->egress, .bpffs = o->bpffs,
		.skb_mode = o->skb_mode, .kernel_lane = o->kernel_lane,
	};
	struct xdp_loader l;
	struct punt_tap tap = { .fd = -1 };
	struct neigh_ctl nc;
	struct xdp_hops hops;
	struct xsk_worker *w = NULL;
	struct grace_calls *gc = NULL;
	struct final_ctx fin;
	unsigned n = o->queues ? o->queues : rx_queues(o->iface), opened = 0;
	char err[512];
	int rc = 1;

	if (!n) {
		fprintf(stderr, "siphon: --iface %s: cannot count its receive queues; give --queues\n",
			o->iface);
		goto early;
	}
	if (r && xdp_gen_init(&xg, n)) {
		fprintf(stderr, "siphon: out of memory for %u workers\n", n);
		goto early;
	}
	if (o->punt_tap && punt_tap_open(&tap, o->punt_tap, NULL, err, sizeof(err))) {
		fprintf(stderr, "siphon: --punt-tap: %s\n", err);
		goto early;
	}
	/* the next hops first: the kernel resolves the nodes' neighbours
	 * before the first packet needs them (up to a second) */
	if (neigh_open(&nc, tables, o->egress ? o->egress : o->iface, 1000, err, sizeof(err))) {
		fprintf(stderr, "siphon: %s\n", err);
		punt_tap_close(&tap);
		goto early;
	}
	if (xdp_loader_start(&l, &lo, tables, err, sizeof(err))) {
		fprintf(stderr, "siphon: %s\n", err);
		neigh_close(&nc);
		punt_tap_close(&tap);
		goto early;
	}
	/* the kernel lane takes the nodes' next hops from the thread that
	 * follows them, not from bpf_fib_lookup() a packet */
	xdp_hops_init(&hops, l.skel);
	if (o->kernel_lane)
		xdp_hops_bind(&hops, l.first_half, &nc);
	w = aligned_alloc(64, sizeof(*w) * n);
	/* one for the process: a call's messages may come in on any queue */
	gc = grace_calls_new(GRACE_CALLS_BITS_DEFAULT);
	if (!w || !gc) {
		fprintf(stderr, "siphon: out of memory for %u workers\n", n);
		goto out;
	}
	for (; opened < n; opened++) {
		struct xsk_worker_config wc = {
			.ifname = o->iface, .egress = o->egress, .queue = opened, .cpu = o->cpu,
			.coalesce_us = o->coalesce_us,
			.frames = o->frames, .frame_size = 2048, .ring_size = 1024,
			.zero_copy_only = o->zero_copy, .copy_only = o->copy,
			.tables = tables, .next_hops = &nc.hops,
			.tap = tap.fd >= 0 ? &tap : NULL, .grace_calls = gc,
			.xsks_map_fd = bpf_map__fd(l.skel->maps.xsks),
			.swap = r ? &xg.swap : NULL,
		};
		if (xsk_worker_open(&w[opened], &wc, err, sizeof(err))) {
			fprintf(stderr, "siphon: %s\n", err);
			goto out;
		}
	}
	if (r) { /* from here on xg owns g and the workers' generation state */
		if (xdp_gen_start(&xg, &l, w, o->egress ? o->egress : o->iface, g)) {
			fprintf(stderr, "siphon: out of memory for the generation's state\n");
			goto out;
		}
		g = NULL;
		xg.hops = o->kernel_lane ? &hops : NULL;
		r->apply = xdp_gen_apply;
		r->ctx = &xg;
		v.xg = &xg;
		fin = (struct final_ctx){ &l, w, n, &v };
		xg.retired_fn = send_final;
		xg.retired_ctx = &fin;
	}
	v.nc = &nc;
	fprintf(stderr, "siphon: xdp on %s (%s mode, program %u%s), %u AF_XDP queue%s (%s), "
			"egress %s, kernel lane %s%s%s\n",
		o->iface, o->skb_mode ? "skb" : "native", l.prog_id,
		l.replaced ? ", took over from the previous siphon" : "", n, n == 1 ? "" : "s",
		w[0].zero_copy ? "zero-copy" : "copy", o->egress ? o->egress : o->iface,
		o->kernel_lane ? "on" : "off", tap.fd >= 0 ? ", punts to TAP " : "",
		tap.fd >= 0 ? tap.name : "");
	for (unsigned i = 0; i < n; i++) {
		if (xsk_worker_start(&w[i], &stop)) {
			fprintf(stderr, "siphon: queue %u: cannot start its thread\n", i);
			stop = 1;
			break;
		}
	}
	if (!stop && neigh_start(&nc)) {
		fprintf(stderr, "siphon: next hops: cannot start the control thread\n");
		stop = 1;
	}
	if (r && !stop) { /* the first generation runs in both lanes now */
		r->defer_ack = false;
		gen_receiver_ack_pending(r);
	}
	run_until_stopped(o, &l, w, n, &v);
	for (unsigned i = 0; i < n; i++)
		xsk_worker_join(&w[i]);
	if (v.xg)
		send_last(&l, w, n, &v);
	print_summary(o, &l, w, n, &v, false);
	rc = 0;
out:
	if (r) /* the workers are stopped (or never started) */
		xdp_gen_close(&xg);
	for (unsigned i = 0; w && i < opened; i++)
		xsk_worker_close(&w[i]);
	free(w);
	grace_calls_free(gc);
	/* a next-hop thread still running writes no map closed under it */
	xdp_hops_unbind(&hops, 0);
	xdp_hops_unbind(&hops, 1);
	xdp_loader_close(&l);
	neigh_close(&nc);
	xdp_hops_close(&hops);
	punt_tap_close(&tap);
early:
	if (r)
		gen_receiver_close(r);
	gen_generation_free(g);
	return rc;
}
