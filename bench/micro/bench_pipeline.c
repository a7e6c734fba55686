/* Micro-benchmark of the whole per-packet pipeline on one core over a
 * realistic mix (initial INVITEs, responses, in-dialog requests, OPTIONS),
 * with the split per stage: each stage is timed as the pipeline cut after
 * it, so the differences are the stages' costs.
 *   bench-pipeline CONFIG EXAMPLES_DIR [--runs R] [--iters N] [--all-flags] [--callgrind]
 *                  [--files F1,F2,...]
 * --files: these messages round-robin instead of the mix (the corpus mix,
 * or one INVITE), each from its own unknown source.
 * --all-flags: every flag of every message (the pipeline before lazy
 * classification; stage +classify+decide is then classify() + decide()).
 * --callgrind: only the full pipeline, --iters times, for an instruction
 * count (valgrind --tool=callgrind --toggle-collect=pipeline_process). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "config.h"
#include "pipeline.h"

#define FRAMES 512
#define ROOM 17000

static volatile unsigned sink;
static uint8_t frames[FRAMES][ROOM], work[ROOM];
static size_t lens[FRAMES];
static unsigned n_frames;
static bool all_flags;



static uint16_t csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xFFFF) + (s >> 16);
	return (uint16_t)~s;
}

/* Ethernet + IPv4 + UDP (no UDP checksum) around a SIP payload. */
static size_t build_frame(uint8_t *f, const uint8_t *sip, size_t n, uint32_t src, uint16_t sport)
{
	static const uint8_t hdr[14] = { 2, 0, 0, 0, 0, 0x0a, 2, 0, 0, 0, 0, 0x99, 8, 0 };
	uint8_t *ip = f + 14, *udp = ip + 20;
	uint32_t dst = htonl(0xC6336400 | 10); /* 198.51.100.10 */
	uint16_t total = (uint16_t)(20 + 8 + n), ulen = (uint16_t)(8 + n), c;

	memcpy(f, hdr, 14);
	memset(ip, 0, 20);
	ip[0] = 0x45, ip[8] = 64, ip[9] = 17;
	ip[2] = (uint8_t)(total >> 8), ip[3] = (uint8_t)total;
	memcpy(ip + 12, &src, 4);
	memcpy(ip + 16, &dst, 4);
	c = csum(ip, 20);
	ip[10] = (uint8_t)(c >> 8), ip[11] = (uint8_t)c;
	udp[0] = (uint8_t)(sport >> 8), udp[1] = (uint8_t)sport, udp[2] = 0x13, udp[3] = 0xC4;
	udp[4] = (uint8_t)(ulen >> 8), udp[5] = (uint8_t)ulen, udp[6] = udp[7] = 0;
	memcpy(udp + 8, sip, n);
	return 14 + 20 + 8 + n;
}


enum stage { PARSE, SCAN, CLASSIFY, DISPATCH, FULL, STAGES };

static unsigned run_stage(struct pipeline_worker *w, enum stage st, unsigned i)
{
	struct pkt_layout l;
	struct sip_msg msg;
	struct flagset flags;
	struct decision d;
	struct dispatch_result r;
	struct packet_meta pm = { AF_INET, { 0 }, TRANSPORT_UDP };
	size_t len = lens[i];

	if (st == FULL) {
		memcpy(work, frames[i], len);
		return pipeline_process(w, work, &len, sizeof(work));
	}
	pkt_parse(frames[i], len, &l);
	if (st == PARSE)
		return l.payload_len;
	/* the pipeline's scan: only the fields routing reads (decide_message()) */
	sip_scan_fields(frames[i] + l.payload_off, l.payload_len, l.payload_len, &w->t->limits,
			&w->t->headers, all_flags ? SIP_FIELDS_ALL : SIP_FIELDS_ROUTING, &msg);
	if (st == SCAN)
		return msg.reason;
	memcpy(pm.src, frames[i] + l.l3_off + 12, 4);
	if (all_flags) {
		classify(&w->cls, frames[i] + l.payload_off, &msg, &pm, &flags);
		decide(w->t, &flags, &d);
	} else {
		struct flag_eval e;
		flag_eval_init(&e, &w->cls, frames[i] + l.payload_off, &msg, &pm);
		decide_lazy(&e, &d);
	}
	if (st == CLASSIFY || d.rule < 0 || w->t->actions[d.rule].kind != ACTION_POOL)
		return (unsigned)d.rule;
	dispatch(w->t, frames[i] + l.payload_off, &msg, w->t->actions[d.rule].pool, 0, NULL, &r);
	return (unsigned)r.node;
}

int main(int argc, char **argv)
{
	static const char *const names[] = { "parse", "+scan", "+classify+decide", "+dispatch",
					     "+rewrite (full, incl. a frame copy)" };
	static const char *const files[] = { "01-invite.sip", "02-ringing.sip", "03-ok.sip",
					     "04-bye.sip", "05-options.sip" };
	unsigned runs = 11;
	unsigned long iters = 200000;
	struct config_error err;
	struct siphon_config *cfg;
	static struct pipeline_worker w;
	double ns[STAGES][1000];
	char path[1024];

	if (argc < 3) {
		fprintf(stderr, "usage: bench-pipeline CONFIG EXAMPLES_DIR [--runs R] [--iters N]\n");
		return 2;
	}
	bool callgrind = false;
	char *files_arg = NULL;
	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--all-flags"))
			all_flags = true;
		else if (!strcmp(argv[i], "--callgrind"))
			callgrind = true;
		else if (i + 1 < argc && !strcmp(argv[i], "--runs"))
			runs = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (i + 1 < argc && !strcmp(argv[i], "--iters"))
			iters = strtoul(argv[++i], NULL, 10);
		else if (i + 1 < argc && !strcmp(argv[i], "--files"))
			files_arg = argv[++i];
	}
	if (!runs || runs > 1000 || !iters)
		return 2;
	if (config_load(argv[1], &cfg, &err) || pipeline_worker_init(&w, &cfg->tables)) {
		fprintf(stderr, "%s\n", err.text);
		return 2;
	}
	/* the mix: per 8 packets, 2 INVITEs, 4 responses / in-dialog, 2 OPTIONS, from
	 * unknown peers (the default pool) with varied Call-IDs by varied sources */
	for (char *save = NULL, *f = files_arg ? strtok_r(files_arg, ",", &save) : NULL;
	     f && n_frames < FRAMES; f = strtok_r(NULL, ",", &save)) {
		size_t n;
		uint8_t *sip = bench_slurp(f, &n);
		if (n + 42 > ROOM)
			continue;
		lens[n_frames] = build_frame(frames[n_frames], sip, n,
					     htonl(0xCB007100 | (n_frames % 250 + 1)),
					     (uint16_t)(5000 + n_frames));
		n_frames++;
		free(sip);
	}
	for (unsigned i = 0; !files_arg && i < 64; i++, n_frames++) {
		static const unsigned pick[8] = { 0, 1, 2, 3, 0, 2, 3, 4 };
		size_t n;
		uint8_t *sip;
		snprintf(path, sizeof(path), "%s/%s", argv[2], files[pick[i % 8]]);
		sip = bench_slurp(path, &n);
		lens[i] = build_frame(frames[i], sip, n, htonl(0xCB007100 | (i + 1)), (uint16_t)(5000 + i));
	}
	if (!n_frames) {
		fprintf(stderr, "--files: no message of at most %d bytes\n", ROOM - 42);
		return 2;
	}
	w.all_flags = all_flags;
	if (callgrind) {
		unsigned acc = 0;
		for (unsigned long k = 0; k < iters; k++)
			acc += run_stage(&w, FULL, (unsigned)(k % n_frames));
		sink = acc;
		pipeline_worker_free(&w);
		config_free(cfg);
		return 0;
	}
	for (unsigned r = 0; r < runs; r++)
		for (unsigned st = 0; st < STAGES; st++) {
			unsigned acc = 0;
			double t0 = bench_now_ns();
			for (unsigned long k = 0; k < iters; k++)
				acc += run_stage(&w, (enum stage)st, (unsigned)(k % n_frames));
			ns[st][r] = (bench_now_ns() - t0) / (double)iters;
			sink = acc;
		}
	printf("%-38s %10s\n", "pipeline cut after", "median ns");
	for (unsigned st = 0; st < STAGES; st++) {
		qsort(ns[st], runs, sizeof(double), bench_cmp_double);
		printf("%-38s %10.1f\n", names[st], ns[st][runs / 2]);
	}
	pipeline_worker_free(&w);
	config_free(cfg);
	return 0;
}
