/* The punt sockets: one UDP socket per balancer address and SIP port, on
 * which the kernel stack delivers what the fast path punts (XDP_PASS, the
 * punt TAP; docs/afxdp.md). Each datagram is decided and answered by
 * punt_answer.c; the answer leaves from the address the request was sent
 * to. Counters by outcome feed `siphonctl state` (docs/siphond.md). */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "health_loop.h"
#include "punt.h"
#include "punt_sock.h"
#include "siphond.h"

#define READS_PER_TURN 64 /* per socket and poll turn: the RPC and the fast paths get their turn */

/* Counted by name: names are static strings (sip_reason names or ours). */
static void count_why(struct punt_why *w, unsigned *n, const char *name)
{
	for (unsigned i = 0; i < *n; i++)
		if (w[i].name == name || strcmp(w[i].name, name) == 0) {
			w[i].count++;
			return;
		}
	if (*n < PUNT_WHY_MAX)
		w[(*n)++] = (struct punt_why){ name, 1 };
	else
		w[PUNT_WHY_MAX - 1].count++; /* never expected: the names are few */
}

static void count_code(struct punt_code *c, uint16_t code)
{
	if (code >= 100 && code <= 699)
		c->n[code - 100]++;
}

/* Logs the 1st, 2nd, 4th, 8th... occurrence: visible, never a flood. */
static bool log_now(uint64_t count)
{
	return (count & (count - 1)) == 0;
}

static void tables_use(struct siphond *d)
{
	struct punt *p = d->punt;
	int rc;

	if (p->cls_ok)
		classifier_free(&p->cls);
	p->cls_ok = false;
	for (uint32_t i = 0; i < d->cfg->n_pools && i < TABLES_MAX_POOLS; i++)
		p->retry_after_s[i] = d->cfg->pools[i].retry_after_s;
	rc = classifier_init(&p->cls, &d->cfg->tables);
	if (rc) {
		p->c.tables_failed++;
		siphond_log("punts: the tables of generation %llu do not load (%s): punted "
			    "messages are counted bad, not answered",
			    (unsigned long long)d->cur->number, strerror(-rc));
		return;
	}
	p->cls_ok = true;
}

int punt_open(struct siphond *d, char *err, size_t errlen)
{
	d->punt = calloc(1, sizeof(*d->punt));
	if (!d->punt) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	tables_use(d);
	punt_sockets_sync(d->punt, &d->cfg->tables);
	return 0;
}

void punt_tables_changed(struct siphond *d)
{
	if (!d->punt)
		return;
	tables_use(d);
	punt_sockets_sync(d->punt, &d->cfg->tables);
}

void punt_close(struct siphond *d)
{
	struct punt *p = d->punt;

	if (!p)
		return;
	punt_sockets_close(p);
	if (p->cls_ok)
		classifier_free(&p->cls);
	free(p);
	d->punt = NULL;
}

size_t punt_poll_fds(const struct siphond *d, struct pollfd *fds, size_t n)
{
	const struct punt *p = d->punt;
	size_t k = 0;

	for (unsigned i = 0; p && i < p->n_socks && k < n; i++)
		if (p->socks[i].fd >= 0)
			fds[k++] = (struct pollfd){ .fd = p->socks[i].fd, .events = POLLIN };
	return k;
}

static void account(struct siphond *d, const struct punt_sock *s, const struct punt_result *r)
{
	struct punt_counters *c = &d->punt->c;

	switch (r->outcome) {
	case PUNT_ANSWERED_OPTIONS:
		count_code(&c->options, r->code);
		break;
	case PUNT_ANSWERED_REPLY:
		count_code(&c->replies, r->code);
		break;
	case PUNT_ANSWERED_STUN:
		c->stun++;
		break;
	case PUNT_ANSWERED_503:
		c->no_live_node++;
		break;
	case PUNT_PROBE_ANSWER:
		c->probe_answers++;
		break;
	case PUNT_UNANSWERED:
		count_why(c->unanswered, &c->n_unanswered, r->why);
		break;
	case PUNT_BAD:
		count_why(c->bad, &c->n_bad, r->why);
		if (log_now(++c->bad_total))
			siphond_log("punts: a datagram to %s is bad (%s); %llu so far", s->name,
				    r->why, (unsigned long long)c->bad_total);
		break;
	}
}

/* One datagram read from s: decided, answered, counted. */
static void one(struct siphond *d, struct punt_sock *s, size_t len, int flags,
		const struct sockaddr_storage *from, const struct packet_meta *pm)
{
	struct punt *p = d->punt;
	struct punt_result r = { .outcome = PUNT_BAD };
	const uint64_t now_ms = health_now_ms();

	p->c.received++;
	if (flags & MSG_TRUNC)
		r.why = "truncated";
	else if (!p->cls_ok)
		r.why = "no_tables";
	else if (!pm->family)
		r.why = "source_family";
	else
		punt_answer(&p->cls, now_ms, p->rbuf, len, pm, p->retry_after_s, p->abuf,
			    sizeof(p->abuf), &r);
	account(d, s, &r);
	if (r.outcome == PUNT_PROBE_ANSWER)
		siphond_probe_answer(d, p->rbuf, len, from, now_ms);
	if (r.outcome >= PUNT_PROBE_ANSWER)
		return;
	if (punt_send(s, p->abuf, r.len, from, pm) != 0) {
		p->c.send_failed++;
		if (log_now(p->c.send_failed))
			siphond_log("punts: an answer from %s could not be sent: %s; %llu so far",
				    s->name, strerror(errno),
				    (unsigned long long)p->c.send_failed);
	}
}

void punt_handle(struct siphond *d, const struct pollfd *fds, size_t n)
{
	struct punt *p = d->punt;

	for (size_t i = 0; p && i < n; i++) {
		struct punt_sock *s = punt_sock_by_fd(p, fds[i].fd);

		if (!s || !fds[i].revents)
			continue;
		for (unsigned k = 0; k < READS_PER_TURN; k++) {
			struct sockaddr_storage from;
			struct packet_meta pm;
			int flags;
			ssize_t got = punt_recv(s, p->rbuf, sizeof(p->rbuf), &from, &pm, &flags);

			if (got < 0) {
				if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
				    log_now(++p->c.read_failed))
					siphond_log("punts: read on %s: %s", s->name, strerror(errno));
				break;
			}
			one(d, s, (size_t)got, flags, &from, &pm);
		}
	}
}
