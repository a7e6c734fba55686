// SPDX-License-Identifier: Apache-2.0
/* An AF_XDP worker (xsk_worker.h, docs/afxdp.md). */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "xsk_fill.h"
#include "xsk_worker.h"

#define BATCH 64

static const char *const counter_names[] = {
#define X(id, help) #id,
	XSK_WORKER_COUNTERS(X)
#undef X
};

unsigned xsk_worker_counter_count(void)
{
	return sizeof(counter_names) / sizeof(counter_names[0]);
}

const char *xsk_worker_counter_name(unsigned i)
{
	return i < xsk_worker_counter_count() ? counter_names[i] : "?";
}

uint64_t xsk_worker_counter(const struct xsk_worker *w, unsigned i)
{
	const uint64_t *v = (const uint64_t *)&w->c;

	return i < xsk_worker_counter_count() ? v[i] : 0;
}

static uint64_t frame_base(const struct xsk_worker *w, uint64_t addr)
{
	return addr & ~(uint64_t)(w->cfg.frame_size - 1);
}

static struct xsk_ring_prod *tx_ring(struct xsk_worker *w)
{
	return w->eg_xsk ? &w->eg_tx : &w->tx;
}

static struct xsk_ring_cons *comp_ring(struct xsk_worker *w)
{
	return w->eg_xsk ? &w->eg_comp : &w->comp;
}

static int tx_fd(const struct xsk_worker *w)
{
	return xsk_socket__fd(w->eg_xsk ? w->eg_xsk : w->xsk);
}

/* A WORKER frame onto the TX ring; kick_tx() submits what was put since
 * the last kick in one store. */
static bool tx_put(struct xsk_worker *w, uint64_t addr, uint32_t len)
{
	struct xsk_ring_prod *r = tx_ring(w);
	uint32_t idx;
	struct xdp_desc *d;

	if (xsk_ring_prod__reserve(r, 1, &idx) != 1) {
		w->c.tx_ring_full++;
		return false;
	}
	d = xsk_ring_prod__tx_desc(r, idx);
	d->addr = addr;
	d->len = len;
	d->options = 0;
	umem_frames_move(&w->frames, frame_base(w, addr), FRAME_WORKER, FRAME_KERNEL_TX);
	w->tx_unsubmitted++;
	w->tx_pending++;
	w->c.tx++;
	return true;
}

static void punt_to_kernel(struct xsk_worker *w, uint8_t *frame, size_t len)
{
	if (!w->cfg.tap) {
		w->c.punt_no_tap++;
		return;
	}
	if (punt_tap_write(w->cfg.tap, frame, len))
		w->c.punt_tap_failed++;
	else
		w->c.punt_tap++;
}

/* Held fragments leave here: copied into a free frame of ours. */
static void emit_frame(void *ctx, const uint8_t *frame, size_t len, enum pipeline_outcome o)
{
	struct xsk_worker *w = ctx;
	uint64_t addr = umem_frames_take(&w->frames, FRAME_WORKER);
	uint8_t *data;

	if (addr == UINT64_MAX || len > w->cfg.frame_size) {
		w->c.no_free_frame++;
		if (addr != UINT64_MAX)
			umem_frames_release(&w->frames, addr);
		return;
	}
	data = xsk_umem__get_data(w->umem_area, addr);
	memcpy(data, frame, len);
	if (o == PIPELINE_FORWARD) {
		if (tx_put(w, addr, (uint32_t)len))
			return;
	} else {
		punt_to_kernel(w, data, len);
	}
	umem_frames_release(&w->frames, addr);
}

static void reap_completions(struct xsk_worker *w)
{
	struct xsk_ring_cons *r = comp_ring(w);
	uint32_t idx, n = xsk_ring_cons__peek(r, 4 * BATCH, &idx);

	for (uint32_t i = 0; i < n; i++) {
		uint64_t addr = *xsk_ring_cons__comp_addr(r, idx + i);

		if (umem_frames_move(&w->frames, frame_base(w, addr), FRAME_KERNEL_TX, FRAME_FREE))
			w->c.tx_completed++;
	}
	if (n)
		xsk_ring_cons__release(r, n);
}

/* The fill ring is twice the RX ring and topped up before and after each
 * receive batch, so it cannot run dry while the RX ring has room
 * (xsk_fill.h). */
static void refill(struct xsk_worker *w)
{
	bool short_;

	xsk_fill_top_up(&w->fill, &w->frames, &short_);
	w->c.fill_short += short_;
}

/* Copy mode transmits inside sendto(), at most a few dozen frames a call
 * (the kernel's TX batch): kick until the ring is drained, a bounded
 * number of times, so one receive batch never leaves frames waiting. */
static void kick_tx(struct xsk_worker *w)
{
	struct xsk_ring_prod *r = tx_ring(w);

	if (w->tx_unsubmitted) {
		xsk_ring_prod__submit(r, w->tx_unsubmitted);
		w->tx_unsubmitted = 0;
	}
	if (!w->tx_pending)
		return;
	w->tx_pending = 0;
	if (!xsk_ring_prod__needs_wakeup(r))
		return;
	for (int i = 0; i < 8 && xsk_prod_nb_free(r, w->cfg.ring_size) < w->cfg.ring_size; i++) {
		w->c.tx_kicks++;
		if (sendto(tx_fd(w), NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 && errno != EAGAIN &&
		    errno != EBUSY && errno != ENOBUFS && errno != ENETDOWN)
			return;
	}
	/* still frames on the ring: kick again after the next batch */
	w->tx_pending = xsk_prod_nb_free(r, w->cfg.ring_size) < w->cfg.ring_size;
}

/* Where a received frame's data starts in the UMEM (the kernel put it
 * behind the headroom). */
static uint64_t desc_addr(const struct xdp_desc *d)
{
	return xsk_umem__extract_addr(d->addr) + xsk_umem__extract_offset(d->addr);
}

static void prefetch_frame(const struct xsk_worker *w, const struct xdp_desc *d)
{
	uint64_t addr = desc_addr(d);
	const uint8_t *p = xsk_umem__get_data(w->umem_area, addr);
	uint32_t len = d->len < 1024 ? d->len : 1024;

	if (addr >= w->umem_len)
		return; /* refused by rx_batch; nothing to warm */
	for (uint32_t off = 0; off < len; off += 64)
		__builtin_prefetch(p + off);
}

static uint32_t rx_batch(struct xsk_worker *w)
{
	uint32_t idx, n = xsk_ring_cons__peek(&w->rx, BATCH, &idx);

	for (uint32_t i = 0; i < n && i < 2; i++)
		prefetch_frame(w, xsk_ring_cons__rx_desc(&w->rx, idx + i));

	for (uint32_t i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&w->rx, idx + i);

		/* The kernel copied the next frame in on another CPU: start
		 * pulling its header block into this cache while this one runs. */
		if (i + 2 < n)
			prefetch_frame(w, xsk_ring_cons__rx_desc(&w->rx, idx + i + 2));
		uint64_t addr = desc_addr(d);
		uint64_t base = frame_base(w, addr);
		uint8_t *data;
		size_t len = d->len;

		/* a descriptor for a frame we did not give the kernel: counted, untouched */
		if (!umem_frames_move(&w->frames, base, FRAME_KERNEL_RX, FRAME_WORKER))
			continue;
		if (len > w->cfg.frame_size - (addr - base)) {
			umem_frames_release(&w->frames, base);
			w->frames.bad_addr++;
			continue;
		}
		w->c.rx++;
		data = xsk_umem__get_data(w->umem_area, addr);
		switch (pipeline_process(&w->pipe, data, &len, w->cfg.frame_size - (addr - base))) {
		case PIPELINE_FORWARD:
			if (tx_put(w, addr, (uint32_t)len))
				continue;
			break;
		case PIPELINE_PUNT:
		case PIPELINE_PASS:
			punt_to_kernel(w, data, len);
			break;
		default: /* DROP and HOLD (the pipeline keeps its own copy): counted there */
			break;
		}
		umem_frames_release(&w->frames, base);
	}
	if (n)
		xsk_ring_cons__release(&w->rx, n);
	return n;
}

static void clock_now(struct xsk_worker *w)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts); /* vDSO: no system call */
	w->pipe.now_s = (uint64_t)ts.tv_sec;
	w->pipe.now_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Nothing left to do: wait for frames. Woken per frame by poll(), or,
 * with coalesce_us while frames keep coming, asleep for a fixed interval
 * whatever arrives (the RX ring holds what comes meanwhile: 1024 frames,
 * ~1 Mpps at the 1000 µs maximum): one wake-up and one TX kick per
 * interval instead of per frame. An interval that brought nothing goes
 * back to poll(), so the first frame after a quiet spell wakes the
 * worker at once. */
static void wait_for_frames(struct xsk_worker *w, struct pollfd *pfd)
{
	if (w->cfg.coalesce_us && w->frames_came) {
		struct timespec ts = { .tv_nsec = (long)w->cfg.coalesce_us * 1000 };

		w->frames_came = false;
		w->c.coalesce_sleeps++;
		nanosleep(&ts, NULL);
		return;
	}
	w->frames_came = false;
	w->c.polls++;
	poll(pfd, 1, 20);
}

static void *worker_main(void *arg)
{
	struct xsk_worker *w = arg;
	struct pollfd pfd = { .fd = xsk_socket__fd(w->xsk), .events = POLLIN };
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t set;

	if (w->cfg.cpu >= 0) { /* pinned: CPU cpu + queue */
		CPU_ZERO(&set);
		CPU_SET((int)(((uint32_t)w->cfg.cpu + w->cfg.queue) % (uint32_t)(ncpu > 0 ? ncpu : 1)), &set);
		if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set))
			w->c.pin_failed++;
	}
	if (w->cfg.swap)
		gen_swap_quiescent(w->cfg.swap, w->cfg.queue); /* online */
	while (!*w->stop) {
		uint32_t n;

		if (w->cfg.swap) { /* one load per burst; adopting copies pointers */
			const struct pipeline_gen *g = gen_swap_read(w->cfg.swap, w->cfg.queue);

			if (g && g != w->gen) {
				pipeline_worker_adopt(&w->pipe, g);
				w->gen = g;
				w->c.generations++;
			}
		}
		clock_now(w);
		reap_completions(w);
		refill(w); /* what the kernel took while we were away (poll, TX kicks) */
		n = rx_batch(w);
		if (w->pipe.now_ms - w->last_expire_ms >= 10) { /* may release held fragments */
			pipeline_expire(&w->pipe, w->pipe.now_ms);
			w->last_expire_ms = w->pipe.now_ms;
		}
		kick_tx(w);
		refill(w);
		/* nothing of this burst's generation is held past here */
		if (w->cfg.swap)
			gen_swap_quiescent(w->cfg.swap, w->cfg.queue);
		w->frames_came |= n > 0;
		if (!n && !w->tx_pending)
			wait_for_frames(w, &pfd);
	}
	if (w->cfg.swap)
		gen_swap_offline(w->cfg.swap, w->cfg.queue);
	/* what is on the TX ring leaves before the sockets close (≤ 200 ms) */
	for (int i = 0; i < 200 && w->c.tx_completed < w->c.tx; i++) {
		w->tx_pending = 1;
		kick_tx(w);
		reap_completions(w);
		if (w->c.tx_completed < w->c.tx)
			usleep(1000);
	}
	return NULL;
}

#define HUGE_2M (2u << 20)

/* The UMEM, on transparent huge pages where the kernel gives them: each
 * frame the pipeline reads is then one TLB entry away instead of a page
 * walk. Over-allocated by 2 MiB to align it; base and maplen are what to unmap. */
static void *umem_map(size_t len, void **base, size_t *maplen)
{
	uint8_t *p = mmap(NULL, len + HUGE_2M, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			  -1, 0);
	uint8_t *a;

	if (p == MAP_FAILED)
		return NULL;
	a = (uint8_t *)(((uintptr_t)p + HUGE_2M - 1) & ~(uintptr_t)(HUGE_2M - 1));
	madvise(a, len, MADV_HUGEPAGE); /* best effort */
	memset(a, 0, len);              /* fault it in now, not on the first packets */
	*base = p;
	*maplen = len + HUGE_2M;
	return a;
}

int xsk_worker_open(struct xsk_worker *w, const struct xsk_worker_config *cfg, char *err,
		    size_t errlen)
{
	struct xsk_umem_config ucfg = {
		.fill_size = xsk_fill_size(cfg->ring_size), .comp_size = cfg->ring_size,
		.frame_size = cfg->frame_size, .frame_headroom = 0, .flags = 0,
	};
	struct xsk_socket_config scfg = {
		.rx_size = cfg->ring_size, .tx_size = cfg->ring_size,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_USE_NEED_WAKEUP | (cfg->copy_only ? XDP_COPY : 0) |
			      (cfg->zero_copy_only ? XDP_ZEROCOPY : 0),
	};
	bool two_armed = cfg->egress && strcmp(cfg->egress, cfg->ifname) != 0;
	struct xdp_options opts;
	socklen_t optlen = sizeof(opts);
	int rc;

	memset(w, 0, sizeof(*w));
	w->cfg = *cfg;
	w->umem_len = (size_t)cfg->frames * cfg->frame_size;
	w->umem_area = umem_map(w->umem_len, &w->map_base, &w->map_len);
	if (!w->umem_area) {
		rc = -errno;
		snprintf(err, errlen, "queue %u: UMEM of %zu bytes: %s", cfg->queue, w->umem_len,
			 strerror(errno));
		return rc;
	}
	rc = umem_frames_init(&w->frames, cfg->frames, cfg->frame_size);
	if (!rc)
		rc = xsk_umem__create(&w->umem, w->umem_area, w->umem_len, &w->fill, &w->comp, &ucfg);
	if (rc) {
		snprintf(err, errlen, "queue %u: UMEM: %s%s", cfg->queue, strerror(-rc),
			 rc == -EPERM || rc == -ENOMEM ? " (locked memory: run as root, or raise ulimit -l)" : "");
		goto fail;
	}
	if (two_armed)
		rc = xsk_socket__create(&w->xsk, cfg->ifname, cfg->queue, w->umem, &w->rx, NULL, &scfg);
	else
		rc = xsk_socket__create(&w->xsk, cfg->ifname, cfg->queue, w->umem, &w->rx, &w->tx, &scfg);
	if (rc) {
		snprintf(err, errlen, "%s queue %u: AF_XDP socket: %s%s", cfg->ifname, cfg->queue,
			 strerror(-rc), rc == -EOPNOTSUPP && cfg->zero_copy_only ?
			 " (the driver has no zero-copy mode: drop --zero-copy)" : "");
		goto fail;
	}
	if (two_armed) {
		rc = xsk_socket__create_shared(&w->eg_xsk, cfg->egress, cfg->queue, w->umem, NULL,
					       &w->eg_tx, &w->eg_fill, &w->eg_comp, &scfg);
		if (rc) {
			snprintf(err, errlen, "--egress %s queue %u: AF_XDP socket: %s%s", cfg->egress,
				 cfg->queue, strerror(-rc), rc == -EINVAL ?
				 " (does it have as many queues as the receiving interface?)" : "");
			goto fail;
		}
	}
	if (getsockopt(xsk_socket__fd(w->xsk), SOL_XDP, XDP_OPTIONS, &opts, &optlen) == 0)
		w->zero_copy = opts.flags & XDP_OPTIONS_ZEROCOPY;
	rc = pipeline_worker_init(&w->pipe, cfg->tables);
	if (rc) {
		snprintf(err, errlen, "queue %u: pipeline: %s", cfg->queue, strerror(-rc));
		goto fail;
	}
	w->pipe.emit = emit_frame;
	w->pipe.emit_ctx = w;
	w->pipe.grace_calls = cfg->grace_calls;
	w->pipe.nh = w->pipe.own->nh = cfg->next_hops;
	w->gen = w->pipe.own;
	refill(w);
	w->c.fill_short = 0; /* the first fill is meant to leave frames free */
	rc = xsk_socket__update_xskmap(w->xsk, cfg->xsks_map_fd);
	if (rc) {
		snprintf(err, errlen, "queue %u: into the XSKMAP: %s", cfg->queue, strerror(-rc));
		goto fail;
	}
	return 0;
fail:
	xsk_worker_close(w);
	return rc;
}

int xsk_worker_start(struct xsk_worker *w, volatile sig_atomic_t *stop)
{
	char name[16];
	int rc;

	w->stop = stop;
	rc = pthread_create(&w->thread, NULL, worker_main, w);
	w->started = rc == 0;
	/* named so that a bench finds its CPU in /proc/PID/task (bench/sipp) */
	snprintf(name, sizeof(name), "siphon-xsk%u", w->cfg.queue % 1000);
	if (w->started)
		pthread_setname_np(w->thread, name);
	return -rc;
}

void xsk_worker_join(struct xsk_worker *w)
{
	if (w->started)
		pthread_join(w->thread, NULL);
	w->started = false;
}

void xsk_worker_close(struct xsk_worker *w)
{
	if (w->eg_xsk)
		xsk_socket__delete(w->eg_xsk);
	if (w->xsk)
		xsk_socket__delete(w->xsk); /* also leaves the XSKMAP */
	if (w->umem)
		xsk_umem__delete(w->umem);
	if (w->map_base)
		munmap(w->map_base, w->map_len);
	w->map_base = NULL;
	w->eg_xsk = w->xsk = NULL;
	w->umem = NULL;
	w->umem_area = NULL;
	pipeline_worker_free(&w->pipe);
	umem_frames_free(&w->frames);
}
