/* Dispatch in a grace period with the grace register (docs/dispatch.md
 * "Calls begun during the grace period"): a call begun on a slot that
 * moved keeps all its messages on the node its INVITE reached; a call of
 * before the change stays on the previous table's node; a slot that did
 * not move, no register, the end of the grace period, a full bucket and a
 * second change behave as the docs say. A node joins (j4) and leaves
 * while alive (j4 again, disabled). */
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
	"pools = ( { name = \"core\"; maglev_size = 4099; nodes = (\n"
	"  { name = \"b1\"; address = \"198.51.100.21\"; },\n"
	"  { name = \"b2\"; address = \"198.51.100.22\"; },\n"
	"  { name = \"b3\"; address = \"198.51.100.23\"; },\n"
	"  { name = \"j4\"; address = \"198.51.100.24\"; }); } );\n"
	"route = ({ then = \"pool core\"; });\n";

#define J4    3   /* j4's index in the pool (and in tables->nodes) */
#define UNTIL 280 /* the grace period of the change ends here */
#define NOW   100

static struct siphon_config *cfg;
static struct pool_table *pt;
static uint16_t *without_j4, *with_j4;
static const uint16_t *original;

static int setup(void **state)
{
	struct config_error err;
	struct maglev_node in[4] = { { "b1", 100, true }, { "b2", 100, true }, { "b3", 100, true },
				     { "j4", 100, false } };

	(void)state;
	if (config_load_text("grace.conf", conf, &cfg, &err)) {
		fprintf(stderr, "%s\n", err.text);
		return -1;
	}
	pt = &cfg->tables.pools[0];
	original = pt->maglev.slots;
	without_j4 = malloc(pt->maglev.size * sizeof(uint16_t));
	with_j4 = malloc(pt->maglev.size * sizeof(uint16_t));
	if (!without_j4 || !with_j4 ||
	    maglev_build(in, 4, pt->maglev.size, cfg->tables.hash_seed, without_j4))
		return -1;
	in[J4].up = true;
	return maglev_build(in, 4, pt->maglev.size, cfg->tables.hash_seed, with_j4);
}

static int teardown(void **state)
{
	(void)state;
	pt->maglev.slots = original;
	free(without_j4);
	free(with_j4);
	config_free(cfg);
	return 0;
}

/* The pool after a change from `before` to `after`, in its grace period. */
static void change(const uint16_t *before, const uint16_t *after, uint64_t until)
{
	pt->maglev.slots = after;
	pt->previous = (struct maglev_table){ pt->maglev.size, before };
	pt->previous_until = until;
}

#define HDRS(to)                                                                         \
	"From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>" to "\r\nCall-ID: %s\r\n"

enum kind { INVITE, ACK, CANCEL, BYE, OK200 };

static const char *const templates[] = {
	[INVITE] = "INVITE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bK1\r\n"
		   HDRS("") "CSeq: 1 INVITE\r\n\r\n",
	[ACK] = "ACK sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bK2\r\n"
		HDRS(";tag=9") "CSeq: 1 ACK\r\n\r\n",
	[CANCEL] = "CANCEL sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bK1\r\n"
		   HDRS("") "CSeq: 1 CANCEL\r\n\r\n",
	[BYE] = "BYE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bK3\r\n"
		HDRS(";tag=9") "CSeq: 2 BYE\r\n\r\n",
	[OK200] = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bK1\r\n" HDRS(";tag=9")
		  "CSeq: 1 INVITE\r\n\r\n",
};

static struct dispatch_result deliver(enum kind k, const char *callid, uint64_t now,
				      struct grace_calls *gc)
{
	char text[1024];
	struct sip_msg msg;
	struct dispatch_result r;
	int len;

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	len = snprintf(text, sizeof(text), templates[k], callid);
#pragma GCC diagnostic pop
	if (sip_scan((const uint8_t *)text, (size_t)len, NULL, NULL, &msg) != SIP_VERDICT_FORWARD)
		fail_msg("the scanner says %s for: %s", sip_reason_name(msg.reason), text);
	dispatch(&cfg->tables, (const uint8_t *)text, &msg, 0, now, gc, &r);
	return r;
}

/* The n-th Call-ID whose slot goes from a node `from` (-1: any) to a node
 * `to` (-1: any) in before -> after, moved or not. */
static const char *callid_where(const uint16_t *before, const uint16_t *after, int from, int to,
				bool moved, unsigned n)
{
	static char id[64];
	const struct maglev_table b = { pt->maglev.size, before }, a = { pt->maglev.size, after };

	for (unsigned i = 0; i < 100000; i++) {
		uint64_t hash;
		uint16_t p, c;

		snprintf(id, sizeof(id), "call-%u@192.0.2.7", i);
		hash = callid_hash((const uint8_t *)id, strlen(id), cfg->tables.hash_seed);
		p = maglev_lookup(&b, hash), c = maglev_lookup(&a, hash);
		if ((p != c) == moved && (from < 0 || p == from) && (to < 0 || c == to) && !n--)
			return id;
	}
	fail_msg("no Call-ID found");
	return NULL;
}

static void expect(struct dispatch_result r, int node, enum dispatch_by by)
{
	assert_int_equal(r.node, node);
	assert_int_equal(r.by, by);
}

static int prev_node(const char *callid)
{
	uint64_t hash = callid_hash((const uint8_t *)callid, strlen(callid), cfg->tables.hash_seed);

	return maglev_lookup(&pt->previous, hash);
}

static int cur_node(const char *callid)
{
	uint64_t hash = callid_hash((const uint8_t *)callid, strlen(callid), cfg->tables.hash_seed);

	return maglev_lookup(&pt->maglev, hash);
}

/* j4 joins: a call begun on one of its slots stays on j4, INVITE to BYE. */
static void join_new_call_stays_on_the_new_node(void **state)
{
	struct grace_calls *gc = grace_calls_new(8);
	char id[64];
	struct dispatch_result r;

	(void)state;
	change(without_j4, with_j4, UNTIL);
	snprintf(id, sizeof(id), "%s", callid_where(without_j4, with_j4, -1, J4, true, 0));
	r = deliver(INVITE, id, NOW, gc);
	expect(r, J4, DISPATCH_BY_MAGLEV);
	assert_true(r.grace_noted);
	assert_false(r.grace_full);
	for (enum kind k = ACK; k <= OK200; k++)
		expect(deliver(k, id, NOW + 10, gc), J4, DISPATCH_BY_GRACE_NEW);
	/* a retransmission is no new call */
	r = deliver(INVITE, id, NOW + 1, gc);
	expect(r, J4, DISPATCH_BY_MAGLEV);
	assert_false(r.grace_noted || r.grace_full);
	grace_calls_free(gc);
}

/* A call of before the change on a slot that moved: its INVITE was never
 * seen in the grace period, so its dialog stays on the previous node. */
static void join_old_call_stays_on_the_previous_node(void **state)
{
	struct grace_calls *gc = grace_calls_new(8);
	char id[64];

	(void)state;
	change(without_j4, with_j4, UNTIL);
	snprintf(id, sizeof(id), "%s", callid_where(without_j4, with_j4, -1, J4, true, 1));
	for (enum kind k = ACK; k <= OK200; k++)
		expect(deliver(k, id, NOW, gc), prev_node(id), DISPATCH_BY_GRACE);
	/* the slot did move to j4: the previous table decided, not by chance */
	assert_int_equal(cur_node(id), J4);
	assert_int_not_equal(prev_node(id), cur_node(id));
	grace_calls_free(gc);
}

/* A slot that did not move: nothing noted, the dialog as before. */
static void a_slot_that_did_not_move(void **state)
{
	struct grace_calls *gc = grace_calls_new(8);
	const char *id;
	struct dispatch_result r;

	(void)state;
	change(without_j4, with_j4, UNTIL);
	id = callid_where(without_j4, with_j4, -1, -1, false, 0);
	r = deliver(INVITE, id, NOW, gc);
	expect(r, prev_node(id), DISPATCH_BY_MAGLEV);
	assert_false(r.grace_noted || r.grace_full);
	expect(deliver(BYE, id, NOW, gc), prev_node(id), DISPATCH_BY_GRACE);
	grace_calls_free(gc);
}

/* No register (explain of one message, siphond): the previous table
 * serves every dialog, as before the register existed. */
static void without_a_register(void **state)
{
	char id[64];
	struct dispatch_result r;

	(void)state;
	change(without_j4, with_j4, UNTIL);
	snprintf(id, sizeof(id), "%s", callid_where(without_j4, with_j4, -1, J4, true, 0));
	r = deliver(INVITE, id, NOW, NULL);
	expect(r, J4, DISPATCH_BY_MAGLEV);
	assert_false(r.grace_noted || r.grace_full);
	expect(deliver(BYE, id, NOW, NULL), prev_node(id), DISPATCH_BY_GRACE);
}

/* j4 disabled while alive (still up): the mirror of a join. */
static void leave_while_alive(void **state)
{
	struct grace_calls *gc = grace_calls_new(8);
	char id[64], old[64];
	struct dispatch_result r;
	int cur;

	(void)state;
	change(with_j4, without_j4, UNTIL);
	assert_true(cfg->tables.nodes[J4].up);
	snprintf(id, sizeof(id), "%s", callid_where(with_j4, without_j4, J4, -1, true, 0));
	snprintf(old, sizeof(old), "%s", callid_where(with_j4, without_j4, J4, -1, true, 1));
	r = deliver(INVITE, id, NOW, gc);
	cur = r.node;
	assert_int_not_equal(cur, J4);
	assert_int_equal(r.by, DISPATCH_BY_MAGLEV);
	assert_true(r.grace_noted);
	for (enum kind k = ACK; k <= OK200; k++) {
		expect(deliver(k, id, NOW, gc), cur, DISPATCH_BY_GRACE_NEW);
		expect(deliver(k, old, NOW, gc), J4, DISPATCH_BY_GRACE);
	}
	/* j4 down: its calls' dialogs go where the current table says */
	cfg->nodes[J4].up = false;
	r = deliver(BYE, old, NOW, gc);
	assert_int_not_equal(r.node, J4);
	assert_int_equal(r.by, DISPATCH_BY_MAGLEV);
	cfg->nodes[J4].up = true;
	grace_calls_free(gc);
}

/* Once previous_until is past, everything follows the current table. */
static void after_the_grace_period(void **state)
{
	struct grace_calls *gc = grace_calls_new(8);
	char id[64], old[64];
	struct dispatch_result r;

	(void)state;
	change(without_j4, with_j4, UNTIL);
	snprintf(id, sizeof(id), "%s", callid_where(without_j4, with_j4, -1, J4, true, 0));
	snprintf(old, sizeof(old), "%s", callid_where(without_j4, with_j4, -1, J4, true, 1));
	assert_true(deliver(INVITE, id, NOW, gc).grace_noted);
	r = deliver(INVITE, old, UNTIL, gc);
	expect(r, J4, DISPATCH_BY_MAGLEV);
	assert_false(r.grace_noted);
	expect(deliver(BYE, id, UNTIL, gc), J4, DISPATCH_BY_MAGLEV);
	expect(deliver(BYE, old, UNTIL, gc), J4, DISPATCH_BY_MAGLEV);
	grace_calls_free(gc);
}

/* A full bucket: the call is counted and its dialog follows the previous
 * table (one bucket: the ninth call finds it full). */
static void a_full_bucket(void **state)
{
	struct grace_calls *gc = grace_calls_new(0);
	char id[64];
	struct dispatch_result r;

	(void)state;
	change(without_j4, with_j4, UNTIL);
	for (unsigned i = 0; i < GRACE_CALLS_WAYS; i++)
		assert_true(deliver(INVITE, callid_where(without_j4, with_j4, -1, J4, true, i), NOW, gc)
				    .grace_noted);
	snprintf(id, sizeof(id), "%s",
		 callid_where(without_j4, with_j4, -1, J4, true, GRACE_CALLS_WAYS));
	r = deliver(INVITE, id, NOW, gc);
	expect(r, J4, DISPATCH_BY_MAGLEV);
	assert_true(r.grace_full);
	assert_false(r.grace_noted);
	expect(deliver(BYE, id, NOW, gc), prev_node(id), DISPATCH_BY_GRACE);
	grace_calls_free(gc);
}

/* A second change within grace_s (j4 leaves again, previous_until + 1): a
 * call begun in the first grace period is one of before this change. */
static void a_second_change(void **state)
{
	struct grace_calls *gc = grace_calls_new(8);
	char id[64];

	(void)state;
	change(without_j4, with_j4, UNTIL);
	snprintf(id, sizeof(id), "%s", callid_where(without_j4, with_j4, -1, J4, true, 0));
	assert_true(deliver(INVITE, id, NOW, gc).grace_noted);
	change(with_j4, without_j4, UNTIL + 1);
	expect(deliver(BYE, id, NOW + 1, gc), J4, DISPATCH_BY_GRACE);
	grace_calls_free(gc);
}

/* TCP: a SYN is the initial message, later segments the dialog
 * (dispatch_by_hash() with the 5-tuple's hash). */
static void a_connection_opened_in_the_grace_period(void **state)
{
	struct grace_calls *gc = grace_calls_new(8);
	const char *id;
	uint64_t hash;
	struct dispatch_result syn = { DISPATCH_BY_NONE, -1, false, false, false }, seg = syn;

	(void)state;
	change(without_j4, with_j4, UNTIL);
	id = callid_where(without_j4, with_j4, -1, J4, true, 2);
	hash = callid_hash((const uint8_t *)id, strlen(id), cfg->tables.hash_seed);
	dispatch_by_hash(&cfg->tables, 0, hash, false, NOW, gc, &syn);
	dispatch_by_hash(&cfg->tables, 0, hash, true, NOW, gc, &seg);
	expect(syn, J4, DISPATCH_BY_MAGLEV);
	expect(seg, J4, DISPATCH_BY_GRACE_NEW);
	grace_calls_free(gc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(join_new_call_stays_on_the_new_node),
		cmocka_unit_test(join_old_call_stays_on_the_previous_node),
		cmocka_unit_test(a_slot_that_did_not_move),
		cmocka_unit_test(without_a_register),
		cmocka_unit_test(leave_while_alive),
		cmocka_unit_test(after_the_grace_period),
		cmocka_unit_test(a_full_bucket),
		cmocka_unit_test(a_second_change),
		cmocka_unit_test(a_connection_opened_in_the_grace_period),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
