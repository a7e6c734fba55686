/* siphonctl help: the overview, one command's usage, siphond's methods,
 * and what is generated from the command table at build time: siphonctl(8)
 * (--man), siphon.conf(5) (--man siphon.conf) and the bash completion
 * (--completion). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config_keys.h"
#include "rpc.h"
#include "rpc_doc.h"
#include "siphon/optdoc.h"

/* The global options, parsed by siphonctl.c's global_options(). */
static const struct optdoc globals[] = {
	{ "socket", 0, "PATH",
	  "siphond's socket for the commands that call it (else $SIPHON_SOCKET, else "
	  RPC_DEFAULT_SOCKET ")." },
	{ "timeout", 0, "SECONDS",
	  "How long the commands that call siphond wait for it (1 to 3600, default 5)." },
};
#define N_GLOBALS (sizeof(globals) / sizeof(globals[0]))

static void print_overview(FILE *out)
{
	const struct cli_command *c;
	size_t n = cli_commands(&c);

	fprintf(out, "usage: siphonctl " CLI_GLOBAL_USAGE " COMMAND [ARGS]\n"
		     "       siphonctl --version\n\n");
	optdoc_help(out, globals, N_GLOBALS);
	fputs("\ncommands:\n", out);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "  %-10s %s\n", c[i].name, c[i].doc);
}

void cli_usage_overview(void)
{
	print_overview(stderr);
}

/* siphonctl(8), written from the command table so the two never differ. */
static void print_man(void)
{
	const struct cli_command *c;
	size_t n = cli_commands(&c);

	roff_head(stdout, "SIPHONCTL", 8, "siphonctl",
		  "manage the siphon SIP load balancer and explain its decisions");
	puts(".SH SYNOPSIS\n.B siphonctl\n.RB [ --socket\n.IR PATH ]\n.RB [ --timeout\n.IR SECONDS ]\n"
	     ".I COMMAND\n.RI [ ARGS ]\n.br\n.B siphonctl --version");
	puts(".SH OPTIONS");
	optdoc_man(stdout, globals, N_GLOBALS);
	puts(".SH COMMANDS");
	for (size_t i = 0; i < n; i++) {
		puts(".TP");
		fputs(".B siphonctl ", stdout);
		roff_text(stdout, c[i].usage);
		roff_text(stdout, c[i].doc);
	}
	puts(".SH RPC METHODS\n.B siphonctl rpc\ncalls any method of siphond; "
	     ".B siphonctl help rpc\nlists them with their parameters, from the running siphond. "
	     "siphond(8) lists the methods of this version.");
	puts(".SH EXIT STATUS\n0: done. 1: the command ran and something failed. "
	     "2: bad arguments, nothing was done. 3 (import-dispatcher): the config was written "
	     "but something of the input was not carried over.");
	puts(".SH ENVIRONMENT\n.TP\n.B SIPHON_SOCKET\nsiphond's socket when --socket is not given.");
	puts(".SH FILES\n.TP\n.I /etc/siphon/siphon.conf\nThe config (siphon.conf(5)).");
	puts(".SH SEE ALSO\n.BR siphon (8),\n.BR siphond (8),\n.BR siphon.conf (5);\n"
	     "docs/scanner.md, docs/rpc.md, docs/architecture.md");
}

/* The rpc command's usage, then siphond's methods from its `help` method:
 * each name on a line of its own after two spaces (the completion reads
 * them so), its doc and params indented more. */
static int help_rpc(const char *method)
{
	const struct cli_command *c = cli_find_command("rpc");
	json_t *params = method ? json_pack("{s:s}", "method", method) : NULL, *r, *list;
	int rc;

	printf("usage: siphonctl %s\n\n%s\n\n", c->usage, c->doc);
	fflush(stdout);
	rc = cli_call("help", "help", params, &r);
	if (rc) {
		json_decref(params);
		fputs("siphonctl help: siphond(8) lists the methods of this version\n", stderr);
		return rc;
	}
	printf("siphond's methods (%s):\n", cli_socket_path());
	list = method ? json_pack("[O]", r) : json_incref(json_object_get(r, "methods"));
	rpc_doc_text(stdout, list);
	json_decref(list);
	json_decref(r);
	json_decref(params);
	return CLI_OK;
}

int cmd_help(int argc, char **argv)
{
	const struct cli_command *c;

	if (argc < 2) {
		print_overview(stdout);
		return CLI_OK;
	}
	if (strcmp(argv[1], "--man") == 0 && argc == 2) {
		print_man();
		return CLI_OK;
	}
	if (strcmp(argv[1], "--man") == 0 && argc == 3 && strcmp(argv[2], "siphon.conf") == 0)
		return config_keys_man(stdout) ? CLI_FAILED : CLI_OK;
	if (strcmp(argv[1], "--completion") == 0 && argc == 2) {
		cli_completion(stdout, globals, N_GLOBALS);
		return CLI_OK;
	}
	if (strcmp(argv[1], "rpc") == 0 && argc <= 3)
		return help_rpc(argc == 3 ? argv[2] : NULL);
	c = argc == 2 ? cli_find_command(argv[1]) : NULL;
	if (!c) {
		cli_error("help", "unknown command '%s' (try 'siphonctl help')", argv[1]);
		return CLI_USAGE;
	}
	printf("usage: siphonctl %s\n\n%s\n", c->usage, c->doc);
	return CLI_OK;
}
