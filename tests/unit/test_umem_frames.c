/* UMEM frame ownership of the AF_XDP workers (dataplane/xdp/umem_frames.c,
 * docs/afxdp.md "Workers and frames"): every edge from the wrong state is
 * refused and counted, and no frame is handed out twice (suite dp). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "umem_frames.h"

#define FS 2048u

static void census_is(const struct umem_frames *f, uint32_t fr, uint32_t rx, uint32_t wk,
		      uint32_t tx)
{
	uint32_t c[4];

	umem_frames_census(f, c);
	assert_int_equal(c[FRAME_FREE], fr);
	assert_int_equal(c[FRAME_KERNEL_RX], rx);
	assert_int_equal(c[FRAME_WORKER], wk);
	assert_int_equal(c[FRAME_KERNEL_TX], tx);
}

static void test_frame_zero_never_given(void **state)
{
	struct umem_frames f;
	uint8_t seen[8] = { 0 };

	(void)state;
	assert_int_equal(umem_frames_init(&f, 8, FS), 0);
	census_is(&f, 7, 0, 0, 0); /* frame 0 is reserved, not counted free */
	for (int i = 0; i < 7; i++) {
		uint64_t a = umem_frames_take(&f, FRAME_KERNEL_RX);

		assert_int_not_equal(a, 0);
		assert_int_equal(a % FS, 0);
		assert_false(seen[a / FS]); /* never the same frame twice */
		seen[a / FS] = 1;
	}
	assert_true(umem_frames_take(&f, FRAME_KERNEL_RX) == UINT64_MAX);
	census_is(&f, 0, 7, 0, 0);
	/* a descriptor for frame 0 or outside the UMEM: refused */
	assert_false(umem_frames_move(&f, 0, FRAME_KERNEL_RX, FRAME_WORKER));
	assert_false(umem_frames_move(&f, 8 * FS, FRAME_KERNEL_RX, FRAME_WORKER));
	assert_int_equal(f.bad_addr, 2);
	umem_frames_free(&f);
}

static void test_full_cycle(void **state)
{
	struct umem_frames f;
	uint64_t a;

	(void)state;
	assert_int_equal(umem_frames_init(&f, 4, FS), 0);
	a = umem_frames_take(&f, FRAME_KERNEL_RX);
	assert_true(umem_frames_move(&f, a, FRAME_KERNEL_RX, FRAME_WORKER));
	census_is(&f, 2, 0, 1, 0);
	assert_true(umem_frames_move(&f, a, FRAME_WORKER, FRAME_KERNEL_TX));
	census_is(&f, 2, 0, 0, 1);
	assert_true(umem_frames_move(&f, a, FRAME_KERNEL_TX, FRAME_FREE));
	census_is(&f, 3, 0, 0, 0);
	assert_int_equal(f.bad_rx + f.bad_completion + f.bad_addr, 0);
	umem_frames_free(&f);
}

static void test_wrong_edges_refused(void **state)
{
	struct umem_frames f;
	uint64_t a, b;

	(void)state;
	assert_int_equal(umem_frames_init(&f, 4, FS), 0);
	a = umem_frames_take(&f, FRAME_KERNEL_RX);
	b = umem_frames_take(&f, FRAME_KERNEL_RX);
	/* RX twice for the same frame: the second is refused */
	assert_true(umem_frames_move(&f, a, FRAME_KERNEL_RX, FRAME_WORKER));
	assert_false(umem_frames_move(&f, a, FRAME_KERNEL_RX, FRAME_WORKER));
	assert_int_equal(f.bad_rx, 1);
	/* a completion for a frame that was never sent */
	assert_false(umem_frames_move(&f, b, FRAME_KERNEL_TX, FRAME_FREE));
	assert_int_equal(f.bad_completion, 1);
	/* RX for a free frame (the kernel never got it): refused */
	umem_frames_release(&f, a);
	assert_false(umem_frames_move(&f, a, FRAME_KERNEL_RX, FRAME_WORKER));
	assert_int_equal(f.bad_rx, 2);
	/* a completion twice: the frame is freed once */
	assert_true(umem_frames_move(&f, b, FRAME_KERNEL_RX, FRAME_WORKER));
	assert_true(umem_frames_move(&f, b, FRAME_WORKER, FRAME_KERNEL_TX));
	assert_true(umem_frames_move(&f, b, FRAME_KERNEL_TX, FRAME_FREE));
	assert_false(umem_frames_move(&f, b, FRAME_KERNEL_TX, FRAME_FREE));
	assert_int_equal(f.bad_completion, 2);
	census_is(&f, 3, 0, 0, 0);
	assert_int_equal(f.n_free, 3); /* the free stack holds each frame once */
	/* giving back a frame the worker does not hold: refused, counted apart */
	umem_frames_release(&f, b);
	assert_int_equal(f.bad_release, 1);
	assert_int_equal(f.n_free, 3);
	umem_frames_free(&f);
}

static void test_unaligned_address_maps_to_its_frame(void **state)
{
	struct umem_frames f;
	uint64_t a;

	(void)state;
	assert_int_equal(umem_frames_init(&f, 4, FS), 0);
	a = umem_frames_take(&f, FRAME_KERNEL_RX);
	/* RX descriptors point past the headroom: the frame is addr / size */
	assert_true(umem_frames_move(&f, a + 256, FRAME_KERNEL_RX, FRAME_WORKER));
	census_is(&f, 2, 0, 1, 0);
	umem_frames_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_zero_never_given),
		cmocka_unit_test(test_full_cycle),
		cmocka_unit_test(test_wrong_edges_refused),
		cmocka_unit_test(test_unaligned_address_maps_to_its_frame),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
