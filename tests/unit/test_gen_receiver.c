/* The publish channel's receiving end (dataplane/gen/receiver.c) against a
 * socketpair standing in for siphond: the attach line, a good generation
 * (ACK 0, applied once), and every refusal with its exact status and
 * reason, the running generation unchanged and the connection kept or
 * dropped as documented; back-off; a reconnect re-attaches with the
 * running generation. Args: the source root. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cmocka.h>

#include "blob_write.h"
#include "config.h"
#include "receiver.h"
#include "siphon/gen_wire.h"
#include "siphon/table_blob.h"

static const char *root;
static struct siphon_config *cfg;
static void *blob7, *blob8; /* generations 7 and 8 of edge.conf */
static size_t len7, len8;

struct hook {
	int calls, fail_with;
	uint64_t last;
};

static int apply(void *ctx, struct gen_generation *g, char *err, size_t errlen)
{
	struct hook *h = ctx;

	h->calls++;
	if (h->fail_with) {
		snprintf(err, errlen, "the maps said no");
		return h->fail_with;
	}
	/* the tables opened in place, in the aligned buffer */
	assert_int_equal((uintptr_t)g->blob % 64, 0);
	assert_ptr_equal(g->t.nodes != NULL, 1);
	h->last = g->number;
	gen_generation_free(g); /* a real hook keeps it until retired */
	return 0;
}

struct pair {
	struct gen_receiver r;
	struct hook h;
	int peer; /* siphond's end */
};

static void send_all(int fd, const void *p, size_t n)
{
	assert_int_equal(write(fd, p, n), (ssize_t)n);
}

static void send_str(int fd, const char *s)
{
	send_all(fd, s, strlen(s));
}

static void send_msg_sync(int fd, uint32_t magic, uint16_t type, uint64_t length,
			  const void *payload, size_t n)
{
	struct gen_wire_hdr hd = { magic, GEN_WIRE_VERSION, type, length };

	send_all(fd, &hd, sizeof(hd));
	if (n)
		send_all(fd, payload, n);
}

/* A blob is larger than a socket buffer: siphond's side writes from a
 * thread while the receiver reads; joined before the ACK is read. Errors
 * are ignored there (the receiver may drop the connection mid-message). */
static struct {
	pthread_t t;
	bool on;
	int fd;
	uint8_t *buf;
	size_t len;
} sender;

static bool shutdown_after; /* the thread half-closes once it wrote */

static void *send_thread(void *arg)
{
	size_t off = 0;

	(void)arg;
	while (off < sender.len) {
		ssize_t k = send(sender.fd, sender.buf + off, sender.len - off, MSG_NOSIGNAL);

		if (k <= 0)
			break;
		off += (size_t)k;
	}
	if (shutdown_after)
		shutdown(sender.fd, SHUT_WR);
	shutdown_after = false;
	return NULL;
}

static void sent(void)
{
	if (sender.on)
		pthread_join(sender.t, NULL);
	free(sender.buf);
	sender.buf = NULL;
	sender.on = false;
}

static void send_msg(int fd, uint32_t magic, uint16_t type, uint64_t length, const void *payload,
		     size_t n)
{
	struct gen_wire_hdr hd = { magic, GEN_WIRE_VERSION, type, length };

	sent();
	sender.buf = malloc(sizeof(hd) + n);
	assert_non_null(sender.buf);
	memcpy(sender.buf, &hd, sizeof(hd));
	if (n)
		memcpy(sender.buf + sizeof(hd), payload, n);
	sender.fd = fd;
	sender.len = sizeof(hd) + n;
	assert_int_equal(pthread_create(&sender.t, NULL, send_thread, NULL), 0);
	sender.on = true;
}

static void read_ack(int fd, uint64_t gen, int status, const char *reason)
{
	struct gen_wire_hdr hd;
	struct gen_wire_ack a;

	sent();
	assert_int_equal(read(fd, &hd, sizeof(hd)), (ssize_t)sizeof(hd));
	assert_int_equal(hd.magic, GEN_WIRE_MAGIC);
	assert_int_equal(hd.type, GEN_WIRE_ACK);
	assert_int_equal(hd.length, sizeof(a));
	assert_int_equal(read(fd, &a, sizeof(a)), (ssize_t)sizeof(a));
	assert_int_equal(a.generation, gen);
	assert_int_equal(a.status, status);
	if (!strstr(a.reason, reason))
		fail_msg("ack reason \"%s\" lacks \"%s\"", a.reason, reason);
}

/* Reads the attach line (the receiver writes it before it reads). */
static void read_attach(int fd, char *line, size_t cap)
{
	size_t n = 0;

	while (n + 1 < cap && read(fd, &line[n], 1) == 1 && line[n] != '\n')
		n++;
	line[n] = 0;
}

static void open_pair(struct pair *p, uint64_t running)
{
	int sv[2];
	char line[512];

	memset(p, 0, sizeof(*p));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	p->peer = sv[1];
	gen_receiver_init(&p->r, "/nonexistent", "siphon-test", running, apply, &p->h);
	p->r.io_timeout_ms = 1000;
	/* the reply goes first: the attach reads it after writing its line */
	send_str(p->peer, "{\"id\":1,\"result\":{}}\n");
	assert_int_equal(gen_receiver_attach(&p->r, sv[0]), 0);
	read_attach(p->peer, line, sizeof(line));
	assert_non_null(strstr(line, "\"method\":\"fastpath.attach\""));
	assert_non_null(strstr(line, "\"name\":\"siphon-test\""));
	assert_int_equal(p->r.c.connects, 1);
}

static void close_pair(struct pair *p)
{
	sent();
	gen_receiver_close(&p->r);
	close(p->peer);
}

static void test_attach_line(void **state)
{
	struct pair p;
	char line[512];
	int sv[2];

	(void)state;
	memset(&p, 0, sizeof(p));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	gen_receiver_init(&p.r, "/x", "siphon-eth0", 41, apply, &p.h);
	send_str(sv[1], "{\"id\":1,\"result\":{\"generation\":41}}\n");
	assert_int_equal(gen_receiver_attach(&p.r, sv[0]), 0);
	read_attach(sv[1], line, sizeof(line));
	assert_string_equal(line, "{\"method\":\"fastpath.attach\",\"params\":{\"name\":\"siphon-eth0\","
				  "\"generation\":41},\"id\":1}");
	gen_receiver_close(&p.r);
	close(sv[1]);
}

static void test_attach_refused(void **state)
{
	struct gen_receiver r;
	struct hook h = { 0 };
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	gen_receiver_init(&r, "/x", "s", 0, apply, &h);
	send_str(sv[1], "{\"id\":1,\"error\":{\"code\":-32601,\"message\":\"no such method\"}}\n");
	assert_int_equal(gen_receiver_attach(&r, sv[0]), -ECONNREFUSED);
	assert_string_equal(r.last_error, "attach refused: no such method");
	assert_int_equal(r.fd, -1);
	assert_int_equal(r.c.connect_failed, 1);
	close(sv[1]);
}

static void test_good_generation(void **state)
{
	struct pair p;

	(void)state;
	open_pair(&p, 0);
	send_msg(p.peer, GEN_WIRE_MAGIC, GEN_WIRE_GENERATION, len7, blob7, len7);
	assert_int_equal(gen_receiver_step(&p.r), 0);
	read_ack(p.peer, 7, 0, "");
	assert_int_equal(p.h.calls, 1);
	assert_int_equal(p.h.last, 7);
	assert_int_equal(p.r.running, 7);
	assert_int_equal(p.r.c.applied, 1);
	/* the same again: already running, not applied twice */
	send_msg(p.peer, GEN_WIRE_MAGIC, GEN_WIRE_GENERATION, len7, blob7, len7);
	assert_int_equal(gen_receiver_step(&p.r), 0);
	read_ack(p.peer, 7, 0, "already running");
	assert_int_equal(p.h.calls, 1);
	assert_int_equal(p.r.c.unchanged, 1);
	/* then the next one */
	send_msg(p.peer, GEN_WIRE_MAGIC, GEN_WIRE_GENERATION, len8, blob8, len8);
	assert_int_equal(gen_receiver_step(&p.r), 0);
	read_ack(p.peer, 8, 0, "");
	assert_int_equal(p.r.running, 8);
	close_pair(&p);
}

/* A malformed message: ACKed with status and reason, then dropped. */
static void expect_dropped(struct pair *p, int rc, const char *reason)
{
	assert_int_equal(gen_receiver_step(&p->r), rc);
	read_ack(p->peer, 0, rc, reason);
	assert_int_equal(p->r.fd, -1);
	assert_int_equal(p->r.running, 7);
	assert_int_equal(p->h.calls, 0);
	assert_int_equal(p->r.c.protocol_errors, 1);
	assert_int_equal(p->r.c.disconnects, 1);
	close(p->peer);
}

static void test_truncated_header(void **state)
{
	struct pair p;
	struct gen_wire_hdr hd = { GEN_WIRE_MAGIC, GEN_WIRE_VERSION, GEN_WIRE_GENERATION, 64 };

	(void)state;
	open_pair(&p, 7);
	send_all(p.peer, &hd, 8);
	shutdown(p.peer, SHUT_WR);
	expect_dropped(&p, -EPROTO, "truncated header: 8 of 16 bytes");
}

static void test_bad_magic(void **state)
{
	struct pair p;

	(void)state;
	open_pair(&p, 7);
	send_msg(p.peer, 0x11223344u, GEN_WIRE_GENERATION, len8, blob8, len8);
	expect_dropped(&p, -EPROTO, "magic 0x11223344");
}

static void test_oversize(void **state)
{
	struct pair p;

	(void)state;
	open_pair(&p, 7);
	send_msg(p.peer, GEN_WIRE_MAGIC, GEN_WIRE_GENERATION, (uint64_t)GEN_WIRE_MAX_PAYLOAD + 1,
		 NULL, 0);
	expect_dropped(&p, -EMSGSIZE, "a generation of 268435457 bytes refused");
}

static void test_over_local_bound(void **state)
{
	struct pair p;

	(void)state;
	open_pair(&p, 7);
	p.r.max_payload = 1024;
	send_msg(p.peer, GEN_WIRE_MAGIC, GEN_WIRE_GENERATION, len8, NULL, 0);
	expect_dropped(&p, -EMSGSIZE, "(at most 1024)");
}

static void test_truncated_payload(void **state)
{
	struct pair p;

	(void)state;
	open_pair(&p, 7);
	shutdown_after = true;
	send_msg(p.peer, GEN_WIRE_MAGIC, GEN_WIRE_GENERATION, len8, blob8, len8 / 2);
	expect_dropped(&p, -EPROTO, "truncated generation");
}

static void test_ack_from_siphond(void **state)
{
	struct pair p;
	struct gen_wire_ack a = { 0 };

	(void)state;
	open_pair(&p, 7);
	send_msg(p.peer, GEN_WIRE_MAGIC, GEN_WIRE_ACK, sizeof(a), &a, sizeof(a));
	expect_dropped(&p, -EPROTO, "an ack from siphond");
}

/* A refused blob: ACKed, the connection goes on, the next one applies. */
static void expect_refused(struct pair *p, const void *b, size_t n, uint64_t gen, int rc,
			   const char *reason)
{
	assert_int_equal(gen_receiver_step(&p->r), 0);
	read_ack(p->peer, gen, rc, reason);
	assert_int_equal(p->r.running, 7);
	assert_int_equal(p->r.fd >= 0, 1);
	(void)b, (void)n;
}

static void test_corrupt_blob(void **state)
{
	struct pair p;
	uint8_t *bad = malloc(len8);

	(void)state;
	assert_non_null(bad);
	memcpy(bad, blob8, len8);
	bad[len8 - 1] ^= 0x40; /* a byte of the last section: the checksum no longer holds */
	open_pair(&p, 7);
	send_msg(p.peer, GEN_WIRE_MAGIC, GEN_WIRE_GENERATION, len8, bad, len8);
	expect_refused(&p, bad, len8, 8, -EINVAL, "checksum");
	assert_int_equal(p.h.calls, 0);
	assert_int_equal(p.r.c.refused, 1);
	/* a foreign ABI */
	memcpy(bad, blob8, len8);
	((struct tables_blob_header *)(void *)bad)->abi = TABLES_BLOB_ABI + 1;
	((struct tables_blob_header *)(void *)bad)->checksum = tables_blob_checksum(bad, len8);
	send_msg(p.peer, GEN_WIRE_MAGIC, GEN_WIRE_GENERATION, len8, bad, len8);
	expect_refused(&p, bad, len8, 8, -EPROTO, "");
	/* too short to say its generation: 0 */
	send_msg(p.peer, GEN_WIRE_MAGIC, GEN_WIRE_GENERATION, 8, blob8, 8);
	expect_refused(&p, blob8, 8, 0, -EINVAL, "");
	assert_int_equal(p.r.c.refused, 3);
	/* the channel still works */
	send_msg(p.peer, GEN_WIRE_MAGIC, GEN_WIRE_GENERATION, len8, blob8, len8);
	assert_int_equal(gen_receiver_step(&p.r), 0);
	read_ack(p.peer, 8, 0, "");
	assert_int_equal(p.r.running, 8);
	free(bad);
	close_pair(&p);
}

static void test_apply_fails(void **state)
{
	struct pair p;

	(void)state;
	open_pair(&p, 7);
	p.h.fail_with = -E2BIG;
	send_msg(p.peer, GEN_WIRE_MAGIC, GEN_WIRE_GENERATION, len8, blob8, len8);
	expect_refused(&p, blob8, len8, 8, -E2BIG, "the maps said no");
	assert_int_equal(p.h.calls, 1);
	close_pair(&p);
}

static void test_deferred_ack(void **state)
{
	struct pair p;
	uint8_t byte;

	(void)state;
	open_pair(&p, 0);
	p.r.defer_ack = true;
	send_msg(p.peer, GEN_WIRE_MAGIC, GEN_WIRE_GENERATION, len7, blob7, len7);
	assert_int_equal(gen_receiver_step(&p.r), 0);
	assert_int_equal(p.r.pending_ack, 7);
	assert_int_equal(recv(p.peer, &byte, 1, MSG_DONTWAIT), -1); /* nothing yet */
	assert_int_equal(gen_receiver_ack_pending(&p.r), 0);
	read_ack(p.peer, 7, 0, "");
	assert_int_equal(p.r.pending_ack, 0);
	close_pair(&p);
}

static void test_backoff(void **state)
{
	struct gen_receiver r;
	struct hook h = { 0 };
	static const unsigned want[] = { 200, 400, 800, 1600, 3200, 5000, 5000 };

	(void)state;
	gen_receiver_init(&r, "/nonexistent/siphond.sock", "s", 3, apply, &h);
	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		r.next_try_ms = 0; /* due now */
		assert_int_equal(gen_receiver_tick(&r, 0), 0);
		assert_int_equal(r.backoff_ms, want[i]);
		assert_int_equal(r.c.connect_failed, i + 1);
	}
	/* not due: no attempt */
	assert_int_equal(gen_receiver_tick(&r, 0), 0);
	assert_int_equal(r.c.connect_failed, 7);
	assert_string_equal(r.last_error, "connect: No such file or directory");
	assert_int_equal(r.running, 3);
}

/* siphond that serves two connections: on the first, generation 7 then it
 * goes away; on the second it records the attach line. */
struct server {
	int lfd;
	char second[512];
	uint64_t acked;
};

static void *serve(void *arg)
{
	struct server *s = arg;
	char line[512];

	for (int round = 0; round < 2; round++) {
		int fd = accept(s->lfd, NULL, NULL);
		struct gen_wire_hdr hd;
		struct gen_wire_ack a;

		if (fd < 0)
			return NULL;
		read_attach(fd, round ? s->second : line, sizeof(line));
		send_str(fd, "{\"id\":1,\"result\":{}}\n");
		if (round == 0) {
			send_msg_sync(fd, GEN_WIRE_MAGIC, GEN_WIRE_GENERATION, len7, blob7, len7);
			if (read(fd, &hd, sizeof(hd)) == sizeof(hd) && read(fd, &a, sizeof(a)) == sizeof(a))
				s->acked = a.generation;
		}
		close(fd);
	}
	return NULL;
}

static void test_reconnect(void **state)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct server s = { 0 };
	struct gen_receiver r;
	struct hook h = { 0 };
	pthread_t t;

	(void)state;
	snprintf(a.sun_path, sizeof(a.sun_path), "/tmp/siphon-gen-test-%d.sock", (int)getpid());
	unlink(a.sun_path);
	s.lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(s.lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s.lfd, 4), 0);
	assert_int_equal(pthread_create(&t, NULL, serve, &s), 0);
	gen_receiver_init(&r, a.sun_path, "siphon-r", 0, apply, &h);
	int applied = 0;

	for (int i = 0; i < 200 && r.c.connects < 2; i++)
		applied += gen_receiver_tick(&r, 20);
	pthread_join(t, NULL);
	assert_int_equal(applied, 1); /* the turn that applied says so */
	assert_int_equal(r.c.connects, 2);
	assert_int_equal(r.c.applied, 1);
	assert_int_equal(r.c.disconnects, 1);
	assert_int_equal(s.acked, 7);
	/* re-attached with the generation it runs */
	assert_non_null(strstr(s.second, "\"generation\":7"));
	gen_receiver_close(&r);
	close(s.lfd);
	unlink(a.sun_path);
}

static int setup(void **state)
{
	struct config_error err;
	char path[4096];

	(void)state;
	snprintf(path, sizeof(path), "%s/docs/examples/edge.conf", root);
	if (config_load(path, &cfg, &err)) {
		fprintf(stderr, "%s\n", err.text);
		return -1;
	}
	if (tables_blob_build(&cfg->tables, 7, &blob7, &len7) ||
	    tables_blob_build(&cfg->tables, 8, &blob8, &len8))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(blob7);
	free(blob8);
	config_free(cfg);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attach_line),
		cmocka_unit_test(test_attach_refused),
		cmocka_unit_test(test_good_generation),
		cmocka_unit_test(test_truncated_header),
		cmocka_unit_test(test_bad_magic),
		cmocka_unit_test(test_oversize),
		cmocka_unit_test(test_over_local_bound),
		cmocka_unit_test(test_truncated_payload),
		cmocka_unit_test(test_ack_from_siphond),
		cmocka_unit_test(test_corrupt_blob),
		cmocka_unit_test(test_apply_fails),
		cmocka_unit_test(test_deferred_ack),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_reconnect),
	};

	root = argc > 1 ? argv[1] : ".";
	return cmocka_run_group_tests(tests, setup, teardown);
}
