/* bench-trafficgen: SIP over UDP/IPv4 at line rate out of a veth, with the
 * live-frames method (docs/lab.md, docs/bench-xdp.md).
 *
 *   bench-trafficgen [--iface IF] [--seconds S] [--count N] [--threads T]
 *                    [--cpu C] [--batch B] [--pcap FILE]
 *
 * trafficgen.bpf.c is run by bpf_prog_test_run_opts() with
 * BPF_F_TEST_XDP_LIVE_FRAMES; it writes one frame of the mix per run and
 * returns XDP_TX, so the frame leaves through IF (sph-c-lb: it arrives at
 * siphon's sph-lb-c). The mix is what a carrier's ingress sees from a peer:
 * INVITE with SDP, ACK and BYE of the same call, OPTIONS and REGISTER, each
 * call with its own Call-ID, from the caller 198.18.1.2:5060 to the VIP
 * 198.18.0.10:5060. T threads, pinned to CPUs C..C+T-1 (veth puts a frame
 * on the receive queue of the sending CPU). Stops after S seconds or N
 * frames, whichever is first, and prints one JSON line. --pcap writes two
 * rounds of the mix to FILE instead of sending (for siphonctl explain). */
#include <arpa/inet.h>
#include <getopt.h>
#include <linux/if_link.h>
#include <stdbool.h>

#include "bench_tool.h"
#include "bench_xdp.h"
#include "trafficgen.skel.h"

#define CHUNK 65536 /* frames per test run: a deadline check every ~20 ms */

struct options {
	const char *iface, *pcap;
	double seconds;
	unsigned long long count, threads, cpu, batch;
};

/* --- the mix ------------------------------------------------------------ */

/* "@" x BENCH_MARK_LEN: where the call number goes. */
#define MARK "@@@@@@@@@@@@@@@@"
#define CALLER "198.18.1.2"
#define VIA "Via: SIP/2.0/UDP " CALLER ":5060;rport;branch=z9hG4bK"
#define FROM "From: \"Bench Caller\" <sip:+13125550123@" CALLER ";user=phone>;tag=" MARK "\r\n"
#define TO_USER "<sip:+12025550100@198.18.0.10;user=phone>"
#define CALL_ID "Call-ID: " MARK "@" CALLER "\r\n"

enum mix_tmpl { T_INVITE, T_ACK, T_BYE, T_OPTIONS, T_REGISTER, T__COUNT };

/* The SIP text of a template up to "Content-Length: "; the length and the
 * body are added by sip_text(). */
static const struct mix_kind {
	const char *name, *head, *body;
} kinds[T__COUNT] = {
	[T_INVITE] = { "INVITE",
		"INVITE sip:+12025550100@198.18.0.10:5060;user=phone SIP/2.0\r\n"
		VIA "i" MARK "\r\n"
		"Max-Forwards: 70\r\n" FROM
		"To: " TO_USER "\r\n" CALL_ID
		"CSeq: 1 INVITE\r\n"
		"Contact: <sip:+13125550123@" CALLER ":5060;transport=udp>\r\n"
		"Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, PRACK, UPDATE, INFO, REFER, NOTIFY\r\n"
		"Supported: 100rel, timer, replaces\r\n"
		"Session-Expires: 1800;refresher=uac\r\n"
		"User-Agent: siphon-bench/1\r\n"
		"Content-Type: application/sdp\r\n"
		"Content-Length: ",
		"v=0\r\n"
		"o=- 3724394400 3724394400 IN IP4 " CALLER "\r\n"
		"s=-\r\n"
		"c=IN IP4 " CALLER "\r\n"
		"t=0 0\r\n"
		"m=audio 49170 RTP/AVP 0 8 9 101\r\n"
		"a=rtpmap:0 PCMU/8000\r\n"
		"a=rtpmap:8 PCMA/8000\r\n"
		"a=rtpmap:9 G722/8000\r\n"
		"a=rtpmap:101 telephone-event/8000\r\n"
		"a=fmtp:101 0-16\r\n"
		"a=ptime:20\r\n"
		"a=sendrecv\r\n" },
	[T_ACK] = { "ACK",
		"ACK sip:+12025550100@198.18.0.10:5060;user=phone SIP/2.0\r\n"
		VIA "a" MARK "\r\n"
		"Max-Forwards: 70\r\n" FROM
		"To: " TO_USER ";tag=core-as7f3\r\n" CALL_ID
		"CSeq: 1 ACK\r\n"
		"Content-Length: ", "" },
	[T_BYE] = { "BYE",
		"BYE sip:+12025550100@198.18.0.10:5060;user=phone SIP/2.0\r\n"
		VIA "b" MARK "\r\n"
		"Max-Forwards: 70\r\n" FROM
		"To: " TO_USER ";tag=core-as7f3\r\n" CALL_ID
		"CSeq: 2 BYE\r\n"
		"Reason: Q.850;cause=16;text=\"Normal call clearing\"\r\n"
		"User-Agent: siphon-bench/1\r\n"
		"Content-Length: ", "" },
	/* Not to the balancer itself (that one siphon answers): a keepalive
	 * toward a core user, forwarded like the rest. */
	[T_OPTIONS] = { "OPTIONS",
		"OPTIONS sip:keepalive@core.siphon.test SIP/2.0\r\n"
		VIA "o" MARK "\r\n"
		"Max-Forwards: 70\r\n"
		"From: <sip:monitor@" CALLER ">;tag=" MARK "\r\n"
		"To: <sip:keepalive@core.siphon.test>\r\n" CALL_ID
		"CSeq: 1 OPTIONS\r\n"
		"Accept: application/sdp\r\n"
		"User-Agent: siphon-bench/1\r\n"
		"Content-Length: ", "" },
	[T_REGISTER] = { "REGISTER",
		"REGISTER sip:core.siphon.test SIP/2.0\r\n"
		VIA "r" MARK "\r\n"
		"Max-Forwards: 70\r\n"
		"From: <sip:+13125550123@core.siphon.test>;tag=" MARK "\r\n"
		"To: <sip:+13125550123@core.siphon.test>\r\n" CALL_ID
		"CSeq: 42 REGISTER\r\n"
		"Contact: <sip:+13125550123@" CALLER ":5060>;expires=600\r\n"
		"Authorization: Digest username=\"+13125550123\", realm=\"core.siphon.test\", "
		"nonce=\"c2lwaG9uLWJlbmNo\", uri=\"sip:core.siphon.test\", "
		"response=\"0123456789abcdef0123456789abcdef\", algorithm=MD5\r\n"
		"User-Agent: siphon-bench/1\r\n"
		"Content-Length: ", "" },
};

/* One round: four calls (INVITE, ACK, BYE, interleaved), two OPTIONS and
 * two REGISTERs; call numbers 0..7 of the round. */
#define MIX_CALLS 8
static const struct bench_slot mix[] = {
	{ T_INVITE, 0 }, { T_INVITE, 1 }, { T_ACK, 0 },      { T_OPTIONS, 4 },
	{ T_INVITE, 2 }, { T_ACK, 1 },    { T_BYE, 0 },      { T_REGISTER, 6 },
	{ T_INVITE, 3 }, { T_ACK, 2 },    { T_BYE, 1 },      { T_OPTIONS, 5 },
	{ T_ACK, 3 },    { T_BYE, 2 },    { T_REGISTER, 7 }, { T_BYE, 3 },
};
#define MIX_LEN (sizeof(mix) / sizeof(mix[0]))
_Static_assert(MIX_LEN <= BENCH_SCHED_MAX, "the mix fits the schedule");
_Static_assert(T__COUNT <= BENCH_TMPL_COUNT, "the templates fit the map");

static uint16_t ip_csum(const uint8_t *p, size_t len)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Ethernet + IPv4 + UDP (checksum 0: none, valid for IPv4) + the SIP text;
 * the marks found in the text. 0 or -E2BIG. */
static int build_tmpl(const struct mix_kind *k, struct bench_tmpl *t)
{
	static const uint8_t dmac[6] = { 0x02, 0, 0, 0x18, 0x00, 0x01 }; /* LAB_MAC_LB */
	static const uint8_t smac[6] = { 0x02, 0, 0, 0x18, 0x01, 0x02 }; /* LAB_MAC_CALLER */
	char sip[BENCH_TMPL_MAX];
	uint8_t *f = t->data, *ip = f + 14, *udp = ip + 20;
	struct in_addr src, dst;
	int n;

	n = snprintf(sip, sizeof(sip), "%s%zu\r\n\r\n%s", k->head, strlen(k->body), k->body);
	if (n < 0 || (size_t)n + 42 > BENCH_TMPL_MAX)
		return -E2BIG;
	memset(t, 0, sizeof(*t));
	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	f[12] = 0x08, f[13] = 0x00;
	inet_pton(AF_INET, LAB_CALLER4, &src);
	inet_pton(AF_INET, LAB_VIP4, &dst);
	ip[0] = 0x45;
	ip[2] = (uint8_t)((20 + 8 + n) >> 8), ip[3] = (uint8_t)(20 + 8 + n);
	ip[6] = 0x40; /* DF */
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, &src, 4);
	memcpy(ip + 16, &dst, 4);
	uint16_t c = ip_csum(ip, 20);
	ip[10] = (uint8_t)(c >> 8), ip[11] = (uint8_t)c;
	udp[0] = LAB_SIP_PORT >> 8, udp[1] = LAB_SIP_PORT & 0xff;
	udp[2] = LAB_SIP_PORT >> 8, udp[3] = LAB_SIP_PORT & 0xff;
	udp[4] = (uint8_t)((8 + n) >> 8), udp[5] = (uint8_t)(8 + n);
	memcpy(udp + 8, sip, (size_t)n);
	t->len = (unsigned int)(42 + n);
	for (const char *p = sip; (p = strstr(p, MARK)); p += BENCH_MARK_LEN) {
		if (t->n_marks == BENCH_MARKS)
			return -E2BIG;
		t->marks[t->n_marks++] = (unsigned short)(42 + (p - sip));
	}
	return 0;
}

/* As trafficgen.bpf.c does: the call number in hex at every mark. */
static void apply_marks(uint8_t *frame, const struct bench_tmpl *t, uint64_t call)
{
	char hex[BENCH_MARK_LEN + 1];

	snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)call);
	for (unsigned int i = 0; i < t->n_marks; i++)
		memcpy(frame + t->marks[i], hex, BENCH_MARK_LEN);
}

static int write_pcap(const char *path, const struct bench_tmpl *tmpl)
{
	const uint32_t ghdr[6] = { 0xa1b2c3d4, 2 | 4u << 16, 0, 0, 65535, 1 /* Ethernet */ };
	FILE *f = fopen(path, "wb");
	uint8_t frame[BENCH_TMPL_MAX];
	int err = 0;

	if (!f) {
		err = -errno;
		fprintf(stderr, "--pcap: %s: %s\n", path, strerror(errno));
		return err;
	}
	fwrite(ghdr, sizeof(ghdr), 1, f);
	for (unsigned int n = 0; n < 2 * MIX_LEN; n++) {
		const struct bench_slot *s = &mix[n % MIX_LEN];
		const struct bench_tmpl *t = &tmpl[s->tmpl];
		uint32_t rec[4] = { 1700000000, n * 1000, t->len, t->len };

		memcpy(frame, t->data, t->len);
		apply_marks(frame, t, (uint64_t)(n / MIX_LEN) * MIX_CALLS + s->call);
		fwrite(rec, sizeof(rec), 1, f);
		fwrite(frame, t->len, 1, f);
	}
	if (fclose(f)) {
		err = -errno;
		fprintf(stderr, "--pcap: %s: %s\n", path, strerror(errno));
	}
	return err;
}

/* --- sending -------------------------------------------------------------- */

struct worker {
	pthread_t tid;
	int prog_fd, ifindex, cpu, err;
	unsigned int batch;
	unsigned long long quota, sent; /* frames to run, frames run */
	double deadline;
	const uint8_t *frame;
	unsigned int frame_len;
};

static int stop, finished; /* set by main; workers done */

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct xdp_md md = { .data_end = w->frame_len, .ingress_ifindex = (__u32)w->ifindex };
	int err = tool_pin(w->cpu);

	if (err) {
		w->err = err;
		return NULL;
	}
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED) && w->sent < w->quota &&
	       tool_now() < w->deadline) {
		unsigned long long left = w->quota - w->sent;
		LIBBPF_OPTS(bpf_test_run_opts, o,
			.data_in = w->frame, .data_size_in = w->frame_len,
			.ctx_in = &md, .ctx_size_in = sizeof(md),
			.repeat = (__u32)(left < CHUNK ? left : CHUNK),
			.flags = BPF_F_TEST_XDP_LIVE_FRAMES,
			.batch_size = w->batch);

		if (bpf_prog_test_run_opts(w->prog_fd, &o)) {
			if (errno == EINTR)
				continue;
			w->err = -errno;
			break;
		}
		w->sent += o.repeat;
	}
	__atomic_add_fetch(&finished, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bench-trafficgen [--iface IF] [--seconds S] [--count N] [--threads T]\n"
		   "                        [--cpu C] [--batch B] [--pcap FILE]\n"
		   "  SIP frames (INVITE+SDP, ACK, BYE, OPTIONS, REGISTER; a Call-ID per call)\n"
		   "  from %s:%d to %s:%d, sent with XDP_TX out of IF (default %s)\n"
		   "  for S seconds (default 5) or N frames, with T threads on CPUs C.. (1, 0).\n"
		   "  --pcap FILE: write two rounds of the mix to FILE, send nothing.\n",
		LAB_CALLER4, LAB_SIP_PORT, LAB_VIP4, LAB_SIP_PORT, LAB_IF_CALLER);
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "iface", required_argument, NULL, 'i' },  { "seconds", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'n' },  { "threads", required_argument, NULL, 't' },
		{ "cpu", required_argument, NULL, 'c' },    { "batch", required_argument, NULL, 'b' },
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

int main(int argc, char **argv)
{
	struct bench_tmpl tmpl[T__COUNT];
	struct trafficgen_bpf *skel = NULL;
	struct worker *w = NULL;
	struct options o;
	unsigned long long st[4], sent = 0;
	unsigned int max_len = 0;
	double t0, t1;
	sigset_t sigs;
	int ifindex, err, sig = 0;

	if (parse_args(argc, argv, &o))
		return 2;
	for (int i = 0; i < T__COUNT; i++) {
		if (build_tmpl(&kinds[i], &tmpl[i])) {
			fprintf(stderr, "bench-trafficgen: template %s is too big\n", kinds[i].name);
			return 1;
		}
		if (tmpl[i].len > max_len)
			max_len = tmpl[i].len;
	}
	if (o.pcap)
		return write_pcap(o.pcap, tmpl) ? 1 : 0;

	ifindex = tool_ifindex("--iface", o.iface);
	if (ifindex < 0)
		return 1;
	tool_block_signals(&sigs);

	skel = trafficgen_bpf__open();
	if (!skel) {
		err = -errno;
		fprintf(stderr, "bench-trafficgen: open: %s\n", strerror(-err));
		return 1;
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
		goto out;
	}
	for (__u32 i = 0; i < T__COUNT; i++) {
		if (bpf_map_update_elem(bpf_map__fd(skel->maps.templates), &i, &tmpl[i], 0)) {
			err = -errno;
			fprintf(stderr, "bench-trafficgen: templates: %s\n", strerror(-err));
			goto out;
		}
	}

	w = calloc(o.threads, sizeof(*w));
	if (!w) {
		err = -ENOMEM;
		goto out;
	}
	t0 = tool_now();
	for (unsigned int i = 0; i < o.threads; i++) {
		w[i] = (struct worker){
			.prog_fd = bpf_program__fd(skel->progs.trafficgen), .ifindex = ifindex,
			.cpu = (int)(o.cpu + i), .batch = (unsigned int)o.batch,
			.quota = o.count / o.threads + (i < o.count % o.threads),
			.deadline = t0 + o.seconds, .frame = tmpl[T_INVITE].data, .frame_len = max_len,
		};
		err = -pthread_create(&w[i].tid, NULL, worker_main, &w[i]);
		if (err) {
			o.threads = i;
			__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
			break;
		}
	}
	/* the workers watch the deadline and their quota; a signal ends them early */
	if (!err) {
		alarm((unsigned int)o.seconds + 2);
		while (!sig && __atomic_load_n(&finished, __ATOMIC_ACQUIRE) < (int)o.threads) {
			double next = tool_now() + 0.05;

			sig = tool_wait(&sigs, next < t0 + o.seconds ? next : t0 + o.seconds);
			if (!sig && tool_now() >= t0 + o.seconds)
				break;
		}
		__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	}
	for (unsigned int i = 0; i < o.threads; i++) {
		pthread_join(w[i].tid, NULL);
		sent += w[i].sent;
		if (w[i].err && !err) {
			err = w[i].err;
			fprintf(stderr, "bench-trafficgen: cpu %d: %s\n", w[i].cpu, strerror(-err));
		}
	}
	t1 = tool_now();
	if (tool_percpu_sum(bpf_map__fd(skel->maps.gen_state), 0, 4, st))
		memset(st, 0, sizeof(st));
	printf("{\"tool\":\"trafficgen\",\"iface\":\"%s\",\"threads\":%llu,\"runs\":%llu,"
	       "\"frames\":%llu,\"bytes\":%llu,\"errors\":%llu,\"seconds\":%.3f,"
	       "\"mpps\":%.3f,\"avg_bytes\":%.1f,\"signal\":%d}\n",
	       o.iface, o.threads, sent, st[1], st[2], st[3], t1 - t0,
	       (double)st[1] / (t1 - t0) / 1e6, st[1] ? (double)st[2] / (double)st[1] : 0.0,
	       sig > 0 ? sig : 0);
out:
	free(w);
	trafficgen_bpf__destroy(skel);
	return err ? 1 : 0;
}
