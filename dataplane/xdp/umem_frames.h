/* Who owns each UMEM frame of an AF_XDP worker (docs/afxdp.md "Frames").
 *
 * Every frame is in exactly one state; each ring operation moves it along
 * one edge, and an edge from the wrong state is refused and counted
 * instead of followed. That is how a descriptor pointing at a frame user
 * space never gave to the kernel (docs/lab.md "The machine underneath": seen on veth), or a completion
 * for a frame that was never sent, cannot make a frame be used twice:
 *
 *   FREE --fill--> KERNEL_RX --rx--> WORKER --tx--> KERNEL_TX --completion--> FREE
 *                                      `--(dropped, punted, held)--> FREE
 *
 * Frame 0 is never used (an all-zero descriptor must not look valid). No
 * allocation after init, no lock: one worker owns its frames. */
#ifndef SIPHON_UMEM_FRAMES_H
#define SIPHON_UMEM_FRAMES_H

#include <stdbool.h>
#include <stdint.h>

enum frame_state { FRAME_FREE, FRAME_KERNEL_RX, FRAME_WORKER, FRAME_KERNEL_TX };

struct umem_frames {
	uint32_t n, frame_size;
	uint8_t *state;     /* n entries */
	uint32_t *free;     /* stack of free frame indices */
	uint32_t n_free;
	uint64_t bad_rx, bad_completion, bad_addr; /* refused edges */
	uint64_t bad_release; /* a frame given back that the worker did not hold (a bug) */
};

/* n frames of frame_size bytes (a power of two); frame 0 starts reserved.
 * 0 or -ENOMEM. */
int umem_frames_init(struct umem_frames *f, uint32_t n, uint32_t frame_size);
void umem_frames_free(struct umem_frames *f);

/* A free frame's address for the fill or TX ring (it becomes `to`), or
 * UINT64_MAX when none is free. */
uint64_t umem_frames_take(struct umem_frames *f, enum frame_state to);

/* The frame holding addr moves from `from` to `to`; false (and a counted
 * refusal) when addr is outside the UMEM, frame 0, or not in `from`. */
bool umem_frames_move(struct umem_frames *f, uint64_t addr, enum frame_state from,
		      enum frame_state to);

/* The frame holding addr (in state WORKER) is free again. */
void umem_frames_release(struct umem_frames *f, uint64_t addr);

/* Frames in each state, for the accounting check at exit. */
void umem_frames_census(const struct umem_frames *f, uint32_t count[4]);

#endif
