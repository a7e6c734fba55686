/* siphon --siphond: where the first generation comes from
 * (docs/generations.md "Cold start"): siphond's current one when siphond
 * answers, else the one siphond persisted in the state directory. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "siphon/gen_wire.h"
#include "siphon/table_blob.h"
#include "siphon_main.h"

#define FIRST_WAIT_MS 10000u /* siphond sends its generation on attach */
#define STATE_FILE GEN_STATE_FILE

/* The apply hook while nothing runs yet: keep the generation. */
static int take_first(void *ctx, struct gen_generation *g, char *err, size_t errlen)
{
	(void)err, (void)errlen;
	*(struct gen_generation **)ctx = g;
	return 0;
}

/* DIR/generation.blob, read whole into an aligned buffer and validated. */
static int from_state_dir(const char *dir, struct gen_generation **out, char *err, size_t errlen)
{
	char path[4096];
	struct gen_generation *g = NULL;
	struct stat st;
	int fd, rc = 0;
	size_t got = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, STATE_FILE);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if ((uint64_t)st.st_size > GEN_WIRE_MAX_PAYLOAD) {
		rc = -EFBIG;
		snprintf(err, errlen, "%s: %lld bytes, over the bound", path, (long long)st.st_size);
		goto out;
	}
	g = calloc(1, sizeof(*g));
	if (g)
		g->blob = aligned_alloc(64, ((size_t)st.st_size + 63) / 64 * 64 + 64);
	if (!g || !g->blob) {
		rc = -ENOMEM;
		snprintf(err, errlen, "%s: no memory", path);
		goto out;
	}
	g->len = (size_t)st.st_size;
	while (got < g->len) {
		ssize_t n = read(fd, (char *)g->blob + got, g->len - got);

		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO;
			snprintf(err, errlen, "%s: reading: %s", path, n < 0 ? strerror(errno) : "short");
			goto out;
		}
		got += (size_t)n;
	}
	{
		char why[256];

		rc = tables_blob_open(g->blob, g->len, &g->t, why, sizeof(why));
		if (rc) {
			snprintf(err, errlen, "%s: %s", path, why);
			goto out;
		}
	}
	g->number = tables_blob_generation(g->blob);
	*out = g;
	g = NULL;
out:
	if (fd >= 0)
		close(fd);
	gen_generation_free(g);
	return rc;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int siphond_first(const struct options *o, struct gen_receiver *r, struct gen_generation **g)
{
	char name[64], err[8192];
	uint64_t deadline;
	int rc;

	snprintf(name, sizeof(name), "siphon-%s", o->iface ? o->iface : o->io);
	*g = NULL;
	gen_receiver_init(r, o->siphond, name, 0, take_first, g);
	r->defer_ack = true; /* ACKed once the generation runs */
	rc = gen_receiver_connect(r);
	deadline = now_ms() + FIRST_WAIT_MS;
	/* until a generation, a refused one (siphond has no other to offer
	 * before its next publication), the connection's end, or the deadline */
	while (!rc && !*g && !r->c.refused && r->fd >= 0 && now_ms() < deadline)
		gen_receiver_step(r); /* returns after each message or a 5 s stall */
	if (*g) {
		fprintf(stderr, "siphon: siphond %s: generation %llu\n", o->siphond,
			(unsigned long long)(*g)->number);
		return 0;
	}
	fprintf(stderr, "siphon: siphond %s: %s; starting from the persisted generation\n",
		o->siphond, rc || r->fd < 0 || r->c.refused ? r->last_error : "no generation in time");
	gen_receiver_close(r);
	rc = from_state_dir(o->state_dir, g, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "siphon: no generation to start from: siphond %s does not answer and "
				"--state-dir has none: %s\n", o->siphond, err);
		return rc;
	}
	fprintf(stderr, "siphon: starting from generation %llu of %s/%s; siphond is looked for "
			"with back-off\n", (unsigned long long)(*g)->number, o->state_dir, STATE_FILE);
	r->running = (*g)->number;
	return 0;
}
