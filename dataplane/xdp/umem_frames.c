// SPDX-License-Identifier: Apache-2.0
/* UMEM frame ownership (umem_frames.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "umem_frames.h"

int umem_frames_init(struct umem_frames *f, uint32_t n, uint32_t frame_size)
{
	memset(f, 0, sizeof(*f));
	f->state = calloc(n, 1);
	f->free = calloc(n, sizeof(*f->free));
	if (!f->state || !f->free || n < 2) {
		umem_frames_free(f);
		return -ENOMEM;
	}
	f->n = n;
	f->frame_size = frame_size;
	f->state[0] = FRAME_WORKER; /* reserved for good: never on a ring */
	for (uint32_t i = n - 1; i >= 1; i--)
		f->free[f->n_free++] = i;
	return 0;
}

void umem_frames_free(struct umem_frames *f)
{
	free(f->state);
	free(f->free);
	memset(f, 0, sizeof(*f));
}

uint64_t umem_frames_take(struct umem_frames *f, enum frame_state to)
{
	uint32_t i;

	if (!f->n_free)
		return UINT64_MAX;
	i = f->free[--f->n_free];
	f->state[i] = (uint8_t)to;
	return (uint64_t)i * f->frame_size;
}

bool umem_frames_move(struct umem_frames *f, uint64_t addr, enum frame_state from,
		      enum frame_state to)
{
	uint64_t i = addr / f->frame_size;

	if (i == 0 || i >= f->n) {
		f->bad_addr++;
		return false;
	}
	if (f->state[i] != from) {
		if (from == FRAME_KERNEL_RX)
			f->bad_rx++;
		else if (from == FRAME_KERNEL_TX)
			f->bad_completion++;
		else
			f->bad_release++;
		return false;
	}
	f->state[i] = (uint8_t)to;
	if (to == FRAME_FREE)
		f->free[f->n_free++] = (uint32_t)i;
	return true;
}

void umem_frames_release(struct umem_frames *f, uint64_t addr)
{
	umem_frames_move(f, addr, FRAME_WORKER, FRAME_FREE);
}

void umem_frames_census(const struct umem_frames *f, uint32_t count[4])
{
	memset(count, 0, 4 * sizeof(*count));
	for (uint32_t i = 1; i < f->n; i++)
		count[f->state[i]]++;
}
