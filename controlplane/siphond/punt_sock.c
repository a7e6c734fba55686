/* The punt sockets: made, bound and kept in step with the tables; one
 * datagram in with where it was sent to, one answer out from there. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "punt_sock.h"
#include "siphond.h"

#ifndef IPV6_FREEBIND
#define IPV6_FREEBIND 78
#endif

static void sock_name(struct punt_sock *s)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(s->addr.family, s->addr.addr, a, sizeof(a));
	snprintf(s->name, sizeof(s->name), s->addr.family == AF_INET6 ? "[%s]:%u" : "%s:%u", a,
		 s->port);
}

/* FREEBIND: siphond may start before the VIP is on an interface.
 * PKTINFO: the address each datagram was sent to, the answer's source. */
static int sock_open(struct punt_sock *s)
{
	const int one = 1, v6 = s->addr.family == AF_INET6;
	struct sockaddr_storage ss;
	socklen_t sl = siphond_sockaddr(&s->addr, s->port, &ss);
	int fd = socket(s->addr.family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if ((v6 ? setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) ||
			  setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof(one)) ||
			  setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)) :
		  setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one)) ||
			  setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one))) ||
	    bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	s->fd = fd;
	return 0;
}

static bool same(const struct punt_sock *s, const struct self_addr *a, uint16_t port)
{
	return s->port == port && s->addr.family == a->family &&
	       memcmp(s->addr.addr, a->addr, a->family == AF_INET ? 4 : 16) == 0;
}

void punt_sockets_sync(struct punt *p, const struct compiled_tables *t)
{
	struct punt_sock next[PUNT_MAX_SOCKETS];
	unsigned n = 0;

	for (uint32_t a = 0; a < t->n_self_addrs; a++)
		for (uint32_t k = 0; k < t->n_ports && n < PUNT_MAX_SOCKETS; k++) {
			struct punt_sock *s = &next[n++];
			unsigned i;

			for (i = 0; i < p->n_socks; i++)
				if (p->socks[i].fd >= 0 && same(&p->socks[i], &t->self_addrs[a],
								 t->ports[k]))
					break;
			if (i < p->n_socks) { /* kept: the fd moves over */
				*s = p->socks[i];
				p->socks[i].fd = -1;
				continue;
			}
			*s = (struct punt_sock){ .fd = -1, .addr = t->self_addrs[a],
						 .port = t->ports[k] };
			sock_name(s);
			s->err = -sock_open(s);
			if (s->err) {
				p->c.bind_failed++;
				siphond_log("punts: cannot listen on UDP %s: %s; messages punted to it "
					    "go unanswered (retried at the next reload)",
					    s->name, strerror(s->err));
			} else {
				siphond_log("punts: listening on UDP %s", s->name);
			}
		}
	punt_sockets_close(p);
	memcpy(p->socks, next, n * sizeof(next[0]));
	p->n_socks = n;
}

void punt_sockets_close(struct punt *p)
{
	for (unsigned i = 0; i < p->n_socks; i++)
		if (p->socks[i].fd >= 0) {
			siphond_log("punts: no longer listening on UDP %s", p->socks[i].name);
			close(p->socks[i].fd);
			p->socks[i].fd = -1;
		}
	p->n_socks = 0;
}

struct punt_sock *punt_sock_by_fd(struct punt *p, int fd)
{
	for (unsigned i = 0; i < p->n_socks; i++)
		if (p->socks[i].fd == fd)
			return &p->socks[i];
	return NULL;
}

ssize_t punt_recv(struct punt_sock *s, uint8_t *buf, size_t cap, struct sockaddr_storage *from,
		  struct packet_meta *pm, int *flags)
{
	union {
		struct cmsghdr h;
		uint8_t b[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	} ctl;
	struct iovec iov = { buf, cap };
	struct msghdr mh = { .msg_name = from, .msg_namelen = sizeof(*from), .msg_iov = &iov,
			     .msg_iovlen = 1, .msg_control = ctl.b,
			     .msg_controllen = sizeof(ctl.b) };
	ssize_t got = recvmsg(s->fd, &mh, MSG_DONTWAIT | MSG_TRUNC);

	if (got < 0)
		return -1;
	*flags = mh.msg_flags;
	memset(pm, 0, sizeof(*pm));
	pm->transport = TRANSPORT_UDP;
	/* the bound address, unless PKTINFO says otherwise (it always does) */
	memcpy(pm->dst, s->addr.addr, sizeof(pm->dst));
	pm->dport = s->port;
	if (from->ss_family == AF_INET && s->addr.family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)from;

		pm->family = AF_INET;
		memcpy(pm->src, &in->sin_addr, 4);
		pm->sport = ntohs(in->sin_port);
	} else if (from->ss_family == AF_INET6 && s->addr.family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)from;

		pm->family = AF_INET6;
		memcpy(pm->src, &in6->sin6_addr, 16);
		pm->sport = ntohs(in6->sin6_port);
	}
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			memcpy(pm->dst, &pi.ipi_addr, 4);
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			memcpy(pm->dst, &pi.ipi6_addr, 16);
		}
	}
	return (ssize_t)((size_t)got > cap ? cap : (size_t)got);
}

int punt_send(const struct punt_sock *s, const uint8_t *buf, size_t len,
	      const struct sockaddr_storage *to, const struct packet_meta *pm)
{
	union {
		struct cmsghdr h;
		uint8_t b[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	} ctl;
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh = { .msg_name = (void *)to,
			     .msg_namelen = s->addr.family == AF_INET ?
						    sizeof(struct sockaddr_in) :
						    sizeof(struct sockaddr_in6),
			     .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b };
	struct cmsghdr *c;

	memset(&ctl, 0, sizeof(ctl));
	if (s->addr.family == AF_INET) {
		struct in_pktinfo pi = { 0 };

		memcpy(&pi.ipi_spec_dst, pm->dst, 4);
		mh.msg_controllen = CMSG_SPACE(sizeof(pi));
		c = CMSG_FIRSTHDR(&mh);
		*c = (struct cmsghdr){ .cmsg_len = CMSG_LEN(sizeof(pi)), .cmsg_level = IPPROTO_IP,
				       .cmsg_type = IP_PKTINFO };
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	} else {
		struct in6_pktinfo pi = { 0 };

		memcpy(&pi.ipi6_addr, pm->dst, 16);
		mh.msg_controllen = CMSG_SPACE(sizeof(pi));
		c = CMSG_FIRSTHDR(&mh);
		*c = (struct cmsghdr){ .cmsg_len = CMSG_LEN(sizeof(pi)),
				       .cmsg_level = IPPROTO_IPV6, .cmsg_type = IPV6_PKTINFO };
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	}
	return sendmsg(s->fd, &mh, MSG_DONTWAIT) == (ssize_t)len ? 0 : -1;
}
