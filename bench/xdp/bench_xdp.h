/* What the XDP bench's BPF programs and their user-space tools share
 * (docs/bench-xdp.md): the frame templates of the traffic generator, its
 * per-CPU state and the sink's counters. No includes and no libc: compiled
 * for both -target bpf and the host. */
#ifndef SIPHON_BENCH_XDP_H
#define SIPHON_BENCH_XDP_H

#define BENCH_TMPL_MAX   1280 /* bytes of one template frame, at most */
#define BENCH_TMPL_MIN   60   /* a frame is at least this long (no FCS) */
#define BENCH_TMPL_COUNT 8    /* templates in the map */
#define BENCH_MARKS      4    /* places per template that get the call digits */
#define BENCH_MARK_LEN   16   /* hex digits written at each place */
#define BENCH_SCHED_MAX  64   /* slots of the mix schedule */
#define BENCH_SINK_NODES 8    /* node MACs the sink tells apart */

/* One frame of the mix, Ethernet header to the end of the SIP message.
 * marks[i] (i < n_marks) is the frame offset of BENCH_MARK_LEN bytes that
 * the generator overwrites with the call number in hex: the Call-ID, and
 * the branch and tag that go with it. */
struct bench_tmpl {
	unsigned int len;
	unsigned int n_marks;
	unsigned short marks[BENCH_MARKS];
	unsigned char data[BENCH_TMPL_MAX];
};

/* The schedule: frame n of a CPU is slot s = n % sched_len; it sends
 * template sched[s].tmpl with call number
 * (n / sched_len) * calls_per_round + sched[s].call, with the CPU in the top
 * byte. So an INVITE, its ACK and its BYE share one Call-ID. */
struct bench_slot {
	unsigned char tmpl;
	unsigned char call;
};

/* Per CPU: frames the generator program built there. */
struct bench_gen_state {
	unsigned long long runs;   /* the sequence number of the next frame */
	unsigned long long frames; /* built and returned with XDP_TX */
	unsigned long long bytes;
	unsigned long long errors; /* no template, or the frame could not be sized */
};

/* The sink's per-CPU counters: index 0 counts frames whose destination is
 * none of the node MACs (or not IPv4/UDP), index 1 + i those sent to node
 * i. Everything is dropped. */
#define BENCH_SINK_OTHER 0
#define BENCH_SINK_SLOTS (1 + BENCH_SINK_NODES)

struct bench_counter {
	unsigned long long packets;
	unsigned long long bytes;
};

#endif
