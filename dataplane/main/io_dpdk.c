/* siphon --io dpdk (docs/dpdk.md): EAL from the arguments after `--`,
 * every probed port with one RX/TX queue pair per lcore, one worker per
 * lcore (the main lcore runs one too, and ends the run at --seconds).
 * Until SIGINT/SIGTERM or --seconds; then the ports are stopped and closed
 * (a net_pcap output capture is complete), the pool is checked for leaked
 * mbufs and the JSON summary goes to stdout or --summary FILE (also every
 * --stats-interval while running): the members --io pcap writes for the
 * pipeline, plus "running", "dpdk", "ports" and "mbufs". */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_log.h>

#include "siphon/json_write.h"
#include "siphon_main.h"
#include "dpdk_port.h"
#include "dpdk_siphond.h"
#include "dpdk_worker.h"
#include "eal_runtime.h"
#include "next_hops_print.h"
#include "punt_tap.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* What rte_eal_init's rte_errno means to the operator, in one line. */
static const char *eal_failure(int err)
{
	switch (err) {
	case EINVAL:
		return "the EAL arguments are not valid (EAL's line above says which; "
		       "dpdk-testpmd --help lists them)";
	case EACCES:
		return "no usable hugepages: reserve and mount them (docs/dpdk.md), or give EAL "
		       "--no-huge";
	case ENOMEM:
		return "not enough memory for EAL: fewer -m megabytes, or more hugepages";
	case EALREADY:
		return "EAL is already running in this process";
	default:
		return rte_strerror(err);
	}
}

/* EAL prints its log (in this DPDK) and, on a bad argument, its whole
 * usage on stdout, where siphon's summary goes: its log goes to stderr,
 * and while it starts stdout goes nowhere, so that a bad argument gets
 * EAL's line that names it and siphon's, not a page of usage. */
static int eal_start(const struct options *o)
{
	char **argv = calloc((size_t)o->eal_argc + 3, sizeof(*argv));
	int argc = 0, saved, null, rc;

	if (!argv) {
		fprintf(stderr, "siphon: out of memory\n");
		return -ENOMEM;
	}
	argv[argc++] = (char *)"siphon EAL"; /* EAL's getopt names its refusals after it */
	/* no hugepage file outlives siphon (there is no secondary process to map them) */
	if (eal_keeps_hugepage_files(o->eal_argc, o->eal_argv))
		argv[argc++] = (char *)"--huge-unlink";
	for (int i = 0; i < o->eal_argc; i++)
		argv[argc++] = o->eal_argv[i];
	rte_openlog_stream(stderr);
	rte_log_set_global_level(RTE_LOG_NOTICE); /* EAL's INFO lines: -- --log-level=info */
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (saved >= 0 && null >= 0)
		dup2(null, STDOUT_FILENO);
	if (null >= 0)
		close(null);
	rc = rte_eal_init(argc, argv);
	fflush(stdout);
	if (saved >= 0) {
		dup2(saved, STDOUT_FILENO);
		close(saved);
	}
	free(argv);
	if (rc < 0) {
		fprintf(stderr, "siphon: DPDK EAL did not start: %s\n", eal_failure(rte_errno));
		return -rte_errno;
	}
	return 0;
}

/* The exception path (docs/dpdk.md): the TAP named by --exception-iface,
 * created or attached to, with port 0's MAC so that the kernel answers
 * for the port. tap->fd stays -1 with "none". 0, or -errno after a line. */
static int exception_open(struct punt_tap *tap, const struct options *o,
			  const struct dpdk_ports *p)
{
	struct rte_ether_addr mac;
	char err[256];
	int rc;

	tap->fd = -1;
	if (strcmp(o->exception_iface, "none") == 0)
		return 0;
	rc = rte_eth_macaddr_get(p->id[0], &mac);
	if (rc) {
		fprintf(stderr, "siphon: port %u (%s) has no MAC for --exception-iface: %s\n",
			p->id[0], p->name[0], rte_strerror(-rc));
		return rc;
	}
	rc = punt_tap_open(tap, o->exception_iface, mac.addr_bytes, err, sizeof(err));
	if (rc)
		fprintf(stderr, "siphon: --exception-iface: %s (or --exception-iface none)\n", err);
	return rc;
}

static void exception_print(FILE *f, const struct punt_tap *tap, int *first)
{
	json_key(f, "exception", first);
	if (tap->fd < 0) {
		fputs("null", f);
		return;
	}
	fputs("{\"iface\":", f);
	json_write_str(f, tap->name);
	fprintf(f, ",\"mac\":\"%02x:%02x:%02x:%02x:%02x:%02x\"}", tap->mac[0], tap->mac[1],
		tap->mac[2], tap->mac[3], tap->mac[4], tap->mac[5]);
}

/* The kernel interface that faces the nodes, whose routes and neighbour
 * table give the next hops of nodes without a MAC (docs/dpdk.md "Next
 * hops"): the --egress port's when the kernel keeps its link
 * (net_af_packet, net_af_xdp: its iface=); without --egress, the
 * exception path's TAP (the kernel's view of port 0: its ARP and ND leave
 * through the port, the answers come back through the TAP). NULL: none,
 * the config's MACs only; why goes into the start line. */
static const char *next_hop_iface(const struct dpdk_ports *p, const struct punt_tap *tap,
				  char *buf, size_t len, const char **why)
{
	if (p->egress > 0) {
		*why = "the --egress port's PMD runs over no kernel interface";
		return dpdk_port_kernel_iface(p, (unsigned)p->egress, buf, len) ? NULL : buf;
	}
	*why = "--exception-iface none and no --egress: no kernel interface faces the nodes";
	return tap->fd >= 0 ? tap->name : NULL;
}

/* The next hops from iface (NULL: none, nc untouched). 0, or -errno after
 * a line. */
static int next_hops_open(struct neigh_ctl *nc, const char *iface,
			  const struct compiled_tables *t)
{
	char err[256];
	int rc;

	if (!iface)
		return 0;
	/* the kernel resolves the nodes' neighbours before the first packet
	 * needs them (up to a second) */
	rc = neigh_open(nc, t, iface, 1000, err, sizeof(err));
	if (rc)
		fprintf(stderr, "siphon: %s\n", err);
	return rc;
}

/* What the summary reads: standalone, the config's tables; with siphond
 * (sd not NULL), the generation running now. */
struct dpdk_run {
	const struct options *o;
	struct dpdk_ports *ports;
	const struct punt_tap *tap;
	struct dpdk_worker *w;
	unsigned n;
	const struct compiled_tables *t;
	const struct siphon_config *cfg;
	const struct dpdk_siphond *sd;
	const struct neigh_ctl *nc; /* the first generation's next hops; NULL: none */
	struct summary_clock clock;
	pthread_t stats_thread; /* standalone with --stats-interval */
	bool stats_started;
};

/* The summary: at exit (running false: the ports' counters taken as they
 * stopped, the mbufs still in use once they were closed), and every
 * --stats-interval while running (the ports' counters now, the mbufs in
 * use now: in the workers' caches and queues too), read from the workers'
 * counters as they go (plain 64-bit loads: a figure may be a batch behind,
 * never torn). To stdout or --summary FILE (summary_file.c). */
static void print_summary(struct dpdk_run *v, bool running, unsigned leaked)
{
	struct pipeline_worker **pw = calloc(v->n, sizeof(*pw));
	struct summary_out out;
	FILE *f = summary_open(&out, v->o, running);
	int first = 0, inner = 1;

	json_key(f, "lcores", &first);
	fprintf(f, "%u", v->n);
	json_key(f, "dpdk", &first);
	fputc('{', f);
	for (unsigned k = 0; k < dpdk_worker_counter_count(); k++) {
		json_key(f, dpdk_worker_counter_name(k), &inner);
		fprintf(f, "%llu", (unsigned long long)dpdk_workers_counter(v->w, v->n, k));
	}
	fputc('}', f);
	if (running)
		dpdk_ports_take_stats(v->ports);
	dpdk_ports_print(f, v->ports, &first);
	exception_print(f, v->tap, &first);
	print_next_hops(f, v->sd ? dpdk_gen_neigh(&v->sd->x, v->nc) : v->nc,
			v->sd ? dpdk_siphond_tables(v->sd) : v->t, &first);
	json_key(f, "mbufs", &first);
	if (running)
		fprintf(f, "{\"pool\":%u,\"in_use\":%u}", v->ports->pool_size,
			dpdk_ports_mbufs_in_use(v->ports));
	else
		fprintf(f, "{\"pool\":%u,\"in_use_at_exit\":%u,\"kept_by_pmd\":%u}",
			v->ports->pool_size, leaked, v->ports->kept_by_pmd);
	if (v->sd)
		dpdk_siphond_print(f, v->sd, &first);
	for (unsigned i = 0; pw && i < v->n; i++)
		pw[i] = &v->w[i].pipe;
	if (pw)
		print_pipeline_summary(f, pw, v->n, v->sd ? dpdk_siphond_tables(v->sd) : v->t, v->cfg,
				       v->sd ? dpdk_siphond_gens(v->sd) : NULL, &first);
	summary_close(&out);
	free(pw);
}

/* Every --stats-interval, on the thread that may read the tables running
 * now: with siphond its control thread (which swaps them), else
 * stats_main. */
static void summary_tick(void *ctx)
{
	struct dpdk_run *v = ctx;

	if (summary_due(v->o, &v->clock))
		print_summary(v, true, 0);
}

static void *stats_main(void *ctx)
{
	while (!stop) {
		usleep(50 * 1000);
		summary_tick(ctx);
	}
	return NULL;
}

/* The workers on every lcore, the main one's included, until stopped;
 * with siphond, its control thread beside them, else with
 * --stats-interval a thread that writes the summary. */
static void run_workers(struct dpdk_run *v, struct dpdk_siphond *sd)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct dpdk_worker *w = v->w;
	unsigned lcore, i = 1;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	w[0].seconds = v->o->seconds;
	summary_due(v->o, &v->clock); /* the clock starts */
	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (rte_eal_remote_launch(dpdk_worker_run, &w[i], lcore)) {
			fprintf(stderr, "siphon: lcore %u: cannot start its worker\n", lcore);
			stop = 1;
			break;
		}
		i++;
	}
	if (sd && !stop) {
		sd->tick_fn = v->o->stats_interval ? summary_tick : NULL;
		sd->tick_ctx = v;
		if (dpdk_siphond_start(sd)) {
			fprintf(stderr, "siphon: cannot start the thread that talks to siphond\n");
			stop = 1;
		}
	} else if (!sd && !stop && v->o->stats_interval) {
		v->stats_started = pthread_create(&v->stats_thread, NULL, stats_main, v) == 0;
		if (!v->stats_started)
			fprintf(stderr, "siphon: cannot start the thread for --stats-interval; the "
					"summary comes at exit\n");
	}
	dpdk_worker_run(&w[0]);
	rte_eal_mp_wait_lcore();
	if (sd)
		dpdk_siphond_join(sd);
	if (v->stats_started)
		pthread_join(v->stats_thread, NULL);
	v->stats_started = false;
}

static int run_eal(const struct options *o, const struct siphon_config *cfg,
		   const struct compiled_tables *tables, struct gen_receiver *r,
		   struct gen_generation *g)
{
	static struct dpdk_siphond sdt;
	struct dpdk_siphond *sd = NULL;
	const unsigned n = rte_lcore_count();
	struct dpdk_ports ports;
	struct punt_tap tap = { .fd = -1 };
	struct neigh_ctl nc = { 0 };
	const char *nh_iface = NULL, *nh_why = "";
	char nh_buf[64];
	struct dpdk_worker *w = aligned_alloc(64, sizeof(*w) * n);
	/* one for the process: a call's messages may come in on any queue */
	struct grace_calls *gc = grace_calls_new(GRACE_CALLS_BITS_DEFAULT);
	struct dpdk_run view = { .o = o, .ports = &ports, .tap = &tap, .w = w, .n = n,
				 .t = tables, .cfg = cfg };
	unsigned ready = 0, leaked;
	bool run;
	char err[512];
	int rc = 1;

	if (!w || !gc) {
		fprintf(stderr, "siphon: out of memory for %u workers\n", n);
		gen_generation_free(g);
		goto out;
	}
	if (dpdk_ports_open(&ports, (uint16_t)n, err, sizeof(err))) {
		fprintf(stderr, "siphon: %s\n", err);
		dpdk_ports_close(&ports);
		gen_generation_free(g);
		goto out;
	}
	if (o->egress && (ports.egress = dpdk_ports_find(&ports, o->egress)) <= 0) {
		fprintf(stderr, "siphon: --egress %s: %s\n", o->egress, ports.egress ? "no such DPDK "
			"port (EAL's names: --vdev NAME,...)" : "is port 0, where frames come in");
		dpdk_ports_close(&ports);
		gen_generation_free(g);
		goto out;
	}
	if (exception_open(&tap, o, &ports)) {
		dpdk_ports_close(&ports);
		gen_generation_free(g);
		goto out;
	}
	nh_iface = next_hop_iface(&ports, &tap, nh_buf, sizeof(nh_buf), &nh_why);
	if (next_hops_open(&nc, nh_iface, tables)) {
		dpdk_ports_close(&ports);
		punt_tap_close(&tap);
		gen_generation_free(g);
		goto out;
	}
	view.nc = nh_iface ? &nc : NULL;
	for (; ready < n; ready++) {
		int e = dpdk_worker_init(&w[ready], &ports, (uint16_t)ready, tables, gc,
					 tap.fd >= 0 ? &tap : NULL);

		if (e) {
			fprintf(stderr, "siphon: the tables do not load: %s\n", strerror(-e));
			break;
		}
		pipeline_worker_set_next_hops(&w[ready].pipe, view.nc ? &nc.hops : NULL);
		w[ready].stop = &stop;
		w[ready].idle_sleep_max_us = o->idle_sleep_us >= 0 ? (unsigned)o->idle_sleep_us
								    : DPDK_IDLE_SLEEP_DEFAULT_US;
	}
	run = ready == n;
	if (r && run) { /* g (taken over) becomes what the workers run */
		run = dpdk_siphond_init(&sdt, r, g, w, n, nh_iface, &stop) == 0;
		sd = run ? &sdt : NULL;
		g = NULL;
	}
	if (run) {
		fprintf(stderr, "siphon: dpdk on %u port%s (first %s), %u lcore%s%s, exception "
			"path %s%s%s, idle sleep up to %u us\n", ports.n, ports.n == 1 ? "" : "s",
			ports.name[0], n, n == 1 ? "" : "s", sd ? ", tables from siphond" : "",
			tap.fd >= 0 ? tap.name : "none", o->egress ? ", egress " : "",
			o->egress ? o->egress : "", w[0].idle_sleep_max_us);
		if (nh_iface)
			fprintf(stderr, "siphon: next hops of nodes without a MAC: the kernel's on %s\n",
				nh_iface);
		else
			fprintf(stderr, "siphon: next hops: the config's MACs only (%s)\n", nh_why);
		if (view.nc && neigh_start(&nc)) {
			fprintf(stderr, "siphon: next hops: cannot start the control thread\n");
			stop = 1;
		}
		view.sd = sd;
		run_workers(&view, sd);
	}
	leaked = dpdk_ports_close(&ports);
	if (run) {
		print_summary(&view, false, leaked);
		rc = 0;
	}
	if (sd)
		dpdk_siphond_close(sd);
	if (leaked) {
		fprintf(stderr, "siphon: %u mbufs were not given back to the pool (a leak)\n", leaked);
		rc = 1;
	}
	while (ready)
		dpdk_worker_free(&w[--ready]);
	if (view.nc)
		neigh_close(&nc);
	punt_tap_close(&tap);
	gen_generation_free(g);
out:
	free(w);
	grace_calls_free(gc);
	return rc;
}

int run_dpdk(const struct options *o, const struct siphon_config *cfg,
	     const struct compiled_tables *tables, struct gen_receiver *r, struct gen_generation *g)
{
	struct eal_runtime rt;
	int rc = 1;

	eal_runtime_note(&rt, o->eal_argc, o->eal_argv);
	if (eal_start(o)) {
		gen_generation_free(g);
	} else {
		rc = run_eal(o, cfg, tables, r, g);
		rte_eal_cleanup();
	}
	if (r)
		gen_receiver_close(r);
	eal_runtime_remove(&rt);
	return rc;
}
