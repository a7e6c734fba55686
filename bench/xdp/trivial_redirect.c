/* bench-trivial-redirect: the in-kernel lane's baseline (docs/bench-xdp.md).
 *
 *   bench-trivial-redirect [--iface IF] [--egress IF] [--node-mac MAC]
 *                          [--src-mac MAC] [--seconds S]
 *
 * Attaches trivial_redirect.bpf.c natively to --iface (default sph-lb-c;
 * run it in sph-lb): every frame gets the node MAC (default b1's) and the
 * balancer's MAC and is redirected through a DEVMAP to --egress (default
 * sph-lb-core). Prints {"event":"ready"}, runs until SIGINT/SIGTERM or S
 * seconds (default 60), detaches and exits. */
#include <getopt.h>
#include <linux/if_link.h>

#include "bench_tool.h"
#include "trivial_redirect.skel.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: bench-trivial-redirect [--iface IF] [--egress IF] [--node-mac MAC]\n"
		   "                              [--src-mac MAC] [--seconds S]\n"
		   "  set MACs and redirect every frame of IF (%s) to egress (%s) for S\n"
		   "  seconds (default 60) or until SIGINT/SIGTERM\n",
		LAB_IF_LB_IN, LAB_IF_LB_CORE);
}

static int parse_args(int argc, char **argv, struct fwd_options *o)
{
	static const struct option opts[] = { FWD_LONG_OPTIONS, { NULL, 0, NULL, 0 } };
	int c, err = 0;

	fwd_defaults(o);
	while (!err && (c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			exit(0);
		}
		err = fwd_option(o, c, optarg);
		if (err > 0) {
			usage(stderr);
			return -EINVAL;
		}
	}
	if (!err && optind < argc) {
		fprintf(stderr, "bench-trivial-redirect: unexpected argument '%s'\n", argv[optind]);
		err = -EINVAL;
	}
	return err;
}

int main(int argc, char **argv)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, ours);
	const __u32 mode = XDP_FLAGS_DRV_MODE;
	struct trivial_redirect_bpf *skel;
	struct fwd_options o;
	int ifindex, egress, prog_fd, err, sig;
	__u32 zero = 0;
	sigset_t sigs;

	if (parse_args(argc, argv, &o))
		return 2;
	ifindex = tool_ifindex("--iface", o.iface);
	egress = tool_ifindex("--egress", o.egress);
	if (ifindex < 0 || egress < 0)
		return 1;
	tool_block_signals(&sigs);

	skel = trivial_redirect_bpf__open();
	if (!skel) {
		fprintf(stderr, "bench-trivial-redirect: open: %s\n", strerror(errno));
		return 1;
	}
	for (int i = 0; i < 6; i++) {
		skel->rodata->node_mac[i] = o.node_mac[i];
		skel->rodata->src_mac[i] = o.src_mac[i];
	}
	err = trivial_redirect_bpf__load(skel);
	if (err) {
		fprintf(stderr, "bench-trivial-redirect: load: %s\n", strerror(-err));
		goto out;
	}
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.egress), &zero, &egress, 0)) {
		err = -errno;
		fprintf(stderr, "bench-trivial-redirect: devmap: %s: %s\n", o.egress, strerror(-err));
		goto out;
	}
	prog_fd = bpf_program__fd(skel->progs.trivial_redirect);
	/* only onto a free interface: one XDP program per interface here */
	err = bpf_xdp_attach(ifindex, prog_fd, mode | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
	if (err) {
		fprintf(stderr, "bench-trivial-redirect: attach to %s: %s\n", o.iface, strerror(-err));
		goto out;
	}
	printf("{\"event\":\"ready\",\"tool\":\"trivial-redirect\",\"iface\":\"%s\",\"egress\":\"%s\"}\n",
	       o.iface, o.egress);
	fflush(stdout);
	alarm((unsigned int)o.seconds);
	sig = tool_wait(&sigs, tool_now() + (double)o.seconds + 5);
	ours.old_prog_fd = prog_fd;
	err = bpf_xdp_detach(ifindex, mode | XDP_FLAGS_REPLACE, &ours);
	if (err)
		fprintf(stderr, "bench-trivial-redirect: detach from %s: %s\n", o.iface, strerror(-err));
	printf("{\"event\":\"end\",\"tool\":\"trivial-redirect\",\"signal\":%d}\n", sig > 0 ? sig : 0);
out:
	trivial_redirect_bpf__destroy(skel);
	return err ? 1 : 0;
}
