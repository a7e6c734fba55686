/* siphond: the control-plane daemon (docs/siphond.md).
 *
 * Its options are one table (siphon/optdoc.h): getopt_long, --help and
 * siphond(8) (--man, with the RPC method table) are made from it.
 *
 * Exit: 0 after SIGTERM / SIGINT, 1 when it cannot start (the config does
 * not load, the socket is taken, the state dir is not writable), 2 on bad
 * arguments. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc_doc.h"
#include "siphon/optdoc.h"
#include "siphon_version.h"
#include "siphond.h"

enum { O_CONFIG, O_SOCKET, O_STATE_DIR, O_NO_PROBES, O_VERSION, O_HELP, O_MAN, O_COUNT };

static const struct optdoc opts[O_COUNT] = {
	[O_CONFIG] = { "config", 0, "FILE", "The config to compile and publish (required)." },
	[O_SOCKET] = { "socket", 0, "PATH",
		       "The RPC socket siphonctl and the fast paths connect to (default "
		       RPC_DEFAULT_SOCKET ")." },
	[O_STATE_DIR] = { "state-dir", 0, "DIR",
			  "Where the last generation and the pool changes are kept across restarts "
			  "(default " SIPHOND_STATE_DIR ")." },
	[O_NO_PROBES] = { "no-probes", 0, NULL,
			  "Send no health probes: nodes stay as configured; node enable and "
			  "disable still work." },
	[O_VERSION] = { "version", 0, NULL, "Print the version and exit." },
	[O_HELP] = { "help", 'h', NULL, "Print this help and exit." },
	[O_MAN] = { "man", 0, NULL, "Print siphond(8), with the RPC methods, and exit." },
};

#define USAGE "usage: siphond --config FILE [--socket PATH] [--state-dir DIR] [--no-probes] [--version]\n"

static int usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage(const char *fmt, ...)
{
	va_list ap;

	fputs("siphond: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n" USAGE, stderr);
	return 2;
}

/* siphond(8): the options and the methods of the table it serves. */
static int print_man(struct siphond *d)
{
	json_t *help, *none = json_object();
	struct rpc_error err;
	const struct rpc_entry *e;
	int rc;

	rpc_table_init(&d->table);
	if (!none || rpc_builtin_add(&d->table) || siphond_methods_add(d))
		return json_decref(none), 1;
	e = rpc_table_find(&d->table, "help");
	rc = e->method->handler(none, e->ctx, &help, &err);
	json_decref(none);
	if (rc)
		return 1;
	roff_head(stdout, "SIPHOND", 8, "siphond", "the siphon control-plane daemon");
	puts(".SH SYNOPSIS\n.B siphond\n.B \\-\\-config\n.I FILE\n.RB [ \\-\\-socket\n.IR PATH ]\n"
	     ".RB [ \\-\\-state\\-dir\n.IR DIR ]\n.RB [ \\-\\-no\\-probes ]");
	puts(".SH DESCRIPTION\nsiphond compiles the config into generations and publishes them to "
	     "the fast paths (siphon) that attach to its socket; it probes the nodes, answers "
	     "what the fast paths punt, and is managed over a JSON RPC on its Unix socket "
	     "(siphonctl).");
	puts(".SH OPTIONS");
	optdoc_man(stdout, opts, O_COUNT);
	puts(".SH RPC METHODS\nOne JSON request per line on the socket: "
	     "{\"method\": NAME, \"params\": {...}, \"id\": N}. Parameters are checked against "
	     "these declarations (type, required, range; unknown ones refused) before the method "
	     "runs; the error names the parameter.");
	rpc_doc_man(stdout, json_object_get(help, "methods"));
	puts(".SH SIGNALS\n.TP\n.B SIGHUP\nReload the config, as the reload method.\n.TP\n"
	     ".BR SIGTERM \", \" SIGINT\nStop; the fast paths keep running their generation.");
	puts(".SH EXIT STATUS\n0: stopped by a signal. 1: it could not start. 2: bad arguments.");
	puts(".SH SEE ALSO\n.BR siphon (8),\n.BR siphonctl (8),\n.BR siphon.conf (5)");
	json_decref(help);
	return 0;
}

/* 0, 1 when it printed something and exits 0 (--version, --help, --man), or 2. */
static int parse(int argc, char **argv, struct siphond *d)
{
	struct siphond_opts *o = &d->o;
	const char **dest[] = { [O_CONFIG] = &o->config, [O_SOCKET] = &o->socket,
				[O_STATE_DIR] = &o->state_dir };
	struct option longopts[O_COUNT + 1];
	char shorts[16] = ":";
	int c;

	optdoc_getopt(opts, O_COUNT, longopts);
	optdoc_shorts(opts, O_COUNT, shorts + 1, sizeof(shorts) - 1);
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, longopts, NULL)) != -1) {
		int i = optdoc_index(opts, O_COUNT, c);

		switch (i) {
		case O_CONFIG:
		case O_SOCKET:
		case O_STATE_DIR:
			if (!*optarg)
				return usage("--%s: the value is empty", opts[i].name);
			if (*dest[i])
				return usage("--%s given twice", opts[i].name);
			*dest[i] = optarg;
			break;
		case O_NO_PROBES:
			o->no_probes = true;
			break;
		case O_VERSION:
			printf("siphond %s\n", SIPHON_VERSION);
			return 1;
		case O_HELP:
			fputs(USAGE "\n", stdout);
			optdoc_help(stdout, opts, O_COUNT);
			return 1;
		case O_MAN:
			return print_man(d) ? 2 : 1;
		default:
			if (c == ':')
				return usage("%s needs a value", argv[optind - 1]);
			return usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage("unexpected argument '%s'", argv[optind]);
	if (!o->config)
		return usage("%s is required", "--config");
	if (!o->socket)
		o->socket = RPC_DEFAULT_SOCKET;
	if (!o->state_dir)
		o->state_dir = SIPHOND_STATE_DIR;
	return 0;
}

int main(int argc, char **argv)
{
	static struct siphond d; /* big: the config's tables are inline */
	char err[SIPHOND_ERR_MAX];
	int rc = parse(argc, argv, &d);

	if (rc)
		return rc == 1 ? 0 : rc;
	siphond_log("siphond %s starting: config %s", SIPHON_VERSION, d.o.config);
	if (siphond_start(&d, err, sizeof(err)) != 0) {
		siphond_log("cannot start: %s", err);
		siphond_stop(&d);
		return 1;
	}
	rc = siphond_run(&d);
	siphond_stop(&d);
	siphond_log("stopped");
	return rc ? 1 : 0;
}
