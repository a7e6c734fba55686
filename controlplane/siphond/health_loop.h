/* siphond's health loop (docs/health.md "In siphond"): the probe sockets,
 * the state of every node of the running config, and what that state
 * makes of the tables (nodes down, Maglev weights, the previous table,
 * fallback pools). */
#ifndef SIPHON_HEALTH_LOOP_H
#define SIPHON_HEALTH_LOOP_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include <jansson.h>

#include "config.h"
#include "health.h"
#include "probe.h"

#define HL_BURST 64 /* datagrams read per socket and loop turn; probes sent per pool */

/* One pool of the running config (health_set.c). */
struct hl_pool {
	const struct cfg_pool *cp; /* in the config the set was built for */
	uint32_t first;            /* its first node in cfg->nodes */
	struct health_node *nodes; /* cp->n_nodes */
	struct health_sched sched;
	uint16_t *prev;            /* the Maglev table before the last health change */
	uint32_t prev_size;
	uint64_t prev_until;       /* CLOCK_MONOTONIC seconds; 0: none */
	uint32_t generations;      /* generations this pool's health changes made */
};

struct health_set {
	const struct siphon_config *cfg;
	uint32_t n_pools;
	struct hl_pool *pools;
	uint16_t *rule_pool; /* each rule's pool as configured (the tables may name a fallback) */
};

/* The previous_until of a pool's new table change: now_s + grace_s, but
 * past the pool's running one, so that each change has its own value: the
 * fast path's grace register remembers the calls begun during a grace
 * period by it, and must not count them in the next one
 * (docs/dispatch.md). */
static inline uint64_t health_grace_until(uint64_t running, uint64_t now_s, uint32_t grace_s)
{
	const uint64_t until = now_s + grace_s;

	return grace_s && until <= running ? running + 1 : until;
}

/* A set for cfg; node states carried over from `old` by pool and node name
 * (NULL: every node starts active). 0 or -ENOMEM. */
int health_set_new(const struct siphon_config *cfg, const struct health_set *old, uint64_t now_ms,
		   struct health_set **out);
void health_set_free(struct health_set *s);
/* Writes the set's verdicts into cfg's tables (the config it was built
 * for): node up flags, each pool's Maglev table from the effective
 * weights, rule pools sent to a fallback while theirs has no live node.
 * rotate: a pool whose table changes keeps the old one as `previous`
 * until now_s + grace_s. 0 or -ENOMEM. */
int health_set_apply(struct health_set *s, struct siphon_config *cfg, uint64_t now_s, bool rotate);
/* reload_grace.c, after health_set_apply, before publishing. A reload
 * (s built from `old`): each pool that stays (by name) whose table moves
 * keeps where the running generation sends dialogs (its previous table
 * where that is live and its node up, else its current one), nodes
 * matched by name into the new order (a node that left: no node), as
 * `previous` until now_s + grace_s; when nothing moves, the running live
 * previous table stays as carry_over kept it (the same nodes) or mapped
 * into the new order, with its until (the RPC's pool changes use this
 * too). A start over a persisted generation `was` does the same, nodes
 * matched by id, and when nothing moves keeps the persisted live previous
 * table as it was. The slots belong to s, as
 * health previous tables do (s lives and dies with cfg). 0 or -ENOMEM. */
int health_set_reload_grace(struct health_set *s, const struct health_set *old,
			    struct siphon_config *cfg, uint64_t now_s);
int health_set_start_grace(struct health_set *s, const struct compiled_tables *was,
			   struct siphon_config *cfg, uint64_t now_s);
/* The pool and node of a global node index (cfg->nodes), or NULL. */
struct health_node *health_set_node(struct health_set *s, uint32_t global, struct hl_pool **pool);
/* The pool's nodes that take new calls (up and a weight above 0). */
uint32_t health_set_live(const struct hl_pool *p);
/* pool.show: {"pools": [...]} (one pool when `pool` is given), NULL if
 * unknown; each node marked where the RPC's changes `ovr` make it differ
 * from the config file. */
struct overrides;
json_t *health_set_json(const struct health_set *s, const char *pool, const struct overrides *ovr,
			uint64_t now_ms);
/* The next time (ms) a node needs the loop: a probe due, a timeout, a hold's end. */
uint64_t health_set_next_ms(const struct health_set *s, uint64_t now_ms);

struct siphond;

struct hl_counters {
	uint64_t probes_sent, send_failed, build_failed, answers, answers_not_probe,
		answers_unmatched, answers_wrong_source, icmp_unreachable, icmp_other,
		icmp_unmatched, recv_failed, socket_failed, state_changes, generations,
		generation_failed, admin;
};

struct health_loop {
	int fd[2];                     /* IPv4, IPv6; -1 when there is no such control address */
	struct sip_endpoint control[2]; /* what the probes' Via says */
	char sock_error[2][256];
	uint32_t instance;             /* this run, in every probe (docs/health.md) */
	bool told_unprobed;            /* "nodes are not probed" was logged */
	struct health_set *set;
	struct hl_counters c;
	struct siphond *d;             /* state changes go to its on_node_change events */
};

/* CLOCK_MONOTONIC in ms: siphond's one clock for probes, states and rates. */
static inline uint64_t health_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* health_loop.c: sockets bound to the config's control addresses; a
 * socket that cannot be opened is logged and counted, not fatal. */
int health_loop_open(struct siphond *d, char *err, size_t errlen);
void health_loop_close(struct health_loop *h);
size_t health_loop_poll_fds(const struct health_loop *h, struct pollfd *fds, size_t n);
/* poll()'s timeout: until the next node needs the loop, at most max_ms. */
int health_loop_timeout(const struct health_loop *h, int max_ms);
/* Reads the sockets, sends the probes due, reports timeouts, and when a
 * node's verdict changed, publishes a new generation. Bounded per call. */
void health_loop_handle(struct siphond *d, const struct pollfd *fds, size_t n);
/* Publishes a generation when a node changed (also after enable/disable). */
void health_loop_changes(struct siphond *d, const char *why);
/* The sockets re-bound after a reload changed the control addresses. */
void health_loop_rebind(struct siphond *d);
json_t *health_loop_counters_json(const struct health_loop *h);

#endif
