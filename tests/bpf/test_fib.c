/* The kernel lane's next hops from bpf_fib_lookup() (bpf/siphon.bpf.c
 * next_hop()), against the pipeline reading the same MACs from a struct
 * next_hops. BPF_PROG_TEST_RUN looks routes and neighbours up in the
 * caller's network namespace, so the test makes a private one (unshare)
 * with three veth pairs: fin0 (where SIP arrives, 198.18.1.1/24), fcore0
 * (the egress toward the nodes, 198.18.2.1/24, MAC 02:00:00:18:00:01) and
 * fother0 (198.18.3.1/24), forwarding on, and `ip neigh` entries for the
 * nodes of tests/bpf/fib.conf (the lab's config without any MAC).
 *
 *   resolved      a SIPp INVITE is forwarded in the kernel (XDP_REDIRECT to
 *                 the egress) to the pipeline's node, with the neighbour's
 *                 MAC and fcore0's, byte for byte the pipeline's frame
 *   changed       `ip neigh replace` with another MAC: the next frame has it
 *   no neighbour  the entry deleted: up to user space, counted
 *                 to_userspace_no_neighbour; the pipeline drops it as
 *                 no_neighbour and raises the node's want flag
 *   no route      the node routed by fother0 (not the egress): up, counted
 *                 to_userspace_no_route; the pipeline says no_route
 *   override      a MAC in the config beats the kernel's
 *   written hop   the next-hop thread's hook (neigh.c, xdp_hops.c) writes a
 *                 node's hop into kt_nodes: the frame leaves with exactly
 *                 those MACs (not the kernel's), hop_stats' fib_fallback
 *                 unmoved; the hop withdrawn (neighbour deleted, or the
 *                 route by another interface): bpf_fib_lookup() again,
 *                 the kernel's MAC, fib_fallback moved by one
 * Root only (77 otherwise). */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/socket.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "bpf_test.h"
#include "config.h"
#include "neigh.h"
#include "next_hops.h"
#include "pipeline.h"
#include "siphon/names.h"
#include "siphon/siphon_tables.h"
#include "siphon/siphon_xdp.h"
#include "siphon.skel.h"
#include "xdp_hops.h"
#include "xdp_tables.h"
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

static const char *conf_path;
static struct siphon_config *cfg;
static struct siphon_bpf *skel;
static struct pipeline_worker worker;
static struct next_hops hops;
static _Atomic uint64_t hop_nodes[8];
static _Atomic uint8_t hop_want[8 + 2];
static int if_in, if_core;

static const uint8_t LB_MAC[6] = { 0x02, 0, 0, 0x18, 0, 0x01 };
static const uint8_t CALLER_MAC[6] = { 0x02, 0, 0, 0x18, 0x01, 0x02 };
static const uint8_t NEW_MAC[6] = { 0x02, 0, 0, 0x18, 0x02, 0x99 };
static const uint8_t CONF_MAC[6] = { 0x02, 0, 0, 0x18, 0x02, 0x77 };

static const char *invite =
	"INVITE sip:service@198.18.0.10:5060 SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 198.18.1.2:5062;branch=z9hG4bK-1-1-0\r\n"
	"From: sipp <sip:sipp@198.18.1.2:5062>;tag=1SIPpTag001\r\n"
	"To: service <sip:service@198.18.0.10:5060>\r\n"
	"Call-ID: 1-4711@198.18.1.2\r\n"
	"CSeq: 1 INVITE\r\n"
	"Contact: sip:sipp@198.18.1.2:5062\r\n"
	"Max-Forwards: 70\r\n"
	"Content-Length: 0\r\n"
	"\r\n";

static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static void node_mac(unsigned node, uint8_t mac[6])
{
	const uint8_t m[6] = { 0x02, 0, 0, 0x18, 0x02, (uint8_t)(0x21 + node) };

	memcpy(mac, m, 6);
}

/* An IPv4 frame from the caller to the VIP:5060 carrying the INVITE. */
static size_t mk_frame(uint8_t *b)
{
	uint8_t macs[12];
	size_t plen = strlen(invite), off;

	memcpy(macs, LB_MAC, 6);
	memcpy(macs + 6, CALLER_MAC, 6);
	off = put_eth(b, macs, 0, 0x0800);
	memset(b + off, 0, 28);
	b[off] = 0x45;
	put16(b + off + 2, (unsigned)(20 + 8 + plen));
	b[off + 8] = 64;
	b[off + 9] = 17;
	inet_pton(AF_INET, "198.18.1.2", b + off + 12);
	inet_pton(AF_INET, "198.18.0.10", b + off + 16);
	put16(b + off + 20, 5062);
	put16(b + off + 22, 5060);
	put16(b + off + 24, (unsigned)(8 + plen));
	memcpy(b + off + 28, invite, plen);
	return off + 28 + plen;
}

static uint64_t percpu_sum(struct bpf_map *map, uint32_t key)
{
	static struct siphon_xdp_counter v[1024];
	int ncpus = libbpf_num_possible_cpus();
	uint64_t s = 0;

	assert_true(ncpus > 0 && ncpus <= 1024);
	if (bpf_map_lookup_elem(bpf_map__fd(map), &key, v))
		return 0;
	for (int c = 0; c < ncpus; c++)
		s += v[c].packets;
	return s;
}

struct outcome {
	int action;
	uint8_t out[2048];
	uint32_t out_len;
	int knode;        /* the node the kernel counted, or -1 */
	bool why_moved;   /* up_why[expect_why] moved by one */
	enum pipeline_outcome p;
	int pnode;
	uint8_t pout[2048];
	size_t pout_len;
};

/* One INVITE through the kernel lane (ingress fin0) and the pipeline. */
static void run(struct outcome *r, enum xdp_reason expect_why)
{
	uint8_t f[2048];
	size_t len = mk_frame(f);
	struct xdp_md ctx = { .ingress_ifindex = (uint32_t)if_in, .data_end = (uint32_t)len };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f, .data_size_in = (uint32_t)len,
		    .data_out = r->out, .data_size_out = sizeof(r->out), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);
	uint64_t n0[3], w0 = percpu_sum(skel->maps.up_why, expect_why), pn0[3];
	uint32_t node0 = active_half(bpf_map__fd(skel->maps.generation)) * SK_MAX_NODES;

	for (unsigned i = 0; i < 3; i++) {
		n0[i] = percpu_sum(skel->maps.node_stats, node0 + i);
		pn0[i] = worker.c.node[i];
	}
	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(skel->progs.siphon_xdp), &o), 0);
	r->action = (int)o.retval;
	if (getenv("FIB_DEBUG"))
		for (unsigned k = 0; k < XDP_REASON__COUNT; k++)
			if (percpu_sum(skel->maps.counters, PKT_STATUS__COUNT + k))
				fprintf(stderr, "reason %u: %llu\n", k,
					(unsigned long long)percpu_sum(skel->maps.counters, PKT_STATUS__COUNT + k));
	if (getenv("FIB_DEBUG"))
		for (unsigned k = 0; k < XDP_REASON__COUNT; k++)
			if (percpu_sum(skel->maps.up_why, k))
				fprintf(stderr, "up_why %u: %llu\n", k,
					(unsigned long long)percpu_sum(skel->maps.up_why, k));
	r->out_len = o.data_size_out;
	r->why_moved = percpu_sum(skel->maps.up_why, expect_why) == w0 + 1;
	r->knode = -1;
	for (unsigned i = 0; i < 3; i++)
		if (percpu_sum(skel->maps.node_stats, node0 + i) != n0[i])
			r->knode = (int)i;
	memcpy(r->pout, f, len);
	r->pout_len = len;
	r->p = pipeline_process(&worker, r->pout, &r->pout_len, sizeof(r->pout));
	r->pnode = -1;
	for (unsigned i = 0; i < 3; i++)
		if (worker.c.node[i] != pn0[i])
			r->pnode = (int)i;
}

/* The node the INVITE goes to (the pipeline's choice, all resolved). */
static int chosen_node(void)
{
	struct outcome r;

	run(&r, XDP_REASON_KERNEL_FORWARD);
	assert_int_equal(r.action, XDP_REDIRECT);
	assert_int_equal(r.p, PIPELINE_FORWARD);
	assert_int_equal(r.knode, r.pnode);
	return r.knode;
}

static void publish_hops(void)
{
	for (unsigned i = 0; i < 3; i++) {
		uint8_t m[6];

		node_mac(i, m);
		atomic_store(&hop_nodes[i], next_hop_pack(m, NEXT_HOP_OK));
	}
}

static void resolved(void **state)
{
	struct outcome r;
	uint8_t m[6];

	(void)state;
	publish_hops();
	run(&r, XDP_REASON_KERNEL_FORWARD);
	assert_int_equal(r.action, XDP_REDIRECT);
	assert_true(r.knode >= 0 && r.knode < 3);
	assert_int_equal(r.knode, r.pnode);
	node_mac((unsigned)r.knode, m);
	assert_memory_equal(r.out, m, 6);          /* the neighbour's MAC */
	assert_memory_equal(r.out + 6, LB_MAC, 6); /* fcore0's own */
	assert_int_equal(r.p, PIPELINE_FORWARD);
	assert_int_equal(r.out_len, r.pout_len);
	assert_memory_equal(r.out, r.pout, r.out_len);
}

static void changed(void **state)
{
	struct outcome r;
	int node = chosen_node();
	char ip[32];

	(void)state;
	snprintf(ip, sizeof(ip), "198.18.2.%d", 21 + node);
	assert_int_equal(sh("ip neigh replace %s lladdr 02:00:00:18:02:99 dev fcore0 nud reachable", ip), 0);
	atomic_store(&hop_nodes[node], next_hop_pack(NEW_MAC, NEXT_HOP_OK));
	run(&r, XDP_REASON_KERNEL_FORWARD);
	assert_int_equal(r.action, XDP_REDIRECT);
	assert_memory_equal(r.out, NEW_MAC, 6);
	assert_memory_equal(r.out, r.pout, r.out_len);
	assert_int_equal(sh("ip neigh replace %s lladdr 02:00:00:18:02:%d dev fcore0 nud permanent",
			    ip, 21 + node), 0);
	publish_hops();
}

static void no_neighbour(void **state)
{
	struct outcome r;
	int node = chosen_node();
	uint64_t before = worker.c.reason[PIPELINE_REASON_NO_NEIGHBOUR];
	static const uint8_t zero[6];

	(void)state;
	assert_int_equal(sh("ip neigh del 198.18.2.%d dev fcore0", 21 + node), 0);
	atomic_store(&hop_nodes[node], next_hop_pack(zero, NEXT_HOP_NONE));
	atomic_store(&hop_want[node], 0);
	run(&r, XDP_REASON_UP_NO_NEIGH);
	/* up (no AF_XDP socket under test-run: the redirect falls back to PASS) */
	assert_int_equal(r.action, XDP_PASS);
	assert_true(r.why_moved);
	assert_int_equal(r.knode, -1);
	assert_int_equal(r.p, PIPELINE_DROP);
	assert_int_equal(worker.c.reason[PIPELINE_REASON_NO_NEIGHBOUR], before + 1);
	assert_int_equal(atomic_load(&hop_want[node]), 1);
	assert_int_equal(sh("ip neigh replace 198.18.2.%d lladdr 02:00:00:18:02:%d dev fcore0 nud permanent",
			    21 + node, 21 + node), 0);
	publish_hops();
	assert_int_equal(chosen_node(), node);
}

static void no_route(void **state)
{
	struct outcome r;
	int node = chosen_node();
	uint64_t before = worker.c.reason[PIPELINE_REASON_NO_ROUTE];
	static const uint8_t zero[6];

	(void)state;
	assert_int_equal(sh("ip route add 198.18.2.%d/32 dev fother0", 21 + node), 0);
	atomic_store(&hop_nodes[node], next_hop_pack(zero, NEXT_HOP_NO_ROUTE));
	run(&r, XDP_REASON_UP_NO_ROUTE);
	assert_int_equal(r.action, XDP_PASS);
	assert_true(r.why_moved);
	assert_int_equal(r.p, PIPELINE_DROP);
	assert_int_equal(worker.c.reason[PIPELINE_REASON_NO_ROUTE], before + 1);
	assert_int_equal(sh("ip route del 198.18.2.%d/32 dev fother0", 21 + node), 0);
	publish_hops();
	assert_int_equal(chosen_node(), node);
}

static void override(void **state)
{
	struct outcome r;
	int node = chosen_node();
	struct pool_node *pn = (struct pool_node *)&cfg->tables.nodes[node];
	char err[256];

	(void)state;
	pn->has_mac = true;
	memcpy(pn->mac, CONF_MAC, 6);
	assert_int_equal(xdp_tables_publish(skel, &cfg->tables, if_core, err, sizeof(err)), 0);
	run(&r, XDP_REASON_KERNEL_FORWARD);
	assert_int_equal(r.action, XDP_REDIRECT);
	assert_memory_equal(r.out, CONF_MAC, 6);
	assert_memory_equal(r.out + 6, LB_MAC, 6);
	assert_memory_equal(r.out, r.pout, r.out_len);
	pn->has_mac = false;
	assert_int_equal(xdp_tables_publish(skel, &cfg->tables, if_core, err, sizeof(err)), 0);
}

/* The neighbour message the kernel would send for node's address. */
static struct neigh_msg neigh_of(int node, const uint8_t mac[6], bool deleted)
{
	struct neigh_msg m = { .deleted = deleted, .family = AF_INET, .ifindex = if_core,
			       .has_lladdr = true, .state = NUD_REACHABLE };
	char ip[32];

	snprintf(ip, sizeof(ip), "198.18.2.%d", 21 + node);
	inet_pton(AF_INET, ip, m.addr);
	memcpy(m.lladdr, mac, 6);
	return m;
}

static void written_hop(void **state)
{
	static const uint8_t HOP_MAC[6] = { 0x02, 0, 0, 0x18, 0x02, 0x55 };
	static const uint8_t SRC_MAC[6] = { 0x02, 0, 0, 0x18, 0x00, 0x02 };
	struct neigh_route route = { .family = AF_INET, .oif = 0, .type = RTN_UNICAST };
	struct neigh_ctl nc;
	struct xdp_hops xh;
	struct neigh_msg m;
	struct outcome r;
	int node = chosen_node();
	uint64_t fb = percpu_sum(skel->maps.hop_stats, SK_HOP_FIB_FALLBACK);
	uint8_t kmac[6];

	(void)state;
	assert_true(fb >= 1); /* every forward so far asked the kernel */
	assert_int_equal(neigh_init(&nc, &cfg->tables, if_core), 0);
	atomic_store(&nc.hops.src, next_hop_pack(SRC_MAC, NEXT_HOP_OK));
	route.oif = if_core;
	for (uint32_t i = 0; i < 3; i++)
		neigh_set_route(&nc, i, &route);
	xdp_hops_init(&xh, skel);
	xdp_hops_bind(&xh, active_half(bpf_map__fd(skel->maps.generation)), &nc);
	/* a neighbour event: the hook writes the node's hop */
	m = neigh_of(node, HOP_MAC, false);
	assert_int_equal(neigh_apply(&nc, &m), 1);
	assert_int_equal(xh.written, 1); /* this node's hop; the others have none */
	run(&r, XDP_REASON_KERNEL_FORWARD);
	assert_int_equal(r.action, XDP_REDIRECT);
	assert_int_equal(r.knode, r.pnode);
	assert_memory_equal(r.out, HOP_MAC, 6);
	assert_memory_equal(r.out + 6, SRC_MAC, 6);
	assert_int_equal(r.out_len, r.pout_len);
	assert_memory_equal(r.out + 12, r.pout + 12, r.out_len - 12);
	assert_int_equal(percpu_sum(skel->maps.hop_stats, SK_HOP_FIB_FALLBACK), fb);
	/* a second change goes to the other slot, packets switch to it */
	m = neigh_of(node, NEW_MAC, false);
	assert_int_equal(neigh_apply(&nc, &m), 1);
	run(&r, XDP_REASON_KERNEL_FORWARD);
	assert_memory_equal(r.out, NEW_MAC, 6);
	assert_int_equal(percpu_sum(skel->maps.hop_stats, SK_HOP_FIB_FALLBACK), fb);
	/* the neighbour gone: no hop, the kernel's lookup (its entry) again */
	m = neigh_of(node, NEW_MAC, true);
	assert_int_equal(neigh_apply(&nc, &m), 1);
	run(&r, XDP_REASON_KERNEL_FORWARD);
	assert_int_equal(r.action, XDP_REDIRECT);
	node_mac((unsigned)node, kmac);
	assert_memory_equal(r.out, kmac, 6);
	assert_memory_equal(r.out + 6, LB_MAC, 6);
	assert_memory_equal(r.out, r.pout, r.out_len);
	assert_int_equal(percpu_sum(skel->maps.hop_stats, SK_HOP_FIB_FALLBACK), fb + 1);
	/* resolved again, then its route by another interface: no hop either */
	m = neigh_of(node, HOP_MAC, false);
	neigh_apply(&nc, &m);
	run(&r, XDP_REASON_KERNEL_FORWARD);
	assert_memory_equal(r.out, HOP_MAC, 6);
	route.oif = (int)if_nametoindex("fother0");
	neigh_set_route(&nc, (uint32_t)node, &route);
	neigh_publish(&nc, (uint32_t)node);
	run(&r, XDP_REASON_KERNEL_FORWARD);
	assert_memory_equal(r.out, kmac, 6);
	assert_int_equal(percpu_sum(skel->maps.hop_stats, SK_HOP_FIB_FALLBACK), fb + 2);
	/* unbound: the thread's later changes write nothing */
	xdp_hops_unbind(&xh, 0);
	xdp_hops_unbind(&xh, 1);
	route.oif = if_core;
	neigh_set_route(&nc, (uint32_t)node, &route);
	m = neigh_of(node, HOP_MAC, false);
	neigh_apply(&nc, &m);
	run(&r, XDP_REASON_KERNEL_FORWARD);
	assert_memory_equal(r.out, kmac, 6);
	assert_int_equal(xh.failed, 0);
	neigh_close(&nc);
	xdp_hops_close(&xh);
}

static int setup(void **state)
{
	struct config_error cerr;
	char err[256];

	(void)state;
	if (sh("ip link set lo up && "
	       "ip link add fin0 type veth peer name fin1 && "
	       "ip link add fcore0 address 02:00:00:18:00:01 type veth peer name fcore1 && "
	       "ip link add fother0 type veth peer name fother1 && "
	       "for i in fin0 fin1 fcore0 fcore1 fother0 fother1; do ip link set $i up; done && "
	       "ip addr add 198.18.1.1/24 dev fin0 && ip addr add 198.18.2.1/24 dev fcore0 && "
	       "ip addr add 198.18.3.1/24 dev fother0 && "
	       "sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.forwarding=1 && "
	       "for n in 21 22 23; do ip neigh add 198.18.2.$n lladdr 02:00:00:18:02:$n dev fcore0 "
	       "nud permanent || exit 1; done"))
		return -1;
	if_in = (int)if_nametoindex("fin0");
	if_core = (int)if_nametoindex("fcore0");
	if (config_load(conf_path, &cfg, &cerr)) {
		fprintf(stderr, "%s: %s\n", conf_path, cerr.text);
		return -1;
	}
	if (cfg->tables.n_nodes != 3 || cfg->tables.has_mac || cfg->tables.nodes[0].has_mac) {
		fprintf(stderr, "%s: want three nodes and no MAC\n", conf_path);
		return -1;
	}
	skel = xdp_tables_load_unpinned(&cfg->tables, true, if_core, err, sizeof(err));
	if (!skel) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	if (pipeline_worker_init(&worker, &cfg->tables))
		return -1;
	hops.n_nodes = 3;
	hops.node = hop_nodes;
	hops.want = hop_want;
	atomic_store(&hops.src, next_hop_pack(LB_MAC, NEXT_HOP_OK));
	worker.nh = &hops;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pipeline_worker_free(&worker);
	if (skel)
		siphon_bpf__destroy(skel);
	config_free(cfg);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(resolved),
		cmocka_unit_test(changed),
		cmocka_unit_test(no_neighbour),
		cmocka_unit_test(no_route),
		cmocka_unit_test(override),
		cmocka_unit_test(written_hop),
	};

	if (argc < 2) {
		fprintf(stderr, "usage: %s fib.conf\n", argv[0]);
		return 2;
	}
	conf_path = argv[1];
	if (!bpf_usable())
		return 77;
	if (unshare(CLONE_NEWNET)) {
		fprintf(stderr, "skipped: unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return 77;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
