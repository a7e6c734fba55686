/* siphon: the fast path. Three I/O backends, all calling the same
 * pipeline (dataplane/pipeline.h):
 *
 *   siphon --io pcap --config FILE --in IN.pcap --out OUT.pcap [--punt PUNT.pcap]
 *   siphon --io xdp --iface IF [--egress IF2] [--queues N] --config FILE [...]
 *   siphon --io xdp --iface IF (--counters | --detach) [--bpffs DIR]
 *   siphon --io dpdk (--config FILE | --siphond PATH) [--exception-iface NAME|none]
 *                    [--seconds S] -- EAL-ARGS
 *   siphon --version
 *
 * pcap replays a capture (deterministic: forwarded frames to OUT, punted
 * and passed ones to PUNT, a JSON summary to stdout). xdp is the live data
 * path (docs/afxdp.md): the XDP program on IF and one AF_XDP worker per
 * receive queue. dpdk runs on DPDK ports (docs/dpdk.md): one worker per
 * EAL lcore. Standalone (--config), siphon reads the config itself
 * through the control plane's loader (controlplane/config/) and runs its
 * tables from a table blob (docs/tables.md); with --siphond PATH it runs
 * siphond's generations instead (docs/generations.md). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blob_write.h"
#include "siphon/json_write.h"
#include "siphon/optdoc.h"
#include "siphon/table_blob.h"
#include "siphon_main.h"
#include "siphon_version.h"

#define USAGE_LINES \
	"siphon --io pcap --config FILE --in IN.pcap --out OUT.pcap [--punt PUNT.pcap]\n" \
	"siphon --io pcap --siphond PATH [--state-dir DIR] --in IN.pcap --out OUT.pcap [...]\n" \
	"siphon --io xdp --iface IF --config FILE [--egress IF2] [--queues N]\n" \
	"siphon --io xdp --iface IF --siphond PATH [--state-dir DIR] [the same options]\n" \
	"       [--bpffs DIR] [--skb-mode] [--kernel-lane on|off] [--punt-tap NAME]\n" \
	"       [--zero-copy | --copy] [--frames N] [--cpu N] [--seconds S]\n" \
	"       [--summary FILE] [--stats-interval S]\n" \
	"siphon --io xdp --iface IF --counters [--bpffs DIR]\n" \
	"siphon --io xdp --iface IF --detach [--bpffs DIR] [--skb-mode]\n" \
	"siphon --io dpdk (--config FILE | --siphond PATH [--state-dir DIR]) [--egress PORT] [--exception-iface NAME|none] [--seconds S]\n" \
	"       [--idle-sleep-us US] [--summary FILE] [--stats-interval S] -- EAL-ARGS\n" \
	"siphon --version\n"

static void usage(FILE *f)
{
	const char *l = USAGE_LINES;

	for (int i = 0; *l; i++) {
		const char *nl = strchr(l, '\n');

		fprintf(f, "%s%.*s\n", i ? "       " : "usage: ", (int)(nl - l), l);
		l = nl + 1;
	}
	fputs("See docs/afxdp.md (xdp), docs/dpdk.md (dpdk) and docs/packets.md (pcap).\n", f);
}

static int parse_uint(const char *opt, const char *s, unsigned lo, unsigned hi, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < lo || v > hi) {
		fprintf(stderr, "siphon: %s '%s': a whole number from %u to %u\n", opt, s, lo, hi);
		return -EINVAL;
	}
	*out = (unsigned)v;
	return 0;
}

/* The arguments after `--` are EAL's; only --io dpdk takes them. */
static int check_dpdk_args(struct options *o)
{
	if (!o->config && !o->siphond) {
		fprintf(stderr, "siphon: --io dpdk needs --config FILE (standalone) or --siphond "
				"PATH, then -- and the EAL arguments\n");
		return -EINVAL;
	}
	if (!o->exception_iface)
		o->exception_iface = "siphon-x0";
	if (strlen(o->exception_iface) >= 16) {
		fprintf(stderr, "siphon: --exception-iface '%s': an interface name has at most 15 "
				"characters\n", o->exception_iface);
		return -EINVAL;
	}
	if (!o->eal_argc) {
		fprintf(stderr, "siphon: --io dpdk needs the EAL arguments after --, e.g. -- -l 0 "
				"--no-huge --no-pci --vdev net_pcap0,rx_pcap=IN.pcap,tx_pcap=OUT.pcap\n");
		return -EINVAL;
	}
	return 0;
}

static int check_xdp_args(struct options *o)
{
	if (!o->iface) {
		fprintf(stderr, "siphon: --io xdp needs --iface\n");
		return -EINVAL;
	}
	if (o->detach || o->counters) {
		if (o->detach && o->counters) {
			fprintf(stderr, "siphon: --detach and --counters are two commands: one at a time\n");
			return -EINVAL;
		}
		return 0;
	}
	if (!o->config && !o->siphond) {
		fprintf(stderr, "siphon: --io xdp needs --config (standalone) or --siphond PATH\n");
		return -EINVAL;
	}
	if (o->zero_copy && o->copy) {
		fprintf(stderr, "siphon: --zero-copy and --copy exclude each other\n");
		return -EINVAL;
	}
	if (!o->bpffs)
		o->bpffs = getenv("SIPHON_BPFFS") ? getenv("SIPHON_BPFFS") : "/sys/fs/bpf";
	return 0;
}

enum { O_IO, O_CONFIG, O_SIPHOND, O_STATE_DIR, O_IN, O_OUT, O_PUNT, O_IFACE, O_EGRESS, O_QUEUES,
       O_BPFFS, O_SKB, O_LANE, O_TAP, O_ZC, O_COPY, O_FRAMES, O_CPU, O_COALESCE, O_SECONDS, O_SUMMARY, O_STATS,
       O_COUNTERS, O_DETACH, O_EXCEPTION, O_IDLE, O_VERSION, O_HELP, O_MAN, O_COUNT };

/* The options, once: getopt_long, --help and siphon(8) come from here. */
static const struct optdoc opts[O_COUNT] = {
	[O_IO] = { "io", 0, "pcap|xdp|dpdk",
		   "The I/O backend: replay a capture, the live AF_XDP path, or DPDK ports "
		   "(EAL arguments after --)." },
	[O_CONFIG] = { "config", 0, "FILE", "Run standalone on this config (siphon.conf(5))." },
	[O_SIPHOND] = { "siphond", 0, "PATH",
			"Run siphond's generations, attached to its socket at PATH." },
	[O_STATE_DIR] = { "state-dir", 0, "DIR",
			  "With --siphond: where the last generation is, to cold-start from "
			  "(default /var/lib/siphon)." },
	[O_IN] = { "in", 0, "IN.pcap", "pcap: the capture to replay." },
	[O_OUT] = { "out", 0, "OUT.pcap", "pcap: where the forwarded frames go." },
	[O_PUNT] = { "punt", 0, "PUNT.pcap", "pcap: where the punted and passed frames go." },
	[O_IFACE] = { "iface", 0, "IF", "xdp: the interface that receives SIP." },
	[O_EGRESS] = { "egress", 0, "IF2",
		       "xdp: send forwarded frames out of another interface; dpdk: out of the port "
		       "EAL names so (e.g. net_af_packet1), which siphon then only sends on." },
	[O_QUEUES] = { "queues", 0, "N", "xdp: receive queues, one worker each (1 to 64)." },
	[O_BPFFS] = { "bpffs", 0, "DIR",
		      "xdp: the BPF file system for the pins (default $SIPHON_BPFFS, else /sys/fs/bpf)." },
	[O_SKB] = { "skb-mode", 0, NULL, "xdp: attach in generic (SKB) mode." },
	[O_LANE] = { "kernel-lane", 0, "on|off",
		     "xdp: forward what it can in the XDP program itself (default on)." },
	[O_TAP] = { "punt-tap", 0, "NAME", "xdp: hand punted frames to the kernel through this TAP." },
	[O_ZC] = { "zero-copy", 0, NULL, "xdp: require AF_XDP zero-copy." },
	[O_COPY] = { "copy", 0, NULL, "xdp: force AF_XDP copy mode." },
	[O_FRAMES] = { "frames", 0, "N", "xdp: UMEM frames per queue (512 to 1048576, default 4096)." },
	[O_CPU] = { "cpu", 0, "N", "xdp: pin the workers from this CPU on (0 to 4095)." },
	[O_COALESCE] = { "coalesce-us", 0, "US",
			 "xdp: while frames keep coming, a worker sleeps US microseconds between "
			 "batches instead of being woken per frame: fewer wake-ups and TX kicks, at most "
			 "US of added latency (0 to 1000, default 0: woken per frame)." },
	[O_SECONDS] = { "seconds", 0, "S", "xdp, dpdk: stop after S seconds." },
	[O_SUMMARY] = { "summary", 0, "FILE",
			"xdp, dpdk: write the JSON summary to FILE instead of stdout, replaced whole "
			"(written to FILE.tmp, then renamed): at exit, and every --stats-interval." },
	[O_STATS] = { "stats-interval", 0, "S",
		      "xdp, dpdk: write the summary every S seconds while running, \"running\": true "
		      "(1 to 86400)." },
	[O_COUNTERS] = { "counters", 0, NULL, "xdp: print the pinned program's counters and exit." },
	[O_DETACH] = { "detach", 0, NULL, "xdp: remove siphon's XDP program and pins from IF and exit." },
	[O_EXCEPTION] = { "exception-iface", 0, "NAME|none",
			  "dpdk: the TAP that siphon creates (or attaches to) with port 0's MAC: "
			  "punted and passed frames go to the kernel on it, what the kernel sends on "
			  "it leaves by port 0 (default siphon-x0; none: they are dropped and counted)." },
	[O_IDLE] = { "idle-sleep-us", 0, "US",
		     "dpdk: after 64 loops in a row without a frame a worker sleeps, 8 us first, "
		     "twice as long each time the ports are still empty, up to US microseconds; a "
		     "loop of a few frames keeps the sleep, one of half a burst (16) puts it back to "
		     "full polling (0 to 1000, default 500; 0: poll without rest, a whole core per "
		     "lcore)." },
	[O_VERSION] = { "version", 0, NULL, "Print the version and exit." },
	[O_HELP] = { "help", 'h', NULL, "Print this help and exit." },
	[O_MAN] = { "man", 0, NULL, "Print siphon(8) and exit." },
};

static void print_man(void)
{
	roff_head(stdout, "SIPHON", 8, "siphon", "the siphon fast path: a kernel-bypass SIP load balancer");
	puts(".SH SYNOPSIS");
	for (const char *l = USAGE_LINES; *l;) {
		const char *nl = strchr(l, '\n');
		char line[256];

		snprintf(line, sizeof(line), "%.*s", (int)(nl - l), l);
		roff_text(stdout, line + strspn(line, " "));
		puts(".br");
		l = nl + 1;
	}
	puts(".SH DESCRIPTION\nsiphon scans SIP over UDP, decides where each message goes (a pool's "
	     "node by Maglev, the kernel, or a drop) and forwards it. With \\-\\-io pcap it replays "
	     "a capture deterministically; with \\-\\-io xdp it runs on an interface: the XDP program "
	     "and one AF_XDP worker per receive queue; with \\-\\-io dpdk it runs on the DPDK "
	     "ports that EAL probes from the arguments after \\-\\-, one worker per lcore. It runs its own config (\\-\\-config) or the "
	     "generations siphond publishes (\\-\\-siphond).");
	puts(".SH OPTIONS");
	optdoc_man(stdout, opts, O_COUNT);
	puts(".SH ENVIRONMENT\n.TP\n.B SIPHON_BPFFS\nThe BPF file system when \\-\\-bpffs is not given.");
	puts(".SH EXIT STATUS\n0: done (or stopped by SIGTERM). Not 0: bad arguments or a failure, "
	     "said on stderr.");
	puts(".SH SEE ALSO\n.BR siphond (8),\n.BR siphonctl (8),\n.BR siphon.conf (5)");
}

static int parse_args(int argc, char **argv, struct options *o)
{
	struct option longopts[O_COUNT + 1];
	char shorts[8];
	int c;

	optdoc_getopt(opts, O_COUNT, longopts);
	optdoc_shorts(opts, O_COUNT, shorts, sizeof(shorts));
	if (argc < 2) { /* nothing asked: what can be asked */
		usage(stderr);
		return -EINVAL;
	}
	o->kernel_lane = true;
	o->cpu = -1;
	o->frames = 4096;
	o->idle_sleep_us = -1;
	while ((c = getopt_long(argc, argv, shorts, longopts, NULL)) != -1) {
		switch (optdoc_index(opts, O_COUNT, c)) {
		case O_IO: o->io = optarg; break;
		case O_CONFIG: o->config = optarg; break;
		case O_IN: o->in = optarg; break;
		case O_OUT: o->out = optarg; break;
		case O_PUNT: o->punt = optarg; break;
		case O_IFACE: o->iface = optarg; break;
		case O_EGRESS: o->egress = optarg; break;
		case O_BPFFS: o->bpffs = optarg; break;
		case O_TAP: o->punt_tap = optarg; break;
		case O_SUMMARY: o->summary = optarg; break;
		case O_SIPHOND: o->siphond = optarg; break;
		case O_STATE_DIR: o->state_dir = optarg; break;
		case O_EXCEPTION: o->exception_iface = optarg; break;
		case O_SKB: o->skb_mode = true; break;
		case O_ZC: o->zero_copy = true; break;
		case O_COPY: o->copy = true; break;
		case O_DETACH: o->detach = true; break;
		case O_COUNTERS: o->counters = true; break;
		case O_QUEUES:
			if (parse_uint("--queues", optarg, 1, 64, &o->queues))
				return -EINVAL;
			break;
		case O_FRAMES:
			if (parse_uint("--frames", optarg, 512, 1 << 20, &o->frames))
				return -EINVAL;
			break;
		case O_CPU: {
			unsigned cpu;
			if (parse_uint("--cpu", optarg, 0, 4095, &cpu))
				return -EINVAL;
			o->cpu = (int)cpu;
			break;
		}
		case O_COALESCE:
			if (parse_uint("--coalesce-us", optarg, 0, 1000, &o->coalesce_us))
				return -EINVAL;
			o->coalesce_set = true;
			break;
		case O_IDLE: {
			unsigned us;
			if (parse_uint("--idle-sleep-us", optarg, 0, 1000, &us))
				return -EINVAL;
			o->idle_sleep_us = (int)us;
			break;
		}
		case O_STATS:
			if (parse_uint("--stats-interval", optarg, 1, 86400, &o->stats_interval))
				return -EINVAL;
			break;
		case O_SECONDS:
			if (parse_uint("--seconds", optarg, 1, 86400 * 365, &o->seconds))
				return -EINVAL;
			break;
		case O_LANE:
			if (strcmp(optarg, "on") && strcmp(optarg, "off")) {
				fprintf(stderr, "siphon: --kernel-lane '%s': on or off\n", optarg);
				return -EINVAL;
			}
			o->kernel_lane = strcmp(optarg, "on") == 0;
			break;
		case O_HELP: usage(stdout); putchar('\n'); optdoc_help(stdout, opts, O_COUNT); exit(0);
		case O_MAN: print_man(); exit(0);
		case O_VERSION: printf("siphon %s\n", SIPHON_VERSION); exit(0);
		default: usage(stderr); return -EINVAL;
		}
	}
	/* getopt moved the operands before `--` ahead of it: EAL's follow it */
	if (optind > 1 && optind <= argc && strcmp(argv[optind - 1], "--") == 0 && o->io &&
	    strcmp(o->io, "dpdk") == 0) {
		o->eal_argv = argv + optind;
		o->eal_argc = argc - optind;
	} else if (optind < argc) {
		fprintf(stderr, "siphon: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (o->config && o->siphond) {
		fprintf(stderr, "siphon: --config and --siphond exclude each other: --config runs "
				"standalone on its own tables, --siphond takes siphond's\n");
		return -EINVAL;
	}
	if (o->state_dir && !o->siphond) {
		fprintf(stderr, "siphon: --state-dir goes with --siphond\n");
		return -EINVAL;
	}
	if (!o->state_dir)
		o->state_dir = "/var/lib/siphon";
	if (o->exception_iface && !(o->io && strcmp(o->io, "dpdk") == 0)) {
		fprintf(stderr, "siphon: --exception-iface goes with --io dpdk (--io xdp: --punt-tap)\n");
		return -EINVAL;
	}
	if (o->idle_sleep_us >= 0 && !(o->io && strcmp(o->io, "dpdk") == 0)) {
		fprintf(stderr, "siphon: --idle-sleep-us goes with --io dpdk (--io xdp workers sleep "
				"in poll())\n");
		return -EINVAL;
	}
	if (o->coalesce_set && !(o->io && strcmp(o->io, "xdp") == 0)) {
		fprintf(stderr, "siphon: --coalesce-us goes with --io xdp (its AF_XDP workers)\n");
		return -EINVAL;
	}
	if (o->io && strcmp(o->io, "xdp") == 0)
		return check_xdp_args(o);
	if (o->io && strcmp(o->io, "dpdk") == 0)
		return check_dpdk_args(o);
	if (!o->io || strcmp(o->io, "pcap") != 0) {
		fprintf(stderr, "siphon: --io '%s': pcap, xdp or dpdk\n", o->io ? o->io : "");
		return -EINVAL;
	}
	if ((!o->config && !o->siphond) || !o->in || !o->out) {
		fprintf(stderr, "siphon: --io pcap needs --config (or --siphond), --in and --out\n");
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

/* Counter names; ctx is the config or the tables where the names come from. */
static const char *flag_name(unsigned i, const void *cfg)
{
	static char num[16]; /* used at once by json_counter_map */

	if (cfg)
		return ((const struct siphon_config *)cfg)->flags[i].name;
	snprintf(num, sizeof(num), "%u", i);
	return num;
}
static const char *node_name(unsigned i, const void *t)
{
	return ((const struct compiled_tables *)t)->nodes[i].id;
}
static const char *status_name(unsigned i, const void *c) { (void)c; return pkt_status_name(i); }
static const char *reason_name(unsigned i, const void *c) { (void)c; return sip_reason_name(i); }
static const char *dispatch_name(unsigned i, const void *c) { (void)c; return dispatch_by_name(i); }
static const char *outcome_name(unsigned i, const void *c) { (void)c; return pipeline_outcome_name(i); }
static const char *preason_name(unsigned i, const void *c) { (void)c; return pipeline_reason_name(i); }
static const char *frag_name(unsigned i, const void *c) { (void)c; return frag_result_name(i); }

static void add(uint64_t *sum, const uint64_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sum[i] += v[i];
}

void print_pipeline_summary(FILE *f, struct pipeline_worker *const *w, unsigned n,
			    const struct compiled_tables *t, const struct siphon_config *cfg,
			    const struct pipeline_gen *const *gens, int *first)
{
	struct pipeline_counters c = { 0 };
	uint64_t *rule = calloc(t->n_rules + 1, sizeof(*rule));
	uint64_t *node = calloc(t->n_nodes + 1, sizeof(*node));
	uint64_t reused = 0;
	unsigned n_flags = cfg ? cfg->n_flags : SIPHON_MAX_FLAGS;

	if (!rule || !node) {
		free(rule);
		free(node);
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		const struct pipeline_counters *x = &w[i]->c;

		pipeline_counters_add(&c, x);
		add(rule, gens ? gens[i]->rule : x->rule, t->n_rules);
		add(node, gens ? gens[i]->node : x->node, t->n_nodes);
		reused += w[i]->buckets.reused;
	}
	json_key(f, "packets", first);
	fprintf(f, "%llu", (unsigned long long)c.packets);
	json_key(f, "bytes_in", first);
	fprintf(f, "%llu", (unsigned long long)c.bytes_in);
	json_key(f, "bytes_out", first);
	fprintf(f, "%llu", (unsigned long long)c.bytes_out);
	json_counter_map(f, "outcomes", first, c.outcome, PIPELINE__COUNT, outcome_name, NULL, false);
	json_counter_map(f, "packet", first, c.pkt_status, PKT_STATUS__COUNT, status_name, NULL, false);
	json_counter_map(f, "reasons", first, c.sip_reason, SIP_REASON__COUNT, reason_name, NULL, false);
	json_counter_map(f, "packet_reasons", first, c.reason, PIPELINE_REASON__COUNT, preason_name, NULL,
			 false);
	json_counter_map(f, "dispatch", first, c.dispatch_by, DISPATCH_BY__COUNT, dispatch_name, NULL, false);
	json_counter_map(f, "fragments", first, c.fragments, FRAG_RESULT__COUNT, frag_name, NULL, false);
	/* without the config, flags have no names here: the non-zero ones by index */
	json_counter_map(f, "flags", first, c.flag, n_flags, flag_name, cfg, !cfg);
	json_counter_map(f, "nodes", first, node, t->n_nodes, node_name, t, false);
	json_key(f, "pools", first);
	fputc('{', f);
	for (unsigned p = 0, inner = 1; p < t->n_pools; p++) {
		uint64_t sum = 0;
		int in = (int)inner;

		for (unsigned k = 0; k < t->n_nodes; k++)
			if (t->nodes[k].pool == p)
				sum += node[k];
		json_key(f, t->pool_names[p], &in);
		inner = 0;
		fprintf(f, "%llu", (unsigned long long)sum);
	}
	fputc('}', f);
	json_key(f, "rules", first);
	fputc('[', f);
	for (unsigned i = 0; i < t->n_rules; i++) {
		if (cfg)
			fprintf(f, "%s{\"line\":%d,\"count\":%llu}", i ? "," : "", cfg->rules[i].line,
				(unsigned long long)rule[i]);
		else
			fprintf(f, "%s{\"index\":%u,\"count\":%llu}", i ? "," : "", i,
				(unsigned long long)rule[i]);
	}
	fputc(']', f);
	json_key(f, "tcp", first);
	fprintf(f, "%llu", (unsigned long long)c.tcp);
	json_key(f, "ratelimit_buckets_reused", first);
	fprintf(f, "%llu", (unsigned long long)reused);
	free(rule);
	free(node);
}

void print_receiver_members(FILE *f, const struct gen_receiver *r, int *inner)
{
	json_key(f, "running", inner);
	fprintf(f, "%llu", (unsigned long long)r->running);
	json_key(f, "connected", inner);
	fputs(r->fd >= 0 ? "true" : "false", f);
	for (unsigned k = 0; k < gen_receiver_counter_count(); k++) {
		json_key(f, gen_receiver_counter_name(k), inner);
		fprintf(f, "%llu", (unsigned long long)gen_receiver_counter(r, k));
	}
}

/* SIGHUP means "reload" to daemons; siphon cannot reload yet (a restart
 * takes over without a gap, docs/afxdp.md), and must not die of it either. */
static void on_sighup(int sig)
{
	static const char msg[] = "siphon: SIGHUP ignored: reload comes with siphond "
				  "(restart siphon to load a new config)\n";
	ssize_t n;

	(void)sig;
	n = write(STDERR_FILENO, msg, sizeof(msg) - 1); /* async-signal-safe */
	(void)n;
}

/* The fast path runs only tables opened from a blob, as it will with
 * siphond publishing generations: the config's own tables stay for names. */
static int open_as_blob(const struct siphon_config *cfg, void **blob, struct compiled_tables *t)
{
	char err[256];
	size_t len;
	int rc = tables_blob_build(&cfg->tables, 1, blob, &len);

	if (rc) {
		fprintf(stderr, "siphon: %s: building the table blob: %s\n", cfg->path, strerror(-rc));
		return rc;
	}
	rc = tables_blob_open(*blob, len, t, err, sizeof(err));
	if (rc)
		fprintf(stderr, "siphon: %s: the table blob does not open: %s\n", cfg->path, err);
	return rc;
}

/* Nodes given by name are resolved by siphond (docs/dns.md): alone, siphon
 * would run without them, so it refuses the config. */
static int refuse_names(const struct siphon_config *cfg)
{
	const char *pool;
	const struct cfg_name *n = config_first_name(cfg, &pool);

	if (!n)
		return 0;
	fprintf(stderr, "siphon: %s:%d: pool %s: node %s: %s \"%s\" is a name, which siphond "
		"resolves (docs/dns.md); siphon --config alone does not: give the node an "
		"address, or run siphon --siphond with siphond\n", cfg->path, n->line, pool, n->name,
		config_name_kind(n->kind), n->host);
	return 1;
}

/* --siphond: the first generation, then the backend. */
static int main_siphond(const struct options *o)
{
	static struct gen_receiver r;
	struct gen_generation *g = NULL;
	int rc;

	if (siphond_first(o, &r, &g))
		return 1;
	if (strcmp(o->io, "xdp") == 0)
		return run_xdp(o, NULL, &g->t, &r, g); /* g is taken over */
	if (strcmp(o->io, "dpdk") == 0)
		return run_dpdk(o, NULL, &g->t, &r, g); /* likewise */
	rc = gen_receiver_ack_pending(&r); /* pcap runs it from now on */
	rc = rc ? 1 : run_pcap(o, NULL, &g->t, &r); /* its counters go to siphond at the end */
	gen_receiver_close(&r);
	gen_generation_free(g);
	return rc;
}

int main(int argc, char **argv)
{
	static struct compiled_tables tables;
	/* SA_RESTART: a read of --in blocked on a pipe goes on after it */
	struct sigaction hup = { .sa_handler = on_sighup, .sa_flags = SA_RESTART };
	struct options o = { 0 };
	struct config_error err;
	struct siphon_config *cfg;
	void *blob = NULL;
	int rc;

	sigaction(SIGHUP, &hup, NULL);
	if (parse_args(argc, argv, &o))
		return 2;
	if (strcmp(o.io, "xdp") == 0 && (o.detach || o.counters))
		return run_xdp_admin(&o);
	if (o.siphond)
		return main_siphond(&o);
	if (config_load(o.config, &cfg, &err)) {
		fprintf(stderr, "siphon: %s\n", err.text);
		return 1;
	}
	if (refuse_names(cfg)) {
		config_free(cfg);
		return 1;
	}
	if (open_as_blob(cfg, &blob, &tables))
		rc = 1;
	else
		rc = strcmp(o.io, "xdp") == 0  ? run_xdp(&o, cfg, &tables, NULL, NULL) :
		     strcmp(o.io, "dpdk") == 0 ? run_dpdk(&o, cfg, &tables, NULL, NULL) :
						 run_pcap(&o, cfg, &tables, NULL);
	free(blob);
	config_free(cfg);
	return rc;
}
