/* bench-trafficgen: SIP over UDP/IPv4 at line rate out of a veth
 * (docs/lab.md, docs/bench-xdp.md "Generators").
 *
 *   bench-trafficgen [--iface IF] [--seconds S] [--count N] [--threads T]
 *                    [--cpu C] [--batch B] [--mode auto|live|packet] [--probe]
 *                    [--pcap FILE]
 *
 * Two ways to send the same mix (trafficgen_mix.c), --mode:
 * - live: trafficgen.bpf.c run by bpf_prog_test_run_opts() with
 *   BPF_F_TEST_XDP_LIVE_FRAMES writes one frame of the mix per run and
 *   returns XDP_TX, so the frame leaves through IF (sph-c-lb: it arrives at
 *   siphon's sph-lb-c);
 * - packet: an AF_PACKET socket with a PACKET_TX_RING on IF
 *   (trafficgen_packet.c), for kernels that refuse live frames;
 * - auto (the default): live if this kernel runs a live-frames test run
 *   (tried once on the loopback, where nothing leaves), packet otherwise.
 * T threads, pinned to CPUs C..C+T-1 (veth puts a frame on the receive
 * queue of the sending CPU). Stops after S seconds or N frames, whichever is
 * first, or at SIGINT/SIGTERM, and prints one JSON line naming the
 * generator. --probe prints the generator --mode would use and sends
 * nothing (exit 1 when it is live and live frames are refused). --pcap
 * writes two rounds of the mix to FILE instead of sending (for siphonctl
 * explain). */
#include <getopt.h>
#include <linux/if_link.h>
#include <stdbool.h>

#include "bench_tool.h"
#include "trafficgen.h"
#include "trafficgen.skel.h"

#define CHUNK 65536 /* frames per test run: a deadline check every ~20 ms */

enum gen_mode { MODE_AUTO, MODE_LIVE, MODE_PACKET };
static const char *const mode_names[] = { "auto", "live", "packet" };

struct options {
	const char *iface, *pcap;
	double seconds;
	unsigned long long count, threads, cpu, batch;
	enum gen_mode mode;
	bool probe;
};

/* --- live frames ---------------------------------------------------------- */

/* One live-frames test run of the generator program (repeat frames);
 * 0 or -errno. */
static int live_run(int prog_fd, int ifindex, const uint8_t *frame, unsigned int len,
		    unsigned int repeat, unsigned int batch)
{
	struct xdp_md md = { .data_end = len, .ingress_ifindex = (__u32)ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o,
		.data_in = frame, .data_size_in = len,
		.ctx_in = &md, .ctx_size_in = sizeof(md),
		.repeat = repeat,
		.flags = BPF_F_TEST_XDP_LIVE_FRAMES,
		.batch_size = batch);

	return bpf_prog_test_run_opts(prog_fd, &o) ? -errno : 0;
}

static void *live_worker_main(void *arg)
{
	struct gen_worker *w = arg;

	w->err = tool_pin(w->cpu);
	while (!w->err && !__atomic_load_n(w->stop, __ATOMIC_RELAXED) && w->sent < w->quota &&
	       tool_now() < w->deadline) {
		unsigned long long left = w->quota - w->sent;
		unsigned int repeat = (unsigned int)(left < CHUNK ? left : CHUNK);

		w->err = live_run(w->prog_fd, w->ifindex, w->frame, w->frame_len, repeat, w->batch);
		if (w->err == -EINTR)
			w->err = 0;
		else if (!w->err)
			w->sent += repeat;
	}
	if (w->err)
		fprintf(stderr, "bench-trafficgen: cpu %d: %s\n", w->cpu, strerror(-w->err));
	__atomic_add_fetch(w->finished, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* The generator program loaded with the mix's schedule and templates;
 * NULL with a message. */
static struct trafficgen_bpf *live_load(const struct bench_tmpl *tmpl)
{
	struct trafficgen_bpf *skel = trafficgen_bpf__open();
	int err;

	if (!skel) {
		fprintf(stderr, "bench-trafficgen: open: %s\n", strerror(errno));
		return NULL;
	}
	for (unsigned int i = 0; i < MIX_LEN; i++) {
		skel->rodata->sched[i].tmpl = mix[i].tmpl;
		skel->rodata->sched[i].call = mix[i].call;
	}
	skel->rodata->sched_len = MIX_LEN;
	skel->rodata->calls_per_round = MIX_CALLS;
	err = trafficgen_bpf__load(skel);
	if (err) {
		fprintf(stderr, "bench-trafficgen: load: %s\n", strerror(-err));
		goto fail;
	}
	for (__u32 i = 0; i < T__COUNT; i++) {
		if (bpf_map_update_elem(bpf_map__fd(skel->maps.templates), &i, &tmpl[i], 0)) {
			fprintf(stderr, "bench-trafficgen: templates: %s\n", strerror(errno));
			goto fail;
		}
	}
	return skel;
fail:
	trafficgen_bpf__destroy(skel);
	return NULL;
}

/* Whether this kernel runs live frames: one run with the loopback as the
 * ingress device, where XDP_TX goes nowhere (lo cannot transmit XDP
 * frames), so nothing leaves IF. 0, or the -errno the kernel gave (EPERM on
 * some kernels, docs/bench-xdp.md "Live frames"). The program's counters
 * are cleared again after the try. */
static int live_probe(struct trafficgen_bpf *skel, const struct bench_tmpl *tmpl)
{
	int err = live_run(bpf_program__fd(skel->progs.trafficgen), 1 /* lo */, tmpl[T_ACK].data,
			   tmpl[T_ACK].len, 1, 0);
	int ncpu = libbpf_num_possible_cpus();
	struct bench_gen_state *zero;
	__u32 key = 0;

	if (ncpu > 0 && (zero = calloc((size_t)ncpu, sizeof(*zero)))) {
		bpf_map_update_elem(bpf_map__fd(skel->maps.gen_state), &key, zero, 0);
		free(zero);
	}
	return err;
}

/* --- the run ----------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f, "usage: bench-trafficgen [--iface IF] [--seconds S] [--count N] [--threads T]\n"
		   "                        [--cpu C] [--batch B] [--mode auto|live|packet] [--probe]\n"
		   "                        [--pcap FILE]\n"
		   "  SIP frames (INVITE+SDP, ACK, BYE, OPTIONS, REGISTER; a Call-ID per call)\n"
		   "  from %s:%d to %s:%d out of IF (default %s)\n"
		   "  for S seconds (default 5) or N frames, with T threads on CPUs C.. (1, 0),\n"
		   "  B frames a batch (64). --mode: live frames (XDP_TX of a test run), an\n"
		   "  AF_PACKET TX ring, or auto: live if the kernel allows it (default).\n"
		   "  --probe: print the generator --mode picks, send nothing.\n"
		   "  --pcap FILE: write two rounds of the mix to FILE, send nothing.\n",
		LAB_CALLER4, LAB_SIP_PORT, LAB_VIP4, LAB_SIP_PORT, LAB_IF_CALLER);
}

static int parse_mode(const char *s, enum gen_mode *mode)
{
	for (int m = MODE_AUTO; m <= MODE_PACKET; m++) {
		if (!strcmp(s, mode_names[m])) {
			*mode = (enum gen_mode)m;
			return 0;
		}
	}
	fprintf(stderr, "--mode: '%s' is not one of auto, live, packet\n", s);
	return -EINVAL;
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "iface", required_argument, NULL, 'i' },  { "seconds", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'n' },  { "threads", required_argument, NULL, 't' },
		{ "cpu", required_argument, NULL, 'c' },    { "batch", required_argument, NULL, 'b' },
		{ "mode", required_argument, NULL, 'm' },   { "probe", no_argument, NULL, 'P' },
		{ "pcap", required_argument, NULL, 'p' },   { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long long secs = 5;
	int c, err = 0;

	*o = (struct options){ .iface = LAB_IF_CALLER, .count = ULLONG_MAX, .threads = 1,
			       .batch = 64 };
	while (!err && (c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'i': o->iface = optarg; break;
		case 's': err = tool_parse_u64("--seconds", optarg, 1, BENCH_MAX_SECONDS, &secs); break;
		case 'n': err = tool_parse_u64("--count", optarg, 1, ULLONG_MAX - 1, &o->count); break;
		case 't': err = tool_parse_u64("--threads", optarg, 1, 64, &o->threads); break;
		case 'c': err = tool_parse_u64("--cpu", optarg, 0, CPU_SETSIZE - 1, &o->cpu); break;
		case 'b': err = tool_parse_u64("--batch", optarg, 1, 256, &o->batch); break;
		case 'm': err = parse_mode(optarg, &o->mode); break;
		case 'P': o->probe = true; break;
		case 'p': o->pcap = optarg; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -EINVAL;
		}
	}
	if (!err && optind < argc) {
		fprintf(stderr, "bench-trafficgen: unexpected argument '%s'\n", argv[optind]);
		err = -EINVAL;
	}
	o->seconds = (double)secs;
	return err;
}

/* IF's tx_dropped (frames the veth could not hand its peer), or -1. */
static long long tx_dropped(const char *iface)
{
	char path[128];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/tx_dropped", iface);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%lld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* Starts the workers, waits for them (or a signal) and sums up; 0 or the
 * first worker's -errno. */
static int run_workers(struct gen_worker *w, unsigned int n, void *(*main_fn)(void *),
		       const sigset_t *sigs, double end, int *sig)
{
	static int stop, finished;
	int err = 0;

	for (unsigned int i = 0; i < n; i++) {
		w[i].stop = &stop;
		w[i].finished = &finished;
		err = -pthread_create(&w[i].tid, NULL, main_fn, &w[i]);
		if (err) {
			fprintf(stderr, "bench-trafficgen: thread: %s\n", strerror(-err));
			n = i;
			break;
		}
	}
	/* the workers watch the deadline and their quota; a signal ends them early */
	alarm((unsigned int)(end - tool_now()) + 2);
	while (!err && !*sig && __atomic_load_n(&finished, __ATOMIC_ACQUIRE) < (int)n) {
		double next = tool_now() + 0.05;

		*sig = tool_wait(sigs, next < end ? next : end);
		if (!*sig && tool_now() >= end)
			break;
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (unsigned int i = 0; i < n; i++) {
		pthread_join(w[i].tid, NULL);
		if (w[i].err && !err)
			err = w[i].err;
	}
	return err;
}

int main(int argc, char **argv)
{
	struct bench_tmpl tmpl[T__COUNT];
	struct trafficgen_bpf *skel = NULL;
	struct gen_worker *w = NULL;
	struct options o;
	unsigned long long frames = 0, bytes = 0, errors = 0;
	unsigned int max_len;
	long long drop0, drop1;
	enum gen_mode mode;
	double t0, t1;
	sigset_t sigs;
	int ifindex, err = 0, sig = 0, live_err = 0;

	if (parse_args(argc, argv, &o))
		return 2;
	if (mix_build(tmpl, &max_len))
		return 1;
	if (o.pcap)
		return mix_write_pcap(o.pcap, tmpl) ? 1 : 0;

	ifindex = tool_ifindex("--iface", o.iface);
	if (ifindex < 0)
		return 1;
	tool_block_signals(&sigs);

	mode = o.mode;
	if (mode != MODE_PACKET) {
		skel = live_load(tmpl);
		live_err = skel ? live_probe(skel, tmpl) : -ENOENT;
		if (live_err && mode == MODE_LIVE) {
			fprintf(stderr, "bench-trafficgen: this kernel refuses live frames: %s "
					"(--mode packet or auto)\n", strerror(-live_err));
			err = live_err;
			goto out;
		}
		mode = live_err ? MODE_PACKET : MODE_LIVE;
		if (live_err)
			fprintf(stderr, "bench-trafficgen: live frames: %s; sending with an AF_PACKET "
					"TX ring\n", strerror(-live_err));
	}
	if (o.probe) {
		printf("{\"tool\":\"trafficgen\",\"generator\":\"%s\",\"live_error\":\"%s\"}\n",
		       mode_names[mode], live_err ? strerror(-live_err) : "");
		goto out;
	}

	w = calloc(o.threads, sizeof(*w));
	if (!w) {
		err = -ENOMEM;
		goto out;
	}
	drop0 = tx_dropped(o.iface);
	t0 = tool_now();
	for (unsigned int i = 0; i < o.threads; i++) {
		w[i] = (struct gen_worker){
			.cpu = (int)(o.cpu + i), .ifindex = ifindex, .batch = (unsigned int)o.batch,
			.quota = o.count / o.threads + (i < o.count % o.threads),
			.deadline = t0 + o.seconds, .tmpl = tmpl,
			.prog_fd = skel ? bpf_program__fd(skel->progs.trafficgen) : -1,
			.frame = tmpl[T_INVITE].data, .frame_len = max_len,
		};
	}
	err = run_workers(w, (unsigned int)o.threads,
			  mode == MODE_LIVE ? live_worker_main : packet_worker_main, &sigs,
			  t0 + o.seconds, &sig);
	t1 = tool_now();
	drop1 = tx_dropped(o.iface);
	if (mode == MODE_LIVE) { /* what the program built, from its counters */
		unsigned long long st[4];

		if (!tool_percpu_sum(bpf_map__fd(skel->maps.gen_state), 0, 4, st))
			frames = st[1], bytes = st[2], errors = st[3];
	} else {
		for (unsigned int i = 0; i < o.threads; i++)
			frames += w[i].sent, bytes += w[i].bytes;
	}
	printf("{\"tool\":\"trafficgen\",\"generator\":\"%s\",\"iface\":\"%s\",\"threads\":%llu,"
	       "\"frames\":%llu,\"bytes\":%llu,\"errors\":%llu,\"tx_dropped\":%lld,"
	       "\"seconds\":%.3f,\"mpps\":%.3f,\"avg_bytes\":%.1f,\"signal\":%d}\n",
	       mode_names[mode], o.iface, o.threads, frames, bytes, errors,
	       drop0 >= 0 && drop1 >= drop0 ? drop1 - drop0 : -1LL, t1 - t0,
	       (double)frames / (t1 - t0) / 1e6, frames ? (double)bytes / (double)frames : 0.0,
	       sig > 0 ? sig : 0);
out:
	free(w);
	trafficgen_bpf__destroy(skel);
	return err ? 1 : 0;
}
