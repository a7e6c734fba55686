/* bench-trafficgen's second sender (docs/bench-xdp.md "Generators"): an
 * AF_PACKET socket with a PACKET_TX_RING, for kernels that refuse live
 * frames. The ring's slots hold the mix's frames, built once (slot s always
 * carries mix[s % MIX_LEN]); per frame only the call number is written at
 * the marks, then one send() hands the kernel a batch. The socket bypasses
 * the qdisc (PACKET_QDISC_BYPASS), binds to protocol 0 so it receives
 * nothing, and the frames go out through the veth like any other: the
 * receiving NAPI runs on this CPU when send() re-enables bottom halves,
 * as with live frames. */
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_tool.h"
#include "trafficgen.h"

#define RING_FRAME_SIZE 2048 /* > BENCH_TMPL_MAX + the slot header */
#define RING_BLOCK_SIZE (1 << 16)
#define RING_FRAMES     1024 /* a multiple of MIX_LEN: a slot keeps its template */
/* frame data starts here in a TPACKET_V2 TX slot (no PACKET_TX_HAS_OFF) */
#define RING_DATA_OFF TPACKET_ALIGN(sizeof(struct tpacket2_hdr))

_Static_assert(RING_FRAMES % MIX_LEN == 0, "a slot keeps its template");
_Static_assert(RING_DATA_OFF + BENCH_TMPL_MAX <= RING_FRAME_SIZE, "a frame fits its slot");
_Static_assert(BENCH_MARK_LEN == 16, "64-bit call numbers in hex");

struct tx_ring {
	int fd;
	uint8_t *map;
	size_t map_len;
};

static struct tpacket2_hdr *slot(const struct tx_ring *r, unsigned int i)
{
	return (struct tpacket2_hdr *)(r->map + (size_t)i * RING_FRAME_SIZE);
}

/* The socket, its ring mapped and every slot holding its template; 0 or
 * -errno with a message. */
static int ring_open(struct tx_ring *r, const struct gen_worker *w)
{
	struct tpacket_req req = {
		.tp_block_size = RING_BLOCK_SIZE,
		.tp_block_nr = RING_FRAMES * RING_FRAME_SIZE / RING_BLOCK_SIZE,
		.tp_frame_size = RING_FRAME_SIZE,
		.tp_frame_nr = RING_FRAMES,
	};
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_ifindex = w->ifindex };
	int v2 = TPACKET_V2, one = 1;
	const char *what;

	r->map = MAP_FAILED;
	r->fd = socket(AF_PACKET, SOCK_RAW, 0);
	what = "socket(AF_PACKET)";
	if (r->fd < 0)
		goto fail;
	what = "PACKET_VERSION";
	if (setsockopt(r->fd, SOL_PACKET, PACKET_VERSION, &v2, sizeof(v2)))
		goto fail;
	what = "PACKET_QDISC_BYPASS";
	if (setsockopt(r->fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)))
		goto fail;
	what = "PACKET_TX_RING";
	if (setsockopt(r->fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof(req)))
		goto fail;
	what = "bind";
	if (bind(r->fd, (struct sockaddr *)&sll, sizeof(sll)))
		goto fail;
	r->map_len = (size_t)req.tp_block_size * req.tp_block_nr;
	r->map = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	what = "mmap of the TX ring";
	if (r->map == MAP_FAILED)
		goto fail;
	for (unsigned int i = 0; i < RING_FRAMES; i++) {
		const struct bench_tmpl *t = &w->tmpl[mix[i % MIX_LEN].tmpl];

		memcpy((uint8_t *)slot(r, i) + RING_DATA_OFF, t->data, t->len);
		slot(r, i)->tp_len = t->len;
	}
	return 0;
fail:;
	int err = -errno;

	fprintf(stderr, "bench-trafficgen: cpu %d: %s: %s\n", w->cpu, what, strerror(errno));
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	return err;
}

static void ring_close(struct tx_ring *r)
{
	if (r->map != MAP_FAILED)
		munmap(r->map, r->map_len);
	if (r->fd >= 0)
		close(r->fd);
}

/* Hands the queued slots to the kernel. A blocking send() returns when
 * every queued frame has left (the veth frees them at once); ENOBUFS is a
 * frame the device did not take (it is back in the ring as available),
 * the others are still queued: send again. 0 or -errno. */
static int ring_flush(struct tx_ring *r, unsigned long long *refused)
{
	for (;;) {
		if (send(r->fd, NULL, 0, 0) >= 0)
			return 0;
		if (errno == ENOBUFS)
			++*refused;
		else if (errno != EINTR && errno != EAGAIN)
			return -errno;
	}
}

void *packet_worker_main(void *arg)
{
	struct gen_worker *w = arg;
	struct tx_ring r = { .fd = -1, .map = MAP_FAILED };
	unsigned long long n = 0, refused = 0;
	unsigned int head = 0;

	w->err = tool_pin(w->cpu);
	if (w->err)
		fprintf(stderr, "bench-trafficgen: cpu %d: %s\n", w->cpu, strerror(-w->err));
	else
		w->err = ring_open(&r, w);
	if (w->err)
		goto out;
	while (!__atomic_load_n(w->stop, __ATOMIC_RELAXED) && n < w->quota && tool_now() < w->deadline) {
		unsigned long long left = w->quota - n;
		unsigned int batch = left < w->batch ? (unsigned int)left : w->batch;

		for (unsigned int i = 0; i < batch; i++, n++, head = (head + 1) % RING_FRAMES) {
			struct tpacket2_hdr *h = slot(&r, head);
			const struct bench_tmpl *t = &w->tmpl[mix[head % MIX_LEN].tmpl];

			/* the previous flush waited for every frame: the slot is free */
			mix_apply_marks((uint8_t *)h + RING_DATA_OFF, t, mix_call(n, (unsigned int)w->cpu));
			w->bytes += t->len;
			__atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
		}
		w->err = ring_flush(&r, &refused);
		if (w->err) {
			fprintf(stderr, "bench-trafficgen: cpu %d: send: %s\n", w->cpu, strerror(-w->err));
			break;
		}
	}
	/* a frame the device refused is not sent; its bytes are not known
	 * exactly (the mix's average is close enough) */
	w->sent = n - refused;
	if (n)
		w->bytes -= refused * w->bytes / n;
	ring_close(&r);
out:
	__atomic_add_fetch(w->finished, 1, __ATOMIC_RELEASE);
	return NULL;
}
