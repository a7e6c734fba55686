/* siphonctl: manage siphon and see what it does. One table of commands;
 * `siphonctl help`, the man page and the bash completion are written from it
 * (cli_help.c, cli_complete.c). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rpc.h"
#include "siphon_version.h"

static int cmd_version(int argc, char **argv);

static const struct cli_command commands[] = {
	{ "explain", cmd_explain, "explain " EXPLAIN_USAGE,
	  "Scan SIP messages and print the verdict and reason for each: one JSON object per line, "
	  "or a table. A FILE holds one UDP payload; --pcap reads every UDP packet of a capture. "
	  "With --config, also the flags set, the deciding rule (line and text), the action and "
	  "the pool; --source and --transport say where a FILE came from." },
	{ "check", cmd_check, "check " CHECK_USAGE,
	  "Validate a config without applying it: 'FILE: ok' and a summary, or the first error "
	  "with its line. Then one note for each of probe, grace_s, fallback, retry_after_s and "
	  "reply when the config uses them: what applies them (siphond), and what does not yet." },
	{ "flags", cmd_flags, "flags " FLAGS_USAGE,
	  "List every flag of a config with its bit, where it is defined and how it is matched." },
	{ "reasons", cmd_reasons, "reasons [--format json|table]",
	  "List every verdict reason with its verdict and meaning." },
	{ "ping", cmd_ping, "ping",
	  "Ask siphond whether it is up: prints 'pong'. Exits 1 with the reason when nothing "
	  "listens on the socket, siphond answers with an error or not within the timeout." },
	{ "rpc", cmd_rpc, "rpc " RPC_USAGE,
	  "Call one siphond method with JSON-PARAMS (an object) and print the JSON reply line; "
	  "exits 1 when the reply is an error (its code and message on stderr). "
	  "'siphonctl rpc help' lists the methods (docs/rpc.md)." },
	{ "state", cmd_state, STATE_USAGE,
	  "Show siphond's running generation (number, age, size), its config and state dir, and "
	  "each attached fast path with its pid, the generation it acknowledged and its last "
	  "refusal; --json prints the 'state' method's result as one line." },
	{ "reload", cmd_reload, RELOAD_USAGE,
	  "Have siphond compile its config file again and publish it as a new generation; "
	  "--dry-run publishes nothing and prints what would change: flags, rules, pools, nodes "
	  "and per pool the share of Maglev slots that would move. Exits 1 with FILE:LINE: reason "
	  "when the config is rejected (the running generation stays)." },
	{ "pool", cmd_pool, POOL_USAGE,
	  "list: siphond's pools with their node counts (nodes, live, draining, inactive, "
	  "disabled, changed over the RPC). show: the nodes: state (active, trying, inactive, "
	  "disabled, draining) and why, weight and effective weight, probes sent, replies, "
	  "timeouts, ICMP unreachables, the last state change, and where a node differs from the "
	  "config file (added, weight, drained, disabled over the RPC; nodes removed). --json "
	  "prints the method's result (pool.list, pool.show) as one line." },
	{ "node", cmd_node, NODE_USAGE,
	  "Change a pool at once, as a new generation: add a node (port 5060, weight 100, id its "
	  "name by default), remove one, set its weight (0-65535), drain it (no new calls, its "
	  "dialogs still reach it), disable it (out, not probed) or enable it (ends a drain or a "
	  "disable). The changes survive a restart of siphond and are dropped by a reload. Exits "
	  "1 when siphond refuses (unknown pool or node, a name or address taken, a bad address "
	  "or weight, the pool's last node, too many nodes), 2 on bad arguments." },
	{ "import-dispatcher", cmd_import_dispatcher, IMPORT_USAGE,
	  "Write the siphon config equivalent to a Kamailio dispatcher.list: a pool per set "
	  "(set<ID>), a node per destination with its weight= and duid (as id), a probe group "
	  "where flag 8 asks for probing; --control ADDR sets where siphond probes from. The "
	  "config is loaded before it is written (to --out FILE, else stdout). What has no "
	  "equivalent is listed on stderr as FILE:LINE: not carried over: ...; --json prints "
	  "the report. Exits 0 when written (notes or not), 1 with FILE:LINE when the list is "
	  "malformed, or with --strict when anything was not carried over (nothing written "
	  "either way). docs/migrating.md." },
	{ "stats", cmd_stats, STATS_USAGE,
	  "Show the traffic counters siphond has from each attached fast path (AF_XDP lane and "
	  "kernel lane: per node, pool, flag, rule and reason) and its nodes' health and probe "
	  "round trips; --json prints the 'stats' method's result as one line (docs/metrics.md)." },
	{ "top", cmd_top, TOP_USAGE,
	  "A live view, every S seconds (1): per pool and node its state, packets/s per lane, "
	  "requests/s by method, responses/s by class, the last probe round trip; the generation "
	  "and its age. q or Ctrl-C quits (the terminal is restored); --once prints one frame "
	  "(two samples S apart) and exits (docs/metrics.md)." },
	{ "help", cmd_help, "help [COMMAND | rpc [METHOD] | --man [siphon.conf] | --completion]",
	  "Show the commands, or one command's usage; 'help rpc' lists siphond's methods with "
	  "their parameters (from the running siphond). --man prints this table as siphonctl(8), "
	  "--man siphon.conf the config keys as siphon.conf(5), --completion the bash completion." },
	{ "version", cmd_version, "version | --version",
	  "Print siphonctl's version (the project's, from meson.build) and exit." },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const char *socket_path;
static unsigned long timeout_s = 5;

const char *cli_socket_path(void)
{
	const char *env = getenv("SIPHON_SOCKET");

	return socket_path ? socket_path : env && *env ? env : RPC_DEFAULT_SOCKET;
}

int cli_timeout_ms(void)
{
	return (int)timeout_s * 1000;
}

void cli_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "siphonctl %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_parse_uint(const char *cmd, const char *opt, const char *arg, unsigned long min,
		   unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (!*arg || *end || errno || arg[0] == '-' || v < min || v > max) {
		cli_error(cmd, "%s '%s': expected a whole number from %lu to %lu", opt, arg, min, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

size_t cli_commands(const struct cli_command **out)
{
	*out = commands;
	return N_COMMANDS;
}

const struct cli_command *cli_find_command(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static int cmd_version(int argc, char **argv)
{
	if (argc > 1) {
		cli_error("version", "'%s': usage: siphonctl version | --version", argv[1]);
		return CLI_USAGE;
	}
	printf("siphonctl %s\n", SIPHON_VERSION);
	return CLI_OK;
}

/* Takes the global options off the front of argv: how many it took, or -1. */
static int global_options(int argc, char **argv)
{
	int i = 1;

	while (i < argc) {
		const char *opt = argv[i], *val;

		if (strcmp(opt, "--socket") != 0 && strncmp(opt, "--socket=", 9) != 0 &&
		    strcmp(opt, "--timeout") != 0 && strncmp(opt, "--timeout=", 10) != 0)
			break;
		val = strchr(opt, '=');
		if (val) {
			val++;
		} else if (i + 1 < argc) {
			val = argv[++i];
		} else {
			fprintf(stderr, "siphonctl: %s needs a value\n", opt);
			return -1;
		}
		if (opt[2] == 's') {
			if (!*val) {
				fprintf(stderr, "siphonctl: --socket: the path is empty\n");
				return -1;
			}
			socket_path = val;
		} else if (cli_parse_uint("--timeout", "SECONDS", val, 1, 3600, &timeout_s)) {
			return -1;
		}
		i++;
	}
	return i - 1;
}

int main(int argc, char **argv)
{
	const struct cli_command *c;
	int taken = global_options(argc, argv);

	if (taken < 0)
		return CLI_USAGE;
	argv[taken] = argv[0];
	argc -= taken;
	argv += taken;
	if (argc < 2) {
		cli_usage_overview();
		return CLI_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return cmd_help(1, argv);
	if (strcmp(argv[1], "--version") == 0)
		return cmd_version(argc - 1, argv + 1);
	c = cli_find_command(argv[1]);
	if (!c) {
		fprintf(stderr, "siphonctl: unknown command '%s' (try 'siphonctl help')\n", argv[1]);
		return CLI_USAGE;
	}
	return c->run(argc - 1, argv + 1);
}
