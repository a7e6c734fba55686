/* c-ares in siphond's poll loop (docs/dns.md): a `host` is one
 * getaddrinfo (A and/or AAAA), an `srv` a query for _sip._udp.DOMAIN's
 * SRV records, then a getaddrinfo per distinct target. Nothing blocks:
 * c-ares' sockets are in the poll set and its timers bound the wait. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "dns.h"
#include "health_loop.h"
#include "siphon/lane_limits.h"
#include "siphond.h"

/* What a c-ares callback needs to find its resolution again. */
struct qctx {
	struct dns *dns;
	unsigned slot;
	uint32_t serial;
	int target; /* SRV target index; -1: the query itself, or a host */
};

static void done(struct dns_entry *e)
{
	free(e->acc);
	free(e->srv);
	free(e->targets);
	e->acc = NULL, e->srv = NULL, e->targets = NULL;
	e->busy = false;
	e->pending = 0;
}

/* The callback's entry, or NULL when its resolution is over (the entry
 * was removed, or the channel destroyed: then resolved again soon). */
static struct dns_entry *entry_of(struct qctx *q, int status)
{
	struct dns_entry *e = &q->dns->e[q->slot];

	if (!e->used || !e->busy || e->serial != q->serial)
		return NULL;
	if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED) {
		done(e);
		e->due_ms = 0;
		return NULL;
	}
	return e;
}

static void fail(struct dns *dns, struct dns_entry *e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(struct dns *dns, struct dns_entry *e, const char *fmt, ...)
{
	const uint64_t now = health_now_ms();
	char text[sizeof(e->error)];
	uint32_t retry = DNS_RETRY_S;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	e->failures++;
	dns->c.failures++;
	/* once per run of the same error: a dead server is not a log line a try */
	if (!e->failing || strcmp(e->error, text) != 0)
		siphond_log("dns: %s/%s: %s; %s (%u node%s)", e->pool, e->spec.name, text,
			    e->answered ? "keeping the last answer" : "no answer yet",
			    e->n_nodes, e->n_nodes == 1 ? "" : "s");
	snprintf(e->error, sizeof(e->error), "%s", text);
	e->error_ms = now;
	e->failing = true;
	if (e->answered && e->ttl_s < retry)
		retry = e->ttl_s;
	e->due_ms = now + retry * 1000ull;
	done(e);
}

static void log_answer(const struct dns_entry *e, uint32_t before)
{
	char list[512] = "";
	size_t used = 0;

	for (uint32_t i = 0; i < e->n_nodes && used < sizeof(list) - 64; i++) {
		char a[INET6_ADDRSTRLEN];
		int n;

		inet_ntop(e->nodes[i].addr.family, e->nodes[i].addr.addr, a, sizeof(a));
		n = snprintf(list + used, sizeof(list) - used, "%s%s", i ? " " : "", a);
		if (e->spec.kind == CFG_NAME_SRV && n > 0)
			n += snprintf(list + used + n, sizeof(list) - used - n, ":%u/p%u/w%u",
				      e->nodes[i].port, e->nodes[i].priority, e->nodes[i].weight);
		used += n > 0 ? (size_t)n : 0;
	}
	siphond_log("dns: %s/%s: %s: %u -> %u node%s (TTL %u s)%s%s", e->pool, e->spec.name, e->query,
		    before, e->n_nodes, e->n_nodes == 1 ? "" : "s", e->ttl_s, e->n_nodes ? ": " : "",
		    list);
}

/* Every callback in: the answer, or the failure. */
static void finish(struct dns *dns, struct dns_entry *e)
{
	const uint64_t now = health_now_ms();
	uint32_t dropped, n, before = e->n_nodes;

	if (e->n_acc == 0 && e->acc_error[0]) {
		fail(dns, e, "%s", e->acc_error);
		return;
	}
	if (e->n_acc == 0 && e->spec.kind == CFG_NAME_HOST) {
		fail(dns, e, "%s: no %saddress", e->query,
		     e->spec.family == AF_INET ? "IPv4 " : e->spec.family == AF_INET6 ? "IPv6 " : "");
		return;
	}
	n = dns_nodes_finish(e->acc, e->n_acc, DNS_MAX_NODES, &dropped);
	e->dropped += dropped;
	if (dropped)
		siphond_log("dns: %s/%s: %s: %u addresses over %d left out", e->pool, e->spec.name,
			    e->query, dropped, DNS_MAX_NODES);
	if (e->failing)
		siphond_log("dns: %s/%s: %s resolves again", e->pool, e->spec.name, e->query);
	/* a target that failed beside others that answered: kept as the last error */
	if (e->acc_error[0]) {
		snprintf(e->error, sizeof(e->error), "%s", e->acc_error);
		e->error_ms = now;
	}
	e->ttl_s = dns_ttl_clamp(e->acc_ttl);
	if (!e->answered || !dns_nodes_equal(e->nodes, e->n_nodes, e->acc, n)) {
		memcpy(e->nodes, e->acc, n * sizeof(*e->nodes));
		e->n_nodes = n;
		e->changes++;
		dns->c.changes++;
		dns->changed = true;
		log_answer(e, before);
	}
	e->answered = true;
	e->failing = false;
	e->answered_ms = now;
	e->due_ms = now + e->ttl_s * 1000ull;
	done(e);
}

static void add(struct dns_entry *e, const struct self_addr *a, const struct dns_srv_rec *r)
{
	if (e->n_acc >= DNS_MAX_TARGETS * DNS_MAX_ADDRS)
		return;
	e->acc[e->n_acc++] = (struct cfg_resolved){
		.addr = *a,
		.port = r ? r->port : 0,
		.priority = r ? r->priority : 0,
		.weight = r ? dns_srv_weight(r->weight) : 0,
	};
}

static void on_addrs(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
	struct qctx *q = arg;
	struct dns_entry *e = entry_of(q, status);
	const char *host;
	unsigned n = 0;

	(void)timeouts;
	if (!e)
		goto out;
	host = q->target < 0 ? e->spec.host : e->targets[q->target];
	if (status != ARES_SUCCESS) {
		snprintf(e->acc_error, sizeof(e->acc_error), "%s: %s", host, ares_strerror(status));
	} else {
		for (struct ares_addrinfo_node *a = res ? res->nodes : NULL; a; a = a->ai_next) {
			struct self_addr sa = { .family = a->ai_family };

			if (a->ai_family == AF_INET)
				memcpy(sa.addr, &((struct sockaddr_in *)a->ai_addr)->sin_addr, 4);
			else if (a->ai_family == AF_INET6)
				memcpy(sa.addr, &((struct sockaddr_in6 *)a->ai_addr)->sin6_addr, 16);
			else
				continue;
			if (e->spec.family != AF_UNSPEC && e->spec.family != a->ai_family)
				continue;
			if (n++ == DNS_MAX_ADDRS) {
				e->dropped++;
				continue;
			}
			if ((uint32_t)(a->ai_ttl < 0 ? 0 : a->ai_ttl) < e->acc_ttl)
				e->acc_ttl = (uint32_t)(a->ai_ttl < 0 ? 0 : a->ai_ttl);
			if (q->target < 0) {
				add(e, &sa, NULL);
				continue;
			}
			for (unsigned r = 0; r < e->n_srv; r++)
				if (e->srv[r].target == (unsigned)q->target)
					add(e, &sa, &e->srv[r]);
		}
	}
	if (--e->pending == 0)
		finish(q->dns, e);
out:
	if (res)
		ares_freeaddrinfo(res);
	free(q);
}

static void lookup_addrs(struct dns *dns, struct dns_entry *e, unsigned slot, int target)
{
	struct ares_addrinfo_hints hints = { .ai_family = e->spec.family };
	struct qctx *q = malloc(sizeof(*q));

	if (!q) {
		snprintf(e->acc_error, sizeof(e->acc_error), "out of memory");
		if (--e->pending == 0)
			finish(dns, e);
		return;
	}
	*q = (struct qctx){ dns, slot, e->serial, target };
	ares_getaddrinfo(dns->ch, target < 0 ? e->spec.host : e->targets[target], NULL, &hints,
			 on_addrs, q);
}

/* The SRV records: each distinct target is then looked up. */
static void on_srv(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct qctx *q = arg;
	struct dns_entry *e = entry_of(q, status);
	struct ares_srv_reply *list = NULL;
	unsigned targets;
	int rc;

	(void)timeouts;
	if (!e)
		goto out;
	if (status != ARES_SUCCESS) {
		fail(q->dns, e, "%s SRV: %s", e->query, ares_strerror(status));
		goto out;
	}
	rc = ares_parse_srv_reply(abuf, alen, &list);
	if (rc != ARES_SUCCESS) {
		fail(q->dns, e, "%s SRV: %s", e->query, ares_strerror(rc));
		goto out;
	}
	if (dns_answer_min_ttl(abuf, (size_t)alen, DNS_TYPE_SRV, &e->acc_ttl) != 0)
		e->acc_ttl = DNS_TTL_MIN_S; /* the records came by a CNAME: no TTL of their own */
	for (struct ares_srv_reply *r = list; r; r = r->next) {
		unsigned t;

		/* "." : the service is decidedly not there (RFC 2782) */
		if (!r->host[0] || strcmp(r->host, ".") == 0)
			continue;
		if (e->n_srv == DNS_MAX_TARGETS) {
			e->dropped++;
			continue;
		}
		for (t = 0; t < e->n_targets && strcasecmp(e->targets[t], r->host) != 0; t++)
			;
		if (t == e->n_targets)
			snprintf(e->targets[e->n_targets++], sizeof(e->targets[0]), "%s", r->host);
		e->srv[e->n_srv++] = (struct dns_srv_rec){ t, r->priority, r->weight, r->port };
	}
	ares_free_data(list);
	if (e->n_targets == 0) {
		finish(q->dns, e);
		goto out;
	}
	/* every target in flight before any may finish the entry */
	targets = e->n_targets;
	e->pending = targets;
	for (unsigned t = 0; t < targets; t++)
		lookup_addrs(q->dns, e, (unsigned)(e - q->dns->e), (int)t);
out:
	free(q);
}

static void start(struct dns *dns, struct dns_entry *e)
{
	const unsigned slot = (unsigned)(e - dns->e);
	struct qctx *q;

	e->serial++;
	e->busy = true;
	e->pending = 1;
	e->n_acc = e->n_srv = e->n_targets = 0;
	e->acc_ttl = UINT32_MAX;
	e->acc_error[0] = 0;
	e->resolutions++;
	dns->c.resolutions++;
	e->acc = calloc(DNS_MAX_TARGETS * DNS_MAX_ADDRS, sizeof(*e->acc));
	e->srv = calloc(DNS_MAX_TARGETS, sizeof(*e->srv));
	e->targets = calloc(DNS_MAX_TARGETS, sizeof(*e->targets));
	if (!dns->ch_ok || !e->acc || !e->srv || !e->targets) {
		fail(dns, e, "%s", dns->ch_ok ? "out of memory" : dns->ch_error);
		return;
	}
	if (e->spec.kind == CFG_NAME_HOST) {
		lookup_addrs(dns, e, slot, -1);
		return;
	}
	q = malloc(sizeof(*q));
	if (!q) {
		fail(dns, e, "out of memory");
		return;
	}
	*q = (struct qctx){ dns, slot, e->serial, -1 };
	ares_query(dns->ch, e->query, 1 /* IN */, DNS_TYPE_SRV, on_srv, q);
}

/* c-ares' sockets are not to be inherited by on_node_change commands. */
static int cloexec(ares_socket_t fd, int type, void *data)
{
	(void)type, (void)data;
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	return 0;
}

static void channel_close(struct dns *dns)
{
	if (dns->ch_ok)
		ares_destroy(dns->ch); /* callbacks run: ARES_EDESTRUCTION */
	dns->ch_ok = false;
	dns->n_socks = 0;
}

/* A channel on the configured servers (only they are asked, not
 * /etc/hosts), or on the system's (/etc/resolv.conf, /etc/hosts). */
static void channel_open(struct dns *dns, const char *servers)
{
	struct ares_options o = { .timeout = DNS_TIMEOUT_MS, .tries = 2, .lookups = (char *)"b" };
	int mask = ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | (servers[0] ? ARES_OPT_LOOKUPS : 0);
	int rc = ares_init_options(&dns->ch, &o, mask);

	snprintf(dns->servers, sizeof(dns->servers), "%s", servers);
	if (rc == ARES_SUCCESS && servers[0])
		rc = ares_set_servers_ports_csv(dns->ch, servers);
	if (rc != ARES_SUCCESS) {
		snprintf(dns->ch_error, sizeof(dns->ch_error), "resolver: %s", ares_strerror(rc));
		siphond_log("dns: %s; names are not resolved", dns->ch_error);
		if (rc != ARES_SUCCESS && dns->ch)
			ares_destroy(dns->ch);
		return;
	}
	ares_set_socket_callback(dns->ch, cloexec, NULL);
	dns->ch_ok = true;
	dns->ch_error[0] = 0;
}

int dns_open(struct siphond *d)
{
	d->dns = calloc(1, sizeof(*d->dns));
	if (!d->dns)
		return -ENOMEM;
	ares_library_init(ARES_LIB_INIT_ALL);
	channel_open(d->dns, d->cfg->dns_servers);
	return 0;
}

void dns_close(struct siphond *d)
{
	if (!d->dns)
		return;
	for (unsigned i = 0; i < CONFIG_MAX_NAMES; i++)
		d->dns->e[i].used = false; /* late callbacks find nothing */
	channel_close(d->dns);
	for (unsigned i = 0; i < CONFIG_MAX_NAMES; i++)
		done(&d->dns->e[i]);
	free(d->dns);
	d->dns = NULL;
	ares_library_cleanup();
}

void dns_sync(struct siphond *d)
{
	struct dns *dns = d->dns;
	bool keep[CONFIG_MAX_NAMES] = { false };

	if (!dns)
		return;
	if (strcmp(dns->servers, d->cfg->dns_servers) != 0) {
		siphond_log("dns: servers now %s", d->cfg->dns_servers[0] ? d->cfg->dns_servers
									    : "the system's");
		channel_close(dns);
		channel_open(dns, d->cfg->dns_servers);
		for (unsigned i = 0; i < CONFIG_MAX_NAMES; i++)
			dns->e[i].due_ms = 0;
	}
	/* names that stay keep their answer; the others go before new ones come */
	for (uint32_t p = 0; p < d->cfg->n_pools; p++)
		for (uint32_t k = 0; k < d->cfg->pools[p].n_names; k++) {
			struct dns_entry *e = dns_find(dns, d->cfg->pools[p].name,
						       &d->cfg->pools[p].names[k]);

			if (e)
				keep[e - dns->e] = true;
		}
	for (unsigned i = 0; i < CONFIG_MAX_NAMES; i++)
		if (dns->e[i].used && !keep[i]) {
			done(&dns->e[i]);
			dns->e[i].used = false;
			dns->e[i].serial++;
		}
	for (uint32_t p = 0; p < d->cfg->n_pools; p++)
		for (uint32_t k = 0; k < d->cfg->pools[p].n_names; k++) {
			const struct cfg_name *nm = &d->cfg->pools[p].names[k];
			struct dns_entry *e = dns_find(dns, d->cfg->pools[p].name, nm);

			if (!e) { /* a free one: there are as many as a config may have names */
				for (e = dns->e; e->used; e++)
					;
				*e = (struct dns_entry){ .used = true, .serial = e->serial + 1 };
				snprintf(e->pool, sizeof(e->pool), "%s", d->cfg->pools[p].name);
			}
			e->spec = *nm; /* port, weight, id, line may change under the same key */
			config_name_query(nm, e->query, sizeof(e->query));
		}
}

static void start_due(struct dns *dns, uint64_t now)
{
	for (unsigned i = 0; i < CONFIG_MAX_NAMES; i++)
		if (dns->e[i].used && !dns->e[i].busy && dns->e[i].due_ms <= now)
			start(dns, &dns->e[i]);
}

size_t dns_poll_fds(struct siphond *d, struct pollfd *fds, size_t n)
{
	struct dns *dns = d->dns;
	ares_socket_t socks[ARES_GETSOCK_MAXNUM];
	size_t k = 0;
	int bits;

	if (!dns || !dns->ch_ok)
		return 0;
	bits = ares_getsock(dns->ch, socks, ARES_GETSOCK_MAXNUM);
	dns->n_socks = 0;
	for (int i = 0; i < ARES_GETSOCK_MAXNUM && k < n && dns->n_socks < DNS_POLL_MAX; i++) {
		/* ARES_GETSOCK_WRITABLE shifts a signed 1 into bit 31 */
		short ev = (short)(((unsigned)bits & (1u << i) ? POLLIN : 0) |
				   ((unsigned)bits & (1u << (i + ARES_GETSOCK_MAXNUM)) ? POLLOUT : 0));

		if (!ev)
			continue;
		fds[k++] = (struct pollfd){ .fd = socks[i], .events = ev };
		dns->socks[dns->n_socks++] = socks[i];
	}
	return k;
}

int dns_timeout(const struct siphond *d, int max_ms)
{
	const struct dns *dns = d->dns;
	const uint64_t now = health_now_ms();
	uint64_t wait = (uint64_t)max_ms;
	struct timeval tv, *t;

	if (!dns)
		return max_ms;
	for (unsigned i = 0; i < CONFIG_MAX_NAMES; i++)
		if (dns->e[i].used && !dns->e[i].busy)
			wait = dns->e[i].due_ms <= now ? 0
			       : dns->e[i].due_ms - now < wait ? dns->e[i].due_ms - now : wait;
	if (dns->ch_ok && (t = ares_timeout(dns->ch, NULL, &tv)) != NULL) {
		uint64_t ms = (uint64_t)t->tv_sec * 1000 + (uint64_t)(t->tv_usec + 999) / 1000;

		wait = ms < wait ? ms : wait;
	}
	return (int)wait;
}

/* cfg (taken) becomes the running config as after a reload: node
 * states carried over by name (the RPC's disabled nodes stay so), the
 * running table kept as `previous` for grace_s; persisted, published. */
static int install(struct siphond *d, struct siphon_config *cfg, char *err, size_t errlen)
{
	struct health_set *hs = NULL;
	struct generation *g = NULL;
	bool unchanged = false;
	int rc = siphond_prepare(d, cfg, &d->ovr, &hs, &g, &unchanged, err, errlen);

	if (!rc && !unchanged && (rc = gen_persist(d->o.state_dir, g, err, errlen)) != 0)
		d->c.persist_failed++;
	if (rc) {
		gen_unref(g);
		health_set_free(hs);
		config_free(cfg);
		return rc;
	}
	siphond_adopt(d, cfg, hs);
	if (unchanged) {
		siphond_log("dns: the same tables; generation %llu stays",
			    (unsigned long long)d->cur->number);
		gen_unref(g);
		return 1;
	}
	siphond_log("dns: generation %llu published (%zu bytes)", (unsigned long long)g->number,
		    g->len);
	siphond_set_current(d, g);
	return 0;
}

/* The config rebuilt with the answers (from the tree as parsed and as
 * the RPC's changes edited it), installed like a reload. */
static void apply(struct siphond *d)
{
	struct siphon_config *cfg;
	struct config_error cerr;
	char err[SIPHOND_ERR_MAX];

	d->dns->changed = false;
	if (config_rebuild(d->cfg, dns_lookup, d->dns, &cfg, &cerr)) {
		d->dns->c.rebuild_failed++;
		siphond_log("dns: the answers do not make a config: %s; generation %llu stays",
			    cerr.text, (unsigned long long)d->cur->number);
		return;
	}
	int rc = install(d, cfg, err, sizeof(err));

	if (rc == 0)
		d->dns->c.generations++;
	if (rc < 0) {
		d->dns->c.rebuild_failed++;
		siphond_log("dns: no new generation: %s; generation %llu stays", err,
			    (unsigned long long)d->cur->number);
	}
}

void dns_handle(struct siphond *d, const struct pollfd *fds, size_t n)
{
	struct dns *dns = d->dns;

	if (!dns)
		return;
	for (size_t k = 0; dns->ch_ok && k < n; k++) {
		if (!fds[k].revents)
			continue;
		for (unsigned s = 0; s < dns->n_socks; s++)
			if (fds[k].fd == dns->socks[s]) {
				ares_process_fd(dns->ch,
						fds[k].revents & (POLLIN | POLLERR | POLLHUP) ? fds[k].fd
											 : ARES_SOCKET_BAD,
						fds[k].revents & POLLOUT ? fds[k].fd : ARES_SOCKET_BAD);
				break;
			}
	}
	if (dns->ch_ok)
		ares_process_fd(dns->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD); /* timeouts */
	start_due(dns, health_now_ms());
	if (dns->changed)
		apply(d);
}

void dns_start_wait(struct siphond *d, int ms)
{
	struct dns *dns = d->dns;
	const uint64_t end = health_now_ms() + (uint64_t)ms;
	struct siphon_config *cfg;
	struct config_error cerr;

	if (!dns || !d->cfg->n_names)
		return;
	dns_sync(d);
	start_due(dns, health_now_ms());
	for (;;) {
		struct pollfd fds[DNS_POLL_MAX];
		uint64_t now = health_now_ms();
		bool busy = false;
		size_t n;

		for (unsigned i = 0; i < CONFIG_MAX_NAMES; i++)
			busy |= dns->e[i].used && dns->e[i].busy;
		if (!busy || now >= end)
			break;
		n = dns_poll_fds(d, fds, DNS_POLL_MAX);
		int t = dns_timeout(d, (int)(end - now));
		poll(fds, n, t);
		for (size_t k = 0; k < n; k++)
			if (fds[k].revents)
				ares_process_fd(dns->ch,
						fds[k].revents & (POLLIN | POLLERR | POLLHUP) ? fds[k].fd
											 : ARES_SOCKET_BAD,
						fds[k].revents & POLLOUT ? fds[k].fd : ARES_SOCKET_BAD);
		ares_process_fd(dns->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	}
	dns->changed = false;
	if (config_rebuild(d->cfg, dns_lookup, dns, &cfg, &cerr)) {
		dns->c.rebuild_failed++;
		siphond_log("dns: the answers do not make a config: %s; starting without them",
			    cerr.text);
		return;
	}
	config_free(d->cfg);
	d->cfg = cfg;
}
