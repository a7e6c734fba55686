/* Reading the config file (libconfig) into struct siphon_config, section by
 * section, each with a table of its keys. Every error names the file, the
 * line, the place and the bad value; the first one stops the load. */
#include <arpa/inet.h>
#include <errno.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "config_load.h"

int cfg_fail(struct loader *L, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (L->err->text[0])
		return -EINVAL;
	if (s)
		n = snprintf(L->err->text, sizeof(L->err->text), "%s:%d: ",
			     config_setting_source_file(s) ? config_setting_source_file(s) : L->path,
			     config_setting_source_line(s));
	else
		n = snprintf(L->err->text, sizeof(L->err->text), "%s: ", L->path);
	if (n < 0 || (size_t)n >= sizeof(L->err->text))
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(L->err->text + n, sizeof(L->err->text) - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Every key of a group must be one of `known` (a NULL-terminated list). */
int cfg_check_keys(struct loader *L, const config_setting_t *group, const char *where,
		   const char *const *known)
{
	int n = config_setting_length(group);

	for (int i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(m);
		bool ok = false;
		char list[256] = "";

		for (const char *const *k = known; *k && !ok; k++)
			ok = strcmp(*k, name) == 0;
		if (ok)
			continue;
		for (const char *const *k = known; *k; k++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
				 k == known ? "" : ", ", *k);
		return cfg_fail(L, m, "%s: unknown key '%s' (known: %s)", where, name, list);
	}
	return 0;
}

int cfg_check_section(struct loader *L, const config_setting_t *group, const char *where,
		      const char *section)
{
	const struct config_key *k;
	const char *known[64];
	size_t n = 0, all = config_keys(&k);

	for (size_t i = 0; i < all && n + 1 < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(k[i].section, section) == 0)
			known[n++] = k[i].key;
	known[n] = NULL;
	return cfg_check_keys(L, group, where, known);
}

int cfg_string(struct loader *L, const config_setting_t *group, const char *where,
	       const char *key, bool required, const char **out)
{
	const config_setting_t *s = config_setting_get_member(group, key);

	*out = NULL;
	if (!s)
		return required ? cfg_fail(L, group, "%s: '%s' is required", where, key) : 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return cfg_fail(L, s, "%s: %s: expected a string in double quotes", where, key);
	*out = config_setting_get_string(s);
	return 0;
}

int cfg_uint(struct loader *L, const config_setting_t *group, const char *where, const char *key,
	     unsigned long min, unsigned long max, uint32_t *out)
{
	const config_setting_t *s = config_setting_get_member(group, key);
	long long v;

	if (!s)
		return 0; /* keep the default in *out */
	if (config_setting_type(s) != CONFIG_TYPE_INT && config_setting_type(s) != CONFIG_TYPE_INT64)
		return cfg_fail(L, s, "%s: %s: expected a whole number from %lu to %lu", where, key,
				min, max);
	v = config_setting_get_int64(s);
	if (v < (long long)min || v > (long long)max)
		return cfg_fail(L, s, "%s: %s: %lld is out of range (%lu to %lu)", where, key, v, min,
				max);
	*out = (uint32_t)v;
	return 0;
}

/* A key missing from config_keys.c is a bug: it fails loudly in the tests. */
static const struct config_key *key_of(const char *section, const char *key)
{
	static const struct config_key none = { .min = 1, .max = 0 };
	const struct config_key *k = config_key_find(section, key);

	return k && k->type == CK_INT ? k : &none;
}

int cfg_int_key(struct loader *L, const config_setting_t *group, const char *where,
		const char *section, const char *key, uint32_t *out)
{
	const struct config_key *k = key_of(section, key);

	return cfg_uint(L, group, where, key, k->min, k->max, out);
}

uint32_t cfg_int_default(const char *section, const char *key)
{
	return (uint32_t)key_of(section, key)->dflt;
}

int cfg_true(struct loader *L, const config_setting_t *s, const char *where)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return cfg_fail(L, s, "%s: %s: expected true", where, config_setting_name(s));
	if (!config_setting_get_bool(s))
		return cfg_fail(L, s, "%s: %s = false means nothing; leave the flag out instead",
				where, config_setting_name(s));
	return 0;
}

int cfg_list_length(struct loader *L, const config_setting_t *s, const char *where)
{
	int t = config_setting_type(s);

	if (t == CONFIG_TYPE_STRING)
		return 1;
	if ((t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST) || config_setting_length(s) == 0)
		return cfg_fail(L, s, "%s: %s: expected a string or a non-empty list of strings",
				where, config_setting_name(s));
	for (int i = 0; i < config_setting_length(s); i++)
		if (config_setting_type(config_setting_get_elem(s, (unsigned)i)) != CONFIG_TYPE_STRING)
			return cfg_fail(L, s, "%s: %s: item %d is not a string", where,
					config_setting_name(s), i + 1);
	return config_setting_length(s);
}

const char *cfg_list_item(const config_setting_t *s, int i)
{
	return config_setting_type(s) == CONFIG_TYPE_STRING
		       ? config_setting_get_string(s)
		       : config_setting_get_string_elem(s, (unsigned)i);
}

int cfg_parse_addr(const char *text, struct self_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, text, out->addr) == 1) {
		out->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, text, out->addr) == 1) {
		out->family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

int cfg_parse_mac(const char *text, uint8_t mac[6])
{
	unsigned v[6];
	int n = 0;

	if (sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%n", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &n) != 6 ||
	    n != 17 || text[n] != 0)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

/* name: letters, digits, '_' and (if dashes) '-', a letter first. */
bool cfg_valid_name(const char *name, bool dashes)
{
	size_t n = strlen(name);

	if (n == 0 || n >= TABLES_NAME_MAX ||
	    !((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z')))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || (dashes && c == '-')))
			return false;
	}
	return true;
}

static int load_self_list(struct loader *L, const config_setting_t *bal, const char *key,
			  struct self_addr *addrs, uint32_t *n)
{
	const config_setting_t *s = config_setting_get_member(bal, key);
	int count;

	if (!s)
		return 0;
	count = cfg_list_length(L, s, "balancer");
	if (count < 0)
		return count;
	for (int i = 0; i < count; i++) {
		const char *text = cfg_list_item(s, i);
		if (*n == TABLES_MAX_SELF)
			return cfg_fail(L, s, "balancer: %s: more than %d addresses", key,
					TABLES_MAX_SELF);
		if (cfg_parse_addr(text, &addrs[*n]))
			return cfg_fail(L, s, "balancer: %s: '%s' is not an IPv4 or IPv6 address", key,
					text);
		(*n)++;
	}
	return 0;
}

static int load_balancer(struct loader *L, const config_setting_t *bal)
{
	const char *gw;
	const config_setting_t *ports;
	const config_setting_t *seed;
	const char *mac;
	struct compiled_tables *t = &L->cfg->tables;
	const config_setting_t *names;
	uint32_t max_vias = t->limits.max_vias;
	int err, count;

	if (config_setting_type(bal) != CONFIG_TYPE_GROUP)
		return cfg_fail(L, bal, "balancer: expected a group { ... }");
	err = cfg_check_section(L, bal, "balancer", "balancer");
	if (!err)
		err = load_self_list(L, bal, "addresses", t->self_addrs, &t->n_self_addrs);
	if (!err)
		err = load_self_list(L, bal, "control", t->control_addrs, &t->n_control_addrs);
	if (!err)
		err = cfg_int_key(L, bal, "balancer", "balancer", "max_bytes", &t->limits.max_msg_bytes);
	if (!err)
		err = cfg_int_key(L, bal, "balancer", "balancer", "max_vias", &max_vias);
	if (!err)
		err = cfg_int_key(L, bal, "balancer", "balancer", "grace_s", &t->grace_s);
	if (!err)
		err = load_metrics(L, bal);
	if (err)
		return err;
	if (config_setting_get_member(bal, "grace_s"))
		L->cfg->grace_s_line = config_setting_source_line(config_setting_get_member(bal, "grace_s"));
	err = load_siphond_keys(L, bal);
	if (!err)
		err = cfg_string(L, bal, "balancer", "mac", false, &mac);
	if (err)
		return err;
	if (mac && cfg_parse_mac(mac, t->mac))
		return cfg_fail(L, bal, "balancer: mac: '%s' is not a MAC address like 02:00:00:00:00:01",
				mac);
	t->has_mac = mac != NULL;
	err = cfg_string(L, bal, "balancer", "gateway_mac", false, &gw);
	if (err)
		return err;
	if (gw && cfg_parse_mac(gw, t->gateway_mac))
		return cfg_fail(L, bal, "balancer: gateway_mac: '%s' is not a MAC address like "
				"02:00:00:00:00:01", gw);
	t->has_gateway_mac = gw != NULL;
	ports = config_setting_get_member(bal, "ports");
	if (ports) {
		int n = config_setting_type(ports) == CONFIG_TYPE_ARRAY ? config_setting_length(ports) : -1;
		if (n < 1 || n > 8)
			return cfg_fail(L, ports, "balancer: ports: expected an array of 1 to 8 port numbers, "
					"e.g. [5060, 5080]");
		t->n_ports = 0;
		for (int i = 0; i < n; i++) {
			const config_setting_t *e = config_setting_get_elem(ports, (unsigned)i);
			int v = config_setting_type(e) == CONFIG_TYPE_INT ? config_setting_get_int(e) : -1;
			if (v < 1 || v > 65535)
				return cfg_fail(L, ports, "balancer: ports: item %d is not a port from 1 to "
						"65535", i + 1);
			t->ports[t->n_ports++] = (uint16_t)v;
		}
	}
	seed = config_setting_get_member(bal, "hash_seed");
	if (seed) {
		if (config_setting_type(seed) != CONFIG_TYPE_INT &&
		    config_setting_type(seed) != CONFIG_TYPE_INT64)
			return cfg_fail(L, seed, "balancer: hash_seed: expected a number, e.g. 0x5eed");
		t->hash_seed = (uint64_t)config_setting_get_int64(seed);
	}
	t->limits.max_vias = (uint16_t)max_vias;
	names = config_setting_get_member(bal, "names");
	if (!names)
		return 0;
	count = cfg_list_length(L, names, "balancer");
	if (count < 0)
		return count;
	for (int i = 0; i < count; i++) {
		const char *name = cfg_list_item(names, i);
		size_t len = strlen(name);
		if (len == 0 || len >= TABLES_NAME_MAX || strspn(name,
			"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != len)
			return cfg_fail(L, names, "balancer: names: '%s' is not a host name", name);
		if (t->n_self_names == TABLES_MAX_SELF)
			return cfg_fail(L, names, "balancer: names: more than %d names", TABLES_MAX_SELF);
		for (size_t k = 0; k < len; k++)
			t->self_names[t->n_self_names][k] = (char)(name[k] | (name[k] >= 'A' && name[k] <= 'Z' ? 0x20 : 0));
		t->n_self_names++;
	}
	return 0;
}

static int load_config_tree(struct loader *L)
{
	const config_setting_t *root = config_root_setting(L->lc), *s;
	int err = cfg_check_section(L, root, "top level", "");

	if (!err && (s = config_setting_get_member(root, "balancer")) != NULL)
		err = load_balancer(L, s);
	if (!err)
		err = load_flags(L, config_setting_get_member(root, "flags"));
	if (!err)
		err = load_pools(L, config_setting_get_member(root, "pools"));
	if (!err)
		err = load_route(L, config_setting_get_member(root, "route"));
	return err;
}

/* @include "x.conf" is found beside the file that includes it. */
static void set_include_dir(config_t *lc, const char *path)
{
	char dir[256];
	const char *slash = strrchr(path, '/');

	if (!slash)
		return;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	config_set_include_dir(lc, dir[0] ? dir : "/");
}

static void source_unref(struct cfg_source *src)
{
	if (src && --src->refs == 0) {
		config_destroy(&src->lc);
		free(src);
	}
}

/* The tree (L->lc, parsed) to a config: L->cfg, or NULL and L->err. */
static int build(struct loader *L, struct cfg_source *src)
{
	int rc;

	L->cfg = calloc(1, sizeof(*L->cfg));
	L->b4 = calloc(1, sizeof(*L->b4));
	L->b6 = calloc(1, sizeof(*L->b6));
	if (!L->cfg || !L->b4 || !L->b6 || prefix_builder_init(L->b4, 4) ||
	    prefix_builder_init(L->b6, 16)) {
		snprintf(L->err->text, sizeof(L->err->text), "%s: out of memory", L->path);
		rc = -ENOMEM;
	} else {
		snprintf(L->cfg->path, sizeof(L->cfg->path), "%s", L->path);
		L->cfg->tables.limits = SIP_LIMITS_DEFAULT;
		L->cfg->tables.grace_s = cfg_int_default("balancer", "grace_s");
		config_metrics_default(L->cfg);
		L->cfg->tables.n_ports = 1;
		L->cfg->tables.ports[0] = 5060;
		L->cfg->tables.hash_seed = 0x5349504850484f4eull; /* "SIPHPHON": any fixed value */
		L->cfg->on_node_change_timeout_s = cfg_int_default("balancer", "on_node_change_timeout_s");
		L->cfg->on_node_change_max = cfg_int_default("balancer", "on_node_change_max");
		rc = load_config_tree(L);
		if (!rc)
			rc = compile_tables(L);
	}
	loader_release(L);
	if (rc) {
		config_free(L->cfg);
		L->cfg = NULL;
		return rc;
	}
	L->cfg->src = src;
	src->refs++;
	return 0;
}

/* Reads from f (named `path` in messages), or from `text` when f is NULL. */
static int load(const char *path, FILE *f, const char *text, config_edit_fn edit, void *ctx,
		struct siphon_config **out, struct config_error *err)
{
	char why[CONFIG_ERROR_MAX - 300];
	struct loader L = { .path = path, .err = err };
	struct cfg_source *src = calloc(1, sizeof(*src));
	int rc;

	if (!src) {
		snprintf(err->text, sizeof(err->text), "%s: out of memory", path);
		return -ENOMEM;
	}
	src->refs = 1;
	config_init(&src->lc);
	L.lc = &src->lc;
	set_include_dir(L.lc, path);
	if (!(f ? config_read(L.lc, f) : config_read_string(L.lc, text))) {
		snprintf(err->text, sizeof(err->text), "%s:%d: syntax: %s",
			 config_error_file(L.lc) ? config_error_file(L.lc) : path,
			 config_error_line(L.lc), config_error_text(L.lc));
		rc = -EINVAL;
	} else if (edit && (rc = edit(L.lc, ctx, why, sizeof(why))) != 0) {
		snprintf(err->text, sizeof(err->text), "%s: %s", path, why);
	} else {
		rc = build(&L, src); /* the tree as edited: config_rebuild keeps the edit */
	}
	source_unref(src); /* the config holds it now, if it loaded */
	if (rc)
		return rc;
	*out = L.cfg;
	return 0;
}

int config_rebuild(const struct siphon_config *from, cfg_lookup_fn lookup, void *ctx,
		   struct siphon_config **out, struct config_error *err)
{
	struct loader L = { .path = from->path, .err = err, .lc = &from->src->lc,
			    .lookup = lookup, .lookup_ctx = ctx };
	int rc;

	err->text[0] = 0;
	*out = NULL;
	rc = build(&L, from->src);
	if (!rc)
		*out = L.cfg;
	return rc;
}

void config_source_unref(struct cfg_source *src)
{
	source_unref(src);
}

/* libconfig 1.5 exits the process when asked to read a directory, also
 * through @include: every file is checked to be a regular file first,
 * includes to a bounded depth. */
#define INCLUDE_DEPTH_MAX 8
#define CONFIG_MAX_BYTES (4 << 20)

static int check_regular(const char *path, const char *from, int line, struct config_error *err)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		if (from)
			snprintf(err->text, sizeof(err->text), "%s:%d: @include \"%s\": %s", from, line,
				 path, strerror(errno));
		else
			snprintf(err->text, sizeof(err->text), "%s: %s", path, strerror(errno));
		return -ENOENT;
	}
	if (!S_ISREG(st.st_mode)) {
		if (from)
			snprintf(err->text, sizeof(err->text), "%s:%d: @include \"%s\": not a regular "
				 "file", from, line, path);
		else
			snprintf(err->text, sizeof(err->text), "%s: not a regular file", path);
		return -EINVAL;
	}
	return 0;
}

static int check_includes_in(const char *name, const char *text, int depth,
			     struct config_error *err);

static int check_include_file(const char *path, int depth, struct config_error *err)
{
	FILE *f = fopen(path, "r");
	char *text;
	size_t len;
	int rc;

	if (!f)
		return 0; /* reported by the reader itself */
	text = calloc(1, CONFIG_MAX_BYTES + 1);
	if (!text) {
		fclose(f);
		snprintf(err->text, sizeof(err->text), "%s: out of memory", path);
		return -ENOMEM;
	}
	len = fread(text, 1, CONFIG_MAX_BYTES + 1, f);
	fclose(f);
	if (len > CONFIG_MAX_BYTES) {
		snprintf(err->text, sizeof(err->text), "%s: larger than %d bytes", path, CONFIG_MAX_BYTES);
		rc = -EFBIG;
	} else {
		rc = check_includes_in(path, text, depth, err);
	}
	free(text);
	return rc;
}

static int check_includes_in(const char *name, const char *text, int depth,
			     struct config_error *err)
{
	const char *slash = strrchr(name, '/'), *line = text;
	char dir[256], target[700], file[400];
	int n = 0, rc = 0;

	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - name) : 0, name);
	for (; !rc && line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		n++;
		if (sscanf(line, " @include \"%399[^\"\n]\"", file) != 1)
			continue;
		if (depth >= INCLUDE_DEPTH_MAX) {
			snprintf(err->text, sizeof(err->text), "%s:%d: @include: nested more than %d deep",
				 name, n, INCLUDE_DEPTH_MAX);
			return -EINVAL;
		}
		snprintf(target, sizeof(target), "%s%s%s", file[0] == '/' ? "" : dir,
			 file[0] == '/' || !dir[0] ? "" : "/", file);
		rc = check_regular(target, name, n, err);
		if (!rc)
			rc = check_include_file(target, depth + 1, err);
	}
	return rc;
}

int config_load(const char *path, struct siphon_config **out, struct config_error *err)
{
	FILE *f;
	int rc;

	err->text[0] = 0;
	*out = NULL;
	rc = check_regular(path, NULL, 0, err);
	if (!rc)
		rc = check_include_file(path, 0, err);
	if (rc)
		return rc;
	f = fopen(path, "r");
	if (!f) {
		rc = -errno;
		snprintf(err->text, sizeof(err->text), "%s: %s", path, strerror(errno));
		return rc;
	}
	rc = load(path, f, NULL, NULL, NULL, out, err);
	fclose(f);
	return rc;
}

int config_load_edited(const char *name, const char *text, config_edit_fn edit, void *ctx,
		       struct siphon_config **out, struct config_error *err)
{
	int rc;

	err->text[0] = 0;
	*out = NULL;
	rc = check_includes_in(name, text, 0, err);
	return rc ? rc : load(name, NULL, text, edit, ctx, out, err);
}

int config_load_text(const char *name, const char *text, struct siphon_config **out,
		     struct config_error *err)
{
	return config_load_edited(name, text, NULL, NULL, out, err);
}

int config_read_text(const char *path, char **text, struct config_error *err)
{
	FILE *f;
	size_t len;
	int rc;

	err->text[0] = 0;
	*text = NULL;
	rc = check_regular(path, NULL, 0, err);
	if (rc)
		return rc;
	f = fopen(path, "r");
	if (!f) {
		rc = -errno;
		snprintf(err->text, sizeof(err->text), "%s: %s", path, strerror(errno));
		return rc;
	}
	*text = calloc(1, CONFIG_MAX_BYTES + 1);
	if (!*text) {
		fclose(f);
		snprintf(err->text, sizeof(err->text), "%s: out of memory", path);
		return -ENOMEM;
	}
	len = fread(*text, 1, CONFIG_MAX_BYTES + 1, f);
	fclose(f);
	if (len > CONFIG_MAX_BYTES) {
		free(*text);
		*text = NULL;
		snprintf(err->text, sizeof(err->text), "%s: larger than %d bytes", path, CONFIG_MAX_BYTES);
		return -EFBIG;
	}
	char *fit = realloc(*text, len + 1); /* the text is kept: only its size */

	if (fit)
		*text = fit;
	return 0;
}

bool config_valid_name(const char *name)
{
	return cfg_valid_name(name, true);
}

int config_parse_addr(const char *text, struct self_addr *out)
{
	return cfg_parse_addr(text, out);
}
