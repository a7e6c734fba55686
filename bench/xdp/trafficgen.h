/* What bench-trafficgen's parts share (docs/bench-xdp.md "Generators"):
 * the SIP mix (trafficgen_mix.c), one sending thread's state, and the two
 * ways of sending it: live frames (trafficgen.c) and an AF_PACKET TX ring
 * (trafficgen_packet.c). */
#ifndef SIPHON_BENCH_TRAFFICGEN_H
#define SIPHON_BENCH_TRAFFICGEN_H

#include <pthread.h>
#include <stdint.h>

#include "bench_xdp.h"

/* --- the mix ------------------------------------------------------------- */

enum mix_tmpl { T_INVITE, T_ACK, T_BYE, T_OPTIONS, T_REGISTER, T__COUNT };

#define MIX_LEN   16 /* frames of one round */
#define MIX_CALLS 8  /* call numbers one round uses */

extern const struct bench_slot mix[MIX_LEN];

/* Every template of the mix into tmpl[T__COUNT]; 0, or -E2BIG with a
 * message. *max_len: the longest frame. */
int mix_build(struct bench_tmpl *tmpl, unsigned int *max_len);

/* The call number of frame n sent by a thread on cpu: as trafficgen.bpf.c
 * computes it, the CPU in the top byte. */
static inline uint64_t mix_call(uint64_t n, unsigned int cpu)
{
	return ((n / MIX_LEN) * MIX_CALLS + mix[n % MIX_LEN].call) | (uint64_t)cpu << 56;
}

/* The call number in hex at every mark of t, in frame (a copy of t). */
void mix_apply_marks(uint8_t *frame, const struct bench_tmpl *t, uint64_t call);

/* Two rounds of the mix to a pcap file; 0 or -errno with a message. */
int mix_write_pcap(const char *path, const struct bench_tmpl *tmpl);

/* --- sending --------------------------------------------------------------- */

/* One sending thread. The main thread sets everything above `sent`; the
 * thread stops at its quota, its deadline or when *stop is set. */
struct gen_worker {
	pthread_t tid;
	int cpu, ifindex;
	unsigned int batch;
	unsigned long long quota;
	double deadline;
	const int *stop;
	int *finished;
	/* live frames */
	int prog_fd;
	const uint8_t *frame;
	unsigned int frame_len;
	/* AF_PACKET */
	const struct bench_tmpl *tmpl;
	/* results */
	unsigned long long sent, bytes; /* frames handed to the kernel */
	int err;                        /* -errno; its message already printed */
};

/* The AF_PACKET TX ring sender (trafficgen_packet.c): a pthread start
 * routine taking a struct gen_worker. */
void *packet_worker_main(void *arg);

#endif
