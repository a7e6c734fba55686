/* What siphond shows of its own state and of its fast paths' counters
 * snapshots (docs/metrics.md): the Prometheus text of /metrics
 * (metrics_text.c), the `stats` method (stats_rpc.c), both read through
 * one view (metrics_view.c), and the HTTP server (metrics_http.c). */
#ifndef SIPHON_METRICS_H
#define SIPHON_METRICS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "health_loop.h"
#include "punt_sock.h"
#include "siphon/gen_counters.h"
#include "siphond.h"
#include "counters_total.h"

#define METRICS_MAX_BYTES (16u << 20) /* a larger exposition is refused (500) */
#define METRICS_MAX_CONNECTIONS 8
#define METRICS_TIMEOUT_S 10

/* A bounded, growing text buffer. */
struct mbuf {
	char *p;
	size_t len, cap, max;
	bool over; /* something did not fit under max (or no memory) */
};

void mbuf_init(struct mbuf *b, size_t max);
void mbuf_free(struct mbuf *b);
void mbuf_printf(struct mbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s as a label value: \ " and newline escaped */
void mbuf_label(struct mbuf *b, const char *s);
/* A family's # HELP and # TYPE lines. */
void metrics_family(struct mbuf *b, const char *name, const char *type, const char *help);

/* siphond at one moment; the pointers NULL where a part is not there. */
struct metrics_src {
	const struct siphon_config *cfg; /* the running generation's */
	uint64_t generation;
	double generation_age_s;
	size_t generation_bytes;
	const struct health_set *health;
	const struct punt_counters *punts;
	const struct pub_counters *pub;
	const struct siphond_counters *dc;
	const struct pub_snapshot *fp; /* the attached fast paths */
	size_t n_fp;
	uint64_t scrapes; /* /metrics answered before this one */
	struct ctotals *tot; /* the continuous flag, rule and node counters; NULL: none */
	const struct dns *dns; /* the nodes given by name; NULL: none */
};

/* One fast path's snapshot, its indexed entries spread out by index when
 * they are of the running generation (current), else NULL. */
struct fp_view {
	const struct pub_snapshot *s;
	const struct gen_wire_counters *h; /* NULL: no snapshot yet */
	const struct gen_wire_named *named;
	bool current;
};

/* 0 or -ENOMEM. */
int fp_view_open(struct fp_view *v, const struct pub_snapshot *s, const struct metrics_src *src);
void fp_view_close(struct fp_view *v);
/* Global node index i of cfg: its pool and node names. */
void metrics_node_names(const struct siphon_config *cfg, uint32_t i, const char **pool,
			const char **node);

struct dns;
/* metrics_dns.c: the names' resolutions, failures, nodes */
void metrics_dns(struct mbuf *b, const struct dns *dns);

/* The exposition text (format 0.0.4) into b: 0, or -EFBIG (over b's
 * bound or out of memory) / -ENOMEM. */
int metrics_render(const struct metrics_src *s, struct mbuf *b);
/* The `stats` result. NULL: no memory. */
json_t *metrics_stats_json(const struct metrics_src *s);

/* d now: fp has room for 2 * PUB_MAX_FASTPATHS. */
void metrics_src_of(const struct siphond *d, struct metrics_src *s, struct pub_snapshot *fp);
/* The publisher's hook: the running generation's bounds. */
void metrics_limits(void *d, uint64_t generation, struct gen_counters_limits *lim);
/* The publisher's snapshot hook: into d->tot. */
void metrics_snap(void *d, const char *fastpath, const void *snap, size_t len);

int stats_methods_add(struct siphond *d);

/* metrics_http.c: the server on cfg's balancer.metrics, run by the poll
 * loop (libmicrohttpd's external epoll mode: one fd in the loop). */
struct metrics_http;
/* Makes the server match d->cfg (started, moved or stopped); a socket
 * that cannot be bound is logged and counted, not fatal: tried again when
 * a reload brings another config. */
void metrics_http_sync(struct siphond *d);
void metrics_http_close(struct siphond *d);
size_t metrics_http_poll_fds(const struct siphond *d, struct pollfd *fds, size_t n);
/* poll()'s timeout with the server's own (connection timeouts). */
int metrics_http_timeout(const struct siphond *d, int max_ms);
void metrics_http_handle(struct siphond *d, const struct pollfd *fds, size_t n);
/* {"listen", "error", "scrapes", "too_large"} for stats */
json_t *metrics_http_json(const struct siphond *d);
uint64_t metrics_http_scrapes(const struct siphond *d);

#endif
