/* test-parity's scaffolding (parity.h): frames, both lanes over one frame,
 * the parity rule, the corpus and capture readers, the lab-like config,
 * the group's setup and teardown. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpf_test.h"
#include "siphon/node_msg.h"
#include "parity.h"

const char *config_path, *corpus_dir, *lab_config_path, *pcap_path;
struct siphon_config *cfg;
struct siphon_bpf *skel;
struct pipeline_worker worker;
static int ncpus;

const char *const reason_names[] = {
#define XDP_REASON(id, name, help) [XDP_REASON_##id] = name,
#include "siphon/xdp_reasons.def"
#undef XDP_REASON
};

static const uint8_t vip4[4] = {198, 18, 0, 10};
static const uint8_t vip6[16] = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x10, [15] = 0x10};
/* The lab's VIPs (tests/bpf/lab.conf). */
static const uint8_t lab_vip4[4] = {198, 18, 0, 10};
static const uint8_t lab_vip6[16] = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x18, [15] = 0x10};
static const uint8_t *frame_vip6 = vip6; /* the IPv6 VIP mk_frame() sends to */

/* Sources: SRC_LAB_SCANNER is in lab.conf's dropped prefix (parity.h). */
static const uint8_t src4[SRC__COUNT + 1][4] = {
	{192, 0, 2, 7}, {198, 18, 1, 7}, {203, 0, 113, 9}, {198, 18, 9, 66}};
static const uint8_t src6[SRC__COUNT + 1][16] = {
	{0x20, 0x01, 0x0d, 0xb8, 0x00, 0x0c, [15] = 7},
	{0x20, 0x01, 0x0d, 0xb8, 0x00, 0x05, [15] = 7},
	{0x20, 0x01, 0x0d, 0xb8, 0x0b, 0xad, [15] = 9},
	{0x20, 0x01, 0x0d, 0xb8, 0x00, 0x0c, [15] = 66}, /* not dropped: none for IPv6 */
};

/* tallies */
unsigned long n_frames, n_kernel[XDP_REASON__COUNT], n_why[XDP_REASON__COUNT];

/* ---- frames ---- */

/* to 02:00:00:00:00:0a from 02:00:00:00:00:99 */
static const uint8_t macs[12] = {2, 0, 0, 0, 0, 0x0a, 2, 0, 0, 0, 0, 0x99};

/* Ethernet / IP (4 or 6) / UDP to the VIP:5060 around payload; 0 when too big. */
size_t mk_frame(uint8_t *b, int family, int vlans, enum source src, const uint8_t *pl,
		size_t plen, size_t pad)
{
	size_t off = put_eth(b, macs, vlans,
			     family == 4 ? PKT_ETHERTYPE_IPV4 : PKT_ETHERTYPE_IPV6);
	size_t iph = family == 4 ? 20 : 40;
	uint8_t *ip = b + off, *udp = ip + iph;

	if (off + iph + 8 + plen + pad > FRAME_MAX)
		return 0;
	memset(ip, 0, iph);
	if (family == 4) {
		ip[0] = 0x45;
		put16(ip + 2, (unsigned)(20 + 8 + plen));
		put16(ip + 4, 0x4321);
		ip[8] = 64;
		ip[9] = PKT_PROTO_UDP;
		memcpy(ip + 12, src4[src], 4);
		memcpy(ip + 16, vip4, 4);
	} else {
		ip[0] = 0x60;
		put16(ip + 4, (unsigned)(8 + plen));
		ip[6] = PKT_PROTO_UDP;
		ip[7] = 64;
		memcpy(ip + 8, src6[src], 16);
		memcpy(ip + 24, frame_vip6, 16);
	}
	put16(udp, 5062);
	put16(udp + 2, 5060);
	put16(udp + 4, (unsigned)(8 + plen));
	put16(udp + 6, 0x1234); /* neither lane verifies it; dsr keeps it */
	memcpy(udp + 8, pl, plen);
	memset(udp + 8 + plen, 0, pad); /* Ethernet padding */
	return off + iph + 8 + plen + pad;
}

/* ---- counters ---- */

/* The packets of entries first..first+n-1 summed over the CPUs: one batch
 * lookup from entry 0 (a lookup per entry made the mutation round slow). */
static void sum_percpu(struct bpf_map *map, uint32_t first, uint32_t n, uint64_t *pkts)
{
	static struct siphon_xdp_counter *v;
	static uint32_t *keys;
	static size_t cap;
	uint32_t token, all = first + n, count = all;
	int rc;

	if (cap < all) {
		free(v);
		free(keys);
		v = calloc((size_t)all * (size_t)ncpus, sizeof(*v));
		keys = calloc(all, sizeof(*keys));
		assert_true(v && keys);
		cap = all;
	}
	rc = bpf_map_lookup_batch(bpf_map__fd(map), NULL, &token, keys, v, &count, NULL);
	if (rc && errno != ENOENT)
		fail_msg("lookup_batch %s: %s", bpf_map__name(map), strerror(errno));
	assert_int_equal(count, all);
	for (uint32_t k = 0; k < n; k++) {
		assert_int_equal(keys[first + k], first + k);
		pkts[k] = 0;
		for (int c = 0; c < ncpus; c++)
			pkts[k] += v[(size_t)(first + k) * (size_t)ncpus + (size_t)c].packets;
	}
}

/* The kernel lane's flag counters of both table halves summed over CPUs. */
static void kernel_flag_counts(uint64_t out[2][SIPHON_XDP_FLAGS])
{
	static struct siphon_xdp_flag_counts *v;

	if (!v)
		assert_non_null(v = calloc((size_t)ncpus, sizeof(*v)));
	for (uint32_t half = 0; half < 2; half++) {
		assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.flag_stats), &half, v), 0);
		for (unsigned f = 0; f < SIPHON_XDP_FLAGS; f++) {
			out[half][f] = 0;
			for (int c = 0; c < ncpus; c++)
				out[half][f] += v[c].set[f];
		}
	}
}

/* The flags whose counter moved, each by one at most (fails otherwise). */
static void flags_moved(const uint64_t *a, const uint64_t *b, struct flagset *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned f = 0; f < SIPHON_MAX_FLAGS; f++) {
		if (b[f] == a[f])
			continue;
		if (b[f] != a[f] + 1)
			fail_msg("flag %u moved by %llu", f, (unsigned long long)(b[f] - a[f]));
		out->w[f / 64] |= 1ull << (f % 64);
	}
}

/* the index of the one entry that moved by one, -1 when none; fails on more */
static int moved(const uint64_t *a, const uint64_t *b, uint32_t n)
{
	int which = -1;

	for (uint32_t k = 0; k < n; k++) {
		if (a[k] == b[k])
			continue;
		assert_int_equal(b[k] - a[k], 1);
		assert_int_equal(which, -1);
		which = (int)k;
	}
	return which;
}

/* ---- running both lanes ---- */

void run_both(const uint8_t *f, size_t len, struct result *r)
{
	static uint64_t c0[N_COUNTERS], c1[N_COUNTERS], w0[XDP_REASON__COUNT],
		w1[XDP_REASON__COUNT], n0[SK_MAX_NODES], n1[SK_MAX_NODES],
		s0[SIP_REASON__COUNT], m0[SK_MAX_NODES * GEN_NODE_MSG_SLOTS],
		m1[SK_MAX_NODES * GEN_NODE_MSG_SLOTS], f0[2][SIPHON_XDP_FLAGS],
		f1[2][SIPHON_XDP_FLAGS], pf0[SIPHON_MAX_FLAGS];
	const uint32_t n_msg = cfg->tables.n_nodes * GEN_NODE_MSG_SLOTS;
	const uint32_t half = active_half(bpf_map__fd(skel->maps.generation));
	struct flagset other;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f, .data_size_in = (uint32_t)len,
		    .data_out = r->out, .data_size_out = sizeof(r->out), .repeat = 1);
	uint64_t *pn0 = calloc(cfg->tables.n_nodes + 1, sizeof(uint64_t));
	uint64_t *pm0 = calloc(n_msg + 1, sizeof(uint64_t));
	int k;

	assert_true(pn0 && pm0);
	sum_percpu(skel->maps.counters, 0, N_COUNTERS, c0);
	sum_percpu(skel->maps.up_why, 0, XDP_REASON__COUNT, w0);
	sum_percpu(skel->maps.node_stats, half * SK_MAX_NODES, SK_MAX_NODES, n0);
	sum_percpu(skel->maps.node_msg_stats, half * SK_MAX_NODES * GEN_NODE_MSG_SLOTS, n_msg, m0);
	kernel_flag_counts(f0);
	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(skel->progs.siphon_xdp), &o), 0);
	sum_percpu(skel->maps.counters, 0, N_COUNTERS, c1);
	sum_percpu(skel->maps.up_why, 0, XDP_REASON__COUNT, w1);
	sum_percpu(skel->maps.node_stats, half * SK_MAX_NODES, SK_MAX_NODES, n1);
	sum_percpu(skel->maps.node_msg_stats, half * SK_MAX_NODES * GEN_NODE_MSG_SLOTS, n_msg, m1);
	kernel_flag_counts(f1);
	flags_moved(f0[half], f1[half], &r->kflags);
	flags_moved(f0[half ^ 1], f1[half ^ 1], &other);
	if (other.w[0] | other.w[1])
		fail_msg("flag counters of the inactive half moved");
	r->action = (int)o.retval;
	r->out_len = o.data_size_out;
	k = moved(c0 + PKT_STATUS__COUNT, c1 + PKT_STATUS__COUNT, XDP_REASON__COUNT);
	assert_true(k >= 0);
	r->reason = (unsigned)k;
	k = moved(w0, w1, XDP_REASON__COUNT);
	r->why = k < 0 ? ~0u : (unsigned)k;
	r->knode = moved(n0, n1, SK_MAX_NODES);
	r->kmsg = moved(m0, m1, n_msg);

	memcpy(pn0, worker.c.node, cfg->tables.n_nodes * sizeof(uint64_t));
	memcpy(pm0, worker.c.node_msg, n_msg * sizeof(uint64_t));
	memcpy(s0, worker.c.sip_reason, sizeof(s0));
	memcpy(pf0, worker.c.flag, sizeof(pf0));
	memcpy(r->pout, f, len);
	r->pout_len = len;
	r->outcome = pipeline_process(&worker, r->pout, &r->pout_len, sizeof(r->pout));
	r->pnode = moved(pn0, worker.c.node, cfg->tables.n_nodes);
	r->pmsg = moved(pm0, worker.c.node_msg, n_msg);
	r->preason = moved(s0, worker.c.sip_reason, SIP_REASON__COUNT);
	flags_moved(pf0, worker.c.flag, &r->pflags);
	free(pn0);
	free(pm0);

	n_frames++;
	n_kernel[r->reason]++;
	if (r->why != ~0u)
		n_why[r->why]++;
}

bool kernel_decided(unsigned reason)
{
	return reason == XDP_REASON_KERNEL_FORWARD || reason == XDP_REASON_KERNEL_DROP_RULE ||
	       reason == XDP_REASON_KERNEL_PUNT_RULE;
}

/* The flags of cfg's expr flags: the kernel evaluates every one whose
 * inputs it knows, the pipeline (lazy) only those a rule reached needs. */
static void derived_flags(struct flagset *out)
{
	memset(out, 0, sizeof(*out));
	for (uint32_t i = 0; i < cfg->n_flags; i++)
		if (cfg->flags[i].kind == FLAG_KIND_EXPR)
			out->w[i / 64] |= 1ull << (i % 64);
}

/* The kernel's flag counters of a message it decided against the
 * pipeline's: a forward or punt counts what the pipeline counted, plus
 * derived flags; a drop counts a part of it (before the scan only the
 * source's, which counts even a datagram the pipeline never classifies:
 * then the pipeline counted nothing). */
static bool flags_break(const struct result *r, char *msg, size_t cap)
{
	struct flagset d;
	uint64_t extra = 0, missing = 0;

	derived_flags(&d);
	for (unsigned w = 0; w < FLAGSET_WORDS; w++) {
		extra |= r->kflags.w[w] & ~r->pflags.w[w] & ~d.w[w];
		if (r->reason != XDP_REASON_KERNEL_DROP_RULE)
			missing |= r->pflags.w[w] & ~r->kflags.w[w];
	}
	if (r->reason == XDP_REASON_KERNEL_DROP_RULE && !(r->pflags.w[0] | r->pflags.w[1]))
		extra = 0;
	if (!extra && !missing)
		return false;
	snprintf(msg, cap, "kernel flag counters %#llx:%#llx, pipeline's %#llx:%#llx",
		 (unsigned long long)r->kflags.w[1], (unsigned long long)r->kflags.w[0],
		 (unsigned long long)r->pflags.w[1], (unsigned long long)r->pflags.w[0]);
	return true;
}

/* The parity rule for one frame run by run_both(): NULL when it holds,
 * else what breaks it (in msg). */
const char *parity_break(const struct result *r, char *msg, size_t cap)
{
	if (!kernel_decided(r->reason)) {
		/* up: the AF_XDP redirect, no socket under test-run */
		if (r->reason != XDP_REASON_PASS_NO_XSK || r->why == ~0u || r->action != XDP_PASS) {
			snprintf(msg, cap, "reason %s, why %s, action %d: neither decided nor sent up",
				 reason_names[r->reason], r->why == ~0u ? "-" : reason_names[r->why],
				 r->action);
			return msg;
		}
		/* the AF_XDP lane classifies and counts it: no double count */
		if (r->kflags.w[0] | r->kflags.w[1]) {
			snprintf(msg, cap, "sent up (why %s) with kernel flag counters moved",
				 reason_names[r->why]);
			return msg;
		}
		return NULL;
	}
	if (flags_break(r, msg, cap))
		return msg;
	switch (r->reason) {
	case XDP_REASON_KERNEL_FORWARD:
		if (r->outcome != PIPELINE_FORWARD)
			snprintf(msg, cap, "kernel forwards, pipeline says %s",
				 pipeline_outcome_name(r->outcome));
		else if (r->action != XDP_TX && r->action != XDP_REDIRECT)
			snprintf(msg, cap, "kernel_forward with action %d", r->action);
		else if (r->knode != r->pnode)
			snprintf(msg, cap, "kernel node %d, pipeline node %d", r->knode, r->pnode);
		else if (r->kmsg < 0 || r->kmsg / (int)GEN_NODE_MSG_SLOTS != r->knode ||
			 r->kmsg != r->pmsg)
			snprintf(msg, cap, "node x message: kernel %d, pipeline %d (node %d)", r->kmsg,
				 r->pmsg, r->knode);
		else if (r->out_len != r->pout_len || memcmp(r->out, r->pout, r->out_len) != 0)
			snprintf(msg, cap, "output differs (kernel %u bytes, pipeline %zu)", r->out_len,
				 r->pout_len);
		else
			return NULL;
		return msg;
	case XDP_REASON_KERNEL_DROP_RULE:
		if (r->outcome == PIPELINE_DROP && r->action == XDP_DROP)
			return NULL;
		snprintf(msg, cap, "kernel drops (action %d), pipeline says %s", r->action,
			 pipeline_outcome_name(r->outcome));
		return msg;
	case XDP_REASON_KERNEL_PUNT_RULE:
		if (r->outcome == PIPELINE_PUNT && r->action == XDP_PASS)
			return NULL;
		snprintf(msg, cap, "kernel punts (action %d), pipeline says %s", r->action,
			 pipeline_outcome_name(r->outcome));
		return msg;
	}
	return NULL;
}

/* The parity rule for one frame (fails the test); returns the kernel's
 * reason, or for a frame sent up the up_why reason. */
unsigned check_parity(const char *name, const uint8_t *f, size_t len, struct result *r)
{
	char msg[256];

	run_both(f, len, r);
	if (parity_break(r, msg, sizeof(msg)))
		fail_msg("%s: %s", name, msg);
	return kernel_decided(r->reason) ? r->reason : r->why;
}

struct result res;

/* Every variant of one payload; returns how many the kernel decided. */
unsigned check_variants(const char *name, const uint8_t *pl, size_t plen,
			unsigned *reasons_plain)
{
	static uint8_t f[BUF_MAX];
	char what[256];
	unsigned decided = 0;

	for (int family = 4; family <= 6; family += 2)
		for (int vlans = 0; vlans <= 2; vlans++)
			for (int src = 0; src < SRC__COUNT; src++)
				for (size_t pad = 0; pad <= 6; pad += 6) {
					size_t len = mk_frame(f, family, vlans, (enum source)src, pl,
							      plen, pad);
					unsigned r;

					if (!len)
						return decided;
					snprintf(what, sizeof(what), "%s (IPv%d, %d VLAN, source %d, pad %zu)",
						 name, family, vlans, src, pad);
					r = check_parity(what, f, len, &res);
					decided += kernel_decided(res.reason);
					if (reasons_plain && family == 4 && vlans == 0 && src == SRC_PLAIN &&
					    pad == 0)
						*reasons_plain = r;
				}
	return decided;
}

/* The corpus message NAME (a .sip file of corpus_dir), malloc'd, or NULL
 * for any other file. */
uint8_t *corpus_read(const char *name, size_t *len)
{
	size_t nl = strlen(name);
	char path[4096];
	uint8_t *buf;
	FILE *fp;

	if (nl < 5 || strcmp(name + nl - 4, ".sip") != 0)
		return NULL;
	snprintf(path, sizeof(path), "%s/%s", corpus_dir, name);
	fp = fopen(path, "rb");
	assert_non_null(fp);
	buf = malloc(70000);
	assert_non_null(buf);
	*len = fread(buf, 1, 70000, fp);
	fclose(fp);
	return buf;
}

static struct siphon_bpf *load_tables(struct siphon_config *c);

/* lab.conf's lanes in place of parity.conf's (struct saved_lanes). */
void lab_enter(struct saved_lanes *sv)
{
	struct siphon_config *lab;
	struct config_error cerr;

	sv->cfg = cfg;
	sv->skel = skel;
	sv->worker = worker;
	if (config_load(lab_config_path, &lab, &cerr))
		fail_msg("%s", cerr.text);
	cfg = lab;
	skel = load_tables(lab);
	assert_non_null(skel);
	assert_int_equal(pipeline_worker_init(&worker, &lab->tables), 0);
	frame_vip6 = lab_vip6;
}

void lab_leave(struct saved_lanes *sv)
{
	pipeline_worker_free(&worker);
	siphon_bpf__destroy(skel);
	config_free(cfg);
	cfg = sv->cfg;
	skel = sv->skel;
	worker = sv->worker;
	frame_vip6 = vip6;
}

/* A frame of the SIPp capture (Ethernet, IPv4 or IPv6, UDP): where its
 * payload starts when it is a request to the lab's VIP (*v6 its family),
 * else 0 (a response to the caller). */
size_t capture_request(const uint8_t *d, size_t caplen, int *v6)
{
	const size_t l3 = 14;

	assert_true(caplen > l3 + 48);
	if (d[12] == 0x08 && d[13] == 0x00) {
		*v6 = 0;
		if (memcmp(d + l3 + 16, lab_vip4, 4) != 0)
			return 0;
		return l3 + (size_t)(d[l3] & 15) * 4 + 8;
	}
	assert_true(d[12] == 0x86 && d[13] == 0xdd);
	*v6 = 1;
	if (memcmp(d + l3 + 24, lab_vip6, 16) != 0)
		return 0;
	return l3 + 40 + 8;
}

static void print_verified(struct bpf_program *prog)
{
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) == 0)
		printf("# %s (kernel lane on): %u instructions, %u verified\n",
		       bpf_program__name(prog), info.xlated_prog_len / 8, info.verified_insns);
}

/* A skeleton with the kernel lane on and c's tables published (XDP_TX). */
static struct siphon_bpf *load_tables(struct siphon_config *c)
{
	char err[512];
	struct siphon_bpf *s = xdp_tables_load_unpinned(&c->tables, true, 0, err, sizeof(err));

	if (!s)
		fprintf(stderr, "%s\n", err);
	return s;
}

int parity_setup(void **state)
{
	struct config_error cerr;
	int rc;

	(void)state;
	ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0)
		return -1;
	if (config_load(config_path, &cfg, &cerr)) {
		fprintf(stderr, "%s\n", cerr.text);
		return -1;
	}
	skel = load_tables(cfg);
	if (!skel)
		return -1;
	print_verified(skel->progs.siphon_xdp);
	rc = pipeline_worker_init(&worker, &cfg->tables);
	if (rc) {
		fprintf(stderr, "pipeline_worker_init: %s\n", strerror(-rc));
		return -1;
	}
	return 0;
}

int parity_teardown(void **state)
{
	(void)state;
	printf("# %lu frames through both lanes; kernel reasons:", n_frames);
	for (unsigned r = 0; r < XDP_REASON__COUNT; r++)
		if (n_kernel[r])
			printf(" %s %lu", reason_names[r], n_kernel[r]);
	printf("\n# sent up because:");
	for (unsigned r = 0; r < XDP_REASON__COUNT; r++)
		if (n_why[r])
			printf(" %s %lu", reason_names[r], n_why[r]);
	printf("\n");
	pipeline_worker_free(&worker);
	siphon_bpf__destroy(skel);
	config_free(cfg);
	return 0;
}

/* nid_stats summed over CPUs and both halves, by enum sk_nid_stat */
void nid_stats_read(uint64_t out[SK_NID_STATS])
{
	int fd = bpf_map__fd(skel->maps.nid_stats), ncpu = libbpf_num_possible_cpus();
	struct siphon_xdp_counter *v = calloc((size_t)ncpu, sizeof(*v));

	assert_non_null(v);
	memset(out, 0, SK_NID_STATS * sizeof(uint64_t));
	for (uint32_t k = 0; k < 2 * SK_NID_STATS; k++) {
		assert_int_equal(bpf_map_lookup_elem(fd, &k, v), 0);
		for (int c = 0; c < ncpu; c++)
			out[k % SK_NID_STATS] += v[c].packets;
	}
	free(v);
}
