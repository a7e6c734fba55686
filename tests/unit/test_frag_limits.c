/* The fragment table's bounds and refusals (dataplane/fragments.h,
 * docs/fragments.md): too many fragments, a full table, too big, inconsistent
 * fragments, bounded hash probing, the limits and the result names (suite
 * dp). Reassembly itself: test_frag_reasm.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "frag_fixture.h"
#include "siphon/maglev.h"

static void too_many_fragments(void **state)
{
	const struct frag_limits lim = { .max_fragments = 4 };
	struct spec sp = { .family = AF_INET, .id = 5 };

	(void)state;
	make_invite();
	init(&lim);
	invite(&sp, 5);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(add(&fr[i], 0, NULL), FRAG_RESULT_HELD);
	assert_int_equal(add(&fr[3], 0, NULL), FRAG_RESULT_DUPLICATE); /* not a new one */
	assert_int_equal(add(&fr[4], 0, NULL), FRAG_RESULT_TOO_MANY_FRAGMENTS);
	assert_int_equal(tab.n_datagrams, 0);
	assert_int_equal(tab.c.dropped_frames, 4);
	assert_int_equal(add(&fr[0], 0, NULL), FRAG_RESULT_TOO_MANY_FRAGMENTS);
	/* four fragments are fine */
	sp.id = 6;
	invite(&sp, 4);
	check_complete(feed_in_order(4, 0), 4);
	frag_table_free(&tab);
}

/* No free slot: an expired datagram gives its slot first (a timeout);
 * else the oldest incomplete datagram of the source holding the most goes
 * (evicted); when every datagram waits for frag_decide(), the fragment is
 * table_full. test_frag_first.c has the choice among sources. */
static void table_full(void **state)
{
	const struct frag_limits lim = { .max_datagrams = 2, .partial_ms = 2000 };
	const struct spec s1 = { .family = AF_INET, .id = 1 }, s2 = { .family = AF_INET, .id = 2 },
			  s3 = { .family = AF_INET6, .id = 3 }, s4 = { .family = AF_INET, .id = 4 },
			  s5 = { .family = AF_INET, .id = 5 };
	struct frag_datagram *d = NULL;
	struct frag f3[3], f4[3];

	(void)state;
	make_invite();
	init(&lim);
	invite(&s1, 3);
	assert_int_equal(add(&fr[0], 0, NULL), FRAG_RESULT_HELD);
	invite(&s2, 3);
	assert_int_equal(add(&fr[0], 1000, NULL), FRAG_RESULT_HELD);
	/* datagram 1 (from t=0) has expired at 2000: its slot goes to 3 */
	invite(&s3, 3);
	memcpy(f3, fr, sizeof(f3));
	assert_int_equal(add(&f3[0], 2000, NULL), FRAG_RESULT_HELD);
	assert_int_equal(frag_expire(&tab, 2000), 1);
	assert_int_equal(tab.c.result[FRAG_RESULT_EVICTED], 0);
	/* none expired: both sources hold one; the IPv4 one got there first */
	invite(&s4, 3);
	memcpy(f4, fr, sizeof(f4));
	assert_int_equal(add(&f4[0], 2001, NULL), FRAG_RESULT_HELD);
	assert_int_equal(tab.c.result[FRAG_RESULT_EVICTED], 1);
	assert_int_equal(tab.c.evicted_frames, 1);
	assert_int_equal(tab.n_datagrams, 2);
	invite(&s2, 3); /* datagram 2 is gone: its next fragment starts anew */
	assert_int_equal(add(&fr[1], 2001, NULL), FRAG_RESULT_HELD);
	assert_int_equal(tab.c.result[FRAG_RESULT_EVICTED], 2); /* datagram 3 went for it */
	/* 4 completes and waits for a decision, the same for 2: nothing may go */
	assert_int_equal(add(&f4[1], 2002, NULL), FRAG_RESULT_HELD);
	assert_int_equal(add(&f4[2], 2002, &d), FRAG_RESULT_COMPLETE);
	assert_int_equal(add(&fr[0], 2002, NULL), FRAG_RESULT_HELD);
	assert_int_equal(add(&fr[2], 2002, &d), FRAG_RESULT_COMPLETE);
	invite(&s5, 3);
	assert_int_equal(add(&fr[0], 2003, NULL), FRAG_RESULT_TABLE_FULL);
	assert_int_equal(tab.c.result[FRAG_RESULT_TABLE_FULL], 1);
	assert_int_equal(tab.c.result[FRAG_RESULT_FIRST], 0); /* each FIRST was filed */
	assert_int_equal(tab.c.timeouts, 1);
	frag_table_free(&tab);
}

static void too_big(void **state)
{
	static uint8_t big[12000];
	const struct frag_limits small = { .max_datagram_bytes = 2000 };
	const struct frag_limits tight = { .max_fragments = 4, .max_datagram_bytes = 4000 };
	struct spec sp = { .family = AF_INET, .id = 1 };

	(void)state;
	make_invite();
	/* the datagram passes max_datagram_bytes: from the first fragment's
	 * UDP length, or from a later fragment's end */
	init(&small);
	invite(&sp, 3);
	assert_int_equal(add(&fr[0], 0, NULL), FRAG_RESULT_TOO_BIG);
	assert_int_equal(add(&fr[1], 0, NULL), FRAG_RESULT_TOO_BIG);
	sp.id = 2;
	invite(&sp, 3);
	assert_int_equal(add(&fr[1], 0, NULL), FRAG_RESULT_HELD);
	assert_int_equal(add(&fr[2], 0, NULL), FRAG_RESULT_TOO_BIG);
	assert_int_equal(tab.n_datagrams, 0);
	frag_table_free(&tab);

	/* a frame past FRAG_FRAME_MAX */
	init(NULL);
	memset(big, 'x', sizeof(big));
	sp.id = 3;
	make_datagram(&sp, big, sizeof(big));
	make_frag(&fr[0], &sp, 0, 9600, true);
	make_frag(&fr[1], &sp, 9600, dgram_len - 9600, false);
	assert_int_equal(fr[0].st, PKT_STATUS_OK);
	assert_true(fr[0].len > FRAG_FRAME_MAX);
	assert_int_equal(add(&fr[1], 0, NULL), FRAG_RESULT_HELD);
	assert_int_equal(add(&fr[0], 0, NULL), FRAG_RESULT_TOO_BIG);
	sp.id = 4;
	make_datagram(&sp, big, 9000); /* two frames within the limit */
	cut(&sp, 2);
	{
		struct frag_datagram *d = feed_in_order(2, 0);
		assert_int_equal(d->payload_len, 9000);
		assert_memory_equal(d->payload, big, 9000);
	}
	frag_table_free(&tab);

	/* headers beyond the storage budget: 4000 + 4 * FRAG_HDR_BUDGET bytes
	 * of frames, three fragments with 512-byte hop-by-hop headers each */
	init(&tight);
	sp = (struct spec){ .family = AF_INET6, .id = 5, .hbh = 512 };
	invite(&sp, 3);
	assert_int_equal(add(&fr[0], 0, NULL), FRAG_RESULT_HELD);
	assert_int_equal(add(&fr[1], 0, NULL), FRAG_RESULT_HELD);
	assert_int_equal(add(&fr[2], 0, NULL), FRAG_RESULT_TOO_BIG);
	/* small headers fit */
	sp = (struct spec){ .family = AF_INET6, .id = 6, .hbh = 8 };
	invite(&sp, 4);
	check_complete(feed_in_order(4, 0), 4);
	assert_int_equal(tab.c.result[FRAG_RESULT_TOO_BIG], 1);
	frag_table_free(&tab);
}

/* Inconsistent fragments: BAD, and a datagram they contradict is dropped. */
static void bad_fragments(void **state)
{
	struct spec sp = { .family = AF_INET, .id = 1 };
	struct pkt_layout l;
	uint8_t tcp[40] = { 0 };

	(void)state;
	make_invite();
	init(NULL);
	invite(&sp, 4);

	/* not a fragment, no layout, a layout that does not fit the frame */
	make_datagram(&sp, (const uint8_t *)sip, 100);
	make_frag(&extra, &sp, 0, dgram_len, false);
	assert_int_equal(extra.st, PKT_STATUS_OK);
	assert_int_equal(add(&extra, 0, NULL), FRAG_RESULT_BAD);
	assert_int_equal(frag_add(&tab, fr[1].buf, fr[1].len, NULL, 0, NULL), FRAG_RESULT_BAD);
	assert_int_equal(frag_add(&tab, NULL, 0, &fr[1].l, 0, NULL), FRAG_RESULT_BAD);
	assert_int_equal(frag_add(&tab, fr[1].buf, fr[1].len - 1, &fr[1].l, 0, NULL), FRAG_RESULT_BAD);
	l = fr[1].l;
	l.family = 0;
	assert_int_equal(frag_add(&tab, fr[1].buf, fr[1].len, &l, 0, NULL), FRAG_RESULT_BAD);
	/* a middle fragment whose data is not a multiple of 8 */
	l = fr[1].l;
	l.l3_len -= 3;
	assert_int_equal(frag_add(&tab, fr[1].buf, fr[1].len, &l, 0, NULL), FRAG_RESULT_BAD);
	assert_int_equal(tab.n_datagrams, 0);

	/* not UDP: an IPv4 TCP fragment, an IPv6 first fragment carrying TCP */
	sp.proto = 6;
	invite(&sp, 3);
	assert_int_equal(fr[1].l.l4_proto, 6);
	assert_int_equal(add(&fr[1], 0, NULL), FRAG_RESULT_BAD);
	sp = (struct spec){ .family = AF_INET6, .id = 2, .proto = 6 };
	tcp[12] = 0x50;
	memcpy(dgram, tcp, sizeof(tcp));
	dgram_len = sizeof(tcp);
	make_frag(&extra, &sp, 0, 24, true);
	assert_int_equal(extra.st, PKT_STATUS_OK);
	assert_int_equal(extra.l.l4_proto, 6);
	assert_int_equal(add(&extra, 0, NULL), FRAG_RESULT_BAD);
	assert_int_equal(tab.n_datagrams, 0);

	/* a second last fragment with another end */
	sp = (struct spec){ .family = AF_INET, .id = 3 };
	invite(&sp, 4);
	assert_int_equal(add(&fr[0], 0, NULL), FRAG_RESULT_HELD);
	assert_int_equal(add(&fr[3], 0, NULL), FRAG_RESULT_HELD);
	make_frag(&extra, &sp, fr[2].l.frag_off, 8, false);
	assert_int_equal(add(&extra, 0, NULL), FRAG_RESULT_BAD);
	assert_int_equal(tab.n_datagrams, 0);
	assert_int_equal(add(&fr[1], 0, NULL), FRAG_RESULT_BAD); /* the rest of it too */

	/* data past the end the last fragment gives */
	sp.id = 4;
	make_datagram(&sp, (const uint8_t *)sip, sip_len);
	make_frag(&extra, &sp, 8, 16, false); /* ends at 24 */
	assert_int_equal(add(&extra, 0, NULL), FRAG_RESULT_HELD);
	make_frag(&extra, &sp, 32, 16, true);
	assert_int_equal(add(&extra, 0, NULL), FRAG_RESULT_BAD);

	/* a UDP length that disagrees with the end */
	sp.id = 5;
	invite(&sp, 3);
	fb_put16(fr[0].buf + fr[0].l.l4_off + 4, (uint32_t)(sip_len + 8 + 8));
	assert_int_equal(pkt_parse(fr[0].buf, fr[0].len, &fr[0].l), PKT_STATUS_OK);
	assert_int_equal(add(&fr[2], 0, NULL), FRAG_RESULT_HELD);
	assert_int_equal(add(&fr[0], 0, NULL), FRAG_RESULT_BAD);
	sp.id = 6; /* the first fragment first: the last one disagrees */
	invite(&sp, 3);
	fb_put16(fr[0].buf + fr[0].l.l4_off + 4, (uint32_t)(sip_len + 8 - 16));
	assert_int_equal(pkt_parse(fr[0].buf, fr[0].len, &fr[0].l), PKT_STATUS_OK);
	assert_int_equal(add(&fr[0], 0, NULL), FRAG_RESULT_HELD);
	assert_int_equal(add(&fr[2], 0, NULL), FRAG_RESULT_BAD);
	sp.id = 7; /* a first fragment that holds the whole datagram */
	invite(&sp, 3);
	fb_put16(fr[0].buf + fr[0].l.l4_off + 4, (uint32_t)(fr[1].l.frag_off));
	assert_int_equal(pkt_parse(fr[0].buf, fr[0].len, &fr[0].l), PKT_STATUS_OK);
	assert_int_equal(add(&fr[0], 0, NULL), FRAG_RESULT_BAD);
	/* a middle fragment reaching the end the first fragment gives */
	sp.id = 8;
	invite(&sp, 3);
	assert_int_equal(add(&fr[0], 0, NULL), FRAG_RESULT_HELD);
	make_frag(&extra, &sp, fr[2].l.frag_off, dgram_len - fr[2].l.frag_off + 8 - (dgram_len % 8), true);
	assert_int_equal(add(&extra, 0, NULL), FRAG_RESULT_BAD);
	assert_int_equal(tab.n_datagrams, 0);
	assert_int_equal(tab.c.result[FRAG_RESULT_BAD], 15);
	assert_int_equal(frag_expire(&tab, 5000), 0);
	frag_table_free(&tab);
}

/* Keys that share a home: the index probes FRAG_PROBE_MAX slots, and a key
 * whose window is full is TABLE_FULL (a datagram) or not remembered (a
 * decision); removals in the middle of the run keep every other key found. */
static void bounded_probing(void **state)
{
	const struct frag_limits lim = { .max_datagrams = 64, .max_decided = 64, .hash_seed = 99,
					 .max_per_source = 64 };
	struct spec sp = { .family = AF_INET };
	struct frag_key k = { .family = AF_INET, .proto = 17 };
	struct frag_datagram *d;
	uint32_t ids[FRAG_PROBE_MAX + 1];
	unsigned n = 0;

	(void)state;
	memcpy(k.src, CLIENT4, 4);
	memcpy(k.dst, VIP4, 4);
	for (uint32_t id = 0; id < 65536 && n <= FRAG_PROBE_MAX; id++) {
		k.id = id;
		if ((callid_hash((const uint8_t *)&k, sizeof(k), lim.hash_seed) & 127) == 5)
			ids[n++] = id; /* the index has 128 slots */
	}
	assert_int_equal(n, FRAG_PROBE_MAX + 1);
	make_invite();
	init(&lim);
	for (unsigned i = 0; i < FRAG_PROBE_MAX; i++) {
		sp.id = ids[i];
		invite(&sp, 3);
		assert_int_equal(add(&fr[0], 0, NULL), FRAG_RESULT_HELD);
	}
	sp.id = ids[FRAG_PROBE_MAX];
	invite(&sp, 3);
	assert_int_equal(add(&fr[0], 0, NULL), FRAG_RESULT_TABLE_FULL);
	assert_int_equal(tab.n_datagrams, FRAG_PROBE_MAX);
	/* complete and decide them out of order */
	for (unsigned j = 0; j < FRAG_PROBE_MAX; j++) {
		const unsigned i = j * 7 % FRAG_PROBE_MAX;
		sp.id = ids[i];
		invite(&sp, 3);
		assert_int_equal(add(&fr[2], 1, NULL), FRAG_RESULT_HELD);
		assert_int_equal(add(&fr[1], 1, &d), FRAG_RESULT_COMPLETE);
		check_complete(d, 3);
		decide_node(d, i);
	}
	assert_int_equal(tab.n_datagrams, 0);
	/* the decided index is as crowded now: one more decision is lost */
	sp.id = ids[FRAG_PROBE_MAX];
	invite(&sp, 3);
	decide_node(feed_in_order(3, 2), 99);
	assert_int_equal(tab.c.decided_lost, 1);
	assert_int_equal(add(&fr[1], 3, NULL), FRAG_RESULT_HELD);
	for (unsigned i = 0; i < FRAG_PROBE_MAX; i++) {
		sp.id = ids[i];
		invite(&sp, 3);
		assert_int_equal(add(&fr[i % 3], 3, NULL), FRAG_RESULT_DECIDED);
		check_decision(i);
	}
	frag_table_free(&tab);
}

static void limits_and_names(void **state)
{
	struct frag_limits lim = { .max_fragments = FRAG_FRAGMENTS_LIMIT + 1 };

	(void)state;
	assert_int_equal(frag_table_init(&tab, &lim), -EINVAL);
	lim = (struct frag_limits){ .max_datagram_bytes = 15 };
	assert_int_equal(frag_table_init(&tab, &lim), -EINVAL);
	lim = (struct frag_limits){ .max_decided = (1u << 22) + 1 };
	assert_int_equal(frag_table_init(&tab, &lim), -EINVAL);
	frag_table_free(&tab);
	init(NULL);
	assert_int_equal(tab.lim.max_datagrams, 256);
	assert_int_equal(tab.lim.max_fragments, 64);
	assert_int_equal(tab.lim.max_datagram_bytes, 65535);
	assert_int_equal(tab.lim.timeout_ms, 2000);
	assert_int_equal(tab.lim.decided_ms, 5000);
	assert_int_equal(tab.lim.max_decided, 4096);
	assert_int_equal(tab.lim.max_per_source, 16);
	assert_int_equal(tab.lim.partial_ms, 500);
	assert_true(tab.mem_bytes < 32u << 20);
	print_message("default table: %zu bytes\n", tab.mem_bytes);
	frag_table_free(&tab);
	frag_table_free(&tab); /* twice is fine */

	for (unsigned r = 0; r < FRAG_RESULT__COUNT; r++) {
		assert_string_not_equal(frag_result_name(r), "?");
		assert_true(strlen(frag_result_help(r)) > 10);
		assert_int_equal(frag_result_is_drop(r),
				 r >= FRAG_RESULT_DUPLICATE && r <= FRAG_RESULT_BAD);
		assert_int_equal(frag_result_is_event(r), r >= FRAG_RESULT_EVICTED);
	}
	assert_string_equal(frag_result_name(FRAG_RESULT_OVERLAP), "overlap");
	assert_string_equal(frag_result_name(FRAG_RESULT_TABLE_FULL), "table_full");
	assert_string_equal(frag_result_name(FRAG_RESULT__COUNT), "?");
	assert_false(frag_result_is_drop(FRAG_RESULT__COUNT));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(too_many_fragments),
		cmocka_unit_test(table_full),
		cmocka_unit_test(too_big),
		cmocka_unit_test(bad_fragments),
		cmocka_unit_test(bounded_probing),
		cmocka_unit_test(limits_and_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
