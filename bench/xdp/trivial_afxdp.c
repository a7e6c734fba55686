/* bench-trivial-afxdp: the AF_XDP lane's baseline (docs/bench-xdp.md).
 *
 *   bench-trivial-afxdp [--iface IF] [--egress IF] [--queues N] [--cpu C]
 *                       [--node-mac MAC] [--src-mac MAC] [--seconds S]
 *
 * The least an AF_XDP balancer does: trivial_xsk.bpf.c (natively on --iface,
 * default sph-lb-c; run it in sph-lb) sends every frame to the AF_XDP socket
 * of its receive queue, one socket per queue for the first N queues
 * (default all), copy mode. One thread (pinned to CPU C if given) takes
 * every frame, sets the node MAC (default b1's) and the balancer's MAC, and
 * queues it on a TX socket on --egress (default sph-lb-core, queue 0) that
 * shares the UMEM: no copy in user space. Prints {"event":"ready"}, runs
 * until SIGINT/SIGTERM or S seconds (default 60), prints its counters,
 * detaches and exits.
 *
 * Every UMEM frame has one owner at a time (user space, a fill ring and
 * the kernel's RX, or TX until its completion); a descriptor that names a
 * frame the kernel does not own is counted as "bad_desc" and skipped, and
 * frame 0 is never handed out (docs/lab.md). */
#include <getopt.h>
#include <linux/if_link.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <dirent.h>
#include <unistd.h>

#include <xdp/xsk.h>

#include "bench_tool.h"
#include "trivial_xsk.skel.h"

#define FRAME_SIZE  2048
#define NUM_FRAMES  8192
#define RING_SIZE   2048
#define BATCH       64
#define MAX_QUEUES  16

enum frame_owner { OWN_USER, OWN_FILL, OWN_TX };

struct options {
	struct fwd_options f; /* bench_tool.h */
	unsigned long long queues, cpu;
	int pin;
};

struct rxq {
	struct xsk_socket *xsk;
	struct xsk_ring_cons rx;
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp; /* unused: this socket never sends */
};

struct fwd {
	void *area;
	struct xsk_umem *umem;
	struct rxq q[MAX_QUEUES];
	unsigned int n_q;
	struct xsk_socket *tx_xsk;
	struct xsk_ring_prod tx, tx_fill; /* tx_fill stays empty */
	struct xsk_ring_cons tx_comp;
	unsigned char owner[NUM_FRAMES];
	__u64 free[NUM_FRAMES];
	unsigned int n_free;
	unsigned char node_mac[6], src_mac[6];
	unsigned long long rx, tx_sent, tx_full, completed, bad_desc, kicks;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: bench-trivial-afxdp [--iface IF] [--egress IF] [--queues N] [--cpu C]\n"
		   "                           [--node-mac MAC] [--src-mac MAC] [--seconds S]\n"
		   "  AF_XDP (copy mode) from every queue of IF (%s) to queue 0 of egress (%s),\n"
		   "  MACs set, for S seconds (default 60) or until SIGINT/SIGTERM\n",
		LAB_IF_LB_IN, LAB_IF_LB_CORE);
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		FWD_LONG_OPTIONS,
		{ "queues", required_argument, NULL, 'q' }, { "cpu", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	int c, err = 0;

	*o = (struct options){ 0 };
	fwd_defaults(&o->f);
	while (!err && (c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'q': err = tool_parse_u64("--queues", optarg, 1, MAX_QUEUES, &o->queues); break;
		case 'c':
			err = tool_parse_u64("--cpu", optarg, 0, CPU_SETSIZE - 1, &o->cpu);
			o->pin = 1;
			break;
		case 'h': usage(stdout); exit(0);
		default:
			err = fwd_option(&o->f, c, optarg);
			if (err > 0) {
				usage(stderr);
				return -EINVAL;
			}
		}
	}
	if (!err && optind < argc) {
		fprintf(stderr, "bench-trivial-afxdp: unexpected argument '%s'\n", argv[optind]);
		err = -EINVAL;
	}
	return err;
}

/* The interface's RX queues, from /sys/class/net/IF/queues (ip netns exec
 * mounts the namespace's /sys). */
static unsigned int rx_queues(const char *iface)
{
	char path[128];
	struct dirent *e;
	unsigned int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", iface);
	d = opendir(path);
	if (!d)
		return 1;
	while ((e = readdir(d)))
		n += strncmp(e->d_name, "rx-", 3) == 0;
	closedir(d);
	return n ? n : 1;
}

static __u64 frame_of(__u64 addr)
{
	return addr / FRAME_SIZE;
}

static void refill(struct fwd *f, struct rxq *q)
{
	unsigned int n = xsk_prod_nb_free(&q->fill, f->n_free), idx;

	if (n > f->n_free)
		n = f->n_free;
	if (!n || xsk_ring_prod__reserve(&q->fill, n, &idx) != n)
		return;
	for (unsigned int i = 0; i < n; i++) {
		__u64 a = f->free[--f->n_free];

		f->owner[frame_of(a)] = OWN_FILL;
		*xsk_ring_prod__fill_addr(&q->fill, idx + i) = a;
	}
	xsk_ring_prod__submit(&q->fill, n);
}

static void complete(struct fwd *f)
{
	unsigned int idx, n = xsk_ring_cons__peek(&f->tx_comp, RING_SIZE, &idx);

	for (unsigned int i = 0; i < n; i++) {
		__u64 a = *xsk_ring_cons__comp_addr(&f->tx_comp, idx + i);
		__u64 fr = frame_of(a);

		if (fr == 0 || fr >= NUM_FRAMES || f->owner[fr] != OWN_TX) {
			f->bad_desc++;
			continue;
		}
		f->owner[fr] = OWN_USER;
		f->free[f->n_free++] = fr * FRAME_SIZE;
	}
	xsk_ring_cons__release(&f->tx_comp, n);
	f->completed += n;
}

static void forward(struct fwd *f, struct rxq *q)
{
	unsigned int ridx, tidx = 0, n = xsk_ring_cons__peek(&q->rx, BATCH, &ridx), room, sent = 0;

	if (!n)
		return;
	/* reserve is all or nothing: ask for what is free */
	room = xsk_prod_nb_free(&f->tx, n);
	if (room > n)
		room = n;
	if (room)
		room = xsk_ring_prod__reserve(&f->tx, room, &tidx);
	for (unsigned int i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&q->rx, ridx + i);
		__u64 fr = frame_of(d->addr);
		unsigned char *p;

		if (fr == 0 || fr >= NUM_FRAMES || f->owner[fr] != OWN_FILL) {
			f->bad_desc++;
			continue;
		}
		if (sent == room || d->len < 14) { /* TX ring full: drop */
			f->tx_full++;
			f->owner[fr] = OWN_USER;
			f->free[f->n_free++] = fr * FRAME_SIZE;
			continue;
		}
		p = xsk_umem__get_data(f->area, d->addr);
		memcpy(p, f->node_mac, 6);
		memcpy(p + 6, f->src_mac, 6);
		f->owner[fr] = OWN_TX;
		xsk_ring_prod__tx_desc(&f->tx, tidx + sent)->addr = d->addr;
		xsk_ring_prod__tx_desc(&f->tx, tidx + sent)->len = d->len;
		sent++;
	}
	xsk_ring_cons__release(&q->rx, n);
	f->rx += n;
	if (sent < room) /* give back the slots not used (xsk_ring_prod__cancel) */
		f->tx.cached_prod -= room - sent;
	xsk_ring_prod__submit(&f->tx, sent);
	f->tx_sent += sent;
}

/* Copy mode sends in the sendto() call, a few dozen frames each. */
static void kick(struct fwd *f)
{
	for (int i = 0; i < 8; i++) {
		if (xsk_prod_nb_free(&f->tx, RING_SIZE) == RING_SIZE)
			return;
		f->kicks++;
		if (sendto(xsk_socket__fd(f->tx_xsk), NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 &&
		    errno != EAGAIN && errno != EBUSY && errno != ENOBUFS && errno != ENETDOWN)
			return;
	}
}

static int setup(struct fwd *f, const struct options *o, int xsks_fd)
{
	const struct xsk_umem_config ucfg = {
		.fill_size = RING_SIZE, .comp_size = RING_SIZE,
		.frame_size = FRAME_SIZE, .frame_headroom = 0,
	};
	const struct xsk_socket_config scfg = {
		.rx_size = RING_SIZE, .tx_size = RING_SIZE,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_COPY | XDP_USE_NEED_WAKEUP,
	};
	int err;

	f->area = mmap(NULL, (size_t)NUM_FRAMES * FRAME_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (f->area == MAP_FAILED) {
		f->area = NULL;
		return -errno;
	}
	/* the first socket uses the UMEM's own fill and completion rings */
	err = xsk_umem__create(&f->umem, f->area, (__u64)NUM_FRAMES * FRAME_SIZE, &f->q[0].fill,
			       &f->q[0].comp, &ucfg);
	if (err) {
		fprintf(stderr, "bench-trivial-afxdp: umem: %s\n", strerror(-err));
		return err;
	}
	for (unsigned int i = 0; i < f->n_q; i++) {
		struct rxq *q = &f->q[i];

		err = i == 0 ? xsk_socket__create(&q->xsk, o->f.iface, i, f->umem, &q->rx, NULL, &scfg)
			     : xsk_socket__create_shared(&q->xsk, o->f.iface, i, f->umem, &q->rx, NULL,
							 &q->fill, &q->comp, &scfg);
		if (err) {
			fprintf(stderr, "bench-trivial-afxdp: socket %s queue %u: %s\n", o->f.iface, i,
				strerror(-err));
			return err;
		}
		if (xsk_socket__update_xskmap(q->xsk, xsks_fd)) {
			err = -errno;
			fprintf(stderr, "bench-trivial-afxdp: xskmap[%u]: %s\n", i, strerror(-err));
			return err;
		}
	}
	err = xsk_socket__create_shared(&f->tx_xsk, o->f.egress, 0, f->umem, NULL, &f->tx, &f->tx_fill,
					&f->tx_comp, &scfg);
	if (err) {
		fprintf(stderr, "bench-trivial-afxdp: TX socket %s queue 0: %s\n", o->f.egress,
			strerror(-err));
		return err;
	}
	/* frame 0 is never used */
	for (unsigned int fr = NUM_FRAMES - 1; fr >= 1; fr--)
		f->free[f->n_free++] = (__u64)fr * FRAME_SIZE;
	for (unsigned int i = 0; i < f->n_q; i++)
		refill(f, &f->q[i]);
	return 0;
}

static void teardown(struct fwd *f)
{
	if (f->tx_xsk)
		xsk_socket__delete(f->tx_xsk);
	for (unsigned int i = 0; i < f->n_q; i++)
		if (f->q[i].xsk)
			xsk_socket__delete(f->q[i].xsk);
	if (f->umem)
		xsk_umem__delete(f->umem);
	if (f->area)
		munmap(f->area, (size_t)NUM_FRAMES * FRAME_SIZE);
}

int main(int argc, char **argv)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, ours);
	const __u32 mode = XDP_FLAGS_DRV_MODE;
	struct trivial_xsk_bpf *skel;
	struct fwd *f;
	struct options o;
	int ifindex, egress, prog_fd, err, sig = 0, attached = 0;
	double t0, deadline;
	sigset_t sigs;
	struct timespec zero_ts = { 0, 0 };

	if (parse_args(argc, argv, &o))
		return 2;
	ifindex = tool_ifindex("--iface", o.f.iface);
	egress = tool_ifindex("--egress", o.f.egress);
	if (ifindex < 0 || egress < 0)
		return 1;
	if (!o.queues)
		o.queues = rx_queues(o.f.iface);
	tool_block_signals(&sigs);
	if (o.pin && tool_pin((int)o.cpu))
		fprintf(stderr, "bench-trivial-afxdp: warning: cannot pin to CPU %llu\n", o.cpu);

	f = calloc(1, sizeof(*f));
	if (!f)
		return 1;
	f->n_q = (unsigned int)o.queues;
	memcpy(f->node_mac, o.f.node_mac, 6);
	memcpy(f->src_mac, o.f.src_mac, 6);

	skel = trivial_xsk_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "bench-trivial-afxdp: load: %s\n", strerror(errno));
		free(f);
		return 1;
	}
	err = setup(f, &o, bpf_map__fd(skel->maps.xsks));
	if (err)
		goto out;
	prog_fd = bpf_program__fd(skel->progs.trivial_xsk);
	err = bpf_xdp_attach(ifindex, prog_fd, mode | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
	if (err) {
		fprintf(stderr, "bench-trivial-afxdp: attach to %s: %s\n", o.f.iface, strerror(-err));
		goto out;
	}
	attached = 1;
	printf("{\"event\":\"ready\",\"tool\":\"trivial-afxdp\",\"iface\":\"%s\",\"queues\":%u,"
	       "\"egress\":\"%s\"}\n", o.f.iface, f->n_q, o.f.egress);
	fflush(stdout);

	t0 = tool_now();
	deadline = t0 + (double)o.f.seconds;
	alarm((unsigned int)o.f.seconds + 5);
	for (unsigned long loop = 0;; loop++) {
		for (unsigned int i = 0; i < f->n_q; i++)
			forward(f, &f->q[i]);
		kick(f);
		complete(f);
		for (unsigned int i = 0; i < f->n_q; i++)
			refill(f, &f->q[i]);
		if ((loop & 1023) == 0) { /* control work every 1024 loops */
			sig = sigtimedwait(&sigs, NULL, &zero_ts);
			if (sig > 0 || tool_now() >= deadline)
				break;
		}
	}
	printf("{\"event\":\"end\",\"tool\":\"trivial-afxdp\",\"seconds\":%.3f,\"rx\":%llu,"
	       "\"tx\":%llu,\"completed\":%llu,\"tx_full\":%llu,\"bad_desc\":%llu,\"kicks\":%llu,"
	       "\"signal\":%d}\n",
	       tool_now() - t0, f->rx, f->tx_sent, f->completed, f->tx_full, f->bad_desc, f->kicks,
	       sig > 0 ? sig : 0);
	fflush(stdout);
out:
	if (attached) {
		ours.old_prog_fd = prog_fd;
		if (bpf_xdp_detach(ifindex, mode | XDP_FLAGS_REPLACE, &ours))
			fprintf(stderr, "bench-trivial-afxdp: detach from %s failed\n", o.f.iface);
	}
	teardown(f);
	trivial_xsk_bpf__destroy(skel);
	free(f);
	return err ? 1 : 0;
}
