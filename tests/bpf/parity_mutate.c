/* test-parity's mutation round (test_parity.c; parity.h): mutants
 * (mutate.h) of every corpus message and every capture request through
 * both lanes, with parity.conf and lab.conf. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parity.h"
#include "mutate.h"

/* ---- the mutation round ---- */

/* The round's seed (printed; PARITY_SEED=N runs another round) and its
 * frames (PARITY_MUTANTS=N: about N frames over both configs). */
#define MUT_SEED_DEFAULT   0x5eed2024c0ffeeull
#define MUT_FRAMES_DEFAULT 30000
#define MUT_REPORTS        12 /* breaks printed in full; all are counted */

/* a message the round mutates */
struct mut_input {
	char name[300];
	uint8_t *pl;
	size_t len;
};

struct mut_tally {
	unsigned long frames, skipped, breaks, plain, plain_decided;
	unsigned long kernel[XDP_REASON__COUNT]; /* by reason (pass_no_xsk: went up) */
};

static const char *const source_names[] = {"plain", "internal", "blocked", "lab scanner"};

/* The messages: every corpus message and every request of the capture
 * that fit a frame with room to grow. */
static size_t mut_inputs(struct mut_input **out)
{
	struct mut_input *in = NULL;
	struct dirent **ents;
	int n = scandir(corpus_dir, &ents, NULL, alphasort);
	size_t count = 0, cap = 0;
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const uint8_t *d;
	unsigned frame = 0;
	pcap_t *pc;

	assert_true(n > 0);
	for (int i = 0; i <= n; i++) {
		uint8_t *buf = NULL;
		size_t len = 0, pl;
		int v6;

		if (i < n) {
			buf = corpus_read(ents[i]->d_name, &len);
			if (buf && len > MUT_MAX - 400) {
				free(buf);
				buf = NULL;
			}
			if (buf) {
				if (count == cap) {
					cap = cap ? 2 * cap : 256;
					in = realloc(in, cap * sizeof(*in));
					assert_non_null(in);
				}
				snprintf(in[count].name, sizeof(in[count].name), "corpus %s",
					 ents[i]->d_name);
				in[count].pl = buf;
				in[count++].len = len;
			}
			free(ents[i]);
			continue;
		}
		pc = pcap_open_offline(pcap_path, err);
		if (!pc)
			fail_msg("%s: %s", pcap_path, err);
		for (; pcap_next_ex(pc, &h, &d) == 1; frame++) {
			pl = capture_request(d, h->caplen, &v6);
			if (!pl)
				continue;
			if (count == cap) {
				cap = 2 * cap + 16;
				in = realloc(in, cap * sizeof(*in));
				assert_non_null(in);
			}
			snprintf(in[count].name, sizeof(in[count].name), "capture frame %u (IPv%d)",
				 frame, v6 ? 6 : 4);
			in[count].len = h->caplen - pl;
			in[count].pl = malloc(in[count].len + 1);
			assert_non_null(in[count].pl);
			memcpy(in[count].pl, d + pl, in[count].len);
			count++;
		}
		pcap_close(pc);
	}
	free(ents);
	*out = in;
	return count;
}

static void mut_report(uint64_t seed, const char *conf, const struct mut_input *in, long k,
		       const struct mutant *m, int family, int vlans, enum source src, size_t pad,
		       const struct result *r, const char *msg)
{
	printf("# PARITY BREAK: %s\n#   seed 0x%llx, %s, %s, %s%s\n", msg, (unsigned long long)seed,
	       conf, in->name, k < 0 ? "unmutated" : "mutant:", k < 0 ? "" : m->what);
	printf("#   frame IPv%d, %d VLAN, source %s, pad %zu; payload %zu bytes:\n", family, vlans,
	       source_names[src], pad, m->n);
	mut_print_escaped(stdout, m->b, m->n);
	printf("#   kernel: action %d, reason %s, why %s, node %d, %u bytes out\n", r->action,
	       reason_names[r->reason], r->why == ~0u ? "-" : reason_names[r->why], r->knode,
	       r->out_len);
	printf("#   pipeline: %s (scanner: %s), node %d, %zu bytes out\n",
	       pipeline_outcome_name(r->outcome), r->preason < 0 ? "-" : sip_reason_name((unsigned)r->preason),
	       r->pnode, r->pout_len);
}

/* One frame of a mutant (k < 0: the message itself, IPv4, plain source)
 * through both lanes, tallied; 1 when the kernel decided it. */
static int mut_frame(uint64_t seed, const char *conf, bool lab, const struct mut_input *in, long k,
		     struct mut_rng *rng, const struct mutant *m, struct mut_tally *t)
{
	static uint8_t f[BUF_MAX];
	enum source src = SRC_PLAIN;
	int family = 4, vlans = 0;
	size_t pad = 0, len;
	unsigned pick;
	char msg[256];

	if (k >= 0) {
		/* 15% from a dropped prefix, 10% (parity.conf) from inside; 30%
		 * IPv6 or VLAN-tagged; 1 in 8 with Ethernet padding */
		pick = (unsigned)mut_below(rng, 100);
		if (pick < 15)
			src = lab ? SRC_LAB_SCANNER : SRC_BLOCKED;
		else if (pick < 25 && !lab)
			src = SRC_INTERNAL;
		if (mut_below(rng, 10) < 3) {
			family = mut_below(rng, 2) ? 6 : 4;
			vlans = (int)mut_below(rng, 3);
			if (family == 4 && !vlans)
				vlans = 1;
		}
		if (src == SRC_LAB_SCANNER)
			family = 4; /* lab.conf drops an IPv4 prefix only */
		if (!mut_below(rng, 8))
			pad = 6;
	}
	len = mk_frame(f, family, vlans, src, m->b, m->n, pad);
	if (!len) {
		t->skipped++;
		return 0;
	}
	run_both(f, len, &res);
	t->frames++;
	t->kernel[res.reason]++;
	if (src == SRC_PLAIN) {
		t->plain++;
		t->plain_decided += kernel_decided(res.reason);
	}
	if (parity_break(&res, msg, sizeof(msg)) && ++t->breaks <= MUT_REPORTS) {
		mut_report(seed, conf, in, k, m, family, vlans, src, pad, &res, msg);
		fflush(stdout);
	}
	return kernel_decided(res.reason);
}

/* The round over one config (the current cfg / skel / worker): each
 * message once as it is, then its share of the frames as mutants, a
 * message the kernel decides getting four shares. */
static void mut_round(uint64_t seed, unsigned conf_idx, const char *conf,
		      const struct mut_input *in, size_t n_in, unsigned long frames,
		      struct mut_tally *t)
{
	static struct mutant m;
	unsigned *weight = calloc(n_in, sizeof(*weight));
	unsigned long total = 0, cum = 0, done = 0, budget;
	struct mut_rng rng = {0};

	assert_non_null(weight);
	for (size_t i = 0; i < n_in; i++) {
		memcpy(m.b, in[i].pl, in[i].len);
		m.n = in[i].len;
		weight[i] = mut_frame(seed, conf, conf_idx == 1, &in[i], -1, &rng, &m, t) ? 4 : 1;
		total += weight[i];
	}
	budget = frames > n_in ? frames - n_in : 0;
	for (size_t i = 0; i < n_in; i++) {
		unsigned long upto;

		cum += weight[i];
		upto = budget * cum / total; /* this message's mutants end there */
		for (long k = 0; done < upto; k++, done++) {
			/* every mutant has a generator of its own: seed, config,
			 * message and mutant name it */
			rng.s = seed ^ (((uint64_t)conf_idx << 56) | ((uint64_t)i << 32) | (uint64_t)k) *
					       0xD1B54A32D192ED03ull;
			mut_next(&rng);
			memcpy(m.b, in[i].pl, in[i].len);
			m.n = in[i].len;
			mutate(&rng, &m);
			mut_frame(seed, conf, conf_idx == 1, &in[i], k, &rng, &m, t);
		}
	}
	free(weight);
}

static void mut_print(const char *conf, const struct mut_tally *t)
{
	unsigned long fwd = t->kernel[XDP_REASON_KERNEL_FORWARD],
		      drop = t->kernel[XDP_REASON_KERNEL_DROP_RULE],
		      punt = t->kernel[XDP_REASON_KERNEL_PUNT_RULE];

	printf("# mutation round, %s: %lu frames (%lu too big), decided in the kernel %lu (%.1f%%): "
	       "forward %lu, drop %lu, punt %lu; from a plain source %lu of %lu (%.1f%%); "
	       "%lu parity breaks\n",
	       conf, t->frames, t->skipped, fwd + drop + punt,
	       100.0 * (double)(fwd + drop + punt) / (double)(t->frames ? t->frames : 1), fwd, drop,
	       punt, t->plain_decided, t->plain,
	       100.0 * (double)t->plain_decided / (double)(t->plain ? t->plain : 1), t->breaks);
}

/* Mutants of every corpus message and every capture request, with
 * parity.conf and lab.conf: whenever the kernel decides, it must decide
 * as the pipeline (the rule of check_parity()). */
void mutation_round(void **state)
{
	const char *env_seed = getenv("PARITY_SEED"), *env_n = getenv("PARITY_MUTANTS");
	uint64_t seed = env_seed ? strtoull(env_seed, NULL, 0) : MUT_SEED_DEFAULT;
	unsigned long frames = env_n ? strtoul(env_n, NULL, 0) : MUT_FRAMES_DEFAULT;
	struct mut_tally t[3];
	uint64_t nid0[SK_NID_STATS], nid1[SK_NID_STATS];
	unsigned long up_nid;
	struct pool_node *b2 = NULL;
	char err[256];
	struct mut_input *in;
	size_t n_in = mut_inputs(&in);
	struct saved_lanes sv;
	struct timespec t0, t1;
	/* the totals parity_teardown() prints stay those of the written frames */
	unsigned long saved_frames = n_frames, saved_kernel[XDP_REASON__COUNT],
		      saved_why[XDP_REASON__COUNT];

	(void)state;
	memcpy(saved_kernel, n_kernel, sizeof(n_kernel));
	memcpy(saved_why, n_why, sizeof(n_why));
	memset(t, 0, sizeof(t));
	memset(mut_op_count, 0, sizeof(mut_op_count));
	printf("# mutation round: seed 0x%llx, %zu messages, about %lu frames\n",
	       (unsigned long long)seed, n_in, frames);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	nid_stats_read(nid0);
	mut_round(seed, 0, "parity.conf", in, n_in, frames / 2 - frames / 8, &t[0]);
	/* a node down: its nids fall to the next span or the hash (dispatch.c) */
	for (uint32_t i = 0; i < cfg->tables.n_nodes; i++)
		if (cfg->tables.nodes[i].id_len == 2 && memcmp(cfg->tables.nodes[i].id, "b2", 2) == 0)
			b2 = (struct pool_node *)&cfg->tables.nodes[i];
	assert_non_null(b2);
	b2->up = false;
	assert_int_equal(xdp_tables_publish(skel, &cfg->tables, 0, err, sizeof(err)), 0);
	mut_round(seed, 2, "parity.conf, b2 down", in, n_in, frames / 8, &t[2]);
	b2->up = true;
	assert_int_equal(xdp_tables_publish(skel, &cfg->tables, 0, err, sizeof(err)), 0);
	nid_stats_read(nid1);
	up_nid = n_why[XDP_REASON_UP_NID] - saved_why[XDP_REASON_UP_NID];
	lab_enter(&sv);
	mut_round(seed, 1, "lab.conf", in, n_in, frames - frames / 2, &t[1]);
	lab_leave(&sv);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	n_frames = saved_frames;
	memcpy(n_kernel, saved_kernel, sizeof(n_kernel));
	memcpy(n_why, saved_why, sizeof(n_why));
	mut_print("parity.conf", &t[0]);
	mut_print("parity.conf, b2 down", &t[2]);
	mut_print("lab.conf", &t[1]);
	printf("# mutation round, parity.conf: forwarded in the kernel by the nid of the top Via "
	       "%llu, of the Route %llu, of the Request-URI %llu; a nid naming no node of the pool "
	       "%llu; up as to_userspace_nid %lu\n",
	       (unsigned long long)(nid1[SK_NID_VIA] - nid0[SK_NID_VIA]),
	       (unsigned long long)(nid1[SK_NID_ROUTE] - nid0[SK_NID_ROUTE]),
	       (unsigned long long)(nid1[SK_NID_RURI] - nid0[SK_NID_RURI]),
	       (unsigned long long)(nid1[SK_NID_UNKNOWN] - nid0[SK_NID_UNKNOWN]), up_nid);
	printf("# mutations:");
	for (unsigned o = 0; o < MUT__COUNT; o++)
		printf(" %s %lu", mut_op_names[o], mut_op_count[o]);
	printf("\n# mutation round: %.1f s\n",
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	for (size_t i = 0; i < n_in; i++)
		free(in[i].pl);
	free(in);
	if (t[0].breaks + t[1].breaks + t[2].breaks)
		fail_msg("mutation round (seed 0x%llx): %lu parity breaks", (unsigned long long)seed,
			 t[0].breaks + t[1].breaks + t[2].breaks);
	/* the round reaches the nid dispatch: by each span, and unknown ids */
	for (int k = 0; k < SK_NID_STATS; k++)
		if (nid1[k] == nid0[k])
			fail_msg("mutation round: no kernel forward counted in nid_stats[%d]", k);
	/* the round exercises the lane: at least a tenth decided in the kernel */
	for (int c = 0; c < 3; c++) {
		unsigned long dec = t[c].kernel[XDP_REASON_KERNEL_FORWARD] +
				    t[c].kernel[XDP_REASON_KERNEL_DROP_RULE] +
				    t[c].kernel[XDP_REASON_KERNEL_PUNT_RULE];

		if (dec * 10 < t[c].frames)
			fail_msg("mutation round, %s: only %lu of %lu frames decided in the kernel",
				 c == 1 ? "lab.conf" : "parity.conf", dec, t[c].frames);
	}
}
