/* Pool management over the RPC (docs/siphond.md "Pool management",
 * docs/rpc.md): node.add, node.remove, node.weight, node.drain,
 * node.enable, node.disable and pool.list. A change is checked against the
 * running pools first (a refusal changes nothing and is counted), then
 * made an override of the config: persisted, and a new generation when
 * the tables change. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health_loop.h"
#include "siphon/maglev.h"
#include "siphond.h"

#define WEIGHT_MAX 65535 /* as the config's node weight */

const char *siphond_node_state(const struct health_node *n, const struct ovr_node *e)
{
	return e && e->drained && health_state_takes_calls(n->state) ? "draining"
								      : health_state_name(n->state);
}

/* A refused change: logged, counted, answered. */
static int refuse(struct siphond *d, struct rpc_error *err, enum rpc_code code,
		  const char *method, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int refuse(struct siphond *d, struct rpc_error *err, enum rpc_code code,
		  const char *method, const char *fmt, ...)
{
	char msg[RPC_MESSAGE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	d->c.pool_changes_refused++;
	siphond_log("%s refused: %s", method, msg);
	return rpc_fail(err, code, "%s", msg);
}

/* The pool and node a change names; a refusal (not_found) when missing. */
struct target {
	const char *pool, *node;
	struct hl_pool *p;
	int i; /* the node's index in p, -1: none */
};

static int find(struct siphond *d, const json_t *params, const char *method, bool need_node,
		struct target *t, struct rpc_error *err)
{
	struct health_set *s = d->hl->set;

	t->pool = json_string_value(json_object_get(params, "pool"));
	t->node = json_string_value(json_object_get(params, "node"));
	t->p = NULL, t->i = -1;
	for (uint32_t q = 0; q < s->n_pools && !t->p; q++)
		if (strcmp(s->pools[q].cp->name, t->pool) == 0)
			t->p = &s->pools[q];
	if (!t->p)
		return refuse(d, err, RPC_E_NOT_FOUND, method, "no pool named '%.64s'", t->pool);
	for (uint32_t i = 0; i < t->p->cp->n_nodes; i++)
		if (strcmp(t->p->cp->nodes[i].name, t->node) == 0)
			t->i = (int)i;
	if (need_node && t->i < 0)
		return refuse(d, err, RPC_E_NOT_FOUND, method, "pool %.64s has no node named '%.64s'",
			      t->pool, t->node);
	return 0;
}

/* The running overrides copied into next, to change, and t's entry in
 * them (a new one for a node the RPC never changed: the config's node,
 * as it runs). NULL with err set, next empty. */
static struct ovr_node *entry(struct siphond *d, struct overrides *next, const struct target *t,
			      const char *method, struct rpc_error *err)
{
	bool known = ovr_find(&d->ovr, t->pool, t->node) != NULL;
	struct ovr_node *e;

	if (ovr_copy(next, &d->ovr)) {
		rpc_fail(err, RPC_E_INTERNAL, "out of memory");
		return NULL;
	}
	e = ovr_get(next, t->pool, t->node);
	if (!e) {
		ovr_free(next);
		refuse(d, err, RPC_E_FAILED, method, "more than %d pool changes; reload to drop them",
		       OVR_MAX);
		return NULL;
	}
	if (!known && t->i >= 0) {
		e->in_config = true;
		e->config_weight = t->p->cp->nodes[t->i].weight;
	}
	return e;
}

/* A change that edits the config: compiled, persisted, published. */
static int apply(struct siphond *d, struct overrides *next, const char *method,
		 struct rpc_error *err)
{
	char msg[SIPHOND_ERR_MAX];
	int rc = siphond_pool_change(d, next, msg, sizeof(msg));

	if (rc == -ENOMEM)
		return rpc_fail(err, RPC_E_INTERNAL, "out of memory");
	if (rc < 0)
		return refuse(d, err, RPC_E_FAILED, method, "%.480s", msg);
	d->c.pool_changes++;
	return rc;
}

static void log_generation(struct siphond *d, const char *method, int rc)
{
	if (rc == 0)
		siphond_log("%s: generation %llu published (%zu bytes)", method,
			    (unsigned long long)d->cur->number, d->cur->len);
	else
		siphond_log("%s: the same tables; generation %llu stays", method,
			    (unsigned long long)d->cur->number);
}

/* A change of node states only (disable, enable): persisted, then the
 * health loop publishes as for a probe's verdict. */
static int set_states(struct siphond *d, struct overrides *next, const char *method,
		      struct rpc_error *err)
{
	char msg[SIPHOND_ERR_MAX];
	int rc = siphond_overrides_set(d, next, msg, sizeof(msg));

	if (rc)
		return refuse(d, err, RPC_E_FAILED, method, "%.480s", msg);
	d->c.pool_changes++;
	return 0;
}

static json_t *node_result(struct siphond *d, const struct target *t, const char *before,
			   const char *state, bool changed)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:b, s:I}", "pool", t->pool, "node", t->node, "before",
			 before, "state", state, "changed", changed, "generation",
			 (json_int_t)d->cur->number);
}

/* The node's state now, as pool.show says it. */
static const char *state_now(struct siphond *d, const struct target *t)
{
	struct health_set *s = d->hl->set;

	for (uint32_t q = 0; q < s->n_pools; q++)
		if (strcmp(s->pools[q].cp->name, t->pool) == 0)
			for (uint32_t i = 0; i < s->pools[q].cp->n_nodes; i++)
				if (strcmp(s->pools[q].cp->nodes[i].name, t->node) == 0)
					return siphond_node_state(&s->pools[q].nodes[i],
								  ovr_find(&d->ovr, t->pool, t->node));
	return "removed";
}

/* One log line a change of state: "node core/b1: active -> draining
 * (drained by rpc)", or the state alone when it stays (a drained node
 * that is inactive). */
static void log_state(struct siphond *d, const struct target *t, const char *before,
		      const char *verb)
{
	const char *now = state_now(d, t);

	if (strcmp(before, now) == 0)
		siphond_log("node %s/%s: %s (%s by rpc)", t->pool, t->node, now, verb);
	else
		siphond_log("node %s/%s: %s -> %s (%s by rpc)", t->pool, t->node, before, now, verb);
}

/* ---- node.add ---- */

/* "198.51.100.21", "198.51.100.21:5080", "[2001:db8::1]:5080", "2001:db8::1" */
static int parse_address(const char *text, char *addr, size_t size, uint16_t *port)
{
	const char *colon = strrchr(text, ':'), *end;
	const bool bracket = text[0] == '[';
	struct self_addr a;
	char *stop;
	unsigned long p = 5060;
	size_t n;

	if (bracket) {
		end = strchr(text, ']');
		if (!end || (end[1] && end[1] != ':'))
			return -EINVAL;
		colon = end[1] ? end + 1 : NULL;
		text++;
	} else {
		/* two colons or more: a bare IPv6 address, no port */
		end = colon && strchr(text, ':') == colon ? colon : text + strlen(text);
		colon = *end ? end : NULL;
	}
	n = (size_t)(end - text);
	if (n == 0 || n >= size)
		return -EINVAL;
	memcpy(addr, text, n);
	addr[n] = '\0';
	if (colon) {
		if (!colon[1] || colon[1] < '0' || colon[1] > '9')
			return -EINVAL;
		p = strtoul(colon + 1, &stop, 10);
		if (*stop || p < 1 || p > 65535)
			return -EINVAL;
	}
	if (config_parse_addr(addr, &a) || (bracket && a.family != AF_INET6))
		return -EINVAL;
	inet_ntop(a.family, a.addr, addr, (socklen_t)size); /* one spelling */
	*port = (uint16_t)p;
	return 0;
}

static bool is_name(const json_t *v)
{
	return config_valid_name(json_string_value(v));
}

static uint32_t all_nodes(const struct health_set *s)
{
	uint32_t n = 0;

	for (uint32_t q = 0; q < s->n_pools; q++)
		n += s->pools[q].cp->n_nodes;
	return n;
}

static int m_add(const json_t *params, void *ctx, json_t **result, struct rpc_error *err)
{
	struct siphond *d = ctx;
	const json_t *w = json_object_get(params, "weight"), *id = json_object_get(params, "id");
	const json_t *address = json_object_get(params, "address");
	const json_int_t weight = w ? json_integer_value(w) : 100;
	struct target t;
	struct overrides next;
	struct ovr_node *e;
	char addr[INET6_ADDRSTRLEN];
	uint16_t port;
	int rc = find(d, params, "node.add", false, &t, err);

	if (rc)
		return rc;
	if (!is_name(json_object_get(params, "node")))
		return refuse(d, err, RPC_E_BAD_PARAMS, "node.add", "params.node: '%.64s' is not a node "
			      "name (a letter, then letters, digits, '_' or '-'; at most %d)", t.node,
			      TABLES_NAME_MAX - 1);
	if (parse_address(json_string_value(address), addr, sizeof(addr), &port))
		return refuse(d, err, RPC_E_BAD_PARAMS, "node.add", "params.address: '%.80s' is not an "
			      "IPv4 or IPv6 address with an optional :PORT (1-65535; [IPv6]:PORT)",
			      json_string_value(address));
	if (id && !is_name(id))
		return refuse(d, err, RPC_E_BAD_PARAMS, "node.add", "params.id: '%.64s' is not a "
			      "node-id token (a letter, then letters, digits, '_' or '-')",
			      json_string_value(id));
	if (t.i >= 0)
		return refuse(d, err, RPC_E_FAILED, "node.add", "pool %s already has a node named '%s'",
			      t.pool, t.node);
	const char *nid = id ? json_string_value(id) : t.node;
	for (uint32_t i = 0; i < t.p->cp->n_nodes; i++) {
		const struct cfg_node *cn = &t.p->cp->nodes[i];
		struct self_addr a;

		if (strcmp(cn->id, nid) == 0)
			return refuse(d, err, RPC_E_FAILED, "node.add", "pool %s: the id '%s' is node "
				      "%s's (ids are unique in a pool)", t.pool, nid, cn->name);
		if (config_parse_addr(addr, &a) == 0 && cn->port == port &&
		    memcmp(&cn->addr, &a, sizeof(a)) == 0)
			return refuse(d, err, RPC_E_FAILED, "node.add", "pool %s: %s port %u is node "
				      "%s's address already", t.pool, addr, port, cn->name);
	}
	if (t.p->cp->n_nodes >= MAGLEV_MAX_NODES || all_nodes(d->hl->set) >= TABLES_MAX_NODES)
		return refuse(d, err, RPC_E_FAILED, "node.add", "too many nodes: pool %s has %u, all "
			      "pools %u (at most %u in a pool, %u in all)", t.pool, t.p->cp->n_nodes,
			      all_nodes(d->hl->set), MAGLEV_MAX_NODES, TABLES_MAX_NODES);
	e = entry(d, &next, &t, "node.add", err);
	if (!e)
		return -EINVAL;
	/* a config node of that name removed before: `removed` stays (replaced) */
	e->added = e->weighted = true;
	e->drained = e->disabled = false;
	snprintf(e->address, sizeof(e->address), "%s", addr);
	snprintf(e->id, sizeof(e->id), "%s", nid);
	e->port = port;
	e->weight = (uint32_t)weight;
	rc = apply(d, &next, "node.add", err);
	if (rc < 0)
		return rc;
	siphond_log("node %s/%s added by rpc: %s%s%s:%u weight %lld id %s", t.pool, t.node,
		    strchr(addr, ':') ? "[" : "", addr, strchr(addr, ':') ? "]" : "", port,
		    (long long)weight, nid);
	log_generation(d, "node.add", rc);
	*result = json_pack("{s:s, s:s, s:s, s:i, s:I, s:s, s:s, s:b, s:I}", "pool", t.pool, "node",
			    t.node, "address", addr, "port", port, "weight", (json_int_t)weight, "id",
			    nid, "state", state_now(d, &t), "changed", true, "generation",
			    (json_int_t)d->cur->number);
	return *result ? 0 : -ENOMEM;
}

/* ---- node.remove ---- */

static int m_remove(const json_t *params, void *ctx, json_t **result, struct rpc_error *err)
{
	struct siphond *d = ctx;
	struct target t;
	struct overrides next;
	struct ovr_node *e;
	const char *before;
	int rc = find(d, params, "node.remove", true, &t, err);

	if (rc)
		return rc;
	if (t.p->cp->n_nodes == 1)
		return refuse(d, err, RPC_E_FAILED, "node.remove", "%s/%s is the last node of pool %s: "
			      "a pool keeps one; `node disable` or `node drain` takes it out (new calls "
			      "then go to the fallback, or get a 503)", t.pool, t.node, t.pool);
	before = state_now(d, &t);
	e = entry(d, &next, &t, "node.remove", err);
	if (!e)
		return -EINVAL;
	/* an added node is forgotten; a config node (or one that replaced it) removed */
	if (e->added)
		e->added = false;
	else
		e->removed = true;
	e->weighted = e->drained = e->disabled = false;
	ovr_tidy(&next);
	rc = apply(d, &next, "node.remove", err);
	if (rc < 0)
		return rc;
	siphond_log("node %s/%s removed by rpc (it was %s)", t.pool, t.node, before);
	log_generation(d, "node.remove", rc);
	*result = node_result(d, &t, before, "removed", true);
	return *result ? 0 : -ENOMEM;
}

/* ---- node.weight ---- */

static int m_weight(const json_t *params, void *ctx, json_t **result, struct rpc_error *err)
{
	struct siphond *d = ctx;
	const json_int_t weight = json_integer_value(json_object_get(params, "weight"));
	struct target t;
	struct overrides next;
	struct ovr_node *e;
	uint32_t was, in_config;
	int rc = find(d, params, "node.weight", true, &t, err);

	if (rc)
		return rc;
	e = ovr_find(&d->ovr, t.pool, t.node);
	/* no entry: the node runs with the config's weight */
	in_config = e ? e->config_weight : t.p->cp->nodes[t.i].weight;
	was = e && e->weighted ? e->weight : in_config;
	if ((uint32_t)weight == was) {
		*result = json_pack("{s:s, s:s, s:I, s:I, s:s, s:b, s:I}", "pool", t.pool, "node",
				    t.node, "weight_before", (json_int_t)was, "weight",
				    (json_int_t)weight, "state", state_now(d, &t), "changed", false,
				    "generation", (json_int_t)d->cur->number);
		return *result ? 0 : -ENOMEM;
	}
	e = entry(d, &next, &t, "node.weight", err);
	if (!e)
		return -EINVAL;
	e->weight = (uint32_t)weight;
	/* back to the config's weight: no longer a change (an added node keeps it) */
	e->weighted = e->added || (uint32_t)weight != in_config;
	ovr_tidy(&next);
	rc = apply(d, &next, "node.weight", err);
	if (rc < 0)
		return rc;
	e = ovr_find(&d->ovr, t.pool, t.node);
	siphond_log("node %s/%s: weight %u -> %lld by rpc%s", t.pool, t.node, was, (long long)weight,
		    e && e->drained ? " (draining: it applies when the drain ends)" : "");
	log_generation(d, "node.weight", rc);
	*result = json_pack("{s:s, s:s, s:I, s:I, s:s, s:b, s:I}", "pool", t.pool, "node", t.node,
			    "weight_before", (json_int_t)was, "weight", (json_int_t)weight, "state",
			    state_now(d, &t), "changed", true, "generation",
			    (json_int_t)d->cur->number);
	return *result ? 0 : -ENOMEM;
}

/* ---- node.drain, node.enable, node.disable ---- */

static int m_drain(const json_t *params, void *ctx, json_t **result, struct rpc_error *err)
{
	struct siphond *d = ctx;
	struct target t;
	struct overrides next;
	struct ovr_node *e;
	const char *before;
	int rc = find(d, params, "node.drain", true, &t, err);

	if (rc)
		return rc;
	before = state_now(d, &t);
	if (t.p->nodes[t.i].state == HEALTH_DISABLED)
		return refuse(d, err, RPC_E_FAILED, "node.drain", "%s/%s is disabled: it takes no call "
			      "at all; `node enable` first to drain it", t.pool, t.node);
	e = ovr_find(&d->ovr, t.pool, t.node);
	if (e && e->drained) {
		*result = node_result(d, &t, before, before, false);
		return *result ? 0 : -ENOMEM;
	}
	e = entry(d, &next, &t, "node.drain", err);
	if (!e)
		return -EINVAL;
	e->drained = true;
	rc = apply(d, &next, "node.drain", err);
	if (rc < 0)
		return rc;
	log_state(d, &t, before, "drained");
	log_generation(d, "node.drain", rc);
	*result = node_result(d, &t, before, state_now(d, &t), true);
	return *result ? 0 : -ENOMEM;
}

static int admin(void *ctx, const json_t *params, bool enable, json_t **result,
		 struct rpc_error *err)
{
	struct siphond *d = ctx;
	const char *method = enable ? "node.enable" : "node.disable";
	struct target t;
	struct overrides next;
	struct ovr_node *e;
	struct health_node *n;
	const char *before;
	bool drained;
	int rc = find(d, params, method, true, &t, err);

	if (rc)
		return rc;
	n = &t.p->nodes[t.i];
	before = state_now(d, &t);
	e = ovr_find(&d->ovr, t.pool, t.node);
	drained = e && e->drained;
	if (enable ? !drained && n->state != HEALTH_DISABLED : n->state == HEALTH_DISABLED) {
		*result = node_result(d, &t, before, before, false);
		return *result ? 0 : -ENOMEM;
	}
	e = entry(d, &next, &t, method, err);
	if (!e)
		return -EINVAL;
	e->disabled = !enable;
	if (enable)
		e->drained = false; /* enable ends a drain */
	ovr_tidy(&next);
	if (enable && drained) {
		/* the node's weight comes back: the config edited again */
		rc = apply(d, &next, method, err);
		if (rc < 0)
			return rc;
		d->hl->c.admin++;
		log_state(d, &t, before, "enabled");
		log_generation(d, method, rc);
	} else {
		const enum health_state was = n->state;

		rc = set_states(d, &next, method, err);
		if (rc)
			return rc;
		if (enable)
			siphond_node_enable(d, n, t.p->cp->nodes[t.i].addr.family, health_now_ms());
		else
			health_disable(n, health_now_ms());
		d->hl->c.admin++;
		log_state(d, &t, before, enable ? "enabled" : "disabled");
		health_loop_changes(d, method);
		events_node_change(d, t.p, t.i, was); /* on_node_change (docs/siphond.md "Events") */
	}
	*result = node_result(d, &t, before, state_now(d, &t), true);
	return *result ? 0 : -ENOMEM;
}

static int m_enable(const json_t *params, void *ctx, json_t **result, struct rpc_error *err)
{
	return admin(ctx, params, true, result, err);
}

static int m_disable(const json_t *params, void *ctx, json_t **result, struct rpc_error *err)
{
	return admin(ctx, params, false, result, err);
}

/* ---- pool.list ---- */

static int m_list(const json_t *params, void *ctx, json_t **result, struct rpc_error *err)
{
	struct siphond *d = ctx;
	struct health_set *s = d->hl->set;
	json_t *pools = json_array();

	(void)params, (void)err;
	for (uint32_t q = 0; q < s->n_pools; q++) {
		const struct hl_pool *p = &s->pools[q];
		uint32_t draining = 0, inactive = 0, disabled = 0, changed = 0;
		json_t *nodes = json_array(), *o;

		for (uint32_t i = 0; i < p->cp->n_nodes; i++) {
			const struct ovr_node *e = ovr_find(&d->ovr, p->cp->name, p->cp->nodes[i].name);
			const char *st = siphond_node_state(&p->nodes[i], e);

			/* "node", not "name": the completion takes the pools' names */
			json_array_append_new(nodes, json_pack("{s:s, s:s}", "node",
							       p->cp->nodes[i].name, "state", st));
			draining += strcmp(st, "draining") == 0;
			inactive += p->nodes[i].state == HEALTH_INACTIVE;
			disabled += p->nodes[i].state == HEALTH_DISABLED;
		}
		for (uint32_t k = 0; k < d->ovr.n; k++)
			changed += strcmp(d->ovr.v[k].pool, p->cp->name) == 0;
		o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:s?}", "name", p->cp->name,
					 "nodes", (json_int_t)p->cp->n_nodes, "live",
					 (json_int_t)health_set_live(p), "draining",
					 (json_int_t)draining, "inactive", (json_int_t)inactive,
					 "disabled", (json_int_t)disabled, "changed", (json_int_t)changed,
					 "fallback",
					 p->cp->fallback >= 0 ? s->pools[p->cp->fallback].cp->name : NULL);
		if (o) {
			metrics_traffic_nodes(d, p->cp->name, nodes, "node", o);
			json_object_set_new(o, "traffic", nodes);
		} else {
			json_decref(nodes);
		}
		json_array_append_new(pools, o);
	}
	*result = json_pack("{s:I, s:o, s:o}", "generation", (json_int_t)d->cur->number, "changes",
			    ovr_list_json(&d->ovr), "pools", pools);
	return *result ? 0 : -ENOMEM;
}

static const struct rpc_param node_params[] = {
	{ "pool", RPC_STRING, true, "the pool's name" },
	{ "node", RPC_STRING, true, "the node's name in that pool" },
	{ NULL },
};

static const struct rpc_param add_params[] = {
	{ "pool", RPC_STRING, true, "the pool's name" },
	{ "node", RPC_STRING, true, "the new node's name, unique in the pool" },
	{ "address", RPC_STRING, true, "ADDRESS or ADDRESS:PORT ([IPv6]:PORT); port 5060 by default" },
	{ "weight", RPC_INTEGER, false, "its share of new calls; default 100", RPC_RANGE(0, WEIGHT_MAX) },
	{ "id", RPC_STRING, false, "its nid token, unique in the pool (default: its name)" },
	{ NULL },
};

static const struct rpc_param weight_params[] = {
	{ "pool", RPC_STRING, true, "the pool's name" },
	{ "node", RPC_STRING, true, "the node's name in that pool" },
	{ "weight", RPC_INTEGER, true, "its share of new calls", RPC_RANGE(0, WEIGHT_MAX) },
	{ NULL },
};

static const struct rpc_method methods[] = {
	{ "pool.list", m_list, NULL,
	  "The pools with their node counts: nodes, live (taking new calls), draining, inactive, "
	  "disabled, changed over the RPC; and the RPC's changes in force." },
	{ "node.add", m_add, add_params,
	  "Add a node to a pool: a new generation with it (probed at once); kept across a restart "
	  "until a reload. Refused: a name, id or address and port the pool has, a bad address or "
	  "weight, too many nodes." },
	{ "node.remove", m_remove, node_params,
	  "Remove a node from its pool (the pool's last node is refused: disable or drain it)." },
	{ "node.weight", m_weight, weight_params,
	  "Set a node's weight (0 to 65535): its share of new calls." },
	{ "node.drain", m_drain, node_params,
	  "No new call to the node, its dialogs still reach it (by nid, and for grace_s by the "
	  "previous table); `node.enable` ends the drain." },
	{ "node.enable", m_enable, node_params,
	  "End a drain, or give a disabled node back to the probes (inactive until `up` answers "
	  "in a row; active at once when nothing probes it). not_found for an unknown pool or "
	  "node." },
	{ "node.disable", m_disable, node_params,
	  "Take a node out whatever its probes say (it is no longer probed); a new generation "
	  "without it. not_found for an unknown pool or node." },
};

int pool_methods_add(struct siphond *d)
{
	return rpc_table_add(&d->table, methods, sizeof(methods) / sizeof(methods[0]), d);
}
