/* siphond built without libmicrohttpd: no metrics server. The config
 * refuses balancer.metrics in such a build (config_metrics.c), so nothing
 * here is asked to serve. */
#include "metrics.h"

void metrics_http_sync(struct siphond *d)
{
	(void)d;
}

void metrics_http_close(struct siphond *d)
{
	(void)d;
}

size_t metrics_http_poll_fds(const struct siphond *d, struct pollfd *fds, size_t n)
{
	(void)d, (void)fds, (void)n;
	return 0;
}

int metrics_http_timeout(const struct siphond *d, int max_ms)
{
	(void)d;
	return max_ms;
}

void metrics_http_handle(struct siphond *d, const struct pollfd *fds, size_t n)
{
	(void)d, (void)fds, (void)n;
}

json_t *metrics_http_json(const struct siphond *d)
{
	(void)d;
	return json_pack("{s:n, s:s}", "listen", "error",
			 "built without libmicrohttpd (Debian libmicrohttpd-dev)");
}

uint64_t metrics_http_scrapes(const struct siphond *d)
{
	(void)d;
	return 0;
}
