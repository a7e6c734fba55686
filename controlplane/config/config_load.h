/* Internal to controlplane/config/: the loader's state and the helpers the
 * section readers share. */
#ifndef SIPHON_CONFIG_LOAD_H
#define SIPHON_CONFIG_LOAD_H

#include <libconfig.h>
#include <stdbool.h>

#include "config.h"
#include "config_keys.h"
#include "prefix_build.h"

struct pending_pattern {
	const char *expression; /* owned by the libconfig tree */
	unsigned hs_flags;
	unsigned flag; /* the flag bit it sets */
};

/* The parsed file, shared by a config and those config_rebuild() makes
 * from it. */
struct cfg_source {
	unsigned refs;
	config_t lc;
};

struct loader {
	const char *path;
	config_t *lc;
	cfg_lookup_fn lookup; /* config_rebuild(): what names resolved to; NULL: nothing */
	void *lookup_ctx;
	struct siphon_config *cfg;
	struct config_error *err;
	struct prefix_builder *b4, *b6;
	struct pending_pattern patterns[TABLES_MAX_PATTERNS];
	unsigned n_patterns;
	unsigned n_expr_terms, n_rule_terms;
};

int cfg_fail(struct loader *L, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int cfg_check_keys(struct loader *L, const config_setting_t *group, const char *where,
		   const char *const *known);
/* Sections of config_keys.c. */
#define KEYS_POOL "pools[]"
#define KEYS_PROBE "pools[].probe"
#define KEYS_NODE "pools[].nodes[]"

/* The same with the known keys of a section of config_keys.c ("balancer"). */
int cfg_check_section(struct loader *L, const config_setting_t *group, const char *where,
		      const char *section);
int cfg_string(struct loader *L, const config_setting_t *group, const char *where,
	       const char *key, bool required, const char **out);
int cfg_uint(struct loader *L, const config_setting_t *group, const char *where, const char *key,
	     unsigned long min, unsigned long max, uint32_t *out);
/* cfg_uint with the key's range from config_keys.c. */
int cfg_int_key(struct loader *L, const config_setting_t *group, const char *where,
		const char *section, const char *key, uint32_t *out);
/* An integer key's default in config_keys.c. */
uint32_t cfg_int_default(const char *section, const char *key);
int cfg_true(struct loader *L, const config_setting_t *s, const char *where);
/* A string or a list of strings: its length, or -EINVAL. */
int cfg_list_length(struct loader *L, const config_setting_t *s, const char *where);
const char *cfg_list_item(const config_setting_t *s, int i);
int cfg_parse_addr(const char *text, struct self_addr *out);
bool cfg_valid_name(const char *name, bool dashes);
/* "02:00:00:00:00:21": 0, or -EINVAL. */
int cfg_parse_mac(const char *text, uint8_t mac[6]);
/* The flag with this name (exact), or -1. */
int cfg_flag_index(const struct siphon_config *cfg, const char *name, size_t len);

int load_flags(struct loader *L, const config_setting_t *flags);
/* config_route.c: one node given by address. */
int load_node(struct loader *L, const config_setting_t *e, const char *pool, struct cfg_node *node);
/* config_names.c: a pool's `nodes`, those given by name expanded. */
int load_pool_nodes(struct loader *L, const config_setting_t *nodes, struct cfg_pool *pool,
		    const char *where);
/* config_names.c: node i of p, resolved from SRV records, has a higher
 * priority than another node of its name (with every node up: it waits). */
bool cfg_srv_waits(const struct cfg_pool *p, uint32_t i);
/* config_siphond.c: balancer keys only siphond applies. */
int load_siphond_keys(struct loader *L, const config_setting_t *bal);
int load_pools(struct loader *L, const config_setting_t *pools);
int load_route(struct loader *L, const config_setting_t *route);
/* config_metrics.c: balancer.metrics, and its default */
int load_metrics(struct loader *L, const config_setting_t *balancer);
void config_metrics_default(struct siphon_config *cfg);
/* Hyperscan database and prefix tables; points the tables at them. */
int compile_tables(struct loader *L);
void loader_release(struct loader *L);
void config_source_unref(struct cfg_source *src); /* config_free */

#endif
