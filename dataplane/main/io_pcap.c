/* siphon --io pcap: offline replay of a capture through the pipeline
 * (deterministic: capture time, not the clock). */
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

#include "siphon_main.h"

#define FRAME_ROOM (65535 + 14 + 8 + REWRITE_ENCAP_MAX)

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

/* OUT.pcap -> OUT-punt.pcap when --punt is not given */
static void default_punt_path(char *buf, size_t len, const char *out)
{
	const char *dot = strrchr(out, '.');
	size_t stem = dot && !strchr(dot, '/') ? (size_t)(dot - out) : strlen(out);

	snprintf(buf, len, "%.*s-punt.pcap", (int)stem, out);
}

static int replay(const struct options *o, struct pipeline_worker *w, pcap_t *in,
		  pcap_dumper_t *out, pcap_dumper_t *punt)
{
	struct pcap_out po = { .out = out, .punt = punt };
	uint64_t last_expire = 0;
	struct pcap_pkthdr *hdr;
	const u_char *data;
	static uint8_t frame[FRAME_ROOM];
	int n;

	w->emit = emit_frame;
	w->emit_ctx = &po;
	while ((n = pcap_next_ex(in, &hdr, &data)) == 1) {
		struct pcap_pkthdr oh = *hdr;
		size_t len = hdr->caplen;
		enum pipeline_outcome res;

		memcpy(frame, data, len);
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
		return 1;
	}
	pipeline_expire(w, w->now_ms + 3600 * 1000); /* the end: what is still held timed out */
	return 0;
}

int run_pcap(const struct options *o, const struct siphon_config *cfg)
{
	static struct pipeline_worker w;
	struct pipeline_worker *wp = &w;
	char errbuf[PCAP_ERRBUF_SIZE], punt_path[4096];
	pcap_t *in, *dead = NULL;
	pcap_dumper_t *out = NULL, *punt = NULL;
	int rc = pipeline_worker_init(&w, &cfg->tables), first = 1;

	if (rc) {
		fprintf(stderr, "siphon: %s: the tables do not load: %s\n", o->config, strerror(-rc));
		return 1;
	}
	in = pcap_open_offline(o->in, errbuf);
	if (!in) {
		fprintf(stderr, "siphon: --in %s: %s\n", o->in, errbuf);
		pipeline_worker_free(&w);
		return 1;
	}
	rc = 1;
	if (pcap_datalink(in) != DLT_EN10MB) {
		fprintf(stderr, "siphon: --in %s: link type %s; the fast path reads Ethernet\n", o->in,
			pcap_datalink_val_to_name(pcap_datalink(in)));
		goto out;
	}
	if (o->punt)
		snprintf(punt_path, sizeof(punt_path), "%s", o->punt);
	else
		default_punt_path(punt_path, sizeof(punt_path), o->out);
	dead = pcap_open_dead(DLT_EN10MB, FRAME_ROOM);
	out = dead ? pcap_dump_open(dead, o->out) : NULL;
	punt = out ? pcap_dump_open(dead, punt_path) : NULL;
	if (!out || !punt) {
		fprintf(stderr, "siphon: cannot write %s: %s\n", out ? punt_path : o->out,
			dead ? pcap_geterr(dead) : "pcap");
		goto out;
	}
	rc = replay(o, &w, in, out, punt);
	fputc('{', stdout);
	print_pipeline_summary(stdout, &wp, 1, cfg, &first);
	fputs("}\n", stdout);
out:
	if (out)
		pcap_dump_close(out);
	if (punt)
		pcap_dump_close(punt);
	if (dead)
		pcap_close(dead);
	pcap_close(in);
	pipeline_worker_free(&w);
	return rc;
}
