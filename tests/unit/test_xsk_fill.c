/* The AF_XDP fill ring without a NIC (dataplane/xdp/xsk_fill.c): the
 * top-up on rings laid out in memory as libxdp lays them out, and a
 * simulation of the kernel and the worker's loop under a flood, in which
 * the kernel must never find the fill ring empty while it has an RX slot
 * (the 89 frames lost with 6,142 frames free: docs/afxdp.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "umem_frames.h"
#include "xsk_fill.h"

#define RX_SIZE    1024
#define BATCH      64 /* the worker's receive batch (xsk_worker.c) */
#define FRAME_SIZE 2048

/* A ring as xsk_umem__create() / xsk_socket__create() set it up: the
 * producer's cached consumer is one ring ahead. */
struct fake_ring {
	uint32_t producer, consumer, flags;
	uint64_t addr[4 * RX_SIZE];
};

static void prod_init(struct xsk_ring_prod *r, struct fake_ring *m, uint32_t size)
{
	memset(m, 0, sizeof(*m));
	memset(r, 0, sizeof(*r));
	r->mask = size - 1;
	r->size = size;
	r->producer = &m->producer;
	r->consumer = &m->consumer;
	r->ring = m->addr;
	r->flags = &m->flags;
	r->cached_prod = m->producer;
	r->cached_cons = m->consumer + size;
}

static void top_up_fills_the_ring_and_moves_the_frames(void **state)
{
	static struct fake_ring m;
	struct xsk_ring_prod fill;
	struct umem_frames f;
	uint32_t census[4];
	bool short_;

	(void)state;
	assert_int_equal(xsk_fill_size(RX_SIZE), 2 * RX_SIZE);
	prod_init(&fill, &m, xsk_fill_size(RX_SIZE));
	assert_int_equal(umem_frames_init(&f, 4096, FRAME_SIZE), 0);
	assert_int_equal(xsk_fill_top_up(&fill, &f, &short_), 2048);
	assert_false(short_);
	assert_int_equal(m.producer, 2048);
	umem_frames_census(&f, census);
	assert_int_equal(census[FRAME_KERNEL_RX], 2048);
	assert_int_equal(census[FRAME_FREE], 4095 - 2048);
	/* every address on the ring is a distinct frame the census calls KERNEL_RX */
	for (uint32_t i = 0; i < 2048; i++) {
		assert_int_equal(m.addr[i] % FRAME_SIZE, 0);
		assert_int_not_equal(m.addr[i], 0);
		assert_int_equal(f.state[m.addr[i] / FRAME_SIZE], FRAME_KERNEL_RX);
	}
	/* full: nothing more */
	assert_int_equal(xsk_fill_top_up(&fill, &f, &short_), 0);
	assert_false(short_);
	/* the kernel took 100: exactly 100 go back */
	m.consumer += 100;
	assert_int_equal(xsk_fill_top_up(&fill, &f, &short_), 100);
	assert_int_equal(m.producer, 2148);
	umem_frames_free(&f);
}

static void top_up_with_too_few_frames_is_short(void **state)
{
	static struct fake_ring m;
	struct xsk_ring_prod fill;
	struct umem_frames f;
	bool short_;

	(void)state;
	prod_init(&fill, &m, 2048);
	assert_int_equal(umem_frames_init(&f, 512, FRAME_SIZE), 0);
	assert_int_equal(xsk_fill_top_up(&fill, &f, &short_), 511);
	assert_true(short_);
	assert_int_equal(f.n_free, 0);
	assert_int_equal(xsk_fill_top_up(&fill, &f, &short_), 0);
	assert_true(short_);
	umem_frames_free(&f);
}

/* The kernel side: per arriving frame an RX slot and a fill entry. */
struct sim {
	struct fake_ring fill_mem;
	struct xsk_ring_prod fill;
	uint64_t rx[RX_SIZE];
	uint32_t rx_prod, rx_cons;
	struct umem_frames f;
	uint64_t delivered, fill_empty, rx_full;
	uint32_t free_at_end; /* frames on the free stack when it ended */
};

static void kernel_receives(struct sim *s, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		if (s->fill_mem.consumer == s->fill_mem.producer) {
			s->fill_empty++; /* rx_fill_ring_empty_descs: the bug */
			continue;
		}
		if (s->rx_prod - s->rx_cons == RX_SIZE) {
			s->rx_full++; /* the worker's backlog: rx_ring_full */
			continue;
		}
		s->rx[s->rx_prod++ % RX_SIZE] =
			s->fill_mem.addr[s->fill_mem.consumer++ & s->fill.mask];
		s->delivered++;
	}
}

/* rx_batch(): up to BATCH frames, each KERNEL_RX -> WORKER -> FREE */
static void worker_receives(struct sim *s)
{
	for (uint32_t i = 0; i < BATCH && s->rx_cons != s->rx_prod; i++) {
		uint64_t addr = s->rx[s->rx_cons++ % RX_SIZE];

		assert_true(umem_frames_move(&s->f, addr, FRAME_KERNEL_RX, FRAME_WORKER));
		umem_frames_release(&s->f, addr);
	}
}

/* The worker's loop under a flood: `arrive` frames come in while it
 * sleeps, `stall` more between its receive batch and its top-up (TX
 * kicks, preemption). refill_first: the top-up before receiving. */
static struct sim *simulate(uint32_t fill_size, bool refill_first, uint32_t arrive,
			    uint32_t stall, uint32_t frames)
{
	static struct sim s;
	bool short_;

	memset(&s, 0, sizeof(s));
	prod_init(&s.fill, &s.fill_mem, fill_size);
	assert_int_equal(umem_frames_init(&s.f, frames, FRAME_SIZE), 0);
	xsk_fill_top_up(&s.fill, &s.f, &short_);
	for (int it = 0; it < 50; it++) {
		if (refill_first)
			xsk_fill_top_up(&s.fill, &s.f, &short_);
		kernel_receives(&s, arrive);
		worker_receives(&s);
		kernel_receives(&s, stall);
		xsk_fill_top_up(&s.fill, &s.f, &short_);
	}
	/* no frame lost or doubled: every frame is free or the kernel's */
	{
		uint32_t c[4];

		umem_frames_census(&s.f, c);
		assert_int_equal(c[FRAME_WORKER] + c[FRAME_KERNEL_TX], 0);
		assert_int_equal(c[FRAME_FREE], s.f.n_free);
		assert_int_equal(c[FRAME_KERNEL_RX],
				 (s.fill_mem.producer - s.fill_mem.consumer) + (s.rx_prod - s.rx_cons));
	}
	s.free_at_end = s.f.n_free;
	umem_frames_free(&s.f);
	return &s;
}

static void the_fill_ring_never_runs_dry_before_the_rx_ring(void **state)
{
	(void)state;
	for (uint32_t arrive = 0; arrive <= 2 * RX_SIZE; arrive += 16)
		for (uint32_t stall = 0; stall <= 3 * RX_SIZE; stall += 64) {
			struct sim *s = simulate(xsk_fill_size(RX_SIZE), true, arrive, stall, 4096);

			if (s->fill_empty)
				fail_msg("arrive %u stall %u: %llu frames found the fill ring empty "
					 "(%llu delivered, %llu to a full RX ring)", arrive, stall,
					 (unsigned long long)s->fill_empty,
					 (unsigned long long)s->delivered,
					 (unsigned long long)s->rx_full);
		}
}

/* The sizing before the fix (fill ring = RX ring, topped up after the
 * batch only) loses frames to an empty fill ring with most of the UMEM
 * free: what this test exists to catch. */
static void the_old_sizing_ran_dry(void **state)
{
	struct sim *s;

	(void)state;
	s = simulate(RX_SIZE, false, RX_SIZE - BATCH, 2 * BATCH, 8192);
	assert_true(s->fill_empty > 0);
	assert_true(s->free_at_end > 5000);
	s = simulate(xsk_fill_size(RX_SIZE), true, RX_SIZE - BATCH, 2 * BATCH, 8192);
	assert_int_equal(s->fill_empty, 0);
	assert_true(s->rx_full > 0); /* the backlog is what is lost */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(top_up_fills_the_ring_and_moves_the_frames),
		cmocka_unit_test(top_up_with_too_few_frames_is_short),
		cmocka_unit_test(the_fill_ring_never_runs_dry_before_the_rx_ring),
		cmocka_unit_test(the_old_sizing_ran_dry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
