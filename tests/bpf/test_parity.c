/* The kernel lane of the XDP program against the user-space pipeline
 * (docs/xdp.md "Tests"): the same config (tests/bpf/parity.conf) is
 * published into the table maps with xdp_tables_publish() and loaded into
 * a pipeline worker; every message of tests/corpus/ and a few SIPp-like
 * calls, wrapped in Ethernet (0-2 VLAN tags) / IPv4 or IPv6 / UDP to the VIP
 * from a plain, an internal and a blocked source, runs through
 * BPF_PROG_TEST_RUN and through pipeline_process().
 *
 * Whenever the kernel decides (reason kernel_forward, kernel_drop_rule,
 * kernel_punt_rule) its action must be the pipeline's outcome, and for a
 * forward the node (per-node counter) and the output bytes must be the
 * pipeline's. Everything else must have gone to user space (pass_no_xsk
 * under test-run), counted by one up_why reason. The lane must decide the
 * plain INVITE / ACK / BYE / responses and the source-prefix drop, and send
 * the Hyperscan-flag message up.
 *
 * Then every request of a real SIPp capture (tests/bpf/sipp_calls.pcap,
 * INVITE / ACK / BYE over IPv4 and IPv6, caller side) runs the same way
 * with a lab-like config (tests/bpf/lab.conf): each must be forwarded in
 * the kernel, to the pipeline's node, with the pipeline's bytes.
 *
 * Last, the mutation round (the kernel scan is a second SIP parser: it is
 * fuzzed): from a fixed seed, about 30,000 frames of mutants (mutate.h) of
 * every corpus message and every capture request, with parity.conf and
 * with lab.conf, from a plain and from a dropped source, some over IPv6 or
 * VLAN; the same rule for every frame. PARITY_SEED and PARITY_MUTANTS run
 * another or a longer round.
 *
 * Usage: test-parity CONFIG CORPUS_DIR LAB_CONFIG PCAP. Exits 77 when not
 * root or bpf() is refused. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <cmocka.h>

/* linux/bpf.h has its own struct bpf_insn */
#define PCAP_DONT_INCLUDE_PCAP_BPF_H
#include <pcap/pcap.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "config.h"
#include "pipeline.h"
#include "siphon/names.h"
#include "siphon_tables.h"
#include "siphon_xdp.h"
#include "siphon.skel.h"
#include "xdp_tables.h"

#include "mutate.h"

#define N_COUNTERS (PKT_STATUS__COUNT + XDP_REASON__COUNT)
#define FRAME_MAX  3400 /* test-run takes a page minus head- and tailroom */
#define BUF_MAX    4096

static const char *config_path, *corpus_dir, *lab_config_path, *pcap_path;
static struct siphon_config *cfg;
static struct siphon_bpf *skel;
static struct pipeline_worker worker;
static int ncpus;

static const char *const reason_names[] = {
#define XDP_REASON(id, name, help) [XDP_REASON_##id] = name,
#include "xdp_reasons.def"
#undef XDP_REASON
};

static const uint8_t vip4[4] = {198, 18, 0, 10};
static const uint8_t vip6[16] = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x10, [15] = 0x10};
/* The lab's VIPs (tests/bpf/lab.conf). */
static const uint8_t lab_vip4[4] = {198, 18, 0, 10};
static const uint8_t lab_vip6[16] = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x18, [15] = 0x10};
static const uint8_t *frame_vip6 = vip6; /* the IPv6 VIP mk_frame() sends to */

/* Sources: the variants run the first SRC__COUNT; SRC_LAB_SCANNER is in
 * lab.conf's dropped prefix (SCANNER_NET, IPv4 only). */
enum source { SRC_PLAIN, SRC_INTERNAL, SRC_BLOCKED, SRC__COUNT, SRC_LAB_SCANNER = SRC__COUNT };
static const uint8_t src4[SRC__COUNT + 1][4] = {
	{192, 0, 2, 7}, {198, 18, 1, 7}, {203, 0, 113, 9}, {198, 18, 9, 66}};
static const uint8_t src6[SRC__COUNT + 1][16] = {
	{0x20, 0x01, 0x0d, 0xb8, 0x00, 0x0c, [15] = 7},
	{0x20, 0x01, 0x0d, 0xb8, 0x00, 0x05, [15] = 7},
	{0x20, 0x01, 0x0d, 0xb8, 0x0b, 0xad, [15] = 9},
	{0x20, 0x01, 0x0d, 0xb8, 0x00, 0x0c, [15] = 66}, /* not dropped: none for IPv6 */
};

/* what both lanes did with one frame */
struct result {
	int action;          /* the XDP program's return */
	unsigned reason;     /* enum xdp_reason */
	unsigned why;        /* up_why reason, or ~0u */
	int knode;           /* node counted by the kernel, or -1 */
	uint8_t out[BUF_MAX];
	uint32_t out_len;
	enum pipeline_outcome outcome;
	int preason;         /* the scanner's reason (sip_reason_name()), or -1 */
	int pnode;           /* node counted by the pipeline, or -1 */
	uint8_t pout[BUF_MAX];
	size_t pout_len;
};

/* tallies */
static unsigned long n_frames, n_kernel[XDP_REASON__COUNT], n_why[XDP_REASON__COUNT];

/* ---- frames ---- */

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static size_t put_eth(uint8_t *b, int vlans, unsigned type)
{
	static const uint8_t macs[12] = {2, 0, 0, 0, 0, 0x0a, 2, 0, 0, 0, 0, 0x99};
	size_t off = 12;

	memcpy(b, macs, sizeof(macs));
	for (int i = 0; i < vlans; i++) {
		put16(b + off, i == 0 && vlans > 1 ? PKT_ETHERTYPE_QINQ : PKT_ETHERTYPE_VLAN);
		put16(b + off + 2, 100u + (unsigned)i);
		off += 4;
	}
	put16(b + off, type);
	return off + 2;
}

/* Ethernet / IP (4 or 6) / UDP to the VIP:5060 around payload; 0 when too big. */
static size_t mk_frame(uint8_t *b, int family, int vlans, enum source src, const uint8_t *pl,
		       size_t plen, size_t pad)
{
	size_t off = put_eth(b, vlans, family == 4 ? PKT_ETHERTYPE_IPV4 : PKT_ETHERTYPE_IPV6);
	size_t iph = family == 4 ? 20 : 40;
	uint8_t *ip = b + off, *udp = ip + iph;

	if (off + iph + 8 + plen + pad > FRAME_MAX)
		return 0;
	memset(ip, 0, iph);
	if (family == 4) {
		ip[0] = 0x45;
		put16(ip + 2, (unsigned)(20 + 8 + plen));
		put16(ip + 4, 0x4321);
		ip[8] = 64;
		ip[9] = PKT_PROTO_UDP;
		memcpy(ip + 12, src4[src], 4);
		memcpy(ip + 16, vip4, 4);
	} else {
		ip[0] = 0x60;
		put16(ip + 4, (unsigned)(8 + plen));
		ip[6] = PKT_PROTO_UDP;
		ip[7] = 64;
		memcpy(ip + 8, src6[src], 16);
		memcpy(ip + 24, frame_vip6, 16);
	}
	put16(udp, 5062);
	put16(udp + 2, 5060);
	put16(udp + 4, (unsigned)(8 + plen));
	put16(udp + 6, 0x1234); /* neither lane verifies it; dsr keeps it */
	memcpy(udp + 8, pl, plen);
	memset(udp + 8 + plen, 0, pad); /* Ethernet padding */
	return off + iph + 8 + plen + pad;
}

/* ---- counters ---- */

/* The packets of entries 0..n-1 summed over the CPUs: one batch lookup
 * (a lookup per entry made the mutation round slow). */
static void sum_percpu(struct bpf_map *map, uint32_t n, uint64_t *pkts)
{
	static struct siphon_xdp_counter *v;
	static uint32_t *keys;
	static size_t cap;
	uint32_t token, count = n;
	int rc;

	if (cap < n) {
		free(v);
		free(keys);
		v = calloc((size_t)n * (size_t)ncpus, sizeof(*v));
		keys = calloc(n, sizeof(*keys));
		assert_true(v && keys);
		cap = n;
	}
	rc = bpf_map_lookup_batch(bpf_map__fd(map), NULL, &token, keys, v, &count, NULL);
	if (rc && errno != ENOENT)
		fail_msg("lookup_batch %s: %s", bpf_map__name(map), strerror(errno));
	assert_int_equal(count, n);
	for (uint32_t k = 0; k < n; k++) {
		assert_int_equal(keys[k], k);
		pkts[k] = 0;
		for (int c = 0; c < ncpus; c++)
			pkts[k] += v[(size_t)k * (size_t)ncpus + (size_t)c].packets;
	}
}

/* the index of the one entry that moved by one, -1 when none; fails on more */
static int moved(const uint64_t *a, const uint64_t *b, uint32_t n)
{
	int which = -1;

	for (uint32_t k = 0; k < n; k++) {
		if (a[k] == b[k])
			continue;
		assert_int_equal(b[k] - a[k], 1);
		assert_int_equal(which, -1);
		which = (int)k;
	}
	return which;
}

/* ---- running both lanes ---- */

static void run_both(const uint8_t *f, size_t len, struct result *r)
{
	static uint64_t c0[N_COUNTERS], c1[N_COUNTERS], w0[XDP_REASON__COUNT],
		w1[XDP_REASON__COUNT], n0[SK_MAX_NODES], n1[SK_MAX_NODES],
		s0[SIP_REASON__COUNT];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f, .data_size_in = (uint32_t)len,
		    .data_out = r->out, .data_size_out = sizeof(r->out), .repeat = 1);
	uint64_t *pn0 = calloc(cfg->tables.n_nodes + 1, sizeof(uint64_t));
	int k;

	assert_non_null(pn0);
	sum_percpu(skel->maps.counters, N_COUNTERS, c0);
	sum_percpu(skel->maps.up_why, XDP_REASON__COUNT, w0);
	sum_percpu(skel->maps.node_stats, SK_MAX_NODES, n0);
	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(skel->progs.siphon_xdp), &o), 0);
	sum_percpu(skel->maps.counters, N_COUNTERS, c1);
	sum_percpu(skel->maps.up_why, XDP_REASON__COUNT, w1);
	sum_percpu(skel->maps.node_stats, SK_MAX_NODES, n1);
	r->action = (int)o.retval;
	r->out_len = o.data_size_out;
	k = moved(c0 + PKT_STATUS__COUNT, c1 + PKT_STATUS__COUNT, XDP_REASON__COUNT);
	assert_true(k >= 0);
	r->reason = (unsigned)k;
	k = moved(w0, w1, XDP_REASON__COUNT);
	r->why = k < 0 ? ~0u : (unsigned)k;
	r->knode = moved(n0, n1, SK_MAX_NODES);

	memcpy(pn0, worker.c.node, cfg->tables.n_nodes * sizeof(uint64_t));
	memcpy(s0, worker.c.sip_reason, sizeof(s0));
	memcpy(r->pout, f, len);
	r->pout_len = len;
	r->outcome = pipeline_process(&worker, r->pout, &r->pout_len, sizeof(r->pout));
	r->pnode = moved(pn0, worker.c.node, cfg->tables.n_nodes);
	r->preason = moved(s0, worker.c.sip_reason, SIP_REASON__COUNT);
	free(pn0);

	n_frames++;
	n_kernel[r->reason]++;
	if (r->why != ~0u)
		n_why[r->why]++;
}

static bool kernel_decided(unsigned reason)
{
	return reason == XDP_REASON_KERNEL_FORWARD || reason == XDP_REASON_KERNEL_DROP_RULE ||
	       reason == XDP_REASON_KERNEL_PUNT_RULE;
}

/* The parity rule for one frame run by run_both(): NULL when it holds,
 * else what breaks it (in msg). */
static const char *parity_break(const struct result *r, char *msg, size_t cap)
{
	if (!kernel_decided(r->reason)) {
		/* up: the AF_XDP redirect, no socket under test-run */
		if (r->reason != XDP_REASON_PASS_NO_XSK || r->why == ~0u || r->action != XDP_PASS) {
			snprintf(msg, cap, "reason %s, why %s, action %d: neither decided nor sent up",
				 reason_names[r->reason], r->why == ~0u ? "-" : reason_names[r->why],
				 r->action);
			return msg;
		}
		return NULL;
	}
	switch (r->reason) {
	case XDP_REASON_KERNEL_FORWARD:
		if (r->outcome != PIPELINE_FORWARD)
			snprintf(msg, cap, "kernel forwards, pipeline says %s",
				 pipeline_outcome_name(r->outcome));
		else if (r->action != XDP_TX && r->action != XDP_REDIRECT)
			snprintf(msg, cap, "kernel_forward with action %d", r->action);
		else if (r->knode != r->pnode)
			snprintf(msg, cap, "kernel node %d, pipeline node %d", r->knode, r->pnode);
		else if (r->out_len != r->pout_len || memcmp(r->out, r->pout, r->out_len) != 0)
			snprintf(msg, cap, "output differs (kernel %u bytes, pipeline %zu)", r->out_len,
				 r->pout_len);
		else
			return NULL;
		return msg;
	case XDP_REASON_KERNEL_DROP_RULE:
		if (r->outcome == PIPELINE_DROP && r->action == XDP_DROP)
			return NULL;
		snprintf(msg, cap, "kernel drops (action %d), pipeline says %s", r->action,
			 pipeline_outcome_name(r->outcome));
		return msg;
	case XDP_REASON_KERNEL_PUNT_RULE:
		if (r->outcome == PIPELINE_PUNT && r->action == XDP_PASS)
			return NULL;
		snprintf(msg, cap, "kernel punts (action %d), pipeline says %s", r->action,
			 pipeline_outcome_name(r->outcome));
		return msg;
	}
	return NULL;
}

/* The parity rule for one frame (fails the test); returns the kernel's
 * reason, or for a frame sent up the up_why reason. */
static unsigned check_parity(const char *name, const uint8_t *f, size_t len, struct result *r)
{
	char msg[256];

	run_both(f, len, r);
	if (parity_break(r, msg, sizeof(msg)))
		fail_msg("%s: %s", name, msg);
	return kernel_decided(r->reason) ? r->reason : r->why;
}

static struct result res;

/* Every variant of one payload; returns how many the kernel decided. */
static unsigned check_variants(const char *name, const uint8_t *pl, size_t plen,
			       unsigned *reasons_plain)
{
	static uint8_t f[BUF_MAX];
	char what[256];
	unsigned decided = 0;

	for (int family = 4; family <= 6; family += 2)
		for (int vlans = 0; vlans <= 2; vlans++)
			for (int src = 0; src < SRC__COUNT; src++)
				for (size_t pad = 0; pad <= 6; pad += 6) {
					size_t len = mk_frame(f, family, vlans, (enum source)src, pl,
							      plen, pad);
					unsigned r;

					if (!len)
						return decided;
					snprintf(what, sizeof(what), "%s (IPv%d, %d VLAN, source %d, pad %zu)",
						 name, family, vlans, src, pad);
					r = check_parity(what, f, len, &res);
					decided += kernel_decided(res.reason);
					if (reasons_plain && family == 4 && vlans == 0 && src == SRC_PLAIN &&
					    pad == 0)
						*reasons_plain = r;
				}
	return decided;
}

/* ---- the SIPp-like call ---- */

static const char *invite =
	"INVITE sip:service@198.18.0.10:5060 SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK-1-1-0\r\n"
	"From: sipp <sip:sipp@192.0.2.7:5062>;tag=1SIPpTag001\r\n"
	"To: service <sip:service@198.18.0.10:5060>\r\n"
	"Call-ID: 1-4711@192.0.2.7\r\n"
	"CSeq: 1 INVITE\r\n"
	"Contact: sip:sipp@192.0.2.7:5062\r\n"
	"Max-Forwards: 70\r\n"
	"Subject: Performance Test\r\n"
	"Content-Type: application/sdp\r\n"
	"Content-Length:   129\r\n"
	"\r\n"
	"v=0\r\n"
	"o=user1 53655765 2353687637 IN IP4 192.0.2.7\r\n"
	"s=-\r\n"
	"c=IN IP4 192.0.2.7\r\n"
	"t=0 0\r\n"
	"m=audio 6000 RTP/AVP 0\r\n"
	"a=rtpmap:0 PCMU/8000\r\n";

static const char *ack =
	"ACK sip:service@198.18.0.10:5060 SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK-1-1-5\r\n"
	"From: sipp <sip:sipp@192.0.2.7:5062>;tag=1SIPpTag001\r\n"
	"To: service <sip:service@198.18.0.10:5060>;tag=as5f2a\r\n"
	"Call-ID: 1-4711@192.0.2.7\r\n"
	"CSeq: 1 ACK\r\n"
	"Contact: sip:sipp@192.0.2.7:5062\r\n"
	"Max-Forwards: 70\r\n"
	"Subject: Performance Test\r\n"
	"Content-Length: 0\r\n"
	"\r\n";

static const char *bye =
	"BYE sip:service@198.18.0.10:5060 SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK-1-1-7\r\n"
	"From: sipp <sip:sipp@192.0.2.7:5062>;tag=1SIPpTag001\r\n"
	"To: service <sip:service@198.18.0.10:5060>;tag=as5f2a\r\n"
	"Call-ID: 1-4711@192.0.2.7\r\n"
	"CSeq: 2 BYE\r\n"
	"Contact: sip:sipp@192.0.2.7:5062\r\n"
	"Max-Forwards: 70\r\n"
	"Content-Length: 0\r\n"
	"\r\n";

static const char *ok200 =
	"SIP/2.0 200 OK\r\n"
	"Via: SIP/2.0/UDP 198.18.2.21:5060;branch=z9hG4bK-b1-77\r\n"
	"Via: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK-1-1-0\r\n"
	"From: sipp <sip:sipp@192.0.2.7:5062>;tag=1SIPpTag001\r\n"
	"To: service <sip:service@198.18.0.10:5060>;tag=as5f2a\r\n"
	"Call-ID: 1-4711@192.0.2.7\r\n"
	"CSeq: 2 BYE\r\n"
	"Content-Length: 0\r\n"
	"\r\n";

static const char *scanner =
	"INVITE sip:100@198.18.0.10 SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK-scan\r\n"
	"From: <sip:100@192.0.2.7>;tag=abc\r\n"
	"To: <sip:100@198.18.0.10>\r\n"
	"Call-ID: scan-1@192.0.2.7\r\n"
	"CSeq: 1 INVITE\r\n"
	"User-Agent: friendly-scanner\r\n"
	"Content-Length: 0\r\n"
	"\r\n";

static const char *message =
	"MESSAGE sip:alice@198.18.0.10 SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK-msg\r\n"
	"From: <sip:bob@192.0.2.7>;tag=m1\r\n"
	"To: <sip:alice@198.18.0.10>\r\n"
	"Call-ID: msg-1@192.0.2.7\r\n"
	"CSeq: 7 MESSAGE\r\n"
	"Content-Length: 2\r\n"
	"\r\n"
	"hi";

static const char *prio =
	"INVITE sip:911@198.18.0.10 SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK-prio\r\n"
	"From: <sip:bob@192.0.2.7>;tag=p1\r\n"
	"To: <sip:911@198.18.0.10>\r\n"
	"Call-ID: prio-1@192.0.2.7\r\n"
	"CSeq: 1 INVITE\r\n"
	"Priority: emergency\r\n"
	"Content-Length: 0\r\n"
	"\r\n";

static void sipp_call(void **state)
{
	static uint8_t f[BUF_MAX];
	const char *const msgs[] = { invite, ack, bye, ok200 };
	const char *const names[] = { "INVITE", "ACK", "BYE", "200 to BYE" };
	int node = -1;

	(void)state;
	for (size_t m = 0; m < 4; m++) {
		const uint8_t *pl = (const uint8_t *)msgs[m];
		size_t plen = strlen(msgs[m]);

		check_variants(names[m], pl, plen, NULL);
		/* decided in the kernel, one node for the whole call, every variant */
		for (int family = 4; family <= 6; family += 2)
			for (int vlans = 0; vlans <= 2; vlans++)
				for (int src = SRC_PLAIN; src <= SRC_INTERNAL; src++) {
					size_t len = mk_frame(f, family, vlans, (enum source)src, pl,
							      plen, m == 1 ? 6 : 0);

					check_parity(names[m], f, len, &res);
					if (res.reason != XDP_REASON_KERNEL_FORWARD)
						fail_msg("%s (IPv%d, %d VLAN): not forwarded in the kernel "
							 "(%s, why %s)", names[m], family, vlans,
							 reason_names[res.reason],
							 res.why == ~0u ? "-" : reason_names[res.why]);
					if (node < 0)
						node = res.knode;
					assert_int_equal(res.knode, node);
				}
	}
	printf("# the SIPp call went to node %d (%s)\n", node, cfg->tables.nodes[node].id);
}

/* A blocked source is dropped in the kernel, SIP or not (not a STUN
 * binding request, which the scanner would punt). */
static void source_drop(void **state)
{
	static uint8_t f[BUF_MAX];
	static const uint8_t stun[20] = {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42, 1, 2, 3,
					 4, 5, 6, 7, 8, 9, 10, 11, 12};
	const struct { const char *name; const uint8_t *pl; size_t len; } cases[] = {
		{ "INVITE", (const uint8_t *)invite, strlen(invite) },
		{ "garbage", (const uint8_t *)"\x16\x03\x01 not sip at all", 24 },
		{ "empty", (const uint8_t *)"", 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		for (int family = 4; family <= 6; family += 2) {
			size_t len = mk_frame(f, family, 1, SRC_BLOCKED, cases[i].pl, cases[i].len, 0);

			check_parity(cases[i].name, f, len, &res);
			if (res.reason != XDP_REASON_KERNEL_DROP_RULE)
				fail_msg("%s from a blocked IPv%d source: %s", cases[i].name, family,
					 reason_names[res.reason]);
		}
	/* a STUN binding request from a blocked source: the pipeline punts it */
	check_parity("stun", f, mk_frame(f, 4, 0, SRC_BLOCKED, stun, sizeof(stun), 0), &res);
	assert_int_not_equal(res.reason, XDP_REASON_KERNEL_DROP_RULE);
	assert_int_equal(res.outcome, PIPELINE_PUNT);
}

/* Messages whose rules need what the kernel does not know go up; those it
 * knows are decided. */
static void flags_and_rules(void **state)
{
	static uint8_t f[BUF_MAX];

	(void)state;
	/* Hyperscan: User-Agent match, not in dialog */
	check_parity("scanner", f, mk_frame(f, 4, 0, SRC_PLAIN, (const uint8_t *)scanner,
					    strlen(scanner), 0), &res);
	assert_int_equal(res.why, XDP_REASON_UP_FLAGS);
	assert_int_equal(res.outcome, PIPELINE_DROP);
	/* MESSAGE: punt in the kernel */
	check_parity("message", f, mk_frame(f, 6, 2, SRC_PLAIN, (const uint8_t *)message,
					    strlen(message), 0), &res);
	assert_int_equal(res.reason, XDP_REASON_KERNEL_PUNT_RULE);
	/* Priority from inside: dsr pool prio, in the kernel */
	check_parity("prio internal", f, mk_frame(f, 4, 1, SRC_INTERNAL, (const uint8_t *)prio,
						  strlen(prio), 0), &res);
	assert_int_equal(res.reason, XDP_REASON_KERNEL_FORWARD);
	/* Priority from outside: the nat pool, user space */
	check_parity("prio outside", f, mk_frame(f, 4, 1, SRC_PLAIN, (const uint8_t *)prio,
						 strlen(prio), 0), &res);
	assert_int_equal(res.why, XDP_REASON_UP_NOT_DSR);
}

/* To headers whose tag the scan must find as sip_parse_name_addr() does:
 * each runs both lanes (every variant) and must agree where the kernel
 * decides; the plain ones must be forwarded. Then again with a scanner
 * User-Agent, where the rule "SCANNER_UA and not IN_DIALOG" makes the
 * dialog state the outcome: the pipeline drops unless there is a tag, and
 * the kernel must forward exactly the ones with a tag. */
static void to_tags(void **state)
{
	static const struct { const char *to; bool forwarded; } cases[] = {
		{ "service <sip:service@198.18.0.10:5060>;tag=2255SIPpTag01240", true },
		{ "<sip:a@198.18.0.10>;TAG=Tag1", true },
		{ "<sip:a@198.18.0.10> ; tag = x1 ", true },
		{ "<sip:tag@198.18.0.10;tag=u>;tagx=1;tag=y", true },
		{ "<sip:a@198.18.0.10>;foo=tag;tag=a", true },
		{ "<sip:a@198.18.0.10>;tag;tag=z", true },
		{ "<sip:a@198.18.0.10>;tag=", true },
		{ "<sip:a@198.18.0.10>;tag= ;x=1", true },
		{ "<sip:a@198.18.0.10>;;tag=w", true },
		{ "\"Svc tag\" <sip:a@198.18.0.10>;tag=q", true },
		{ "sip:a@198.18.0.10;tag=v", true },
		{ "sip:a@198.18.0.10", true },
		{ "<sip:a@198.18.0.10>;x=\"tag=1\";tag=2", false },
		{ "<sip:a@198.18.0.10>;ta/g=1;tag=x_y", true },
	};
	static uint8_t f[BUF_MAX];
	char msg[1024];

	(void)state;
	for (size_t i = 0; i < 2 * sizeof(cases) / sizeof(cases[0]); i++) {
		size_t c = i % (sizeof(cases) / sizeof(cases[0]));
		bool ua = i >= sizeof(cases) / sizeof(cases[0]);
		int n = snprintf(msg, sizeof(msg),
				 "BYE sip:service@198.18.0.10:5060 SIP/2.0\r\n"
				 "Via: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK-t%zu\r\n"
				 "From: <sip:sipp@192.0.2.7>;tag=1SIPpTag001\r\n"
				 "To: %s\r\n"
				 "Call-ID: tag-%zu@192.0.2.7\r\n"
				 "CSeq: 2 BYE\r\n"
				 "%s"
				 "Content-Length: 0\r\n"
				 "\r\n", i, cases[c].to, i,
				 ua ? "User-Agent: friendly-scanner\r\n" : "");
		unsigned plain = ~0u;

		if (!ua) {
			check_variants(cases[c].to, (const uint8_t *)msg, (size_t)n, &plain);
			if (cases[c].forwarded && plain != XDP_REASON_KERNEL_FORWARD)
				fail_msg("To: %s: not forwarded in the kernel (%s)", cases[c].to,
					 plain == ~0u ? "-" : reason_names[plain]);
			continue;
		}
		check_parity(cases[c].to, f, mk_frame(f, 4, 0, SRC_PLAIN, (const uint8_t *)msg,
						       (size_t)n, 0), &res);
		if (cases[c].forwarded &&
		    (res.reason == XDP_REASON_KERNEL_FORWARD) != (res.outcome == PIPELINE_FORWARD))
			fail_msg("To: %s with a scanner User-Agent: kernel %s (why %s), pipeline %s",
				 cases[c].to, reason_names[res.reason],
				 res.why == ~0u ? "-" : reason_names[res.why],
				 pipeline_outcome_name(res.outcome));
	}
}

/* The corpus message NAME (a .sip file of corpus_dir), malloc'd, or NULL
 * for any other file. */
static uint8_t *corpus_read(const char *name, size_t *len)
{
	size_t nl = strlen(name);
	char path[4096];
	uint8_t *buf;
	FILE *fp;

	if (nl < 5 || strcmp(name + nl - 4, ".sip") != 0)
		return NULL;
	snprintf(path, sizeof(path), "%s/%s", corpus_dir, name);
	fp = fopen(path, "rb");
	assert_non_null(fp);
	buf = malloc(70000);
	assert_non_null(buf);
	*len = fread(buf, 1, 70000, fp);
	fclose(fp);
	return buf;
}

/* Every corpus message, every variant. */
static void corpus(void **state)
{
	struct dirent **ents;
	int n = scandir(corpus_dir, &ents, NULL, alphasort);
	unsigned files = 0, decided_files = 0;

	(void)state;
	assert_true(n > 0);
	for (int i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		size_t len;
		uint8_t *buf = corpus_read(name, &len);
		unsigned plain = ~0u;

		if (!buf)
			goto next;
		files++;
		if (check_variants(name, buf, len, &plain))
			decided_files++;
		if (getenv("PARITY_VERBOSE"))
			printf("# %-48s %s\n", name, plain == ~0u ? "(too big)" : reason_names[plain]);
		free(buf);
next:
		free(ents[i]);
	}
	free(ents);
	printf("# corpus: %u files, %u with a variant decided in the kernel\n", files, decided_files);
	assert_true(decided_files > 0);
}

/* Publishing again flips the generation; an egress ifindex redirects. */
static void generations_and_egress(void **state)
{
	static uint8_t f[BUF_MAX];
	struct sk_gen g0, g1;
	uint32_t zero = 0;
	char err[256];
	size_t len = mk_frame(f, 4, 0, SRC_PLAIN, (const uint8_t *)invite, strlen(invite), 0);

	(void)state;
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.generation), &zero, &g0), 0);
	assert_int_equal(xdp_tables_publish(skel, &cfg->tables, 1 /* lo */, err, sizeof(err)), 0);
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.generation), &zero, &g1), 0);
	assert_int_equal(g1.active, g0.active ^ 1);
	assert_int_equal(g1.seq, g0.seq + 1);
	check_parity("INVITE, egress lo", f, len, &res);
	assert_int_equal(res.reason, XDP_REASON_KERNEL_FORWARD);
	assert_int_equal(res.action, XDP_REDIRECT);
	assert_int_equal(xdp_tables_publish(skel, &cfg->tables, 0, err, sizeof(err)), 0);
	check_parity("INVITE, XDP_TX", f, len, &res);
	assert_int_equal(res.reason, XDP_REASON_KERNEL_FORWARD);
	assert_int_equal(res.action, XDP_TX);
}

static struct siphon_bpf *load_tables(struct siphon_config *c);

/* The lab-like config (tests/bpf/lab.conf) in place of parity.conf: its
 * tables published into a skeleton of their own, a worker of its own;
 * lab_leave() puts parity.conf's back. */
struct saved_lanes {
	struct siphon_config *cfg;
	struct siphon_bpf *skel;
	struct pipeline_worker worker;
};

static void lab_enter(struct saved_lanes *sv)
{
	struct siphon_config *lab;
	struct config_error cerr;

	sv->cfg = cfg;
	sv->skel = skel;
	sv->worker = worker;
	if (config_load(lab_config_path, &lab, &cerr))
		fail_msg("%s", cerr.text);
	cfg = lab;
	skel = load_tables(lab);
	assert_non_null(skel);
	assert_int_equal(pipeline_worker_init(&worker, &lab->tables), 0);
	frame_vip6 = lab_vip6;
}

static void lab_leave(struct saved_lanes *sv)
{
	pipeline_worker_free(&worker);
	siphon_bpf__destroy(skel);
	config_free(cfg);
	cfg = sv->cfg;
	skel = sv->skel;
	worker = sv->worker;
	frame_vip6 = vip6;
}

/* A frame of the SIPp capture (Ethernet, IPv4 or IPv6, UDP): where its
 * payload starts when it is a request to the lab's VIP (*v6 its family),
 * else 0 (a response to the caller). */
static size_t capture_request(const uint8_t *d, size_t caplen, int *v6)
{
	const size_t l3 = 14;

	assert_true(caplen > l3 + 48);
	if (d[12] == 0x08 && d[13] == 0x00) {
		*v6 = 0;
		if (memcmp(d + l3 + 16, lab_vip4, 4) != 0)
			return 0;
		return l3 + (size_t)(d[l3] & 15) * 4 + 8;
	}
	assert_true(d[12] == 0x86 && d[13] == 0xdd);
	*v6 = 1;
	if (memcmp(d + l3 + 24, lab_vip6, 16) != 0)
		return 0;
	return l3 + 40 + 8;
}

/* Every request frame of the real SIPp capture, with the lab-like config:
 * decided in the kernel (forwarded), equal to the pipeline (node, bytes). */
static void sipp_capture(void **state)
{
	static uint8_t f[BUF_MAX];
	struct saved_lanes sv;
	char err[PCAP_ERRBUF_SIZE], what[64];
	struct pcap_pkthdr *h;
	const uint8_t *d;
	unsigned n[2][3] = {{0}}, frames = 0;
	pcap_t *pc;

	(void)state;
	lab_enter(&sv);
	pc = pcap_open_offline(pcap_path, err);
	if (!pc)
		fail_msg("%s: %s", pcap_path, err);
	while (pcap_next_ex(pc, &h, &d) == 1) {
		static const char *const methods[] = {"INVITE ", "ACK ", "BYE "};
		size_t pl;
		int fam, m = -1;

		assert_int_equal(h->caplen, h->len);
		assert_true(h->caplen <= sizeof(f));
		pl = capture_request(d, h->caplen, &fam);
		if (!pl)
			continue; /* a response to the caller */
		for (int k = 0; k < 3; k++)
			if (h->caplen - pl > strlen(methods[k]) &&
			    memcmp(d + pl, methods[k], strlen(methods[k])) == 0)
				m = k;
		if (m < 0)
			fail_msg("capture frame %u: a request to the VIP that is not INVITE/ACK/BYE",
				 frames);
		memcpy(f, d, h->caplen);
		snprintf(what, sizeof(what), "capture frame %u (%s IPv%d)", frames,
			 methods[m], fam ? 6 : 4);
		check_parity(what, f, h->caplen, &res);
		if (res.reason != XDP_REASON_KERNEL_FORWARD)
			fail_msg("%s: not forwarded in the kernel (%s, why %s)", what,
				 reason_names[res.reason], res.why == ~0u ? "-" : reason_names[res.why]);
		n[fam][m]++;
		frames++;
	}
	pcap_close(pc);
	printf("# SIPp capture: %u requests forwarded in the kernel, as the pipeline: "
	       "IPv4 INVITE %u ACK %u BYE %u, IPv6 INVITE %u ACK %u BYE %u\n", frames, n[0][0],
	       n[0][1], n[0][2], n[1][0], n[1][1], n[1][2]);
	for (int fam = 0; fam < 2; fam++)
		for (int m = 0; m < 3; m++)
			assert_true(n[fam][m] > 0);
	lab_leave(&sv);
}

/* ---- the mutation round ---- */

/* The round's seed (printed; PARITY_SEED=N runs another round) and its
 * frames (PARITY_MUTANTS=N: about N frames over both configs). */
#define MUT_SEED_DEFAULT   0x5eed2024c0ffeeull
#define MUT_FRAMES_DEFAULT 30000
#define MUT_REPORTS        12 /* breaks printed in full; all are counted */

/* a message the round mutates */
struct mut_input {
	char name[300];
	uint8_t *pl;
	size_t len;
};

struct mut_tally {
	unsigned long frames, skipped, breaks, plain, plain_decided;
	unsigned long kernel[XDP_REASON__COUNT]; /* by reason (pass_no_xsk: went up) */
};

static const char *const source_names[] = {"plain", "internal", "blocked", "lab scanner"};

/* The messages: every corpus message and every request of the capture
 * that fit a frame with room to grow. */
static size_t mut_inputs(struct mut_input **out)
{
	struct mut_input *in = NULL;
	struct dirent **ents;
	int n = scandir(corpus_dir, &ents, NULL, alphasort);
	size_t count = 0, cap = 0;
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const uint8_t *d;
	unsigned frame = 0;
	pcap_t *pc;

	assert_true(n > 0);
	for (int i = 0; i <= n; i++) {
		uint8_t *buf = NULL;
		size_t len = 0, pl;
		int v6;

		if (i < n) {
			buf = corpus_read(ents[i]->d_name, &len);
			if (buf && len > MUT_MAX - 400) {
				free(buf);
				buf = NULL;
			}
			if (buf) {
				if (count == cap) {
					cap = cap ? 2 * cap : 256;
					in = realloc(in, cap * sizeof(*in));
					assert_non_null(in);
				}
				snprintf(in[count].name, sizeof(in[count].name), "corpus %s",
					 ents[i]->d_name);
				in[count].pl = buf;
				in[count++].len = len;
			}
			free(ents[i]);
			continue;
		}
		pc = pcap_open_offline(pcap_path, err);
		if (!pc)
			fail_msg("%s: %s", pcap_path, err);
		for (; pcap_next_ex(pc, &h, &d) == 1; frame++) {
			pl = capture_request(d, h->caplen, &v6);
			if (!pl)
				continue;
			if (count == cap) {
				cap = 2 * cap + 16;
				in = realloc(in, cap * sizeof(*in));
				assert_non_null(in);
			}
			snprintf(in[count].name, sizeof(in[count].name), "capture frame %u (IPv%d)",
				 frame, v6 ? 6 : 4);
			in[count].len = h->caplen - pl;
			in[count].pl = malloc(in[count].len + 1);
			assert_non_null(in[count].pl);
			memcpy(in[count].pl, d + pl, in[count].len);
			count++;
		}
		pcap_close(pc);
	}
	free(ents);
	*out = in;
	return count;
}

static void mut_report(uint64_t seed, const char *conf, const struct mut_input *in, long k,
		       const struct mutant *m, int family, int vlans, enum source src, size_t pad,
		       const struct result *r, const char *msg)
{
	printf("# PARITY BREAK: %s\n#   seed 0x%llx, %s, %s, %s%s\n", msg, (unsigned long long)seed,
	       conf, in->name, k < 0 ? "unmutated" : "mutant:", k < 0 ? "" : m->what);
	printf("#   frame IPv%d, %d VLAN, source %s, pad %zu; payload %zu bytes:\n", family, vlans,
	       source_names[src], pad, m->n);
	mut_print_escaped(stdout, m->b, m->n);
	printf("#   kernel: action %d, reason %s, why %s, node %d, %u bytes out\n", r->action,
	       reason_names[r->reason], r->why == ~0u ? "-" : reason_names[r->why], r->knode,
	       r->out_len);
	printf("#   pipeline: %s (scanner: %s), node %d, %zu bytes out\n",
	       pipeline_outcome_name(r->outcome), r->preason < 0 ? "-" : sip_reason_name((unsigned)r->preason),
	       r->pnode, r->pout_len);
}

/* One frame of a mutant (k < 0: the message itself, IPv4, plain source)
 * through both lanes, tallied; 1 when the kernel decided it. */
static int mut_frame(uint64_t seed, const char *conf, bool lab, const struct mut_input *in, long k,
		     struct mut_rng *rng, const struct mutant *m, struct mut_tally *t)
{
	static uint8_t f[BUF_MAX];
	enum source src = SRC_PLAIN;
	int family = 4, vlans = 0;
	size_t pad = 0, len;
	unsigned pick;
	char msg[256];

	if (k >= 0) {
		/* 15% from a dropped prefix, 10% (parity.conf) from inside; 30%
		 * IPv6 or VLAN-tagged; 1 in 8 with Ethernet padding */
		pick = (unsigned)mut_below(rng, 100);
		if (pick < 15)
			src = lab ? SRC_LAB_SCANNER : SRC_BLOCKED;
		else if (pick < 25 && !lab)
			src = SRC_INTERNAL;
		if (mut_below(rng, 10) < 3) {
			family = mut_below(rng, 2) ? 6 : 4;
			vlans = (int)mut_below(rng, 3);
			if (family == 4 && !vlans)
				vlans = 1;
		}
		if (src == SRC_LAB_SCANNER)
			family = 4; /* lab.conf drops an IPv4 prefix only */
		if (!mut_below(rng, 8))
			pad = 6;
	}
	len = mk_frame(f, family, vlans, src, m->b, m->n, pad);
	if (!len) {
		t->skipped++;
		return 0;
	}
	run_both(f, len, &res);
	t->frames++;
	t->kernel[res.reason]++;
	if (src == SRC_PLAIN) {
		t->plain++;
		t->plain_decided += kernel_decided(res.reason);
	}
	if (parity_break(&res, msg, sizeof(msg)) && ++t->breaks <= MUT_REPORTS) {
		mut_report(seed, conf, in, k, m, family, vlans, src, pad, &res, msg);
		fflush(stdout);
	}
	return kernel_decided(res.reason);
}

/* The round over one config (the current cfg / skel / worker): each
 * message once as it is, then its share of the frames as mutants, a
 * message the kernel decides getting four shares. */
static void mut_round(uint64_t seed, unsigned conf_idx, const char *conf,
		      const struct mut_input *in, size_t n_in, unsigned long frames,
		      struct mut_tally *t)
{
	static struct mutant m;
	unsigned *weight = calloc(n_in, sizeof(*weight));
	unsigned long total = 0, cum = 0, done = 0, budget;
	struct mut_rng rng = {0};

	assert_non_null(weight);
	for (size_t i = 0; i < n_in; i++) {
		memcpy(m.b, in[i].pl, in[i].len);
		m.n = in[i].len;
		weight[i] = mut_frame(seed, conf, conf_idx == 1, &in[i], -1, &rng, &m, t) ? 4 : 1;
		total += weight[i];
	}
	budget = frames > n_in ? frames - n_in : 0;
	for (size_t i = 0; i < n_in; i++) {
		unsigned long upto;

		cum += weight[i];
		upto = budget * cum / total; /* this message's mutants end there */
		for (long k = 0; done < upto; k++, done++) {
			/* every mutant has a generator of its own: seed, config,
			 * message and mutant name it */
			rng.s = seed ^ (((uint64_t)conf_idx << 56) | ((uint64_t)i << 32) | (uint64_t)k) *
					       0xD1B54A32D192ED03ull;
			mut_next(&rng);
			memcpy(m.b, in[i].pl, in[i].len);
			m.n = in[i].len;
			mutate(&rng, &m);
			mut_frame(seed, conf, conf_idx == 1, &in[i], k, &rng, &m, t);
		}
	}
	free(weight);
}

static void mut_print(const char *conf, const struct mut_tally *t)
{
	unsigned long fwd = t->kernel[XDP_REASON_KERNEL_FORWARD],
		      drop = t->kernel[XDP_REASON_KERNEL_DROP_RULE],
		      punt = t->kernel[XDP_REASON_KERNEL_PUNT_RULE];

	printf("# mutation round, %s: %lu frames (%lu too big), decided in the kernel %lu (%.1f%%): "
	       "forward %lu, drop %lu, punt %lu; from a plain source %lu of %lu (%.1f%%); "
	       "%lu parity breaks\n",
	       conf, t->frames, t->skipped, fwd + drop + punt,
	       100.0 * (double)(fwd + drop + punt) / (double)(t->frames ? t->frames : 1), fwd, drop,
	       punt, t->plain_decided, t->plain,
	       100.0 * (double)t->plain_decided / (double)(t->plain ? t->plain : 1), t->breaks);
}

/* Mutants of every corpus message and every capture request, with
 * parity.conf and lab.conf: whenever the kernel decides, it must decide
 * as the pipeline (the rule of check_parity()). */
static void mutation_round(void **state)
{
	const char *env_seed = getenv("PARITY_SEED"), *env_n = getenv("PARITY_MUTANTS");
	uint64_t seed = env_seed ? strtoull(env_seed, NULL, 0) : MUT_SEED_DEFAULT;
	unsigned long frames = env_n ? strtoul(env_n, NULL, 0) : MUT_FRAMES_DEFAULT;
	struct mut_tally t[2];
	struct mut_input *in;
	size_t n_in = mut_inputs(&in);
	struct saved_lanes sv;
	struct timespec t0, t1;
	/* the totals teardown() prints stay those of the written frames */
	unsigned long saved_frames = n_frames, saved_kernel[XDP_REASON__COUNT],
		      saved_why[XDP_REASON__COUNT];

	(void)state;
	memcpy(saved_kernel, n_kernel, sizeof(n_kernel));
	memcpy(saved_why, n_why, sizeof(n_why));
	memset(t, 0, sizeof(t));
	memset(mut_op_count, 0, sizeof(mut_op_count));
	printf("# mutation round: seed 0x%llx, %zu messages, about %lu frames\n",
	       (unsigned long long)seed, n_in, frames);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	mut_round(seed, 0, "parity.conf", in, n_in, frames / 2, &t[0]);
	lab_enter(&sv);
	mut_round(seed, 1, "lab.conf", in, n_in, frames - frames / 2, &t[1]);
	lab_leave(&sv);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	n_frames = saved_frames;
	memcpy(n_kernel, saved_kernel, sizeof(n_kernel));
	memcpy(n_why, saved_why, sizeof(n_why));
	mut_print("parity.conf", &t[0]);
	mut_print("lab.conf", &t[1]);
	printf("# mutations:");
	for (unsigned o = 0; o < MUT__COUNT; o++)
		printf(" %s %lu", mut_op_names[o], mut_op_count[o]);
	printf("\n# mutation round: %.1f s\n",
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	for (size_t i = 0; i < n_in; i++)
		free(in[i].pl);
	free(in);
	if (t[0].breaks + t[1].breaks)
		fail_msg("mutation round (seed 0x%llx): %lu parity breaks", (unsigned long long)seed,
			 t[0].breaks + t[1].breaks);
	/* the round exercises the lane: at least a tenth decided in the kernel */
	for (int c = 0; c < 2; c++) {
		unsigned long dec = t[c].kernel[XDP_REASON_KERNEL_FORWARD] +
				    t[c].kernel[XDP_REASON_KERNEL_DROP_RULE] +
				    t[c].kernel[XDP_REASON_KERNEL_PUNT_RULE];

		if (dec * 10 < t[c].frames)
			fail_msg("mutation round, %s: only %lu of %lu frames decided in the kernel",
				 c ? "lab.conf" : "parity.conf", dec, t[c].frames);
	}
}

static void print_verified(struct bpf_program *prog)
{
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) == 0)
		printf("# %s (kernel lane on): %u instructions, %u verified\n",
		       bpf_program__name(prog), info.xlated_prog_len / 8, info.verified_insns);
}

/* A skeleton with the kernel lane on and c's tables published. */
static struct siphon_bpf *load_tables(struct siphon_config *c)
{
	struct siphon_bpf *s = siphon_bpf__open();
	char err[512];
	int rc;

	if (!s)
		return NULL;
	xdp_tables_no_pinning(s);
	if (xdp_tables_configure(s, &c->tables, true, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		goto fail;
	}
	rc = siphon_bpf__load(s);
	if (rc) {
		fprintf(stderr, "loading the XDP program: %s\n", strerror(-rc));
		goto fail;
	}
	if (xdp_tables_publish(s, &c->tables, 0, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		goto fail;
	}
	return s;
fail:
	siphon_bpf__destroy(s);
	return NULL;
}

static int setup(void **state)
{
	struct config_error cerr;
	int rc;

	(void)state;
	ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0)
		return -1;
	if (config_load(config_path, &cfg, &cerr)) {
		fprintf(stderr, "%s\n", cerr.text);
		return -1;
	}
	skel = load_tables(cfg);
	if (!skel)
		return -1;
	print_verified(skel->progs.siphon_xdp);
	rc = pipeline_worker_init(&worker, &cfg->tables);
	if (rc) {
		fprintf(stderr, "pipeline_worker_init: %s\n", strerror(-rc));
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	printf("# %lu frames through both lanes; kernel reasons:", n_frames);
	for (unsigned r = 0; r < XDP_REASON__COUNT; r++)
		if (n_kernel[r])
			printf(" %s %lu", reason_names[r], n_kernel[r]);
	printf("\n# sent up because:");
	for (unsigned r = 0; r < XDP_REASON__COUNT; r++)
		if (n_why[r])
			printf(" %s %lu", reason_names[r], n_why[r]);
	printf("\n");
	pipeline_worker_free(&worker);
	siphon_bpf__destroy(skel);
	config_free(cfg);
	return 0;
}

static bool bpf_usable(void)
{
	int fd;

	if (geteuid() != 0) {
		fprintf(stderr, "skipped: needs root for BPF_PROG_TEST_RUN\n");
		return false;
	}
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "probe", 4, 4, 1, NULL);
	if (fd < 0) {
		fprintf(stderr, "skipped: bpf() refused: %s\n", strerror(errno));
		return false;
	}
	close(fd);
	return true;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sipp_call),
		cmocka_unit_test(source_drop),
		cmocka_unit_test(flags_and_rules),
		cmocka_unit_test(to_tags),
		cmocka_unit_test(corpus),
		cmocka_unit_test(generations_and_egress),
		cmocka_unit_test(sipp_capture),
		cmocka_unit_test(mutation_round),
	};

	if (argc != 5) {
		fprintf(stderr, "usage: %s CONFIG CORPUS_DIR LAB_CONFIG PCAP\n", argv[0]);
		return 2;
	}
	config_path = argv[1];
	corpus_dir = argv[2];
	lab_config_path = argv[3];
	pcap_path = argv[4];
	if (!bpf_usable())
		return 77;
	return cmocka_run_group_tests(tests, setup, teardown);
}
