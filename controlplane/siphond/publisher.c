/* The attached fast paths: each a non-blocking socket handed over by the
 * RPC server, GENERATION messages out, ACKs in. Per fast path at most two
 * generations are referenced: the one being written and the newest one
 * waiting (a newer publication replaces it), so memory stays bounded and a
 * slow or stuck fast path never holds the daemon up; one that takes no
 * byte for PUB_STALL_S is dropped. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "ack_reader.h"
#include "siphond.h"

struct fastpath {
	int fd; /* -1: a free slot */
	char name[PUB_NAME_MAX];
	pid_t pid;          /* 0: unknown */
	time_t attached;    /* wall clock */
	uint64_t runs;      /* what it said at attach */
	uint64_t acked;     /* the last generation it applied (or runs, when current) */
	uint64_t sent_max;  /* the highest generation written to it, whole or in part */
	uint64_t refused_gen;
	char refused[sizeof(((struct gen_wire_ack *)0)->reason)];
	struct generation *sending, *next;
	struct gen_wire_hdr hdr;
	size_t off;                 /* bytes of hdr + blob written */
	struct timespec last_progress;
	struct ack_reader in;
};

struct publisher {
	struct fastpath fp[PUB_MAX_FASTPATHS];
	struct pub_counters c;
};

static void mono_now(struct timespec *ts)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
}

int publisher_new(struct publisher **out)
{
	struct publisher *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	for (unsigned i = 0; i < PUB_MAX_FASTPATHS; i++)
		p->fp[i].fd = -1;
	*out = p;
	return 0;
}

static void fp_close(struct fastpath *f)
{
	close(f->fd);
	gen_unref(f->sending);
	gen_unref(f->next);
	*f = (struct fastpath){ .fd = -1 };
}

static void detach(struct publisher *p, struct fastpath *f, const char *why)
{
	siphond_log("fast path %s detached: %s", f->name, why);
	p->c.detached++;
	fp_close(f);
}

void publisher_free(struct publisher *p)
{
	if (!p)
		return;
	for (unsigned i = 0; i < PUB_MAX_FASTPATHS; i++)
		if (p->fp[i].fd >= 0)
			detach(p, &p->fp[i], "siphond stops");
	free(p);
}

bool publisher_full(const struct publisher *p)
{
	for (unsigned i = 0; i < PUB_MAX_FASTPATHS; i++)
		if (p->fp[i].fd < 0)
			return false;
	return true;
}

void publisher_count_refused(struct publisher *p)
{
	p->c.refused++;
}

const struct pub_counters *publisher_counters(const struct publisher *p)
{
	return &p->c;
}

/* Starts writing the waiting generation when nothing is being written. */
static void start_next(struct fastpath *f)
{
	if (f->sending || !f->next)
		return;
	f->sending = f->next;
	f->next = NULL;
	f->hdr = (struct gen_wire_hdr){ .magic = GEN_WIRE_MAGIC, .version = GEN_WIRE_VERSION,
					.type = GEN_WIRE_GENERATION, .length = f->sending->len };
	f->off = 0;
	if (f->sending->number > f->sent_max)
		f->sent_max = f->sending->number;
	mono_now(&f->last_progress);
}

static void queue(struct fastpath *f, struct generation *g)
{
	gen_unref(f->next);
	f->next = gen_ref(g);
	start_next(f);
}

/* Writes what it can; false when the fast path is gone. */
static bool flush(struct publisher *p, struct fastpath *f)
{
	while (f->sending) {
		size_t total = sizeof(f->hdr) + f->sending->len;
		struct iovec iov[2];
		struct msghdr m = { .msg_iov = iov };
		ssize_t w;

		if (f->off < sizeof(f->hdr)) {
			iov[m.msg_iovlen++] = (struct iovec){ (char *)&f->hdr + f->off,
							      sizeof(f->hdr) - f->off };
			iov[m.msg_iovlen++] = (struct iovec){ f->sending->blob, f->sending->len };
		} else {
			size_t boff = f->off - sizeof(f->hdr);

			iov[m.msg_iovlen++] = (struct iovec){ (char *)f->sending->blob + boff,
							      f->sending->len - boff };
		}
		w = sendmsg(f->fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0 && (errno == EAGAIN || errno == EINTR))
			return true;
		if (w <= 0) {
			char why[128];

			p->c.write_failed++;
			snprintf(why, sizeof(why), "writing generation %llu: %s",
				 (unsigned long long)f->sending->number,
				 w < 0 ? strerror(errno) : "nothing written");
			detach(p, f, why);
			return false;
		}
		f->off += (size_t)w;
		mono_now(&f->last_progress);
		if (f->off < total)
			continue;
		siphond_log("fast path %s: generation %llu sent (%zu bytes)", f->name,
			    (unsigned long long)f->sending->number, f->sending->len);
		gen_unref(f->sending);
		f->sending = NULL;
		start_next(f);
	}
	return true;
}

/* Handles one ACK; false when the fast path was dropped for it. */
static bool on_ack(struct publisher *p, struct fastpath *f, const struct gen_wire_ack *a)
{
	char why[256];

	if (a->generation > f->sent_max) {
		p->c.protocol_errors++;
		snprintf(why, sizeof(why), "protocol error: an ack of generation %llu, never sent "
			 "(sent up to %llu)", (unsigned long long)a->generation,
			 (unsigned long long)f->sent_max);
		detach(p, f, why);
		return false;
	}
	if (a->status == 0) {
		p->c.acks++;
		f->acked = a->generation;
		siphond_log("fast path %s acked generation %llu", f->name,
			    (unsigned long long)a->generation);
	} else {
		p->c.refusals++;
		f->refused_gen = a->generation;
		snprintf(f->refused, sizeof(f->refused), "%s", a->reason);
		siphond_log("fast path %s refused generation %llu: %s (%s); it keeps generation %llu",
			    f->name, (unsigned long long)a->generation, a->reason,
			    strerror(-a->status), (unsigned long long)f->acked);
	}
	return true;
}

/* Feeds bytes read from the fast path; false when it was dropped. */
static bool take_input(struct publisher *p, struct fastpath *f, const uint8_t *b, size_t len)
{
	while (len) {
		struct gen_wire_ack a;
		char err[256], why[300];
		size_t used;
		int rc = ack_read(&f->in, b, len, &used, &a, err, sizeof(err));

		if (rc < 0) {
			p->c.protocol_errors++;
			snprintf(why, sizeof(why), "protocol error: %s", err);
			detach(p, f, why);
			return false;
		}
		b += used;
		len -= used;
		if (rc == 1 && !on_ack(p, f, &a))
			return false;
	}
	return true;
}

int publisher_attach(struct publisher *p, int fd, const char *name, uint64_t runs,
		     const void *rest, size_t rest_len, struct generation *cur)
{
	struct fastpath *f = NULL;
	struct ucred cred;
	socklen_t clen = sizeof(cred);

	for (unsigned i = 0; i < PUB_MAX_FASTPATHS && !f; i++)
		if (p->fp[i].fd < 0)
			f = &p->fp[i];
	if (!f)
		return -ENOSPC;
	*f = (struct fastpath){ .fd = fd, .runs = runs, .attached = time(NULL) };
	snprintf(f->name, sizeof(f->name), "%s", name);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0)
		f->pid = cred.pid;
	p->c.attached++;
	if (runs == cur->number) {
		f->acked = runs;
		siphond_log("fast path %s (pid %d) attached, runs generation %llu: current",
			    f->name, (int)f->pid, (unsigned long long)runs);
	} else {
		siphond_log("fast path %s (pid %d) attached, runs generation %llu: sending %llu",
			    f->name, (int)f->pid, (unsigned long long)runs,
			    (unsigned long long)cur->number);
		queue(f, cur);
	}
	if (take_input(p, f, rest, rest_len))
		flush(p, f);
	return 0;
}

void publisher_publish(struct publisher *p, struct generation *g)
{
	for (unsigned i = 0; i < PUB_MAX_FASTPATHS; i++) {
		struct fastpath *f = &p->fp[i];

		if (f->fd < 0)
			continue;
		queue(f, g);
		p->c.published++;
		flush(p, f);
	}
}

size_t publisher_poll_fds(const struct publisher *p, struct pollfd *fds, size_t n)
{
	size_t k = 0;

	for (unsigned i = 0; i < PUB_MAX_FASTPATHS && k < n; i++)
		if (p->fp[i].fd >= 0)
			fds[k++] = (struct pollfd){
				.fd = p->fp[i].fd,
				.events = (short)(POLLIN | (p->fp[i].sending ? POLLOUT : 0)),
			};
	return k;
}

static void serve(struct publisher *p, struct fastpath *f, short revents)
{
	if (revents & (POLLIN | POLLHUP | POLLERR)) {
		uint8_t buf[4096];
		ssize_t r = recv(f->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
			detach(p, f, r == 0 ? "it closed the connection" : strerror(errno));
			return;
		}
		if (r > 0 && !take_input(p, f, buf, (size_t)r))
			return;
	}
	if (revents & POLLOUT)
		flush(p, f);
}

void publisher_handle(struct publisher *p, const struct pollfd *fds, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!fds[i].revents || fds[i].fd < 0)
			continue;
		for (unsigned k = 0; k < PUB_MAX_FASTPATHS; k++)
			if (p->fp[k].fd == fds[i].fd) {
				serve(p, &p->fp[k], fds[i].revents);
				break;
			}
	}
}

void publisher_tick(struct publisher *p)
{
	struct timespec now;

	mono_now(&now);
	for (unsigned i = 0; i < PUB_MAX_FASTPATHS; i++) {
		struct fastpath *f = &p->fp[i];
		char why[128];

		if (f->fd < 0 || !f->sending || now.tv_sec - f->last_progress.tv_sec < PUB_STALL_S)
			continue;
		p->c.stalled++;
		snprintf(why, sizeof(why), "stuck: took no byte of generation %llu for %d s",
			 (unsigned long long)f->sending->number, PUB_STALL_S);
		detach(p, f, why);
	}
}

json_t *publisher_json(const struct publisher *p)
{
	json_t *list = json_array();
	time_t now = time(NULL);

	for (unsigned i = 0; list && i < PUB_MAX_FASTPATHS; i++) {
		const struct fastpath *f = &p->fp[i];
		json_t *refused = f->refused_gen ?
			json_pack("{s:I, s:s}", "generation", (json_int_t)f->refused_gen, "reason",
				  f->refused) :
			json_null();
		json_t *o;

		if (f->fd < 0)
			continue;
		o = json_pack("{s:s, s:i, s:I, s:I, s:I, s:I, s:b, s:o?}", "name", f->name, "pid",
			      (int)f->pid, "attached", (json_int_t)f->attached, "attached_s",
			      (json_int_t)(now - f->attached), "runs", (json_int_t)f->runs,
			      "generation", (json_int_t)f->acked, "pending",
			      f->sending || f->next, "refused", refused);
		if (!o || json_array_append_new(list, o))
			return json_decref(list), NULL;
	}
	return list;
}
