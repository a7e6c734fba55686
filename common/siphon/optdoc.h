/* A program's options, written once: getopt_long's table, --help and the
 * man page's OPTIONS are all made from it (docs/operating.md "Man pages").
 * Also the roff helpers the generated man pages share. */
#ifndef SIPHON_OPTDOC_H
#define SIPHON_OPTDOC_H

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>

struct optdoc {
	const char *name; /* the long option, without "--" */
	char short_name;  /* 'h', or 0 */
	const char *arg;  /* "FILE": takes a value; NULL: a switch */
	const char *doc;
};

/* getopt_long's table into out[n + 1]; an option's val is its short name,
 * else OPTDOC_VAL + its index in o. */
#define OPTDOC_VAL 256
void optdoc_getopt(const struct optdoc *o, size_t n, struct option *out);
/* The short options for getopt_long ("h"), into buf. */
void optdoc_shorts(const struct optdoc *o, size_t n, char *buf, size_t size);
/* What getopt_long returned as the option's index in o; -1 for '?' and the like. */
int optdoc_index(const struct optdoc *o, size_t n, int c);

/* "  -h, --help         doc" lines, one per option. */
void optdoc_help(FILE *f, const struct optdoc *o, size_t n);
/* .TP entries for a man page's OPTIONS. */
void optdoc_man(FILE *f, const struct optdoc *o, size_t n);

/* Text for roff, on its own line(s): backslashes and a leading '.' or '\''
 * escaped; "\n\n" starts a new paragraph (.PP). '-' is left as it is, as
 * siphonctl's page always had it. */
void roff_text(FILE *f, const char *text);
/* The same without the final newline, for inside a line. */
void roff_inline(FILE *f, const char *text);
/* .TH and NAME: roff_head(f, "SIPHOND", 8, "siphond", "the siphon control-plane daemon"). */
void roff_head(FILE *f, const char *title, int section, const char *name, const char *what);

#endif
