/* One request, one reply line, every wait bounded by one deadline. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "rpc.h"
#include "rpc_client.h"

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int left_ms(long long deadline)
{
	long long left = deadline - now_ms();

	return left < 0 ? 0 : left > 1000000000 ? 1000000000 : (int)left;
}

int rpc_client_connect(const char *path, int timeout_ms, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = timeout_ms % 1000 * 1000 };
	int fd, rc;

	if (!*path || strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "%s: a socket path must be 1 to 107 bytes long", path);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "socket: %s", strerror(-rc));
		return rc;
	}
	/* a Unix connect waits for room in the backlog at most this long */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
	rc = -errno;
	close(fd);
	if (rc == -ENOENT || rc == -ECONNREFUSED || rc == -ENOTSOCK)
		snprintf(err, errlen, "siphond is not running at %s: %s", path, strerror(-rc));
	else if (rc == -EAGAIN || rc == -EINPROGRESS)
		snprintf(err, errlen, "siphond at %s did not accept within %d ms", path, timeout_ms);
	else
		snprintf(err, errlen, "cannot connect to siphond at %s: %s", path, strerror(-rc));
	return rc == -EAGAIN || rc == -EINPROGRESS ? -ETIMEDOUT : rc;
}

/* Waits for events on fd until the deadline: 0, -ETIMEDOUT or -errno. */
static int wait_for(int fd, short events, long long deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n;

	do
		n = poll(&p, 1, left_ms(deadline));
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n == 0 ? -ETIMEDOUT : 0;
}

static int send_all(int fd, const char *buf, size_t len, long long deadline)
{
	while (len) {
		ssize_t w = send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		int rc;

		if (w > 0) {
			buf += w, len -= (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		rc = wait_for(fd, POLLOUT, deadline);
		if (rc)
			return rc;
	}
	return 0;
}

/* Reads up to the first '\n' into a buffer of at most RPC_REPLY_MAX + 1 bytes. */
static int recv_line(int fd, char **out, long long deadline)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap), *nl;
	int rc = 0;

	while (buf && !(nl = memchr(buf, '\n', len))) {
		ssize_t r;

		if (len == cap) {
			char *p = cap > RPC_REPLY_MAX ? NULL : realloc(buf, cap * 2);

			if (!p) {
				rc = cap > RPC_REPLY_MAX ? -EPROTO : -ENOMEM;
				break;
			}
			buf = p, cap *= 2;
		}
		r = recv(fd, buf + len, cap - len, MSG_DONTWAIT);
		if (r > 0) {
			len += (size_t)r;
			continue;
		}
		if (r == 0) {
			rc = -EPIPE;
			break;
		}
		if (errno != EAGAIN && errno != EINTR) {
			rc = -errno;
			break;
		}
		rc = wait_for(fd, POLLIN, deadline);
		if (rc)
			break;
	}
	if (!buf)
		return -ENOMEM;
	if (rc) {
		free(buf);
		return rc;
	}
	*nl = '\0';
	*out = buf;
	return 0;
}

/* The reply has the shape rpc_client_request promises. */
static bool reply_ok(const json_t *r, json_int_t id)
{
	const json_t *rid = json_object_get(r, "id"), *e = json_object_get(r, "error");

	if (!json_is_object(r) || json_object_size(r) != 2 || !rid)
		return false;
	if (json_object_get(r, "result"))
		return json_is_integer(rid) && json_integer_value(rid) == id;
	return (json_is_null(rid) || (json_is_integer(rid) && json_integer_value(rid) == id)) &&
	       json_is_object(e) && json_is_string(json_object_get(e, "code")) &&
	       json_is_string(json_object_get(e, "message"));
}

int rpc_client_request(int fd, const char *method, json_t *params, json_int_t id,
		       int timeout_ms, json_t **reply, char *err, size_t errlen)
{
	long long deadline = now_ms() + timeout_ms;
	json_t *req = params ? json_pack("{s:s, s:O, s:I}", "method", method, "params", params, "id", id)
			     : json_pack("{s:s, s:I}", "method", method, "id", id);
	char *text = req ? json_dumps(req, JSON_COMPACT) : NULL, *line = NULL;
	size_t len;
	int rc;

	json_decref(req);
	if (!text) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	len = strlen(text);
	text[len] = '\n'; /* over its NUL: sent by length */
	rc = send_all(fd, text, len + 1, deadline);
	free(text);
	/* a server that refuses the connection (busy) may have closed it before
	 * the request went out: its reason is still there to read */
	if (rc == 0 || rc == -EPIPE || rc == -ECONNRESET)
		rc = recv_line(fd, &line, deadline);
	if (rc == -ECONNRESET)
		rc = -EPIPE;
	if (rc == -ETIMEDOUT) {
		snprintf(err, errlen, "no reply within %d ms", timeout_ms);
		return rc;
	}
	if (rc == -EPIPE) {
		snprintf(err, errlen, "the server closed the connection without a reply");
		return -EPROTO;
	}
	if (rc == -EPROTO) {
		snprintf(err, errlen, "the reply is longer than %d bytes", RPC_REPLY_MAX);
		return rc;
	}
	if (rc) {
		snprintf(err, errlen, "%s", strerror(-rc));
		return rc;
	}
	*reply = json_loads(line, 0, NULL);
	if (!reply_ok(*reply, id)) {
		snprintf(err, errlen, "not a reply to request %lld: %.200s", (long long)id, line);
		json_decref(*reply);
		*reply = NULL;
		rc = -EPROTO;
	}
	free(line);
	return rc;
}

int rpc_call(const char *path, const char *method, json_t *params, int timeout_ms,
	     json_t **reply, char *err, size_t errlen)
{
	int fd = rpc_client_connect(path, timeout_ms, err, errlen), rc;

	if (fd < 0)
		return fd;
	rc = rpc_client_request(fd, method, params, 1, timeout_ms, reply, err, errlen);
	close(fd);
	return rc;
}
