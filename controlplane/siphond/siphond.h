/* siphond, the control plane's daemon (docs/siphond.md): compiles the
 * config into table generations, persists each before publishing it to
 * the attached fast paths, and answers the RPC socket. One thread, one
 * poll() loop (daemon.c); every file here has one role. */
#ifndef SIPHON_SIPHOND_H
#define SIPHON_SIPHOND_H

#include <poll.h>
#include <sys/socket.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "config.h"
#include "overrides.h"
#include "rpc.h"
#include "rpc_server.h"

#include "siphon/gen_wire.h"

#define SIPHOND_STATE_DIR   "/var/lib/siphon"
#define SIPHOND_STATE_BLOB  GEN_STATE_FILE /* the last published generation */
#define SIPHOND_ERR_MAX     1024

/* The log: one line per event on stderr, "siphond: ..." */
void siphond_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* generations.c: a generation is one immutable blob, shared (refcounted)
 * by the daemon and every fast path it is still being written to. */
struct generation {
	unsigned refs;
	uint64_t number;
	void *blob;
	size_t len;
	time_t made; /* wall clock: when it was built (or persisted, when kept) */
};

struct generation *gen_ref(struct generation *g);
void gen_unref(struct generation *g);

/* What the state dir holds: the persisted blob (NULL when there is none
 * or it does not open) and the highest number given out (0: none). */
struct persisted {
	uint64_t number;
	void *blob;
	size_t len;
	time_t mtime;
};

/* 0 (also when there is no file: number 0), or -errno with err. A file
 * that does not open as a blob (another ABI after an upgrade) still gives
 * its number when its header does, and a note in err (rc 0, blob NULL). */
int gen_read_persisted(const char *dir, struct persisted *p, char *err, size_t errlen);

/* Builds cfg's tables as a generation numbered `number`. When `same` is
 * given and holds the same tables (equal bytes but for the number), *out
 * is NULL and *unchanged true. 0 or -errno with err. */
int gen_build(const struct siphon_config *cfg, uint64_t number, const void *same,
	      size_t same_len, struct generation **out, bool *unchanged, char *err,
	      size_t errlen);

/* Writes g to DIR/generation.blob atomically: a temp file, fsync, rename,
 * fsync of the directory (made 0755 when missing). 0 or -errno with err. */
int gen_persist(const char *dir, const struct generation *g, char *err, size_t errlen);

/* Any file of the state dir written the same way (overrides.json), and
 * removed (a missing file is fine). 0 or -errno with err. */
int state_write(const char *dir, const char *name, const void *buf, size_t len, char *err,
		size_t errlen);
int state_remove(const char *dir, const char *name, char *err, size_t errlen);

/* publisher.c: the attached fast paths. */
#define PUB_MAX_FASTPATHS 16
#define PUB_STALL_S       30 /* a fast path that takes no byte for this long is dropped */
#define PUB_NAME_MAX      64

struct pub_counters {
	uint64_t attached, detached, refused, acks, refusals, protocol_errors, stalled,
		write_failed, published;
	uint64_t counters, counters_refused; /* COUNTERS snapshots received, refused */
};

struct publisher;

int publisher_new(struct publisher **out);
void publisher_free(struct publisher *p); /* closes every fast path */
/* Takes fd (a handed-over RPC connection) as fast path `name`, which runs
 * generation `runs`; sends cur unless it runs that. rest: bytes already
 * read after the attach line. 0, or -ENOSPC (full) / -errno: fd not kept. */
int publisher_attach(struct publisher *p, int fd, const char *name, uint64_t runs,
		     const void *rest, size_t rest_len, struct generation *cur);
bool publisher_full(const struct publisher *p);
/* Queues g to every fast path (the newest waiting one replaces an older). */
void publisher_publish(struct publisher *p, struct generation *g);
size_t publisher_poll_fds(const struct publisher *p, struct pollfd *fds, size_t n);
void publisher_handle(struct publisher *p, const struct pollfd *fds, size_t n);
/* Drops fast paths stuck for PUB_STALL_S. */
void publisher_tick(struct publisher *p);
/* [{"name", "pid", "attached", "attached_s", "generation", "runs", "pending", "refused"}] */
json_t *publisher_json(const struct publisher *p);
const struct pub_counters *publisher_counters(const struct publisher *p);
void publisher_count_refused(struct publisher *p);

/* COUNTERS snapshots (docs/metrics.md): each is checked against the
 * indices of the generation it names, which fn fills in when it knows
 * that generation (else the bounds of any generation stay). */
struct gen_counters_limits;
typedef void (*pub_limits_fn)(void *ctx, uint64_t generation, struct gen_counters_limits *lim);
void publisher_set_limits(struct publisher *p, pub_limits_fn fn, void *ctx);
/* Called with each snapshot that checked, before it is kept. */
typedef void (*pub_snap_fn)(void *ctx, const char *fastpath, const void *snap, size_t len);
void publisher_set_snap_hook(struct publisher *p, pub_snap_fn fn, void *ctx);
/* An attached fast path and its last snapshot that checked (p NULL: none
 * yet), or the last snapshot of one that detached (until one of its name
 * attaches again); valid until the next turn of the loop. */
struct pub_snapshot {
	const char *name;
	bool attached;
	uint64_t acked;   /* the generation it last acknowledged */
	const void *p;    /* a checked COUNTERS payload */
	size_t len;
	double age_s;     /* since it arrived */
	uint64_t refused; /* its snapshots refused */
};
/* out: room for 2 * PUB_MAX_FASTPATHS */
size_t publisher_snapshots(const struct publisher *p, struct pub_snapshot *out, size_t max);

/* The daemon. */
struct siphond_opts {
	const char *config, *socket, *state_dir;
	const char *socket_group; /* NULL: the socket stays mode 0600 */
	bool no_probes; /* --no-probes: no probe socket, no probe sent */
};

struct siphond_counters {
	uint64_t reloads, reloads_rejected, reloads_unchanged, persist_failed, dry_runs;
	/* pool management (docs/siphond.md): changes applied and refused over
	 * the RPC, overrides files refused at start, changes dropped by reloads */
	uint64_t pool_changes, pool_changes_refused, overrides_refused, overrides_dropped;
};

struct siphond {
	struct siphond_opts o;
	struct siphon_config *cfg; /* the running generation's config */
	char *cfg_text;            /* its file's text, as loaded: pool changes edit it */
	struct overrides ovr;      /* the RPC's pool changes over it (overrides.h) */
	struct generation *cur;
	uint64_t last_number;      /* the highest number given out */
	struct rpc_table table;
	struct rpc_server *rpc;
	struct publisher *pub;
	struct punt *punt; /* punt.c: the sockets that answer punted messages */
	struct health_loop *hl; /* health_loop.h */
	struct dns *dns;        /* dns.h: nodes given by name */
	struct events *ev;      /* events.c: on_node_change */
	struct metrics_http *mh; /* metrics.h: /metrics */
	struct ctotals *tot;     /* counters_total.h: continuous flag, rule, node counters */
	int sigfd;
	bool stop;
	struct siphond_counters c;
};

/* daemon.c */
int siphond_start(struct siphond *d, char *err, size_t errlen);
int siphond_run(struct siphond *d); /* until SIGTERM / SIGINT */
void siphond_stop(struct siphond *d);

/* reload.c: compiles the config again. Dry run: *result says what would
 * change; else the new generation is persisted and published. 0, or
 * -errno with err (the config's FILE:LINE: reason when rejected). */
int siphond_reload(struct siphond *d, bool dry_run, const char *why, json_t **result,
		   char *err, size_t errlen);

/* Publishes d->cfg's tables as they are now (health verdicts applied) as
 * the next generation, persisted first; nothing when they are the same
 * as the running one (returns 1). 0, 1, or -errno with err. */
int siphond_republish(struct siphond *d, const char *why, char *err, size_t errlen);

/* health_loop.c: a datagram that may answer one of siphond's probes,
 * whichever socket it came in on (the probe socket or a punt socket). */
void siphond_probe_answer(struct siphond *d, const uint8_t *buf, size_t len,
			  const struct sockaddr_storage *from, uint64_t now_ms);
/* health_loop.c: a's address and port as a sockaddr; its length. */
socklen_t siphond_sockaddr(const struct self_addr *a, uint16_t port, struct sockaddr_storage *ss);

/* metrics_view.c: after d->cur changed (start, reload, republish): its
 * names kept for the snapshots of it that come after the next generation
 * is published (counters_total.h). */
void metrics_generation(struct siphond *d);
/* A node's forwarded packets (both lanes, every fast path, continuous)
 * and their rate over the last ~5 s of snapshots (packets/s). */
void metrics_node_traffic(const struct siphond *d, const char *pool, const char *node,
			  uint64_t *forwarded, double *rate);
/* Each node object of nodes (its name under name_key) gets its
 * "forwarded" and "rate_pps"; owner gets their sums. */
void metrics_traffic_nodes(const struct siphond *d, const char *pool, json_t *nodes,
			   const char *name_key, json_t *owner);
/* metrics_traffic_nodes for each pool of pools (an array of {"name",
 * "nodes": [{"name", ...}]}). */
void metrics_traffic_json(const struct siphond *d, json_t *pools);

/* health_rpc.c: pool.show */
int health_methods_add(struct siphond *d);

/* diff.c: what changes from a to b (flags, rules, pools, nodes, Maglev share). */
json_t *config_diff(const struct siphon_config *a, const struct siphon_config *b);
/* The share of the Call-ID hash space whose node changes between two Maglev
 * tables of one pool (old node index -> new one through map; map[i] is the
 * new index of old node i, or -1 when it left). */
double maglev_moved_share(const uint16_t *a, uint32_t a_size, const uint16_t *b, uint32_t b_size,
			  const int *map, uint32_t map_n, uint64_t *slots_moved);

/* punt.c: answers to punted messages (docs/answers.md): one UDP socket
 * per balancer address and port, decided with the running generation's
 * tables. punt_open: 0 or -ENOMEM (a socket that does not bind is logged
 * and counted, not fatal). punt_tables_changed: after d->cfg changed. */
struct punt;
#define PUNT_POLL_MAX (32 * 8) /* balancer addresses x ports */
int punt_open(struct siphond *d, char *err, size_t errlen);
void punt_tables_changed(struct siphond *d);
void punt_close(struct siphond *d);
size_t punt_poll_fds(const struct siphond *d, struct pollfd *fds, size_t n);
void punt_handle(struct siphond *d, const struct pollfd *fds, size_t n);
json_t *punt_json(const struct siphond *d); /* state's "punts" */

/* methods.c */
int siphond_methods_add(struct siphond *d);

/* events.c: balancer.on_node_change (docs/siphond.md "Events"). A state
 * change is queued in the turn, run by events_tick after the turn's
 * generation is published; children reaped on SIGCHLD (events_reap). */
struct hl_pool;
int events_open(struct siphond *d);
void events_close(struct siphond *d);
void events_node_change(struct siphond *d, const struct hl_pool *p, uint32_t node,
			enum health_state before);
void events_reap(struct siphond *d);
void events_tick(struct siphond *d);
int events_timeout(const struct siphond *d, int max_ms);
json_t *events_json(const struct siphond *d);

/* reload.c: cfg and its health set become the running ones. */
struct health_set;
void siphond_adopt(struct siphond *d, struct siphon_config *cfg, struct health_set *hs);
/* reload.c: g (taken) becomes the running generation, after the config it
 * was built from was adopted: its counters' names noted (metrics), then
 * published. Every new generation goes through here. */
void siphond_set_current(struct siphond *d, struct generation *g);
/* pool_apply.c: cfg as the running config would be, as after a reload:
 * its health set (node states carried over by name, `ovr`'s disabled
 * nodes), the running table kept as previous for grace_s, the generation
 * built (and *unchanged when its tables are the running ones). */
int siphond_prepare(struct siphond *d, struct siphon_config *cfg, const struct overrides *ovr,
		    struct health_set **hs, struct generation **g, bool *unchanged, char *err,
		    size_t errlen);

/* pool_apply.c: the RPC's pool changes (docs/siphond.md "Pool management").
 * siphond_pool_change: `next` becomes the running overrides: the config
 * text compiled with them, node states carried over by name, the previous
 * table kept as by a reload; overrides.json written, then a new generation
 * persisted and published when the tables change. 0 (published), 1 (the
 * same tables), or -errno with err and nothing changed. `next` is taken
 * either way. */
int siphond_pool_change(struct siphond *d, struct overrides *next, char *err, size_t errlen);
/* The same when only node states change (disable, enable): persisted,
 * no compile. Taken either way. */
int siphond_overrides_set(struct siphond *d, struct overrides *next, char *err, size_t errlen);
/* At start: the config's text, and overrides.json applied over it when it
 * is sound and made over this text (else refused: logged, counted, set
 * aside). d->cfg, d->cfg_text, d->ovr. 0, or -errno with err. */
int siphond_load_start(struct siphond *d, char *err, size_t errlen);
/* Node states as `o` wants them: disabled there, disabled here; disabled
 * here and not there, enabled (siphond_node_enable). `why` for the log,
 * NULL: not logged. */
void siphond_overrides_states(struct siphond *d, struct health_set *s, const struct overrides *o,
			      const char *why);
/* node.enable: back to the probes, or active when nothing probes it. */
struct health_node;
void siphond_node_enable(struct siphond *d, struct health_node *n, int family, uint64_t now_ms);

/* pool_rpc.c: node.add, node.remove, node.weight, node.drain, node.enable,
 * node.disable, pool.list */
int pool_methods_add(struct siphond *d);
/* A node's state as pool.show says it: "draining" while drained and up. */
const char *siphond_node_state(const struct health_node *n, const struct ovr_node *e);

#endif
