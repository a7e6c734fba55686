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

int cmd_check(int argc, char **argv)
{
	struct siphon_config *cfg;
	uint32_t nodes = 0, n_static = 0;

	if (argc != 2 || argv[1][0] == '-') {
		cli_error("check", "usage: siphonctl check FILE");
		return CLI_USAGE;
	}
	cfg = load_or_say("check", argv[1]);
	if (!cfg)
		return CLI_FAILED;
	for (uint32_t i = 0; i < cfg->n_pools; i++)
		nodes += cfg->pools[i].n_nodes;
	printf("%s: ok: %u flags, %u header patterns, %u rules, %u pools, %u nodes\n", argv[1],
	       cfg->n_flags, cfg->tables.n_patterns, cfg->n_rules, cfg->n_pools, nodes);
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
	config_free(cfg);
	return CLI_OK;
}

int cmd_flags(int argc, char **argv)
{
	const char *path = NULL;
	bool json = false;
	struct siphon_config *cfg;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			path = argv[++i];
		} else if (strcmp(argv[i], "--format") == 0 && i + 1 < argc &&
			   (!strcmp(argv[i + 1], "json") || !strcmp(argv[i + 1], "table"))) {
			json = strcmp(argv[++i], "json") == 0;
		} else {
			cli_error("flags", "'%s': usage: siphonctl flags --config FILE [--format json|table]",
				  argv[i]);
			return CLI_USAGE;
		}
	}
	if (!path) {
		cli_error("flags", "--config FILE is required");
		return CLI_USAGE;
	}
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
