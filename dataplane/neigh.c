// SPDX-License-Identifier: Apache-2.0
/* Next hops from the kernel over rtnetlink with libmnl (neigh.h). */
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include "neigh.h"

/* The states with a usable link-layer address (the kernel's NUD_VALID,
 * which the uapi headers do not export): what bpf_fib_lookup() accepts. */
#define NEIGH_NUD_VALID (NUD_PERMANENT | NUD_NOARP | NUD_REACHABLE | NUD_PROBE | NUD_STALE | NUD_DELAY)
#define NEIGH_RX_BUF 32768 /* a dump's datagrams are at most a page; room for several */
#define NEIGH_REQ_BUF 512  /* one request */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static size_t alen(int family)
{
	return family == AF_INET ? 4 : 16;
}

/* ---- parsing ---- */

int neigh_parse(const struct nlmsghdr *nlh, struct neigh_msg *m)
{
	const struct ndmsg *nd;
	const struct nlattr *a;
	bool have_dst = false;

	if (nlh->nlmsg_type != RTM_NEWNEIGH && nlh->nlmsg_type != RTM_DELNEIGH)
		return -ENOENT;
	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(*nd))
		return -EINVAL;
	nd = mnl_nlmsg_get_payload(nlh);
	memset(m, 0, sizeof(*m));
	m->deleted = nlh->nlmsg_type == RTM_DELNEIGH;
	m->family = nd->ndm_family;
	m->ifindex = nd->ndm_ifindex;
	m->state = nd->ndm_state;
	if (m->family != AF_INET && m->family != AF_INET6)
		return -ENOENT; /* bridge FDB entries and the like */
	mnl_attr_for_each(a, nlh, sizeof(*nd)) {
		switch (mnl_attr_get_type(a)) {
		case NDA_DST:
			if (mnl_attr_get_payload_len(a) != alen(m->family))
				return -EINVAL;
			memcpy(m->addr, mnl_attr_get_payload(a), alen(m->family));
			have_dst = true;
			break;
		case NDA_LLADDR:
			/* Ethernet only: another link layer is not a next hop we can write */
			if (mnl_attr_get_payload_len(a) == 6) {
				memcpy(m->lladdr, mnl_attr_get_payload(a), 6);
				m->has_lladdr = true;
			}
			break;
		}
	}
	return have_dst ? 0 : -EINVAL;
}

int neigh_parse_route(const struct nlmsghdr *nlh, struct neigh_route *r)
{
	const struct rtmsg *rt;
	const struct nlattr *a;

	if (nlh->nlmsg_type != RTM_NEWROUTE)
		return -ENOENT;
	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(*rt))
		return -EINVAL;
	rt = mnl_nlmsg_get_payload(nlh);
	memset(r, 0, sizeof(*r));
	r->family = rt->rtm_family;
	r->dst_len = rt->rtm_dst_len;
	r->type = rt->rtm_type;
	r->table = rt->rtm_table;
	if (r->family != AF_INET && r->family != AF_INET6)
		return -ENOENT;
	mnl_attr_for_each(a, nlh, sizeof(*rt)) {
		switch (mnl_attr_get_type(a)) {
		case RTA_OIF:
			if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
				return -EINVAL;
			r->oif = (int)mnl_attr_get_u32(a);
			break;
		case RTA_TABLE:
			if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
				return -EINVAL;
			r->table = mnl_attr_get_u32(a);
			break;
		case RTA_GATEWAY:
			if (mnl_attr_get_payload_len(a) != alen(r->family))
				return -EINVAL;
			memcpy(r->gateway, mnl_attr_get_payload(a), alen(r->family));
			r->has_gateway = true;
			break;
		}
	}
	return 0;
}

/* ---- the table ---- */

int neigh_init(struct neigh_ctl *c, const struct compiled_tables *t, int egress_ifindex)
{
	memset(c, 0, sizeof(*c));
	c->n = t->n_nodes + 2;
	c->egress_ifindex = egress_ifindex;
	c->tg = calloc(c->n, sizeof(*c->tg));
	c->hops.node = calloc(t->n_nodes + 1, sizeof(*c->hops.node));
	c->hops.want = calloc(c->n, sizeof(*c->hops.want));
	if (!c->tg || !c->hops.node || !c->hops.want) {
		neigh_close(c);
		return -ENOMEM;
	}
	c->hops.n_nodes = t->n_nodes;
	for (uint32_t i = 0; i < t->n_nodes; i++) {
		c->tg[i].family = t->nodes[i].addr.family;
		c->tg[i].configured = t->nodes[i].has_mac;
		memcpy(c->tg[i].dst, t->nodes[i].addr.addr, 16);
	}
	c->tg[t->n_nodes + NEXT_HOP_GW4].family = AF_INET;
	c->tg[t->n_nodes + NEXT_HOP_GW6].family = AF_INET6;
	for (uint32_t i = 0; i < c->n; i++)
		neigh_publish(c, i);
	return 0;
}

static _Atomic uint64_t *entry_of(struct neigh_ctl *c, uint32_t i)
{
	return i < c->hops.n_nodes ? &c->hops.node[i] : &c->hops.gateway[i - c->hops.n_nodes];
}

void neigh_publish(struct neigh_ctl *c, uint32_t i)
{
	const struct neigh_target *tg = &c->tg[i];
	static const uint8_t zero[6];
	_Atomic uint64_t *e = entry_of(c, i);
	uint64_t v = !tg->routed ? next_hop_pack(zero, NEXT_HOP_NO_ROUTE)
		     : tg->have ? next_hop_pack(tg->mac, NEXT_HOP_OK)
				: next_hop_pack(zero, NEXT_HOP_NONE);

	if (atomic_load_explicit(e, memory_order_relaxed) == v)
		return;
	atomic_store_explicit(e, v, memory_order_release);
	atomic_fetch_add_explicit(&c->hops.generation, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&c->c.updates, 1, memory_order_relaxed);
	if (c->on_node && i < c->hops.n_nodes)
		c->on_node(c->on_node_ctx, c, i);
}

void neigh_set_route(struct neigh_ctl *c, uint32_t i, const struct neigh_route *r)
{
	struct neigh_target *tg = &c->tg[i];

	tg->have = false;
	tg->routed = r && r->type == RTN_UNICAST && r->oif == c->egress_ifindex;
	tg->off_egress = r && r->type == RTN_UNICAST && r->oif != c->egress_ifindex;
	tg->oif = r ? r->oif : 0;
	memcpy(tg->via, r && r->has_gateway ? r->gateway : tg->dst, 16);
}

unsigned neigh_apply(struct neigh_ctl *c, const struct neigh_msg *m)
{
	unsigned changed = 0;

	for (uint32_t i = 0; i < c->n; i++) {
		struct neigh_target *tg = &c->tg[i];
		uint64_t before = atomic_load_explicit(entry_of(c, i), memory_order_relaxed);

		if (!tg->routed || tg->family != m->family || tg->oif != m->ifindex ||
		    memcmp(tg->via, m->addr, alen(m->family)) != 0)
			continue;
		tg->have = !m->deleted && m->has_lladdr && (m->state & NEIGH_NUD_VALID);
		if (tg->have)
			memcpy(tg->mac, m->lladdr, 6);
		neigh_publish(c, i);
		changed += atomic_load_explicit(entry_of(c, i), memory_order_relaxed) != before;
	}
	return changed;
}

/* ---- requests ---- */

/* Sends nlh on the request socket and runs cb over the answer until it is
 * done. 0 or -errno. */
static int request(struct neigh_ctl *c, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	char buf[NEIGH_RX_BUF];
	unsigned portid = mnl_socket_get_portid(c->req);
	int rc;

	nlh->nlmsg_seq = ++c->seq;
	if (mnl_socket_sendto(c->req, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		ssize_t n = mnl_socket_recvfrom(c->req, buf, sizeof(buf));

		if (n < 0)
			return -errno;
		rc = mnl_cb_run(buf, (size_t)n, c->seq, portid, cb, data);
	} while (rc > MNL_CB_STOP);
	return rc < 0 ? -errno : 0;
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct neigh_route *r = data;

	return neigh_parse_route(nlh, r) == 0 ? MNL_CB_OK : MNL_CB_ERROR;
}

/* The route the kernel would take to target i's address. */
static int resolve_node_route(struct neigh_ctl *c, uint32_t i)
{
	char buf[NEIGH_REQ_BUF];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct neigh_target *tg = &c->tg[i];
	struct rtmsg *rt;
	struct neigh_route r;
	int rc;

	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK; /* the ack ends the answer */
	rt = mnl_nlmsg_put_extra_header(nlh, sizeof(*rt));
	rt->rtm_family = (unsigned char)tg->family;
	rt->rtm_dst_len = (unsigned char)(8 * alen(tg->family));
	mnl_attr_put(nlh, RTA_DST, alen(tg->family), tg->dst);
	rc = request(c, nlh, route_cb, &r);
	/* no route (ENETUNREACH, EHOSTUNREACH): a state, not a failure */
	neigh_set_route(c, i, rc ? NULL : &r);
	return rc == -ENETUNREACH || rc == -EHOSTUNREACH ? 0 : rc;
}

struct default_route {
	struct neigh_route best;
	bool found;
};

static int default_cb(const struct nlmsghdr *nlh, void *data)
{
	struct default_route *d = data;
	struct neigh_route r;

	if (neigh_parse_route(nlh, &r) == 0 && r.dst_len == 0 && r.table == RT_TABLE_MAIN &&
	    r.type == RTN_UNICAST && r.has_gateway && !d->found) {
		d->best = r;
		d->found = true;
	}
	return MNL_CB_OK;
}

/* The gateway of the main table's default route, per family (nat replies). */
static int resolve_gateway(struct neigh_ctl *c, int family)
{
	char buf[NEIGH_REQ_BUF];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct default_route d = { .found = false };
	struct rtmsg *rt;
	int rc;

	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	rt = mnl_nlmsg_put_extra_header(nlh, sizeof(*rt));
	rt->rtm_family = (unsigned char)family;
	rc = request(c, nlh, default_cb, &d);
	neigh_set_route(c, c->hops.n_nodes + (family == AF_INET ? NEXT_HOP_GW4 : NEXT_HOP_GW6),
			!rc && d.found ? &d.best : NULL);
	return rc;
}

static int neigh_cb(const struct nlmsghdr *nlh, void *data)
{
	struct neigh_ctl *c = data;
	struct neigh_msg m;

	if (neigh_parse(nlh, &m) == 0)
		neigh_apply(c, &m);
	return MNL_CB_OK;
}

/* Every route again, then the whole neighbour table; published at the end
 * so that no entry flaps to NONE in between. */
static int resync(struct neigh_ctl *c, char *err, size_t errlen)
{
	char buf[NEIGH_REQ_BUF];
	struct nlmsghdr *nlh;
	struct ndmsg *nd;
	struct neigh_target saved;
	int rc = 0;

	atomic_fetch_add_explicit(&c->c.resyncs, 1, memory_order_relaxed);
	for (uint32_t i = 0; i < c->hops.n_nodes && !rc; i++) {
		saved = c->tg[i];
		rc = resolve_node_route(c, i);
		if (rc)
			snprintf(err, errlen, "next hops: the route to node %u: %s", i, strerror(-rc));
		/* the same next hop: keep its MAC until the dump says otherwise */
		if (c->tg[i].routed && saved.routed && saved.oif == c->tg[i].oif &&
		    !memcmp(saved.via, c->tg[i].via, 16)) {
			c->tg[i].have = saved.have;
			memcpy(c->tg[i].mac, saved.mac, 6);
		}
	}
	if (!rc && (rc = resolve_gateway(c, AF_INET)) == 0)
		rc = resolve_gateway(c, AF_INET6);
	if (rc && !err[0])
		snprintf(err, errlen, "next hops: the default routes: %s", strerror(-rc));
	if (!rc) {
		nlh = mnl_nlmsg_put_header(buf);
		nlh->nlmsg_type = RTM_GETNEIGH;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		nd = mnl_nlmsg_put_extra_header(nlh, sizeof(*nd));
		nd->ndm_family = AF_UNSPEC;
		rc = request(c, nlh, neigh_cb, c);
		if (rc)
			snprintf(err, errlen, "next hops: the neighbour table: %s", strerror(-rc));
	}
	for (uint32_t i = 0; i < c->n; i++)
		neigh_publish(c, i);
	if (rc)
		atomic_fetch_add_explicit(&c->c.netlink_errors, 1, memory_order_relaxed);
	return rc;
}

/* Has the kernel resolve target i: RTM_NEWNEIGH with NTF_USE creates the
 * entry if needed and sends the solicitation, as a packet to it would. */
static int ask(struct neigh_ctl *c, uint32_t i)
{
	char buf[NEIGH_REQ_BUF];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct neigh_target *tg = &c->tg[i];
	struct ndmsg *nd;
	int rc;

	nlh->nlmsg_type = RTM_NEWNEIGH;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_ACK;
	nd = mnl_nlmsg_put_extra_header(nlh, sizeof(*nd));
	nd->ndm_family = (unsigned char)tg->family;
	nd->ndm_ifindex = tg->oif;
	nd->ndm_state = NUD_NONE;
	nd->ndm_flags = NTF_USE;
	mnl_attr_put(nlh, NDA_DST, alen(tg->family), tg->via);
	rc = request(c, nlh, NULL, NULL);
	atomic_fetch_add_explicit(&c->c.resolve_asked, 1, memory_order_relaxed);
	if (rc) {
		atomic_fetch_add_explicit(&c->c.netlink_errors, 1, memory_order_relaxed);
		fprintf(stderr, "siphon: next hops: asking the kernel to resolve next hop %u: %s\n", i,
			strerror(-rc));
	}
	return rc;
}

/* The next hops workers found missing (or all missing ones: all), at most
 * once a second each. */
static void ask_missing(struct neigh_ctl *c, bool all)
{
	uint64_t now = now_ms();

	for (uint32_t i = 0; i < c->n; i++) {
		struct neigh_target *tg = &c->tg[i];
		bool wanted = atomic_exchange_explicit(&c->hops.want[i], 0, memory_order_relaxed);

		if ((wanted || (all && i < c->hops.n_nodes)) && tg->routed && !tg->have &&
		    !tg->configured && now - tg->asked_ms >= 1000) {
			tg->asked_ms = now;
			ask(c, i);
		}
	}
}

static int event_cb(const struct nlmsghdr *nlh, void *data)
{
	struct neigh_ctl *c = data;
	struct neigh_msg m;

	atomic_fetch_add_explicit(&c->c.events, 1, memory_order_relaxed);
	if (nlh->nlmsg_type == RTM_NEWROUTE || nlh->nlmsg_type == RTM_DELROUTE)
		c->need_resync = true; /* rare: every route is asked for again */
	else if (neigh_parse(nlh, &m) == 0)
		neigh_apply(c, &m);
	return MNL_CB_OK;
}

/* Events for up to timeout_ms; then a resync if one is due. */
static void step(struct neigh_ctl *c, int timeout_ms)
{
	char buf[NEIGH_RX_BUF];
	struct pollfd p = { .fd = mnl_socket_get_fd(c->ev), .events = POLLIN };
	char err[256] = "";

	if (poll(&p, 1, timeout_ms) > 0) {
		for (;;) {
			ssize_t n = recv(p.fd, buf, sizeof(buf), MSG_DONTWAIT);

			if (n < 0) {
				if (errno == ENOBUFS) /* events lost: read everything again */
					c->need_resync = true;
				break;
			}
			mnl_cb_run(buf, (size_t)n, 0, 0, event_cb, c);
		}
	}
	if (c->need_resync) {
		c->need_resync = false;
		if (resync(c, err, sizeof(err)))
			fprintf(stderr, "siphon: %s\n", err);
	}
}

static bool all_nodes_known(const struct neigh_ctl *c)
{
	for (uint32_t i = 0; i < c->hops.n_nodes; i++)
		if (c->tg[i].routed && !c->tg[i].have && !c->tg[i].configured)
			return false;
	return true;
}

static int egress_mac(const char *ifname, uint8_t mac[6])
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		rc = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return rc;
}

int neigh_open(struct neigh_ctl *c, const struct compiled_tables *t, const char *egress,
	       unsigned wait_ms, char *err, size_t errlen)
{
	int ifindex = (int)if_nametoindex(egress), rc;
	uint8_t mac[6];
	uint64_t until;

	if (!ifindex) {
		snprintf(err, errlen, "next hops: %s: no such interface here", egress);
		return -ENODEV;
	}
	rc = egress_mac(egress, mac);
	if (rc) {
		snprintf(err, errlen, "next hops: the MAC of %s: %s", egress, strerror(-rc));
		return rc;
	}
	rc = neigh_init(c, t, ifindex);
	if (rc) {
		snprintf(err, errlen, "next hops: out of memory");
		return rc;
	}
	atomic_store_explicit(&c->hops.src, next_hop_pack(mac, NEXT_HOP_OK), memory_order_release);
	c->ev = mnl_socket_open(NETLINK_ROUTE);
	c->req = mnl_socket_open(NETLINK_ROUTE);
	if (!c->ev || !c->req ||
	    mnl_socket_bind(c->ev, RTMGRP_NEIGH | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE,
			    MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_bind(c->req, 0, MNL_SOCKET_AUTOPID) < 0) {
		rc = -errno;
		snprintf(err, errlen, "next hops: rtnetlink socket: %s", strerror(-rc));
		neigh_close(c);
		return rc;
	}
	{ /* a request the kernel never answers must not hang the control thread */
		struct timeval tv = { .tv_sec = 2 };
		setsockopt(mnl_socket_get_fd(c->req), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	/* subscribed first, then read: a change in between is not missed */
	rc = resync(c, err, errlen);
	if (rc) {
		neigh_close(c);
		return rc;
	}
	ask_missing(c, true);
	for (until = now_ms() + wait_ms; !all_nodes_known(c) && now_ms() < until;)
		step(c, 50);
	return 0;
}

static void *run(void *arg)
{
	struct neigh_ctl *c = arg;

	while (!atomic_load(&c->stop)) {
		step(c, 100);
		ask_missing(c, false);
	}
	return NULL;
}

int neigh_start(struct neigh_ctl *c)
{
	int rc = pthread_create(&c->thread, NULL, run, c);

	c->started = rc == 0;
	return -rc;
}

void neigh_close(struct neigh_ctl *c)
{
	if (c->started) {
		atomic_store(&c->stop, true);
		pthread_join(c->thread, NULL);
		c->started = false;
	}
	if (c->ev)
		mnl_socket_close(c->ev);
	if (c->req)
		mnl_socket_close(c->req);
	free(c->tg);
	free(c->hops.node);
	free(c->hops.want);
	c->ev = c->req = NULL;
	c->tg = NULL;
	c->hops.node = NULL;
	c->hops.want = NULL;
}

static const char *const counter_names[] = {
#define X(id, help) #id,
	NEIGH_COUNTERS(X)
#undef X
};

const char *neigh_counter_name(unsigned i)
{
	return i < neigh_counter_count() ? counter_names[i] : "?";
}

uint64_t neigh_counter(const struct neigh_ctl *c, unsigned i)
{
	const _Atomic uint64_t *v = (const _Atomic uint64_t *)&c->c + i;

	return i < neigh_counter_count() ? atomic_load_explicit(v, memory_order_relaxed) : 0;
}

unsigned neigh_counter_count(void)
{
	return sizeof(counter_names) / sizeof(counter_names[0]);
}
