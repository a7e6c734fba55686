/* The pipeline's counters as a COUNTERS snapshot (counters_snap.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>

#include "counters_snap.h"

static void add_list(struct gen_counters_builder *b, const char *group, const uint64_t *v,
		     unsigned n, const char *(*name)(unsigned))
{
	for (unsigned i = 0; i < n; i++)
		gen_counters_add_named(b, group, name(i), v[i]);
}

void counters_snap_pipeline(struct gen_counters_builder *b, struct pipeline_worker *const *w,
			    unsigned n, const struct compiled_tables *t,
			    const struct pipeline_gen *const *gens)
{
	struct pipeline_counters c = { 0 };
	uint64_t reused = 0;

	for (unsigned i = 0; i < n; i++) {
		const struct pipeline_counters *x = &w[i]->c;
		const uint64_t *rule = gens ? gens[i]->rule : x->rule;
		const uint64_t *node = gens ? gens[i]->node : x->node;
		const uint64_t *node_msg = gens ? gens[i]->node_msg : x->node_msg;

		pipeline_counters_add(&c, x);
		reused += w[i]->buckets.reused;
		/* indexed entries of one (kind, index) are summed by finish */
		for (uint32_t k = 0; rule && k < t->n_rules; k++)
			gen_counters_add_indexed(b, GEN_COUNTER_RULE, k, rule[k]);
		for (uint32_t k = 0; node && k < t->n_nodes; k++)
			gen_counters_add_indexed(b, GEN_COUNTER_NODE_PACKETS, k, node[k]);
		for (uint32_t k = 0; node_msg && k < t->n_nodes * GEN_NODE_MSG_SLOTS; k++)
			gen_counters_add_indexed(b, GEN_COUNTER_NODE_MSG, k, node_msg[k]);
	}
	gen_counters_add_named(b, "packets", "in", c.packets);
	gen_counters_add_named(b, "packets", "tcp", c.tcp);
	gen_counters_add_named(b, "bytes", "in", c.bytes_in);
	gen_counters_add_named(b, "bytes", "out", c.bytes_out);
	gen_counters_add_named(b, "ratelimit", "buckets_reused", reused);
	add_list(b, "outcome", c.outcome, PIPELINE__COUNT, pipeline_outcome_name);
	add_list(b, "packet", c.pkt_status, PKT_STATUS__COUNT, pkt_status_name);
	/* SIP reasons and the packet layer's are one family: reason */
	add_list(b, "reason", c.sip_reason, SIP_REASON__COUNT, sip_reason_name);
	add_list(b, "reason", c.reason, PIPELINE_REASON__COUNT, pipeline_reason_name);
	add_list(b, "dispatch", c.dispatch_by, DISPATCH_BY__COUNT, dispatch_by_name);
	add_list(b, "fragments", c.fragments, FRAG_RESULT__COUNT, frag_result_name);
	for (uint32_t i = 0; i < t->n_flags && i < SIPHON_MAX_FLAGS; i++)
		gen_counters_add_indexed(b, GEN_COUNTER_FLAG, i, c.flag[i]);
}

void counters_snap_receiver(struct gen_counters_builder *b, const struct gen_receiver *r)
{
	for (unsigned k = 0; k < gen_receiver_counter_count(); k++)
		gen_counters_add_named(b, "channel", gen_receiver_counter_name(k),
				       gen_receiver_counter(r, k));
}

uint64_t counters_snap_instance(void)
{
	static uint64_t id;

	if (!id) {
		struct timespec ts;

		if (getrandom(&id, sizeof(id), GRND_NONBLOCK) != (ssize_t)sizeof(id)) {
			clock_gettime(CLOCK_REALTIME, &ts);
			id = (uint64_t)ts.tv_sec * 1000000007u ^ (uint64_t)ts.tv_nsec ^
			     (uint64_t)getpid() << 32;
		}
		id += !id;
	}
	return id;
}

int counters_snap_send(struct gen_receiver *r, struct gen_counters_builder *b, uint32_t lanes)
{
	return counters_snap_send_gen(r, b, r->running, lanes, 0);
}

int counters_snap_send_gen(struct gen_receiver *r, struct gen_counters_builder *b,
			   uint64_t generation, uint32_t lanes, uint32_t flags)
{
	static uint64_t seq;
	const struct gen_counters_head head = { generation, lanes, ++seq, counters_snap_instance(),
						flags };
	void *payload;
	size_t len;
	int rc = gen_counters_finish(b, &head, &payload, &len);

	gen_counters_free(b);
	if (rc) {
		fprintf(stderr, "siphon: the counters snapshot: %s\n", strerror(-rc));
		return rc;
	}
	rc = gen_receiver_send_counters(r, payload, len);
	free(payload);
	return rc;
}
