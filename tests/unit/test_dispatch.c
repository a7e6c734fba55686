/* Dispatch: node ids in Via / Route / Request-URI, Maglev by Call-ID, the
 * grace table after a pool change, and dialogs that never move (suite dp). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "siphon/dispatch.h"
#include "maglev_build.h"

static const char conf[] =
	"balancer = { addresses = [\"198.51.100.10\"]; hash_seed = 0x1234; };\n"
	"pools = (\n"
	"  { name = \"core\"; nodes = (\n"
	"      { name = \"b1\"; address = \"198.51.100.21\"; },\n"
	"      { name = \"b2\"; address = \"198.51.100.22\"; },\n"
	"      { name = \"b3\"; address = \"198.51.100.23\"; id = \"n3\"; }); },\n"
	"  { name = \"other\"; nodes = ({ name = \"o1\"; address = \"2001:db8::31\"; },\n"
	"      { name = \"x\"; address = \"2001:db8::32\"; id = \"b1\"; }); }\n"
	");\n"
	"route = ({ then = \"pool core\"; });\n";

static struct siphon_config *cfg;
static struct sip_msg msg;
static char text[2048];

static int setup(void **state)
{
	struct config_error err;

	(void)state;
	if (config_load_text("dispatch.conf", conf, &cfg, &err)) {
		fprintf(stderr, "%s\n", err.text);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	config_free(cfg);
	return 0;
}

static struct dispatch_result in_pool(const char *m, uint16_t pool)
{
	struct dispatch_result r;

	snprintf(text, sizeof(text), "%s", m);
	if (sip_scan((const uint8_t *)text, strlen(text), NULL, NULL, &msg) != SIP_VERDICT_FORWARD)
		fail_msg("the scanner says %s for: %s", sip_reason_name(msg.reason), text);
	dispatch(&cfg->tables, (const uint8_t *)text, &msg, pool, 0, NULL, &r);
	return r;
}

static const char *node_of(const char *m, uint64_t now, enum dispatch_by *by)
{
	struct dispatch_result r;

	snprintf(text, sizeof(text), "%s", m);
	if (sip_scan((const uint8_t *)text, strlen(text), NULL, NULL, &msg) != SIP_VERDICT_FORWARD)
		fail_msg("the scanner says %s for: %s", sip_reason_name(msg.reason), text);
	dispatch(&cfg->tables, (const uint8_t *)text, &msg, 0, now, NULL, &r);
	if (by)
		*by = r.by;
	return r.node < 0 ? NULL : cfg->tables.nodes[r.node].id;
}

#define HDRS(callid, to)                                                                     \
	"From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>" to "\r\nCall-ID: " callid \
	"\r\n"

static void node_ids_first(void **state)
{
	enum dispatch_by by;

	(void)state;
	/* a response goes to the node its top Via names */
	assert_string_equal(node_of("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 198.51.100.22;branch=z9hG4bKx;nid=b2\r\n"
				    "Via: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bKy\r\n" HDRS("r1", ";tag=9")
				    "CSeq: 1 INVITE\r\n\r\n", 0, &by), "b2");
	assert_int_equal(by, DISPATCH_BY_VIA_NID);
	/* an in-dialog request: top Route, then Request-URI; ids are tokens, not names */
	assert_string_equal(node_of("BYE sip:b@192.0.2.9 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bK1\r\n"
				    "Route: <sip:lb.example.com;lr;nid=n3>, <sip:x.example.com;lr;nid=b1>\r\n"
				    HDRS("d1", ";tag=9") "CSeq: 2 BYE\r\n\r\n", 0, &by), "n3");
	assert_int_equal(by, DISPATCH_BY_ROUTE_NID);
	assert_string_equal(node_of("BYE sip:b@198.51.100.21;nid=b1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bK1\r\n"
				    HDRS("d1", ";tag=9") "CSeq: 2 BYE\r\n\r\n", 0, &by), "b1");
	assert_int_equal(by, DISPATCH_BY_RURI_NID);
	/* an initial request ignores ids: Maglev by Call-ID */
	node_of("INVITE sip:b@198.51.100.21;nid=b1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bK1\r\n"
		HDRS("d1", "") "CSeq: 1 INVITE\r\n\r\n", 0, &by);
	assert_int_equal(by, DISPATCH_BY_MAGLEV);
	/* an unknown or down node id falls back to the hash */
	node_of("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx;nid=zz\r\n" HDRS("r1", ";tag=9")
		"CSeq: 1 INVITE\r\n\r\n", 0, &by);
	assert_int_equal(by, DISPATCH_BY_MAGLEV);
}

/* Every message of a dialog lands where its INVITE did, without node ids. */
static void a_dialog_stays_together(void **state)
{
	static const char *const dialog[] = {
		"INVITE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bK1\r\n" HDRS("%s", "") "CSeq: 1 INVITE\r\n\r\n",
		"SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bK1\r\n" HDRS("%s", ";tag=9") "CSeq: 1 INVITE\r\n\r\n",
		"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bK1\r\n" HDRS("%s", ";tag=9") "CSeq: 1 INVITE\r\n\r\n",
		"ACK sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bK2\r\n" HDRS("%s", ";tag=9") "CSeq: 1 ACK\r\n\r\n",
		"CANCEL sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bK1\r\n" HDRS("%s", "") "CSeq: 1 CANCEL\r\n\r\n",
		"BYE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bK3\r\n" HDRS("%s", ";tag=9") "CSeq: 2 BYE\r\n\r\n",
	};
	char callid[32], m[1024];
	unsigned per_node[3] = { 0 };

	(void)state;
	for (unsigned c = 0; c < 300; c++) {
		const char *first = NULL;
		snprintf(callid, sizeof(callid), "call-%u@192.0.2.7", c);
		for (unsigned i = 0; i < sizeof(dialog) / sizeof(dialog[0]); i++) {
			const char *node;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
			snprintf(m, sizeof(m), dialog[i], callid);
#pragma GCC diagnostic pop
			node = node_of(m, 0, NULL);
			assert_non_null(node);
			if (!first)
				first = node;
			assert_string_equal(node, first);
		}
		per_node[strcmp(first, "b1") == 0 ? 0 : strcmp(first, "b2") == 0 ? 1 : 2]++;
	}
	/* together, and spread: a dispatcher that always said b1 would pass
	 * the loop above */
	for (unsigned n = 0; n < 3; n++)
		assert_in_range(per_node[n], 70, 130);
}

#define RESPONSE(nid, callid)                                                                 \
	"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx;nid=" nid "\r\n" HDRS(callid, ";tag=9") \
	"CSeq: 1 INVITE\r\n\r\n"
#define BYE_ROUTE(nid, callid)                                                                \
	"BYE sip:b@192.0.2.9 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bK1\r\n"          \
	"Route: <sip:lb.example.com;lr;nid=" nid ">\r\n" HDRS(callid, ";tag=9") "CSeq: 2 BYE\r\n\r\n"

/* A nid is the sender's to write: it chooses among the nodes of the pool
 * the route chose, never a node of another pool. */
static void a_nid_stays_in_its_pool(void **state)
{
	struct dispatch_result r;

	(void)state;
	/* o1 is a node of "other": from "core" it names nothing, Maglev decides */
	r = in_pool(RESPONSE("o1", "p1@h"), 0);
	assert_int_equal(r.by, DISPATCH_BY_MAGLEV);
	assert_true(r.nid_unknown);
	assert_int_equal(cfg->tables.nodes[r.node].pool, 0);
	r = in_pool(BYE_ROUTE("o1", "p2@h"), 0);
	assert_int_equal(r.by, DISPATCH_BY_MAGLEV);
	assert_true(r.nid_unknown);
	/* the id b1 in two pools: each pool's own node */
	r = in_pool(RESPONSE("b1", "p3@h"), 0);
	assert_int_equal(r.by, DISPATCH_BY_VIA_NID);
	assert_false(r.nid_unknown);
	assert_string_equal(cfg->tables.nodes[r.node].id, "b1");
	assert_int_equal(cfg->tables.nodes[r.node].pool, 0);
	r = in_pool(RESPONSE("b1", "p3@h"), 1);
	assert_int_equal(r.by, DISPATCH_BY_VIA_NID);
	assert_int_equal(cfg->tables.nodes[r.node].pool, 1);
	assert_int_equal(cfg->tables.nodes[r.node].addr.addr[15], 0x32);
	/* b2 is core's only: from "other" it names nothing */
	r = in_pool(BYE_ROUTE("b2", "p4@h"), 1);
	assert_int_equal(r.by, DISPATCH_BY_MAGLEV);
	assert_true(r.nid_unknown);
	assert_int_equal(cfg->tables.nodes[r.node].pool, 1);
	/* a node that is down is no reason to count a forgery */
	cfg->nodes[0].up = false;
	r = in_pool(RESPONSE("b1", "p5@h"), 0);
	assert_int_not_equal(r.by, DISPATCH_BY_VIA_NID);
	assert_false(r.nid_unknown);
	cfg->nodes[0].up = true;
}

/* Remove b2: with the previous table kept for the grace period, no dialog
 * of b1 or b3 moves, and b2's dialogs go elsewhere. 1,000,000 Call-IDs. */
static void removing_a_node_moves_no_other_dialog(void **state)
{
	struct pool_table *pt = &cfg->tables.pools[0];
	uint16_t *before = malloc(pt->maglev.size * sizeof(uint16_t));
	uint16_t *after = malloc(pt->maglev.size * sizeof(uint16_t));
	struct maglev_node nodes[3] = { { "b1", 100, true }, { "b2", 100, false }, { "n3", 100, true } };
	const char *dialog = "BYE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK3\r\n"
			     HDRS("%s", ";tag=9") "CSeq: 2 BYE\r\n\r\n";
	uint64_t x = 0x9e3779b97f4a7c15ull;
	unsigned moved = 0, b2_calls = 0;
	char m[512], callid[40];

	const uint16_t *original = pt->maglev.slots;

	(void)state;
	memcpy(before, pt->maglev.slots, pt->maglev.size * sizeof(uint16_t));
	assert_int_equal(maglev_build(nodes, 3, pt->maglev.size, cfg->tables.hash_seed, after), 0);
	for (unsigned i = 0; i < 1000000; i++) {
		struct dispatch_result r0, r1;
		struct sip_msg m0;
		int len;
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		snprintf(callid, sizeof(callid), "%016llx@192.0.2.%u", (unsigned long long)x,
			 (unsigned)(x >> 58));
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		len = snprintf(m, sizeof(m), dialog, callid);
#pragma GCC diagnostic pop
		sip_scan((const uint8_t *)m, (size_t)len, NULL, NULL, &m0);
		/* before the change */
		pt->maglev.slots = before;
		pt->previous_until = 0;
		cfg->nodes[1].up = true;
		dispatch(&cfg->tables, (const uint8_t *)m, &m0, 0, 100, NULL, &r0);
		/* after: b2 down, new current table, the old one kept until t=280 */
		pt->maglev.slots = after;
		pt->previous = (struct maglev_table){ pt->maglev.size, before };
		pt->previous_until = 280;
		cfg->nodes[1].up = false;
		dispatch(&cfg->tables, (const uint8_t *)m, &m0, 0, 100, NULL, &r1);
		assert_int_not_equal(r1.node, 1);
		if (r0.node == 1)
			b2_calls++;
		else if (r1.node != r0.node)
			moved++;
	}
	assert_int_equal(moved, 0);
	assert_true(b2_calls > 300000 && b2_calls < 366000);
	pt->maglev.slots = original;
	pt->previous_until = 0;
	cfg->nodes[1].up = true;
	free(after);
	free(before);
}

static void find_nid(void **state)
{
	const uint8_t *v;
	size_t len;
	const char *s1 = "<sip:lb;lr; NID=abc-1>";

	(void)state;
	assert_true(dispatch_find_nid((const uint8_t *)s1, (const uint8_t *)s1 + strlen(s1), &v, &len));
	assert_int_equal(len, 5);
	assert_memory_equal(v, "abc-1", 5);
	s1 = ";nidx=1;xnid=2;nid=";
	assert_false(dispatch_find_nid((const uint8_t *)s1, (const uint8_t *)s1 + strlen(s1), &v, &len));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(node_ids_first),
		cmocka_unit_test(a_dialog_stays_together),
		cmocka_unit_test(a_nid_stays_in_its_pool),
		cmocka_unit_test(removing_a_node_moves_no_other_dialog),
		cmocka_unit_test(find_nid),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
