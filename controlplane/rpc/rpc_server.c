/* The server's clients: accept, read lines, answer each, write back
 * without blocking, close. Memory per client is bounded: one line of
 * input, and replies are only made while less than RPC_OUT_HIGH waits to
 * be written (a client that does not read stops being read). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rpc_server.h"

#define RPC_OUT_HIGH (256 * 1024)
#define ACCEPTS_PER_CALL 64

struct rpc_conn {
	int fd; /* -1: a free slot */
	char *in;
	size_t in_off, in_len, scanned; /* unread bytes are in[in_off, in_len) */
	char *out;
	size_t out_off, out_len, out_cap;
	bool eof, closing;
	/* a method with `take` succeeded: once its reply is out, hand over */
	const struct rpc_entry *taking;
	json_t *take_params;
};

struct rpc_server {
	int fd;
	char path[108];
	dev_t dev;
	ino_t ino;
	const struct rpc_table *table;
	size_t max_line;
	unsigned max_clients, n_clients;
	struct rpc_counters counters;
	struct rpc_conn *conn;
};

int rpc_server_open(struct rpc_server **out, const char *path, const struct rpc_table *t,
		    const struct rpc_server_opts *opts, char *err, size_t errlen)
{
	struct rpc_server *s = calloc(1, sizeof(*s));
	struct stat st;

	*out = NULL;
	if (!s) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	s->table = t;
	s->max_clients = opts && opts->max_clients ? opts->max_clients : RPC_MAX_CLIENTS;
	s->max_line = opts && opts->max_line ? opts->max_line : RPC_LINE_MAX;
	if (s->max_clients > RPC_MAX_CLIENTS_LIMIT || s->max_line > RPC_REPLY_MAX) {
		free(s);
		snprintf(err, errlen, "%s: at most %u clients and lines of %u bytes", path,
			 RPC_MAX_CLIENTS_LIMIT, RPC_REPLY_MAX);
		return -EINVAL;
	}
	s->conn = calloc(s->max_clients, sizeof(*s->conn));
	if (!s->conn) {
		free(s);
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < s->max_clients; i++)
		s->conn[i].fd = -1;
	s->fd = rpc_listen(path, err, errlen);
	if (s->fd < 0) {
		int rc = s->fd;

		free(s->conn);
		free(s);
		return rc;
	}
	snprintf(s->path, sizeof(s->path), "%s", path);
	if (stat(path, &st) == 0)
		s->dev = st.st_dev, s->ino = st.st_ino;
	*out = s;
	return 0;
}

static void conn_close(struct rpc_server *s, struct rpc_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->in);
	free(c->out);
	json_decref(c->take_params);
	*c = (struct rpc_conn){ .fd = -1 };
	s->n_clients--;
}

void rpc_server_close(struct rpc_server *s)
{
	struct stat st;

	if (!s)
		return;
	for (unsigned i = 0; i < s->max_clients; i++)
		if (s->conn[i].fd >= 0)
			conn_close(s, &s->conn[i]);
	/* a later server may have replaced the file: leave that one alone */
	if (stat(s->path, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino)
		unlink(s->path);
	close(s->fd);
	free(s->conn);
	free(s);
}

int rpc_server_fd(const struct rpc_server *s)
{
	return s->fd;
}

const struct rpc_counters *rpc_server_counters(const struct rpc_server *s)
{
	return &s->counters;
}

unsigned rpc_server_clients(const struct rpc_server *s)
{
	return s->n_clients;
}

static bool wants_read(const struct rpc_server *s, const struct rpc_conn *c)
{
	return !c->eof && !c->closing && !c->taking && c->out_len - c->out_off < RPC_OUT_HIGH &&
	       c->in_len - c->in_off < s->max_line + 1;
}

size_t rpc_server_poll_fds(const struct rpc_server *s, struct pollfd *fds, size_t n)
{
	size_t k = 0;

	if (n == 0)
		return 0;
	fds[k++] = (struct pollfd){ .fd = s->fd, .events = POLLIN };
	for (unsigned i = 0; i < s->max_clients && k < n; i++) {
		const struct rpc_conn *c = &s->conn[i];

		if (c->fd < 0)
			continue;
		fds[k++] = (struct pollfd){
			.fd = c->fd,
			.events = (short)((wants_read(s, c) ? POLLIN : 0) |
					  (c->out_len > c->out_off ? POLLOUT : 0)),
		};
	}
	return k;
}

/* Queues one reply line (and its '\n'); false when out of memory. */
static bool queue(struct rpc_conn *c, const char *line)
{
	size_t len = strlen(line);

	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (c->out_len + len + 1 > c->out_cap) {
		size_t cap = c->out_len + len + 1 + 4096;
		char *p = realloc(c->out, cap);

		if (!p)
			return false;
		c->out = p;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, line, len);
	c->out[c->out_len + len] = '\n';
	c->out_len += len + 1;
	return true;
}

/* Queues a reply made by rpc_handle_line / rpc_error_line and frees it;
 * false when the connection has to go (out of memory). */
static bool answer(struct rpc_server *s, struct rpc_conn *c, char *line)
{
	bool ok;

	if (!line)
		s->counters.errors[RPC_E_INTERNAL]++;
	ok = queue(c, line ? line : RPC_OOM_LINE);
	free(line);
	return ok;
}

/* Answers the complete lines while the output is below its mark. */
static bool answer_lines(struct rpc_server *s, struct rpc_conn *c)
{
	while (!c->closing && !c->taking && c->out_len - c->out_off < RPC_OUT_HIGH) {
		char *line;
		bool ok;
		char *nl = memchr(c->in + c->scanned, '\n', c->in_len - c->scanned);
		size_t len;

		if (!nl) {
			c->scanned = c->in_len;
			break;
		}
		len = (size_t)(nl - (c->in + c->in_off));
		line = rpc_handle_line_take(s->table, c->in + c->in_off, len, &s->counters,
					    &c->taking, &c->take_params, &ok);
		if (c->taking && !ok) {
			c->taking->method->take(c->taking->ctx, -1, c->take_params,
						line ? line : RPC_OOM_LINE,
						strlen(line ? line : RPC_OOM_LINE));
			c->taking = NULL;
			c->closing = true;
		}
		if (!answer(s, c, line))
			return false;
		c->in_off = c->scanned = (size_t)(nl - c->in) + 1;
	}
	return true;
}

static bool has_line(const struct rpc_conn *c)
{
	return memchr(c->in + c->in_off, '\n', c->in_len - c->in_off) != NULL;
}

/* Reads what there is; false when the connection has to go. */
static bool read_some(struct rpc_server *s, struct rpc_conn *c)
{
	ssize_t r;

	if (c->in_off) { /* answered lines leave room at the front */
		memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
		c->in_len -= c->in_off;
		c->scanned -= c->in_off;
		c->in_off = 0;
	}
	r = recv(c->fd, c->in + c->in_len, s->max_line + 1 - c->in_len, MSG_DONTWAIT);
	if (r > 0) {
		c->in_len += (size_t)r;
		return true;
	}
	if (r == 0 || errno == ECONNRESET) {
		c->eof = true;
		return true;
	}
	if (errno == EAGAIN || errno == EINTR)
		return true;
	s->counters.read_failed++;
	return false;
}

/* Writes what waits; false when the client is gone. */
static bool flush(struct rpc_server *s, struct rpc_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (w < 0 && (errno == EAGAIN || errno == EINTR))
			return true;
		if (w <= 0) {
			s->counters.write_failed++;
			return false;
		}
		c->out_off += (size_t)w;
	}
	return true;
}

/* The reply of a taking method is out: the socket is the method's now.
 * What the client sent after the request line goes with it. */
static void hand_over(struct rpc_server *s, struct rpc_conn *c)
{
	const struct rpc_entry *e = c->taking;
	int fd = c->fd;

	if (e->method->take(e->ctx, fd, c->take_params, c->in + c->in_off,
			    c->in_len - c->in_off) == 0) {
		s->counters.handed_over++;
		c->fd = -1; /* not ours to close any more */
	}
	conn_close(s, c);
}

static void serve(struct rpc_server *s, struct rpc_conn *c, short revents)
{
	if ((revents & (POLLIN | POLLHUP | POLLERR)) && wants_read(s, c) && !read_some(s, c))
		goto drop;
	/* until the lines run out or the client stops taking replies */
	for (;;) {
		if (!answer_lines(s, c))
			goto drop;
		if (!c->closing && !c->taking && !has_line(c) && c->in_len - c->in_off > s->max_line) {
			char msg[96];

			snprintf(msg, sizeof(msg),
				 "request line longer than %zu bytes; closing the connection",
				 s->max_line);
			if (!answer(s, c, rpc_error_line(RPC_E_TOO_LONG, msg, &s->counters)))
				goto drop;
			c->closing = true;
		}
		if (c->eof && !c->closing && !c->taking && !has_line(c)) {
			if (c->in_len > c->in_off)
				s->counters.closed_mid_request++;
			c->closing = true;
		}
		if (!flush(s, c) || (c->closing && c->out_off == c->out_len))
			goto drop;
		if (c->taking && c->out_off == c->out_len) {
			hand_over(s, c);
			return;
		}
		if (c->closing || c->taking || c->out_off < c->out_len || !has_line(c))
			return;
	}
drop:
	conn_close(s, c);
}

static void accept_clients(struct rpc_server *s)
{
	for (int i = 0; i < ACCEPTS_PER_CALL; i++) {
		int fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct rpc_conn *c = NULL;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				s->counters.accept_failed++;
			return;
		}
		s->counters.accepted++;
		for (unsigned k = 0; k < s->max_clients && !c; k++)
			if (s->conn[k].fd < 0)
				c = &s->conn[k];
		if (c && !(c->in = malloc(s->max_line + 1)))
			c = NULL;
		if (!c) {
			char msg[96];
			char *line;

			snprintf(msg, sizeof(msg), "too many clients (%u); try again later",
				 s->max_clients);
			line = rpc_error_line(RPC_E_BUSY, msg, &s->counters);
			/* best effort: a new socket's buffer has room for one line */
			if (line) {
				size_t len = strlen(line);

				line[len] = '\n'; /* over its NUL: sent by length */
				send(fd, line, len + 1, MSG_DONTWAIT | MSG_NOSIGNAL);
			}
			free(line);
			close(fd);
			continue;
		}
		c->fd = fd;
		s->n_clients++;
	}
}

size_t rpc_server_handle(struct rpc_server *s, const struct pollfd *fds, size_t n)
{
	size_t served = 0;

	for (size_t i = 0; i < n; i++) {
		if (!fds[i].revents)
			continue;
		if (fds[i].fd == s->fd) {
			accept_clients(s);
			served++;
			continue;
		}
		for (unsigned k = 0; k < s->max_clients; k++) {
			if (s->conn[k].fd == fds[i].fd && fds[i].fd >= 0) {
				serve(s, &s->conn[k], fds[i].revents);
				served++;
				break;
			}
		}
	}
	return served;
}

int rpc_server_run_once(struct rpc_server *s, int timeout_ms)
{
	struct pollfd fds[1 + RPC_MAX_CLIENTS_LIMIT];
	size_t n = rpc_server_poll_fds(s, fds, sizeof(fds) / sizeof(fds[0]));

	if (poll(fds, n, timeout_ms) < 0)
		return errno == EINTR ? 0 : -errno;
	rpc_server_handle(s, fds, n);
	return 0;
}
