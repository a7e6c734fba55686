// SPDX-License-Identifier: Apache-2.0
/* The traffic generator's XDP program (docs/bench-xdp.md). Run by
 * bpf_prog_test_run_opts() with BPF_F_TEST_XDP_LIVE_FRAMES: every run builds
 * one frame and returns XDP_TX, which sends it out of the interface given as
 * ingress_ifindex (sph-c-lb in the lab, so it arrives at siphon's sph-lb-c).
 *
 * The kernel recycles the frame's page with whatever the receivers wrote
 * into it (docs/lab.md), so the whole frame is written again every run, from
 * the template the schedule picks, and sized with bpf_xdp_adjust_tail().
 * The call number in hex goes to the template's marks (Call-ID, branch,
 * tag): every call of the mix has its own Call-ID. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "bench_xdp.h"

const volatile struct bench_slot sched[BENCH_SCHED_MAX] = {};
const volatile __u32 sched_len = 1;
const volatile __u32 calls_per_round = 1;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BENCH_TMPL_COUNT);
	__type(key, __u32);
	__type(value, struct bench_tmpl);
} templates SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bench_gen_state);
} gen_state SEC(".maps");

static __always_inline void hex16(char *out, __u64 v)
{
	for (int i = BENCH_MARK_LEN - 1; i >= 0; i--) {
		__u8 d = v & 15;

		out[i] = d < 10 ? '0' + d : 'a' + d - 10;
		v >>= 4;
	}
}

SEC("xdp")
int trafficgen(struct xdp_md *ctx)
{
	struct bench_gen_state *st;
	struct bench_tmpl *t;
	__u32 zero = 0, tmpl, len, cur;
	__u64 n, call, pos;
	char digits[BENCH_MARK_LEN];

	st = bpf_map_lookup_elem(&gen_state, &zero);
	if (!st)
		return XDP_ABORTED;
	n = st->runs++;
	/* bounds-checked as 64 bits: with -mcpu=v3 a 32-bit check leaves the
	 * index's upper half unknown to the verifier */
	pos = n % sched_len;
	if (pos >= BENCH_SCHED_MAX)
		goto fail;
	tmpl = sched[pos].tmpl;
	t = bpf_map_lookup_elem(&templates, &tmpl);
	if (!t)
		goto fail;
	len = t->len;
	if (len < BENCH_TMPL_MIN || len > BENCH_TMPL_MAX)
		goto fail;

	cur = ctx->data_end - ctx->data;
	if (cur != len && bpf_xdp_adjust_tail(ctx, (int)len - (int)cur))
		goto fail;
	if (bpf_xdp_store_bytes(ctx, 0, t->data, len))
		goto fail;

	call = (n / sched_len) * calls_per_round + sched[pos].call;
	call |= (__u64)bpf_get_smp_processor_id() << 56;
	hex16(digits, call);
	for (__u32 i = 0; i < BENCH_MARKS; i++) {
		if (i >= t->n_marks)
			break;
		if (bpf_xdp_store_bytes(ctx, t->marks[i], digits, BENCH_MARK_LEN))
			goto fail;
	}
	st->frames++;
	st->bytes += len;
	return XDP_TX;
fail:
	st->errors++;
	return XDP_ABORTED;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
