/* The probe sockets and the loop's turn: OPTIONS out to every node on its
 * pool's schedule, answers and ICMP errors in, timeouts, and a new
 * generation when a node's verdict changed. Every socket is non-blocking
 * and every turn bounded (HL_BURST). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "health_loop.h"
#include "siphond.h"

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int fam_index(int family)
{
	return family == AF_INET6 ? 1 : 0;
}

socklen_t siphond_sockaddr(const struct self_addr *a, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		memcpy(&s4->sin_addr, a->addr, 4);
		return sizeof(*s4);
	}
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(port);
	memcpy(&s6->sin6_addr, a->addr, 16);
	return sizeof(*s6);
}

/* The address and port of a sockaddr equal a node's. */
static bool same_endpoint(const struct sockaddr_storage *ss, const struct self_addr *a, uint16_t port)
{
	if (ss->ss_family == AF_INET && a->family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

		return ntohs(s4->sin_port) == port && memcmp(&s4->sin_addr, a->addr, 4) == 0;
	}
	if (ss->ss_family == AF_INET6 && a->family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		return ntohs(s6->sin6_port) == port && memcmp(&s6->sin6_addr, a->addr, 16) == 0;
	}
	return false;
}

/* One UDP socket on the first control address of a family: IP_FREEBIND
 * (the address may come up later, e.g. a VIP), an ephemeral port (the
 * probes' Via names it), IP_RECVERR for ICMP. */
static int open_socket(struct health_loop *h, const struct self_addr *a)
{
	const int f = fam_index(a->family), one = 1;
	struct sockaddr_storage ss;
	socklen_t len = siphond_sockaddr(a, 0, &ss);
	int fd = socket(a->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	char text[INET6_ADDRSTRLEN];
	const char *step = "socket";

	inet_ntop(a->family, a->addr, text, sizeof(text));
	if (fd < 0)
		goto fail;
	step = "IP_FREEBIND";
	if (setsockopt(fd, a->family == AF_INET6 ? SOL_IPV6 : SOL_IP,
		       a->family == AF_INET6 ? IPV6_FREEBIND : IP_FREEBIND, &one, sizeof(one)) < 0)
		goto fail;
	step = a->family == AF_INET6 ? "IPV6_RECVERR" : "IP_RECVERR";
	if (setsockopt(fd, a->family == AF_INET6 ? SOL_IPV6 : SOL_IP,
		       a->family == AF_INET6 ? IPV6_RECVERR : IP_RECVERR, &one, sizeof(one)) < 0)
		goto fail;
	if (a->family == AF_INET6)
		setsockopt(fd, SOL_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	step = "bind";
	if (bind(fd, (struct sockaddr *)&ss, len) < 0)
		goto fail;
	step = "getsockname";
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		goto fail;
	h->fd[f] = fd;
	h->control[f].ip = *a;
	h->control[f].port = ntohs(a->family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						       : ((struct sockaddr_in *)&ss)->sin_port);
	h->sock_error[f][0] = '\0';
	siphond_log("probes from control address %s%s%s:%u", f ? "[" : "", text, f ? "]" : "",
		    h->control[f].port);
	return 0;
fail:
	snprintf(h->sock_error[f], sizeof(h->sock_error[f]), "probe socket on control address %s: "
		 "%s: %s; nodes of this family are not probed", text, step, strerror(errno));
	h->c.socket_failed++;
	siphond_log("%s", h->sock_error[f]);
	if (fd >= 0)
		close(fd);
	return -errno;
}

static void close_sockets(struct health_loop *h)
{
	for (int f = 0; f < 2; f++) {
		if (h->fd[f] >= 0)
			close(h->fd[f]);
		h->fd[f] = -1;
	}
}

void health_loop_rebind(struct siphond *d)
{
	struct health_loop *h = d->hl;
	const struct compiled_tables *t = &d->cfg->tables;
	bool want[2] = { false, false };

	for (uint32_t i = 0; !d->o.no_probes && i < t->n_control_addrs; i++) {
		const struct self_addr *a = &t->control_addrs[i];
		const int f = fam_index(a->family);

		if (want[f])
			continue;
		want[f] = true;
		if (h->fd[f] >= 0 && memcmp(&h->control[f].ip, a, sizeof(*a)) == 0)
			continue; /* the same address: keep the socket and its port */
		if (h->fd[f] >= 0)
			close(h->fd[f]);
		h->fd[f] = -1;
		open_socket(h, a);
	}
	for (int f = 0; f < 2; f++)
		if (!want[f] && h->fd[f] >= 0) {
			close(h->fd[f]);
			h->fd[f] = -1;
		}
	/* said once, not at every reload or pool change */
	if (d->o.no_probes && !h->told_unprobed)
		siphond_log("--no-probes: nodes are not probed and stay as they are");
	else if (!d->o.no_probes && !t->n_control_addrs && d->cfg->n_pools && !h->told_unprobed)
		siphond_log("no balancer control address: nodes are not probed and stay as they are");
	h->told_unprobed = d->o.no_probes || (!t->n_control_addrs && d->cfg->n_pools);
}

int health_loop_open(struct siphond *d, char *err, size_t errlen)
{
	struct health_loop *h = calloc(1, sizeof(*h));
	int rc;

	if (!h) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	h->fd[0] = h->fd[1] = -1;
	h->d = d;
	if (getrandom(&h->instance, sizeof(h->instance), GRND_NONBLOCK) != sizeof(h->instance))
		h->instance = (uint32_t)health_now_ms() ^ (uint32_t)getpid();
	d->hl = h;
	rc = health_set_new(d->cfg, NULL, health_now_ms(), &h->set);
	if (rc) {
		snprintf(err, errlen, "out of memory");
		return rc;
	}
	health_loop_rebind(d);
	return 0;
}

void health_loop_close(struct health_loop *h)
{
	if (!h)
		return;
	close_sockets(h);
	health_set_free(h->set);
	free(h);
}

size_t health_loop_poll_fds(const struct health_loop *h, struct pollfd *fds, size_t n)
{
	size_t k = 0;

	for (int f = 0; h && f < 2 && k < n; f++)
		if (h->fd[f] >= 0)
			fds[k++] = (struct pollfd){ .fd = h->fd[f], .events = POLLIN };
	return k;
}

int health_loop_timeout(const struct health_loop *h, int max_ms)
{
	uint64_t now, next;

	if (!h || (h->fd[0] < 0 && h->fd[1] < 0))
		return max_ms;
	now = health_now_ms();
	next = health_set_next_ms(h->set, now);
	if (next <= now)
		return 0;
	return next - now < (uint64_t)max_ms ? (int)(next - now) : max_ms;
}

static void node_name(const struct hl_pool *p, const struct health_node *n, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", p->cp->name, p->cp->nodes[n - p->nodes].name);
}

/* Logs a node's state change; health_loop_changes() publishes. */
static void note(struct health_loop *h, const struct hl_pool *p, const struct health_node *n,
		 enum health_state before)
{
	char name[2 * TABLES_NAME_MAX + 2];

	if (n->state == before)
		return;
	h->c.state_changes++;
	node_name(p, n, name, sizeof(name));
	siphond_log("node %s: %s -> %s (%s)", name, health_state_name(before),
		    health_state_name(n->state), health_why_name(n->why));
	events_node_change(h->d, p, (uint32_t)(n - p->nodes), before);
}

static void result(struct health_loop *h, struct hl_pool *p, struct health_node *n,
		   uint64_t now, const struct health_result *r)
{
	enum health_state before = n->state;

	health_probe_result(n, now, r);
	note(h, p, n, before);
}

void siphond_probe_answer(struct siphond *d, const uint8_t *buf, size_t len,
			  const struct sockaddr_storage *from, uint64_t now_ms)
{
	struct health_loop *h = d->hl;
	struct probe_answer a;
	struct hl_pool *p;
	struct health_node *n;

	if (!h)
		return;
	if (probe_answer_parse(buf, len, &a) != 0 || a.id.instance != h->instance) {
		h->c.answers_not_probe++;
		return;
	}
	n = health_set_node(h->set, a.id.node, &p);
	if (!n) {
		h->c.answers_unmatched++;
		return;
	}
	if (!same_endpoint(from, &p->cp->nodes[n - p->nodes].addr, p->cp->nodes[n - p->nodes].port)) {
		h->c.answers_wrong_source++;
		return;
	}
	if (!probe_answer_matches(&a, h->instance, a.id.node, n)) {
		h->c.answers_unmatched++;
		n->counters[HEALTH_CNT_STALE]++; /* late, or for a probe no longer out */
		return;
	}
	h->c.answers++;
	if (a.result.kind == HEALTH_RESULT_REPLY && a.result.code >= 200 && n->sent_us) {
		uint64_t us = now_us();

		n->rtt_last_us = us > n->sent_us ? us - n->sent_us : 0;
		n->rtt_sum_us += n->rtt_last_us;
		n->rtt_count++;
	}
	result(h, p, n, now_ms, &a.result);
}

/* An ICMP error queued for a probe: port unreachable fails every node at
 * that address and port at once. */
static void on_icmp(struct health_loop *h, const struct sockaddr_storage *to,
		    const struct sock_extended_err *ee, uint64_t now)
{
	const bool unreach = (ee->ee_origin == SO_EE_ORIGIN_ICMP && ee->ee_type == 3 &&
			      ee->ee_code == 3) ||
			     (ee->ee_origin == SO_EE_ORIGIN_ICMP6 && ee->ee_type == 1 &&
			      ee->ee_code == 4);
	const struct health_result r = { .kind = HEALTH_RESULT_ICMP_UNREACHABLE };
	bool found = false;

	if (!unreach) {
		h->c.icmp_other++;
		return;
	}
	for (uint32_t q = 0; q < h->set->n_pools; q++) {
		struct hl_pool *p = &h->set->pools[q];

		for (uint32_t i = 0; i < p->cp->n_nodes; i++)
			if (same_endpoint(to, &p->cp->nodes[i].addr, p->cp->nodes[i].port)) {
				found = true;
				result(h, p, &p->nodes[i], now, &r);
			}
	}
	if (found)
		h->c.icmp_unreachable++;
	else
		h->c.icmp_unmatched++;
}

static void read_errqueue(struct health_loop *h, int fd, uint64_t now)
{
	for (int k = 0; k < HL_BURST; k++) {
		uint8_t data[64], control[512];
		struct sockaddr_storage to;
		struct iovec iov = { data, sizeof(data) };
		struct msghdr m = { .msg_name = &to, .msg_namelen = sizeof(to), .msg_iov = &iov,
				    .msg_iovlen = 1, .msg_control = control,
				    .msg_controllen = sizeof(control) };

		if (recvmsg(fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			return;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
			if ((c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR) ||
			    (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR))
				on_icmp(h, &to, (const struct sock_extended_err *)CMSG_DATA(c), now);
	}
}

static void read_socket(struct siphond *d, int fd, uint64_t now)
{
	struct health_loop *h = d->hl;

	read_errqueue(h, fd, now);
	for (int k = 0; k < HL_BURST; k++) {
		uint8_t buf[4096];
		struct sockaddr_storage from;
		socklen_t flen = sizeof(from);
		ssize_t r = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &flen);

		if (r < 0) {
			/* a queued ICMP error makes recvfrom fail with its errno */
			if (errno == ECONNREFUSED || errno == EHOSTUNREACH || errno == ENETUNREACH) {
				read_errqueue(h, fd, now);
				continue;
			}
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				h->c.recv_failed++;
			return;
		}
		siphond_probe_answer(d, buf, (size_t)r, &from, now);
	}
}

static void send_probe(struct health_loop *h, struct hl_pool *p, uint32_t i, uint64_t now)
{
	const struct cfg_node *cn = &p->cp->nodes[i];
	struct health_node *n = &p->nodes[i];
	const int f = fam_index(cn->addr.family);
	const struct sip_endpoint node = { cn->addr, cn->port };
	struct sockaddr_storage ss;
	socklen_t sl = siphond_sockaddr(&cn->addr, cn->port, &ss);
	uint8_t buf[PROBE_MAX_BYTES];
	size_t len;
	struct probe_id id = { h->instance, p->first + i, 0 };

	if (h->fd[f] < 0)
		return; /* no socket of this family: counted when it failed */
	if (health_probe_sent(n, now, &id.seq) != 0)
		return;
	if (probe_build(&h->control[f], &node, &id, buf, sizeof(buf), &len) != 0) {
		h->c.build_failed++;
		return;
	}
	/* An ICMP error that another node's probe earned is reported by the
	 * next send on the socket, whoever it is for (and cleared by it): read
	 * the error queue and send again, or a dead node would fail a live
	 * node's probe (seen in the lab: b2 out while b1 was dead). */
	int tries = 0;
	while (sendto(h->fd[f], buf, len, MSG_DONTWAIT, (struct sockaddr *)&ss, sl) < 0) {
		if ((errno == ECONNREFUSED || errno == EHOSTUNREACH || errno == ENETUNREACH) &&
		    tries++ < 2) {
			read_errqueue(h, h->fd[f], now);
			continue;
		}
		/* the probe stays outstanding: it times out as a failure */
		h->c.send_failed++;
		return;
	}
	n->sent_us = now_us();
	h->c.probes_sent++;
}

static void run_pools(struct health_loop *h, uint64_t now)
{
	for (uint32_t q = 0; q < h->set->n_pools; q++) {
		struct hl_pool *p = &h->set->pools[q];
		uint32_t idx[HL_BURST], k;
		const struct health_result timeout = { .kind = HEALTH_RESULT_TIMEOUT };

		k = health_sched_timeouts(&p->sched, now, 4 * HL_BURST, idx, HL_BURST);
		for (uint32_t j = 0; j < k; j++)
			result(h, p, &p->nodes[idx[j]], now, &timeout);
		/* health_sched_due() ends Retry-After holds on its way */
		for (uint32_t j = 0; j < p->cp->n_nodes; j++)
			if (p->nodes[j].state == HEALTH_INACTIVE &&
			    p->nodes[j].why == HEALTH_WHY_RETRY_AFTER && p->nodes[j].until_ms <= now) {
				enum health_state before = p->nodes[j].state;

				health_expire(&p->nodes[j], now);
				note(h, p, &p->nodes[j], before);
			}
		k = health_sched_due(&p->sched, now, 4 * HL_BURST, idx, HL_BURST);
		for (uint32_t j = 0; j < k; j++)
			send_probe(h, p, idx[j], now);
	}
}

void health_loop_changes(struct siphond *d, const char *why)
{
	struct health_loop *h = d->hl;
	bool changed = false;
	char err[SIPHOND_ERR_MAX];

	for (uint32_t q = 0; q < h->set->n_pools; q++)
		for (uint32_t i = 0; i < h->set->pools[q].cp->n_nodes; i++)
			changed |= health_take_changed(&h->set->pools[q].nodes[i]);
	if (!changed)
		return;
	if (health_set_apply(h->set, d->cfg, health_now_ms() / 1000, true) != 0 ||
	    siphond_republish(d, why, err, sizeof(err)) < 0) {
		h->c.generation_failed++;
		return;
	}
	h->c.generations++;
}

void health_loop_handle(struct siphond *d, const struct pollfd *fds, size_t n)
{
	struct health_loop *h = d->hl;
	uint64_t now = health_now_ms();

	if (!h)
		return;
	for (size_t k = 0; k < n; k++)
		for (int f = 0; f < 2; f++)
			if (h->fd[f] >= 0 && fds[k].fd == h->fd[f] && fds[k].revents)
				read_socket(d, h->fd[f], now);
	run_pools(h, now);
	health_loop_changes(d, "health");
}

json_t *health_loop_counters_json(const struct health_loop *h)
{
	const struct hl_counters *c = &h->c;

	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
			 "s:I}",
			 "probes_sent", (json_int_t)c->probes_sent, "send_failed",
			 (json_int_t)c->send_failed, "build_failed", (json_int_t)c->build_failed,
			 "answers", (json_int_t)c->answers, "answers_not_probe",
			 (json_int_t)c->answers_not_probe, "answers_unmatched",
			 (json_int_t)c->answers_unmatched, "answers_wrong_source",
			 (json_int_t)c->answers_wrong_source, "icmp_unreachable",
			 (json_int_t)c->icmp_unreachable, "icmp_other", (json_int_t)c->icmp_other,
			 "icmp_unmatched", (json_int_t)c->icmp_unmatched, "recv_failed",
			 (json_int_t)c->recv_failed, "socket_failed", (json_int_t)c->socket_failed,
			 "state_changes", (json_int_t)c->state_changes, "generations",
			 (json_int_t)c->generations, "generation_failed",
			 (json_int_t)c->generation_failed, "admin", (json_int_t)c->admin);
}
