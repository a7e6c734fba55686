/* The bash completion of siphonctl, written from the command table: each
 * command's subcommands, options, option values and positional arguments
 * are read off its usage string, so a new row completes with no more code.
 * POOL, NODE and METHOD complete with names from the running siphond (when
 * it answers within a second), FILE with files, "a|b" with its words. */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define WORDS_MAX 64
#define WORD_MAX 64

struct usage {
	char w[WORDS_MAX][WORD_MAX];
	size_t n;
};

static void split(const char *usage, struct usage *u)
{
	u->n = 0;
	for (usage += strspn(usage, " "); *usage && u->n < WORDS_MAX; usage += strspn(usage, " ")) {
		size_t len = strcspn(usage, " ");

		snprintf(u->w[u->n++], WORD_MAX, "%.*s", (int)len, usage);
		usage += len;
	}
}

/* w without the brackets and parentheses around it: "[--json]" is "--json". */
static const char *bare(const char *w, char *buf)
{
	w += strspn(w, "[(");
	snprintf(buf, WORD_MAX, "%.*s", (int)strcspn(w, "])"), w);
	return buf;
}

static bool is_option(const char *w)
{
	return strncmp(w + strspn(w, "[("), "--", 2) == 0;
}

/* An option's value follows it inside its brackets: "[--weight W]". */
static bool takes_value(const struct usage *u, size_t i)
{
	return is_option(u->w[i]) && !strpbrk(u->w[i], "])") && i + 1 < u->n &&
	       !is_option(u->w[i + 1]) && strcmp(u->w[i + 1], "|") != 0;
}

/* A subcommand: lower case, maybe several ("remove|drain"). */
static bool is_sub(const char *w)
{
	if (!islower((unsigned char)*w))
		return false;
	for (; *w; w++)
		if (!islower((unsigned char)*w) && *w != '|')
			return false;
	return true;
}

/* "CMD" or "CMD SUB" as a case pattern: "node remove"|"node drain". */
static void print_key(FILE *f, const char *cmd, const char *sub)
{
	if (!sub) {
		fprintf(f, "\t\"%s\"", cmd);
		return;
	}
	fputc('\t', f);
	for (const char *s = sub; *s; s += strcspn(s, "|"), s += *s == '|')
		fprintf(f, "%s\"%s %.*s\"", s == sub ? "" : "|", cmd, (int)strcspn(s, "|"), s);
}

/* The arms of _siphonctl_args for one command: the positional arguments of
 * each alternative (split at a lone '|'); the first one of a key wins. */
static void print_args(FILE *f, const struct cli_command *c, const struct usage *u)
{
	char buf[WORD_MAX], done[WORDS_MAX][WORD_MAX];
	size_t n_done = 0;

	for (size_t i = 0, end; i < u->n; i = end + 1) {
		const char *sub = NULL;
		char args[256] = "";
		size_t k = i;
		bool seen = false;

		for (end = i; end < u->n && strcmp(u->w[end], "|") != 0; end++)
			;
		if (k < end && strcmp(bare(u->w[k], buf), c->name) == 0)
			k++;
		if (k < end && is_sub(u->w[k]))
			sub = u->w[k++];
		for (; k < end; k++) {
			if (takes_value(u, k))
				k++;
			else if (!is_option(u->w[k]) && isupper((unsigned char)*bare(u->w[k], buf)))
				/* "ADDRESS[:PORT]" is an ADDRESS; "FILE..." repeats */
				snprintf(args + strlen(args), sizeof(args) - strlen(args), " %.*s%s",
					 (int)strcspn(buf, "[:."), buf, strstr(u->w[k], "...") ? "..." : "");
		}
		for (size_t d = 0; d < n_done; d++)
			seen |= strcmp(done[d], sub ? sub : "") == 0;
		if (!args[0] || seen || n_done == WORDS_MAX)
			continue;
		snprintf(done[n_done++], WORD_MAX, "%s", sub ? sub : "");
		print_key(f, c->name, sub);
		fprintf(f, ") echo \"%s\" ;;\n", args + 1);
	}
}

static void print_tables(FILE *f, const struct cli_command *c, size_t n)
{
	struct usage u;
	char buf[WORD_MAX];

	fputs("_siphonctl_subs() {\n\tcase $1 in\n", f);
	for (size_t i = 0; i < n; i++) {
		char subs[256] = "";

		split(c[i].usage, &u);
		for (size_t k = 0; k + 1 < u.n; k++)
			if (strcmp(bare(u.w[k], buf), c[i].name) == 0 && is_sub(u.w[k + 1]))
				snprintf(subs + strlen(subs), sizeof(subs) - strlen(subs), " %s",
					 u.w[k + 1]);
		for (char *p = subs; *p; p++)
			*p = *p == '|' ? ' ' : *p;
		if (subs[0])
			fprintf(f, "\t%s) echo \"%s\" ;;\n", c[i].name, subs + 1);
	}
	fputs("\tesac\n}\n\n_siphonctl_opts() {\n\tcase $1 in\n", f);
	for (size_t i = 0; i < n; i++) {
		char opts[512] = "";

		split(c[i].usage, &u);
		for (size_t k = 0; k < u.n; k++)
			if (is_option(u.w[k]) && !strstr(opts, bare(u.w[k], buf)))
				snprintf(opts + strlen(opts), sizeof(opts) - strlen(opts), " %s", buf);
		if (opts[0])
			fprintf(f, "\t%s) echo \"%s\" ;;\n", c[i].name, opts + 1);
	}
	fputs("\tesac\n}\n\n# what an option's value is: FILE, W, json|table ...\n"
	      "_siphonctl_optval() {\n\tcase \"$1 $2\" in\n", f);
	for (size_t i = 0; i < n; i++) {
		split(c[i].usage, &u);
		for (size_t k = 0; k < u.n; k++) {
			char val[WORD_MAX];

			if (takes_value(&u, k))
				fprintf(f, "\t\"%s %s\") echo \"%s\" ;;\n", c[i].name, bare(u.w[k], buf),
					bare(u.w[k + 1], val));
		}
	}
	fputs("\tesac\n}\n\n# the positional arguments of \"CMD\" or \"CMD SUB\"\n"
	      "_siphonctl_args() {\n\tcase $1 in\n", f);
	for (size_t i = 0; i < n; i++) {
		split(c[i].usage, &u);
		print_args(f, &c[i], &u);
	}
	fputs("\tesac\n}\n\n", f);
}

/* The part that is the same whatever the table says. */
static const char logic[] =
	"# names from the running siphond: pools | nodes POOL | methods\n"
	"_siphonctl_names() {\n"
	"\tlocal ctl=${COMP_WORDS[0]}\n"
	"\tcase $1 in\n"
	"\tpools) \"$ctl\" --timeout 1 \"${g[@]}\" pool list --json 2>/dev/null |\n"
	"\t\tgrep -o '\"name\":\"[^\"]*\"' | cut -d'\"' -f4 ;;\n"
	"\tnodes) \"$ctl\" --timeout 1 \"${g[@]}\" pool show \"$2\" --json 2>/dev/null |\n"
	"\t\tgrep -o '\"name\":\"[^\"]*\"' | tail -n +2 | cut -d'\"' -f4 ;;\n"
	"\tmethods) \"$ctl\" --timeout 1 \"${g[@]}\" help rpc 2>/dev/null |\n"
	"\t\tsed -n 's/^  \\([^ ]*\\)$/\\1/p' ;;\n"
	"\tesac\n"
	"}\n\n"
	"# COMPREPLY for a value of this kind\n"
	"_siphonctl_value() {\n"
	"\tlocal words\n"
	"\tcase $1 in\n"
	"\t*FILE* | PATH | DIR) COMPREPLY=($(compgen -f -- \"$cur\")) ; return ;;\n"
	"\tPOOL) words=$(_siphonctl_names pools) ;;\n"
	"\tNODE) words=$(_siphonctl_names nodes \"$pool\") ;;\n"
	"\tMETHOD) words=$(_siphonctl_names methods) ;;\n"
	"\tCOMMAND) words=\"$_siphonctl_commands rpc\" ;;\n"
	"\t[a-z]*) words=${1//|/ } ;; # the words themselves: json|table\n"
	"\t*) return ;;\n"
	"\tesac\n"
	"\tCOMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
	"}\n\n"
	"_siphonctl() {\n"
	"\tlocal cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}\n"
	"\tlocal i=1 j w g=() pos=() args=() cmd key kind pool\n"
	"\tCOMPREPLY=()\n"
	"\tcase $prev in\n"
	"\t--socket) COMPREPLY=($(compgen -f -- \"$cur\")) ; return ;;\n"
	"\t--timeout) return ;;\n"
	"\tesac\n"
	"\t# the global options, kept for the calls to siphond\n"
	"\twhile ((i < COMP_CWORD)); do\n"
	"\t\tcase ${COMP_WORDS[i]} in\n"
	"\t\t--socket | --timeout) g+=(\"${COMP_WORDS[i]}\" \"${COMP_WORDS[i + 1]}\") ; ((i += 2)) ;;\n"
	"\t\t--socket=* | --timeout=*) g+=(\"${COMP_WORDS[i]}\") ; ((i++)) ;;\n"
	"\t\t*) break ;;\n"
	"\t\tesac\n"
	"\tdone\n"
	"\tif ((i >= COMP_CWORD)); then\n"
	"\t\tCOMPREPLY=($(compgen -W \"$_siphonctl_commands $_siphonctl_globals\" -- \"$cur\"))\n"
	"\t\treturn\n"
	"\tfi\n"
	"\tcmd=${COMP_WORDS[i]} key=${COMP_WORDS[i]}\n"
	"\tkind=$(_siphonctl_optval \"$cmd\" \"$prev\")\n"
	"\tif [[ -n $kind ]]; then\n"
	"\t\t_siphonctl_value \"$kind\"\n"
	"\t\treturn\n"
	"\tfi\n"
	"\tif [[ $cur == -* ]]; then\n"
	"\t\tCOMPREPLY=($(compgen -W \"$(_siphonctl_opts \"$cmd\")\" -- \"$cur\"))\n"
	"\t\treturn\n"
	"\tfi\n"
	"\t# the positional words so far, without the options and their values\n"
	"\tfor ((j = i + 1; j < COMP_CWORD; j++)); do\n"
	"\t\tw=${COMP_WORDS[j]}\n"
	"\t\tif [[ $w == -* ]]; then\n"
	"\t\t\t[[ -n $(_siphonctl_optval \"$cmd\" \"$w\") ]] && ((j++))\n"
	"\t\t\tcontinue\n"
	"\t\tfi\n"
	"\t\tpos+=(\"$w\")\n"
	"\tdone\n"
	"\tif [[ -n $(_siphonctl_subs \"$cmd\") ]]; then\n"
	"\t\tif ((${#pos[@]} == 0)); then\n"
	"\t\t\tCOMPREPLY=($(compgen -W \"$(_siphonctl_subs \"$cmd\")\" -- \"$cur\"))\n"
	"\t\t\treturn\n"
	"\t\tfi\n"
	"\t\tkey=\"$cmd ${pos[0]}\" pos=(\"${pos[@]:1}\")\n"
	"\telif ((${#pos[@]})) && [[ -n $(_siphonctl_args \"$cmd ${pos[0]}\") ]]; then\n"
	"\t\tkey=\"$cmd ${pos[0]}\" pos=(\"${pos[@]:1}\") # help rpc METHOD\n"
	"\tfi\n"
	"\targs=($(_siphonctl_args \"$key\"))\n"
	"\tfor ((j = 0; j < ${#args[@]}; j++)); do\n"
	"\t\t[[ ${args[j]} == POOL ]] && pool=${pos[j]}\n"
	"\tdone\n"
	"\tkind=${args[${#pos[@]}]}\n"
	"\tif [[ -z $kind && ${#args[@]} -gt 0 && ${args[${#args[@]} - 1]} == *... ]]; then\n"
	"\t\tkind=${args[${#args[@]} - 1]}\n"
	"\tfi\n"
	"\t_siphonctl_value \"${kind%...}\"\n"
	"}\n\n"
	"complete -F _siphonctl siphonctl\n";

void cli_completion(FILE *f, const struct optdoc *globals, size_t n_globals)
{
	const struct cli_command *c;
	size_t n = cli_commands(&c);

	fputs("# bash completion for siphonctl: generated by `siphonctl help --completion`\n"
	      "# from its command table (controlplane/cli/cli_complete.c). Do not edit.\n\n"
	      "_siphonctl_commands=\"",
	      f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? " " : "", c[i].name);
	fputs("\"\n_siphonctl_globals=\"", f);
	for (size_t i = 0; i < n_globals; i++)
		fprintf(f, "--%s ", globals[i].name);
	fputs("--version --help\"\n\n", f);
	print_tables(f, c, n);
	fputs(logic, f);
}
