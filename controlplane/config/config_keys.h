/* Every key of the config file, once: section, name, type, default, range
 * and doc. The loader takes each section's key names and each integer's
 * range from here, and siphon.conf(5) is written from it (docs/config.md). */
#ifndef SIPHON_CONFIG_KEYS_H
#define SIPHON_CONFIG_KEYS_H

#include <stddef.h>
#include <stdio.h>

enum config_key_type {
	CK_GROUP,   /* { ... } */
	CK_LIST,    /* ( { ... }, ... ) */
	CK_STRING,
	CK_STRINGS, /* a string or a list of strings */
	CK_INT,     /* a whole number in [min, max] */
	CK_INTS,    /* an array of numbers */
	CK_NUMBER,  /* any 64-bit number */
	CK_BOOL,
	CK_KIND,    /* a flag's kind key: its value depends on the kind */
};

struct config_key {
	const char *section; /* "" (top level), "balancer", "flags[]", "pools[]", ... */
	const char *key;
	enum config_key_type type;
	const char *def;      /* the default as written; NULL: none, or the number in dflt */
	unsigned long dflt;   /* CK_INT: the default (when def is NULL and required is false) */
	unsigned long min, max; /* CK_INT: the range */
	int required;
	const char *doc;
};

/* The whole table, in the order of the man page. */
size_t config_keys(const struct config_key **out);
/* One key; NULL when the section has no such key. */
const struct config_key *config_key_find(const char *section, const char *key);
/* "string", "integer", ... */
const char *config_key_type_name(enum config_key_type t);
/* siphon.conf(5) as roff: 0, or -errno. */
int config_keys_man(FILE *f);

#endif
