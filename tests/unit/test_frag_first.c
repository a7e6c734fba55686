/* The fragment table's first-fragment decisions and its bounds
 * (dataplane/fragments.h, docs/fragments.md; suite dp): a first fragment
 * offered and decided at once, later fragments following the remembered
 * decision, the per-source bound, eviction of the heaviest source's oldest
 * incomplete datagram, faster ageing of datagrams with one kind of fragment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "fragments.h"
#include "frag_build.h"

static const uint8_t VIP4[4] = { 198, 51, 100, 10 };
static const uint8_t VIP6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10 };

static struct frag_table tab;
static struct fb_datagram dg;
static struct fb_frame fr[4];
static char msg[8192];

static void src4(uint8_t *a, uint8_t last)
{
	const uint8_t b[4] = { 192, 0, 2, last };
	memcpy(a, b, 4);
}

/* A 3-fragment INVITE from 192.0.2.<last> with IP id `id`. */
static void invite4(uint8_t last, uint32_t id)
{
	uint8_t s[4];
	size_t n = fb_invite(msg, sizeof(msg), "first@192.0.2.7", 2600, 0);

	src4(s, last);
	fb_datagram(&dg, AF_INET, s, VIP4, id, msg, n);
	fb_cut(fr, &dg, 3);
}

static enum frag_result add(const struct fb_frame *f, uint64_t now, struct frag_datagram **d)
{
	return frag_add(&tab, f->buf, f->len, &f->l, now, d);
}

/* Offered, then filed for reassembly (the header block did not end in it). */
static enum frag_result hold(const struct fb_frame *f, uint64_t now)
{
	struct frag_datagram *d;

	assert_int_equal(add(f, now, &d), FRAG_RESULT_FIRST);
	return frag_hold(&tab, f->buf, f->len, &f->l);
}

static void first_fragment_decides(void **state)
{
	const uint32_t mine = 0xC0FFEE;
	struct frag_datagram *d = NULL;
	const uint8_t *dec;
	size_t dlen;

	(void)state;
	assert_int_equal(frag_table_init(&tab, NULL), 0);
	invite4(7, 0x100);
	assert_int_equal(add(&fr[0], 0, &d), FRAG_RESULT_FIRST);
	/* not stored: the view has the first fragment's UDP header and payload */
	assert_non_null(d);
	assert_int_equal(tab.n_datagrams, 0);
	assert_int_equal(d->n_frames, 0);
	assert_int_equal(d->udp_len, dg.len);
	assert_int_equal(d->dport, 5060);
	assert_ptr_equal(d->payload, fr[0].buf + fr[0].l.l4_off + 8);
	assert_int_equal(d->payload_len, fr[0].len - 14 - 20 - 8);
	assert_memory_equal(d->payload, msg, d->payload_len);
	frag_decide(&tab, d, &mine, sizeof(mine));
	assert_int_equal(tab.n_decided, 1);
	/* the later fragments follow, in any order, and copies of them */
	for (unsigned i = 2; i >= 1; i--) {
		assert_int_equal(add(&fr[i], 1, &d), FRAG_RESULT_DECIDED);
		assert_null(d);
		dec = frag_decision(&tab, &dlen);
		assert_int_equal(dlen, sizeof(mine));
		assert_memory_equal(dec, &mine, sizeof(mine));
	}
	assert_int_equal(add(&fr[1], 2, NULL), FRAG_RESULT_DECIDED);
	assert_int_equal(add(&fr[0], 2, NULL), FRAG_RESULT_DECIDED); /* the first, again */
	assert_int_equal(tab.c.result[FRAG_RESULT_FIRST], 1);
	assert_int_equal(tab.c.result[FRAG_RESULT_DECIDED], 4);
	assert_int_equal(tab.n_datagrams, 0);
	/* a fragment past the datagram's end is another datagram (IP id reuse) */
	fb_frag(&fr[3], &dg, dg.len / 8 * 8 + 8, 16, false);
	assert_int_equal(add(&fr[3], 3, NULL), FRAG_RESULT_HELD);
	assert_int_equal(tab.c.decided_replaced, 1);
	frag_table_free(&tab);
}

/* Later fragments that came before the first are held; the first then
 * hands them over in the order they came, and the decision covers the rest. */
static void first_after_later_ones(void **state)
{
	struct frag_datagram *d = NULL;
	struct fb_frame f[4];
	const uint8_t *p;

	(void)state;
	assert_int_equal(frag_table_init(&tab, NULL), 0);
	{
		uint8_t s[4];
		size_t n = fb_invite(msg, sizeof(msg), "order@192.0.2.7", 3500, 0);
		src4(s, 7);
		fb_datagram(&dg, AF_INET, s, VIP4, 0x200, msg, n);
		fb_cut(f, &dg, 4);
	}
	assert_int_equal(add(&f[2], 0, NULL), FRAG_RESULT_HELD);
	assert_int_equal(add(&f[1], 0, NULL), FRAG_RESULT_HELD);
	assert_int_equal(add(&f[0], 0, &d), FRAG_RESULT_FIRST);
	assert_int_equal(d->n_frames, 2);
	p = d->frames[d->order[0]].frame;
	assert_memory_equal(p, f[2].buf, f[2].len);
	p = d->frames[d->order[1]].frame;
	assert_memory_equal(p, f[1].buf, f[1].len);
	frag_decide(&tab, d, "x", 1);
	assert_int_equal(tab.n_datagrams, 0);
	assert_int_equal(add(&f[3], 1, NULL), FRAG_RESULT_DECIDED);
	frag_table_free(&tab);
}

/* A source (/32, or /64 for IPv6) holds at most max_per_source datagrams:
 * one more takes the place of its own oldest incomplete one. */
static void per_source_bound(void **state)
{
	const struct frag_limits lim = { .max_per_source = 2 };
	const uint8_t a1[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	uint8_t a2[16];
	struct fb_datagram x;
	struct fb_frame f;

	(void)state;
	assert_int_equal(frag_table_init(&tab, &lim), 0);
	memcpy(a2, a1, 16);
	a2[8] = 0xFF; /* the same /64 */
	for (uint32_t id = 1; id <= 3; id++) {
		size_t n = fb_invite(msg, sizeof(msg), "bound@2001:db8::1", 3500, 0);
		fb_datagram(&x, AF_INET6, id == 2 ? a2 : a1, VIP6, id, msg, n);
		fb_frag(&f, &x, 1480, 1480, true); /* a middle fragment */
		assert_int_equal(add(&f, id, NULL), FRAG_RESULT_HELD);
	}
	assert_int_equal(tab.n_datagrams, 2);
	assert_int_equal(tab.c.result[FRAG_RESULT_SOURCE_LIMIT], 1);
	assert_int_equal(tab.c.evicted_frames, 1);
	assert_int_equal(tab.max_count, 2);
	/* id 1 went: its fragment starts it anew (and pushes out id 2) */
	assert_int_equal(add(&f, 4, NULL), FRAG_RESULT_DUPLICATE); /* id 3, held */
	{
		size_t n = fb_invite(msg, sizeof(msg), "bound@2001:db8::1", 3500, 0);
		fb_datagram(&x, AF_INET6, a1, VIP6, 1, msg, n);
		fb_frag(&f, &x, 1480, 1480, true);
	}
	assert_int_equal(add(&f, 5, NULL), FRAG_RESULT_HELD);
	assert_int_equal(tab.c.result[FRAG_RESULT_SOURCE_LIMIT], 2);
	/* another /32 has its own share */
	invite4(9, 1);
	assert_int_equal(add(&fr[1], 6, NULL), FRAG_RESULT_HELD);
	assert_int_equal(tab.n_datagrams, 3);
	assert_int_equal(tab.c.result[FRAG_RESULT_SOURCE_LIMIT], 2);
	frag_table_free(&tab);
}

/* A full table evicts the oldest incomplete datagram of the source that
 * holds the most, even when another source's datagram is older. */
static void evicts_heaviest_source(void **state)
{
	const struct frag_limits lim = { .max_datagrams = 4 };
	struct frag_datagram *d = NULL;
	struct fb_frame b[3];

	(void)state;
	assert_int_equal(frag_table_init(&tab, &lim), 0);
	invite4(20, 1); /* B: the oldest datagram */
	memcpy(b, fr, sizeof(b));
	assert_int_equal(add(&b[1], 0, NULL), FRAG_RESULT_HELD);
	for (uint32_t id = 1; id <= 3; id++) { /* A holds three */
		invite4(10, id);
		assert_int_equal(add(&fr[1], id, NULL), FRAG_RESULT_HELD);
	}
	assert_int_equal(tab.max_count, 3);
	invite4(30, 1); /* C: no room */
	assert_int_equal(add(&fr[2], 10, NULL), FRAG_RESULT_HELD);
	assert_int_equal(tab.c.result[FRAG_RESULT_EVICTED], 1);
	assert_int_equal(tab.n_datagrams, 4);
	assert_int_equal(tab.max_count, 2);
	/* A's id 1 went (its copy files anew), B's datagram is whole */
	invite4(10, 2);
	assert_int_equal(add(&fr[1], 11, NULL), FRAG_RESULT_DUPLICATE);
	assert_int_equal(add(&b[2], 12, NULL), FRAG_RESULT_HELD);
	assert_int_equal(add(&b[0], 12, &d), FRAG_RESULT_COMPLETE);
	assert_int_equal(d->n_frames, 3);
	frag_decide(&tab, d, "b", 1);
	frag_table_free(&tab);
}

/* Only a first fragment, or only later ones: partial_ms. Both kinds:
 * timeout_ms from the first fragment in. */
static void faster_ageing(void **state)
{
	const struct frag_limits lim = { .timeout_ms = 2000, .partial_ms = 500 };

	(void)state;
	assert_int_equal(frag_table_init(&tab, &lim), 0);
	invite4(7, 1);
	assert_int_equal(add(&fr[1], 0, NULL), FRAG_RESULT_HELD); /* later only */
	invite4(7, 2);
	assert_int_equal(hold(&fr[0], 0), FRAG_RESULT_HELD); /* first only */
	invite4(7, 3);
	assert_int_equal(hold(&fr[0], 0), FRAG_RESULT_HELD); /* both kinds */
	assert_int_equal(add(&fr[2], 100, NULL), FRAG_RESULT_HELD);
	assert_int_equal(frag_expire(&tab, 499), 0);
	assert_int_equal(frag_expire(&tab, 500), 2);
	assert_int_equal(tab.c.result[FRAG_RESULT_PARTIAL_TIMEOUT], 2);
	assert_int_equal(tab.n_datagrams, 1);
	assert_int_equal(frag_expire(&tab, 1999), 0);
	assert_int_equal(frag_expire(&tab, 2000), 1);
	assert_int_equal(tab.c.timeouts, 3);
	assert_int_equal(tab.c.result[FRAG_RESULT_PARTIAL_TIMEOUT], 2);
	assert_int_equal(tab.n_datagrams, 0);
	assert_int_equal(tab.max_count, 0);
	frag_table_free(&tab);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(first_fragment_decides),
		cmocka_unit_test(first_after_later_ones),
		cmocka_unit_test(per_source_bound),
		cmocka_unit_test(evicts_heaviest_source),
		cmocka_unit_test(faster_ageing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
