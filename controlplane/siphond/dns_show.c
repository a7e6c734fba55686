/* The resolver's answers as the rest of siphond sees them: the lookup a
 * config is rebuilt with, SRV priority in the Maglev weights, pool.show's
 * "names" and state's "dns" (docs/dns.md). */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "dns.h"
#include "health_loop.h"
#include "siphond.h"

struct dns_entry *dns_find(struct dns *dns, const char *pool, const struct cfg_name *name)
{
	for (unsigned i = 0; dns && i < CONFIG_MAX_NAMES; i++) {
		struct dns_entry *e = &dns->e[i];

		if (e->used && e->spec.kind == name->kind && e->spec.family == name->family &&
		    strcmp(e->pool, pool) == 0 && strcmp(e->spec.name, name->name) == 0 &&
		    strcasecmp(e->spec.host, name->host) == 0)
			return e;
	}
	return NULL;
}

uint32_t dns_lookup(void *ctx, const char *pool, const struct cfg_name *name,
		    const struct cfg_resolved **out)
{
	const struct dns_entry *e = dns_find(ctx, pool, name);

	if (!e || !e->answered)
		return 0;
	*out = e->nodes;
	return e->n_nodes;
}

int dns_resolved_config(struct siphond *d, struct siphon_config **cfg, struct config_error *err)
{
	struct siphon_config *with;
	int rc;

	if (!(*cfg)->n_names || !d->dns)
		return 0;
	rc = config_rebuild(*cfg, dns_lookup, d->dns, &with, err);
	config_free(*cfg);
	*cfg = rc ? NULL : with;
	return rc;
}

bool dns_standby(const struct hl_pool *p, uint32_t i)
{
	const struct cfg_node *cn = &p->cp->nodes[i];
	bool live = false;
	uint16_t best = 0;

	if (cn->from_name < 0 || p->cp->names[cn->from_name].kind != CFG_NAME_SRV)
		return false;
	for (uint32_t j = 0; j < p->cp->n_nodes; j++)
		if (p->cp->nodes[j].from_name == cn->from_name &&
		    health_effective_weight(&p->nodes[j]) > 0 &&
		    (!live || p->cp->nodes[j].priority < best)) {
			best = p->cp->nodes[j].priority;
			live = true;
		}
	return live && cn->priority > best;
}

static const char *family_name(int family)
{
	return family == AF_INET ? "ipv4" : family == AF_INET6 ? "ipv6" : "any";
}

/* The running health set's pool of this name. */
static const struct hl_pool *hl_pool(const struct siphond *d, const char *name)
{
	for (uint32_t p = 0; d->hl && d->hl->set && p < d->hl->set->n_pools; p++)
		if (strcmp(d->hl->set->pools[p].cp->name, name) == 0)
			return &d->hl->set->pools[p];
	return NULL;
}

static json_t *nodes_json(const struct siphond *d, const struct dns_entry *e)
{
	const struct hl_pool *hp = hl_pool(d, e->pool);
	json_t *a = json_array();

	for (uint32_t i = 0; i < e->n_nodes; i++) {
		const struct cfg_resolved *r = &e->nodes[i];
		char name[TABLES_NAME_MAX], id[TABLES_NAME_MAX], addr[INET6_ADDRSTRLEN];
		int node = -1;

		config_resolved_name(&e->spec, r, name, id);
		inet_ntop(r->addr.family, r->addr.addr, addr, sizeof(addr));
		for (uint32_t k = 0; hp && k < hp->cp->n_nodes; k++)
			if (strcmp(hp->cp->nodes[k].name, name) == 0)
				node = (int)k;
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:i, s:I, s:i, s:b, s:b}", "name",
						   name, "id", id, "address", addr, "port",
						   e->spec.kind == CFG_NAME_HOST ? e->spec.port : r->port,
						   "weight", (json_int_t)(e->spec.kind == CFG_NAME_HOST
									? e->spec.weight
									: r->weight),
						   "priority", r->priority, "in_pool", node >= 0,
						   "standby", node >= 0 && dns_standby(hp, (uint32_t)node)));
	}
	return a;
}

static json_t *entry_json(const struct siphond *d, const struct dns_entry *e, uint64_t now)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:i, s:b, s:b, s:o, s:I, s:I, s:I, s:I, s:I}",
			      "node", e->spec.name, "kind", config_name_kind(e->spec.kind), "query",
			      e->query, "family", family_name(e->spec.family), "line", e->spec.line,
			      "answered", e->answered, "failing", e->failing, "nodes",
			      nodes_json(d, e), "ttl_s", (json_int_t)e->ttl_s, "resolutions",
			      (json_int_t)e->resolutions, "failures", (json_int_t)e->failures,
			      "changes", (json_int_t)e->changes, "dropped", (json_int_t)e->dropped);

	if (!o)
		return NULL;
	/* the time until the next resolution: the TTL left, or the retry */
	json_object_set_new(o, "ttl_left_s",
			    json_real(e->busy || e->due_ms <= now ? 0.0
								  : (double)(e->due_ms - now) / 1000.0));
	json_object_set_new(o, "resolving", json_boolean(e->busy));
	json_object_set_new(o, "answered_age_s",
			    e->answered ? json_real((double)(now - e->answered_ms) / 1000.0)
					: json_null());
	json_object_set_new(o, "last_error", e->error[0] ? json_string(e->error) : json_null());
	json_object_set_new(o, "last_error_age_s",
			    e->error[0] ? json_real((double)(now - e->error_ms) / 1000.0) : json_null());
	return o;
}

void dns_pool_show(struct siphond *d, json_t *result)
{
	const uint64_t now = health_now_ms();
	json_t *p;
	size_t i;

	json_array_foreach (json_object_get(result, "pools"), i, p) {
		const char *name = json_string_value(json_object_get(p, "name"));
		json_t *names = json_array();

		for (uint32_t q = 0; name && q < d->cfg->n_pools; q++) {
			const struct cfg_pool *cp = &d->cfg->pools[q];

			if (strcmp(cp->name, name) != 0)
				continue;
			for (uint32_t k = 0; k < cp->n_names; k++) {
				const struct dns_entry *e = dns_find(d->dns, name, &cp->names[k]);

				if (e)
					json_array_append_new(names, entry_json(d, e, now));
			}
		}
		json_object_set_new(p, "names", names);
	}
}

json_t *dns_counters_json(const struct siphond *d)
{
	const struct dns *dns = d->dns;
	unsigned names = 0;

	if (!dns)
		return json_null();
	for (unsigned i = 0; i < CONFIG_MAX_NAMES; i++)
		names += dns->e[i].used;
	return json_pack("{s:s, s:s?, s:I, s:I, s:I, s:I, s:I, s:I}", "servers",
			 dns->servers[0] ? dns->servers : "system", "error",
			 dns->ch_ok ? NULL : dns->ch_error, "names", (json_int_t)names, "resolutions",
			 (json_int_t)dns->c.resolutions, "failures", (json_int_t)dns->c.failures,
			 "changes", (json_int_t)dns->c.changes, "generations",
			 (json_int_t)dns->c.generations, "rebuild_failed",
			 (json_int_t)dns->c.rebuild_failed);
}
