/* The config file: one readable file (libconfig syntax) with the
 * balancer's own addresses, named flags, pools and the route. Loading it
 * validates and compiles it in one go: a config that loads is one the fast
 * path can run. Reference: docs/config.md. */
#ifndef SIPHON_CONFIG_H
#define SIPHON_CONFIG_H

#include <stdio.h>

#include "health.h"
#include "siphon/tables.h"

#define CONFIG_ERROR_MAX 768
#define CONFIG_RETRY_AFTER_DEFAULT_S 30u /* a pool's retry_after_s (docs/config.md) */
#define CONFIG_RETRY_AFTER_MAX_S     86400u
#define CONFIG_MAX_NAMES     64  /* nodes given by name (host, srv) in one config: docs/dns.md */
#define CONFIG_HOST_MAX      253 /* a DNS name's length */
#define CONFIG_DNS_SERVERS   4   /* balancer.dns_servers */
#define CONFIG_PATH_MAX      256
#define CONFIG_METRICS_DEFAULT_ADDR  "127.0.0.1" /* balancer.metrics (docs/metrics.md) */
#define CONFIG_METRICS_DEFAULT_PORT  9109u

/* "FILE:LINE: where: what 'value'" for the first problem found. */
struct config_error {
	char text[CONFIG_ERROR_MAX];
};

struct cfg_flag {
	char name[TABLES_NAME_MAX];
	enum flag_kind kind;
	int line;
	char file[256]; /* where it is defined: the config or a file it includes */
	char how[256]; /* how it is matched, for people */
	char doc[256]; /* the config's own description, if any */
};

struct cfg_node {
	char name[TABLES_NAME_MAX];
	struct self_addr addr;
	uint16_t port;
	uint32_t weight;
	char id[TABLES_NAME_MAX]; /* the node-id token, default: the name */
	bool has_mac;
	uint8_t mac[6];
	int line;
	int from_name;     /* resolved from the pool's names[from_name]; -1: given by address */
	uint16_t priority; /* SRV priority (docs/dns.md); 0 otherwise */
};

enum cfg_name_kind { CFG_NAME_HOST, CFG_NAME_SRV };

/* A node given by name (docs/dns.md): siphond resolves it, and each
 * address becomes a node NAME@ADDRESS of the pool; until then, and
 * without siphond, it is no node at all. */
struct cfg_name {
	char name[TABLES_NAME_MAX];
	char id[TABLES_NAME_MAX];
	char host[CONFIG_HOST_MAX + 1]; /* host: the name (A/AAAA); srv: the domain */
	enum cfg_name_kind kind;
	int family;      /* AF_UNSPEC (both), AF_INET or AF_INET6 */
	uint16_t port;   /* host only: SRV records carry their own */
	uint32_t weight; /* host only */
	int line;
};

/* One address a name resolved to. A host name's nodes take the entry's
 * port and weight; an SRV target's, its record's. */
struct cfg_resolved {
	struct self_addr addr;
	uint16_t port, priority;
	uint32_t weight;
};

/* What a node given by name resolved to: the count (0: nothing yet) and
 * *out, valid until the loader returns. */
typedef uint32_t (*cfg_lookup_fn)(void *ctx, const char *pool, const struct cfg_name *name,
				  const struct cfg_resolved **out);

struct cfg_pool {
	char name[TABLES_NAME_MAX];
	enum pool_mode mode;
	struct health_params probe; /* health_params_default() unless `probe` sets keys */
	int probe_line; /* where `probe` is set, 0 when left at its defaults */
	int fallback;      /* the pool taking new calls while none of this pool's nodes lives; -1: none */
	int fallback_line;
	uint32_t retry_after_s; /* siphond's 503 while no node lives: Retry-After; 0: none */
	int retry_after_line;   /* where retry_after_s is set, 0 when left at its default */
	uint32_t maglev_size;
	struct self_addr encap_source4, encap_source6;
	uint32_t gue_port;
	uint32_t n_nodes;
	struct cfg_node *nodes;
	uint32_t n_names; /* nodes given by name, in config order */
	struct cfg_name *names;
	int line;
};

struct cfg_source; /* config_load.h */

struct cfg_rule {
	int line;
	char text[640]; /* "when COND then ACTION", as written */
};

struct siphon_config {
	char path[256];
	struct compiled_tables tables;
	uint32_t n_flags;
	struct cfg_flag flags[SIPHON_MAX_FLAGS];
	uint32_t n_rules;
	struct cfg_rule *rules;
	uint32_t n_pools;
	struct cfg_pool *pools;
	int grace_s_line; /* where balancer.grace_s is set, 0 when left at its default */
	/* siphond's own settings (docs/siphond.md "Events", docs/dns.md) */
	char on_node_change[CONFIG_PATH_MAX]; /* "": none */
	int on_node_change_line;
	uint32_t on_node_change_timeout_s, on_node_change_max;
	char dns_servers[CONFIG_DNS_SERVERS * 56]; /* c-ares form "127.0.0.1:53,[::1]:53"; "": the system's */
	int dns_servers_line;
	uint32_t n_names; /* nodes given by name, all pools */
	struct cfg_source *src; /* the parsed file, kept for config_rebuild() */
	/* balancer.metrics: where siphond serves /metrics; siphond's alone */
	bool metrics_on;
	struct self_addr metrics_addr;
	uint16_t metrics_port;
	char metrics[64]; /* as written ("127.0.0.1:9109", "[::1]:9109") or "off" */
	int metrics_line; /* 0 when left at its default */
	/* what tables point to */
	struct dnf_term *expr_terms, *rule_terms;
	struct rule_action *actions;
	void *hs_db;
	struct hs_literal *literals; /* the pre-check's (tables.literals) */
	struct prefix_builder *prefixes4, *prefixes6;
	char (*pool_names)[TABLES_NAME_MAX];
	struct pool_node *nodes;
	uint16_t *maglev_slots;
	uint16_t *nid_slots, *addr_slots; /* the node index */
};

/* 0, or -EINVAL / -ENOENT / -ENOMEM with err->text saying why. */
int config_load(const char *path, struct siphon_config **out, struct config_error *err);
/* The same from a string; `name` stands for the file in messages. */
int config_load_text(const char *name, const char *text, struct siphon_config **out,
		     struct config_error *err);
void config_free(struct siphon_config *cfg);

/* The same config again, from the file as it was parsed then (not read
 * again), with the nodes given by name expanded to what lookup says
 * (docs/dns.md "Node names"). 0, or -EINVAL / -ENOMEM with err. */
int config_rebuild(const struct siphon_config *from, cfg_lookup_fn lookup, void *ctx,
		   struct siphon_config **out, struct config_error *err);
/* A resolved node's name ("sip@198.18.0.1", "sip@[2001:db8::1]:5062")
 * and nid ("sip-198-18-0-1", "sip-2001-db8--1_5062"). */
void config_resolved_name(const struct cfg_name *n, const struct cfg_resolved *r,
			  char name[TABLES_NAME_MAX], char id[TABLES_NAME_MAX]);
/* What siphond asks DNS: the host name, or _sip._udp.DOMAIN. */
void config_name_query(const struct cfg_name *n, char *buf, size_t len);
const char *config_name_kind(enum cfg_name_kind kind); /* "host", "srv" */
/* The first node given by name, for siphon --config's refusal; NULL: none. */
const struct cfg_name *config_first_name(const struct siphon_config *cfg, const char **pool);

/* The config file's text, whole (at most 4 MiB), after the checks of
 * config_load(); *text is NUL-terminated, the caller frees it. 0 or
 * -errno with err. siphond keeps it: its pool changes are compiled over
 * the text it loaded, not over a file edited since. */
int config_read_text(const char *path, char **text, struct config_error *err);

/* An edit of the parsed file before it is validated and compiled
 * (siphond's pool changes, docs/siphond.md "Pool management"): 0, or
 * -errno with a message in err (errlen bytes). */
struct config_t;
typedef int (*config_edit_fn)(struct config_t *tree, void *ctx, char *err, size_t errlen);
/* config_load_text() with `edit` run over the tree first (NULL: none). */
int config_load_edited(const char *name, const char *text, config_edit_fn edit, void *ctx,
		       struct siphon_config **out, struct config_error *err);

/* The loader's own rules, for names and addresses given elsewhere (RPC):
 * a letter, then letters, digits, '_' and '-', 1-63 bytes; an IPv4 or
 * IPv6 literal. */
bool config_valid_name(const char *name);
int config_parse_addr(const char *text, struct self_addr *out);

/* Says what each lane of the fast path makes of the config (siphonctl
 * check): the kernel lane's limits, and rule by rule what it decides. */
void config_describe_lanes(const struct siphon_config *cfg, FILE *out);

#endif
