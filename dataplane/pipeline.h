/* The per-packet pipeline, I/O-agnostic: parse -> scan -> classify ->
 * decide -> dispatch -> rewrite over one frame in a buffer, with per-worker
 * counters. The pcap, AF_XDP and DPDK backends all call pipeline_process().
 * No allocation, no lock, no system call per packet. */
#ifndef SIPHON_PIPELINE_H
#define SIPHON_PIPELINE_H

#include "siphon/decide.h"
#include "siphon/frame.h"
#include "fragments.h"
#include "siphon/packet.h"
#include "rewrite.h"
#include "next_hops.h"

/* What the backend does with the frame. */
#define PIPELINE_OUTCOMES(X)                                                          \
	X(FORWARD, "forward", "rewritten for a core node: transmit")                  \
	X(DROP, "drop", "discarded, counted by reason")                               \
	X(PUNT, "punt", "to the kernel stack, where siphond answers (OPTIONS, STUN, replies)") \
	X(PASS, "pass", "not for the balancer: to the kernel stack untouched")                 \
	X(HOLD, "hold", "an IP fragment kept until its datagram is complete; it leaves through emit()")

enum pipeline_outcome {
#define X(id, name, help) PIPELINE_##id,
	PIPELINE_OUTCOMES(X)
#undef X
	PIPELINE__COUNT
};

/* Reasons of the packet layer, besides the SIP ones (sip_reasons.def) and
 * the parser's (pkt_status.def). */
#define PIPELINE_REASONS(X)                                                                 \
	X(NOT_FOR_US, "not_for_us", "not to a balancer address and SIP port: passed to the kernel") \
	X(FRAGMENT_TIMEOUT, "fragment_timeout", "a fragmented datagram missed a fragment until the timeout (its fragments dropped)") \
	X(FRAGMENT_DROP, "fragment_drop", "a fragment the table refused (see fragments by result)") \
	X(REWRITE_FAILED, "rewrite_failed", "the node's family or the buffer did not allow the rewrite") \
	X(NO_NEXT_HOP, "no_next_hop", "the node, the balancer or the gateway has no MAC in the config, and no next-hop source runs (--io pcap)") \
	X(TCP_RULE_IGNORED, "tcp_rule_ignored", "a message in a TCP segment matched a rule for another pool, punt or reply: the segment stayed on its connection's node") \
	X(NID_UNKNOWN, "nid_unknown", "a nid named no node of the chosen pool: Maglev decided") \
	X(GRACE_NOTED, "grace_noted", "an initial request (or a SYN) in a pool's grace period on a slot that moved: remembered in the grace register, so that its dialog follows it to the current table's node") \
	X(GRACE_FULL, "grace_full", "the same, not remembered: its bucket of the grace register was full, its dialog will follow the previous table") \
	X(NAT_REPLY, "nat_reply", "from a nat pool's node to a client: the VIP as its source, forwarded") \
	X(NO_NEIGHBOUR, "no_neighbour", "the kernel has no neighbour entry (MAC) for the next hop yet: resolution asked, the packet dropped") \
	X(NO_ROUTE, "no_route", "the kernel has no route to the next hop that leaves by the egress interface")

enum pipeline_reason {
#define X(id, name, help) PIPELINE_REASON_##id,
	PIPELINE_REASONS(X)
#undef X
	PIPELINE_REASON__COUNT
};

struct pipeline_counters {
	uint64_t packets, bytes_in, bytes_out;
	uint64_t outcome[PIPELINE__COUNT];
	uint64_t pkt_status[PKT_STATUS__COUNT];
	uint64_t sip_reason[SIP_REASON__COUNT];
	uint64_t reason[PIPELINE_REASON__COUNT];
	uint64_t dispatch_by[DISPATCH_BY__COUNT];
	uint64_t flag[SIPHON_MAX_FLAGS]; /* set, among the messages where it was computed
					  * (all of them with all_flags; docs/config.md) */
	uint64_t *rule; /* n_rules */
	uint64_t *node; /* n_nodes */
	uint64_t *node_msg; /* n_nodes * GEN_NODE_MSG_SLOTS: by method / response class */
	uint64_t tcp;
	uint64_t fragments[FRAG_RESULT__COUNT];
	uint64_t emitted[PIPELINE__COUNT]; /* fragments that left through emit() */
};

/* Adds x's fixed-size counters to sum (not rule/node: their sizes are a
 * generation's): the exit summary and the COUNTERS snapshot merge workers. */
void pipeline_counters_add(struct pipeline_counters *sum, const struct pipeline_counters *x);

/* How held fragments leave: the backend transmits FORWARD frames, gives
 * PUNT and PASS ones to the kernel, and frees nothing (the frame is the
 * pipeline's until emit returns). */
typedef void (*pipeline_emit_fn)(void *ctx, const uint8_t *frame, size_t len,
				 enum pipeline_outcome outcome);

/* What a worker runs of one table generation (docs/generations.md): the
 * tables, a classifier with its own Hyperscan database and scratch, the
 * per-rule and per-node counters (indices of that generation) and the
 * next hops of its nodes. Built off the packet path; a worker adopts one
 * between bursts (pipeline_worker_adopt: copies, no allocation). */
struct pipeline_gen {
	const struct compiled_tables *t;
	struct classifier cls;
	uint64_t *rule; /* n_rules + 1 */
	uint64_t *node; /* n_nodes + 1 */
	uint64_t *node_msg; /* n_nodes * GEN_NODE_MSG_SLOTS + 1 */
	const struct next_hops *nh;
};

/* 0 or -errno (-ENOMEM, -EINVAL: the pattern database does not load). */
int pipeline_gen_init(struct pipeline_gen *g, const struct compiled_tables *t,
		      const struct next_hops *nh);
void pipeline_gen_free(struct pipeline_gen *g);

/* What n workers run of one generation: one pipeline_gen each (each its
 * own Hyperscan scratch), built off the packet path. 0, or -errno with *out
 * NULL (-ENOMEM, or pipeline_gen_init's) and the worker it failed for in
 * *failed. */
int pipeline_gens_new(struct pipeline_gen ***out, unsigned n, const struct compiled_tables *t,
		      const struct next_hops *nh, unsigned *failed);
/* Frees what pipeline_gens_new made (or a set of disowned ones); NULL entries are skipped. */
void pipeline_gens_free(struct pipeline_gen **pw, unsigned n);

/* One per worker thread: its own scratch and counters (cache-aligned).
 * What carries over from generation to generation: the counters of c
 * (except rule and node, which are the generation's), the fragment table
 * and the rate-limit buckets. */
struct pipeline_worker {
	struct classifier cls;
	const struct compiled_tables *t;
	const struct next_hops *nh; /* MACs from the kernel (set by the backend); NULL: the config's only */
	struct pipeline_counters c;
	uint64_t now_s;  /* for the grace table */
	uint64_t now_ms; /* for the fragment table */
	struct frag_table frags;
	struct ratelimit buckets;
	struct grace_calls *grace_calls; /* the process's, set by the backend; NULL: none */
	pipeline_emit_fn emit;
	void *emit_ctx;
	struct pipeline_gen *own; /* what pipeline_worker_init built; NULL once disowned */
	bool all_flags; /* compute every flag of every message, so that c.flag counts
			 * every message (slower: Hyperscan over every header with a
			 * pattern); false, the default: only the flags the route
			 * needs, and c.flag counts a flag set among the messages
			 * whose route evaluated it (docs/design.md "Classify") */
} __attribute__((aligned(64)));

/* Runs g from the next packet on (no allocation: pointers and the
 * classifier's handles are copied; g stays the owner). */
static inline void pipeline_worker_adopt(struct pipeline_worker *w, const struct pipeline_gen *g)
{
	w->t = g->t;
	w->cls = g->cls;
	w->c.rule = g->rule;
	w->c.node = g->node;
	w->c.node_msg = g->node_msg;
	w->nh = g->nh;
}

/* The backend's next hops from the kernel for the worker and the
 * generation it owns (before it runs; NULL: the config's MACs only). */
static inline void pipeline_worker_set_next_hops(struct pipeline_worker *w, const struct next_hops *nh)
{
	w->nh = nh;
	if (w->own)
		w->own->nh = nh;
}

/* Hands the generation state pipeline_worker_init built to the caller,
 * who retires it like any other (the worker may still run it). */
static inline struct pipeline_gen *pipeline_worker_disown(struct pipeline_worker *w)
{
	struct pipeline_gen *g = w->own;

	w->own = NULL;
	return g;
}

/* The worker's own state and a generation of t it owns (adopted).
 * 0 or -errno (-ENOMEM, -EINVAL: the pattern database does not load). */
int pipeline_worker_init(struct pipeline_worker *w, const struct compiled_tables *t);
void pipeline_worker_free(struct pipeline_worker *w);

/* Processes frame[0..*len) in place (cap: the buffer's room, for encap);
 * *len is the frame to transmit when the outcome is FORWARD. A fragment
 * returns HOLD; the fragments of a datagram leave through w->emit. */
enum pipeline_outcome pipeline_process(struct pipeline_worker *w, uint8_t *frame, size_t *len,
				       size_t cap);

/* Ages the fragment table (call it every few milliseconds, and with a far
 * time at the end of a replay): datagrams missing a fragment are dropped
 * and counted. */
void pipeline_expire(struct pipeline_worker *w, uint64_t now_ms);

const char *pipeline_outcome_name(unsigned o);
const char *pipeline_reason_name(unsigned r);

#endif
