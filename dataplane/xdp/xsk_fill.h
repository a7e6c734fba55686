/* The fill ring of an AF_XDP worker: how big, and topping it up
 * (docs/afxdp.md "The fill ring").
 *
 * The kernel needs, per received frame, a free slot on the RX ring and a
 * frame address on the fill ring. If the fill ring is only as big as the
 * RX ring, it runs dry while the RX ring still has room: the worker takes
 * a batch off the RX ring (freeing up to a batch of RX slots) and is away
 * (TX kicks, preemption on a shared CPU) before it tops up the fill ring,
 * and the kernel drops frames for want of a fill entry while thousands of
 * UMEM frames sit free (seen: 89 lost under 20 kpps in copy mode with
 * 6,142 frames free). With a fill ring of twice the RX ring (at least the
 * RX ring plus one batch), topped up before and after each receive batch,
 * the kernel always finds a fill entry as long as it finds an RX slot: a
 * worker that falls behind loses frames to a full RX ring (its backlog),
 * never to an empty fill ring. tests/unit/test_xsk_fill.c simulates both
 * sizings. */
#ifndef SIPHON_XSK_FILL_H
#define SIPHON_XSK_FILL_H

#include <stdbool.h>
#include <stdint.h>
#include <xdp/xsk.h>

#include "umem_frames.h"

/* The fill ring's entries for an RX ring of rx_size (a power of two, so is
 * the result). */
static inline uint32_t xsk_fill_size(uint32_t rx_size)
{
	return 2 * rx_size;
}

/* Puts free frames on the fill ring (FREE -> KERNEL_RX) until it is full or
 * no frame is free, in one reserve and one submit. Returns how many; *short_
 * is set when the ring could not be filled for want of free frames. No
 * system call, no allocation. */
uint32_t xsk_fill_top_up(struct xsk_ring_prod *fill, struct umem_frames *f, bool *short_);

#endif
