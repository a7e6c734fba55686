/* The RPC's pool changes: the entries, their edit of the config tree, and
 * STATE_DIR/overrides.json (docs/siphond.md "Pool management"). */
#include <errno.h>
#include <inttypes.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <xxhash.h>

#include "overrides.h"
#include "siphond.h"

#define OVR_VERSION   1
#define OVR_FILE_MAX  (16 << 20)

void ovr_free(struct overrides *o)
{
	free(o->v);
	*o = (struct overrides){ 0 };
}

int ovr_copy(struct overrides *dst, const struct overrides *src)
{
	*dst = (struct overrides){ 0 };
	if (!src->n)
		return 0;
	dst->v = malloc(src->n * sizeof(*dst->v));
	if (!dst->v)
		return -ENOMEM;
	memcpy(dst->v, src->v, src->n * sizeof(*dst->v));
	dst->n = dst->cap = src->n;
	return 0;
}

struct ovr_node *ovr_find(const struct overrides *o, const char *pool, const char *node)
{
	for (uint32_t i = 0; i < o->n; i++)
		if (strcmp(o->v[i].pool, pool) == 0 && strcmp(o->v[i].node, node) == 0)
			return &o->v[i];
	return NULL;
}

struct ovr_node *ovr_get(struct overrides *o, const char *pool, const char *node)
{
	struct ovr_node *e = ovr_find(o, pool, node);

	if (e)
		return e;
	if (o->n >= OVR_MAX)
		return NULL;
	if (o->n == o->cap) {
		uint32_t cap = o->cap ? 2 * o->cap : 8;
		struct ovr_node *v = realloc(o->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		o->v = v, o->cap = cap;
	}
	e = &o->v[o->n++];
	*e = (struct ovr_node){ 0 };
	snprintf(e->pool, sizeof(e->pool), "%s", pool);
	snprintf(e->node, sizeof(e->node), "%s", node);
	return e;
}

static bool changes_nothing(const struct ovr_node *e)
{
	return !e->removed && !e->added && !e->weighted && !e->drained && !e->disabled;
}

void ovr_tidy(struct overrides *o)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < o->n; i++)
		if (!changes_nothing(&o->v[i]))
			o->v[k++] = o->v[i];
	o->n = k;
}

/* ---- the edit of the parsed config file ---- */

static const char *name_of(const config_setting_t *group)
{
	const config_setting_t *s = config_setting_get_member(group, "name");

	return s && config_setting_type(s) == CONFIG_TYPE_STRING ? config_setting_get_string(s) : NULL;
}

/* The element of `list` whose name is `name`, or NULL; *idx its index. */
static config_setting_t *find_named(config_setting_t *list, const char *name, int *idx)
{
	int n = list && config_setting_is_list(list) ? config_setting_length(list) : 0;

	for (int i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
		const char *s = config_setting_is_group(e) ? name_of(e) : NULL;

		if (s && strcmp(s, name) == 0) {
			*idx = i;
			return e;
		}
	}
	return NULL;
}

static int set_member(config_setting_t *group, const char *key, int type, long long v,
		      const char *s)
{
	config_setting_t *m;

	/* whatever type it had (an int64 with L, say): a fresh member */
	if (config_setting_get_member(group, key))
		config_setting_remove(group, key);
	m = config_setting_add(group, key, type);
	if (!m)
		return -ENOMEM;
	if (type == CONFIG_TYPE_STRING)
		return config_setting_set_string(m, s) ? 0 : -ENOMEM;
	return config_setting_set_int(m, (int)v) ? 0 : -EINVAL;
}

static int add_node(config_setting_t *nodes, const struct ovr_node *e)
{
	config_setting_t *g = config_setting_add(nodes, NULL, CONFIG_TYPE_GROUP);

	if (!g || set_member(g, "name", CONFIG_TYPE_STRING, 0, e->node) ||
	    set_member(g, "address", CONFIG_TYPE_STRING, 0, e->address) ||
	    set_member(g, "port", CONFIG_TYPE_INT, e->port, NULL) ||
	    set_member(g, "id", CONFIG_TYPE_STRING, 0, e->id))
		return -ENOMEM;
	return 0;
}

/* A node resolved from a name (docs/dns.md): "NAME@ADDRESS", never in the
 * config's tree; only its state (disable) applies to it. */
static bool resolved(const char *node)
{
	const char *at = strchr(node, '@');
	char name[TABLES_NAME_MAX];

	if (!at || at == node || (size_t)(at - node) >= sizeof(name) || strlen(node) >= TABLES_NAME_MAX)
		return false;
	snprintf(name, sizeof(name), "%.*s", (int)(at - node), node);
	for (const char *c = at + 1; *c; c++)
		if (*c <= ' ' || *c >= 0x7f)
			return false;
	return at[1] && config_valid_name(name);
}

static int edit_one(config_setting_t *pools, struct ovr_node *e, char *err, size_t errlen)
{
	int idx = -1;
	config_setting_t *pool = find_named(pools, e->pool, &idx);
	config_setting_t *nodes = pool ? config_setting_get_member(pool, "nodes") : NULL;
	config_setting_t *node = nodes ? find_named(nodes, e->node, &idx) : NULL;
	const config_setting_t *w = node ? config_setting_get_member(node, "weight") : NULL;

	if (!pool) {
		snprintf(err, errlen, "overrides: no pool named '%s' in the config", e->pool);
		return -EINVAL;
	}
	e->in_config = node != NULL;
	e->config_weight = w ? (uint32_t)config_setting_get_int(w) : 100;
	if (!node && resolved(e->node)) {
		if (!e->removed && !e->added && !e->weighted && !e->drained)
			return 0; /* disabled: a state, applied by name */
		snprintf(err, errlen, "overrides: %s/%s is resolved from a name (docs/dns.md): only "
			 "disable and enable apply to it", e->pool, e->node);
		return -EINVAL;
	}
	if (!node && (e->removed || !e->added)) {
		snprintf(err, errlen, "overrides: pool %s has no node named '%s' in the config",
			 e->pool, e->node);
		return -EINVAL;
	}
	if (node && e->added && !e->removed) {
		snprintf(err, errlen, "overrides: node %s/%s was added, but the config has one of that "
			 "name", e->pool, e->node);
		return -EINVAL;
	}
	if (node && e->removed) {
		config_setting_remove_elem(nodes, (unsigned)idx);
		node = NULL;
	}
	if (e->added) {
		if (add_node(nodes, e))
			goto nomem;
		node = config_setting_get_elem(nodes, (unsigned)config_setting_length(nodes) - 1);
	}
	/* a drained node keeps its weight for later and takes no new call */
	if (node && (e->drained || e->weighted) &&
	    set_member(node, "weight", CONFIG_TYPE_INT, e->drained ? 0 : e->weight, NULL))
		goto nomem;
	return 0;
nomem:
	snprintf(err, errlen, "overrides: out of memory");
	return -ENOMEM;
}

int ovr_edit(struct config_t *tree, void *ctx, char *err, size_t errlen)
{
	struct overrides *o = ctx;
	config_setting_t *pools = config_lookup(tree, "pools");

	for (uint32_t i = 0; i < o->n; i++) {
		int rc = edit_one(pools, &o->v[i], err, errlen);

		if (rc)
			return rc;
	}
	return 0;
}

/* ---- STATE_DIR/overrides.json ---- */

static void hash_of(const char *text, char out[17])
{
	snprintf(out, 17, "%016" PRIx64, (uint64_t)XXH64(text, strlen(text), 0));
}

static json_t *entry_json(const struct ovr_node *e)
{
	json_t *o = json_pack("{s:s, s:s}", "pool", e->pool, "node", e->node);

	if (o && e->removed)
		json_object_set_new(o, "removed", json_true());
	if (o && e->added)
		json_object_set_new(o, "added", json_pack("{s:s, s:i, s:s}", "address", e->address,
							  "port", e->port, "id", e->id));
	if (o && e->weighted)
		json_object_set_new(o, "weight", json_integer(e->weight));
	if (o && e->drained)
		json_object_set_new(o, "drained", json_true());
	if (o && e->disabled)
		json_object_set_new(o, "disabled", json_true());
	return o;
}

int ovr_save(const char *dir, const struct overrides *o, const char *config, const char *text,
	     char *err, size_t errlen)
{
	char hash[17], *s;
	json_t *nodes = json_array(), *doc;
	int rc;

	if (!o->n) {
		json_decref(nodes);
		return state_remove(dir, OVR_FILE, err, errlen);
	}
	for (uint32_t i = 0; i < o->n; i++)
		json_array_append_new(nodes, entry_json(&o->v[i]));
	hash_of(text, hash);
	doc = json_pack("{s:i, s:s, s:s, s:I, s:o}", "version", OVR_VERSION, "config", config,
			"config_xxh64", hash, "saved", (json_int_t)time(NULL), "nodes", nodes);
	s = doc ? json_dumps(doc, JSON_INDENT(1)) : NULL;
	json_decref(doc);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = state_write(dir, OVR_FILE, s, strlen(s), err, errlen);
	free(s);
	return rc;
}

static int bad(char *err, size_t errlen, const char *path, size_t i, const char *what)
{
	snprintf(err, errlen, "%s: nodes[%zu]: %s", path, i, what);
	return -EINVAL;
}

static bool has_only(const json_t *o, const char *const *keys)
{
	const char *k;
	const json_t *v;

	json_object_foreach ((json_t *)o, k, v) {
		const char *const *p = keys;

		while (*p && strcmp(*p, k))
			p++;
		if (!*p)
			return false;
	}
	return true;
}

static bool is_flag(const json_t *v)
{
	return !v || json_is_true(v);
}

/* One entry of the file, checked as the RPC checks a change. */
static int read_entry(const json_t *j, const char *path, size_t i, struct ovr_node *e,
		      char *err, size_t errlen)
{
	static const char *const keys[] = { "pool", "node", "removed", "added", "weight",
					    "drained", "disabled", NULL };
	static const char *const add_keys[] = { "address", "port", "id", NULL };
	const char *pool = json_string_value(json_object_get(j, "pool"));
	const char *node = json_string_value(json_object_get(j, "node"));
	const json_t *add = json_object_get(j, "added"), *w = json_object_get(j, "weight");
	struct self_addr a;

	if (!json_is_object(j) || !has_only(j, keys))
		return bad(err, errlen, path, i, "expected an object of pool, node, removed, added, "
			   "weight, drained, disabled");
	if (!pool || !node || !config_valid_name(pool) ||
	    !(config_valid_name(node) || resolved(node)))
		return bad(err, errlen, path, i, "pool and node: names");
	if (!is_flag(json_object_get(j, "removed")) || !is_flag(json_object_get(j, "drained")) ||
	    !is_flag(json_object_get(j, "disabled")))
		return bad(err, errlen, path, i, "removed, drained, disabled: true when present");
	*e = (struct ovr_node){ .removed = json_is_true(json_object_get(j, "removed")),
				.drained = json_is_true(json_object_get(j, "drained")),
				.disabled = json_is_true(json_object_get(j, "disabled")) };
	snprintf(e->pool, sizeof(e->pool), "%s", pool);
	snprintf(e->node, sizeof(e->node), "%s", node);
	if (w && (!json_is_integer(w) || json_integer_value(w) < 0 || json_integer_value(w) > 65535))
		return bad(err, errlen, path, i, "weight: an integer from 0 to 65535");
	e->weighted = w != NULL;
	e->weight = (uint32_t)json_integer_value(w);
	if (add) {
		const char *addr = json_string_value(json_object_get(add, "address"));
		const char *id = json_string_value(json_object_get(add, "id"));
		const json_t *port = json_object_get(add, "port");

		if (!json_is_object(add) || !has_only(add, add_keys) || !addr || !id ||
		    !json_is_integer(port) || json_integer_value(port) < 1 ||
		    json_integer_value(port) > 65535 || config_parse_addr(addr, &a) ||
		    !config_valid_name(id) || !e->weighted)
			return bad(err, errlen, path, i, "added: an address, a port, an id and a weight");
		e->added = true;
		snprintf(e->address, sizeof(e->address), "%s", addr);
		snprintf(e->id, sizeof(e->id), "%s", id);
		e->port = (uint16_t)json_integer_value(port);
	}
	if (changes_nothing(e))
		return bad(err, errlen, path, i, "changes nothing");
	return 0;
}

int ovr_load(const char *dir, const char *config, const char *text, struct overrides *o,
	     char *err, size_t errlen)
{
	char path[4096], hash[17];
	static const char *const keys[] = { "version", "config", "config_xxh64", "saved", "nodes",
					    NULL };
	json_error_t je;
	struct stat st;
	json_t *doc, *nodes;
	size_t i;
	int rc = -EINVAL;

	*o = (struct overrides){ 0 };
	snprintf(path, sizeof(path), "%s/%s", dir, OVR_FILE);
	if (stat(path, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -EINVAL;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > OVR_FILE_MAX) {
		snprintf(err, errlen, "%s: not a regular file of at most %d bytes", path, OVR_FILE_MAX);
		return -EINVAL;
	}
	doc = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!doc) {
		snprintf(err, errlen, "%s:%d: not JSON: %s", path, je.line, je.text);
		return -EINVAL;
	}
	nodes = json_object_get(doc, "nodes");
	if (!json_is_object(doc) || !has_only(doc, keys) ||
	    json_integer_value(json_object_get(doc, "version")) != OVR_VERSION ||
	    !json_is_string(json_object_get(doc, "config")) ||
	    !json_is_string(json_object_get(doc, "config_xxh64")) || !json_is_array(nodes) ||
	    json_array_size(nodes) > OVR_MAX) {
		snprintf(err, errlen, "%s: expected {\"version\": %d, \"config\", \"config_xxh64\", "
			 "\"saved\", \"nodes\": [at most %d]}", path, OVR_VERSION, OVR_MAX);
		goto out;
	}
	hash_of(text, hash);
	if (strcmp(json_string_value(json_object_get(doc, "config")), config) != 0) {
		snprintf(err, errlen, "%s: stale: made over another config file (%.256s)", path,
			 json_string_value(json_object_get(doc, "config")));
		rc = -ESTALE;
		goto out;
	}
	if (strcmp(json_string_value(json_object_get(doc, "config_xxh64")), hash) != 0) {
		snprintf(err, errlen, "%s: stale: made over another text of %s (it changed since)",
			 path, config);
		rc = -ESTALE;
		goto out;
	}
	o->v = calloc(json_array_size(nodes) + 1, sizeof(*o->v));
	if (!o->v) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto out;
	}
	o->cap = (uint32_t)json_array_size(nodes) + 1;
	for (i = 0; i < json_array_size(nodes); i++) {
		struct ovr_node e;

		if (read_entry(json_array_get(nodes, i), path, i, &e, err, errlen))
			goto out_free;
		if (ovr_find(o, e.pool, e.node)) {
			bad(err, errlen, path, i, "a second entry for this pool and node");
			goto out_free;
		}
		o->v[o->n++] = e;
	}
	json_decref(doc);
	return 0;
out_free:
	ovr_free(o);
out:
	json_decref(doc);
	return rc;
}

void ovr_set_aside(const char *dir)
{
	char from[4096], to[4200];

	snprintf(from, sizeof(from), "%s/%s", dir, OVR_FILE);
	snprintf(to, sizeof(to), "%s.refused", from);
	rename(from, to);
}

/* ---- for people ---- */

#define OVR_WHAT_MAX (2 * TABLES_NAME_MAX + 24)

/* "core/b1 draining", ...: what an entry changes, one string each. */
static int changes_of(const struct ovr_node *e, char what[4][OVR_WHAT_MAX])
{
	int n = 0;

	if (e->removed && !e->added)
		snprintf(what[n++], OVR_WHAT_MAX, "%s/%s removed", e->pool, e->node);
	if (e->added)
		snprintf(what[n++], OVR_WHAT_MAX, "%s/%s %s", e->pool, e->node,
			 e->removed ? "replaced" : "added");
	if (e->weighted && !e->added)
		snprintf(what[n++], OVR_WHAT_MAX, "%s/%s weight %u", e->pool, e->node, e->weight);
	if (e->drained)
		snprintf(what[n++], OVR_WHAT_MAX, "%s/%s draining", e->pool, e->node);
	if (e->disabled && n < 4)
		snprintf(what[n++], OVR_WHAT_MAX, "%s/%s disabled", e->pool, e->node);
	return n;
}

json_t *ovr_list_json(const struct overrides *o)
{
	json_t *a = json_array();

	for (uint32_t i = 0; a && i < o->n; i++) {
		char what[4][OVR_WHAT_MAX];
		int n = changes_of(&o->v[i], what);

		for (int k = 0; k < n; k++)
			json_array_append_new(a, json_string(what[k]));
	}
	return a;
}

void ovr_describe(const struct overrides *o, char *buf, size_t size)
{
	size_t len = 0;

	snprintf(buf, size, "none");
	for (uint32_t i = 0; i < o->n; i++) {
		char what[4][OVR_WHAT_MAX];
		int n = changes_of(&o->v[i], what);

		for (int k = 0; k < n && len < size; k++)
			len += (size_t)snprintf(buf + len, size - len, "%s%s", len ? ", " : "", what[k]);
	}
}
