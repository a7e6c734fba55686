/* The `pools` and `route` sections. */
#include <errno.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_load.h"
#include "maglev_build.h"
#include "rule_expr.h"
#include "siphon/classify.h" /* DECISION_MAX_RATE_LIMITS */

int load_node(struct loader *L, const config_setting_t *e, const char *pool, struct cfg_node *node)
{
	const char *mac;
	char where[2 * TABLES_NAME_MAX + 16];
	const char *name, *addr, *id;
	uint32_t port = cfg_int_default(KEYS_NODE, "port");
	uint32_t weight = cfg_int_default(KEYS_NODE, "weight");
	int err;

	snprintf(where, sizeof(where), "pool %s: node", pool);
	if (config_setting_type(e) != CONFIG_TYPE_GROUP)
		return cfg_fail(L, e, "%s: expected a group { name = ...; address = ...; }", where);
	err = cfg_check_section(L, e, where, KEYS_NODE);
	if (!err)
		err = cfg_string(L, e, where, "name", true, &name);
	if (err)
		return err;
	if (!cfg_valid_name(name, true))
		return cfg_fail(L, e, "%s: name: '%s' is not a node name", where, name);
	snprintf(where, sizeof(where), "pool %s: node %s", pool, name);
	err = cfg_string(L, e, where, "address", false, &addr);
	if (!err && !addr)
		return cfg_fail(L, e, "%s: 'address' is required (or 'host', a name resolved by "
				"siphond, or 'srv', a SIP domain: docs/dns.md)", where);
	if (!err && config_setting_get_member(e, "family"))
		return cfg_fail(L, config_setting_get_member(e, "family"),
				"%s: family is for a node given by host or srv", where);
	if (!err)
		err = cfg_int_key(L, e, where, KEYS_NODE, "port", &port);
	if (!err)
		err = cfg_int_key(L, e, where, KEYS_NODE, "weight", &weight);
	if (!err)
		err = cfg_string(L, e, where, "id", false, &id);
	if (!err)
		err = cfg_string(L, e, where, "mac", false, &mac);
	if (err)
		return err;
	if (mac && cfg_parse_mac(mac, node->mac))
		return cfg_fail(L, e, "%s: mac: '%s' is not a MAC address like 02:00:00:00:00:21",
				where, mac);
	node->has_mac = mac != NULL;
	if (cfg_parse_addr(addr, &node->addr))
		return cfg_fail(L, e, "%s: address: '%s' is not an IPv4 or IPv6 address (a host "
				"name goes in 'host', a SIP domain in 'srv')", where, addr);
	if (id && !cfg_valid_name(id, true))
		return cfg_fail(L, e, "%s: id: '%s' is not a token of letters, digits, '-' or '_'",
				where, id);
	snprintf(node->name, sizeof(node->name), "%s", name);
	snprintf(node->id, sizeof(node->id), "%s", id ? id : name);
	node->port = (uint16_t)port;
	node->weight = weight;
	node->line = config_setting_source_line(e);
	node->from_name = -1;
	return 0;
}

/* probe = { interval_ms; timeout_ms; down; up; codes; retry_after_max_s; }
 * (docs/health.md): keys left out keep health_params_default(). */
static int load_probe(struct loader *L, const config_setting_t *probe, const char *pwhere,
		      struct health_params *hp)
{
	const config_setting_t *codes = config_setting_get_member(probe, "codes");
	uint32_t down = hp->down, up = hp->up;
	int err, n;

	err = cfg_int_key(L, probe, pwhere, KEYS_PROBE, "interval_ms", &hp->interval_ms);
	if (!err)
		err = cfg_int_key(L, probe, pwhere, KEYS_PROBE, "timeout_ms", &hp->timeout_ms);
	if (!err)
		err = cfg_int_key(L, probe, pwhere, KEYS_PROBE, "down", &down);
	if (!err)
		err = cfg_int_key(L, probe, pwhere, KEYS_PROBE, "up", &up);
	if (!err)
		err = cfg_int_key(L, probe, pwhere, KEYS_PROBE, "retry_after_max_s", &hp->retry_after_max_s);
	if (err)
		return err;
	hp->down = (uint16_t)down, hp->up = (uint16_t)up;
	if (!codes)
		return 0;
	n = cfg_list_length(L, codes, pwhere);
	if (n < 0)
		return n;
	if (n == 0 || n > HEALTH_CODES_MAX)
		return cfg_fail(L, codes, "%s: codes: %d items; 1 to %d (\"2xx\" or \"404\")", pwhere,
				n, HEALTH_CODES_MAX);
	hp->codes.n = 0;
	for (int i = 0; i < n; i++) {
		const char *item = cfg_list_item(codes, i);

		if (!item || health_codes_add(&hp->codes, item) != 0)
			return cfg_fail(L, codes, "%s: codes: '%s' is not a reply class (\"2xx\") or code "
					"(100-699)", pwhere, item ? item : "?");
	}
	return 0;
}

static int load_pool(struct loader *L, const config_setting_t *e, struct cfg_pool *pool)
{
	const config_setting_t *encap;
	static const char *const modes[] = {
#define POOL_MODE(id, key, help) [POOL_MODE_##id] = key,
#include "siphon/pool_modes.def"
#undef POOL_MODE
	};
	const config_setting_t *probe, *nodes;
	char where[TABLES_NAME_MAX + 16];
	const char *name, *mode = "dsr";
	int err;

	if (config_setting_type(e) != CONFIG_TYPE_GROUP)
		return cfg_fail(L, e, "pools: expected a group { name = ...; nodes = (...); }");
	err = cfg_check_section(L, e, "pool", KEYS_POOL);
	if (!err)
		err = cfg_string(L, e, "pool", "name", true, &name);
	if (err)
		return err;
	if (!cfg_valid_name(name, true))
		return cfg_fail(L, e, "pool: name: '%s' is not a pool name", name);
	for (struct cfg_pool *p = L->cfg->pools; p < pool; p++)
		if (strcmp(p->name, name) == 0)
			return cfg_fail(L, e, "pool %s: defined twice", name);
	snprintf(pool->name, sizeof(pool->name), "%s", name);
	pool->line = config_setting_source_line(e);
	snprintf(where, sizeof(where), "pool %s", name);
	err = cfg_string(L, e, where, "mode", false, &mode);
	if (err)
		return err;
	if (!mode)
		mode = "dsr";
	for (pool->mode = 0; pool->mode < POOL_MODE__COUNT; pool->mode++)
		if (strcmp(modes[pool->mode], mode) == 0)
			break;
	if (pool->mode >= POOL_MODE__COUNT)
		return cfg_fail(L, e, "%s: mode: '%s' is not dsr, nat or encap", where, mode);
	health_params_default(&pool->probe);
	pool->fallback = -1;
	pool->maglev_size = MAGLEV_DEFAULT_SIZE;
	pool->retry_after_s = CONFIG_RETRY_AFTER_DEFAULT_S;
	err = cfg_int_key(L, e, where, KEYS_POOL, "maglev_size", &pool->maglev_size);
	if (!err) /* 0: a 503 without Retry-After (RFC 3261 21.5.4: try another server now) */
		err = cfg_int_key(L, e, where, KEYS_POOL, "retry_after_s", &pool->retry_after_s);
	if (err)
		return err;
	if (config_setting_get_member(e, "retry_after_s"))
		pool->retry_after_line =
			config_setting_source_line(config_setting_get_member(e, "retry_after_s"));
	if (!maglev_valid_size(pool->maglev_size))
		return cfg_fail(L, config_setting_get_member(e, "maglev_size"),
				"%s: maglev_size: %u is not a prime (try 65537, 131071 or 262139)", where,
				pool->maglev_size);
	probe = config_setting_get_member(e, "probe");
	if (probe) {
		if (config_setting_type(probe) != CONFIG_TYPE_GROUP)
			return cfg_fail(L, probe, "%s: probe: expected a group { interval_ms = ...; }", where);
		char pwhere[TABLES_NAME_MAX + 24];
		snprintf(pwhere, sizeof(pwhere), "%s: probe", where);
		err = cfg_check_section(L, probe, pwhere, KEYS_PROBE);
		if (!err)
			err = load_probe(L, probe, pwhere, &pool->probe);
		if (err)
			return err;
		pool->probe_line = config_setting_source_line(probe);
	}
	if (config_setting_get_member(e, "fallback"))
		pool->fallback_line = config_setting_source_line(config_setting_get_member(e, "fallback"));
	encap = config_setting_get_member(e, "encap_source");
	if (encap) {
		int count = cfg_list_length(L, encap, where);
		for (int i = 0; i < count; i++) {
			struct self_addr a;
			if (cfg_parse_addr(cfg_list_item(encap, i), &a))
				return cfg_fail(L, encap, "%s: encap_source: '%s' is not an IPv4 or IPv6 "
						"address", where, cfg_list_item(encap, i));
			if (a.family == AF_INET)
				pool->encap_source4 = a;
			else
				pool->encap_source6 = a;
		}
		if (count < 0)
			return count;
	}
	err = cfg_int_key(L, e, where, KEYS_POOL, "gue_port", &pool->gue_port);
	if (err)
		return err;
	if (pool->mode == POOL_MODE_ENCAP && !encap)
		return cfg_fail(L, e, "%s: mode encap needs encap_source (the outer source address)",
				where);
	if (pool->mode != POOL_MODE_ENCAP && (encap || config_setting_get_member(e, "gue_port")))
		return cfg_fail(L, e, "%s: encap_source and gue_port are for mode encap", where);
	nodes = config_setting_get_member(e, "nodes");
	if (!nodes || config_setting_type(nodes) != CONFIG_TYPE_LIST || config_setting_length(nodes) == 0)
		return cfg_fail(L, nodes ? nodes : e, "%s: nodes: expected a non-empty list ( { ... } )",
				where);
	return load_pool_nodes(L, nodes, pool, where);
}

/* fallback = "POOL": a known pool, not itself, no cycle (docs/config.md). */
static int resolve_fallbacks(struct loader *L, const config_setting_t *pools)
{
	struct siphon_config *cfg = L->cfg;

	for (uint32_t i = 0; i < cfg->n_pools; i++) {
		const config_setting_t *e = config_setting_get_elem(pools, i);
		const config_setting_t *f = config_setting_get_member(e, "fallback");
		const char *name;
		int err;

		if (!f)
			continue;
		err = cfg_string(L, e, cfg->pools[i].name, "fallback", true, &name);
		if (err)
			return err;
		for (uint32_t k = 0; k < cfg->n_pools; k++)
			if (strcmp(cfg->pools[k].name, name) == 0)
				cfg->pools[i].fallback = (int)k;
		if (cfg->pools[i].fallback < 0)
			return cfg_fail(L, f, "pool %s: fallback: no pool is named '%s'",
					cfg->pools[i].name, name);
		if (cfg->pools[i].fallback == (int)i)
			return cfg_fail(L, f, "pool %s: fallback: a pool cannot fall back to itself",
					cfg->pools[i].name);
	}
	for (uint32_t i = 0; i < cfg->n_pools; i++) {
		int p = cfg->pools[i].fallback;

		/* a chain longer than the pools has come back to one */
		for (uint32_t steps = 0; p >= 0; steps++, p = cfg->pools[p].fallback)
			if (steps > cfg->n_pools || p == (int)i)
				return cfg_fail(L, config_setting_get_member(config_setting_get_elem(pools, i),
									     "fallback"),
						"pool %s: fallback: '%s' makes a cycle of fallbacks back "
						"to %s", cfg->pools[i].name,
						cfg->pools[cfg->pools[i].fallback].name,
						cfg->pools[i].name);
	}
	return 0;
}

int load_pools(struct loader *L, const config_setting_t *pools)
{
	struct compiled_tables *t = &L->cfg->tables;
	int n, err;

	if (!pools)
		return 0;
	if (config_setting_type(pools) != CONFIG_TYPE_LIST)
		return cfg_fail(L, pools, "pools: expected a list ( { ... }, { ... } )");
	n = config_setting_length(pools);
	if (n > TABLES_MAX_POOLS)
		return cfg_fail(L, pools, "pools: %d pools; at most %d", n, TABLES_MAX_POOLS);
	L->cfg->pools = calloc((size_t)n + 1, sizeof(*L->cfg->pools));
	L->cfg->pool_names = calloc((size_t)n + 1, sizeof(*L->cfg->pool_names));
	t->pool_names = L->cfg->pool_names;
	if (!L->cfg->pools || !t->pool_names)
		return cfg_fail(L, pools, "pools: out of memory");
	for (int i = 0; i < n; i++) {
		err = load_pool(L, config_setting_get_elem(pools, (unsigned)i), &L->cfg->pools[i]);
		if (err)
			return err;
		memcpy(L->cfg->pool_names[i], L->cfg->pools[i].name, TABLES_NAME_MAX);
		L->cfg->n_pools = t->n_pools = (uint32_t)i + 1;
	}
	return resolve_fallbacks(L, pools);
}

/* The RFC 3261 reason phrase of the codes a balancer answers with. */
static const char *default_reason(unsigned code)
{
	static const struct {
		unsigned code;
		const char *reason;
	} phrases[] = {
		{ 200, "OK" }, { 202, "Accepted" }, { 403, "Forbidden" }, { 404, "Not Found" },
		{ 405, "Method Not Allowed" }, { 408, "Request Timeout" },
		{ 480, "Temporarily Unavailable" }, { 483, "Too Many Hops" }, { 486, "Busy Here" },
		{ 500, "Server Internal Error" }, { 503, "Service Unavailable" }, { 603, "Decline" },
	};

	for (size_t i = 0; i < sizeof(phrases) / sizeof(phrases[0]); i++)
		if (phrases[i].code == code)
			return phrases[i].reason;
	return "Reply";
}

/* then = "pool NAME" | "drop" | "punt" | "reply CODE \"reason\"" |
 *        "rate-limit N/s [burst M]" */
static int parse_action(struct loader *L, const config_setting_t *s, const char *text,
			struct rule_action *a)
{
	char word[32] = "", arg[TABLES_NAME_MAX] = "", extra[TABLES_NAME_MAX] = "";
	int consumed = 0, kind;
	unsigned code, rate, burst;

	if (sscanf(text, " %31[a-z-]%n", word, &consumed) != 1)
		return cfg_fail(L, s, "route: then \"%s\": expected pool NAME, drop, punt, reply CODE "
				"\"reason\" or rate-limit N/s", text);
	kind = action_from_keyword(word);
	text += consumed;
	memset(a, 0, sizeof(*a));
	a->kind = (enum action_kind)kind;
	switch (kind) {
	case ACTION_DROP:
	case ACTION_PUNT:
		if (sscanf(text, " %1s", extra) == 1)
			return cfg_fail(L, s, "route: then: '%s' takes nothing after it, found '%s'",
					word, text);
		return 0;
	case ACTION_POOL:
		if (sscanf(text, " %63s %1s", arg, extra) != 1)
			return cfg_fail(L, s, "route: then: pool needs one pool name");
		for (uint32_t p = 0; p < L->cfg->n_pools; p++)
			if (strcmp(L->cfg->pools[p].name, arg) == 0) {
				a->pool = (uint16_t)p;
				return 0;
			}
		return cfg_fail(L, s, "route: then: pool '%s' is not defined in pools", arg);
	case ACTION_REPLY:
		consumed = 0;
		if (sscanf(text, " %u%n", &code, &consumed) != 1 || code < 100 || code > 699)
			return cfg_fail(L, s, "route: then: reply needs a status code from 100 to 699, "
					"found '%s'", text);
		text += consumed;
		a->reply_code = (uint16_t)code;
		consumed = 0;
		if (sscanf(text, " \"%63[^\"]\"%n", arg, &consumed) == 1 && consumed > 0 &&
		    sscanf(text + consumed, " %1s", extra) != 1) {
			/* it goes into a status line: no CR, LF or other control bytes */
			for (const char *c = arg; *c; c++)
				if ((unsigned char)*c < 0x20 && *c != '\t')
					return cfg_fail(L, s, "route: then: reply %u: the reason may not "
							"hold control characters (CR, LF, ...)", code);
			for (const char *c = arg; *c; c++)
				if ((unsigned char)*c == 0x7f)
					return cfg_fail(L, s, "route: then: reply %u: the reason may not "
							"hold control characters (CR, LF, ...)", code);
			snprintf(a->reply_reason, sizeof(a->reply_reason), "%s", arg);
			return 0;
		}
		if (sscanf(text, " %1s", extra) == 1)
			return cfg_fail(L, s, "route: then: reply %u: the reason must be one quoted "
					"phrase of at most %d characters, found '%s'", code,
					TABLES_NAME_MAX - 1, text);
		snprintf(a->reply_reason, sizeof(a->reply_reason), "%s", default_reason(code));
		return 0;
	case ACTION_RATE_LIMIT:
		burst = 0;
		consumed = 0;
		if (sscanf(text, " %u/s%n", &rate, &consumed) != 1 || consumed == 0 || rate == 0 ||
		    rate > 10000000)
			return cfg_fail(L, s, "route: then: rate-limit needs a rate like 50/s, found '%s'",
					text);
		text += consumed;
		consumed = 0;
		if (sscanf(text, " %1s", extra) == 1 &&
		    (sscanf(text, " burst %u%n", &burst, &consumed) != 1 || consumed == 0 || burst == 0 ||
		     burst > 10000000 ||
		     sscanf(text + consumed, " %1s", extra) == 1))
			return cfg_fail(L, s, "route: then: rate-limit %u/s: expected only 'burst N' "
					"after it, found '%s'", rate, text);
		a->rate_per_sec = rate;
		a->burst = burst ? burst : rate;
		return 0;
	default:
		return cfg_fail(L, s, "route: then: unknown action '%s' (pool, drop, punt, reply, "
				"rate-limit)", word);
	}
}

static int any_flag(void *ctx, const char *name, size_t len)
{
	return cfg_flag_index(ctx, name, len);
}

static int load_rule(struct loader *L, const config_setting_t *e, unsigned idx, bool last)
{
	struct siphon_config *cfg = L->cfg;
	struct rule_action *a = &cfg->actions[idx];
	struct expr_result *res;
	const char *when, *then;
	int err;

	if (config_setting_type(e) != CONFIG_TYPE_GROUP)
		return cfg_fail(L, e, "route: expected a group { when = \"...\"; then = \"...\"; }");
	err = cfg_check_section(L, e, "route", "route[]");
	if (!err)
		err = cfg_string(L, e, "route", "when", false, &when);
	if (!err)
		err = cfg_string(L, e, "route", "then", true, &then);
	if (!err)
		err = parse_action(L, e, then, a);
	if (err)
		return err;
	cfg->rules[idx].line = config_setting_source_line(e);
	snprintf(cfg->rules[idx].text, sizeof(cfg->rules[idx].text), "%s%s%sthen %s",
		 when ? "when " : "", when ? when : "", when ? " " : "", then);
	if (!when) {
		if (!last)
			return cfg_fail(L, e, "route: only the last rule may leave out 'when' (it is "
					"the default)");
		if (!action_is_terminal(a->kind))
			return cfg_fail(L, e, "route: the default rule must end the route (pool, drop, "
					"punt or reply), not rate-limit");
		if (L->n_rule_terms >= TABLES_MAX_TERMS)
			return cfg_fail(L, e, "route: more than %d terms in all conditions",
					TABLES_MAX_TERMS);
		cfg->rule_terms[L->n_rule_terms++] = (struct dnf_term){ .target = (uint16_t)idx };
		return 0;
	}
	if (last)
		return cfg_fail(L, e, "route: the last rule must be the default: leave out 'when' so "
				"that every message gets a decision");
	res = malloc(sizeof(*res));
	if (!res)
		return cfg_fail(L, e, "route: out of memory");
	err = expr_compile(when, any_flag, cfg, res);
	if (err)
		err = cfg_fail(L, e, "route: when \"%s\": %s", when, res->error);
	else if (L->n_rule_terms + res->n_terms > TABLES_MAX_TERMS)
		err = cfg_fail(L, e, "route: more than %d terms in all conditions", TABLES_MAX_TERMS);
	for (unsigned i = 0; !err && i < res->n_terms; i++) {
		res->terms[i].target = (uint16_t)idx;
		cfg->rule_terms[L->n_rule_terms++] = res->terms[i];
	}
	free(res);
	return err;
}

/* A message passes at most DECISION_MAX_RATE_LIMITS rate-limit rules on its
 * way through the route; a config with more could pass one unenforced. */
static int check_rate_limits(struct loader *L, const config_setting_t *route)
{
	unsigned n = 0;

	for (uint32_t i = 0; i < L->cfg->n_rules; i++)
		n += L->cfg->actions[i].kind == ACTION_RATE_LIMIT;
	if (n > DECISION_MAX_RATE_LIMITS)
		return cfg_fail(L, route, "route: %u rate-limit rules; at most %d (merge rules with "
				"'or', or give sources their own flag)", n, DECISION_MAX_RATE_LIMITS);
	return 0;
}

int load_route(struct loader *L, const config_setting_t *route)
{
	struct siphon_config *cfg = L->cfg;
	int n, err;

	if (!route)
		return cfg_fail(L, NULL, "route: missing; a config needs a route ending in a default "
				"rule, e.g. { then = \"pool core\"; }");
	if (config_setting_type(route) != CONFIG_TYPE_LIST || config_setting_length(route) == 0)
		return cfg_fail(L, route, "route: expected a non-empty list ( { when = ...; then = ...; } )");
	n = config_setting_length(route);
	if (n > TABLES_MAX_RULES)
		return cfg_fail(L, route, "route: %d rules; at most %d", n, TABLES_MAX_RULES);
	cfg->rules = calloc((size_t)n, sizeof(*cfg->rules));
	cfg->actions = calloc((size_t)n, sizeof(*cfg->actions));
	cfg->rule_terms = calloc(TABLES_MAX_TERMS, sizeof(*cfg->rule_terms));
	if (!cfg->rules || !cfg->actions || !cfg->rule_terms)
		return cfg_fail(L, route, "route: out of memory");
	for (int i = 0; i < n; i++) {
		err = load_rule(L, config_setting_get_elem(route, (unsigned)i), (unsigned)i, i == n - 1);
		if (err)
			return err;
		cfg->n_rules = (uint32_t)i + 1;
	}
	return check_rate_limits(L, route);
}
