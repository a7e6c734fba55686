/* The listening socket: its directory, a dead server's socket file
 * replaced, a live one refused, mode 0600. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "rpc_server.h"

static int fail(char *err, size_t errlen, int rc, const char *path, const char *what)
{
	snprintf(err, errlen, "%s: %s%s%s", path, what, rc ? ": " : "", rc ? strerror(-rc) : "");
	return rc ? rc : -EINVAL;
}

static int make_parents(const char *path, char *err, size_t errlen)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];

	snprintf(dir, sizeof(dir), "%s", path);
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
			int rc = -errno;

			snprintf(err, errlen, "%s: cannot create the directory %s: %s", path, dir,
				 strerror(-rc));
			return rc;
		}
		*p = '/';
	}
	return 0;
}

/* 0 when nothing is at path any more, or -errno. */
static int clear_stale(const struct sockaddr_un *sa, char *err, size_t errlen)
{
	const char *path = sa->sun_path;
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : fail(err, errlen, -errno, path, "cannot stat");
	if (!S_ISSOCK(st.st_mode))
		return fail(err, errlen, -EEXIST, path, "exists and is not a socket; not replacing it");
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(err, errlen, -errno, path, "socket");
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0 ? 0 : -errno;
	close(fd);
	if (rc == 0)
		return fail(err, errlen, -EADDRINUSE, path,
			    "another server is listening on this socket (is siphond running?)");
	if (rc != -ECONNREFUSED)
		return fail(err, errlen, rc, path, "cannot tell whether a server listens here");
	/* refused: the socket file of a server that is gone */
	if (unlink(path) != 0 && errno != ENOENT)
		return fail(err, errlen, -errno, path, "cannot remove the stale socket");
	return 0;
}

int rpc_listen(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX }, tmp = { .sun_family = AF_UNIX };
	size_t len = strlen(path);
	mode_t old;
	int fd, rc;

	/* room for the temporary name, path + "~" */
	if (!len || len + 1 >= sizeof(sa.sun_path))
		return fail(err, errlen, -ENAMETOOLONG, path,
			    "a socket path must be 1 to 106 bytes long");
	memcpy(sa.sun_path, path, len + 1);
	memcpy(tmp.sun_path, path, len);
	tmp.sun_path[len] = '~';
	rc = make_parents(path, err, errlen);
	if (rc == 0)
		rc = clear_stale(&sa, err, errlen);
	if (rc)
		return rc;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(err, errlen, -errno, path, "socket");
	/* bound and listening under a temporary name, then renamed: the path
	 * appears only when a client can connect (a client that waits for the
	 * file is never refused); the mode is set at bind, from the umask */
	if (unlink(tmp.sun_path) != 0 && errno != ENOENT) {
		rc = -errno;
		close(fd);
		return fail(err, errlen, rc, tmp.sun_path, "cannot remove a leftover temporary socket");
	}
	old = umask(0177);
	rc = bind(fd, (const struct sockaddr *)&tmp, sizeof(tmp)) == 0 ? 0 : -errno;
	umask(old);
	if (rc == 0 && listen(fd, RPC_MAX_CLIENTS) != 0)
		rc = -errno;
	if (rc == 0 && rename(tmp.sun_path, path) != 0)
		rc = -errno;
	if (rc) {
		unlink(tmp.sun_path);
		close(fd);
		return fail(err, errlen, rc, path, "cannot listen");
	}
	return fd;
}
