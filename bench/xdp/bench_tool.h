/* What the XDP bench's user-space tools share (docs/bench-xdp.md): a
 * monotonic clock, argument parsing, CPU pinning, the lab's addresses, a
 * per-CPU map summed over the CPUs and a signal set that ends a run. */
#ifndef SIPHON_BENCH_TOOL_H
#define SIPHON_BENCH_TOOL_H

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

/* The lab (docs/lab.md): every default of the tools. */
#define LAB_IF_CALLER  "sph-c-lb"
#define LAB_IF_LB_IN   "sph-lb-c"
#define LAB_IF_LB_CORE "sph-lb-core"
#define LAB_IF_SW_LB   "sph-sw-lb"
#define LAB_CALLER4    "198.18.1.2"
#define LAB_VIP4       "198.18.0.10"
#define LAB_SIP_PORT   5060
#define LAB_MAC_CALLER "02:00:00:18:01:02"
#define LAB_MAC_LB     "02:00:00:18:00:01"
#define LAB_MAC_NODE1  "02:00:00:18:02:21"
#define LAB_NODES      3 /* b1..b3: 02:00:00:18:02:21 .. :23 */

#define BENCH_MAX_SECONDS 3600 /* every tool stops by itself */

static inline double tool_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 0, or -EINVAL with a message naming the option and the bad value. */
static inline int tool_parse_u64(const char *opt, const char *s, unsigned long long min,
				 unsigned long long max, unsigned long long *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max) {
		fprintf(stderr, "%s: '%s' is not a number from %llu to %llu\n", opt, s, min, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static inline int tool_parse_mac(const char *opt, const char *s, unsigned char mac[6])
{
	unsigned int b[6];
	char tail;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &tail) != 6) {
		fprintf(stderr, "%s: '%s' is not a MAC address (xx:xx:xx:xx:xx:xx)\n", opt, s);
		return -EINVAL;
	}
	for (int i = 0; i < 6; i++)
		mac[i] = (unsigned char)b[i];
	return 0;
}

/* The options both baseline forwarders take (trivial_redirect.c,
 * trivial_afxdp.c): where frames come in and leave, the MACs they get,
 * how long to run. */
struct fwd_options {
	const char *iface, *egress;
	unsigned char node_mac[6], src_mac[6];
	unsigned long long seconds;
};

#define FWD_LONG_OPTIONS                                                            \
	{ "iface", required_argument, NULL, 'i' },    { "egress", required_argument, NULL, 'e' }, \
	{ "node-mac", required_argument, NULL, 'm' }, { "src-mac", required_argument, NULL, 'M' }, \
	{ "seconds", required_argument, NULL, 's' },  { "help", no_argument, NULL, 'h' }

/* The lab's defaults: caller side in, core side out, to b1, 60 s. */
static inline void fwd_defaults(struct fwd_options *o)
{
	*o = (struct fwd_options){ .iface = LAB_IF_LB_IN, .egress = LAB_IF_LB_CORE, .seconds = 60 };
	tool_parse_mac("lab", LAB_MAC_NODE1, o->node_mac);
	tool_parse_mac("lab", LAB_MAC_LB, o->src_mac);
}

/* One of FWD_LONG_OPTIONS (not 'h'): 0 or -EINVAL with a message;
 * 1 when c is none of them. */
static inline int fwd_option(struct fwd_options *o, int c, const char *arg)
{
	switch (c) {
	case 'i': o->iface = arg; return 0;
	case 'e': o->egress = arg; return 0;
	case 'm': return tool_parse_mac("--node-mac", arg, o->node_mac);
	case 'M': return tool_parse_mac("--src-mac", arg, o->src_mac);
	case 's': return tool_parse_u64("--seconds", arg, 1, BENCH_MAX_SECONDS, &o->seconds);
	default: return 1;
	}
}

/* The interface's index, or -ENODEV with a message. */
static inline int tool_ifindex(const char *opt, const char *name)
{
	unsigned int idx = if_nametoindex(name);

	if (!idx) {
		fprintf(stderr, "%s: no interface '%s' in this network namespace\n", opt, name);
		return -ENODEV;
	}
	return (int)idx;
}

/* Pins the calling thread to cpu; 0 or -errno. */
static inline int tool_pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return -pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* Sums n_fields u64 fields of one per-CPU map entry over every CPU. */
static inline int tool_percpu_sum(int map_fd, unsigned int key, unsigned int n_fields,
				  unsigned long long *sum)
{
	int ncpu = libbpf_num_possible_cpus();
	unsigned long long *v;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	v = calloc((size_t)ncpu * n_fields, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(map_fd, &key, v)) {
		int err = -errno;

		free(v);
		return err;
	}
	memset(sum, 0, n_fields * sizeof(*sum));
	for (int c = 0; c < ncpu; c++)
		for (unsigned int f = 0; f < n_fields; f++)
			sum[f] += v[(size_t)c * n_fields + f];
	free(v);
	return 0;
}

/* SIGINT, SIGTERM and SIGALRM end a run: blocked in every thread (call
 * before creating any) and taken with sigtimedwait() by the main one. */
static inline void tool_block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGALRM);
	pthread_sigmask(SIG_BLOCK, set, NULL);
}

/* Waits until deadline (tool_now() seconds) or one of the signals of set;
 * returns the signal, or 0 at the deadline. */
static inline int tool_wait(const sigset_t *set, double deadline)
{
	for (;;) {
		double left = deadline - tool_now();
		struct timespec ts;
		int sig;

		if (left <= 0)
			return 0;
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		sig = sigtimedwait(set, NULL, &ts);
		if (sig > 0)
			return sig;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
	}
}

#endif
