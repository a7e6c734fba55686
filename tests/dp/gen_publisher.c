/* A stand-in for siphond's publish channel (common/siphon/gen_wire.h), for
 * the tests: builds the table blob of a config as generation N and serves
 * it on a Unix socket; one JSON line per event on stdout (attach, ack).
 *
 *   gen-publisher --socket PATH --config FILE --generation N [--corrupt]
 *                 [--then-config FILE2 --then-generation M [--then-after-ms T]]
 *                 [--clients K]
 *   gen-publisher --write-state DIR --config FILE --generation N
 *
 * Each client: its attach line is read and answered; when it does not run
 * N, generation N is sent and its ACK read; with --then-config, generation
 * M follows on the same connection (T ms after the first ACK). Then the publisher waits for the client
 * to close, printing each COUNTERS snapshot that comes meanwhile (its
 * generation, seq, flags and named counters: the exit snapshot's test).
 * Exits after K clients (default 1). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "blob_write.h"
#include "config.h"
#include "siphon/gen_counters.h"
#include "siphon/gen_wire.h"

static int build(const char *path, unsigned long long gen, bool corrupt, void **blob, size_t *len)
{
	struct siphon_config *cfg;
	struct config_error err;

	if (config_load(path, &cfg, &err)) {
		fprintf(stderr, "gen-publisher: %s\n", err.text);
		return -1;
	}
	if (tables_blob_build(&cfg->tables, gen, blob, len)) {
		fprintf(stderr, "gen-publisher: %s: cannot build the blob\n", path);
		config_free(cfg);
		return -1;
	}
	config_free(cfg);
	if (corrupt)
		((uint8_t *)*blob)[*len - 1] ^= 0x40; /* the checksum no longer holds */
	return 0;
}

static int full(int fd, void *p, size_t n, bool wr)
{
	size_t off = 0;

	while (off < n) {
		ssize_t k = wr ? send(fd, (char *)p + off, n - off, MSG_NOSIGNAL) :
				 read(fd, (char *)p + off, n - off);
		if (k <= 0)
			return -1;
		off += (size_t)k;
	}
	return 0;
}

static int publish(int fd, const void *blob, size_t len)
{
	struct gen_wire_hdr h = { GEN_WIRE_MAGIC, GEN_WIRE_VERSION, GEN_WIRE_GENERATION, len };
	struct gen_wire_ack a;

	if (full(fd, &h, sizeof(h), true) || full(fd, (void *)blob, len, true))
		return -1;
	/* the fast path's COUNTERS snapshots (docs/metrics.md) may come first:
	 * skipped, the next ACK is the answer */
	for (;;) {
		char err[128], skip[4096];

		if (full(fd, &h, sizeof(h), false) || gen_wire_check(&h, err, sizeof(err)))
			return -1;
		if (h.type == GEN_WIRE_ACK)
			break;
		for (uint64_t left = h.length; left;) {
			size_t k = left < sizeof(skip) ? (size_t)left : sizeof(skip);

			if (full(fd, skip, k, false))
				return -1;
			left -= k;
		}
	}
	if (full(fd, &a, sizeof(a), false))
		return -1;
	a.reason[sizeof(a.reason) - 1] = 0;
	printf("{\"event\":\"ack\",\"generation\":%llu,\"status\":%d,\"reason\":\"%s\"}\n",
	       (unsigned long long)a.generation, a.status, a.reason);
	fflush(stdout);
	return 0;
}

/* One COUNTERS snapshot as an event line (refused ones say why). */
static void print_counters(const void *p, size_t len)
{
	const struct gen_wire_counters *h = p;
	const struct gen_wire_named *nm;
	char err[256];

	if (gen_counters_check(p, len, &gen_counters_any, err, sizeof(err))) {
		printf("{\"event\":\"counters_refused\",\"why\":\"%s\"}\n", err);
		fflush(stdout);
		return;
	}
	nm = gen_counters_named(p);
	printf("{\"event\":\"counters\",\"generation\":%llu,\"seq\":%llu,\"flags\":%u,\"named\":{",
	       (unsigned long long)h->generation, (unsigned long long)h->seq, h->flags);
	for (uint32_t i = 0; i < h->n_named; i++)
		printf("%s\"%s\":%llu", i ? "," : "", nm[i].name, (unsigned long long)nm[i].value);
	printf("}}\n");
	fflush(stdout);
}

/* Until the fast path closes the connection: its COUNTERS snapshots. */
static void read_until_closed(int fd)
{
	struct gen_wire_hdr h;
	char err[128];

	while (!full(fd, &h, sizeof(h), false) && !gen_wire_check(&h, err, sizeof(err))) {
		uint8_t *p = malloc(h.length + 1); /* aligned, as siphond's copy is */

		if (!p || full(fd, p, h.length, false)) {
			free(p);
			return;
		}
		if (h.type == GEN_WIRE_COUNTERS)
			print_counters(p, h.length);
		free(p);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' }, { "config", required_argument, NULL, 'c' },
		{ "generation", required_argument, NULL, 'g' }, { "corrupt", no_argument, NULL, 'x' },
		{ "then-config", required_argument, NULL, 'C' },
		{ "then-generation", required_argument, NULL, 'G' },
		{ "clients", required_argument, NULL, 'k' },
		{ "then-after-ms", required_argument, NULL, 'T' },
		{ "write-state", required_argument, NULL, 'w' }, { NULL, 0, NULL, 0 },
	};
	const char *sock = NULL, *conf = NULL, *then = NULL, *state = NULL;
	unsigned long long gen = 1, then_gen = 2;
	int clients = 1, c, lfd, then_after = 0;
	bool corrupt = false;
	void *blob, *blob2 = NULL;
	size_t len, len2 = 0;
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': sock = optarg; break;
		case 'c': conf = optarg; break;
		case 'g': gen = strtoull(optarg, NULL, 10); break;
		case 'x': corrupt = true; break;
		case 'C': then = optarg; break;
		case 'G': then_gen = strtoull(optarg, NULL, 10); break;
		case 'k': clients = atoi(optarg); break;
		case 'T': then_after = atoi(optarg); break;
		case 'w': state = optarg; break;
		default: return 2;
		}
	}
	if (!conf || (!sock && !state) || build(conf, gen, corrupt, &blob, &len))
		return 2;
	if (then && build(then, then_gen, false, &blob2, &len2))
		return 2;
	if (state) { /* as siphond persists it: written whole, then renamed */
		char tmp[4096], path[4096];
		int fd;

		snprintf(tmp, sizeof(tmp), "%s/generation.blob.tmp", state);
		snprintf(path, sizeof(path), "%s/generation.blob", state);
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || write(fd, blob, len) != (ssize_t)len || fsync(fd) || close(fd) ||
		    rename(tmp, path)) {
			perror("gen-publisher: --write-state");
			return 1;
		}
		free(blob);
		free(blob2);
		return 0;
	}
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock);
	unlink(sock);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 4)) {
		perror("gen-publisher: listen");
		return 1;
	}
	printf("{\"event\":\"listening\"}\n");
	fflush(stdout);
	for (int i = 0; i < clients; i++) {
		int fd = accept(lfd, NULL, NULL);
		char line[4096], *p;
		size_t n = 0;
		unsigned long long running = 0;
		static const char reply[] = "{\"id\":1,\"result\":{\"attached\":true}}\n";

		if (fd < 0)
			return 1;
		while (n + 1 < sizeof(line) && read(fd, &line[n], 1) == 1 && line[n] != '\n')
			n++;
		line[n] = 0;
		printf("{\"event\":\"attach\",\"line\":%s}\n", n ? line : "null");
		fflush(stdout);
		if ((p = strstr(line, "\"generation\":")))
			running = strtoull(p + 13, NULL, 10);
		if (full(fd, (void *)reply, sizeof(reply) - 1, true) ||
		    (running != gen && publish(fd, blob, len)) ||
		    (blob2 && (usleep((useconds_t)then_after * 1000u), publish(fd, blob2, len2)))) {
			printf("{\"event\":\"lost\"}\n");
			fflush(stdout);
		}
		read_until_closed(fd);
		close(fd);
	}
	close(lfd);
	unlink(sock);
	free(blob);
	free(blob2);
	return 0;
}
