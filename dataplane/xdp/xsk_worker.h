/* One AF_XDP worker per receive queue (docs/afxdp.md): its UMEM, its
 * socket on the receive interface and, when frames leave by another
 * interface, a socket there sharing the UMEM; the pipeline on every frame.
 * No allocation, no lock and no system call per packet: the rings are
 * shared memory; a sendto() kicks TX once per batch when the kernel asks
 * for it, and poll() waits only when a batch came back empty. The fill
 * ring is twice the RX ring and topped up before and after each batch
 * (xsk_fill.h). */
#ifndef SIPHON_XSK_WORKER_H
#define SIPHON_XSK_WORKER_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <xdp/xsk.h>

#include "gen_swap.h"
#include "pipeline.h"
#include "punt_tap.h"
#include "umem_frames.h"

#define XSK_WORKER_COUNTERS(X)                                                             \
	X(rx, "frames received from the XDP program")                                       \
	X(tx, "frames put on the TX ring (forwarded)")                                      \
	X(tx_completed, "frames the kernel finished sending")                               \
	X(tx_ring_full, "forwarded frames dropped: the TX ring was full")                   \
	X(no_free_frame, "held fragments dropped: no free UMEM frame to send them from")    \
	X(punt_tap, "punted or passed frames given to the kernel through the TAP")           \
	X(punt_tap_failed, "punted or passed frames the TAP refused (dropped)")             \
	X(punt_no_tap, "punted or passed frames dropped: siphon runs without --punt-tap")   \
	X(tx_kicks, "sendto() wake-ups of the TX path")                                     \
	X(polls, "waits in poll() for a frame (woken by the socket or after 20 ms)")        \
	X(coalesce_sleeps, "sleeps of --coalesce-us between batches while frames came")     \
	X(fill_short, "times the fill ring could not be topped up (no free frame)")         \
	X(pin_failed, "workers that could not be pinned to their CPU (--cpu)")              \
	X(generations, "table generations adopted (siphon --siphond)")

struct xsk_worker_counters {
#define X(id, help) uint64_t id;
	XSK_WORKER_COUNTERS(X)
#undef X
};

struct xsk_worker_config {
	const char *ifname, *egress; /* egress NULL or == ifname: one socket */
	uint32_t queue;
	int cpu; /* -1: not pinned; else the worker runs on CPU cpu + queue (mod CPUs) */
	/* 0: poll() wakes the worker per frame. Else, while frames keep coming,
	 * it sleeps this long between batches and is not woken by the socket:
	 * one wake-up and one TX kick per interval, whatever the rate; poll()
	 * again after an interval that brought nothing (docs/afxdp.md). */
	uint32_t coalesce_us;
	uint32_t frames, frame_size, ring_size;
	bool zero_copy_only, copy_only;
	const struct compiled_tables *tables;
	const struct next_hops *next_hops; /* MACs from the kernel (neigh.h); NULL: the config's only */
	const struct punt_tap *tap; /* NULL: punts are dropped and counted */
	struct grace_calls *grace_calls; /* the process's, shared by its workers */
	int xsks_map_fd;
	/* NULL: the tables are fixed. Else slot `queue` holds the struct
	 * pipeline_gen to run, read once per burst; the worker announces a
	 * quiescent state after each burst (docs/generations.md). */
	struct gen_swap *swap;
};

struct xsk_worker {
	struct xsk_worker_config cfg;
	pthread_t thread;
	bool started;
	volatile sig_atomic_t *stop;

	void *umem_area; /* inside the mapping at map_base */
	size_t umem_len;
	void *map_base;
	size_t map_len;
	struct xsk_umem *umem;
	struct xsk_ring_prod fill, tx, eg_fill, eg_tx;
	struct xsk_ring_cons comp, rx, eg_comp;
	struct xsk_socket *xsk, *eg_xsk; /* eg_xsk NULL: one-armed */
	bool zero_copy;
	uint32_t tx_unsubmitted; /* reserved and filled on the TX ring, not yet submitted */
	uint32_t tx_pending;     /* put on the TX ring since the last kick */

	struct umem_frames frames;
	struct xsk_worker_counters c;
	struct pipeline_worker pipe;
	const struct pipeline_gen *gen; /* what pipe runs (swap mode) */
	uint64_t last_expire_ms;
	bool frames_came; /* since the worker last waited: sleep (coalesce_us), not poll */
};

/* Creates the UMEM and the sockets and puts the receive socket into the
 * XSKMAP; 0 or -errno with a message in err. */
int xsk_worker_open(struct xsk_worker *w, const struct xsk_worker_config *cfg, char *err,
		    size_t errlen);

/* Starts the worker's thread (pinned when cfg.cpu >= 0); it runs until
 * *stop is set. 0 or -errno. */
int xsk_worker_start(struct xsk_worker *w, volatile sig_atomic_t *stop);
void xsk_worker_join(struct xsk_worker *w);
void xsk_worker_close(struct xsk_worker *w);

const char *xsk_worker_counter_name(unsigned i);
uint64_t xsk_worker_counter(const struct xsk_worker *w, unsigned i);
unsigned xsk_worker_counter_count(void);

#endif
