/* siphonctl check and siphonctl flags: a config, read but not applied. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "siphon/json_write.h"

static struct siphon_config *load_or_say(const char *cmd, const char *path)
{
	struct config_error err;
	struct siphon_config *cfg;

	if (config_load(path, &cfg, &err)) {
		cli_error(cmd, "%s", err.text);
		return NULL;
	}
	return cfg;
}

/* The config argument of check and flags: FILE or --config FILE (the same
 * for both; flags took only --config before, check only FILE), and for
 * flags --format. 0, or CLI_USAGE after saying why. */
static int config_args(const char *cmd, const char *usage, int argc, char **argv,
		       const char **path, bool *json)
{
	*path = NULL;
	for (int i = 1; i < argc; i++) {
		const char *file = NULL;

		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			file = argv[++i];
		} else if (json && strcmp(argv[i], "--format") == 0 && i + 1 < argc &&
			   (!strcmp(argv[i + 1], "json") || !strcmp(argv[i + 1], "table"))) {
			*json = strcmp(argv[++i], "json") == 0;
			continue;
		} else if (argv[i][0] != '-') {
			file = argv[i];
		} else {
			cli_error(cmd, "'%s': usage: siphonctl %s", argv[i], usage);
			return CLI_USAGE;
		}
		if (*path) {
			cli_error(cmd, "one config at a time, not '%s' and '%s': usage: siphonctl %s",
				  *path, file, usage);
			return CLI_USAGE;
		}
		*path = file;
	}
	if (!*path) {
		cli_error(cmd, "FILE or --config FILE is required: usage: siphonctl %s", usage);
		return CLI_USAGE;
	}
	return 0;
}

/* retry_after_s, when a pool sets it: each such pool's value and line. */
static void print_retry_after(const char *path, const struct siphon_config *cfg)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < cfg->n_pools; i++) {
		const struct cfg_pool *p = &cfg->pools[i];

		if (!p->retry_after_line)
			continue;
		if (k++)
			printf("; ");
		else
			printf("%s: note: retry_after_s (", path);
		if (p->retry_after_s)
			printf("pool %s: %u s, line %d", p->name, p->retry_after_s, p->retry_after_line);
		else
			printf("pool %s: none, line %d", p->name, p->retry_after_line);
	}
	if (k)
		printf(") is the Retry-After of siphond's 503 to a new call for a pool with no live "
		       "node (default %u s); siphon --config alone punts such a call without an "
		       "answer\n", CONFIG_RETRY_AFTER_DEFAULT_S);
}

/* Nodes given by name, on_node_change, dns_servers: siphond's alone. */
static void print_siphond_keys(const char *path, const struct siphon_config *cfg)
{
	if (cfg->n_names) {
		printf("%s: note: nodes given by name (", path);
		for (uint32_t p = 0, k = 0; p < cfg->n_pools; p++)
			for (uint32_t i = 0; i < cfg->pools[p].n_names; i++) {
				const struct cfg_name *n = &cfg->pools[p].names[i];

				printf("%s%s/%s %s %s, line %d", k++ ? "; " : "", cfg->pools[p].name,
				       n->name, config_name_kind(n->kind), n->host, n->line);
			}
		printf(") are resolved by siphond (A/AAAA; SRV _sip._udp.DOMAIN, no NAPTR; "
		       "docs/dns.md) and are no node until then; siphon --config alone refuses "
		       "this config\n");
	}
	if (cfg->dns_servers_line)
		printf("%s: note: dns_servers (line %d) are siphond's resolvers: %s\n", path,
		       cfg->dns_servers_line, cfg->dns_servers);
	if (cfg->on_node_change_line)
		printf("%s: note: on_node_change (line %d) is run by siphond on each node state "
		       "change: %s (at most %u at once, killed after %u s)\n", path,
		       cfg->on_node_change_line, cfg->on_node_change, cfg->on_node_change_max,
		       cfg->on_node_change_timeout_s);
}

/* Settings only siphond applies (and what does not yet apply): one
 * line each, only when the config uses them. */
static void print_not_yet(const char *path, const struct siphon_config *cfg)
{
	uint32_t probed = 0, replies = 0;
	int probe_line = 0;

	uint32_t fallbacks = 0;

	if (cfg->grace_s_line)
		printf("%s: note: grace_s (line %d) is applied by siphond, which keeps the previous "
		       "Maglev table that long after a node leaves or joins; siphon --config alone "
		       "loads its tables once and keeps none\n", path, cfg->grace_s_line);
	if (cfg->metrics_line)
		printf("%s: note: metrics (line %d) is served by siphond%s%s; siphon --config alone "
		       "serves none\n", path, cfg->metrics_line, cfg->metrics_on ? " on " : ": off",
		       cfg->metrics_on ? cfg->metrics : "");
	for (uint32_t i = 0; i < cfg->n_pools; i++) {
		if (cfg->pools[i].probe_line && !probed++)
			probe_line = cfg->pools[i].probe_line;
		fallbacks += cfg->pools[i].fallback >= 0;
	}
	if (probed)
		printf("%s: note: probe (line %d, %u pool%s) is applied by siphond; siphon --config "
		       "alone does not probe: every node with a weight takes calls\n",
		       path, probe_line, probed, probed == 1 ? "" : "s");
	if (fallbacks)
		printf("%s: note: fallback (%u pool%s) is applied by siphond when a pool has no live "
		       "node; siphon --config alone never uses it\n", path, fallbacks,
		       fallbacks == 1 ? "" : "s");
	print_retry_after(path, cfg);
	print_siphond_keys(path, cfg);
	for (uint32_t i = 0; i < cfg->n_rules; i++)
		replies += cfg->tables.actions[i].kind == ACTION_REPLY;
	if (replies) {
		printf("%s: note: reply (line", path);
		for (uint32_t i = 0, k = 0; i < cfg->n_rules; i++)
			if (cfg->tables.actions[i].kind == ACTION_REPLY)
				printf("%s %d", k++ ? "," : replies > 1 ? "s" : "", cfg->rules[i].line);
		printf(") is carried out by siphond, which answers on the balancer addresses; "
		       "siphon --config alone punts the message without an answer\n");
	}
}

int cmd_check(int argc, char **argv)
{
	struct siphon_config *cfg;
	const char *path;
	uint32_t nodes = 0, n_static = 0;

	if (config_args("check", "check " CHECK_USAGE, argc, argv, &path, NULL))
		return CLI_USAGE;
	cfg = load_or_say("check", path);
	if (!cfg)
		return CLI_FAILED;
	for (uint32_t i = 0; i < cfg->n_pools; i++)
		nodes += cfg->pools[i].n_nodes;
	printf("%s: ok: %u flags, %u header patterns, %u rules, %u pools, %u nodes\n", path,
	       cfg->n_flags, cfg->tables.n_patterns, cfg->n_rules, cfg->n_pools, nodes);
	print_not_yet(path, cfg);
	/* a static MAC is an override; without one --io xdp asks the kernel */
	printf("next hops: static MAC:");
	for (uint32_t i = 0; i < cfg->tables.n_nodes; i++) {
		if (cfg->tables.nodes[i].has_mac) {
			printf(" %s", cfg->tables.nodes[i].id);
			n_static++;
		}
	}
	printf("%s; the others from the kernel (--io xdp; --io pcap drops them as no_next_hop)\n",
	       n_static ? "" : " none");
	config_describe_lanes(cfg, stdout);
	config_free(cfg);
	return CLI_OK;
}

int cmd_flags(int argc, char **argv)
{
	const char *path = NULL;
	bool json = false;
	struct siphon_config *cfg;

	if (config_args("flags", "flags " FLAGS_USAGE, argc, argv, &path, &json))
		return CLI_USAGE;
	cfg = load_or_say("flags", path);
	if (!cfg)
		return CLI_FAILED;
	if (!json)
		printf("%-4s %-24s %-6s %-16s %s\n", "BIT", "FLAG", "LINE", "KIND", "MATCHES");
	for (uint32_t i = 0; i < cfg->n_flags; i++) {
		const struct cfg_flag *f = &cfg->flags[i];
		if (json) {
			int first = 1;
			putchar('{');
			json_key(stdout, "flag", &first);
			json_write_str(stdout, f->name);
			json_key(stdout, "bit", &first);
			printf("%u", i);
			json_key(stdout, "line", &first);
			printf("%d", f->line);
			json_key(stdout, "kind", &first);
			json_write_str(stdout, flag_kind_key(f->kind));
			json_key(stdout, "matches", &first);
			json_write_str(stdout, f->how);
			json_key(stdout, "doc", &first);
			json_write_str(stdout, f->doc);
			puts("}");
		} else {
			printf("%-4u %-24s %-6d %-16s %s%s%s\n", i, f->name, f->line,
			       flag_kind_key(f->kind), f->how, f->doc[0] ? "  # " : "", f->doc);
		}
	}
	config_free(cfg);
	return CLI_OK;
}
