/* siphonctl: the command table and what the commands share. */
#ifndef SIPHON_CLI_H
#define SIPHON_CLI_H

#include <stdio.h>

#include <jansson.h>

#include "siphon/optdoc.h"

/* Exit codes of every command. */
enum {
	CLI_OK = 0,
	CLI_FAILED = 1, /* the command ran and something failed (a file, a check) */
	CLI_USAGE = 2,  /* bad arguments: nothing was done */
};

struct cli_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
	const char *doc;
};

#define EXPLAIN_USAGE                                                                          \
	"[--config FILE] [--format json|table] [--max-bytes N] [--max-vias N] [--source ADDR] " \
	"[--transport T] (--pcap FILE | FILE...)"

/* check and flags take their config the same way: FILE or --config FILE */
#define CHECK_USAGE "FILE | --config FILE"
#define FLAGS_USAGE "FILE | --config FILE [--format json|table]"

#define RPC_USAGE "METHOD [JSON-PARAMS]"
#define STATE_USAGE "state [--json]"
#define RELOAD_USAGE "reload [--dry-run] [--json]"
#define POOL_USAGE "pool list [--json] | pool show [POOL] [--json]"
#define NODE_USAGE                                                                   \
	"node add POOL NODE ADDRESS[:PORT] [--weight W] [--id ID] [--json] | "       \
	"node remove|drain|enable|disable POOL NODE [--json] | node weight POOL NODE W [--json]"
#define IMPORT_USAGE "import-dispatcher FILE [--out FILE] [--control ADDR] [--strict] [--json]"
#define STATS_USAGE "stats [--json]"
#define TOP_USAGE "top [--once] [--interval S]"

#define CLI_GLOBAL_USAGE "[--socket PATH] [--timeout SECONDS]"

/* The command table (siphonctl.c): its rows, and one by name (or NULL). */
size_t cli_commands(const struct cli_command **out);
const struct cli_command *cli_find_command(const char *name);

/* cli_help.c: help, and the overview on stderr for a bad command line. */
int cmd_help(int argc, char **argv);
void cli_usage_overview(void);
/* cli_complete.c: the bash completion, from the command table. */
void cli_completion(FILE *f, const struct optdoc *globals, size_t n_globals);

int cmd_explain(int argc, char **argv);
int cmd_reasons(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_flags(int argc, char **argv);
int cmd_ping(int argc, char **argv);
int cmd_rpc(int argc, char **argv);
int cmd_state(int argc, char **argv);
int cmd_reload(int argc, char **argv);
int cmd_pool(int argc, char **argv);
int cmd_node(int argc, char **argv);
int cmd_import_dispatcher(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_top(int argc, char **argv);

/* Calls a siphond method: CLI_OK with *result (a new reference), or
 * CLI_FAILED after saying why (cmd_siphond.c). */
int cli_call(const char *cmd, const char *method, json_t *params, json_t **result);

/* The global options: --socket PATH (else $SIPHON_SOCKET, else
 * /run/siphon/siphond.sock) and --timeout SECONDS (5). */
const char *cli_socket_path(void);
int cli_timeout_ms(void);

/* Prints "siphonctl CMD: ..." to stderr. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Parses a decimal number in [min, max]; prints the error itself. */
int cli_parse_uint(const char *cmd, const char *opt, const char *arg, unsigned long min,
		   unsigned long max, unsigned long *out);

#endif
