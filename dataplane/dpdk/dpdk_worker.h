/* One worker per EAL lcore in siphon --io dpdk (docs/dpdk.md): queue
 * `queue` of every port, the hot-loop shape of STYLE.md (l3fwd's): burst
 * receive, prefetch ahead, the pipeline on each frame, forwarded frames
 * out of the port they came in on in batches, with a drain timer; the
 * clock read once per loop (vDSO). No allocation (mbufs come from the
 * pool's per-lcore cache), no lock, no system call per packet. */
#ifndef SIPHON_DPDK_WORKER_H
#define SIPHON_DPDK_WORKER_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "dpdk_port.h"
#include "gen_swap.h"
#include "pipeline.h"
#include "punt_tap.h"

#define DPDK_BURST         32
#define DPDK_PREFETCH      3      /* frames warmed ahead of the one processed */
#define DPDK_DRAIN_US      100    /* a partial TX batch waits at most this long */
#define DPDK_EXPIRE_MS     10     /* the fragment table ages this often */

/* The idle back-off (docs/dpdk.md "Idle"): after DPDK_IDLE_LOOPS loops in a
 * row that brought no frame, the worker sleeps, first DPDK_IDLE_SLEEP_MIN_US,
 * doubled after each sleep that still found nothing, up to its
 * idle_sleep_max_us; the first frame puts it back to full polling. */
#define DPDK_IDLE_LOOPS        64
#define DPDK_IDLE_SLEEP_MIN_US 8
#define DPDK_IDLE_SLEEP_DEFAULT_US 500 /* --idle-sleep-us when not given (docs/dpdk.md) */

/* What happens to frames outside the pipeline's own counters. */
#define DPDK_WORKER_COUNTERS(X)                                                              \
	X(rx, "frames received")                                                              \
	X(tx, "forwarded frames the port took")                                               \
	X(tx_full, "forwarded frames dropped: the port's transmit queue was full")            \
	X(to_kernel, "punted or passed frames given to the kernel on the exception interface") \
	X(to_kernel_dropped, "punted or passed frames the exception path could not take: "      \
	  "its TAP's queue was full, or there is none (--exception-iface none)")               \
	X(from_kernel, "frames the kernel sent on the exception interface, put out of port 0") \
	X(from_kernel_dropped, "frames the kernel sent on the exception interface, dropped: "  \
	  "longer than an mbuf, or a read error")                                               \
	X(multi_segment, "frames in more than one mbuf (jumbo): copied into one buffer for "  \
	  "the pipeline, and back into the chain when forwarded")                              \
	X(multi_segment_no_mbuf, "forwarded multi-segment frames dropped: the rewritten "     \
	  "frame needed one more mbuf, and the pool had none")                                 \
	X(emit_no_mbuf, "released fragments dropped: no free mbuf, or longer than one")       \
	X(drains, "partial transmit batches sent by the drain timer or before an idle sleep")  \
	X(empty_polls, "loops in which no port gave a frame and the kernel sent none")         \
	X(idle_sleeps, "sleeps of the idle back-off (--idle-sleep-us)")                        \
	X(idle_sleep_us, "microseconds of sleep asked for by the idle back-off, summed")       \
	X(generations, "table generations adopted (siphon --siphond)")

struct dpdk_worker_counters {
#define X(id, help) uint64_t id;
	DPDK_WORKER_COUNTERS(X)
#undef X
};

/* The longest frame the pipeline can be given (a 65535-byte IP packet
 * behind Ethernet and two VLAN tags), and room behind it for encap: a
 * multi-segment frame is made whole here. */
#define DPDK_LINEAR_MAX (65535 + 14 + 8 + REWRITE_ENCAP_MAX)

/* Forwarded frames waiting for their port, per port. */
struct dpdk_tx_batch {
	uint16_t n;
	struct rte_mbuf *m[DPDK_BURST];
};

struct dpdk_worker {
	struct pipeline_worker pipe; /* first: cache-aligned */
	struct dpdk_worker_counters c;
	const struct dpdk_ports *ports;
	uint16_t queue;
	uint16_t emit_port;   /* where the frame being processed (and fragments it
			       * releases) would leave: its port, or the egress port */
	unsigned seconds;     /* set on one worker: it stops the run after this (0: never) */
	volatile sig_atomic_t *stop;
	uint64_t last_expire_ms;
	/* The idle back-off: the longest sleep (0: poll without rest), the
	 * empty loops in a row, and the next sleep's length. */
	unsigned idle_sleep_max_us;
	unsigned empty_loops;
	unsigned next_sleep_us;
	/* NULL: the tables are fixed. Else slot `queue` holds the struct
	 * pipeline_gen to run, read once per loop; the worker announces a
	 * quiescent state after each loop (docs/generations.md). */
	struct gen_swap *swap;
	const struct pipeline_gen *gen; /* what pipe runs (swap mode) */
	/* The exception path (docs/dpdk.md): punted and passed frames are
	 * written to the TAP by every worker (one write() a frame); worker 0
	 * alone reads what the kernel sends on it, at most a burst each drain
	 * period, and puts it out of port 0. NULL: dropped and counted. */
	const struct punt_tap *tap;
	uint64_t last_tap_us;
	bool tap_backlog; /* the last read filled a burst: read again next loop */
	struct dpdk_tx_batch tx[DPDK_MAX_PORTS];
	uint8_t *linear; /* DPDK_LINEAR_MAX bytes, for multi-segment frames */
} __attribute__((aligned(64)));

/* The worker for queue `queue` of every port of p, with its own pipeline
 * state on t. 0 or -errno (-ENOMEM, or the pipeline's). */
int dpdk_worker_init(struct dpdk_worker *w, const struct dpdk_ports *p, uint16_t queue,
		     const struct compiled_tables *t, struct grace_calls *gc,
		     const struct punt_tap *tap);
void dpdk_worker_free(struct dpdk_worker *w);

/* The hot loop (an lcore_function_t: arg is the worker), until *w->stop;
 * then what is batched is sent and the fragments still held time out. */
int dpdk_worker_run(void *arg);

const char *dpdk_worker_counter_name(unsigned i);
/* Counter i summed over n workers (plain loads: a figure a loop behind
 * at worst while they run, never torn). */
uint64_t dpdk_workers_counter(const struct dpdk_worker *w, unsigned n, unsigned i);
unsigned dpdk_worker_counter_count(void);

#endif
