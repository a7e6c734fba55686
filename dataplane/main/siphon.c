/* siphon: the fast path. Today one I/O backend, pcap (offline replay,
 * deterministic); xdp and dpdk come next and call the same pipeline.
 *
 *   siphon --io pcap --config FILE --in IN.pcap --out OUT.pcap [--punt PUNT.pcap]
 *
 * Forwarded (rewritten) frames go to OUT, punted and passed ones (the
 * kernel's) to PUNT; a JSON summary of the counters goes to stdout. The same
 * input gives the same output, byte for byte. Until siphond exists, siphon
 * reads the config itself through the control plane's loader. */
#include <errno.h>
#include <getopt.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "siphon/json_write.h"
#include "pipeline.h"

#define FRAME_ROOM (65535 + 14 + 8 + REWRITE_ENCAP_MAX)

struct options {
	const char *io, *config, *in, *out, *punt;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: siphon --io pcap --config FILE --in IN.pcap --out OUT.pcap "
		   "[--punt PUNT.pcap]\n");
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "io", required_argument, NULL, 'i' },   { "config", required_argument, NULL, 'c' },
		{ "in", required_argument, NULL, 'n' },   { "out", required_argument, NULL, 'o' },
		{ "punt", required_argument, NULL, 'p' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'i': o->io = optarg; break;
		case 'c': o->config = optarg; break;
		case 'n': o->in = optarg; break;
		case 'o': o->out = optarg; break;
		case 'p': o->punt = optarg; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "siphon: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (!o->io || strcmp(o->io, "pcap") != 0) {
		fprintf(stderr, "siphon: --io '%s': only 'pcap' is built (xdp and dpdk come next)\n",
			o->io ? o->io : "");
		return -EINVAL;
	}
	if (!o->config || !o->in || !o->out) {
		fprintf(stderr, "siphon: --io pcap needs --config, --in and --out\n");
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

static void print_counter_map(const char *key, unsigned n, const uint64_t *v,
			      const char *(*name)(unsigned), int *first)
{
	int inner = 1;

	json_key(stdout, key, first);
	putchar('{');
	for (unsigned i = 0; i < n; i++) {
		json_key(stdout, name(i), &inner);
		printf("%llu", (unsigned long long)v[i]);
	}
	putchar('}');
}

static const struct siphon_config *g_cfg; /* for the name callbacks below */

static const char *flag_name(unsigned i) { return g_cfg->flags[i].name; }
static const char *node_name(unsigned i) { return g_cfg->tables.nodes[i].id; }
static const char *status_name(unsigned i) { return pkt_status_name(i); }
static const char *reason_name(unsigned i) { return sip_reason_name(i); }
static const char *dispatch_name(unsigned i) { return dispatch_by_name(i); }
static const char *outcome_name(unsigned i) { return pipeline_outcome_name(i); }
static const char *preason_name(unsigned i) { return pipeline_reason_name(i); }
static const char *frag_name(unsigned i) { return frag_result_name(i); }

static void print_summary(const struct pipeline_worker *w, const struct siphon_config *cfg)
{
	const struct pipeline_counters *c = &w->c;
	int first = 1;

	g_cfg = cfg;
	putchar('{');
	json_key(stdout, "packets", &first);
	printf("%llu", (unsigned long long)c->packets);
	json_key(stdout, "bytes_in", &first);
	printf("%llu", (unsigned long long)c->bytes_in);
	json_key(stdout, "bytes_out", &first);
	printf("%llu", (unsigned long long)c->bytes_out);
	print_counter_map("outcomes", PIPELINE__COUNT, c->outcome, outcome_name, &first);
	print_counter_map("packet", PKT_STATUS__COUNT, c->pkt_status, status_name, &first);
	print_counter_map("reasons", SIP_REASON__COUNT, c->sip_reason, reason_name, &first);
	print_counter_map("packet_reasons", PIPELINE_REASON__COUNT, c->reason, preason_name, &first);
	print_counter_map("dispatch", DISPATCH_BY__COUNT, c->dispatch_by, dispatch_name, &first);
	print_counter_map("fragments", FRAG_RESULT__COUNT, c->fragments, frag_name, &first);
	print_counter_map("flags", cfg->n_flags, c->flag, flag_name, &first);
	print_counter_map("nodes", cfg->tables.n_nodes, c->node, node_name, &first);
	json_key(stdout, "pools", &first);
	putchar('{');
	for (unsigned p = 0, inner = 1; p < cfg->n_pools; p++) {
		uint64_t sum = 0;
		int in = (int)inner;
		for (unsigned n = 0; n < cfg->tables.n_nodes; n++)
			if (cfg->tables.nodes[n].pool == p)
				sum += c->node[n];
		json_key(stdout, cfg->tables.pool_names[p], &in);
		inner = 0;
		printf("%llu", (unsigned long long)sum);
	}
	putchar('}');
	json_key(stdout, "rules", &first);
	putchar('[');
	for (unsigned i = 0; i < cfg->n_rules; i++)
		printf("%s{\"line\":%d,\"count\":%llu}", i ? "," : "", cfg->rules[i].line,
		       (unsigned long long)c->rule[i]);
	putchar(']');
	json_key(stdout, "tcp", &first);
	printf("%llu", (unsigned long long)c->tcp);
	json_key(stdout, "ratelimit_buckets_reused", &first);
	printf("%llu", (unsigned long long)w->buckets.reused);
	puts("}");
}

struct pcap_out {
	pcap_dumper_t *out, *punt;
	struct pcap_pkthdr hdr; /* the time of the frame that released them */
};

/* Held fragments leave here, stamped with the time of the frame that
 * completed their datagram. */
static void emit_frame(void *ctx, const uint8_t *frame, size_t len, enum pipeline_outcome o)
{
	struct pcap_out *po = ctx;
	struct pcap_pkthdr h = po->hdr;

	h.caplen = h.len = (bpf_u_int32)len;
	pcap_dump((u_char *)(o == PIPELINE_FORWARD ? po->out : po->punt), &h, frame);
}

static int run_pcap(const struct options *o, struct pipeline_worker *w, const struct siphon_config *cfg)
{
	struct pcap_out po = { 0 };
	uint64_t last_expire = 0;
	char errbuf[PCAP_ERRBUF_SIZE], punt_path[4096];
	pcap_t *in = pcap_open_offline(o->in, errbuf), *dead = NULL;
	pcap_dumper_t *out = NULL, *punt = NULL;
	struct pcap_pkthdr *hdr;
	const u_char *data;
	static uint8_t frame[FRAME_ROOM];
	int rc = 0, n;

	if (!in) {
		fprintf(stderr, "siphon: --in %s: %s\n", o->in, errbuf);
		return 1;
	}
	if (pcap_datalink(in) != DLT_EN10MB) {
		fprintf(stderr, "siphon: --in %s: link type %s; the fast path reads Ethernet\n", o->in,
			pcap_datalink_val_to_name(pcap_datalink(in)));
		pcap_close(in);
		return 1;
	}
	snprintf(punt_path, sizeof(punt_path), "%s", o->punt ? o->punt : o->out);
	if (!o->punt) { /* OUT.pcap -> OUT-punt.pcap */
		char *dot = strrchr(punt_path, '.');
		snprintf(dot && !strchr(dot, '/') ? dot : punt_path + strlen(punt_path),
			 sizeof(punt_path) - (size_t)((dot && !strchr(dot, '/') ? dot : punt_path + strlen(punt_path)) - punt_path),
			 "-punt.pcap");
	}
	dead = pcap_open_dead(DLT_EN10MB, FRAME_ROOM);
	out = dead ? pcap_dump_open(dead, o->out) : NULL;
	punt = out ? pcap_dump_open(dead, punt_path) : NULL;
	if (!out || !punt) {
		fprintf(stderr, "siphon: cannot write %s: %s\n", out ? punt_path : o->out,
			dead ? pcap_geterr(dead) : "pcap");
		rc = 1;
		goto out;
	}
	po.out = out, po.punt = punt;
	w->emit = emit_frame;
	w->emit_ctx = &po;
	while ((n = pcap_next_ex(in, &hdr, &data)) == 1) {
		struct pcap_pkthdr oh = *hdr;
		size_t len = hdr->caplen;
		enum pipeline_outcome res;

		memcpy(frame, data, len);
		/* capture time, not the clock: replays are deterministic */
		w->now_s = (uint64_t)hdr->ts.tv_sec;
		w->now_ms = (uint64_t)hdr->ts.tv_sec * 1000 + (uint64_t)hdr->ts.tv_usec / 1000;
		if (w->now_ms - last_expire >= 100) {
			pipeline_expire(w, w->now_ms);
			last_expire = w->now_ms;
		}
		po.hdr = *hdr;
		res = pipeline_process(w, frame, &len, sizeof(frame));
		oh.caplen = oh.len = (bpf_u_int32)len;
		if (res == PIPELINE_FORWARD)
			pcap_dump((u_char *)out, &oh, frame);
		else if (res == PIPELINE_PUNT || res == PIPELINE_PASS)
			pcap_dump((u_char *)punt, hdr, data); /* the kernel gets it untouched */
	}
	if (n == -1) {
		fprintf(stderr, "siphon: --in %s: %s\n", o->in, pcap_geterr(in));
		rc = 1;
	}
	pipeline_expire(w, w->now_ms + 3600 * 1000); /* the end: what is still held timed out */
	print_summary(w, cfg);
out:
	if (out)
		pcap_dump_close(out);
	if (punt)
		pcap_dump_close(punt);
	if (dead)
		pcap_close(dead);
	pcap_close(in);
	return rc;
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	struct config_error err;
	struct siphon_config *cfg;
	static struct pipeline_worker w;
	int rc;

	if (parse_args(argc, argv, &o))
		return 2;
	if (config_load(o.config, &cfg, &err)) {
		fprintf(stderr, "siphon: %s\n", err.text);
		return 1;
	}
	rc = pipeline_worker_init(&w, &cfg->tables);
	if (rc) {
		fprintf(stderr, "siphon: %s: the tables do not load: %s\n", o.config, strerror(-rc));
		config_free(cfg);
		return 1;
	}
	rc = run_pcap(&o, &w, cfg);
	pipeline_worker_free(&w);
	config_free(cfg);
	return rc;
}
