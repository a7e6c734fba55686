/* Option tables to getopt_long, --help and roff (siphon/optdoc.h). */
#include <string.h>

#include "siphon/optdoc.h"
#include "siphon_version.h"

void optdoc_getopt(const struct optdoc *o, size_t n, struct option *out)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (struct option){ o[i].name, o[i].arg ? required_argument : no_argument, NULL,
					  o[i].short_name ? o[i].short_name : OPTDOC_VAL + (int)i };
	out[n] = (struct option){ NULL, 0, NULL, 0 };
}

void optdoc_shorts(const struct optdoc *o, size_t n, char *buf, size_t size)
{
	size_t k = 0;

	for (size_t i = 0; i < n && k + 3 < size; i++)
		if (o[i].short_name) {
			buf[k++] = o[i].short_name;
			if (o[i].arg)
				buf[k++] = ':';
		}
	buf[k] = '\0';
}

int optdoc_index(const struct optdoc *o, size_t n, int c)
{
	if (c >= OPTDOC_VAL && (size_t)(c - OPTDOC_VAL) < n)
		return c - OPTDOC_VAL;
	for (size_t i = 0; i < n; i++)
		if (c && o[i].short_name == c)
			return (int)i;
	return -1;
}

void optdoc_help(FILE *f, const struct optdoc *o, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char head[64];

		snprintf(head, sizeof(head), "%s%c%s--%s%s%s", o[i].short_name ? "-" : "",
			 o[i].short_name ? o[i].short_name : ' ', o[i].short_name ? ", " : "  ",
			 o[i].name, o[i].arg ? " " : "", o[i].arg ? o[i].arg : "");
		fprintf(f, "  %-26s %s\n", o[i].short_name ? head : head + 1, o[i].doc);
	}
}

void roff_inline(FILE *f, const char *text)
{
	if (*text == '.' || *text == '\'')
		fputs("\\&", f);
	for (; *text; text++) {
		if (*text == '\\')
			fputs("\\e", f);
		else if (text[0] == '\n' && text[1] == '\n') {
			fputs("\n.PP\n", f);
			text++;
			if (text[1] == '.' || text[1] == '\'')
				fputs("\\&", f);
		} else if (*text == '\n') {
			fputs("\n", f);
			if (text[1] == '.' || text[1] == '\'')
				fputs("\\&", f);
		} else
			fputc(*text, f);
	}
}

void roff_text(FILE *f, const char *text)
{
	roff_inline(f, text);
	fputc('\n', f);
}

void optdoc_man(FILE *f, const struct optdoc *o, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		fputs(".TP\n", f);
		if (o[i].short_name)
			fprintf(f, "\\fB\\-%c\\fR, ", o[i].short_name);
		fputs("\\fB\\-\\-", f);
		roff_inline(f, o[i].name);
		fputs("\\fR", f);
		if (o[i].arg) {
			fputs(" \\fI", f);
			roff_inline(f, o[i].arg);
			fputs("\\fR", f);
		}
		fputc('\n', f);
		roff_text(f, o[i].doc);
	}
}

void roff_head(FILE *f, const char *title, int section, const char *name, const char *what)
{
	fprintf(f, ".TH %s %d \"\" \"siphon %s\" \"siphon manual\"\n.SH NAME\n", title, section,
		SIPHON_VERSION);
	roff_inline(f, name);
	fputs(" \\- ", f);
	roff_text(f, what);
}
