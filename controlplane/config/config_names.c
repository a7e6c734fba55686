/* Nodes given by name (docs/dns.md): `host` (A/AAAA) and `srv` (a SIP
 * domain's _sip._udp SRV records) in a pool's `nodes`. The loader keeps
 * each as a cfg_name; what it resolved to (config_rebuild's lookup)
 * becomes nodes NAME@ADDRESS, in place of the entry, sorted by the
 * resolver, so that the same answer gives the same tables. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "config_load.h"
#include "maglev_build.h"

/* The longest suffix a resolved node's name and id get (docs/dns.md). */
#define NAME_SUFFIX_V4 22 /* "@255.255.255.255:65535" */
#define NAME_SUFFIX_V6 48 /* "@[" 39 "]:65535" */
#define ID_SUFFIX_V4   22 /* "-255-255-255-255_65535" */
#define ID_SUFFIX_V6   46 /* "-" 39 "_65535" */

const char *config_name_kind(enum cfg_name_kind kind)
{
	return kind == CFG_NAME_SRV ? "srv" : "host";
}

void config_name_query(const struct cfg_name *n, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s", n->kind == CFG_NAME_SRV ? "_sip._udp." : "", n->host);
}

void config_resolved_name(const struct cfg_name *n, const struct cfg_resolved *r,
			  char name[TABLES_NAME_MAX], char id[TABLES_NAME_MAX])
{
	const bool v6 = r->addr.family == AF_INET6;
	const uint16_t port = n->kind == CFG_NAME_HOST ? n->port : r->port;
	char text[INET6_ADDRSTRLEN] = "?", port_text[8] = "";

	inet_ntop(r->addr.family, r->addr.addr, text, sizeof(text));
	/* the port only when it is not SIP's own: the common case reads short */
	if (port != 5060)
		snprintf(port_text, sizeof(port_text), "%u", port);
	/* the loader made sure that both fit (load_named) */
	if (snprintf(name, TABLES_NAME_MAX, "%s@%s%s%s%s%s", n->name, v6 ? "[" : "", text,
		     v6 ? "]" : "", port_text[0] ? ":" : "", port_text) >= TABLES_NAME_MAX)
		name[TABLES_NAME_MAX - 1] = 0;
	/* a nid is a token: '.' and ':' become '-', the port follows a '_' */
	for (char *c = text; *c; c++)
		if (*c == '.' || *c == ':')
			*c = '-';
	if (snprintf(id, TABLES_NAME_MAX, "%s-%s%s%s", n->id, text, port_text[0] ? "_" : "",
		     port_text) >= TABLES_NAME_MAX)
		id[TABLES_NAME_MAX - 1] = 0;
}

/* A DNS name: labels of letters, digits, '-' and '_', 1-63 each, up to
 * 253 in all, an optional final dot; not an address (a last label of
 * digits alone). */
static bool valid_host(const char *h)
{
	size_t len = strlen(h), label = 0;
	bool digits = true;

	if (len == 0 || len > CONFIG_HOST_MAX || h[0] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = h[i];

		if (c == '.') {
			if (label == 0 && i + 1 < len)
				return false;
			if (i + 1 < len)
				label = 0, digits = true;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
		digits &= c >= '0' && c <= '9';
		if (++label > 63)
			return false;
	}
	return !digits;
}

static int load_family(struct loader *L, const config_setting_t *e, const char *where, int *family)
{
	const char *f;
	int err = cfg_string(L, e, where, "family", false, &f);

	*family = AF_UNSPEC;
	if (err || !f)
		return err;
	if (strcmp(f, "ipv4") == 0)
		*family = AF_INET;
	else if (strcmp(f, "ipv6") == 0)
		*family = AF_INET6;
	else if (strcmp(f, "any") != 0)
		return cfg_fail(L, config_setting_get_member(e, "family"),
				"%s: family: '%s' is not ipv4, ipv6 or any", where, f);
	return 0;
}

/* { name; host | srv; [family]; [port; weight] (host); [id] } */
static int load_named(struct loader *L, const config_setting_t *e, const char *pool,
		      struct cfg_name *n)
{
	char where[2 * TABLES_NAME_MAX + 16];
	const char *name, *host, *srv, *id;
	uint32_t port = cfg_int_default(KEYS_NODE, "port");
	uint32_t weight = cfg_int_default(KEYS_NODE, "weight");
	size_t name_room, id_room;
	int err;

	snprintf(where, sizeof(where), "pool %s: node", pool);
	err = cfg_string(L, e, where, "name", true, &name);
	if (err)
		return err;
	if (!cfg_valid_name(name, true))
		return cfg_fail(L, e, "%s: name: '%s' is not a node name", where, name);
	snprintf(where, sizeof(where), "pool %s: node %s", pool, name);
	err = cfg_string(L, e, where, "host", false, &host);
	if (!err)
		err = cfg_string(L, e, where, "srv", false, &srv);
	if (!err)
		err = cfg_string(L, e, where, "id", false, &id);
	if (!err)
		err = load_family(L, e, where, &n->family);
	if (err)
		return err;
	if (config_setting_get_member(e, "address") || (host && srv))
		return cfg_fail(L, e, "%s: give one of address, host and srv", where);
	if (config_setting_get_member(e, "mac"))
		return cfg_fail(L, e, "%s: mac: a node given by name has no fixed next hop (its "
				"addresses change); the kernel gives it", where);
	if (srv && (config_setting_get_member(e, "port") || config_setting_get_member(e, "weight")))
		return cfg_fail(L, e, "%s: port and weight come from the SRV records of '%s'", where,
				srv);
	err = cfg_int_key(L, e, where, KEYS_NODE, "port", &port);
	if (!err)
		err = cfg_int_key(L, e, where, KEYS_NODE, "weight", &weight);
	if (err)
		return err;
	if (!valid_host(host ? host : srv))
		return cfg_fail(L, e, "%s: %s: '%s' is not a DNS name (an address goes in 'address')",
				where, host ? "host" : "srv", host ? host : srv);
	if (id && !cfg_valid_name(id, true))
		return cfg_fail(L, e, "%s: id: '%s' is not a token of letters, digits, '-' or '_'",
				where, id);
	id = id ? id : name;
	/* NAME@ADDRESS:PORT and ID-ADDRESS_PORT must fit a node's name */
	name_room = TABLES_NAME_MAX - 1 - (n->family == AF_INET ? NAME_SUFFIX_V4 : NAME_SUFFIX_V6);
	id_room = TABLES_NAME_MAX - 1 - (n->family == AF_INET ? ID_SUFFIX_V4 : ID_SUFFIX_V6);
	if (strlen(name) > name_room || strlen(id) > id_room)
		return cfg_fail(L, e, "%s: a node given by name needs a name of at most %zu and an id "
				"of at most %zu characters%s, so that NAME@ADDRESS and ID-ADDRESS fit",
				where, name_room, id_room,
				n->family == AF_INET ? "" : " (family ipv4 allows longer ones)");
	snprintf(n->name, sizeof(n->name), "%s", name);
	snprintf(n->id, sizeof(n->id), "%s", id);
	snprintf(n->host, sizeof(n->host), "%s", host ? host : srv);
	n->kind = host ? CFG_NAME_HOST : CFG_NAME_SRV;
	n->port = (uint16_t)port;
	n->weight = weight;
	n->line = config_setting_source_line(e);
	return 0;
}

static bool is_named(const config_setting_t *e)
{
	return config_setting_type(e) == CONFIG_TYPE_GROUP &&
	       (config_setting_get_member(e, "host") || config_setting_get_member(e, "srv"));
}

/* A resolved address that the entry may use (a nat pool's names have a
 * family, and the resolver asks only for it). */
static bool usable(const struct cfg_name *n, const struct cfg_resolved *r)
{
	return (r->addr.family == AF_INET || r->addr.family == AF_INET6) &&
	       (n->family == AF_UNSPEC || n->family == r->addr.family) &&
	       (n->kind == CFG_NAME_HOST || r->port != 0);
}

static void expand(const struct cfg_name *n, int from, const struct cfg_resolved *r,
		   struct cfg_node *out)
{
	memset(out, 0, sizeof(*out));
	config_resolved_name(n, r, out->name, out->id);
	out->addr = r->addr;
	out->port = n->kind == CFG_NAME_HOST ? n->port : r->port;
	out->weight = n->kind == CFG_NAME_HOST ? n->weight : r->weight;
	out->priority = n->kind == CFG_NAME_HOST ? 0 : r->priority;
	out->from_name = from;
	out->line = n->line;
}

int load_pool_nodes(struct loader *L, const config_setting_t *nodes, struct cfg_pool *pool,
		    const char *where)
{
	const uint32_t n = (uint32_t)config_setting_length(nodes);
	struct cfg_node *literal = NULL;
	const struct cfg_resolved **res = NULL;
	uint32_t *n_res = NULL, *entry_of = NULL, total = 0, n_lit = 0, n_names = 0;
	int *fam = NULL, err = 0;

	if (n > MAGLEV_MAX_NODES)
		return cfg_fail(L, nodes, "%s: nodes: %u nodes; at most %u", where, n, MAGLEV_MAX_NODES);
	literal = calloc(n + 1, sizeof(*literal));
	pool->names = calloc(n + 1, sizeof(*pool->names));
	res = calloc(n + 1, sizeof(*res));
	n_res = calloc(n + 1, sizeof(*n_res));
	fam = calloc(n + 1, sizeof(*fam));
	if (!literal || !pool->names || !res || !n_res || !fam)
		err = cfg_fail(L, nodes, "%s: out of memory", where);
	for (uint32_t i = 0; !err && i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(nodes, i);
		struct cfg_name *nm = &pool->names[n_names];

		if (!is_named(e)) {
			err = load_node(L, e, pool->name, &literal[n_lit]);
			fam[i] = literal[n_lit++].addr.family;
			continue;
		}
		if (L->cfg->n_names >= CONFIG_MAX_NAMES)
			err = cfg_fail(L, e, "%s: more than %d nodes given by name in one config",
				       where, CONFIG_MAX_NAMES);
		if (!err)
			err = load_named(L, e, pool->name, nm);
		if (!err && pool->mode == POOL_MODE_NAT && nm->family == AF_UNSPEC)
			err = cfg_fail(L, e, "%s: node %s: mode nat needs family = \"ipv4\" or \"ipv6\" "
				       "for a node given by name (a nat pool is one family)", where,
				       nm->name);
		fam[i] = nm->family;
		pool->n_names = ++n_names;
		L->cfg->n_names++;
	}
	/* nat rewrites the destination address in place: one family */
	for (uint32_t i = 1; !err && pool->mode == POOL_MODE_NAT && i < n; i++)
		if (fam[i] != fam[0])
			err = cfg_fail(L, config_setting_get_elem(nodes, i), "%s: node %s: mode nat "
				       "cannot mix IPv4 and IPv6 nodes in one pool (a packet is "
				       "rewritten within its family); use two pools", where,
				       config_setting_get_string(config_setting_get_member(
					       config_setting_get_elem(nodes, i), "name")));
	/* what each name resolved to goes in place of its entry */
	for (uint32_t k = 0; !err && k < n_names; k++) {
		n_res[k] = L->lookup ? L->lookup(L->lookup_ctx, pool->name, &pool->names[k], &res[k])
				     : 0;
		total += n_res[k];
	}
	total += n_lit;
	if (!err && total > MAGLEV_MAX_NODES)
		err = cfg_fail(L, nodes, "%s: nodes: %u nodes with the names resolved; at most %u",
			       where, total, MAGLEV_MAX_NODES);
	if (!err && (!(pool->nodes = calloc(total + 1, sizeof(*pool->nodes))) ||
		     !(entry_of = calloc(total + 1, sizeof(*entry_of)))))
		err = cfg_fail(L, nodes, "%s: out of memory", where);
	for (uint32_t i = 0, lit = 0, named = 0; !err && i < n; i++) {
		if (!is_named(config_setting_get_elem(nodes, i))) {
			entry_of[pool->n_nodes] = i;
			pool->nodes[pool->n_nodes++] = literal[lit++];
			continue;
		}
		for (uint32_t r = 0; r < n_res[named]; r++)
			if (usable(&pool->names[named], &res[named][r])) {
				entry_of[pool->n_nodes] = i;
				expand(&pool->names[named], (int)named, &res[named][r],
				       &pool->nodes[pool->n_nodes++]);
			}
		named++;
	}
	for (uint32_t i = 0; !err && i < pool->n_nodes; i++)
		for (uint32_t k = 0; k < i; k++)
			if (!strcmp(pool->nodes[k].name, pool->nodes[i].name) ||
			    !strcmp(pool->nodes[k].id, pool->nodes[i].id)) {
				err = cfg_fail(L, config_setting_get_elem(nodes, entry_of[i]),
					       "%s: node %s: its name or id is used twice", where,
					       pool->nodes[i].name);
				break;
			}
	free(literal);
	free(res);
	free(n_res);
	free(fam);
	free(entry_of);
	return err;
}

bool cfg_srv_waits(const struct cfg_pool *p, uint32_t i)
{
	const struct cfg_node *n = &p->nodes[i];

	if (n->from_name < 0 || p->names[n->from_name].kind != CFG_NAME_SRV)
		return false;
	for (uint32_t k = 0; k < p->n_nodes; k++)
		if (p->nodes[k].from_name == n->from_name && p->nodes[k].weight > 0 &&
		    p->nodes[k].priority < n->priority)
			return true;
	return false;
}

const struct cfg_name *config_first_name(const struct siphon_config *cfg, const char **pool)
{
	for (uint32_t p = 0; p < cfg->n_pools; p++)
		if (cfg->pools[p].n_names) {
			*pool = cfg->pools[p].name;
			return &cfg->pools[p].names[0];
		}
	return NULL;
}
