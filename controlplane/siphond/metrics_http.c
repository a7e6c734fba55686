/* /metrics over HTTP with libmicrohttpd, in its external epoll mode: MHD
 * gives one epoll fd that siphond's poll() loop watches, and MHD_run()
 * (non-blocking) serves what is ready in the loop's turn. The handler
 * renders from siphond's state as it is in that turn: no thread, no lock,
 * no copy; a slow client only costs buffered bytes, MHD writes without
 * blocking. Connections are bounded (METRICS_MAX_CONNECTIONS, each idle
 * for at most METRICS_TIMEOUT_S), and so is the text (METRICS_MAX_BYTES). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "metrics.h"

struct metrics_http {
	struct MHD_Daemon *mhd;
	int epfd;
	char listen[64]; /* what it serves on; "" while it serves nothing */
	char error[256];
	const struct siphon_config *synced; /* the config last looked at */
	uint64_t scrapes, too_large, not_found, listen_failed;
};

static void stop(struct metrics_http *m)
{
	if (m->mhd) /* MHD closes the listening socket it was given */
		MHD_stop_daemon(m->mhd);
	m->mhd = NULL;
	m->epfd = -1;
	m->listen[0] = '\0';
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
			     char *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result rc;

	if (!r) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	static char not_found[] = "siphond serves /metrics only\n";
	static char not_allowed[] = "GET or HEAD\n";
	static char too_large[] = "the exposition is larger than its bound (16 MiB)\n";
	struct siphond *d = cls;
	struct metrics_http *m = d->mh;
	struct pub_snapshot fp[2 * PUB_MAX_FASTPATHS];
	struct metrics_src s;
	struct mbuf b;

	(void)version, (void)upload, (void)con_cls;
	if (*upload_size) { /* a body is not wanted: drop it */
		*upload_size = 0;
		return MHD_YES;
	}
	if (strcmp(url, "/metrics") != 0) {
		m->not_found++;
		return reply(c, MHD_HTTP_NOT_FOUND, "text/plain", not_found, sizeof(not_found) - 1,
			     MHD_RESPMEM_PERSISTENT);
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", not_allowed,
			     sizeof(not_allowed) - 1, MHD_RESPMEM_PERSISTENT);
	metrics_src_of(d, &s, fp);
	mbuf_init(&b, METRICS_MAX_BYTES);
	if (metrics_render(&s, &b)) {
		mbuf_free(&b);
		if (m->too_large++ == 0)
			siphond_log("metrics: the exposition is over %u bytes (or out of memory): "
				    "answered 500", METRICS_MAX_BYTES);
		return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", too_large,
			     sizeof(too_large) - 1, MHD_RESPMEM_PERSISTENT);
	}
	m->scrapes++;
	return reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", b.p, b.len,
		     MHD_RESPMEM_MUST_FREE);
}

static void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = '\0';
	siphond_log("metrics: %s", line);
}

/* The listening socket ourselves, for a precise error (MHD is given it). */
static int listen_on(const struct siphon_config *cfg, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len = siphond_sockaddr(&cfg->metrics_addr, cfg->metrics_port, &ss);
	int fd = socket(cfg->metrics_addr.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	const int one = 1;

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    (cfg->metrics_addr.family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one))) ||
	    bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 16)) {
		snprintf(err, errlen, "%s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void start(struct siphond *d, struct metrics_http *m)
{
	int fd = listen_on(d->cfg, m->error, sizeof(m->error));
	const union MHD_DaemonInfo *info;

	if (fd >= 0) {
		m->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL,
					  on_request, d, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
					  MHD_OPTION_LISTEN_SOCKET, fd,
					  MHD_OPTION_CONNECTION_LIMIT, (unsigned)METRICS_MAX_CONNECTIONS,
					  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)METRICS_TIMEOUT_S,
					  MHD_OPTION_END);
		info = m->mhd ? MHD_get_daemon_info(m->mhd, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
		if (!info) {
			snprintf(m->error, sizeof(m->error), "libmicrohttpd did not start");
			if (m->mhd)
				MHD_stop_daemon(m->mhd);
			else
				close(fd);
			m->mhd = NULL;
		} else {
			m->epfd = info->epoll_fd;
		}
	}
	if (!m->mhd) {
		m->listen_failed++;
		siphond_log("metrics: cannot listen on %s: %s; /metrics is not served (tried again "
			    "when a reload changes the config)", d->cfg->metrics, m->error);
		return;
	}
	m->error[0] = '\0';
	snprintf(m->listen, sizeof(m->listen), "%s", d->cfg->metrics);
	siphond_log("metrics: serving http://%s/metrics", m->listen);
}

void metrics_http_sync(struct siphond *d)
{
	struct metrics_http *m = d->mh;

	if (!m) {
		m = d->mh = calloc(1, sizeof(*m));
		if (!m)
			return;
		m->epfd = -1;
	}
	if (m->synced == d->cfg)
		return;
	m->synced = d->cfg;
	if (d->cfg->metrics_on && m->mhd && strcmp(m->listen, d->cfg->metrics) == 0)
		return; /* the same address: the same server */
	if (m->mhd) {
		siphond_log("metrics: no longer serving %s", m->listen);
		stop(m);
	}
	m->error[0] = '\0';
	if (d->cfg->metrics_on)
		start(d, m);
}

void metrics_http_close(struct siphond *d)
{
	if (!d->mh)
		return;
	stop(d->mh);
	free(d->mh);
	d->mh = NULL;
}

size_t metrics_http_poll_fds(const struct siphond *d, struct pollfd *fds, size_t n)
{
	if (!d->mh || !d->mh->mhd || n == 0)
		return 0;
	fds[0] = (struct pollfd){ .fd = d->mh->epfd, .events = POLLIN };
	return 1;
}

int metrics_http_timeout(const struct siphond *d, int max_ms)
{
	MHD_UNSIGNED_LONG_LONG t;

	if (!d->mh || !d->mh->mhd || MHD_get_timeout(d->mh->mhd, &t) != MHD_YES)
		return max_ms;
	return t < (MHD_UNSIGNED_LONG_LONG)max_ms ? (int)t : max_ms;
}

void metrics_http_handle(struct siphond *d, const struct pollfd *fds, size_t n)
{
	(void)fds, (void)n;
	/* every turn: MHD_run does not block in this mode, and it also
	 * closes the connections whose time is up */
	if (d->mh && d->mh->mhd)
		MHD_run(d->mh->mhd);
}

json_t *metrics_http_json(const struct siphond *d)
{
	const struct metrics_http *m = d->mh;

	if (!m)
		return json_null();
	return json_pack("{s:s?, s:s?, s:I, s:I, s:I, s:I}", "listen",
			 m->listen[0] ? m->listen : NULL, "error", m->error[0] ? m->error : NULL,
			 "scrapes", (json_int_t)m->scrapes, "too_large", (json_int_t)m->too_large,
			 "not_found", (json_int_t)m->not_found, "listen_failed",
			 (json_int_t)m->listen_failed);
}

uint64_t metrics_http_scrapes(const struct siphond *d)
{
	return d->mh ? d->mh->scrapes : 0;
}
