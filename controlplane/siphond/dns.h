/* siphond's resolver (docs/dns.md): the nodes given by name in the
 * running config (`host`, `srv`), resolved with c-ares inside the poll
 * loop, re-resolved when their TTL runs out; the last good answer is kept
 * when DNS fails. A changed answer is a new config built from the same
 * parsed file (config_rebuild) and installed like a reload. */
#ifndef SIPHON_SIPHOND_DNS_H
#define SIPHON_SIPHOND_DNS_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

#include <ares.h>
#include <jansson.h>

#include "dns_answer.h"

#define DNS_POLL_MAX   16   /* c-ares sockets in the poll set */
#define DNS_START_MS   5000 /* siphond's start waits this long at most for the first answers */
#define DNS_TIMEOUT_MS 1000 /* c-ares: per try; two tries per server */

struct siphond;
struct hl_pool;

struct dns_counters {
	uint64_t resolutions, failures, changes, generations, rebuild_failed;
};

/* The SRV records of a resolution under way. */
struct dns_srv_rec {
	unsigned target; /* index into the distinct targets */
	uint16_t priority, weight, port;
};

/* One node given by name: its key is the pool, the node name, the kind,
 * the host and the family (a reload that keeps them keeps the answer). */
struct dns_entry {
	bool used, busy, answered, failing;
	uint32_t serial; /* a resolution's number: callbacks of an older one are ignored */
	char pool[TABLES_NAME_MAX];
	struct cfg_name spec;
	char query[CONFIG_HOST_MAX + 16];
	/* the last good answer */
	struct cfg_resolved nodes[DNS_MAX_NODES];
	uint32_t n_nodes, ttl_s;
	uint64_t due_ms, answered_ms; /* CLOCK_MONOTONIC */
	char error[256];              /* the last failure, "" none yet */
	uint64_t error_ms;
	uint64_t resolutions, failures, changes, dropped;
	/* the resolution under way */
	unsigned pending, n_targets, n_srv;
	char (*targets)[CONFIG_HOST_MAX + 2];
	struct dns_srv_rec *srv;
	struct cfg_resolved *acc;
	uint32_t n_acc, acc_ttl;
	char acc_error[256];
};

struct dns {
	ares_channel ch;
	bool ch_ok;
	char servers[sizeof(((struct siphon_config *)0)->dns_servers)]; /* the channel's */
	char ch_error[128];
	struct dns_entry e[CONFIG_MAX_NAMES];
	bool changed; /* an answer changed since the last rebuild */
	ares_socket_t socks[DNS_POLL_MAX];
	unsigned n_socks;
	struct dns_counters c;
};

/* dns_resolve.c */
int dns_open(struct siphond *d);  /* 0 or -ENOMEM; a channel that does not open is logged */
void dns_close(struct siphond *d);
/* To the running config's names: new ones resolved at once, gone ones
 * forgotten, the channel made again when dns_servers changed. */
void dns_sync(struct siphond *d);
/* At start, before the first generation: every name resolved, waiting
 * at most ms; d->cfg rebuilt with what came. */
void dns_start_wait(struct siphond *d, int ms);
size_t dns_poll_fds(struct siphond *d, struct pollfd *fds, size_t n);
int dns_timeout(const struct siphond *d, int max_ms);
/* c-ares' sockets and timers, the resolutions due, and a new generation
 * when an answer changed. */
void dns_handle(struct siphond *d, const struct pollfd *fds, size_t n);

/* dns_show.c */
/* cfg_lookup_fn over the answers (ctx: struct dns). */
uint32_t dns_lookup(void *ctx, const char *pool, const struct cfg_name *name,
		    const struct cfg_resolved **out);
struct dns_entry *dns_find(struct dns *dns, const char *pool, const struct cfg_name *name);
/* A config just loaded (a reload) with the answers put in: *cfg replaced.
 * 0, or -errno with err. */
int dns_resolved_config(struct siphond *d, struct siphon_config **cfg, struct config_error *err);
/* pool.show: each pool's "names" added to result's pools. */
void dns_pool_show(struct siphond *d, json_t *result);
json_t *dns_counters_json(const struct siphond *d);
/* SRV priority: node i of p waits (no Maglev slot) while a node of a
 * lower priority of the same name takes calls. */
bool dns_standby(const struct hl_pool *p, uint32_t i);

#endif
