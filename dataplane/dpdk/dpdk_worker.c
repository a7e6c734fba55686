/* The hot loop of siphon --io dpdk (dpdk_worker.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "dpdk_worker.h"

static const char *const counter_names[] = {
#define X(id, help) #id,
	DPDK_WORKER_COUNTERS(X)
#undef X
};

/* Sends the port's batch; what the queue does not take is dropped and
 * counted (the next burst would only find it fuller). */
static void tx_flush(struct dpdk_worker *w, unsigned pi)
{
	struct dpdk_tx_batch *b = &w->tx[pi];
	uint16_t sent;

	if (!b->n)
		return;
	sent = rte_eth_tx_burst(w->ports->id[pi], w->queue, b->m, b->n);
	w->c.tx += sent;
	if (unlikely(sent < b->n)) {
		w->c.tx_full += b->n - sent;
		rte_pktmbuf_free_bulk(&b->m[sent], b->n - sent);
	}
	b->n = 0;
}

static void tx_put(struct dpdk_worker *w, unsigned pi, struct rte_mbuf *m)
{
	struct dpdk_tx_batch *b = &w->tx[pi];

	b->m[b->n++] = m;
	if (b->n == DPDK_BURST)
		tx_flush(w, pi);
}

/* A punted or passed frame to the kernel, as it is (the TAP carries the
 * port's MAC); the caller keeps the frame. */
static void to_kernel(struct dpdk_worker *w, const uint8_t *frame, size_t len)
{
	if (likely(w->tap && punt_tap_give(w->tap, frame, len) == 0))
		w->c.to_kernel++;
	else
		w->c.to_kernel_dropped++;
}

/* What the kernel sent on the exception interface, out of port 0 (worker
 * 0 only): at most a burst of reads, each straight into an mbuf. Frames
 * stay in the TAP's queue while the pool has no mbuf. The frames taken. */
static unsigned from_kernel(struct dpdk_worker *w)
{
	unsigned got = 0;

	while (got < DPDK_BURST) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(w->ports->pool);
		ssize_t n;

		if (unlikely(!m))
			break;
		n = punt_tap_read(w->tap, rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_tailroom(m));
		if (n <= 0) {
			rte_pktmbuf_free(m);
			if (n == 0)
				break;
			w->c.from_kernel_dropped++;
			got++; /* a frame was taken off the queue */
			continue;
		}
		m->data_len = (uint16_t)n;
		m->pkt_len = (uint32_t)n;
		w->c.from_kernel++;
		got++;
		tx_put(w, 0, m);
	}
	w->tap_backlog = got == DPDK_BURST;
	return got;
}

/* pipeline_emit_fn: a held fragment released by the frame being processed
 * leaves before that frame, out of the same port, from an mbuf of its own
 * (the pipeline keeps its copy until emit returns). */
static void emit_frame(void *ctx, const uint8_t *frame, size_t len, enum pipeline_outcome o)
{
	struct dpdk_worker *w = ctx;
	struct rte_mbuf *m;

	if (o != PIPELINE_FORWARD) {
		to_kernel(w, frame, len);
		return;
	}
	m = rte_pktmbuf_alloc(w->ports->pool);
	if (unlikely(!m || len > rte_pktmbuf_tailroom(m))) {
		rte_pktmbuf_free(m);
		w->c.emit_no_mbuf++;
		return;
	}
	memcpy(rte_pktmbuf_mtod(m, uint8_t *), frame, len);
	m->data_len = (uint16_t)len;
	m->pkt_len = (uint32_t)len;
	tx_put(w, w->emit_port, m);
}

/* The forwarded frame src[0..len) back into m's chain: its segments
 * refilled in order, the ones left over freed, one more from the pool when
 * encap made it longer than the chain holds. 0, or -ENOBUFS (m untouched
 * in length: the caller frees it). */
static int chain_write(struct dpdk_worker *w, struct rte_mbuf *m, const uint8_t *src, size_t len)
{
	struct rte_mbuf *seg = m, *last = NULL;
	uint16_t segs = 0;
	size_t off = 0;

	while (seg && off < len) {
		size_t n = RTE_MIN(len - off, (size_t)(seg->buf_len - seg->data_off));

		memcpy(rte_pktmbuf_mtod(seg, uint8_t *), src + off, n);
		seg->data_len = (uint16_t)n;
		off += n;
		last = seg;
		seg = seg->next;
		segs++;
	}
	if (seg) { /* shorter than it came: the rest of the chain goes back */
		last->next = NULL;
		rte_pktmbuf_free(seg);
	}
	while (off < len) { /* longer: bounded by the 64 KiB frame */
		struct rte_mbuf *more = rte_pktmbuf_alloc(w->ports->pool);
		size_t n;

		if (unlikely(!more))
			return -ENOBUFS;
		n = RTE_MIN(len - off, (size_t)rte_pktmbuf_tailroom(more));
		memcpy(rte_pktmbuf_mtod(more, uint8_t *), src + off, n);
		more->data_len = (uint16_t)n;
		off += n;
		last->next = more;
		last = more;
		segs++;
	}
	m->nb_segs = segs;
	m->pkt_len = (uint32_t)len;
	return 0;
}

/* The pipeline on a frame spread over a chain of mbufs, made whole in
 * the worker's buffer first (jumbo frames: the pipeline reads one). */
static enum pipeline_outcome process_chain(struct dpdk_worker *w, struct rte_mbuf *m,
					   size_t *linear_len)
{
	size_t len = RTE_MIN((size_t)rte_pktmbuf_pkt_len(m), (size_t)DPDK_LINEAR_MAX - REWRITE_ENCAP_MAX);
	enum pipeline_outcome o;

	w->c.multi_segment++;
	rte_pktmbuf_read(m, 0, (uint32_t)len, w->linear); /* copies: the chain is not one run */
	o = pipeline_process(&w->pipe, w->linear, &len, DPDK_LINEAR_MAX);
	*linear_len = len;
	if (o == PIPELINE_FORWARD && chain_write(w, m, w->linear, len)) {
		w->c.multi_segment_no_mbuf++;
		return PIPELINE_DROP;
	}
	return o;
}

/* One frame: its verdict, and the mbuf transmitted or freed. */
static void handle(struct dpdk_worker *w, unsigned pi, struct rte_mbuf *m)
{
	size_t len = rte_pktmbuf_data_len(m);
	const uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	enum pipeline_outcome o;

	w->c.rx++;
	w->emit_port = (uint16_t)(w->ports->egress >= 0 ? (unsigned)w->ports->egress : pi);
	if (likely(m->nb_segs == 1)) {
		/* the room behind the frame lets encap grow it in place */
		o = pipeline_process(&w->pipe, rte_pktmbuf_mtod(m, uint8_t *), &len,
				     len + rte_pktmbuf_tailroom(m));
		m->data_len = (uint16_t)len;
		m->pkt_len = (uint32_t)len;
	} else {
		o = process_chain(w, m, &len);
		frame = w->linear; /* the whole frame, as the pipeline left it */
	}
	switch (o) {
	case PIPELINE_FORWARD:
		tx_put(w, w->emit_port, m);
		return;
	case PIPELINE_PUNT:
	case PIPELINE_PASS:
		to_kernel(w, frame, len);
		break;
	default: /* DROP, and HOLD (the pipeline kept a copy): counted there */
		break;
	}
	rte_pktmbuf_free(m);
}

/* The frames received. */
static unsigned rx_burst(struct dpdk_worker *w, unsigned pi)
{
	struct rte_mbuf *m[DPDK_BURST];
	uint16_t n = rte_eth_rx_burst(w->ports->id[pi], w->queue, m, DPDK_BURST);

	for (uint16_t i = 0; i < n && i < DPDK_PREFETCH; i++)
		rte_prefetch0(rte_pktmbuf_mtod(m[i], void *));
	for (uint16_t i = 0; i < n; i++) {
		/* the SIP header block is what the scan reads first */
		if (i + DPDK_PREFETCH < n)
			rte_prefetch0(rte_pktmbuf_mtod(m[i + DPDK_PREFETCH], void *));
		handle(w, pi, m[i]);
	}
	return n;
}

static uint64_t clock_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts); /* vDSO: no system call */
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* After each loop, once its quiescent state is announced (a sleeping worker
 * holds no generation: a swap waits for it one sleep at most). A loop that
 * filled half a burst puts the worker back to full polling. After
 * DPDK_IDLE_LOOPS empty loops in a row it sleeps, each sleep after an empty
 * loop twice the last, up to its bound; a loop with a few frames (light
 * load, as OVS-DPDK's PMD sleep counts it) sleeps as long as the last
 * instead of spinning up again for each call's message. What is batched
 * leaves first: no frame waits out a sleep. True: it slept. */
static bool idle_back_off(struct dpdk_worker *w, unsigned frames)
{
	const unsigned n_ports = w->ports->n;

	if (likely(frames >= DPDK_BURST / 2)) {
		w->empty_loops = 0;
		w->next_sleep_us = DPDK_IDLE_SLEEP_MIN_US;
		return false;
	}
	if (!frames) {
		w->c.empty_polls++;
		w->empty_loops += w->empty_loops < DPDK_IDLE_LOOPS;
	}
	if (!w->idle_sleep_max_us || w->empty_loops < DPDK_IDLE_LOOPS)
		return false;
	for (unsigned pi = 0; pi < n_ports; pi++) {
		w->c.drains += w->tx[pi].n != 0;
		tx_flush(w, pi);
	}
	w->next_sleep_us = RTE_MAX(w->next_sleep_us, (unsigned)DPDK_IDLE_SLEEP_MIN_US);
	w->next_sleep_us = RTE_MIN(w->next_sleep_us, w->idle_sleep_max_us);
	w->c.idle_sleeps++;
	w->c.idle_sleep_us += w->next_sleep_us;
	rte_delay_us_sleep(w->next_sleep_us); /* nanosleep: the CPU is free meanwhile */
	if (!frames)
		w->next_sleep_us *= 2;
	return true;
}

int dpdk_worker_run(void *arg)
{
	struct dpdk_worker *w = arg;
	const unsigned n_ports = w->ports->n;
	uint64_t now_us = clock_us(), last_drain_us = now_us;
	const uint64_t deadline_us = w->seconds ? now_us + (uint64_t)w->seconds * 1000000 : 0;
	unsigned frames;

	if (w->swap)
		gen_swap_quiescent(w->swap, w->queue); /* online */
	while (!*w->stop) {
		if (w->swap) { /* one load per loop; adopting copies pointers */
			const struct pipeline_gen *g = gen_swap_read(w->swap, w->queue);

			if (g && g != w->gen) {
				pipeline_worker_adopt(&w->pipe, g);
				w->gen = g;
				w->c.generations++;
			}
		}
		w->pipe.now_s = now_us / 1000000;
		w->pipe.now_ms = now_us / 1000;
		frames = 0;
		for (unsigned pi = 0; pi < n_ports; pi++)
			if ((int)pi != w->ports->egress) /* the egress port is sent on only */
				frames += rx_burst(w, pi);
		now_us = clock_us();
		/* the kernel's side: a read a drain period when idle, not one a loop */
		if (w->tap && w->queue == 0 &&
		    (w->tap_backlog || now_us - w->last_tap_us >= DPDK_DRAIN_US)) {
			frames += from_kernel(w);
			w->last_tap_us = now_us;
		}
		if (now_us - last_drain_us >= DPDK_DRAIN_US) {
			for (unsigned pi = 0; pi < n_ports; pi++) {
				w->c.drains += w->tx[pi].n != 0;
				tx_flush(w, pi);
			}
			last_drain_us = now_us;
		}
		if (w->pipe.now_ms - w->last_expire_ms >= DPDK_EXPIRE_MS) {
			pipeline_expire(&w->pipe, w->pipe.now_ms); /* may release held fragments */
			w->last_expire_ms = w->pipe.now_ms;
		}
		if (unlikely(deadline_us && now_us >= deadline_us))
			*w->stop = 1;
		/* nothing of this loop's generation is held past here */
		if (w->swap)
			gen_swap_quiescent(w->swap, w->queue);
		if (idle_back_off(w, frames))
			now_us = clock_us();
	}
	/* the end, as --io pcap ends a replay: what is still held timed out */
	pipeline_expire(&w->pipe, w->pipe.now_ms + 3600 * 1000);
	for (unsigned pi = 0; pi < n_ports; pi++)
		tx_flush(w, pi);
	if (w->swap)
		gen_swap_offline(w->swap, w->queue);
	return 0;
}

int dpdk_worker_init(struct dpdk_worker *w, const struct dpdk_ports *p, uint16_t queue,
		     const struct compiled_tables *t, struct grace_calls *gc,
		     const struct punt_tap *tap)
{
	int rc;

	memset(w, 0, sizeof(*w));
	w->ports = p;
	w->queue = queue;
	w->tap = tap;
	w->linear = malloc(DPDK_LINEAR_MAX);
	if (!w->linear)
		return -ENOMEM;
	rc = pipeline_worker_init(&w->pipe, t);
	if (rc) {
		free(w->linear);
		return rc;
	}
	w->pipe.emit = emit_frame;
	w->pipe.emit_ctx = w;
	w->pipe.grace_calls = gc;
	return 0;
}

void dpdk_worker_free(struct dpdk_worker *w)
{
	free(w->linear);
	pipeline_worker_free(&w->pipe);
}

const char *dpdk_worker_counter_name(unsigned i)
{
	return i < dpdk_worker_counter_count() ? counter_names[i] : NULL;
}

uint64_t dpdk_workers_counter(const struct dpdk_worker *w, unsigned n, unsigned i)
{
	uint64_t sum = 0;

	for (unsigned k = 0; i < dpdk_worker_counter_count() && k < n; k++)
		sum += (&w[k].c.rx)[i];
	return sum;
}

unsigned dpdk_worker_counter_count(void)
{
	return sizeof(counter_names) / sizeof(counter_names[0]);
}
