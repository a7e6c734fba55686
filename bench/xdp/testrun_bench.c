/* bench-testrun: the kernel lane's cost per frame under BPF_PROG_TEST_RUN
 * (docs/xdp.md "Speed"), no interface needed.
 *
 *   bench-testrun [--config FILE] [--pcap FILE] [--repeat N] [--rounds R]
 *
 * Loads siphon's XDP program twice (kernel_lane 0 and 1) with the tables
 * of --config (default tests/bpf/lab.conf: a lab-like dsr pool of three
 * nodes, a source-prefix drop, OPTIONS and to_self -> reply, the default
 * pool) published into its maps, and bench/xdp's trivial_redirect program
 * (set two MACs, redirect through a DEVMAP). The frames: the first INVITE
 * (with SDP), ACK and BYE from the caller of --pcap (default
 * tests/bpf/sipp_calls.pcap, the real SIPp capture) over IPv4 and IPv6, and
 * an OPTIONS to the VIP. Each program runs over each frame with `repeat` N
 * (default 100000), R rounds (default 5); the kernel reports the mean time
 * of one run, and the median round is printed in ns/frame, per frame and
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
		{ "help", no_argument, NULL, 'h' },         { NULL, 0, NULL, 0 },
	};
	const char *config_path = SOURCE_ROOT "/tests/bpf/lab.conf";
	const char *pcap_path = SOURCE_ROOT "/tests/bpf/sipp_calls.pcap";
	unsigned repeat = 100000, rounds = 5;
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
		case 'h':
			printf("usage: bench-testrun [--config FILE] [--pcap FILE] [--repeat N] [--rounds R]\n");
			return 0;
		default: return 2;
		}
	}
	if (!repeat || !rounds || rounds > MAX_ROUNDS) {
		fprintf(stderr, "bench-testrun: --repeat from 1, --rounds from 1 to %d\n", MAX_ROUNDS);
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "bench-testrun: skipped: needs root for BPF_PROG_TEST_RUN\n");
		return 77;
	}
	if (read_pcap(pcap_path))
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
	rc = 0;
out:
	siphon_bpf__destroy(on);
	siphon_bpf__destroy(off);
	trivial_redirect_bpf__destroy(triv);
	config_free(cfg);
	return rc;
}
