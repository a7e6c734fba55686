/* The fragment table reassembles (dataplane/fragments.h, docs/fragments.md):
 * a ~3000-byte SIP INVITE cut into 3-5 IPv4 / IPv6 fragments, fed in order,
 * reversed, shuffled, duplicated, overlapping, incomplete; the decisions
 * late fragments get; the stored frames rewritten in place (suite dp).
 * Limits and inconsistent fragments: test_frag_limits.c. */
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
#include "rewrite.h"

/* In order, reversed, shuffled: 3-5 fragments, IPv4 / IPv6 / IPv6 with a
 * destination-options header inside the fragmentable part, with a VLAN tag. */
static void every_order(void **state)
{
	const struct spec specs[] = {
		{ .family = AF_INET, .id = 0x1234 },
		{ .family = AF_INET6, .id = 0xdeadbeef },
		{ .family = AF_INET6, .id = 7, .dstopts = true, .vlan = true },
		{ .family = AF_INET, .id = 9, .vlan = true },
	};
	uint32_t id = 0;

	(void)state;
	make_invite();
	init(NULL);
	for (unsigned s = 0; s < sizeof(specs) / sizeof(specs[0]); s++) {
		for (unsigned n = 3; n <= 5; n++) {
			unsigned order[MAX_FRAGS];
			struct spec sp = specs[s];

			for (unsigned k = 0; k < 12; k++) {
				struct frag_datagram *d;
				sp.id = specs[s].id + id++;
				invite(&sp, n);
				for (unsigned i = 0; i < n; i++)
					order[i] = k == 1 ? n - 1 - i : i; /* k 0: in order, 1: reversed */
				for (unsigned i = n - 1; k >= 2 && i > 0; i--) {
					const unsigned j = rnd() % (i + 1), x = order[i];
					order[i] = order[j];
					order[j] = x;
				}
				d = feed(order, n, 1000 + k);
				check_complete(d, n);
				assert_int_equal(d->key.family, sp.family);
				assert_int_equal(d->key.id, sp.family == AF_INET ? (sp.id & 0xFFFF) : sp.id);
				assert_int_equal(tab.n_datagrams, 1);
				decide_node(d, s * 100 + n);
				assert_int_equal(tab.n_datagrams, 0);
				/* any late fragment: the decision */
				assert_int_equal(add(&fr[rnd() % n], 1500, NULL), FRAG_RESULT_DECIDED);
				check_decision(s * 100 + n);
			}
		}
	}
	assert_int_equal(tab.c.result[FRAG_RESULT_COMPLETE], 4 * 3 * 12);
	assert_int_equal(tab.c.result[FRAG_RESULT_DECIDED], 4 * 3 * 12);
	assert_int_equal(tab.c.decided, 4 * 3 * 12);
	assert_int_equal(frag_expire(&tab, 1500), 0);
	assert_int_equal(frag_expire(&tab, 100000), 0);
	assert_int_equal(tab.c.decided_expired, 4 * 3 * 12);
	assert_int_equal(tab.n_decided, 0);
	frag_table_free(&tab);
}

/* Exact duplicates before completion are ignored, during the wait for the
 * decision too; after it they get the decision. Ethernet padding is cut. */
static void duplicates(void **state)
{
	const struct spec sp = { .family = AF_INET, .id = 77 };
	struct frag_datagram *d = NULL;

	(void)state;
	make_invite();
	init(NULL);
	invite(&sp, 4);
	assert_int_equal(add(&fr[0], 10, &d), FRAG_RESULT_HELD);
	assert_int_equal(add(&fr[0], 11, &d), FRAG_RESULT_DUPLICATE);
	assert_int_equal(add(&fr[2], 12, &d), FRAG_RESULT_HELD);
	fr[2].len += 20; /* padding after the IP packet: not part of the fragment */
	assert_int_equal(add(&fr[2], 13, &d), FRAG_RESULT_DUPLICATE);
	fr[2].len -= 20;
	assert_int_equal(add(&fr[1], 14, &d), FRAG_RESULT_HELD);
	assert_int_equal(tab.n_datagrams, 1);
	assert_int_equal(add(&fr[3], 15, &d), FRAG_RESULT_COMPLETE);
	check_complete(d, 4);
	/* waiting for frag_decide() */
	assert_int_equal(add(&fr[1], 16, NULL), FRAG_RESULT_DUPLICATE);
	assert_null(frag_decision(&tab, &(size_t){ 0 }));
	decide_node(d, 42);
	assert_int_equal(tab.n_datagrams, 0);
	assert_int_equal(tab.n_decided, 1);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(add(&fr[i], 20, &d), FRAG_RESULT_DECIDED);
		assert_null(d);
		check_decision(42);
	}
	assert_int_equal(tab.c.result[FRAG_RESULT_HELD], 3);
	assert_int_equal(tab.c.result[FRAG_RESULT_COMPLETE], 1);
	assert_int_equal(tab.c.result[FRAG_RESULT_DUPLICATE], 3);
	assert_int_equal(tab.c.result[FRAG_RESULT_DECIDED], 4);
	assert_int_equal(tab.n_datagrams, 0);
	frag_table_free(&tab);
}

/* Overlaps drop the whole datagram, and its later fragments, for as long as
 * the datagram could have been reassembled (RFC 5722). */
static void overlap(void **state)
{
	struct spec sp = { .family = AF_INET, .id = 1 };
	struct frag_datagram *d = NULL;

	(void)state;
	make_invite();
	init(NULL);
	/* the same extent, other bytes */
	invite(&sp, 4);
	assert_int_equal(add(&fr[0], 0, NULL), FRAG_RESULT_HELD);
	assert_int_equal(add(&fr[1], 0, NULL), FRAG_RESULT_HELD);
	extra = fr[1];
	extra.buf[extra.l.payload_off + 5] ^= 0x20;
	assert_int_equal(add(&extra, 1, NULL), FRAG_RESULT_OVERLAP);
	assert_int_equal(tab.n_datagrams, 0);
	assert_int_equal(tab.c.dropped_frames, 2);
	assert_int_equal(add(&fr[2], 2, NULL), FRAG_RESULT_OVERLAP);
	assert_int_equal(add(&fr[3], 3, NULL), FRAG_RESULT_OVERLAP);
	assert_int_equal(add(&fr[0], 4, NULL), FRAG_RESULT_OVERLAP);
	assert_int_equal(tab.n_datagrams, 0);
	/* a timeout later the id is free again */
	assert_int_equal(frag_expire(&tab, 2001), 0);
	d = feed_in_order(4, 2001);
	check_complete(d, 4);
	decide_node(d, 1);

	/* another extent, the same bytes: a piece spanning two fragments */
	sp.id = 2;
	invite(&sp, 4);
	assert_int_equal(add(&fr[1], 3000, NULL), FRAG_RESULT_HELD);
	make_frag(&extra, &sp, fr[1].l.frag_off + 8, fr[2].l.frag_off - fr[1].l.frag_off, true);
	assert_int_equal(extra.st, PKT_STATUS_FRAGMENT);
	assert_int_equal(add(&extra, 3000, NULL), FRAG_RESULT_OVERLAP);
	assert_int_equal(add(&fr[2], 3000, NULL), FRAG_RESULT_OVERLAP);

	/* IPv6: a piece inside a held fragment, and one straddling its start */
	sp = (struct spec){ .family = AF_INET6, .id = 3 };
	invite(&sp, 3);
	assert_int_equal(add(&fr[2], 3000, NULL), FRAG_RESULT_HELD);
	make_frag(&extra, &sp, fr[2].l.frag_off + 16, 16, true);
	assert_int_equal(add(&extra, 3000, NULL), FRAG_RESULT_OVERLAP);
	sp.id = 4;
	invite(&sp, 3);
	assert_int_equal(add(&fr[1], 3000, NULL), FRAG_RESULT_HELD);
	make_frag(&extra, &sp, fr[1].l.frag_off - 8, 16, true);
	assert_int_equal(add(&extra, 3000, NULL), FRAG_RESULT_OVERLAP);
	assert_int_equal(tab.n_datagrams, 0);
	assert_int_equal(tab.c.result[FRAG_RESULT_OVERLAP], 8);
	frag_table_free(&tab);
}

/* A missing fragment: the datagram times out after timeout_ms, counted
 * once, by frag_expire() or when frag_add() meets it. */
static void missing_fragment(void **state)
{
	const struct spec sp = { .family = AF_INET6, .id = 0x10001 };
	const struct frag_limits lim = { .partial_ms = 2000 }; /* no faster ageing here */

	(void)state;
	make_invite();
	init(&lim);
	invite(&sp, 5);
	for (unsigned i = 0; i < 5; i++)
		if (i != 2)
			assert_int_equal(add(&fr[i], 1000 + i, NULL), FRAG_RESULT_HELD);
	assert_int_equal(frag_expire(&tab, 2999), 0);
	assert_int_equal(tab.n_datagrams, 1);
	assert_int_equal(frag_expire(&tab, 3000), 1);
	assert_int_equal(tab.n_datagrams, 0);
	assert_int_equal(tab.c.timeouts, 1);
	assert_int_equal(tab.c.timeout_frames, 4);
	assert_int_equal(frag_expire(&tab, 3001), 0);
	/* the straggler starts a datagram of its own, which times out too */
	assert_int_equal(add(&fr[2], 3001, NULL), FRAG_RESULT_HELD);
	/* frag_add() meets the expired datagram: reclaimed, reported by frag_expire() */
	assert_int_equal(add(&fr[0], 5001, NULL), FRAG_RESULT_HELD);
	assert_int_equal(tab.n_datagrams, 1);
	assert_int_equal(frag_expire(&tab, 5001), 1);
	assert_int_equal(frag_expire(&tab, 7001), 1);
	assert_int_equal(tab.c.timeouts, 3);
	assert_int_equal(tab.n_datagrams, 0);
	/* time going backwards counts as the latest time */
	assert_int_equal(add(&fr[0], 10, NULL), FRAG_RESULT_HELD);
	assert_int_equal(frag_expire(&tab, 9000), 0);
	assert_int_equal(frag_expire(&tab, 9001), 1);
	frag_table_free(&tab);
}

/* Decided entries: they age out, a fragment that cannot belong to the
 * decided datagram (IP id reuse) starts a new one, a full ring pushes out
 * its oldest entry, and a decision is at most FRAG_DECISION_MAX bytes. */
static void decided_entries(void **state)
{
	const struct frag_limits lim = { .max_decided = 2 };
	struct spec sp = { .family = AF_INET, .id = 1 };
	struct frag_datagram *d;
	uint8_t blob[100];
	uint64_t evicted;
	size_t len;

	(void)state;
	make_invite();
	init(&lim);
	invite(&sp, 3);
	d = feed_in_order(3, 100);
	decide_node(d, 5);
	assert_int_equal(add(&fr[1], 5099, NULL), FRAG_RESULT_DECIDED);
	check_decision(5);
	assert_int_equal(add(&fr[1], 5100, NULL), FRAG_RESULT_HELD); /* aged out: a new datagram */
	assert_int_equal(tab.c.decided_expired, 1);
	assert_int_equal(frag_expire(&tab, 7100), 1);

	/* the same id, another datagram: its first fragment has another UDP header */
	d = feed_in_order(3, 8000);
	decide_node(d, 6);
	sp.sport = 5070;
	invite(&sp, 3);
	assert_int_equal(add(&fr[0], 8001, NULL), FRAG_RESULT_HELD);
	assert_int_equal(tab.c.decided_replaced, 1);
	d = NULL;
	assert_int_equal(add(&fr[2], 8001, NULL), FRAG_RESULT_HELD);
	assert_int_equal(add(&fr[1], 8001, &d), FRAG_RESULT_COMPLETE);
	check_complete(d, 3);
	assert_int_equal(d->sport, 5070);
	decide_node(d, 7);
	/* a fragment past the decided datagram's end: not one of its fragments */
	sp.id = 1;
	make_datagram(&sp, (const uint8_t *)sip, sip_len);
	make_frag(&extra, &sp, 4000, 8, true);
	assert_int_equal(add(&extra, 8002, NULL), FRAG_RESULT_HELD);
	assert_int_equal(tab.c.decided_replaced, 2);
	/* inside the decided datagram, but cut elsewhere: not one of its fragments */
	sp.id = 2;
	invite(&sp, 3);
	d = feed_in_order(3, 8003);
	decide_node(d, 8);
	make_frag(&extra, &sp, fr[1].l.frag_off + 8, 16, true);
	assert_int_equal(add(&extra, 8004, NULL), FRAG_RESULT_HELD);
	assert_int_equal(tab.c.decided_replaced, 3);
	/* with more fragments than an entry lists, the extent check is by range */
	sp.id = 3;
	make_datagram(&sp, (const uint8_t *)sip, sip_len);
	for (unsigned i = 0; i < MAX_FRAGS; i++) /* 8 pieces and a tail */
		make_frag(&fr[i], &sp, i * (dgram_len / 72 * 8), dgram_len / 72 * 8, true);
	make_frag(&extra, &sp, 8 * (dgram_len / 72 * 8), dgram_len - 8 * (dgram_len / 72 * 8), false);
	for (unsigned i = 0; i < MAX_FRAGS; i++)
		assert_int_equal(add(&fr[i], 8005, NULL), FRAG_RESULT_HELD);
	assert_int_equal(add(&extra, 8005, &d), FRAG_RESULT_COMPLETE);
	assert_int_equal(d->n_frames, 9);
	assert_memory_equal(d->payload, sip, sip_len);
	decide_node(d, 9);
	make_frag(&extra, &sp, 8, 16, true);
	assert_int_equal(add(&extra, 8006, NULL), FRAG_RESULT_DECIDED);
	check_decision(9);

	/* the ring holds two: a third decision pushes out the oldest */
	evicted = tab.c.decided_evicted;
	for (uint32_t id = 10; id < 13; id++) {
		sp.id = id;
		invite(&sp, 3);
		d = feed_in_order(3, 9000);
		memset(blob, (int)id, sizeof(blob));
		frag_decide(&tab, d, blob, sizeof(blob));
	}
	assert_int_equal(tab.c.decided_evicted, evicted + 2); /* id 3's entry, then id 10's */
	invite(&sp, 3); /* id 12 */
	assert_int_equal(add(&fr[1], 9001, NULL), FRAG_RESULT_DECIDED);
	assert_non_null(frag_decision(&tab, &len));
	assert_int_equal(len, FRAG_DECISION_MAX);
	assert_int_equal(frag_decision(&tab, &len)[0], 12);
	sp.id = 10;
	invite(&sp, 3);
	assert_int_equal(add(&fr[1], 9001, NULL), FRAG_RESULT_HELD);
	/* frag_decide() on a datagram that is not complete does nothing */
	frag_decide(&tab, NULL, blob, 4);
	assert_int_equal(tab.c.decided, 8);
	frag_table_free(&tab);
}

/* The stored frames take rewrite_forward() in place, encap included. */
static void rewrite_stored_frames(void **state)
{
	const struct pool_node node = { .addr = { AF_INET, { 198, 51, 100, 21 } }, .port = 5080 };
	struct rewrite_target rt = { .mode = POOL_MODE_ENCAP, .node = &node,
				     .encap_src = { AF_INET, { 198, 18, 0, 1 } } };
	const struct spec sp = { .family = AF_INET6, .id = 99 };
	struct frag_datagram *d;

	(void)state;
	make_invite();
	init(NULL);
	invite(&sp, 4);
	d = feed_in_order(4, 0);
	check_complete(d, 4);
	for (unsigned i = 0; i < d->n_frames; i++) {
		struct frag_frame *x = &d->frames[i];
		size_t len = x->len;
		assert_int_equal(rewrite_forward(x->frame, &len, x->cap, &x->l, x->l.payload_len, &rt), 0);
		assert_int_equal(len, fr[i].len + 20); /* the outer IPv4 header */
	}
	decide_node(d, 1);
	frag_table_free(&tab);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_order),
		cmocka_unit_test(duplicates),
		cmocka_unit_test(overlap),
		cmocka_unit_test(missing_fragment),
		cmocka_unit_test(decided_entries),
		cmocka_unit_test(rewrite_stored_frames),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
