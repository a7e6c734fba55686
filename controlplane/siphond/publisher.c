/* The attached fast paths: each a non-blocking socket handed over by the
 * RPC server, GENERATION messages out, ACKs and COUNTERS snapshots in
 * (the last snapshot that checks is kept per fast path). Per fast path at most two
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
#include "siphon/gen_counters.h"
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
	void *snap;                 /* the last COUNTERS payload that checked */
	size_t snap_len;
	struct timespec snap_at;
	uint64_t snaps_refused;
};

/* The last snapshot of a fast path that detached, shown until one of the
 * same name attaches (a restarted siphon counts from 0 again). */
struct gone {
	char name[PUB_NAME_MAX];
	uint64_t acked;
	void *snap; /* NULL: a free slot */
	size_t snap_len;
	struct timespec snap_at;
	uint64_t refused;
};

struct publisher {
	struct fastpath fp[PUB_MAX_FASTPATHS];
	struct gone gone[PUB_MAX_FASTPATHS];
	struct pub_counters c;
	pub_limits_fn limits;
	void *limits_ctx;
	pub_snap_fn snap_fn;
	void *snap_ctx;
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
	ack_reader_free(&f->in);
	free(f->snap);
	*f = (struct fastpath){ .fd = -1 };
}

static void forget_gone(struct publisher *p, const char *name)
{
	for (unsigned i = 0; i < PUB_MAX_FASTPATHS; i++)
		if (p->gone[i].snap && strcmp(p->gone[i].name, name) == 0) {
			free(p->gone[i].snap);
			p->gone[i] = (struct gone){ 0 };
		}
}

/* Keeps f's snapshot (the oldest kept one makes room). */
static void keep_gone(struct publisher *p, struct fastpath *f)
{
	struct gone *g = &p->gone[0];

	if (!f->snap)
		return;
	forget_gone(p, f->name);
	for (unsigned i = 0; i < PUB_MAX_FASTPATHS; i++) {
		if (!p->gone[i].snap) {
			g = &p->gone[i];
			break;
		}
		if (p->gone[i].snap_at.tv_sec < g->snap_at.tv_sec)
			g = &p->gone[i];
	}
	free(g->snap);
	*g = (struct gone){ .acked = f->acked, .snap = f->snap, .snap_len = f->snap_len,
			    .snap_at = f->snap_at, .refused = f->snaps_refused };
	snprintf(g->name, sizeof(g->name), "%s", f->name);
	f->snap = NULL;
}

static void detach(struct publisher *p, struct fastpath *f, const char *why)
{
	siphond_log("fast path %s detached: %s", f->name, why);
	p->c.detached++;
	keep_gone(p, f);
	fp_close(f);
}

void publisher_free(struct publisher *p)
{
	if (!p)
		return;
	for (unsigned i = 0; i < PUB_MAX_FASTPATHS; i++)
		if (p->fp[i].fd >= 0)
			detach(p, &p->fp[i], "siphond stops");
	for (unsigned i = 0; i < PUB_MAX_FASTPATHS; i++)
		free(p->gone[i].snap);
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

/* Logs the 1st, 2nd, 4th, 8th... occurrence: visible, never a flood. */
static bool log_now(uint64_t count)
{
	return (count & (count - 1)) == 0;
}

/* A COUNTERS payload: checked against the generation it names when siphond
 * knows it (else against any generation's bounds), kept or refused. A
 * refusal is counted and logged; the connection stays: the framing held. */
static double age_s(const struct timespec *at, const struct timespec *now)
{
	return (double)(now->tv_sec - at->tv_sec) + (now->tv_nsec - at->tv_nsec) / 1e9;
}

static void on_counters(struct publisher *p, struct fastpath *f, void *payload, size_t len)
{
	struct gen_counters_limits lim = gen_counters_any;
	const struct gen_wire_counters *h = payload;
	char err[256];

	p->c.counters++;
	if (p->limits && len >= sizeof(*h))
		p->limits(p->limits_ctx, h->generation, &lim);
	if (gen_counters_check(payload, len, &lim, err, sizeof(err))) {
		p->c.counters_refused++;
		if (log_now(++f->snaps_refused))
			siphond_log("fast path %s: counters refused: %s; %llu so far", f->name, err,
				    (unsigned long long)f->snaps_refused);
		free(payload);
		return;
	}
	if (p->snap_fn)
		p->snap_fn(p->snap_ctx, f->name, payload, len);
	free(f->snap);
	f->snap = payload;
	f->snap_len = len;
	mono_now(&f->snap_at);
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
		if (rc == 2) {
			size_t plen;
			void *payload = ack_reader_take(&f->in, &plen);

			if (payload)
				on_counters(p, f, payload, plen);
		}
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
	forget_gone(p, f->name);
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

void publisher_set_snap_hook(struct publisher *p, pub_snap_fn fn, void *ctx)
{
	p->snap_fn = fn;
	p->snap_ctx = ctx;
}

void publisher_set_limits(struct publisher *p, pub_limits_fn fn, void *ctx)
{
	p->limits = fn;
	p->limits_ctx = ctx;
}

size_t publisher_snapshots(const struct publisher *p, struct pub_snapshot *out, size_t max)
{
	struct timespec now;
	size_t k = 0;

	mono_now(&now);
	for (unsigned i = 0; i < PUB_MAX_FASTPATHS && k < max; i++) {
		const struct fastpath *f = &p->fp[i];

		if (f->fd < 0)
			continue;
		out[k++] = (struct pub_snapshot){
			.name = f->name, .attached = true, .acked = f->acked, .p = f->snap,
			.len = f->snap_len, .age_s = f->snap ? age_s(&f->snap_at, &now) : 0,
			.refused = f->snaps_refused,
		};
	}
	for (unsigned i = 0; i < PUB_MAX_FASTPATHS && k < max; i++) {
		const struct gone *g = &p->gone[i];

		if (g->snap)
			out[k++] = (struct pub_snapshot){
				.name = g->name, .acked = g->acked, .p = g->snap, .len = g->snap_len,
				.age_s = age_s(&g->snap_at, &now), .refused = g->refused,
			};
	}
	return k;
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
