/* bench-sink: counts what the balancer forwards (docs/bench-xdp.md).
 *
 *   bench-sink [--iface IF] [--node-mac MAC]... [--max-seconds S]
 *
 * Attaches sink.bpf.c natively to IF (default sph-sw-lb, run it in sph-sw)
 * in place of what is there, and remembers that program. Prints
 * {"event":"ready",...}, then one {"event":"mark",...} line with the
 * counters and the time on every SIGUSR1, so that a bench takes the rate
 * over exactly the window it wants. On SIGINT/SIGTERM, or after S seconds
 * (default 600), it prints {"event":"end",...}, puts the previous program
 * back and exits. Node MACs default to the lab's b1..b3. */
#include <getopt.h>
#include <linux/if_link.h>
#include <unistd.h>

#include "bench_tool.h"
#include "bench_xdp.h"
#include "sink.skel.h"

struct options {
	const char *iface;
	unsigned char macs[BENCH_SINK_NODES][6];
	unsigned int n_macs;
	unsigned long long max_seconds;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: bench-sink [--iface IF] [--node-mac MAC]... [--max-seconds S]\n"
		   "  XDP_DROP and count on IF (default %s) by node MAC (default the lab's\n"
		   "  b1..b3); a counter line on SIGUSR1; the previous XDP program is put back\n"
		   "  on SIGINT/SIGTERM or after S seconds (default 600).\n",
		LAB_IF_SW_LB);
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "iface", required_argument, NULL, 'i' },
		{ "node-mac", required_argument, NULL, 'm' },
		{ "max-seconds", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, err = 0;

	*o = (struct options){ .iface = LAB_IF_SW_LB, .max_seconds = 600 };
	while (!err && (c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'i': o->iface = optarg; break;
		case 'm':
			if (o->n_macs == BENCH_SINK_NODES) {
				fprintf(stderr, "--node-mac: at most %d\n", BENCH_SINK_NODES);
				err = -EINVAL;
				break;
			}
			err = tool_parse_mac("--node-mac", optarg, o->macs[o->n_macs++]);
			break;
		case 's': err = tool_parse_u64("--max-seconds", optarg, 1, BENCH_MAX_SECONDS, &o->max_seconds); break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -EINVAL;
		}
	}
	if (!err && optind < argc) {
		fprintf(stderr, "bench-sink: unexpected argument '%s'\n", argv[optind]);
		err = -EINVAL;
	}
	if (!err && !o->n_macs) {
		for (unsigned int i = 0; i < LAB_NODES; i++) {
			tool_parse_mac("lab", LAB_MAC_NODE1, o->macs[i]);
			o->macs[i][5] += (unsigned char)i;
		}
		o->n_macs = LAB_NODES;
	}
	return err;
}

static int print_counters(const char *event, int map_fd, unsigned int n_nodes, double t0)
{
	unsigned long long c[BENCH_SINK_SLOTS][2], nodes = 0, bytes = 0;
	int err;

	for (unsigned int i = 0; i <= n_nodes; i++) {
		err = tool_percpu_sum(map_fd, i, 2, c[i]);
		if (err)
			return err;
		if (i) {
			nodes += c[i][0];
			bytes += c[i][1];
		}
	}
	/* "packets" are the frames to a node MAC: what the bench counts */
	printf("{\"event\":\"%s\",\"t\":%.6f,\"packets\":%llu,\"bytes\":%llu,\"other\":%llu,"
	       "\"nodes\":[", event, tool_now() - t0, nodes, bytes, c[0][0]);
	for (unsigned int i = 1; i <= n_nodes; i++)
		printf("%s%llu", i > 1 ? "," : "", c[i][0]);
	printf("]}\n");
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, back);
	const __u32 mode = XDP_FLAGS_DRV_MODE;
	struct sink_bpf *skel;
	struct options o;
	__u32 old_id = 0;
	int ifindex, prog_fd, old_fd = -1, err, sig, map_fd;
	sigset_t sigs;
	double t0 = tool_now();

	if (parse_args(argc, argv, &o))
		return 2;
	ifindex = tool_ifindex("--iface", o.iface);
	if (ifindex < 0)
		return 1;
	tool_block_signals(&sigs);
	sigaddset(&sigs, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	skel = sink_bpf__open();
	if (!skel) {
		fprintf(stderr, "bench-sink: open: %s\n", strerror(errno));
		return 1;
	}
	for (unsigned int i = 0; i < o.n_macs; i++)
		for (int b = 0; b < 6; b++)
			skel->rodata->node_mac[i][b] = o.macs[i][b];
	skel->rodata->node_count = o.n_macs;
	err = sink_bpf__load(skel);
	if (err) {
		fprintf(stderr, "bench-sink: load: %s\n", strerror(-err));
		goto out;
	}
	prog_fd = bpf_program__fd(skel->progs.sink);
	map_fd = bpf_map__fd(skel->maps.sink_counters);

	/* hold the previous program, to put it back at the end */
	if (!bpf_xdp_query_id(ifindex, mode, &old_id) && old_id) {
		old_fd = bpf_prog_get_fd_by_id(old_id);
		if (old_fd < 0)
			fprintf(stderr, "bench-sink: warning: cannot hold program %u: %s\n", old_id,
				strerror(errno));
	}
	err = bpf_xdp_attach(ifindex, prog_fd, mode, NULL);
	if (err) {
		fprintf(stderr, "bench-sink: attach to %s: %s\n", o.iface, strerror(-err));
		goto out;
	}
	printf("{\"event\":\"ready\",\"iface\":\"%s\",\"previous_prog_id\":%u}\n", o.iface, old_id);
	fflush(stdout);

	alarm((unsigned int)o.max_seconds);
	while ((sig = tool_wait(&sigs, t0 + (double)o.max_seconds + 5)) == SIGUSR1)
		print_counters("mark", map_fd, o.n_macs, t0);
	print_counters("end", map_fd, o.n_macs, t0);

	/* put back what was there, if nobody replaced us meanwhile */
	back.old_prog_fd = prog_fd;
	if (old_fd >= 0)
		err = bpf_xdp_attach(ifindex, old_fd, mode | XDP_FLAGS_REPLACE, &back);
	else
		err = bpf_xdp_detach(ifindex, mode | XDP_FLAGS_REPLACE, &back);
	if (err)
		fprintf(stderr, "bench-sink: restoring %s: %s\n", o.iface, strerror(-err));
out:
	if (old_fd >= 0)
		close(old_fd);
	sink_bpf__destroy(skel);
	return err ? 1 : 0;
}
