/* Next hops from the kernel for siphon --io xdp (docs/afxdp.md "Next
 * hops"): over rtnetlink (libmnl), the route to each node (its gateway, or
 * the node itself on a connected subnet, and the interface it leaves by),
 * the default route per family (nat replies), the neighbour table's MAC for
 * each of those next hops and the egress interface's own MAC, published
 * into a struct next_hops (dataplane/next_hops.h) that the workers read
 * without a lock. A control thread follows RTNLGRP_NEIGH and the route
 * groups, and asks the kernel to resolve (RTM_NEWNEIGH with NTF_USE) a next
 * hop a worker found missing. */
#ifndef SIPHON_NEIGH_H
#define SIPHON_NEIGH_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "next_hops.h"
#include "siphon/tables.h"

struct nlmsghdr;
struct mnl_socket;

/* One neighbour message (RTM_NEWNEIGH / RTM_DELNEIGH), parsed. */
struct neigh_msg {
	bool deleted;
	int family, ifindex;
	uint8_t addr[16];
	bool has_lladdr;
	uint8_t lladdr[6];
	uint16_t state; /* NUD_* */
};

/* One route message (RTM_NEWROUTE), parsed: what a next hop needs. */
struct neigh_route {
	int family, oif;
	uint8_t dst_len, type;
	uint32_t table;
	bool has_gateway;
	uint8_t gateway[16];
};

/* What one entry of the published table (a node, or a family's gateway)
 * stands for. */
struct neigh_target {
	int family;       /* 0: unused (no gateway of this family) */
	uint8_t dst[16];  /* the node's address (gateways: unused) */
	bool routed;      /* a route to it leaves by the egress interface */
	bool off_egress;  /* a route exists, by another interface */
	int oif;
	uint8_t via[16];  /* the neighbour to look up: the gateway or dst */
	bool have;        /* a usable (NUD_VALID) neighbour entry */
	uint8_t mac[6];
	uint64_t asked_ms; /* the last resolution we asked for */
	bool configured;  /* the config gives the node's MAC: not asked for */
};

#define NEIGH_COUNTERS(X)                                                              \
	X(events, "neighbour and route messages received from the kernel")              \
	X(updates, "published entries that changed (a MAC, or resolved / lost)")         \
	X(resolve_asked, "next hops the kernel was asked to resolve (NTF_USE)")         \
	X(resyncs, "full refreshes: routes changed, or the event socket overran")      \
	X(netlink_errors, "requests the kernel refused or that failed (see stderr)")

struct neigh_counters {
#define X(id, help) _Atomic uint64_t id;
	NEIGH_COUNTERS(X)
#undef X
};

struct neigh_ctl;
/* Called from neigh_publish() with a node's index when its entry changed
 * (dataplane/xdp/xdp_hops.c copies it into the kernel lane's kt_nodes). */
typedef void (*neigh_node_hook)(void *ctx, const struct neigh_ctl *c, uint32_t node);

struct neigh_ctl {
	struct next_hops hops; /* what the workers read */
	neigh_node_hook on_node; /* NULL: none; set after neigh_open / neigh_init */
	void *on_node_ctx;
	uint32_t n;            /* targets: n_nodes, then the gateways (IPv4, IPv6) */
	struct neigh_target *tg;
	int egress_ifindex;
	struct mnl_socket *ev, *req;
	uint32_t seq;
	bool need_resync;
	pthread_t thread;
	bool started;
	_Atomic bool stop;
	struct neigh_counters c;
};

/* Sockets, the egress interface's MAC, the routes and the neighbour table
 * now; asks the kernel to resolve what is missing and waits up to
 * wait_ms for it. 0 or -errno with a message naming what failed. */
int neigh_open(struct neigh_ctl *c, const struct compiled_tables *t, const char *egress,
	       unsigned wait_ms, char *err, size_t errlen);
/* The control thread: follows the kernel until neigh_close(). 0 or -errno. */
int neigh_start(struct neigh_ctl *c);
void neigh_close(struct neigh_ctl *c);

/* ---- the parts without sockets (tests/unit/test_neigh.c) ---- */

/* The targets of t (no sockets): every entry NONE. 0 or -ENOMEM. */
int neigh_init(struct neigh_ctl *c, const struct compiled_tables *t, int egress_ifindex);
/* 0, -ENOENT (another message type), -EINVAL (malformed). */
int neigh_parse(const struct nlmsghdr *nlh, struct neigh_msg *m);
int neigh_parse_route(const struct nlmsghdr *nlh, struct neigh_route *r);
/* Target i takes route r (the answer to a route request for its address, or
 * the default route for a gateway); clears its neighbour. */
void neigh_set_route(struct neigh_ctl *c, uint32_t i, const struct neigh_route *r);
/* Applies a neighbour message to every target whose next hop it is and
 * publishes what changed; the number of entries changed. */
unsigned neigh_apply(struct neigh_ctl *c, const struct neigh_msg *m);
/* Publishes target i's entry (its state from route and neighbour). */
void neigh_publish(struct neigh_ctl *c, uint32_t i);

const char *neigh_counter_name(unsigned i);
uint64_t neigh_counter(const struct neigh_ctl *c, unsigned i);
unsigned neigh_counter_count(void);

#endif
