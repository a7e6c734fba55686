/* The RPC server on a real socket in a temp dir, served in-process:
 * exact replies, several requests per connection, a line too long, too
 * many clients, clients that leave mid-request, the socket file's mode,
 * its directory, a stale one replaced and a live one refused. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "rpc_server.h"

static char dir[64], sock_path[128];
static struct rpc_table table;
static struct rpc_server *srv;

static int setup(void **state)
{
	char err[256];

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/siphon-rpc-XXXXXX");
	assert_non_null(mkdtemp(dir));
	/* two directories that do not exist yet */
	snprintf(sock_path, sizeof(sock_path), "%s/run/siphon/s.sock", dir);
	rpc_table_init(&table);
	assert_int_equal(rpc_builtin_add(&table), 0);
	assert_int_equal(rpc_server_open(&srv, sock_path, &table, NULL, err, sizeof(err)), 0);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	rpc_server_close(srv);
	srv = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static int client(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void send_str(int fd, const char *s)
{
	assert_int_equal(send(fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

/* Serves until fd has one reply line, which it returns (to free); NULL when
 * the server closed the connection first. */
static char *reply_line(int fd)
{
	char buf[4096];
	size_t len = 0;

	for (int turns = 0; turns < 500; turns++) {
		assert_int_equal(rpc_server_run_once(srv, 10), 0);
		for (;;) { /* byte by byte: never past the line */
			ssize_t r = recv(fd, buf + len, 1, MSG_DONTWAIT);

			if (r == 0)
				return NULL;
			if (r < 0) {
				assert_true(errno == EAGAIN);
				break;
			}
			if (buf[len] == '\n') {
				buf[len] = '\0';
				return strdup(buf);
			}
			assert_true(++len < sizeof(buf) - 1);
		}
	}
	fail_msg("no reply");
	return NULL;
}

static void expect_line(int fd, const char *want)
{
	char *got = reply_line(fd);

	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

/* Serves until the server has closed fd. */
static void expect_closed(int fd)
{
	assert_null(reply_line(fd));
}

static void serve_a_while(void)
{
	for (int i = 0; i < 5; i++)
		assert_int_equal(rpc_server_run_once(srv, 10), 0);
}

static void test_socket_file(void **state)
{
	struct stat st;
	char parent[128];

	(void)state;
	assert_int_equal(lstat(sock_path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	snprintf(parent, sizeof(parent), "%s/run/siphon", dir);
	assert_int_equal(stat(parent, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* closing removes it */
	rpc_server_close(srv);
	srv = NULL;
	assert_int_equal(lstat(sock_path, &st), -1);
	assert_int_equal(errno, ENOENT);
}

static void test_calls_on_one_connection(void **state)
{
	int fd = client(sock_path);

	(void)state;
	send_str(fd, "{\"method\":\"ping\",\"id\":1}\n");
	expect_line(fd, "{\"id\":1,\"result\":\"pong\"}");
	/* three in one write, answered in order, the bad one too */
	send_str(fd, "{\"method\":\"ping\",\"id\":2}\n{\"method\":\"nope\",\"id\":3}\r\n"
		     "{\"method\":\"ping\",\"id\":4}\n");
	expect_line(fd, "{\"id\":2,\"result\":\"pong\"}");
	expect_line(fd, "{\"id\":3,\"error\":{\"code\":\"unknown_method\",\"message\":"
			"\"unknown method 'nope' (known: help, version, ping)\"}}");
	expect_line(fd, "{\"id\":4,\"result\":\"pong\"}");
	/* one request in pieces */
	send_str(fd, "{\"method\":");
	serve_a_while();
	send_str(fd, "\"ping\",\"id\":5}");
	serve_a_while();
	send_str(fd, "\n");
	expect_line(fd, "{\"id\":5,\"result\":\"pong\"}");
	/* not JSON: an error, and the connection stays */
	send_str(fd, "hello\n{\"method\":\"ping\",\"id\":6}\n");
	expect_line(fd, "{\"id\":null,\"error\":{\"code\":\"parse_error\",\"message\":"
			"\"not JSON: '[' or '{' expected near 'hello' (column 5)\"}}");
	expect_line(fd, "{\"id\":6,\"result\":\"pong\"}");
	assert_int_equal(rpc_server_clients(srv), 1);
	/* half-closed after a request: the reply, then the server closes */
	send_str(fd, "{\"method\":\"ping\",\"id\":7}\n");
	shutdown(fd, SHUT_WR);
	expect_line(fd, "{\"id\":7,\"result\":\"pong\"}");
	expect_closed(fd);
	close(fd);
	assert_int_equal(rpc_server_counters(srv)->requests, 8);
	assert_int_equal(rpc_server_counters(srv)->ok, 6);
	assert_int_equal(rpc_server_counters(srv)->accepted, 1);
	assert_int_equal(rpc_server_counters(srv)->closed_mid_request, 0);
	assert_int_equal(rpc_server_clients(srv), 0);
}

static void test_line_bound(void **state)
{
	size_t n = RPC_LINE_MAX;
	char *big = malloc(n + 2);
	int fd = client(sock_path), fd2 = client(sock_path);

	(void)state;
	/* exactly the bound: answered */
	memset(big, ' ', n);
	memcpy(big, "{\"method\":\"ping\",\"id\":1}", 24);
	big[n] = '\n';
	big[n + 1] = '\0';
	for (size_t off = 0; off < n + 1;) {
		ssize_t w = send(fd, big + off, n + 1 - off, MSG_DONTWAIT);

		if (w > 0)
			off += (size_t)w;
		serve_a_while();
	}
	expect_line(fd, "{\"id\":1,\"result\":\"pong\"}");
	/* one byte more: too_long, and closed */
	big[n] = ' ';
	for (size_t off = 0; off < n + 1;) {
		ssize_t w = send(fd2, big + off, n + 1 - off, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (w > 0)
			off += (size_t)w;
		else
			assert_true(errno == EAGAIN);
		assert_int_equal(rpc_server_run_once(srv, 10), 0);
	}
	expect_line(fd2, "{\"id\":null,\"error\":{\"code\":\"too_long\",\"message\":"
			 "\"request line longer than 65536 bytes; closing the connection\"}}");
	expect_closed(fd2);
	assert_int_equal(rpc_server_counters(srv)->errors[RPC_E_TOO_LONG], 1);
	/* the other connection goes on */
	send_str(fd, "{\"method\":\"ping\",\"id\":2}\n");
	expect_line(fd, "{\"id\":2,\"result\":\"pong\"}");
	close(fd);
	close(fd2);
	free(big);
}

static void test_too_many_clients(void **state)
{
	struct rpc_server_opts opts = { .max_clients = 2 };
	char err[256];
	int a, b, c, d;

	(void)state;
	rpc_server_close(srv);
	assert_int_equal(rpc_server_open(&srv, sock_path, &table, &opts, err, sizeof(err)), 0);
	a = client(sock_path);
	b = client(sock_path);
	serve_a_while();
	assert_int_equal(rpc_server_clients(srv), 2);
	c = client(sock_path);
	expect_line(c, "{\"id\":null,\"error\":{\"code\":\"busy\",\"message\":"
		       "\"too many clients (2); try again later\"}}");
	expect_closed(c);
	assert_int_equal(rpc_server_counters(srv)->errors[RPC_E_BUSY], 1);
	assert_int_equal(rpc_server_counters(srv)->accepted, 3);
	/* the two still work; once one leaves, a new one is served */
	send_str(b, "{\"method\":\"ping\",\"id\":1}\n");
	expect_line(b, "{\"id\":1,\"result\":\"pong\"}");
	close(a);
	serve_a_while();
	assert_int_equal(rpc_server_clients(srv), 1);
	d = client(sock_path);
	send_str(d, "{\"method\":\"ping\",\"id\":2}\n");
	expect_line(d, "{\"id\":2,\"result\":\"pong\"}");
	assert_int_equal(rpc_server_counters(srv)->errors[RPC_E_BUSY], 1);
	close(b);
	close(c);
	close(d);
}

static void test_clients_that_leave(void **state)
{
	int fd = client(sock_path);

	(void)state;
	/* half a request, then gone */
	send_str(fd, "{\"method\":\"pi");
	serve_a_while();
	close(fd);
	serve_a_while();
	assert_int_equal(rpc_server_counters(srv)->closed_mid_request, 1);
	assert_int_equal(rpc_server_clients(srv), 0);
	/* a whole request, gone before the reply */
	fd = client(sock_path);
	send_str(fd, "{\"method\":\"ping\",\"id\":1}\n");
	close(fd);
	serve_a_while();
	assert_int_equal(rpc_server_counters(srv)->write_failed, 1);
	assert_int_equal(rpc_server_counters(srv)->closed_mid_request, 1);
	/* gone with nothing sent: counted as neither */
	fd = client(sock_path);
	serve_a_while();
	close(fd);
	serve_a_while();
	assert_int_equal(rpc_server_counters(srv)->write_failed, 1);
	assert_int_equal(rpc_server_counters(srv)->closed_mid_request, 1);
	assert_int_equal(rpc_server_clients(srv), 0);
	assert_int_equal(rpc_server_counters(srv)->accepted, 3);
}

/* A client that writes many requests before reading: memory stays bounded
 * (the server stops reading) and every reply comes, in order; also when
 * the client half-closes after its last request. */
static void pipelined(bool half_close)
{
	enum { N = 20000 };
	static char out[N * 40];
	char in[65536];
	size_t out_len = 0, out_off = 0, got = 0, in_len = 0;
	int fd = client(sock_path);

	for (int i = 0; i < N; i++)
		out_len += (size_t)sprintf(out + out_len, "{\"method\":\"ping\",\"id\":%d}\n", i);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	for (int turns = 0; got < N && turns < 100000; turns++) {
		ssize_t r;

		if (out_off < out_len) {
			r = send(fd, out + out_off, out_len - out_off, 0);
			if (r > 0)
				out_off += (size_t)r;
			if (out_off == out_len && half_close)
				shutdown(fd, SHUT_WR);
		}
		assert_int_equal(rpc_server_run_once(srv, 0), 0);
		/* read only after half is sent, so the server meets a client that does not read */
		if (out_off < out_len / 2)
			continue;
		r = recv(fd, in + in_len, sizeof(in) - in_len, 0);
		if (r <= 0)
			continue;
		in_len += (size_t)r;
		for (char *p = in, *nl; (nl = memchr(p, '\n', in_len - (size_t)(p - in)));) {
			char want[64];

			*nl = '\0';
			snprintf(want, sizeof(want), "{\"id\":%zu,\"result\":\"pong\"}", got);
			assert_string_equal(p, want);
			got++;
			p = nl + 1;
			if (!memchr(p, '\n', in_len - (size_t)(p - in))) {
				in_len -= (size_t)(p - in);
				memmove(in, p, in_len);
				break;
			}
		}
	}
	assert_int_equal(got, N);
	assert_int_equal(rpc_server_counters(srv)->ok, N);
	if (half_close)
		expect_closed(fd);
	close(fd);
}

static void test_pipelined_requests(void **state)
{
	(void)state;
	pipelined(false);
}

static void test_pipelined_then_half_closed(void **state)
{
	(void)state;
	pipelined(true);
}

static void test_stale_live_and_odd_paths(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct rpc_server *other;
	char err[256], path[200], cmd[256];
	struct stat st;
	int fd;

	(void)state;
	/* live: refused, and the live one keeps its file */
	assert_int_equal(rpc_server_open(&other, sock_path, &table, NULL, err, sizeof(err)),
			 -EADDRINUSE);
	assert_non_null(strstr(err, "another server is listening on this socket"));
	assert_int_equal(lstat(sock_path, &st), 0);
	/* stale: a socket file nobody listens on (bound, then closed) */
	snprintf(path, sizeof(path), "%s/stale.sock", dir);
	assert_true(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(rpc_server_open(&other, path, &table, NULL, err, sizeof(err)), 0);
	fd = client(path);
	{
		struct rpc_server *keep = srv;

		srv = other;
		send_str(fd, "{\"method\":\"ping\",\"id\":1}\n");
		expect_line(fd, "{\"id\":1,\"result\":\"pong\"}");
		srv = keep;
	}
	close(fd);
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	rpc_server_close(other);
	/* not a socket: left alone */
	snprintf(cmd, sizeof(cmd), "echo keep > %s", path);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(rpc_server_open(&other, path, &table, NULL, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "exists and is not a socket; not replacing it"));
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	/* too long for a socket address */
	memset(path, 'a', 150);
	path[0] = '/';
	path[150] = '\0';
	assert_int_equal(rpc_server_open(&other, path, &table, NULL, err, sizeof(err)),
			 -ENAMETOOLONG);
	/* a directory that cannot be made */
	snprintf(path, sizeof(path), "%s/stale.sock/x.sock", dir);
	assert_int_equal(rpc_server_open(&other, path, &table, NULL, err, sizeof(err)), -ENOTDIR);
	assert_non_null(strstr(err, "cannot"));
}

/* A method with `take`: its success reply is written, then the socket
 * and what followed the line are handed over; a refusal (the handler's or
 * bad params) is reported to take() with fd -1 and closes the connection
 * after its reply; a take() that fails closes it. */
static int taken_fd = -1, take_rc;
static char taken_rest[64];
static size_t taken_rest_len;
static char taken_name[32];
static int refusals;
static char refused_line[256];

static int m_grab(const json_t *params, void *ctx, json_t **result, struct rpc_error *err)
{
	const char *name = json_string_value(json_object_get(params, "name"));

	(void)ctx;
	if (strcmp(name, "no") == 0)
		return rpc_fail(err, RPC_E_FAILED, "refused");
	*result = json_string("yours");
	return 0;
}

static int grab_take(void *ctx, int fd, const json_t *params, const void *rest, size_t len)
{
	(void)ctx;
	if (fd < 0) {
		refusals++;
		assert_true(len < sizeof(refused_line));
		memcpy(refused_line, rest, len);
		refused_line[len] = '\0';
		assert_true(params == NULL || json_is_object(params));
		return 0;
	}
	if (take_rc)
		return take_rc;
	taken_fd = fd;
	snprintf(taken_name, sizeof(taken_name), "%s",
		 json_string_value(json_object_get(params, "name")));
	assert_true(len < sizeof(taken_rest));
	memcpy(taken_rest, rest, len);
	taken_rest_len = len;
	return 0;
}

static const struct rpc_param grab_params[] = {
	{ "name", RPC_STRING, true, "who" },
	{ NULL },
};

static const struct rpc_method grab_method[] = {
	{ "grab", m_grab, grab_params, "Takes the connection.", grab_take },
};

static void test_take_connection(void **state)
{
	int fd, fd2;
	char buf[64];

	(void)state;
	assert_int_equal(rpc_table_add(&table, grab_method, 1, NULL), 0);
	/* refused by the handler, then by the params check: reply, closed */
	fd = client(sock_path);
	send_str(fd, "{\"method\":\"grab\",\"params\":{\"name\":\"no\"},\"id\":1}\n"
		     "{\"method\":\"ping\",\"id\":9}\n");
	expect_line(fd, "{\"id\":1,\"error\":{\"code\":\"failed\",\"message\":\"refused\"}}");
	expect_closed(fd);
	close(fd);
	assert_int_equal(refusals, 1);
	assert_string_equal(refused_line,
			    "{\"id\":1,\"error\":{\"code\":\"failed\",\"message\":\"refused\"}}");
	fd = client(sock_path);
	send_str(fd, "{\"method\":\"grab\",\"params\":{\"name\":3},\"id\":2}\n");
	expect_line(fd, "{\"id\":2,\"error\":{\"code\":\"bad_params\",\"message\":"
			"\"params.name: expected a string\"}}");
	expect_closed(fd);
	close(fd);
	assert_int_equal(refusals, 2);
	assert_int_equal(taken_fd, -1);
	assert_int_equal(rpc_server_counters(srv)->handed_over, 0);
	fd = client(sock_path);
	/* taken, with binary bytes (a newline among them) right after the line */
	send_str(fd, "{\"method\":\"grab\",\"params\":{\"name\":\"fp\"},\"id\":3}\nAB\nC{");
	expect_line(fd, "{\"id\":3,\"result\":\"yours\"}");
	assert_true(taken_fd >= 0);
	assert_string_equal(taken_name, "fp");
	assert_int_equal(taken_rest_len, 5);
	assert_memory_equal(taken_rest, "AB\nC{", 5);
	assert_int_equal(rpc_server_clients(srv), 0);
	assert_int_equal(rpc_server_counters(srv)->handed_over, 1);
	/* the server neither reads from it nor closes it any more */
	send_str(fd, "{\"method\":\"ping\",\"id\":5}\n");
	serve_a_while();
	assert_int_equal(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(recv(taken_fd, buf, sizeof(buf), MSG_DONTWAIT), 25);
	assert_int_equal(send(taken_fd, "x", 1, 0), 1);
	assert_int_equal(recv(fd, buf, sizeof(buf), 0), 1);
	close(taken_fd);
	close(fd);
	/* a take() that fails: the server closes the connection */
	taken_fd = -1;
	take_rc = -ENOSPC;
	fd2 = client(sock_path);
	send_str(fd2, "{\"method\":\"grab\",\"params\":{\"name\":\"fp\"},\"id\":4}\n");
	expect_line(fd2, "{\"id\":4,\"result\":\"yours\"}");
	expect_closed(fd2);
	close(fd2);
	take_rc = 0;
	assert_int_equal(taken_fd, -1);
	assert_int_equal(rpc_server_counters(srv)->handed_over, 1);
	assert_int_equal(rpc_server_clients(srv), 0);
	assert_int_equal(refusals, 2);
}

static void test_poll_fds(void **state)
{
	struct pollfd fds[RPC_SERVER_FDS_MAX + 1];
	size_t n;
	int fd;

	(void)state;
	n = rpc_server_poll_fds(srv, fds, RPC_SERVER_FDS_MAX);
	assert_int_equal(n, 1);
	assert_int_equal(fds[0].fd, rpc_server_fd(srv));
	assert_int_equal(fds[0].events, POLLIN);
	fd = client(sock_path);
	serve_a_while();
	n = rpc_server_poll_fds(srv, fds, RPC_SERVER_FDS_MAX);
	assert_int_equal(n, 2);
	assert_int_equal(fds[1].events, POLLIN);
	/* the daemon's own fds in the same array are not the server's business */
	fds[2] = (struct pollfd){ .fd = 0, .events = POLLIN, .revents = POLLIN };
	fds[0].revents = fds[1].revents = 0;
	assert_int_equal(rpc_server_handle(srv, fds, 3), 0);
	send_str(fd, "{\"method\":\"ping\",\"id\":1}\n");
	expect_line(fd, "{\"id\":1,\"result\":\"pong\"}");
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_socket_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_calls_on_one_connection, setup, teardown),
		cmocka_unit_test_setup_teardown(test_line_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_many_clients, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clients_that_leave, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipelined_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipelined_then_half_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_live_and_odd_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poll_fds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_take_connection, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
