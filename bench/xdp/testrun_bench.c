/* bench-testrun: the kernel lane's cost per frame under BPF_PROG_TEST_RUN
 * (docs/xdp.md "Speed"), no interface needed.
 *
 *   bench-testrun [--config FILE] [--pcap FILE] [--repeat N] [--rounds R]
 *                 [--passes P] [--mix-only] [--cold MIB]
 *
 * Loads siphon's XDP program twice (kernel_lane 0 and 1) with the tables
 * of --config (default tests/bpf/lab.conf: a lab-like dsr pool of three
 * nodes, a source-prefix drop, OPTIONS and to_self -> reply, the default
 * pool) published into its maps, and bench/xdp's trivial_redirect program
 * (set two MACs, redirect through a DEVMAP). Two measurements:
 *
 * - hot: the first INVITE (with SDP), ACK and BYE from the caller of --pcap
 *   (default tests/bpf/sipp_calls.pcap, the real SIPp capture) over IPv4
 *   and IPv6, and an OPTIONS to the VIP; each program runs over each frame
 *   with `repeat` N (default 100000), R rounds (default 5); the kernel
 *   reports the mean time of one run (the same frame every run: the branch
 *   predictor learns it);
 * - mix: every SIP frame of the capture in its order (INVITE, 180, 200,
 *   ACK, BYE, 200 to BYE, IPv4 and IPv6; responses turned around to reach
 *   the VIP) plus a 100 Trying made of each IPv4 180 and an OPTIONS
 *   keep-alive, one BPF_PROG_TEST_RUN of repeat 1 each, cycled P passes
 *   (default 500) per round: consecutive runs see different frames, as on
 *   the wire. Each run's time includes the kernel's two clock reads, which
 *   the trivial program shows. --cold MIB writes a byte per cache line
 *   of a MIB MiB buffer before each run of the mix (beyond the L2 cache:
 *   the program's code and maps are evicted to L3 or memory, as between
 *   packets at a low rate on a busy machine); use fewer --passes with it.
 *
 * Medians over rounds in ns/frame, per frame (hot) or per kind (mix) and
 * for the mix, with trivial/siphon. Root only; exits 77 otherwise. */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
/* linux/bpf.h has its own struct bpf_insn */
#define PCAP_DONT_INCLUDE_PCAP_BPF_H
#include <pcap/pcap.h>

#include "config.h"
#include "siphon/packet.h"
#include "siphon/siphon_xdp.h"
#include "siphon.skel.h"
#include "trivial_redirect.skel.h"
#include "xdp_tables.h"

#define MAX_FRAMES 8
#define FRAME_MAX  3400
#define MAX_ROUNDS 15

#ifndef SOURCE_ROOT
#define SOURCE_ROOT "."
#endif

struct frame {
	const char *name;
	uint8_t b[FRAME_MAX];
	uint32_t len;
};

static struct frame frames[MAX_FRAMES];
static unsigned n_frames;

static const char *const reason_names[] = {
#define XDP_REASON(id, name, help) [XDP_REASON_##id] = name,
#include "siphon/xdp_reasons.def"
#undef XDP_REASON
};

static const char options_msg[] =
	"OPTIONS sip:198.18.0.10:5060 SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 198.18.1.2:5060;branch=z9hG4bK-opt-1\r\n"
	"From: sipp <sip:sipp@198.18.1.2:5060>;tag=opt1\r\n"
	"To: <sip:198.18.0.10:5060>\r\n"
	"Call-ID: opt-1@198.18.1.2\r\n"
	"CSeq: 1 OPTIONS\r\n"
	"Max-Forwards: 70\r\n"
	"Content-Length: 0\r\n"
	"\r\n";

/* Ethernet / IPv4 / UDP from the caller to the VIP:5060 around payload. */
static uint32_t mk_frame4(uint8_t *b, const char *pl, size_t plen)
{
	static const uint8_t hdr[42] = {
		2, 0, 0, 0x18, 0, 1, 2, 0, 0, 0x18, 1, 2, 0x08, 0x00,
		0x45, 0, 0, 0, 0x12, 0x34, 0x40, 0, 64, 17, 0, 0, 198, 18, 1, 2, 198, 18, 0, 10,
		0x13, 0xc4, 0x13, 0xc4, 0, 0, 0, 0,
	};

	memcpy(b, hdr, sizeof(hdr));
	b[16] = (uint8_t)((20 + 8 + plen) >> 8);
	b[17] = (uint8_t)(20 + 8 + plen);
	b[38] = (uint8_t)((8 + plen) >> 8);
	b[39] = (uint8_t)(8 + plen);
	memcpy(b + 42, pl, plen);
	return (uint32_t)(42 + plen);
}

/* The first INVITE, ACK and BYE of each family the caller sent to :5060. */
static int read_pcap(const char *path)
{
	static const char *const methods[] = { "INVITE ", "ACK ", "BYE " };
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const uint8_t *d;
	pcap_t *p = pcap_open_offline(path, err);
	bool seen[2][3] = {{ false }};

	if (!p) {
		fprintf(stderr, "bench-testrun: %s: %s\n", path, err);
		return -1;
	}
	while (pcap_next_ex(p, &h, &d) == 1 && n_frames < MAX_FRAMES - 1) {
		unsigned l3 = 14, pl;
		int fam;

		if (h->caplen != h->len || h->caplen < 14 + 40 + 8 || h->caplen > FRAME_MAX)
			continue;
		if (d[12] == 0x08 && d[13] == 0x00)
			fam = 0, pl = l3 + (unsigned)(d[l3] & 15) * 4 + 8;
		else if (d[12] == 0x86 && d[13] == 0xdd)
			fam = 1, pl = l3 + 40 + 8;
		else
			continue;
		if (pl >= h->caplen || d[pl - 6] != 0x13 || d[pl - 5] != 0xc4) /* to :5060 */
			continue;
		for (int m = 0; m < 3; m++) {
			size_t ml = strlen(methods[m]);

			if (seen[fam][m] || h->caplen - pl < ml || memcmp(d + pl, methods[m], ml))
				continue;
			/* requests from the caller only: its address is the source */
			if (fam == 0 ? d[l3 + 12 + 3] != 2 || d[l3 + 12 + 2] != 1
				     : d[l3 + 8 + 15] != 2 || d[l3 + 8 + 7] != 1)
				continue;
			seen[fam][m] = true;
			frames[n_frames].name = fam == 0 ? (m == 0 ? "INVITE v4" : m == 1 ? "ACK v4" : "BYE v4")
							 : (m == 0 ? "INVITE v6" : m == 1 ? "ACK v6" : "BYE v6");
			memcpy(frames[n_frames].b, d, h->caplen);
			frames[n_frames].len = h->caplen;
			n_frames++;
		}
	}
	pcap_close(p);
	frames[n_frames].name = "OPTIONS v4";
	frames[n_frames].len = mk_frame4(frames[n_frames].b, options_msg, sizeof(options_msg) - 1);
	n_frames++;
	return n_frames >= 7 ? 0 : (fprintf(stderr, "bench-testrun: %s: only %u frames\n", path,
					    n_frames), -1);
}

/* ---- the mix: every SIP frame of the capture, cycled ---- */

#define MAX_MIX   96
#define MAX_KINDS 12
#define KIND_NAME 24

static struct frame mix[MAX_MIX];
static unsigned mix_kind[MAX_MIX], n_mix;
static char kind_names[MAX_KINDS][KIND_NAME];
static unsigned n_kinds;

/* The kind of a SIP payload: a request's method, a response's code and
 * CSeq method ("200 BYE"); its index in kind_names, added if new. */
static int kind_index(const uint8_t *pl, size_t n)
{
	char name[KIND_NAME] = "";
	const char *c;
	char text[FRAME_MAX + 1];

	memcpy(text, pl, n);
	text[n] = 0;
	if (!strncmp(text, "SIP/2.0 ", 8)) {
		c = strstr(text, "\r\nCSeq:");
		if (!c)
			return -1;
		c += 7;
		c += strspn(c, " ");
		c += strspn(c, "0123456789");
		c += strspn(c, " ");
		snprintf(name, sizeof(name), "%.3s %.*s", text + 8, (int)strcspn(c, "\r "), c);
	} else {
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(text, " "), text);
	}
	for (unsigned k = 0; k < n_kinds; k++)
		if (!strcmp(kind_names[k], name))
			return (int)k;
	if (n_kinds == MAX_KINDS)
		return -1;
	memcpy(kind_names[n_kinds], name, sizeof(name));
	return (int)n_kinds++;
}

static void swap_bytes(uint8_t *a, uint8_t *b, size_t n)
{
	uint8_t t[16];

	memcpy(t, a, n);
	memcpy(a, b, n);
	memcpy(b, t, n);
}

/* A frame from the VIP turned around to reach it: MACs, addresses and
 * ports swapped (the checksums stay valid). */
static void turn_around(uint8_t *b, int fam, unsigned l3, unsigned l4)
{
	swap_bytes(b, b + 6, 6);
	if (fam == 0)
		swap_bytes(b + l3 + 12, b + l3 + 16, 4);
	else
		swap_bytes(b + l3 + 8, b + l3 + 24, 16);
	swap_bytes(b + l4, b + l4 + 2, 2);
}

static int mix_add(const uint8_t *b, uint32_t len, unsigned pl)
{
	int k = kind_index(b + pl, len - pl);

	if (k < 0 || n_mix == MAX_MIX)
		return -1;
	memcpy(mix[n_mix].b, b, len);
	mix[n_mix].len = len;
	mix_kind[n_mix++] = (unsigned)k;
	return 0;
}

/* A 100 Trying made of an IPv4 180 Ringing's payload. */
static int mix_add_trying(const uint8_t *pl, size_t n)
{
	static const char ringing[] = "SIP/2.0 180 Ringing\r\n", trying[] = "SIP/2.0 100 Trying\r\n";
	char text[FRAME_MAX];
	uint8_t b[FRAME_MAX];
	size_t rl = sizeof(ringing) - 1, tl = sizeof(trying) - 1;

	if (n < rl || 42 + n - rl + tl > FRAME_MAX || memcmp(pl, ringing, rl))
		return 0;
	memcpy(text, trying, tl);
	memcpy(text + tl, pl + rl, n - rl);
	return mix_add(b, mk_frame4(b, text, n - rl + tl), 42);
}

/* Every SIP frame of the capture in its order, responses turned around,
 * a 100 Trying after each IPv4 180, and the OPTIONS keep-alive. */
static int read_mix(const char *path)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const uint8_t *d;
	pcap_t *p = pcap_open_offline(path, err);

	if (!p) {
		fprintf(stderr, "bench-testrun: %s: %s\n", path, err);
		return -1;
	}
	while (pcap_next_ex(p, &h, &d) == 1) {
		unsigned l3 = 14, l4, pl;
		uint8_t b[FRAME_MAX];
		int fam;

		if (h->caplen != h->len || h->caplen < 14 + 40 + 8 || h->caplen > FRAME_MAX)
			continue;
		if (d[12] == 0x08 && d[13] == 0x00)
			fam = 0, l4 = l3 + (unsigned)(d[l3] & 15) * 4;
		else if (d[12] == 0x86 && d[13] == 0xdd)
			fam = 1, l4 = l3 + 40;
		else
			continue;
		pl = l4 + 8;
		if (pl + 8 >= h->caplen)
			continue;
		memcpy(b, d, h->caplen);
		if (!memcmp(b + pl, "SIP/2.0 ", 8)) {
			turn_around(b, fam, l3, l4);
			if (fam == 0 && mix_add_trying(b + pl, h->caplen - pl))
				break;
		}
		if (mix_add(b, h->caplen, pl))
			break;
	}
	pcap_close(p);
	if (mix_add(frames[n_frames - 1].b, frames[n_frames - 1].len, 42) || n_mix < 8) {
		fprintf(stderr, "bench-testrun: %s: %u frames for the mix\n", path, n_mix);
		return -1;
	}
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* mean[k] of one program over `passes` cycles of the mix, one run each;
 * mean[n_kinds]: over the whole mix. */
static volatile uint8_t *evict; /* --cold: written over before each run */
static size_t evict_len;

static void evict_caches(void)
{
	for (size_t i = 0; i < evict_len; i += 64)
		evict[i]++;
}

static int mix_round(int fd, unsigned passes, double *mean)
{
	uint64_t sum[MAX_KINDS] = { 0 }, cnt[MAX_KINDS] = { 0 }, all = 0;

	for (unsigned pass = 0; pass < passes; pass++) {
		for (unsigned i = 0; i < n_mix; i++) {
			LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = mix[i].b,
				    .data_size_in = mix[i].len, .repeat = 1);

			evict_caches();
			if (bpf_prog_test_run_opts(fd, &o))
				return -errno;
			sum[mix_kind[i]] += o.duration;
			cnt[mix_kind[i]]++;
			all += o.duration;
		}
	}
	for (unsigned k = 0; k < n_kinds; k++)
		mean[k] = cnt[k] ? (double)sum[k] / (double)cnt[k] : 0;
	mean[n_kinds] = (double)all / ((double)passes * n_mix);
	return 0;
}

static const char *reason_of(struct siphon_bpf *s, int fd, const struct frame *f);

/* The mix for the three programs, rounds interleaved; medians printed. */
static int bench_mix(const int fds[3], struct siphon_bpf *on, unsigned passes, unsigned rounds)
{
	static double t[3][MAX_KINDS + 1][MAX_ROUNDS];
	double med[3][MAX_KINDS + 1], mean[MAX_KINDS + 1];

	for (unsigned r = 0; r < rounds; r++) {
		for (int p = 0; p < 3; p++) {
			int rc = mix_round(fds[p], passes, mean);

			if (rc)
				return rc;
			for (unsigned k = 0; k <= n_kinds; k++)
				t[p][k][r] = mean[k];
		}
	}
	for (int p = 0; p < 3; p++) {
		for (unsigned k = 0; k <= n_kinds; k++) {
			qsort(t[p][k], rounds, sizeof(double), cmp_double);
			med[p][k] = t[p][k][rounds / 2];
		}
	}
	printf("# mix: %u frames cycled %u times a round, repeat 1, median of %u rounds, ns/frame%s\n",
	       n_mix, passes, rounds, evict_len ? ", caches evicted before each run (--cold)" : "");
	printf("%-11s %6s %9s %9s %9s  %s\n", "kind", "frames", "trivial", "lane-off", "lane-on",
	       "lane-on reason");
	for (unsigned k = 0; k < n_kinds; k++) {
		unsigned cnt = 0, first = 0;

		for (unsigned i = n_mix; i-- > 0;)
			if (mix_kind[i] == k)
				cnt++, first = i;
		printf("%-11s %6u %9.1f %9.1f %9.1f  %s\n", kind_names[k], cnt, med[0][k], med[1][k],
		       med[2][k], reason_of(on, fds[2], &mix[first]));
	}
	printf("%-11s %6u %9.1f %9.1f %9.1f\n", "mix (mean)", n_mix, med[0][n_kinds],
	       med[1][n_kinds], med[2][n_kinds]);
	printf("mix trivial/siphon: lane off %.3f, lane on %.3f; lane on - trivial: %.1f ns/frame\n",
	       med[0][n_kinds] / med[1][n_kinds], med[0][n_kinds] / med[2][n_kinds],
	       med[2][n_kinds] - med[0][n_kinds]);
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The median over rounds of the mean ns of one run; *ret: the action. */
static int time_prog(int fd, const struct frame *f, unsigned repeat, unsigned rounds,
		     uint32_t *ns, uint32_t *ret)
{
	static uint8_t out[FRAME_MAX + 256];
	uint32_t t[MAX_ROUNDS];

	for (unsigned r = 0; r < rounds; r++) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->b, .data_size_in = f->len,
			    .data_out = out, .data_size_out = sizeof(out), .repeat = repeat);

		if (bpf_prog_test_run_opts(fd, &o))
			return -errno;
		t[r] = o.duration;
		*ret = o.retval;
	}
	qsort(t, rounds, sizeof(t[0]), cmp_u32);
	*ns = t[rounds / 2];
	return 0;
}

/* The reason counter that one run of f moves. */
static const char *reason_of(struct siphon_bpf *s, int fd, const struct frame *f)
{
	static uint8_t out[FRAME_MAX + 256];
	int ncpu = libbpf_num_possible_cpus(), mfd = bpf_map__fd(s->maps.counters), which = -1;
	uint64_t before[XDP_REASON__COUNT] = { 0 };
	struct siphon_xdp_counter *v = calloc((size_t)ncpu, sizeof(*v));
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->b, .data_size_in = f->len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

	if (!v)
		return "?";
	for (int pass = 0; pass < 2; pass++) {
		if (pass && bpf_prog_test_run_opts(fd, &o))
			break;
		for (uint32_t r = 0; r < XDP_REASON__COUNT; r++) {
			uint32_t k = PKT_STATUS__COUNT + r;
			uint64_t sum = 0;

			if (bpf_map_lookup_elem(mfd, &k, v))
				continue;
			for (int c = 0; c < ncpu; c++)
				sum += v[c].packets;
			if (pass && sum != before[r])
				which = (int)r;
			before[r] = sum;
		}
	}
	free(v);
	return which < 0 ? "?" : reason_names[which];
}

static struct siphon_bpf *load_siphon(const struct siphon_config *cfg, bool lane)
{
	char err[512];
	struct siphon_bpf *s = xdp_tables_load_unpinned(&cfg->tables, lane, 1 /* lo */, err,
							 sizeof(err));

	if (!s)
		fprintf(stderr, "bench-testrun: siphon (kernel lane %d): %s\n", lane, err);
	return s;
}

static void print_verified(const char *what, struct bpf_program *prog)
{
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) == 0)
		printf("# %s: %u instructions, %u verified\n", what, info.xlated_prog_len / 8,
		       info.verified_insns);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' }, { "pcap", required_argument, NULL, 'p' },
		{ "repeat", required_argument, NULL, 'n' }, { "rounds", required_argument, NULL, 'r' },
		{ "passes", required_argument, NULL, 'P' }, { "mix-only", no_argument, NULL, 'm' },
		{ "cold", required_argument, NULL, 'C' },   { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = SOURCE_ROOT "/tests/bpf/lab.conf";
	const char *pcap_path = SOURCE_ROOT "/tests/bpf/sipp_calls.pcap";
	unsigned repeat = 100000, rounds = 5, passes = 500, cold_mib = 0;
	bool mix_only = false;
	struct trivial_redirect_bpf *triv = NULL;
	struct siphon_bpf *off = NULL, *on = NULL;
	struct siphon_config *cfg = NULL;
	struct config_error cerr;
	uint64_t sum[3] = { 0 };
	int c, rc = 1, fds[3];
	uint32_t one = 1, zero = 0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config_path = optarg; break;
		case 'p': pcap_path = optarg; break;
		case 'n': repeat = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'r': rounds = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'P': passes = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'm': mix_only = true; break;
		case 'C': cold_mib = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'h':
			printf("usage: bench-testrun [--config FILE] [--pcap FILE] [--repeat N] [--rounds R]\n"
			       "                     [--passes P] [--mix-only] [--cold MIB]\n");
			return 0;
		default: return 2;
		}
	}
	if (!repeat || !passes || !rounds || rounds > MAX_ROUNDS || cold_mib > 1024) {
		fprintf(stderr, "bench-testrun: --repeat and --passes from 1, --rounds from 1 to %d, "
				"--cold 0 to 1024\n", MAX_ROUNDS);
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "bench-testrun: skipped: needs root for BPF_PROG_TEST_RUN\n");
		return 77;
	}
	if (read_pcap(pcap_path) || read_mix(pcap_path))
		return 1;
	evict_len = (size_t)cold_mib << 20;
	if (evict_len && !(evict = calloc(1, evict_len)))
		return 1;
	if (config_load(config_path, &cfg, &cerr)) {
		fprintf(stderr, "bench-testrun: %s\n", cerr.text);
		return 1;
	}
	triv = trivial_redirect_bpf__open();
	if (!triv || trivial_redirect_bpf__load(triv) ||
	    bpf_map_update_elem(bpf_map__fd(triv->maps.egress), &zero, &one, 0)) {
		fprintf(stderr, "bench-testrun: trivial_redirect: %s\n", strerror(errno));
		goto out;
	}
	off = load_siphon(cfg, false);
	on = load_siphon(cfg, true);
	if (!off || !on)
		goto out;
	print_verified("siphon_xdp, kernel lane off", off->progs.siphon_xdp);
	print_verified("siphon_xdp, kernel lane on", on->progs.siphon_xdp);
	fds[0] = bpf_program__fd(triv->progs.trivial_redirect);
	fds[1] = bpf_program__fd(off->progs.siphon_xdp);
	fds[2] = bpf_program__fd(on->progs.siphon_xdp);
	if (mix_only)
		goto mix;
	printf("# repeat %u, median of %u rounds, ns/frame\n", repeat, rounds);
	printf("%-11s %6s %9s %9s %9s  %s\n", "frame", "bytes", "trivial", "lane-off", "lane-on",
	       "lane-on reason");
	for (unsigned i = 0; i < n_frames; i++) {
		uint32_t ns[3], ret;

		for (int p = 0; p < 3; p++) {
			if (time_prog(fds[p], &frames[i], repeat, rounds, &ns[p], &ret)) {
				fprintf(stderr, "bench-testrun: test run: %s\n", strerror(errno));
				goto out;
			}
			sum[p] += ns[p];
		}
		printf("%-11s %6u %9u %9u %9u  %s\n", frames[i].name, frames[i].len, ns[0], ns[1],
		       ns[2], reason_of(on, fds[2], &frames[i]));
	}
	printf("%-11s %6s %9.1f %9.1f %9.1f\n", "mix (mean)", "", (double)sum[0] / n_frames,
	       (double)sum[1] / n_frames, (double)sum[2] / n_frames);
	printf("trivial/siphon: lane off %.3f, lane on %.3f; lane on - trivial: %.1f ns/frame\n",
	       (double)sum[0] / (double)sum[1], (double)sum[0] / (double)sum[2],
	       ((double)sum[2] - (double)sum[0]) / n_frames);
mix:
	if (bench_mix(fds, on, passes, rounds)) {
		fprintf(stderr, "bench-testrun: test run: %s\n", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	siphon_bpf__destroy(on);
	siphon_bpf__destroy(off);
	trivial_redirect_bpf__destroy(triv);
	config_free(cfg);
	return rc;
}
