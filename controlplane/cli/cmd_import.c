/* siphonctl import-dispatcher: Kamailio's dispatcher.list as a siphon
 * config (dispatcher_import.c), loaded by siphon's own loader before a
 * byte is written, so the output is never a config siphon refuses. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "config.h"
#include "dispatcher_import.h"

#define CMD "import-dispatcher"
#define INPUT_MAX (64u << 20)

static int usage(const char *what)
{
	cli_error(CMD, "%s: usage: siphonctl " IMPORT_USAGE, what);
	return CLI_USAGE;
}

/* The whole file, NUL-terminated; NULL after saying why. */
static char *read_input(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	char *text = NULL;

	if (!f || fstat(fileno(f), &st) != 0) {
		cli_error(CMD, "%s: %s", path, strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		cli_error(CMD, "%s: not a regular file", path);
	} else if ((unsigned long long)st.st_size > INPUT_MAX) {
		cli_error(CMD, "%s: larger than %u MiB", path, INPUT_MAX >> 20);
	} else if (!(text = malloc((size_t)st.st_size + 1))) {
		cli_error(CMD, "%s: out of memory", path);
	} else {
		*len = fread(text, 1, (size_t)st.st_size, f);
		if (ferror(f)) {
			cli_error(CMD, "%s: %s", path, strerror(errno));
			free(text);
			text = NULL;
		} else {
			text[*len] = 0;
		}
	}
	if (f)
		fclose(f);
	return text;
}

/* To OUT.tmp, then renamed: OUT is the old file or the new one, whole. */
static int write_output(const char *out, const char *config)
{
	char tmp[4096];
	FILE *f;

	if (!out) {
		fputs(config, stdout);
		return fflush(stdout) == 0 ? 0 : -EIO;
	}
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", out) >= (int)sizeof(tmp)) {
		cli_error(CMD, "%s: path too long", out);
		return -ENAMETOOLONG;
	}
	f = fopen(tmp, "w");
	if (!f || fputs(config, f) < 0 || fclose(f) != 0 || rename(tmp, out) != 0) {
		cli_error(CMD, "%s: %s", f ? out : tmp, strerror(errno));
		remove(tmp);
		return -EIO;
	}
	return 0;
}

static void print_json(const char *in, const char *out, const struct dsi_result *r,
		       const char *error)
{
	json_t *pools = json_array(), *notes = json_array();
	json_t *o = json_pack("{s:s, s:s?, s:b}", "input", in, "output", out, "written", !error);
	char *line;

	for (size_t i = 0; i < r->n_pools; i++) {
		char name[32];

		snprintf(name, sizeof(name), "set%ld", r->pools[i].set);
		json_array_append_new(pools, json_pack("{s:s, s:I, s:i, s:b, s:i}", "pool", name,
						       "set", (json_int_t)r->pools[i].set,
						       "nodes", (int)r->pools[i].n_nodes,
						       "probe", r->pools[i].probe,
						       "line", r->pools[i].first_line));
	}
	for (size_t i = 0; i < r->n_notes; i++)
		json_array_append_new(notes, json_pack("{s:i, s:s}", "line", r->notes[i].line,
						       "text", r->notes[i].text));
	json_object_set_new(o, "pools", pools);
	json_object_set_new(o, "not_carried", notes);
	if (error)
		json_object_set_new(o, "error", json_string(error));
	line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (line)
		puts(line);
	free(line);
	json_decref(o);
}

int cmd_import_dispatcher(int argc, char **argv)
{
	const char *in = NULL, *out = NULL, *control = NULL, *error = NULL;
	struct siphon_config *cfg;
	struct config_error cerr;
	struct dsi_result r;
	unsigned char bin[16];
	bool json = false, strict = false;
	char why[96];
	size_t len = 0;
	char *text;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--out") && i + 1 < argc)
			out = argv[++i];
		else if (!strcmp(argv[i], "--control") && i + 1 < argc)
			control = argv[++i];
		else if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--strict"))
			strict = true;
		else if (argv[i][0] == '-' || in)
			return usage(argv[i]);
		else
			in = argv[i];
	}
	if (!in)
		return usage("FILE is required");
	if (json && !out)
		return usage("--json prints the report: the config needs --out FILE");
	if (control && inet_pton(AF_INET, control, bin) != 1 && inet_pton(AF_INET6, control, bin) != 1)
		return usage("--control: not an IPv4 or IPv6 address");
	text = read_input(in, &len);
	if (!text)
		return CLI_FAILED;
	rc = dsi_import(in, text, len, control, &r);
	free(text);
	for (size_t i = 0; i < r.n_notes; i++)
		cli_error(CMD, "%s:%d: not carried over: %s", in, r.notes[i].line, r.notes[i].text);
	if (rc) {
		error = r.error;
		cli_error(CMD, "%s", error);
	} else if (strict && r.n_notes) {
		snprintf(why, sizeof(why), "%zu thing%s not carried over (--strict): nothing written",
			 r.n_notes, r.n_notes == 1 ? "" : "s");
		error = why;
		cli_error(CMD, "%s", error);
	} else if (config_load_text(out ? out : "(stdout)", r.config, &cfg, &cerr)) {
		/* a bug of the importer: say so rather than write an inert file */
		error = cerr.text;
		cli_error(CMD, "the config made from %s does not load (a bug: please report it): %s",
			  in, error);
	} else {
		config_free(cfg);
		if (write_output(out, r.config))
			error = "the config could not be written";
	}
	if (json)
		print_json(in, out, &r, error);
	rc = error ? CLI_FAILED : CLI_OK;
	dsi_result_free(&r);
	return rc;
}
