#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <linux/sockios.h>

#include <jansson.h>

#include "receiver.h"
#include "siphon/gen_wire.h"
#include "siphon/table_blob.h"

static const char *const counter_names[] = {
#define X(id, help) #id,
	GEN_RECEIVER_COUNTERS(X)
#undef X
};

const char *gen_receiver_counter_name(unsigned i)
{
	return i < gen_receiver_counter_count() ? counter_names[i] : "?";
}

uint64_t gen_receiver_counter(const struct gen_receiver *r, unsigned i)
{
	return i < gen_receiver_counter_count() ? ((const uint64_t *)&r->c)[i] : 0;
}

unsigned gen_receiver_counter_count(void)
{
	return sizeof(counter_names) / sizeof(counter_names[0]);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void gen_generation_free(struct gen_generation *g)
{
	if (!g)
		return;
	free(g->blob);
	free(g);
}

void gen_receiver_init(struct gen_receiver *r, const char *path, const char *name,
		       uint64_t running, gen_apply_fn apply, void *ctx)
{
	memset(r, 0, sizeof(*r));
	r->path = path;
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->running = running;
	r->apply = apply;
	r->ctx = ctx;
	r->fd = -1;
	r->io_timeout_ms = 5000;
	r->max_payload = GEN_WIRE_MAX_PAYLOAD;
	r->backoff_ms = GEN_RECEIVER_BACKOFF_MIN_MS;
}

static void drop(struct gen_receiver *r)
{
	if (r->fd >= 0) {
		close(r->fd);
		r->c.disconnects++;
	}
	r->fd = -1;
	r->backoff_ms = GEN_RECEIVER_BACKOFF_MIN_MS;
	r->next_try_ms = now_ms() + GEN_RECEIVER_BACKOFF_MIN_MS;
}

void gen_receiver_close(struct gen_receiver *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}

/* Whole buffer, or -ETIMEDOUT (stalled), -ECONNRESET (EOF), -errno; *got
 * says how much arrived. */
static int read_full(int fd, void *buf, size_t len, size_t *got)
{
	*got = 0;
	while (*got < len) {
		ssize_t n = read(fd, (uint8_t *)buf + *got, len - *got);

		if (n > 0) {
			*got += (size_t)n;
			continue;
		}
		if (n == 0)
			return -ECONNRESET;
		if (errno == EINTR)
			continue;
		return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
	}
	return 0;
}

static int write_full(int fd, const void *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = send(fd, (const uint8_t *)buf + off, len - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? -ETIMEDOUT : -errno;
		off += (size_t)n;
	}
	return 0;
}

static void set_timeouts(int fd, unsigned ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int send_ack(struct gen_receiver *r, uint64_t generation, int status, const char *reason)
{
	struct gen_wire_hdr h = { .magic = GEN_WIRE_MAGIC, .version = GEN_WIRE_VERSION,
				  .type = GEN_WIRE_ACK, .length = sizeof(struct gen_wire_ack) };
	struct gen_wire_ack a;
	int rc;

	memset(&a, 0, sizeof(a));
	a.generation = generation;
	a.status = status;
	snprintf(a.reason, sizeof(a.reason), "%s", reason ? reason : "");
	rc = write_full(r->fd, &h, sizeof(h));
	if (!rc)
		rc = write_full(r->fd, &a, sizeof(a));
	if (rc)
		r->c.ack_failed++;
	return rc;
}

/* The reply to attach: one line, read a byte at a time so nothing of the
 * binary messages after it is consumed. */
static int read_line(struct gen_receiver *r, char *line, size_t cap)
{
	size_t n = 0;

	while (n + 1 < cap) {
		size_t got;
		int rc = read_full(r->fd, &line[n], 1, &got);

		if (rc)
			return rc;
		if (line[n] == '\n') {
			line[n] = 0;
			return 0;
		}
		n++;
	}
	return -EMSGSIZE;
}

static int check_reply(struct gen_receiver *r, const char *line)
{
	json_error_t je;
	json_t *j = json_loads(line, 0, &je), *e;
	int rc = 0;

	if (!j || !json_is_object(j)) {
		snprintf(r->last_error, sizeof(r->last_error), "attach: the reply is not a JSON object");
		rc = -EPROTO;
	} else if ((e = json_object_get(j, "error"))) {
		json_t *m = json_is_object(e) ? json_object_get(e, "message") : e;

		snprintf(r->last_error, sizeof(r->last_error), "attach refused: %s",
			 json_is_string(m) ? json_string_value(m) : "(no message)");
		rc = -ECONNREFUSED;
	} else if (!json_object_get(j, "result")) {
		snprintf(r->last_error, sizeof(r->last_error), "attach: the reply has no result");
		rc = -EPROTO;
	}
	json_decref(j);
	return rc;
}

int gen_receiver_attach(struct gen_receiver *r, int fd)
{
	json_t *req = json_pack("{s:s, s:{s:s, s:I}, s:i}", "method", GEN_WIRE_ATTACH, "params",
				"name", r->name, "generation", (json_int_t)r->running, "id", 1);
	char *text = req ? json_dumps(req, JSON_COMPACT) : NULL;
	char line[GEN_RECEIVER_LINE_MAX];
	int rc = text ? 0 : -ENOMEM;

	json_decref(req);
	r->fd = fd;
	set_timeouts(fd, r->io_timeout_ms);
	if (!rc) {
		rc = write_full(fd, text, strlen(text));
		if (!rc)
			rc = write_full(fd, "\n", 1);
		if (rc)
			snprintf(r->last_error, sizeof(r->last_error), "attach: sending: %s", strerror(-rc));
	}
	free(text);
	if (!rc) {
		rc = read_line(r, line, sizeof(line));
		if (rc)
			snprintf(r->last_error, sizeof(r->last_error), "attach: reading the reply: %s",
				 rc == -EMSGSIZE ? "over 4096 bytes" : strerror(-rc));
	}
	if (!rc)
		rc = check_reply(r, line);
	if (rc) {
		close(fd);
		r->fd = -1;
		r->c.connect_failed++;
		return rc;
	}
	r->c.connects++;
	return 0;
}

int gen_receiver_connect(struct gen_receiver *r)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd, rc;

	if (strlen(r->path) >= sizeof(a.sun_path)) {
		snprintf(r->last_error, sizeof(r->last_error), "the socket path is too long");
		r->c.connect_failed++;
		return -ENAMETOOLONG;
	}
	strcpy(a.sun_path, r->path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		rc = -errno;
		snprintf(r->last_error, sizeof(r->last_error), "connect: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		r->c.connect_failed++;
		return rc;
	}
	return gen_receiver_attach(r, fd);
}

/* A malformed message: ACKed with the reason (siphond logs it), counted,
 * logged, and the connection dropped. */
static int malformed(struct gen_receiver *r, uint64_t generation, int rc, const char *why)
{
	snprintf(r->last_error, sizeof(r->last_error), "%s", why);
	fprintf(stderr, "siphon: siphond %s: %s; reconnecting\n", r->path, why);
	r->c.protocol_errors++;
	send_ack(r, generation, rc, why);
	drop(r);
	return rc;
}

/* The generation number as the blob's header says, before it validates. */
static uint64_t claimed_generation(const void *blob, size_t len)
{
	uint64_t g = 0;

	if (len >= offsetof(struct tables_blob_header, generation) + sizeof(g))
		memcpy(&g, (const uint8_t *)blob + offsetof(struct tables_blob_header, generation),
		       sizeof(g));
	return g;
}

static int answer(struct gen_receiver *r, struct gen_generation *g)
{
	char err[256] = "";
	int rc = tables_blob_open(g->blob, g->len, &g->t, err, sizeof(err));

	if (!rc && g->number == r->running) {
		r->c.unchanged++;
		gen_generation_free(g);
		return send_ack(r, r->running, 0, "already running");
	}
	if (!rc) {
		uint64_t number = g->number; /* g is the hook's once applied */

		rc = r->apply(r->ctx, g, err, sizeof(err));
		if (!rc) {
			r->running = number;
			r->c.applied++;
			fprintf(stderr, "siphon: generation %llu %s\n", (unsigned long long)number,
				r->defer_ack ? "accepted" : "running");
			if (r->defer_ack) {
				r->pending_ack = number;
				return 0;
			}
			return send_ack(r, number, 0, "");
		}
	}
	r->c.refused++;
	snprintf(r->last_error, sizeof(r->last_error), "generation %llu refused: %s",
		 (unsigned long long)g->number, err);
	fprintf(stderr, "siphon: siphond %s: %s; generation %llu stays\n", r->path, r->last_error,
		(unsigned long long)r->running);
	send_ack(r, g->number, rc, err);
	gen_generation_free(g);
	return 0;
}

int gen_receiver_step(struct gen_receiver *r)
{
	struct gen_wire_hdr h;
	struct gen_generation *g;
	char why[160];
	size_t got;
	int rc;

	if (r->fd < 0)
		return -ENOTCONN;
	rc = read_full(r->fd, &h, sizeof(h), &got);
	if (rc && got == 0) {
		snprintf(r->last_error, sizeof(r->last_error), "%s",
			 rc == -ECONNRESET ? "siphond closed the connection" : strerror(-rc));
		if (rc == -ETIMEDOUT) /* nothing arrived: not an error */
			return 0;
		drop(r);
		return rc;
	}
	if (rc) {
		snprintf(why, sizeof(why), "truncated header: %zu of %zu bytes", got, sizeof(h));
		return malformed(r, 0, -EPROTO, why);
	}
	rc = gen_wire_check(&h, why, sizeof(why));
	if (rc)
		return malformed(r, 0, rc, why);
	if (h.type != GEN_WIRE_GENERATION)
		return malformed(r, 0, -EPROTO, h.type == GEN_WIRE_ACK ?
				 "publish channel: an ack from siphond" :
				 "publish channel: counters from siphond");
	if (h.length > r->max_payload) {
		snprintf(why, sizeof(why), "a generation of %llu bytes refused (at most %llu)",
			 (unsigned long long)h.length, (unsigned long long)r->max_payload);
		return malformed(r, 0, -EMSGSIZE, why);
	}
	g = calloc(1, sizeof(*g));
	/* 64-byte aligned: the blob's arrays are used in place */
	if (g)
		g->blob = aligned_alloc(64, ((size_t)h.length + 63) / 64 * 64 + 64);
	if (!g || !g->blob) {
		gen_generation_free(g);
		return malformed(r, 0, -ENOMEM, "no memory for the generation");
	}
	g->len = (size_t)h.length;
	rc = read_full(r->fd, g->blob, g->len, &got);
	if (rc) {
		snprintf(why, sizeof(why), "truncated generation: %zu of %zu bytes (%s)", got, g->len,
			 strerror(-rc));
		gen_generation_free(g);
		return malformed(r, 0, -EPROTO, why);
	}
	r->c.generations++;
	g->number = claimed_generation(g->blob, g->len);
	rc = answer(r, g);
	if (rc) { /* the ACK did not leave */
		snprintf(r->last_error, sizeof(r->last_error), "sending the ack: %s", strerror(-rc));
		drop(r);
	}
	return rc;
}

int gen_receiver_send_counters(struct gen_receiver *r, const void *payload, size_t len)
{
	struct gen_wire_hdr h = { .magic = GEN_WIRE_MAGIC, .version = GEN_WIRE_VERSION,
				  .type = GEN_WIRE_COUNTERS, .length = len };
	int queued = 0, sndbuf = 0, rc;
	socklen_t sl = sizeof(sndbuf);

	if (r->fd < 0)
		return -ENOTCONN;
	/* bytes not yet taken by siphond: skip rather than block on them */
	if (ioctl(r->fd, SIOCOUTQ, &queued) == 0 &&
	    getsockopt(r->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &sl) == 0 &&
	    (size_t)queued + sizeof(h) + len > (size_t)sndbuf / 2 && queued > 0) {
		r->c.counters_skipped++;
		return -EAGAIN;
	}
	rc = write_full(r->fd, &h, sizeof(h));
	if (!rc)
		rc = write_full(r->fd, payload, len);
	if (rc) {
		snprintf(r->last_error, sizeof(r->last_error), "sending counters: %s", strerror(-rc));
		drop(r);
		return rc;
	}
	r->c.counters_sent++;
	return 0;
}

int gen_receiver_ack_pending(struct gen_receiver *r)
{
	uint64_t n = r->pending_ack;
	int rc;

	r->pending_ack = 0;
	if (!n || r->fd < 0)
		return 0; /* nothing held, or the re-attach tells siphond what runs */
	rc = send_ack(r, n, 0, "");
	if (rc)
		drop(r);
	return rc;
}

int gen_receiver_tick(struct gen_receiver *r, unsigned wait_ms)
{
	uint64_t before = r->c.applied, perr, now = now_ms();

	if (r->fd < 0) {
		if (now < r->next_try_ms) {
			uint64_t d = r->next_try_ms - now;
			usleep((useconds_t)(d < wait_ms ? d : wait_ms) * 1000u);
			return 0;
		}
		if (gen_receiver_connect(r)) {
			if (!r->quiet)
				fprintf(stderr, "siphon: siphond %s: %s; generation %llu runs on, "
						"retrying every %u..%u ms\n", r->path, r->last_error,
					(unsigned long long)r->running, GEN_RECEIVER_BACKOFF_MIN_MS,
					GEN_RECEIVER_BACKOFF_MAX_MS);
			r->quiet = true;
			r->next_try_ms = now + r->backoff_ms;
			r->backoff_ms = r->backoff_ms * 2 > GEN_RECEIVER_BACKOFF_MAX_MS ?
					GEN_RECEIVER_BACKOFF_MAX_MS : r->backoff_ms * 2;
			return 0;
		}
		r->quiet = false;
		r->backoff_ms = GEN_RECEIVER_BACKOFF_MIN_MS;
		fprintf(stderr, "siphon: siphond %s: attached as %s, running generation %llu\n",
			r->path, r->name, (unsigned long long)r->running);
		return 0;
	}
	{
		struct pollfd p = { .fd = r->fd, .events = POLLIN };

		if (poll(&p, 1, (int)wait_ms) <= 0)
			return 0;
	}
	perr = r->c.protocol_errors; /* those were logged where they were met */
	if (gen_receiver_step(r) && r->fd < 0 && r->c.protocol_errors == perr) {
		fprintf(stderr, "siphon: siphond %s: %s; generation %llu runs on, reconnecting\n",
			r->path, r->last_error, (unsigned long long)r->running);
	}
	return (int)(r->c.applied - before);
}
