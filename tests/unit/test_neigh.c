/* The neighbour module (dataplane/neigh.c): netlink messages built here
 * parsed and applied to the published next hops (no root needed); then, as
 * root in a private network namespace (unshare), the module against the
 * kernel: `ip neigh` entries picked up at start and followed when they
 * change or go, and a missing one resolved on request. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sched.h>
#include <sys/socket.h>
#include <time.h>
#include <cmocka.h>

#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include "neigh.h"

static const uint8_t MAC_A[6] = { 0x02, 0, 0, 0x18, 0x02, 0x21 };
static const uint8_t MAC_B[6] = { 0x02, 0, 0, 0x18, 0x02, 0x99 };

/* two IPv4 nodes 198.18.2.21 / .22 and one IPv6 node 2001:db8:18:2::23 */
static struct pool_node nodes[3];
static struct compiled_tables tables;

static void make_tables(void)
{
	memset(nodes, 0, sizeof(nodes));
	memset(&tables, 0, sizeof(tables));
	nodes[0].addr.family = nodes[1].addr.family = AF_INET;
	inet_pton(AF_INET, "198.18.2.21", nodes[0].addr.addr);
	inet_pton(AF_INET, "198.18.2.22", nodes[1].addr.addr);
	nodes[2].addr.family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8:18:2::23", nodes[2].addr.addr);
	tables.nodes = nodes;
	tables.n_nodes = 3;
}

static struct nlmsghdr *neigh_msg(char *buf, uint16_t type, int family, int ifindex,
				  const char *addr, const uint8_t *mac, uint16_t state)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ndmsg *nd;
	uint8_t a[16];

	nlh->nlmsg_type = type;
	nd = mnl_nlmsg_put_extra_header(nlh, sizeof(*nd));
	nd->ndm_family = (uint8_t)family;
	nd->ndm_ifindex = ifindex;
	nd->ndm_state = state;
	inet_pton(family, addr, a);
	mnl_attr_put(nlh, NDA_DST, family == AF_INET ? 4 : 16, a);
	if (mac)
		mnl_attr_put(nlh, NDA_LLADDR, 6, mac);
	return nlh;
}

static struct nlmsghdr *route_msg(char *buf, int family, int oif, const char *gw, uint8_t type)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rt;
	uint8_t a[16];

	nlh->nlmsg_type = RTM_NEWROUTE;
	rt = mnl_nlmsg_put_extra_header(nlh, sizeof(*rt));
	rt->rtm_family = (uint8_t)family;
	rt->rtm_type = type;
	rt->rtm_table = RT_TABLE_MAIN;
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)oif);
	if (gw) {
		inet_pton(family, gw, a);
		mnl_attr_put(nlh, RTA_GATEWAY, family == AF_INET ? 4 : 16, a);
	}
	return nlh;
}

static enum next_hop_state node_state(struct neigh_ctl *c, uint32_t i, uint8_t mac[6])
{
	return next_hop_unpack(atomic_load(&c->hops.node[i]), mac);
}

static void parse_messages(void **state)
{
	char buf[512];
	struct neigh_msg m;
	struct neigh_route r;
	uint8_t a[4];

	(void)state;
	assert_int_equal(neigh_parse(neigh_msg(buf, RTM_NEWNEIGH, AF_INET, 7, "198.18.2.21", MAC_A,
					       NUD_REACHABLE), &m), 0);
	inet_pton(AF_INET, "198.18.2.21", a);
	assert_false(m.deleted);
	assert_int_equal(m.family, AF_INET);
	assert_int_equal(m.ifindex, 7);
	assert_memory_equal(m.addr, a, 4);
	assert_true(m.has_lladdr);
	assert_memory_equal(m.lladdr, MAC_A, 6);
	assert_int_equal(m.state, NUD_REACHABLE);

	assert_int_equal(neigh_parse(neigh_msg(buf, RTM_DELNEIGH, AF_INET6, 3, "2001:db8::1", NULL,
					       NUD_FAILED), &m), 0);
	assert_true(m.deleted);
	assert_false(m.has_lladdr);
	assert_int_equal(m.family, AF_INET6);

	/* an IPv4 address in an IPv6 message: malformed */
	{
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
		struct ndmsg *nd;

		nlh->nlmsg_type = RTM_NEWNEIGH;
		nd = mnl_nlmsg_put_extra_header(nlh, sizeof(*nd));
		nd->ndm_family = AF_INET6;
		mnl_attr_put(nlh, NDA_DST, 4, a);
		assert_int_equal(neigh_parse(nlh, &m), -EINVAL);
	}
	/* a bridge FDB entry, a route message: not ours */
	assert_int_equal(neigh_parse(neigh_msg(buf, RTM_NEWNEIGH, AF_BRIDGE, 3, "198.18.2.21", MAC_A,
					       NUD_REACHABLE), &m), -ENOENT);
	assert_int_equal(neigh_parse(route_msg(buf, AF_INET, 3, NULL, RTN_UNICAST), &m), -ENOENT);

	assert_int_equal(neigh_parse_route(route_msg(buf, AF_INET, 5, "198.18.3.1", RTN_UNICAST), &r), 0);
	assert_int_equal(r.oif, 5);
	assert_true(r.has_gateway);
	inet_pton(AF_INET, "198.18.3.1", a);
	assert_memory_equal(r.gateway, a, 4);
	assert_int_equal(r.type, RTN_UNICAST);
	assert_int_equal(neigh_parse_route(route_msg(buf, AF_INET6, 5, NULL, RTN_UNICAST), &r), 0);
	assert_false(r.has_gateway);
}

static void apply_messages(void **state)
{
	struct neigh_ctl c;
	struct neigh_route on_link = { .family = AF_INET, .oif = 4, .type = RTN_UNICAST };
	struct neigh_route via_gw = { .family = AF_INET, .oif = 4, .type = RTN_UNICAST,
				      .has_gateway = true };
	struct neigh_route other_if = { .family = AF_INET6, .oif = 9, .type = RTN_UNICAST };
	struct neigh_msg m;
	char buf[512];
	uint8_t mac[6];
	uint32_t gen;

	(void)state;
	make_tables();
	assert_int_equal(neigh_init(&c, &tables, 4), 0);
	/* nothing known: no route yet */
	assert_int_equal(node_state(&c, 0, mac), NEXT_HOP_NO_ROUTE);

	inet_pton(AF_INET, "198.18.2.1", via_gw.gateway);
	neigh_set_route(&c, 0, &on_link);  /* .21 on the egress' subnet */
	neigh_set_route(&c, 1, &via_gw);   /* .22 behind 198.18.2.1 */
	neigh_set_route(&c, 2, &other_if); /* the IPv6 node leaves by another interface */
	for (uint32_t i = 0; i < c.n; i++)
		neigh_publish(&c, i);
	assert_int_equal(node_state(&c, 0, mac), NEXT_HOP_NONE);
	assert_int_equal(node_state(&c, 1, mac), NEXT_HOP_NONE);
	assert_int_equal(node_state(&c, 2, mac), NEXT_HOP_NO_ROUTE);

	/* .21's entry: node 0 resolved, nothing else */
	gen = atomic_load(&c.hops.generation);
	neigh_parse(neigh_msg(buf, RTM_NEWNEIGH, AF_INET, 4, "198.18.2.21", MAC_A, NUD_REACHABLE), &m);
	assert_int_equal(neigh_apply(&c, &m), 1);
	assert_int_equal(node_state(&c, 0, mac), NEXT_HOP_OK);
	assert_memory_equal(mac, MAC_A, 6);
	assert_int_equal(node_state(&c, 1, mac), NEXT_HOP_NONE);
	assert_int_equal(atomic_load(&c.hops.generation), gen + 1);
	/* the same entry on another interface: not the next hop */
	neigh_parse(neigh_msg(buf, RTM_NEWNEIGH, AF_INET, 5, "198.18.2.22", MAC_B, NUD_REACHABLE), &m);
	assert_int_equal(neigh_apply(&c, &m), 0);
	/* the gateway's entry resolves node 1, which is behind it */
	neigh_parse(neigh_msg(buf, RTM_NEWNEIGH, AF_INET, 4, "198.18.2.1", MAC_B, NUD_STALE), &m);
	assert_int_equal(neigh_apply(&c, &m), 1);
	assert_int_equal(node_state(&c, 1, mac), NEXT_HOP_OK);
	assert_memory_equal(mac, MAC_B, 6);
	/* a changed MAC (a failover) is followed */
	neigh_parse(neigh_msg(buf, RTM_NEWNEIGH, AF_INET, 4, "198.18.2.21", MAC_B, NUD_REACHABLE), &m);
	assert_int_equal(neigh_apply(&c, &m), 1);
	assert_int_equal(node_state(&c, 0, mac), NEXT_HOP_OK);
	assert_memory_equal(mac, MAC_B, 6);
	/* FAILED / INCOMPLETE, or deleted: gone */
	neigh_parse(neigh_msg(buf, RTM_NEWNEIGH, AF_INET, 4, "198.18.2.21", NULL, NUD_FAILED), &m);
	assert_int_equal(neigh_apply(&c, &m), 1);
	assert_int_equal(node_state(&c, 0, mac), NEXT_HOP_NONE);
	neigh_parse(neigh_msg(buf, RTM_DELNEIGH, AF_INET, 4, "198.18.2.1", MAC_B, NUD_STALE), &m);
	assert_int_equal(neigh_apply(&c, &m), 1);
	assert_int_equal(node_state(&c, 1, mac), NEXT_HOP_NONE);

	/* a worker's read of a NONE entry raises its want flag, an OK one not */
	assert_int_equal(next_hops_read(&c.hops, &c.hops.node[1], 1, mac), NEXT_HOP_NONE);
	assert_int_equal(atomic_load(&c.hops.want[1]), 1);
	assert_int_equal(atomic_load(&c.hops.want[0]), 0);
	neigh_close(&c);
}

/* ---- root: the module against the kernel, in a private namespace ---- */

__attribute__((format(printf, 1, 2))) static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* Waits up to 5 s (a shared, busy machine) for node i to reach st (with mac when OK). */
static bool wait_for(struct neigh_ctl *c, uint32_t i, enum next_hop_state st, const uint8_t *want)
{
	for (int k = 0; k < 500; k++) {
		uint8_t mac[6];

		if (node_state(c, i, mac) == st && (!want || !memcmp(mac, want, 6)))
			return true;
		usleep(10000);
	}
	return false;
}

static void kernel_table(void **state)
{
	struct neigh_ctl c;
	char err[256] = "";
	uint8_t mac[6];
	FILE *p;
	char line[256] = "";

	(void)state;
	if (getuid() != 0 || unshare(CLONE_NEWNET) != 0) {
		skip(); /* root only */
		return;
	}
	make_tables();
	assert_int_equal(sh("ip link add nh0 type veth peer name nh1 && ip link set lo up && "
			    "ip link set nh0 address 02:00:00:18:00:01 up && ip link set nh1 up && "
			    "ip addr add 198.18.2.1/24 dev nh0 && ip -6 addr add 2001:db8:18:2::1/64 dev nh0 nodad && "
			    "ip neigh add 198.18.2.21 lladdr 02:00:00:18:02:21 dev nh0 nud permanent"), 0);
	assert_int_equal(neigh_open(&c, &tables, "nh0", 200, err, sizeof(err)), 0);
	assert_int_equal(neigh_start(&c), 0);
	/* picked up at start; the egress MAC is the source */
	assert_int_equal(node_state(&c, 0, mac), NEXT_HOP_OK);
	assert_memory_equal(mac, MAC_A, 6);
	assert_int_equal(next_hop_unpack(atomic_load(&c.hops.src), mac), NEXT_HOP_OK);
	assert_memory_equal(mac, ((uint8_t[]){ 0x02, 0, 0, 0x18, 0, 0x01 }), 6);
	/* nobody answers for .22 on the veth: asked for, not resolved */
	assert_int_equal(node_state(&c, 1, mac), NEXT_HOP_NONE);
	assert_true(atomic_load(&c.c.resolve_asked) >= 1);
	/* ... and the ask made the kernel create the entry and solicit */
	p = popen("ip -4 neigh show 198.18.2.22 dev nh0", "r");
	assert_non_null(p);
	if (!fgets(line, sizeof(line), p))
		line[0] = 0;
	pclose(p);
	assert_non_null(strstr(line, "198.18.2.22"));

	/* changed: followed */
	assert_int_equal(sh("ip neigh replace 198.18.2.21 lladdr 02:00:00:18:02:99 dev nh0 nud permanent"), 0);
	assert_true(wait_for(&c, 0, NEXT_HOP_OK, MAC_B));
	/* an entry appears for .22 */
	assert_int_equal(sh("ip neigh replace 198.18.2.22 lladdr 02:00:00:18:02:21 dev nh0 nud reachable"), 0);
	assert_true(wait_for(&c, 1, NEXT_HOP_OK, MAC_A));
	/* deleted: NONE, and a worker's read has it asked for again */
	assert_int_equal(sh("ip neigh del 198.18.2.21 dev nh0"), 0);
	assert_true(wait_for(&c, 0, NEXT_HOP_NONE, NULL));
	/* a route change: the node now behind a gateway on the link */
	assert_int_equal(sh("ip route add 198.18.2.22/32 via 198.18.2.2 dev nh0"), 0);
	assert_int_equal(sh("ip neigh replace 198.18.2.2 lladdr 02:00:00:18:02:99 dev nh0 nud permanent"), 0);
	assert_true(wait_for(&c, 1, NEXT_HOP_OK, MAC_B));
	/* the IPv6 node on nh0's subnet, an entry added later */
	assert_int_equal(sh("ip -6 neigh replace 2001:db8:18:2::23 lladdr 02:00:00:18:02:21 dev nh0 nud permanent"), 0);
	if (!wait_for(&c, 2, NEXT_HOP_OK, MAC_A))
		fail_msg("IPv6 node: routed %d off_egress %d oif %d have %d (egress %d)", c.tg[2].routed,
			 c.tg[2].off_egress, c.tg[2].oif, c.tg[2].have, c.egress_ifindex);
	/* no route at all: NO_ROUTE */
	assert_int_equal(sh("ip addr del 198.18.2.1/24 dev nh0"), 0); /* its routes go with it */
	assert_true(wait_for(&c, 1, NEXT_HOP_NO_ROUTE, NULL));
	neigh_close(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_messages),
		cmocka_unit_test(apply_messages),
		cmocka_unit_test(kernel_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
