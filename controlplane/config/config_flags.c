/* The `flags` section: each entry names one flag and says how it is set,
 * with exactly one of the keys of flag_kinds.def. */
#include <errno.h>
#include <hs/hs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_load.h"
#include "rule_expr.h"

struct flag_ctx {
	struct loader *L;
	const config_setting_t *entry, *value;
	struct cfg_flag *flag;
	unsigned bit;
	char where[TABLES_NAME_MAX + 16];
};

/* Adds "KEY item" for the first item of a list, ", item" for the others. */
static void append_how(struct cfg_flag *f, int index, const char *key, const char *item)
{
	size_t n = strlen(f->how);
	snprintf(f->how + n, sizeof(f->how) - n, "%s%s", index ? ", " : key, item);
}

static int kind_source(struct flag_ctx *c)
{
	struct flagset bits = { 0 };
	int n = cfg_list_length(c->L, c->value, c->where);

	flagset_set(&bits, c->bit);
	for (int i = 0; i < n; i++) {
		const char *text = cfg_list_item(c->value, i);
		uint8_t addr[16];
		unsigned key_bytes, plen;
		int err = prefix_parse(text, addr, &key_bytes, &plen);

		if (err == -EDOM)
			return cfg_fail(c->L, c->value, "%s: source: '%s' has host bits set beyond /%u",
					c->where, text, plen);
		if (err)
			return cfg_fail(c->L, c->value, "%s: source: '%s' is not an IPv4 or IPv6 prefix",
					c->where, text);
		err = prefix_builder_add(key_bytes == 4 ? c->L->b4 : c->L->b6, addr, plen, &bits);
		if (err == -E2BIG)
			return cfg_fail(c->L, c->value, "%s: source: '%s': the prefix table is full",
					c->where, text);
		if (err)
			return cfg_fail(c->L, c->value, "%s: source: '%s': %s", c->where, text,
					strerror(-err));
		append_how(c->flag, i, "source ", text);
	}
	return n < 0 ? n : 0;
}

static int kind_method(struct flag_ctx *c)
{
	struct compiled_tables *t = &c->L->cfg->tables;
	int n = cfg_list_length(c->L, c->value, c->where);

	for (int i = 0; i < n; i++) {
		const char *name = cfg_list_item(c->value, i);
		size_t len = strlen(name);
		uint32_t m;

		if (len == 0 || len >= TABLES_NAME_MAX ||
		    strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
				 "-.!%*_+`'~") != len)
			return cfg_fail(c->L, c->value, "%s: method: '%s' is not a SIP method token",
					c->where, name);
		for (m = 0; m < t->n_methods; m++)
			if (strcmp(t->methods[m].name, name) == 0)
				break;
		if (m == t->n_methods) {
			if (m == TABLES_MAX_METHODS)
				return cfg_fail(c->L, c->value, "%s: method: more than %d method names",
						c->where, TABLES_MAX_METHODS);
			memcpy(t->methods[m].name, name, len + 1);
			t->methods[m].len = (uint8_t)len;
			t->n_methods++;
		}
		flagset_set(&t->methods[m].flags, c->bit);
		append_how(c->flag, i, "method ", name);
	}
	return n < 0 ? n : 0;
}

static int kind_boolean(struct flag_ctx *c, struct flagset *set, const char *how)
{
	int err = cfg_true(c->L, c->value, c->where);

	if (err)
		return err;
	flagset_set(set, c->bit);
	append_how(c->flag, 0, "", how);
	return 0;
}

static int kind_to_self(struct flag_ctx *c)
{
	return kind_boolean(c, &c->L->cfg->tables.to_self,
			    "to_self: Request-URI host is a balancer address or name");
}

static int kind_own_probe_answer(struct flag_ctx *c)
{
	return kind_boolean(c, &c->L->cfg->tables.own_probe_answer,
			    "own_probe_answer: response whose top Via is a control address");
}

static int kind_in_dialog(struct flag_ctx *c)
{
	return kind_boolean(c, &c->L->cfg->tables.in_dialog, "in_dialog: To has a tag");
}

static int kind_transport(struct flag_ctx *c)
{
	int n = cfg_list_length(c->L, c->value, c->where);

	for (int i = 0; i < n; i++) {
		const char *name = cfg_list_item(c->value, i);
		int tr = transport_from_name(name);
		if (tr < 0)
			return cfg_fail(c->L, c->value,
					"%s: transport: '%s' is not one of UDP, TCP, TLS, SCTP, WS, WSS",
					c->where, name);
		flagset_set(&c->L->cfg->tables.transports[tr], c->bit);
		append_how(c->flag, i, "transport ", transport_name((unsigned)tr));
	}
	return n < 0 ? n : 0;
}

/* The header named by `header = "..."`: its index in the extra set. */
static int flag_header(struct flag_ctx *c, const char **name_out)
{
	struct sip_extra_set *set = &c->L->cfg->tables.headers;
	const char *name;
	int err = cfg_string(c->L, c->entry, c->where, "header", true, &name), idx;

	if (err)
		return err;
	idx = sip_extra_add(set, name);
	if (idx == -EEXIST) {
		struct sip_extra_set probe = { 0 };
		const struct sip_extra_header *h;
		sip_extra_add(&probe, name); /* the normalised form, to find it */
		h = &probe.hdr[0];
		for (unsigned i = 0; i < set->count; i++)
			if (set->hdr[i].len == h->len && memcmp(set->hdr[i].lname, h->lname, h->len) == 0)
				idx = (int)i;
	}
	if (idx == -EINVAL)
		return cfg_fail(c->L, c->entry, "%s: header: '%s' is not a header name", c->where, name);
	if (idx == -ENOSPC)
		return cfg_fail(c->L, c->entry, "%s: header: '%s': flags may name at most %d headers",
				c->where, name, SIP_EXTRA_MAX);
	*name_out = name;
	return idx;
}

static int kind_present(struct flag_ctx *c)
{
	const char *name;
	int idx = flag_header(c, &name), err;

	if (idx < 0)
		return idx;
	err = cfg_true(c->L, c->value, c->where);
	if (err)
		return err;
	flagset_set(&c->L->cfg->tables.header_present[idx], c->bit);
	snprintf(c->flag->how, sizeof(c->flag->how), "header %s present", name);
	return 0;
}

static int kind_match(struct flag_ctx *c)
{
	struct loader *L = c->L;
	const config_setting_t *cl = config_setting_get_member(c->entry, "caseless");
	const char *name, *pattern;
	bool caseless = false;
	int idx = flag_header(c, &name);

	if (idx < 0)
		return idx;
	if (config_setting_type(c->value) != CONFIG_TYPE_STRING)
		return cfg_fail(L, c->value, "%s: match: expected a pattern string", c->where);
	pattern = config_setting_get_string(c->value);
	if (cl) {
		if (config_setting_type(cl) != CONFIG_TYPE_BOOL)
			return cfg_fail(L, cl, "%s: caseless: expected true or false", c->where);
		caseless = config_setting_get_bool(cl);
	}
	if (L->n_patterns == TABLES_MAX_PATTERNS)
		return cfg_fail(L, c->value, "%s: match: more than %d patterns in one config",
				c->where, TABLES_MAX_PATTERNS);
	L->patterns[L->n_patterns] = (struct pending_pattern){
		.expression = pattern,
		.hs_flags = HS_FLAG_SINGLEMATCH | (caseless ? HS_FLAG_CASELESS : 0),
		.flag = c->bit,
	};
	L->cfg->tables.patterns[L->n_patterns] = (struct pattern_ref){ (uint16_t)idx, (uint16_t)c->bit };
	L->n_patterns++;
	snprintf(c->flag->how, sizeof(c->flag->how), "header %s %s \"%s\"", name,
		 caseless ? "~*" : "~", pattern);
	return 0;
}

/* Derived flags may only use flags defined before them: no cycles. */
static int earlier_flag(void *ctx, const char *name, size_t len)
{
	const struct flag_ctx *c = ctx;
	int idx = cfg_flag_index(c->L->cfg, name, len);
	return idx >= 0 && (unsigned)idx < c->bit ? idx : -1;
}

static int kind_expr(struct flag_ctx *c)
{
	struct loader *L = c->L;
	struct expr_result *res;
	const char *text;
	int err;

	if (config_setting_type(c->value) != CONFIG_TYPE_STRING)
		return cfg_fail(L, c->value, "%s: expr: expected an expression string", c->where);
	text = config_setting_get_string(c->value);
	res = malloc(sizeof(*res));
	if (!res)
		return cfg_fail(L, c->value, "%s: out of memory", c->where);
	err = expr_compile(text, earlier_flag, c, res);
	if (err) {
		err = cfg_fail(L, c->value, "%s: expr \"%s\": %s%s", c->where, text, res->error,
			       strstr(res->error, "unknown flag") ? " (or not defined before this one)" : "");
		goto out;
	}
	if (L->n_expr_terms + res->n_terms > TABLES_MAX_TERMS) {
		err = cfg_fail(L, c->value, "%s: expr: more than %d terms in all derived flags",
			       c->where, TABLES_MAX_TERMS);
		goto out;
	}
	for (unsigned i = 0; i < res->n_terms; i++) {
		res->terms[i].target = (uint16_t)c->bit;
		L->cfg->expr_terms[L->n_expr_terms++] = res->terms[i];
	}
	snprintf(c->flag->how, sizeof(c->flag->how), "expr %s", text);
out:
	free(res);
	return err;
}

static const struct {
	enum flag_kind kind;
	int (*load)(struct flag_ctx *c);
} kind_loaders[] = {
	{ FLAG_KIND_SOURCE, kind_source },
	{ FLAG_KIND_METHOD, kind_method },
	{ FLAG_KIND_TO_SELF, kind_to_self },
	{ FLAG_KIND_OWN_PROBE_ANSWER, kind_own_probe_answer },
	{ FLAG_KIND_IN_DIALOG, kind_in_dialog },
	{ FLAG_KIND_TRANSPORT, kind_transport },
	{ FLAG_KIND_HEADER_PRESENT, kind_present },
	{ FLAG_KIND_HEADER_MATCH, kind_match },
	{ FLAG_KIND_EXPR, kind_expr },
};

_Static_assert(sizeof(kind_loaders) / sizeof(kind_loaders[0]) == FLAG_KIND__COUNT,
	       "a loader for every flag kind");

int cfg_flag_index(const struct siphon_config *cfg, const char *name, size_t len)
{
	for (unsigned i = 0; i < cfg->n_flags; i++)
		if (strlen(cfg->flags[i].name) == len && memcmp(cfg->flags[i].name, name, len) == 0)
			return (int)i;
	return -1;
}

static int load_flag(struct loader *L, const config_setting_t *entry, unsigned bit)
{
	struct flag_ctx c = { .L = L, .entry = entry, .bit = bit, .flag = &L->cfg->flags[bit] };
	const char *name, *doc;
	int kind = -1, err;

	snprintf(c.where, sizeof(c.where), "flags[%u]", bit + 1);
	if (config_setting_type(entry) != CONFIG_TYPE_GROUP)
		return cfg_fail(L, entry, "%s: expected a group { name = ...; ... }", c.where);
	err = cfg_check_section(L, entry, c.where, "flags[]");
	if (!err)
		err = cfg_string(L, entry, c.where, "name", true, &name);
	if (err)
		return err;
	if (!cfg_valid_name(name, false) || !strcmp(name, "and") || !strcmp(name, "or") ||
	    !strcmp(name, "not"))
		return cfg_fail(L, entry, "%s: name: '%s' is not a flag name (a letter, then letters, "
				"digits or '_'; not and/or/not)", c.where, name);
	if (cfg_flag_index(L->cfg, name, strlen(name)) >= 0)
		return cfg_fail(L, entry, "%s: name: flag '%s' is defined twice", c.where, name);
	snprintf(c.where, sizeof(c.where), "flag %s", name);
	for (unsigned k = 0; k < FLAG_KIND__COUNT; k++) {
		const config_setting_t *v = config_setting_get_member(entry, flag_kind_key(k));
		if (!v)
			continue;
		if (kind >= 0)
			return cfg_fail(L, v, "%s: has both '%s' and '%s'; a flag has one way to match",
					c.where, flag_kind_key((unsigned)kind), flag_kind_key(k));
		kind = (int)k;
		c.value = v;
	}
	if (kind < 0)
		return cfg_fail(L, entry, "%s: says nothing about how it matches (one of source, "
				"method, to_self, own_probe_answer, in_dialog, transport, present, "
				"match, expr)", c.where);
	if (config_setting_get_member(entry, "header") && kind != FLAG_KIND_HEADER_PRESENT &&
	    kind != FLAG_KIND_HEADER_MATCH)
		return cfg_fail(L, entry, "%s: header: only with present or match", c.where);
	if (config_setting_get_member(entry, "caseless") && kind != FLAG_KIND_HEADER_MATCH)
		return cfg_fail(L, entry, "%s: caseless: only with match", c.where);
	err = cfg_string(L, entry, c.where, "doc", false, &doc);
	if (err)
		return err;
	snprintf(c.flag->name, sizeof(c.flag->name), "%s", name);
	c.flag->kind = (enum flag_kind)kind;
	c.flag->line = config_setting_source_line(entry);
	snprintf(c.flag->file, sizeof(c.flag->file), "%s",
		 config_setting_source_file(entry) ? config_setting_source_file(entry) : L->path);
	if (doc)
		snprintf(c.flag->doc, sizeof(c.flag->doc), "%s", doc);
	L->cfg->n_flags = bit + 1; /* visible to its own expression as "not before" */
	return kind_loaders[kind].load(&c);
}

int load_flags(struct loader *L, const config_setting_t *flags)
{
	int n, err;

	if (!flags)
		return 0;
	if (config_setting_type(flags) != CONFIG_TYPE_LIST)
		return cfg_fail(L, flags, "flags: expected a list ( { ... }, { ... } )");
	n = config_setting_length(flags);
	if (n > SIPHON_MAX_FLAGS)
		return cfg_fail(L, flags, "flags: %d flags; at most %d", n, SIPHON_MAX_FLAGS);
	L->cfg->expr_terms = calloc(TABLES_MAX_TERMS, sizeof(struct dnf_term));
	if (!L->cfg->expr_terms)
		return cfg_fail(L, flags, "flags: out of memory");
	for (int i = 0; i < n; i++) {
		err = load_flag(L, config_setting_get_elem(flags, (unsigned)i), (unsigned)i);
		if (err)
			return err;
	}
	L->cfg->tables.n_flags = (uint32_t)n;
	return 0;
}
