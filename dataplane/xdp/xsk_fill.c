// SPDX-License-Identifier: Apache-2.0
/* Topping up the fill ring (xsk_fill.h). */
#include "xsk_fill.h"

uint32_t xsk_fill_top_up(struct xsk_ring_prod *fill, struct umem_frames *f, bool *short_)
{
	uint32_t want = xsk_prod_nb_free(fill, fill->size), idx, n;

	*short_ = false;
	if (!want)
		return 0;
	n = want < f->n_free ? want : f->n_free;
	*short_ = n < want;
	if (!n || xsk_ring_prod__reserve(fill, n, &idx) != n)
		return 0;
	for (uint32_t i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(fill, idx + i) = umem_frames_take(f, FRAME_KERNEL_RX);
	xsk_ring_prod__submit(fill, n);
	return n;
}
