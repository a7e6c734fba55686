/* test-parity's node-id cases (test_parity.c; parity.h; issues 11 and
 * 14): responses by the nid of their top Via, in-dialog requests by that
 * of their top Route, else their Request-URI, through both lanes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parity.h"

/* The node of parity.conf named id, or -1 */
static int node_of(const char *id)
{
	for (uint32_t i = 0; i < cfg->tables.n_nodes; i++)
		if (cfg->tables.nodes[i].id_len == strlen(id) &&
		    memcmp(cfg->tables.nodes[i].id, id, strlen(id)) == 0)
			return (int)i;
	return -1;
}

/* What a nid case expects: forwarded in the kernel to the node the id
 * names (by nid), forwarded in the kernel by the hash (the nid chose
 * nothing), or up as to_userspace_nid (the kernel cannot be sure). The
 * pipeline's node is the reference in every case (check_parity()). */
enum nid_want { NID_NODE, NID_HASH, NID_UP };

struct nid_case {
	char kind;        /* 'r': a 200 to INVITE, its top Via the text; 'b': a BYE */
	const char *via;  /* 'r': the top Via value */
	const char *route; /* 'b': the top Route value, or NULL */
	const char *ruri; /* 'b': the Request-URI */
	enum nid_want want;
	const char *node; /* NID_NODE: its id; NID_HASH with a node: not this one (down) */
};

static size_t nid_msg(char *msg, size_t cap, const struct nid_case *c, size_t i, bool in_dialog)
{
	int n;

	if (c->kind == 'r')
		n = snprintf(msg, cap,
			     "SIP/2.0 200 OK\r\n"
			     "Via: %s\r\n"
			     "Via: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK-1-1-0\r\n"
			     "From: sipp <sip:sipp@192.0.2.7:5062>;tag=1SIPpTag001\r\n"
			     "To: service <sip:service@198.18.0.10:5060>;tag=as5f2a\r\n"
			     "Call-ID: nid-%zu@192.0.2.7\r\n"
			     "CSeq: 1 INVITE\r\n"
			     "Content-Length: 0\r\n"
			     "\r\n", c->via, i);
	else
		n = snprintf(msg, cap,
			     "BYE %s SIP/2.0\r\n"
			     "Via: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK-n%zu\r\n"
			     "%s%s%s"
			     "From: <sip:sipp@192.0.2.7>;tag=1SIPpTag001\r\n"
			     "To: <sip:service@198.18.0.10>%s\r\n"
			     "Call-ID: nid-%zu@192.0.2.7\r\n"
			     "CSeq: 2 BYE\r\n"
			     "Content-Length: 0\r\n"
			     "\r\n", c->ruri, i, c->route ? "Route: " : "", c->route ? c->route : "",
			     c->route ? "\r\n" : "", in_dialog ? ";tag=as5f2a" : "", i);
	assert_true(n > 0 && (size_t)n < cap);
	return (size_t)n;
}

static void nid_run(const struct nid_case *cases, size_t n_cases, const char *phase)
{
	char msg[1024], what[1400];

	for (size_t i = 0; i < n_cases; i++) {
		const struct nid_case *c = &cases[i];
		size_t len = nid_msg(msg, sizeof(msg), c, i, true);
		unsigned plain = ~0u;

		snprintf(what, sizeof(what), "%s: %s", phase,
			 c->kind == 'r' ? c->via : c->route ? c->route : c->ruri);
		check_variants(what, (const uint8_t *)msg, len, &plain);
		/* the plain variant again, for its nodes */
		{
			static uint8_t f[BUF_MAX];

			check_parity(what, f, mk_frame(f, 4, 0, SRC_PLAIN, (const uint8_t *)msg, len, 0),
				     &res);
		}
		assert_int_equal(res.outcome, PIPELINE_FORWARD);
		switch (c->want) {
		case NID_NODE:
			if (res.reason != XDP_REASON_KERNEL_FORWARD || res.knode != node_of(c->node))
				fail_msg("%s: want %s by nid in the kernel, got %s node %d (pipeline %d)",
					 what, c->node, reason_names[res.reason], res.knode, res.pnode);
			break;
		case NID_HASH:
			if (res.reason != XDP_REASON_KERNEL_FORWARD ||
			    (c->node && res.knode == node_of(c->node)))
				fail_msg("%s: want the hash in the kernel, got %s node %d", what,
					 reason_names[res.reason], res.knode);
			break;
		case NID_UP:
			if (res.why != XDP_REASON_UP_NID)
				fail_msg("%s: want to_userspace_nid, got %s (why %s)", what,
					 reason_names[res.reason],
					 res.why == ~0u ? "-" : reason_names[res.why]);
			break;
		}
		/* an initial request: a nid is never looked at */
		if (c->kind == 'b') {
			len = nid_msg(msg, sizeof(msg), c, i, false);
			check_variants(what, (const uint8_t *)msg, len, &plain);
			assert_int_equal(plain, XDP_REASON_KERNEL_FORWARD);
		}
	}
}

/* Responses by the nid of their top Via, in-dialog requests by that of
 * their top Route, else their Request-URI, in the kernel as in
 * common/dispatch.c: the same node, the same fallbacks (a nid naming no
 * node of the core pool, another pool's node, a node that is down: the
 * next span or the hash), only nodes of the pool the route chose; what
 * the kernel cannot be sure of goes up as to_userspace_nid. Every
 * variant of every case keeps the parity rule. */
void nid_dispatch(void **state)
{
	static const char long_id[] = "b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1";
	static char long_via[160], long_ruri[160];
	const struct nid_case cases[] = {
		{ 'r', "SIP/2.0/UDP 198.18.0.10;branch=z9hG4bK-a;nid=b2", 0, 0, NID_NODE, "b2" },
		{ 'r', "SIP/2.0/UDP 198.18.0.10:5060;branch=z9hG4bK-a;NID=b3", 0, 0, NID_NODE, "b3" },
		{ 'r', "sip/2.0/udp 198.18.0.10;nid=b1;branch=z9hG4bK-a", 0, 0, NID_NODE, "b1" },
		{ 'r', "SIP/2.0/UDP 198.18.0.10;rport;nid=b3;received=192.0.2.7", 0, 0, NID_NODE, "b3" },
		{ 'r', "SIP/2.0/UDP 198.18.0.10;branch=nid;xnid=b1;nid=b2", 0, 0, NID_NODE, "b2" },
		{ 'r', "SIP/2.0/UDP 198.18.0.10;nId=b1>x", 0, 0, NID_NODE, "b1" },
		{ 'r', "SIP/2.0/UDP nid.example.com;branch=z9hG4bK-a;nid=b3 ", 0, 0, NID_NODE, "b3" },
		{ 'r', "SIP/2.0/UDP 198.18.0.10;branch=z9hG4bK-a;nid=B2", 0, 0, NID_HASH, 0 },
		{ 'r', "SIP/2.0/UDP 198.18.0.10;branch=z9hG4bK-a;nid=p1", 0, 0, NID_HASH, "p1" },
		{ 'r', "SIP/2.0/UDP 198.18.0.10;branch=z9hG4bK-a;nid=n1", 0, 0, NID_HASH, "n1" },
		{ 'r', "SIP/2.0/UDP 198.18.0.10;branch=z9hG4bK-a;nid=bx", 0, 0, NID_HASH, 0 },
		{ 'r', "SIP/2.0/UDP 198.18.0.10;branch=z9hG4bK-a;nid=b2x", 0, 0, NID_HASH, 0 },
		{ 'r', "SIP/2.0/UDP 198.18.0.10;branch=z9hG4bK-a;nid=b1!", 0, 0, NID_HASH, 0 },
		{ 'r', "SIP/2.0/UDP 198.18.0.10;branch=z9hG4bK-a;nid=", 0, 0, NID_HASH, 0 },
		{ 'r', "SIP/2.0/UDP 198.18.0.10;nid=;nid=b2", 0, 0, NID_HASH, 0 },
		{ 'r', "SIP/2.0/UDP 198.18.0.10;nid= b2", 0, 0, NID_HASH, 0 },
		{ 'r', "SIP/2.0/UDP 198.18.0.10;nid =b2", 0, 0, NID_HASH, 0 },
		{ 'r', "SIP/2.0/UDP 198.18.0.10;nidb2;nid", 0, 0, NID_HASH, 0 },
		{ 'r', "SIP/2.0/UDP 198.18.0.10;branch=z9hG4bK-a; nid=b2", 0, 0, NID_UP, 0 },
		{ 'r', "SIP/2.0/UDP [2001:db8::1]:5060;nid=b2", 0, 0, NID_UP, 0 },
		{ 'r', "SIP/2.0/UDP  198.18.0.10;nid=b2", 0, 0, NID_UP, 0 },
		{ 'r', "SIP / 2.0 / UDP 198.18.0.10;nid=b2", 0, 0, NID_UP, 0 },
		{ 'r', long_via, 0, 0, NID_UP, 0 },
		{ 'b', 0, "<sip:198.18.0.10;lr;nid=b2>", "sip:service@198.18.0.10", NID_NODE, "b2" },
		{ 'b', 0, "<sip:198.18.0.10;lr;NID=b3>", "sip:service@198.18.0.10;nid=b1", NID_NODE, "b3" },
		{ 'b', 0, "<sip:198.18.0.10;lr;nid=p1>", "sip:service@198.18.0.10;nid=b3", NID_NODE, "b3" },
		{ 'b', 0, "<sip:198.18.0.10;lr;nid=zz>", "sip:service@198.18.0.10;nid=zz", NID_HASH, 0 },
		{ 'b', 0, "<sip:198.18.0.10;lr>", "sip:service@198.18.0.10;nid=b1", NID_NODE, "b1" },
		{ 'b', 0, 0, "sip:service@198.18.0.10;transport=udp;nid=b2", NID_NODE, "b2" },
		{ 'b', 0, 0, "sip:nid=b2@198.18.0.10", NID_HASH, 0 },
		{ 'b', 0, 0, "sip:service@198.18.0.10;nid=n1", NID_HASH, "n1" },
		{ 'b', 0, "<sip:198.18.0.10;lr;nid=>", "sip:service@198.18.0.10;nid=b2", NID_NODE, "b2" },
		{ 'b', 0, "<sip:198.18.0.10;lr;nid=b1>, <sip:198.18.0.11;lr>", "sip:s@198.18.0.10", NID_UP, 0 },
		{ 'b', 0, "<sip:198.18.0.10;lr>, <sip:198.18.0.11;lr;nid=b1>", "sip:s@198.18.0.10", NID_UP, 0 },
		{ 'b', 0, "<sip:198.18.0.10;lr; nid=b1>", "sip:s@198.18.0.10", NID_UP, 0 },
		{ 'b', 0, 0, long_ruri, NID_UP, 0 },
	};
	/* b2 down: its nid falls to the next span or the hash, as dispatch.c */
	const struct nid_case down[] = {
		{ 'r', "SIP/2.0/UDP 198.18.0.10;branch=z9hG4bK-a;nid=b2", 0, 0, NID_HASH, 0 },
		{ 'r', "SIP/2.0/UDP 198.18.0.10;branch=z9hG4bK-a;nid=b3", 0, 0, NID_NODE, "b3" },
		{ 'b', 0, "<sip:198.18.0.10;lr;nid=b2>", "sip:service@198.18.0.10;nid=b1", NID_NODE, "b1" },
		{ 'b', 0, "<sip:198.18.0.10;lr;nid=b2>", "sip:service@198.18.0.10", NID_HASH, 0 },
		{ 'b', 0, 0, "sip:service@198.18.0.10;nid=b2", NID_HASH, 0 },
	};
	const int b2 = node_of("b2");
	uint64_t before[SK_NID_STATS], after[SK_NID_STATS];
	char err[256];

	(void)state;
	assert_true(b2 >= 0 && node_of("p1") >= 0);
	snprintf(long_via, sizeof(long_via), "SIP/2.0/UDP 198.18.0.10;nid=%s", long_id);
	snprintf(long_ruri, sizeof(long_ruri), "sip:service@198.18.0.10;nid=%s", long_id);
	nid_stats_read(before);
	nid_run(cases, sizeof(cases) / sizeof(cases[0]), "nid");
	nid_stats_read(after);
	/* the kernel counted its nid forwards by span, and the unknown nids */
	for (int k = 0; k < SK_NID_STATS; k++)
		assert_true(after[k] > before[k]);

	((struct pool_node *)cfg->tables.nodes)[b2].up = false;
	assert_int_equal(xdp_tables_publish(skel, &cfg->tables, 0, err, sizeof(err)), 0);
	nid_run(down, sizeof(down) / sizeof(down[0]), "nid, b2 down");
	((struct pool_node *)cfg->tables.nodes)[b2].up = true;
	assert_int_equal(xdp_tables_publish(skel, &cfg->tables, 0, err, sizeof(err)), 0);
}
