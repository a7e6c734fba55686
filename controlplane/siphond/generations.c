/* Table generations: build one from a config, persist it atomically, read
 * the persisted one back at start. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blob_write.h"
#include "siphon/gen_wire.h"
#include "siphon/table_blob.h"
#include "siphond.h"

struct generation *gen_ref(struct generation *g)
{
	if (g)
		g->refs++;
	return g;
}

void gen_unref(struct generation *g)
{
	if (g && --g->refs == 0) {
		free(g->blob);
		free(g);
	}
}

static void path_of(char *buf, size_t size, const char *dir, const char *name)
{
	snprintf(buf, size, "%s/%s", dir, name);
}

/* Reads the whole file (at most GEN_WIRE_MAX_PAYLOAD bytes) into an
 * 8-byte aligned buffer, as tables_blob_open wants it. */
static int read_file(const char *path, void **out, size_t *len, time_t *mtime)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	void *buf;
	size_t off = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > GEN_WIRE_MAX_PAYLOAD) {
		int rc = S_ISREG(st.st_mode) ? -EFBIG : -EINVAL;

		close(fd);
		return rc;
	}
	buf = aligned_alloc(TABLES_BLOB_ALIGN, ((size_t)st.st_size + 7) / 8 * 8 + 8);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (off < (size_t)st.st_size) {
		ssize_t r = read(fd, (char *)buf + off, (size_t)st.st_size - off);

		if (r <= 0) {
			int rc = r < 0 ? -errno : -EIO;

			free(buf);
			close(fd);
			return rc;
		}
		off += (size_t)r;
	}
	close(fd);
	*out = buf;
	*len = off;
	*mtime = st.st_mtime;
	return 0;
}

int gen_read_persisted(const char *dir, struct persisted *p, char *err, size_t errlen)
{
	char path[4096], why[512];
	struct compiled_tables t;
	const struct tables_blob_header *h;
	int rc;

	*p = (struct persisted){ 0 };
	err[0] = '\0';
	path_of(path, sizeof(path), dir, SIPHOND_STATE_BLOB);
	rc = read_file(path, &p->blob, &p->len, &p->mtime);
	if (rc == -ENOENT)
		return 0;
	if (rc) {
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	h = p->blob;
	/* the number survives a blob this build cannot open: numbers only grow */
	if (p->len >= offsetof(struct tables_blob_header, n_sections) && h->magic == TABLES_BLOB_MAGIC)
		p->number = h->generation;
	if (tables_blob_open(p->blob, p->len, &t, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "%s: not reused: %s", path, why);
		free(p->blob);
		p->blob = NULL;
		p->len = 0;
	}
	return 0;
}

/* Sets the number of a built blob (its checksum covers the number). */
static void renumber(void *blob, size_t len, uint64_t number)
{
	struct tables_blob_header *h = blob;

	h->generation = number;
	h->checksum = tables_blob_checksum(blob, len);
}

int gen_build(const struct siphon_config *cfg, uint64_t number, const void *same,
	      size_t same_len, struct generation **out, bool *unchanged, char *err,
	      size_t errlen)
{
	struct generation *g;
	void *blob;
	size_t len;
	int rc;

	*out = NULL;
	*unchanged = false;
	rc = tables_blob_build(&cfg->tables, number, &blob, &len);
	if (rc) {
		snprintf(err, errlen, "%s: building the table blob: %s", cfg->path, strerror(-rc));
		return rc;
	}
	if (same && same_len == len) {
		/* compare as if numbered alike: the content is what matters */
		renumber(blob, len, tables_blob_generation(same));
		if (memcmp(blob, same, len) == 0) {
			free(blob);
			*unchanged = true;
			return 0;
		}
		renumber(blob, len, number);
	}
	g = calloc(1, sizeof(*g));
	if (!g) {
		free(blob);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	*g = (struct generation){ .refs = 1, .number = number, .blob = blob, .len = len,
				  .made = time(NULL) };
	*out = g;
	return 0;
}

static int mkdirs(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			*p = '/';
			return -errno;
		}
		*p = '/';
	}
	return mkdir(path, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

static int write_all(int fd, const void *buf, size_t len)
{
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, (const char *)buf + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		off += (size_t)w;
	}
	return 0;
}

/* DIR/NAME written whole or not at all: NAME.tmp, fsync, rename, and
 * the directory fsync'ed so that the rename itself survives a crash. */
static int write_atomic(const char *dir, const char *name, const void *buf, size_t len,
			const char **step)
{
	char path[4096], tmp[4200], d[4096];
	int fd = -1, dfd = -1, rc;

	snprintf(d, sizeof(d), "%s", dir);
	path_of(path, sizeof(path), dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	*step = "creating the directory";
	rc = mkdirs(d);
	if (rc)
		return rc;
	*step = "writing";
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || (rc = write_all(fd, buf, len)) != 0)
		goto fail;
	*step = "fsync";
	if (fsync(fd) < 0)
		goto fail;
	close(fd);
	fd = -1;
	*step = "rename";
	if (rename(tmp, path) < 0)
		goto fail;
	*step = "fsync of the directory";
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0)
		goto fail;
	close(dfd);
	return 0;
fail:
	if (!rc)
		rc = -errno;
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	if (dfd >= 0)
		close(dfd);
	return rc;
}

int state_write(const char *dir, const char *name, const void *buf, size_t len, char *err,
		size_t errlen)
{
	const char *step;
	int rc = write_atomic(dir, name, buf, len, &step);

	if (rc)
		snprintf(err, errlen, "writing %s/%s: %s: %s", dir, name, step, strerror(-rc));
	return rc;
}

int state_remove(const char *dir, const char *name, char *err, size_t errlen)
{
	char path[4096];
	int dfd;

	path_of(path, sizeof(path), dir, name);
	if (unlink(path) < 0 && errno != ENOENT) {
		snprintf(err, errlen, "removing %s: %s", path, strerror(errno));
		return -errno;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

int gen_persist(const char *dir, const struct generation *g, char *err, size_t errlen)
{
	char path[4096];
	const char *step;
	int rc = write_atomic(dir, SIPHOND_STATE_BLOB, g->blob, g->len, &step);

	path_of(path, sizeof(path), dir, SIPHOND_STATE_BLOB);
	if (rc)
		snprintf(err, errlen, "persisting generation %llu to %s: %s: %s",
			 (unsigned long long)g->number, path, step, strerror(-rc));
	return rc;
}
