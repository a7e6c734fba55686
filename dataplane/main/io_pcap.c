/* siphon --io pcap: offline replay of a capture through the pipeline
 * (deterministic: capture time, not the clock). Records of any link type
 * common/link_frame.c reads (Ethernet, raw IP, Linux cooked v1/v2 from
 * `tcpdump -i any`) become Ethernet frames; a record that cannot be one
 * (too long, caplen above len, cut inside its link header) is refused,
 * counted under "capture" in the summary and reported in one line. */
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

#include "siphon/json_write.h"
#include "siphon/link_frame.h"
#include "siphon_main.h"
#include "counters_snap.h"

/* The longest frame the pipeline can be given: a 65535-byte IP packet
 * behind Ethernet with two VLAN tags. The buffer has room behind it for
 * encap to grow the frame. */
#define FRAME_MAX  (65535 + 14 + 8)
#define FRAME_ROOM (FRAME_MAX + REWRITE_ENCAP_MAX)

/* What happened to the capture's records before the pipeline. */
#define CAPTURE_COUNTERS(X)                                                                   \
	X(records, "records read")                                                            \
	X(oversize, "refused: the frame would be longer than FRAME_MAX bytes")                \
	X(caplen_over_len, "refused: more bytes captured than the packet had (a broken record)") \
	X(link_truncated, "refused: the record ends inside its link-layer header")            \
	X(snapped, "processed, but captured shorter than the packet was (snap length)")

struct capture_counters {
#define X(id, help) uint64_t id;
	CAPTURE_COUNTERS(X)
#undef X
	/* the first record of each refusal, for the warning */
	uint64_t first_oversize, first_caplen_over_len, first_link_truncated;
	uint32_t oversize_len;
};

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

/* The record as an Ethernet frame in frame[0..*len), or false (counted)
 * when it cannot be one. Never writes past FRAME_MAX. */
static bool record_frame(uint32_t dlt, const struct pcap_pkthdr *hdr, const u_char *data,
			 uint8_t *frame, size_t *len, struct capture_counters *cc)
{
	const uint64_t rec = cc->records;

	if (hdr->caplen > hdr->len) {
		if (!cc->caplen_over_len++)
			cc->first_caplen_over_len = rec;
		return false;
	}
	switch (link_frame(dlt, data, hdr->caplen, frame, FRAME_MAX, len)) {
	case LINK_FRAME_OK:
		cc->snapped += hdr->caplen < hdr->len;
		return true;
	case LINK_FRAME_NO_ROOM:
		if (!cc->oversize++) {
			cc->first_oversize = rec;
			cc->oversize_len = hdr->caplen;
		}
		return false;
	default: /* TRUNCATED; UNSUPPORTED was refused at open */
		if (!cc->link_truncated++)
			cc->first_link_truncated = rec;
		return false;
	}
}

/* One line per kind of refused record, naming the first. */
static void warn_refused(const struct options *o, const struct capture_counters *cc)
{
	if (cc->oversize)
		fprintf(stderr, "siphon: --in %s: %" PRIu64 " record%s longer than a frame can be "
			"(%d bytes) skipped, counted capture.oversize (first: record %" PRIu64 ", %u bytes)\n",
			o->in, cc->oversize, cc->oversize == 1 ? "" : "s", FRAME_MAX, cc->first_oversize,
			cc->oversize_len);
	if (cc->caplen_over_len)
		fprintf(stderr, "siphon: --in %s: %" PRIu64 " record%s with more bytes captured than "
			"the packet had skipped, counted capture.caplen_over_len (first: record %" PRIu64 ")\n",
			o->in, cc->caplen_over_len, cc->caplen_over_len == 1 ? "" : "s",
			cc->first_caplen_over_len);
	if (cc->link_truncated)
		fprintf(stderr, "siphon: --in %s: %" PRIu64 " record%s cut inside the link-layer header "
			"skipped, counted capture.link_truncated (first: record %" PRIu64 ")\n",
			o->in, cc->link_truncated, cc->link_truncated == 1 ? "" : "s",
			cc->first_link_truncated);
}

static void print_capture(FILE *f, const struct capture_counters *cc, int *first)
{
	const uint64_t *v = &cc->records;
	static const char *const names[] = {
#define X(id, help) #id,
		CAPTURE_COUNTERS(X)
#undef X
	};
	int inner = 1;

	json_key(f, "capture", first);
	fputc('{', f);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		json_key(f, names[i], &inner);
		fprintf(f, "%" PRIu64, v[i]);
	}
	fputc('}', f);
}

static int replay(const struct options *o, struct pipeline_worker *w, pcap_t *in,
		  pcap_dumper_t *out, pcap_dumper_t *punt, struct capture_counters *cc)
{
	struct pcap_out po = { .out = out, .punt = punt };
	const uint32_t dlt = (uint32_t)pcap_datalink(in);
	const int delta = link_frame_delta(dlt);
	uint64_t last_expire = 0;
	struct pcap_pkthdr *hdr;
	const u_char *data;
	static uint8_t frame[FRAME_ROOM];
	int n;

	w->emit = emit_frame;
	w->emit_ctx = &po;
	while ((n = pcap_next_ex(in, &hdr, &data)) == 1) {
		struct pcap_pkthdr oh = *hdr;
		size_t len;
		enum pipeline_outcome res;

		cc->records++;
		if (!record_frame(dlt, hdr, data, frame, &len, cc))
			continue;
		w->now_s = (uint64_t)hdr->ts.tv_sec;
		w->now_ms = (uint64_t)hdr->ts.tv_sec * 1000 + (uint64_t)hdr->ts.tv_usec / 1000;
		if (w->now_ms - last_expire >= 100) {
			pipeline_expire(w, w->now_ms);
			last_expire = w->now_ms;
		}
		po.hdr = *hdr;
		res = pipeline_process(w, frame, &len, sizeof(frame));
		oh.caplen = oh.len = (bpf_u_int32)len;
		if (res == PIPELINE_FORWARD) {
			pcap_dump((u_char *)out, &oh, frame);
		} else if ((res == PIPELINE_PUNT || res == PIPELINE_PASS) && dlt == LINK_DLT_EN10MB) {
			pcap_dump((u_char *)punt, hdr, data); /* the kernel gets it untouched */
		} else if (res == PIPELINE_PUNT || res == PIPELINE_PASS) {
			/* the punt file is Ethernet: the record converted again, as it
			 * was before the pipeline saw it */
			link_frame(dlt, data, hdr->caplen, frame, FRAME_MAX, &len);
			oh.caplen = (bpf_u_int32)len;
			oh.len = (bpf_u_int32)((int64_t)hdr->len + delta);
			pcap_dump((u_char *)punt, &oh, frame);
		}
	}
	if (n == -1) {
		fprintf(stderr, "siphon: --in %s: %s\n", o->in, pcap_geterr(in));
		return 1;
	}
	pipeline_expire(w, w->now_ms + 3600 * 1000); /* the end: what is still held timed out */
	return 0;
}

int run_pcap(const struct options *o, const struct siphon_config *cfg,
	     const struct compiled_tables *tables, struct gen_receiver *r)
{
	static struct pipeline_worker w;
	struct pipeline_worker *wp = &w;
	char errbuf[PCAP_ERRBUF_SIZE], punt_path[4096];
	pcap_t *in, *dead = NULL;
	pcap_dumper_t *out = NULL, *punt = NULL;
	struct capture_counters cc = { 0 };
	struct grace_calls *gc;
	int rc = pipeline_worker_init(&w, tables), first = 1;

	if (rc) {
		fprintf(stderr, "siphon: %s: the tables do not load: %s\n", o->config, strerror(-rc));
		return 1;
	}
	/* one grace register for the run, as the AF_XDP workers share one */
	gc = w.grace_calls = grace_calls_new(GRACE_CALLS_BITS_DEFAULT);
	if (!gc) {
		fprintf(stderr, "siphon: out of memory for the grace register\n");
		pipeline_worker_free(&w);
		return 1;
	}
	in = pcap_open_offline(o->in, errbuf);
	if (!in) {
		fprintf(stderr, "siphon: --in %s: %s\n", o->in, errbuf);
		pipeline_worker_free(&w);
		grace_calls_free(gc);
		return 1;
	}
	rc = 1;
	if (!link_frame_supported((uint32_t)pcap_datalink(in))) {
		fprintf(stderr, "siphon: --in %s: link type %s is not supported (Ethernet, raw IP, "
			"Linux cooked v1 and v2)\n", o->in,
			pcap_datalink_val_to_name(pcap_datalink(in)) ?: "unknown");
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
	rc = replay(o, &w, in, out, punt, &cc);
	warn_refused(o, &cc);
	fputc('{', stdout);
	print_capture(stdout, &cc, &first);
	print_pipeline_summary(stdout, &wp, 1, tables, cfg, NULL, &first);
	fputs("}\n", stdout);
	if (r && r->fd >= 0) { /* siphond sees what the replay counted */
		struct gen_counters_builder b;

		gen_counters_init(&b);
		counters_snap_pipeline(&b, &wp, 1, tables, NULL);
		counters_snap_receiver(&b, r);
		counters_snap_send(r, &b, GEN_COUNTERS_LANE_AFXDP);
	}
out:
	if (out)
		pcap_dump_close(out);
	if (punt)
		pcap_dump_close(punt);
	if (dead)
		pcap_close(dead);
	pcap_close(in);
	pipeline_worker_free(&w);
	grace_calls_free(gc);
	return rc;
}
