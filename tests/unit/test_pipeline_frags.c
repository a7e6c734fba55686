/* Fragments through the pipeline (dataplane/pipeline.c, docs/fragments.md;
 * suite dp): a first fragment with the Call-ID goes out before the last
 * fragment comes; one without it waits for reassembly; a late duplicate in
 * an encap pool leaves with its outer header counted in its length; a flood
 * of spoofed first fragments does not cost a legitimate call. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "config.h"
#include "pipeline.h"
#include "frag_build.h"
#include "siphon/node_msg.h"

static const char CONF[] =
	"balancer = { addresses = [\"198.51.100.10\"]; mac = \"02:00:00:00:00:0a\";\n"
	"  gateway_mac = \"02:00:00:00:00:01\"; ports = [5060]; hash_seed = 0x5eed; };\n"
	"flags = ( { name = \"VIA_ENCAP\"; source = [\"203.0.113.128/25\"]; } );\n"
	"pools = (\n"
	"  { name = \"dsr\"; mode = \"dsr\"; nodes = (\n"
	"      { name = \"d1\"; address = \"198.51.100.21\"; mac = \"02:00:00:00:00:21\"; }); },\n"
	"  { name = \"encap\"; mode = \"encap\"; encap_source = [\"198.51.100.2\"]; nodes = (\n"
	"      { name = \"e1\"; address = \"198.51.100.41\"; mac = \"02:00:00:00:00:41\"; }); }\n"
	");\n"
	"route = ( { when = \"VIA_ENCAP\"; then = \"pool encap\"; }, { then = \"pool dsr\"; } );\n";

static const uint8_t VIP4[4] = { 198, 51, 100, 10 };
static const uint8_t ENCAP_CLIENT[4] = { 203, 0, 113, 200 }, DSR_CLIENT[4] = { 192, 0, 2, 7 };

#define MAX_OUT 64

struct out {
	uint8_t buf[FB_FRAME_CAP + 128];
	size_t len;
	enum pipeline_outcome o;
};

static struct siphon_config *cfg;
static struct pipeline_worker w;
static struct out outs[MAX_OUT];
static unsigned n_out;
static struct fb_datagram dg;
static struct fb_frame fr[4];
static char msg[8192];

static void emit(void *ctx, const uint8_t *frame, size_t len, enum pipeline_outcome o)
{
	(void)ctx;
	assert_true(n_out < MAX_OUT && len <= sizeof(outs[0].buf));
	memcpy(outs[n_out].buf, frame, len);
	outs[n_out].len = len;
	outs[n_out++].o = o;
}

static int setup(void **state)
{
	struct config_error err;

	(void)state;
	if (config_load_text("pipeline-frags", CONF, &cfg, &err)) {
		print_error("%s\n", err.text);
		return -1;
	}
	if (pipeline_worker_init(&w, &cfg->tables))
		return -1;
	w.emit = emit;
	w.now_ms = 1000;
	w.now_s = 1;
	n_out = 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pipeline_worker_free(&w);
	config_free(cfg);
	return 0;
}

/* frame through the pipeline in a buffer with room for encap; a FORWARD
 * leaves (as the backend would send it) into outs[]. */
static enum pipeline_outcome process(const struct fb_frame *f)
{
	static uint8_t buf[9216];
	size_t len = f->len;
	enum pipeline_outcome o;

	memcpy(buf, f->buf, f->len);
	o = pipeline_process(&w, buf, &len, sizeof(buf));
	if (o == PIPELINE_FORWARD)
		emit(NULL, buf, len, o);
	return o;
}

static void invite(const uint8_t *src, uint32_t id, const char *call_id, size_t pad, unsigned n)
{
	size_t len = fb_invite(msg, sizeof(msg), call_id, 2600, pad);

	fb_datagram(&dg, AF_INET, src, VIP4, id, msg, len);
	fb_cut(fr, &dg, n);
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Encap: IPIP to e1, the frame 20 bytes longer. A late duplicate of a
 * fragment leaves exactly as its first copy did: all its bytes, the outer
 * header's total length matching. */
static void encap_late_duplicate(void **state)
{
	(void)state;
	invite(ENCAP_CLIENT, 0x77, "encap-dup@203.0.113.200", 0, 3);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(process(&fr[i]), PIPELINE_FORWARD);
	assert_int_equal(n_out, 3);
	assert_int_equal(process(&fr[2]), PIPELINE_FORWARD); /* the duplicate */
	assert_int_equal(n_out, 4);
	for (unsigned i = 0; i < 4; i++) {
		const struct fb_frame *in = &fr[i < 3 ? i : 2];
		assert_int_equal(outs[i].len, in->len + 20);
		assert_int_equal(rd16(outs[i].buf + 14 + 2), outs[i].len - 14); /* outer total length */
		assert_int_equal(outs[i].buf[14 + 9], 4);                      /* IPIP */
		assert_memory_equal(outs[i].buf + 14 + 20, in->buf + 14, in->len - 14);
	}
	assert_int_equal(outs[3].len, outs[2].len);
	assert_memory_equal(outs[3].buf, outs[2].buf, outs[2].len);
	assert_int_equal(w.c.fragments[FRAG_RESULT_DECIDED], 3);
}

/* The Call-ID in the first fragment: out at once, before the last one
 * comes; the others follow the decision as they come (dsr: new MACs). */
static void first_fragment_out_at_once(void **state)
{
	(void)state;
	invite(DSR_CLIENT, 0x78, "at-once@192.0.2.7", 0, 3);
	assert_int_equal(process(&fr[0]), PIPELINE_FORWARD);
	assert_int_equal(n_out, 1);
	assert_int_equal(w.frags.n_datagrams, 0); /* nothing held */
	assert_int_equal(process(&fr[2]), PIPELINE_FORWARD);
	assert_int_equal(process(&fr[1]), PIPELINE_FORWARD);
	assert_int_equal(n_out, 3);
	for (unsigned i = 0; i < 3; i++) {
		const struct fb_frame *in = &fr[i == 0 ? 0 : i == 1 ? 2 : 1];
		const uint8_t d1[6] = { 2, 0, 0, 0, 0, 0x21 };
		assert_int_equal(outs[i].len, in->len);
		assert_memory_equal(outs[i].buf, d1, 6);
		assert_memory_equal(outs[i].buf + 12, in->buf + 12, in->len - 12);
	}
	assert_int_equal(w.c.fragments[FRAG_RESULT_FIRST], 1);
	assert_int_equal(w.c.fragments[FRAG_RESULT_DECIDED], 2);
	assert_int_equal(w.c.fragments[FRAG_RESULT_HELD], 0);
	assert_int_equal(w.c.node[0], 3);
}

/* The Call-ID only in the second fragment: nothing leaves until the
 * datagram is whole; then all of it, in the order it came. */
static void callid_in_a_later_fragment(void **state)
{
	(void)state;
	invite(DSR_CLIENT, 0x79, "later@192.0.2.7", 1600, 3);
	assert_true(strstr(msg, "Call-ID") - msg > (long)(fr[0].len - 14 - 20 - 8));
	assert_int_equal(process(&fr[0]), PIPELINE_HOLD);
	assert_int_equal(process(&fr[2]), PIPELINE_HOLD);
	assert_int_equal(n_out, 0);
	assert_int_equal(process(&fr[1]), PIPELINE_HOLD);
	assert_int_equal(n_out, 3);
	assert_memory_equal(outs[0].buf + 12, fr[0].buf + 12, fr[0].len - 12);
	assert_memory_equal(outs[1].buf + 12, fr[2].buf + 12, fr[2].len - 12);
	assert_memory_equal(outs[2].buf + 12, fr[1].buf + 12, fr[1].len - 12);
	assert_int_equal(w.c.fragments[FRAG_RESULT_FIRST], 0);
	assert_int_equal(w.c.fragments[FRAG_RESULT_HELD], 2);
	assert_int_equal(w.c.fragments[FRAG_RESULT_COMPLETE], 1);
	assert_int_equal(w.c.node[0], 3);
	assert_int_equal(w.frags.n_datagrams, 0);
}

/* 2,000 spoofed first fragments (no SIP: held for reassembly) from 2,000
 * sources in 198.18.0.0/15, 100 legitimate 3-fragment INVITEs among them:
 * every legitimate fragment is forwarded; the flood is evicted. */
static void flood_of_first_fragments(void **state)
{
	static char junk[1400];
	struct fb_datagram fake;
	struct fb_frame f;
	unsigned legit = 0;

	(void)state;
	memset(junk, 'z', sizeof(junk));
	for (unsigned i = 0; i < 2000; i++) {
		const uint8_t src[4] = { 198, (uint8_t)(18 + (i >> 16 & 1)), (uint8_t)(i >> 8),
					 (uint8_t)i };
		fb_datagram(&fake, AF_INET, src, VIP4, i, junk, sizeof(junk));
		fb_frag(&f, &fake, 0, 1000, true);
		assert_int_equal(process(&f), PIPELINE_HOLD);
		w.now_ms++; /* 1,000 per second */
		if (i % 20 == 0) {
			char id[64];
			snprintf(id, sizeof(id), "legit-%u@192.0.2.7", i);
			invite(DSR_CLIENT, 0x1000 + i, id, 0, 3);
			for (unsigned k = 0; k < 3; k++)
				legit += process(&fr[k]) == PIPELINE_FORWARD;
			n_out = 0;
		}
		if (i % 10 == 0)
			pipeline_expire(&w, w.now_ms);
	}
	assert_int_equal(legit, 300);
	assert_int_equal(w.c.node[0], 300);
	assert_int_equal(w.c.fragments[FRAG_RESULT_FIRST], 100);
	assert_int_equal(w.frags.n_datagrams, 256); /* the flood, bounded */
	assert_true(w.c.fragments[FRAG_RESULT_EVICTED] > 0);
	assert_int_equal(w.c.fragments[FRAG_RESULT_TABLE_FULL], 0);
	/* each held spoofed fragment ended counted: evicted, timed out or still held */
	assert_int_equal(w.c.fragments[FRAG_RESULT_EVICTED] + w.frags.c.timeouts + 256, 2000);
	assert_int_equal(w.c.reason[PIPELINE_REASON_FRAGMENT_DROP],
			 w.c.fragments[FRAG_RESULT_EVICTED]);
}


/* Per node x message (common/siphon/node_msg.h): each forwarded message
 * counted once at its node, requests by method, responses by class. */
static void node_msg_counts(void **state)
{
	static const struct {
		const char *start, *cseq;
		unsigned slot;
	} m[] = {
		{ "INVITE sip:b@example.com SIP/2.0", "1 INVITE", 0 },
		{ "ACK sip:b@example.com SIP/2.0", "1 ACK", 1 },
		{ "BYE sip:b@example.com SIP/2.0", "2 BYE", 2 },
		{ "MESSAGE sip:b@example.com SIP/2.0", "3 MESSAGE", 6 },
		{ "SIP/2.0 180 Ringing", "1 INVITE", 7 },
		{ "SIP/2.0 200 OK", "1 INVITE", 8 },
		{ "SIP/2.0 486 Busy Here", "1 INVITE", 10 },
		{ "SIP/2.0 200 OK", "2 BYE", 8 },
	};
	uint64_t want[GEN_NODE_MSG_SLOTS] = { 0 }, total = 0;

	(void)state;
	for (unsigned i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		int len = snprintf(msg, sizeof(msg),
				   "%s\r\nVia: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK-%u\r\n"
				   "From: <sip:a@example.com>;tag=a\r\nTo: <sip:b@example.com>%s\r\n"
				   "Call-ID: node-msg@192.0.2.7\r\nCSeq: %s\r\nContent-Length: 0\r\n\r\n",
				   m[i].start, i, i ? ";tag=b" : "", m[i].cseq);

		fb_datagram(&dg, AF_INET, DSR_CLIENT, VIP4, 0x100 + i, msg, (size_t)len);
		fb_frag(&fr[0], &dg, 0, dg.len, false);
		assert_int_equal(process(&fr[0]), PIPELINE_FORWARD);
		want[m[i].slot]++;
		total++;
	}
	assert_int_equal(w.c.node[0], total); /* d1 */
	for (unsigned k = 0; k < GEN_NODE_MSG_SLOTS; k++) {
		assert_int_equal(w.c.node_msg[0 * GEN_NODE_MSG_SLOTS + k], want[k]);
		assert_int_equal(w.c.node_msg[1 * GEN_NODE_MSG_SLOTS + k], 0); /* e1 */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(encap_late_duplicate, setup, teardown),
		cmocka_unit_test_setup_teardown(first_fragment_out_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(callid_in_a_later_fragment, setup, teardown),
		cmocka_unit_test_setup_teardown(flood_of_first_fragments, setup, teardown),
		cmocka_unit_test_setup_teardown(node_msg_counts, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
