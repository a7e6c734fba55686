/* siphond: the control-plane daemon (docs/siphond.md).
 *
 *   siphond --config FILE [--socket PATH] [--state-dir DIR] [--no-probes] [--version]
 *
 * Exit: 0 after SIGTERM / SIGINT, 1 when it cannot start (the config does
 * not load, the socket is taken, the state dir is not writable), 2 on bad
 * arguments. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "siphon_version.h"
#include "siphond.h"

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

/* 0, 1 when it printed something and exits 0 (--version, --help), or 2. */
static int parse(int argc, char **argv, struct siphond_opts *o)
{
	static const char *const names[] = { "--config", "--socket", "--state-dir" };
	const char **dest[] = { &o->config, &o->socket, &o->state_dir };

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *val = NULL, *eq = strchr(arg, '=');
		size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
		size_t k;

		if (strcmp(arg, "--version") == 0) {
			printf("siphond %s\n", SIPHON_VERSION);
			return 1;
		}
		if (strcmp(arg, "--no-probes") == 0) {
			o->no_probes = true; /* nodes stay as configured; node enable/disable still work */
			continue;
		}
		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
			fputs(USAGE, stdout);
			return 1;
		}
		for (k = 0; k < 3; k++)
			if (strlen(names[k]) == len && strncmp(arg, names[k], len) == 0)
				break;
		if (k == 3)
			return arg[0] == '-' ? usage("unknown option '%s'", arg) :
					       usage("unexpected argument '%s'", arg);
		if (eq)
			val = eq + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		if (!val)
			return usage("%s needs a value", names[k]);
		if (!*val)
			return usage("%s: the value is empty", names[k]);
		if (*dest[k])
			return usage("%s given twice", names[k]);
		*dest[k] = val;
	}
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
	int rc = parse(argc, argv, &d.o);

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
