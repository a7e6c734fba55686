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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf_test.h"
#include "siphon/node_msg.h"
#include "parity.h"
#include "xdp_load.h"

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
	const unsigned slot[] = { NODE_MSG_INVITE, NODE_MSG_ACK, NODE_MSG_BYE, NODE_MSG__METHODS + 1 };
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
					/* node_msg_stats: INVITE, ACK, BYE, then 2xx */
					assert_int_equal(res.kmsg, node * (int)GEN_NODE_MSG_SLOTS +
									   (int)slot[m]);
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
		/* the nid messages (174-177): dispatched in the kernel, by the
		 * nid or, for an id of no node, by the hash (issues 11, 14) */
		if (strstr(name, "-nid") && plain != XDP_REASON_KERNEL_FORWARD)
			fail_msg("%s: not forwarded in the kernel (%s)", name,
				 plain == ~0u ? "-" : reason_names[plain]);
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

/* A pool in its grace period: the kernel lane sends its every message up
 * (to_userspace_grace), the INVITE too, since the grace register is the
 * pipeline's. There the INVITE is noted (the previous table moves every
 * slot) and its ACK and BYE follow it to its node. */
static void grace_period_goes_up(void **state)
{
	static uint8_t f[BUF_MAX];
	const char *const msgs[] = { invite, ack, bye };
	const char *const names[] = { "INVITE in a grace period", "ACK in a grace period",
				      "BYE in a grace period" };
	struct pool_table *pt = &cfg->tables.pools[0];
	const struct pool_table saved = *pt;
	const uint64_t now_s = worker.now_s, noted = worker.c.reason[PIPELINE_REASON_GRACE_NOTED];
	uint16_t *prev = malloc(pt->maglev.size * sizeof(*prev));
	struct grace_calls *gc = grace_calls_new(4);
	struct timespec ts;
	char err[256];
	size_t len;
	int node = -1;

	(void)state;
	assert_non_null(prev);
	assert_non_null(gc);
	for (uint32_t i = 0; i < pt->maglev.size; i++)
		prev[i] = (uint16_t)((pt->maglev.slots[i] + 1) % pt->n_nodes);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	pt->previous = (struct maglev_table){ pt->maglev.size, prev };
	pt->previous_until = (uint64_t)ts.tv_sec + 600;
	worker.now_s = (uint64_t)ts.tv_sec;
	worker.grace_calls = gc;
	assert_int_equal(xdp_tables_publish(skel, &cfg->tables, 0, err, sizeof(err)), 0);
	for (size_t m = 0; m < 3; m++) {
		len = mk_frame(f, 4, 0, SRC_PLAIN, (const uint8_t *)msgs[m], strlen(msgs[m]), 0);
		check_parity(names[m], f, len, &res);
		assert_int_equal(res.why, XDP_REASON_UP_GRACE);
		assert_int_equal(res.outcome, PIPELINE_FORWARD);
		if (node < 0)
			node = res.pnode;
		assert_int_equal(res.pnode, node);
	}
	assert_int_equal(worker.c.reason[PIPELINE_REASON_GRACE_NOTED], noted + 1);
	/* a nid comes first (dispatch.c): a response that names an up node
	 * of the pool is forwarded in the kernel during the grace period too */
	{
		static const char *const resp =
			"SIP/2.0 200 OK\r\n"
			"Via: SIP/2.0/UDP 198.18.0.10;branch=z9hG4bK-g1;nid=b3\r\n"
			"Via: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK-1-1-0\r\n"
			"From: sipp <sip:sipp@192.0.2.7:5062>;tag=1SIPpTag001\r\n"
			"To: service <sip:service@198.18.0.10:5060>;tag=as5f2a\r\n"
			"Call-ID: 1-4711@192.0.2.7\r\n"
			"CSeq: 1 INVITE\r\n"
			"Content-Length: 0\r\n"
			"\r\n";

		len = mk_frame(f, 4, 0, SRC_PLAIN, (const uint8_t *)resp, strlen(resp), 0);
		check_parity("200 by nid in a grace period", f, len, &res);
		assert_int_equal(res.reason, XDP_REASON_KERNEL_FORWARD);
		assert_int_equal(res.knode, 2); /* b3 */
	}

	/* the grace period over: the kernel decides again */
	*pt = saved;
	worker.now_s = now_s;
	worker.grace_calls = NULL;
	assert_int_equal(xdp_tables_publish(skel, &cfg->tables, 0, err, sizeof(err)), 0);
	len = mk_frame(f, 4, 0, SRC_PLAIN, (const uint8_t *)invite, strlen(invite), 0);
	check_parity("INVITE after the grace period", f, len, &res);
	assert_int_equal(res.reason, XDP_REASON_KERNEL_FORWARD);
	grace_calls_free(gc);
	free(prev);
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

/* ---- the kernel lane's counters ---- */

/* cfg's flags by name ("A,B"; "" none) */
static struct flagset flags_named(const char *names)
{
	struct flagset f;
	char buf[256], *save = NULL;

	memset(&f, 0, sizeof(f));
	snprintf(buf, sizeof(buf), "%s", names);
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		uint32_t i = 0;

		while (i < cfg->n_flags && strcmp(cfg->flags[i].name, tok) != 0)
			i++;
		assert_true(i < cfg->n_flags);
		f.w[i / 64] |= 1ull << (i % 64);
	}
	return f;
}

/* One frame through both lanes: the kernel's reason, and exactly the flag
 * counters of `flags` moved by one in the active half (none elsewhere:
 * run_both checks the inactive half). */
static void expect_kernel_flags(const char *what, const char *pl, size_t plen, enum source src,
				unsigned reason, const char *flags)
{
	static uint8_t f[BUF_MAX];
	struct flagset want = flags_named(flags);

	check_parity(what, f, mk_frame(f, 4, 0, src, (const uint8_t *)pl, plen, 0), &res);
	if (res.reason != reason)
		fail_msg("%s: %s, want %s", what, reason_names[res.reason], reason_names[reason]);
	if (memcmp(&want, &res.kflags, sizeof(want)) != 0)
		fail_msg("%s: kernel flag counters %#llx moved, want %#llx (%s)", what,
			 (unsigned long long)res.kflags.w[0], (unsigned long long)want.w[0], flags);
}

/* Each verdict the kernel takes counts the flags it took it on; what it
 * sends up counts none (the AF_XDP lane counts it). */
static void kernel_flag_counters(void **state)
{
	(void)state;
	expect_kernel_flags("INVITE", invite, strlen(invite), SRC_PLAIN, XDP_REASON_KERNEL_FORWARD,
			    "");
	expect_kernel_flags("INVITE from inside", invite, strlen(invite), SRC_INTERNAL,
			    XDP_REASON_KERNEL_FORWARD, "INTERNAL,TRUSTED");
	expect_kernel_flags("ACK", ack, strlen(ack), SRC_PLAIN, XDP_REASON_KERNEL_FORWARD,
			    "IN_DIALOG");
	expect_kernel_flags("INVITE, blocked (before the scan)", invite, strlen(invite),
			    SRC_BLOCKED, XDP_REASON_KERNEL_DROP_RULE, "BLOCKED");
	expect_kernel_flags("garbage, blocked", "\x16\x03\x01 not sip at all", 24, SRC_BLOCKED,
			    XDP_REASON_KERNEL_DROP_RULE, "BLOCKED");
	expect_kernel_flags("MESSAGE", message, strlen(message), SRC_PLAIN,
			    XDP_REASON_KERNEL_PUNT_RULE, "MESSAGE");
	expect_kernel_flags("scanner (up)", scanner, strlen(scanner), SRC_PLAIN,
			    XDP_REASON_PASS_NO_XSK, "");
}

/* What the maps moved between two reads (XDP_KINDEX_LEN values). */
static void kindex_delta(const uint64_t *before, const uint64_t *after, uint64_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = after[i] - before[i];
}

/* A swap attributes exactly (docs/generations.md): the new half's base is
 * read before the flip, the old half's final values after it, and a frame
 * counted after the flip lands in the new half only. */
static void swap_attributes_exactly(void **state)
{
	static uint8_t f[BUF_MAX];
	const struct compiled_tables *t = &cfg->tables;
	const size_t n = XDP_KINDEX_LEN(t);
	struct xdp_counter_fds m;
	uint32_t old = active_half(bpf_map__fd(skel->maps.generation));
	int next = xdp_tables_next_half(skel);
	uint64_t *old0, *base, *old1, *new1, *d_old = calloc(n, sizeof(uint64_t)),
		 *d_new = calloc(n, sizeof(uint64_t)), packets = 0;
	size_t len = mk_frame(f, 4, 0, SRC_INTERNAL, (const uint8_t *)invite, strlen(invite), 0);
	char err[256];

	(void)state;
	assert_true(d_old && d_new);
	assert_int_equal(next, (int)(old ^ 1));
	xdp_counter_fds_of(&m, skel);
	old0 = xdp_counters_read_new(&m, t, old);
	base = xdp_counters_read_new(&m, t, (uint32_t)next); /* before the flip */
	check_parity("INVITE before the swap", f, len, &res);
	assert_int_equal(res.reason, XDP_REASON_KERNEL_FORWARD);
	assert_int_equal(xdp_tables_publish(skel, t, 0, err, sizeof(err)), 0);
	check_parity("INVITE after the swap", f, len, &res);
	assert_int_equal(res.reason, XDP_REASON_KERNEL_FORWARD);
	old1 = xdp_counters_read_new(&m, t, old);
	new1 = xdp_counters_read_new(&m, t, (uint32_t)next);
	assert_true(old0 && base && old1 && new1);
	kindex_delta(old0, old1, d_old, n);
	kindex_delta(base, new1, d_new, n);
	/* one forward each: node packets, bytes, rule, message slot, flags */
	for (uint32_t i = 0; i < t->n_nodes; i++)
		packets += d_old[i];
	assert_int_equal(packets, 1);
	assert_int_equal(d_old[res.knode], 1);
	assert_int_equal(d_old[t->n_nodes + (size_t)res.knode], len);
	assert_memory_equal(d_old, d_new, n * sizeof(uint64_t));
	free(old0);
	free(base);
	free(old1);
	free(new1);
	free(d_old);
	free(d_new);
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
		cmocka_unit_test(kernel_flag_counters),
		cmocka_unit_test(swap_attributes_exactly),
		cmocka_unit_test(grace_period_goes_up),
		cmocka_unit_test(nid_dispatch),
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
	return cmocka_run_group_tests(tests, parity_setup, parity_teardown);
}
