/* Kamailio's dispatcher.list to a siphon config. A line is
 *     setid destination [flags [priority [attrs]]]
 * with '#' comments and blank lines; what maps and what does not is
 * docs/migrating.md. Everything not carried over becomes a note. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dispatcher_import.h"
#include "health.h"
#include "siphon/limits.h"
#include "siphon/maglev.h"
#include "siphon/tables.h"

/* Destination flags (Kamailio's dispatch.h). */
enum {
	DS_INACTIVE = 1,
	DS_TRYING = 2,
	DS_DISABLED = 4,
	DS_PROBING = 8,
	DS_NODNSARES = 16,
	DS_KNOWN = 31,
};

struct dest {
	int line;
	long set;
	char addr[INET6_ADDRSTRLEN];
	long port;
	long flags;
	long priority;
	long weight; /* -1: no weight= */
	char duid[TABLES_NAME_MAX]; /* a valid siphon id, or "" */
	char name[TABLES_NAME_MAX]; /* "n" + address + "-" + port */
	bool kept; /* written as a node */
};

struct imp {
	const char *name;
	struct dsi_result *r;
	size_t notes_cap;
	struct dest *d;
	size_t n, cap;
	int line;
	bool oom;
};

static void note(struct imp *im, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void note(struct imp *im, int line, const char *fmt, ...)
{
	struct dsi_result *r = im->r;
	va_list ap;

	if (r->n_notes == im->notes_cap) {
		size_t cap = im->notes_cap ? 2 * im->notes_cap : 16;
		struct dsi_note *n = realloc(r->notes, cap * sizeof(*n));

		if (!n) {
			im->oom = true;
			return;
		}
		r->notes = n;
		im->notes_cap = cap;
	}
	r->notes[r->n_notes].line = line;
	r->notes[r->n_notes].seq = (unsigned)r->n_notes;
	va_start(ap, fmt);
	vsnprintf(r->notes[r->n_notes].text, DSI_TEXT_MAX, fmt, ap);
	va_end(ap);
	r->n_notes++;
}

/* "NAME:LINE: what" (line 0: "NAME: what"); -EINVAL. */
static int fail_at(struct imp *im, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail_at(struct imp *im, int line, const char *fmt, ...)
{
	size_t size = sizeof(im->r->error);
	int k = line ? snprintf(im->r->error, size, "%s:%d: ", im->name, line)
		     : snprintf(im->r->error, size, "%s: ", im->name);
	va_list ap;

	if (k < 0 || (size_t)k >= size)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(im->r->error + k, size - (size_t)k, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

#define fail(im, ...) fail_at(im, (im)->line, __VA_ARGS__)

/* Decimal, a '-' only when min < 0, at most 10 digits, in [min, max]. */
static bool parse_num(const char *s, size_t len, long min, long max, long *out)
{
	bool neg = len && s[0] == '-' && min < 0;
	long v = 0;

	s += neg, len -= neg;
	if (len == 0 || len > 10)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	v = neg ? -v : v;
	if (v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* A node id: letters, digits, '-', '_', a letter first (docs/config.md). */
static bool valid_id(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= TABLES_NAME_MAX || !((*s | 0x20) >= 'a' && (*s | 0x20) <= 'z'))
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == n;
}

static bool host_name(const char *s)
{
	size_t n = strlen(s);

	return n && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") == n &&
	       strspn(s, "0123456789.") != n; /* all digits: a broken IPv4 address */
}

static bool eq(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && strncasecmp(s, word, len) == 0;
}

/* `transport=VALUE`: 1 carried, 0 left out (noted), or -EINVAL. */
static int transport(struct imp *im, const char *v, size_t len)
{
	if (eq(v, len, "udp"))
		return 1;
	if (eq(v, len, "tcp")) {
		note(im, im->line, "transport=tcp: siphon forwards each message over the transport it "
				   "came in on, and siphond probes over UDP");
		return 1;
	}
	if (eq(v, len, "tls") || eq(v, len, "sctp") || eq(v, len, "ws") || eq(v, len, "wss")) {
		note(im, im->line, "transport=%.*s: siphon balances UDP and TCP to the node's port and "
				   "siphond probes it over UDP: node left out", (int)len, v);
		return 0;
	}
	return fail(im, "transport '%.*s' is not udp, tcp, tls, sctp, ws or wss", (int)(len > 40 ? 40 : len), v);
}

/* sip:[user@]host[:port][;params] or sips:...; fills addr, port, name, kept. */
static int parse_uri(struct imp *im, const char *uri, struct dest *d)
{
	char host[256];
	unsigned char bin[16];
	const char *p, *end, *at = NULL;
	int family = 0, keep = 1;
	size_t n;

	if (strncasecmp(uri, "sip:", 4) == 0) {
		p = uri + 4;
	} else if (strncasecmp(uri, "sips:", 5) == 0) {
		p = uri + 5;
		note(im, im->line, "sips: (TLS): siphon balances UDP and TCP to the node's port and "
				   "siphond probes it over UDP: node left out");
		keep = 0;
	} else {
		return fail(im, "destination '%.80s' is not a sip: or sips: URI", uri);
	}
	for (const char *q = p; *q && *q != ';'; q++)
		if (*q == '@')
			at = q;
	if (at) {
		note(im, im->line, "user part '%.*s': siphon does not rewrite the Request-URI",
		     (int)(at - p > 80 ? 80 : at - p), p);
		p = at + 1;
	}
	if (*p == '[') {
		end = strchr(p, ']');
		n = end ? (size_t)(end - p - 1) : 0;
		if (!end || n >= sizeof(host))
			return fail(im, "destination '%.80s': '[' without ']'", uri);
		memcpy(host, p + 1, n);
		host[n] = 0;
		if (inet_pton(AF_INET6, host, bin) != 1)
			return fail(im, "destination '%.80s': '[%.80s]' is not an IPv6 address", uri, host);
		family = AF_INET6;
		p = end + 1;
	} else {
		n = strcspn(p, ":;");
		if (n == 0 || n >= sizeof(host))
			return fail(im, "destination '%.80s' has no host", uri);
		memcpy(host, p, n);
		host[n] = 0;
		p += n;
		if (inet_pton(AF_INET, host, bin) == 1)
			family = AF_INET;
		else if (!host_name(host))
			return fail(im, "destination '%.80s': host '%.80s' is neither an IP address nor "
					"a host name", uri, host);
	}
	d->port = 5060;
	if (*p == ':') {
		n = strcspn(++p, ";");
		if (!parse_num(p, n, 1, 65535, &d->port))
			return fail(im, "destination '%.80s': port '%.*s' is not a number from 1 to 65535",
				    uri, (int)(n > 20 ? 20 : n), p);
		p += n;
	}
	if (*p && *p != ';')
		return fail(im, "destination '%.80s': '%.40s' after the host", uri, p);
	while (*p == ';') {
		const char *par = ++p;

		n = strcspn(p, ";");
		p += n;
		if (n > 10 && strncasecmp(par, "transport=", 10) == 0) {
			int t = transport(im, par + 10, n - 10);

			if (t < 0)
				return t;
			keep &= t;
		} else if (n) {
			note(im, im->line, "URI parameter '%.*s': siphon forwards to the node's address and "
					   "port only", (int)(n > 80 ? 80 : n), par);
		}
	}
	if (keep && !family) {
		note(im, im->line, "host '%.80s' is a name: siphon needs an IP address: node left out",
		     host);
		keep = 0;
	}
	d->kept = keep;
	if (!family)
		return 0;
	inet_ntop(family, bin, d->addr, sizeof(d->addr));
	snprintf(d->name, sizeof(d->name), "n%s-%ld", d->addr, d->port);
	for (char *c = d->name; *c; c++)
		if (*c == '.' || *c == ':')
			*c = '-';
	return 0;
}

/* Why a known attribute has no equivalent. */
static const char *attr_why(const char *name, size_t len)
{
	static const struct {
		const char *name, *why;
	} known[] = {
		{ "maxload", "siphon keeps no call count per node" },
		{ "rweight", "siphon has no load-driven weight (a node lowers its share with RFC 7339 oc, docs/health.md)" },
		{ "cc", "siphon has no congestion control (a node lowers its share with RFC 7339 oc, docs/health.md)" },
		{ "socket", "siphon sends from the address the message came to, no socket per node" },
		{ "sockname", "siphon sends from the address the message came to, no socket per node" },
		{ "ping_from", "siphond's probes are from sip:siphon@ the balancer's control address" },
		{ "obproxy", "siphon sends straight to the node's address" },
	};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (eq(name, len, known[i].name))
			return known[i].why;
	return "no equivalent in siphon";
}

/* name=value;name=value: weight and duid carried, the rest noted. */
static int parse_attrs(struct imp *im, char *attrs, struct dest *d)
{
	bool seen_duid = false;
	char *p = attrs;

	while (*p) {
		size_t n = strcspn(p, ";"), klen;
		char *item = p;
		const char *eqs, *val;

		p += n + (p[n] == ';');
		item[n] = 0;
		if (!n)
			continue;
		eqs = strchr(item, '=');
		klen = eqs ? (size_t)(eqs - item) : n;
		val = eqs ? eqs + 1 : "";
		if (eq(item, klen, "weight")) {
			if (d->weight >= 0)
				return fail(im, "attribute weight given twice");
			if (!parse_num(val, strlen(val), 0, 65535, &d->weight))
				return fail(im, "weight '%.40s' is not a whole number from 0 to 65535", val);
		} else if (eq(item, klen, "duid")) {
			if (seen_duid)
				return fail(im, "attribute duid given twice");
			if (!*val)
				return fail(im, "duid is empty");
			seen_duid = true;
			if (valid_id(val))
				snprintf(d->duid, sizeof(d->duid), "%s", val);
			else
				note(im, im->line, "duid '%.80s': a node id is letters, digits, '-' and '_', a "
						   "letter first, at most 63: the node's id is its name", val);
		} else {
			note(im, im->line, "attribute '%.80s': %s", item, attr_why(item, klen));
		}
	}
	return 0;
}

static int parse_line(struct imp *im, char **tok, int ntok)
{
	struct dest d = { .line = im->line, .weight = -1 };
	int err;

	if (ntok < 2)
		return fail(im, "'%.80s' alone: a line is 'setid destination [flags [priority [attrs]]]'",
			    tok[0]);
	if (ntok > 5)
		return fail(im, "'%.80s' after the attributes: a line is 'setid destination [flags "
				"[priority [attrs]]]'", tok[5]);
	if (!parse_num(tok[0], strlen(tok[0]), 0, INT32_MAX, &d.set))
		return fail(im, "setid '%.80s' is not a whole number from 0 to 2147483647", tok[0]);
	err = parse_uri(im, tok[1], &d);
	if (err)
		return err;
	if (ntok > 2 && !parse_num(tok[2], strlen(tok[2]), 0, INT32_MAX, &d.flags))
		return fail(im, "flags '%.80s' is not a whole number from 0 to 2147483647", tok[2]);
	if (ntok > 3 && !parse_num(tok[3], strlen(tok[3]), INT32_MIN, INT32_MAX, &d.priority))
		return fail(im, "priority '%.80s' is not a whole number", tok[3]);
	if (ntok > 4 && (err = parse_attrs(im, tok[4], &d)))
		return err;
	if (d.flags & DS_INACTIVE)
		note(im, im->line, "flag 1 (inactive): siphond starts every node active and lets its "
				   "probes take it out");
	if (d.flags & DS_TRYING)
		note(im, im->line, "flag 2 (trying): siphond starts every node active and lets its "
				   "probes take it out");
	if (d.flags & ~(long)DS_KNOWN)
		note(im, im->line, "flags 0x%lx: not dispatcher flags siphon knows", d.flags & ~(long)DS_KNOWN);
	if (im->n == im->cap) {
		size_t cap = im->cap ? 2 * im->cap : 64;
		struct dest *nd = realloc(im->d, cap * sizeof(*nd));

		if (!nd)
			return -ENOMEM;
		im->d = nd;
		im->cap = cap;
	}
	im->d[im->n++] = d;
	return 0;
}

/* Splits text into lines and lines into tokens (in buf, a copy). */
static int parse_text(struct imp *im, char *buf, size_t len)
{
	char *line = buf, *end = buf + len;

	for (im->line = 1; line < end; im->line++) {
		char *nl = memchr(line, '\n', (size_t)(end - line)), *p, *stop;
		char *tok[6];
		int ntok = 0, err;

		stop = nl ? nl : end;
		if (stop > line && stop[-1] == '\r')
			stop--;
		*stop = 0; /* buf has one byte more than the text */
		for (p = line; p < stop;) {
			while (p < stop && (*p == ' ' || *p == '\t'))
				p++;
			if (p == stop || *p == '#')
				break;
			if (ntok < 6)
				tok[ntok++] = p;
			for (; p < stop && *p != ' ' && *p != '\t'; p++)
				if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
					return fail(im, "byte 0x%02x: a dispatcher.list line is printable ASCII "
							"outside its comments", (unsigned char)*p);
			*p = 0;
			p += p < stop;
		}
		if (ntok) {
			err = parse_line(im, tok, ntok);
			if (err)
				return err;
		}
		line = nl ? nl + 1 : end;
	}
	return 0;
}

static int by_set_line(const void *a, const void *b)
{
	const struct dest *x = a, *y = b;

	return x->set != y->set ? (x->set < y->set ? -1 : 1) : x->line - y->line;
}

/* Kept nodes by set, then name (so repeats are neighbours), then line. */
static int by_set_name(const void *a, const void *b)
{
	const struct dest *x = a, *y = b;
	int c;

	if (x->set != y->set)
		return x->set < y->set ? -1 : 1;
	if (x->kept != y->kept)
		return x->kept ? -1 : 1;
	c = strcmp(x->name, y->name);
	return c ? c : x->line - y->line;
}

static int by_line(const void *a, const void *b)
{
	const struct dsi_note *x = a, *y = b;

	return x->line != y->line ? x->line - y->line : (x->seq > y->seq) - (x->seq < y->seq);
}

/* One address:port once per set: a repeat is left out. */
static void drop_repeats(struct imp *im)
{
	const struct dest *prev = NULL;

	if (!im->n) /* im->d is NULL then, which qsort may not be given */
		return;
	qsort(im->d, im->n, sizeof(*im->d), by_set_name);
	for (size_t i = 0; i < im->n; i++) {
		struct dest *d = &im->d[i];

		if (!d->kept)
			continue;
		if (prev && prev->set == d->set && !strcmp(prev->name, d->name)) {
			note(im, d->line, "%s:%ld is line %d's destination too in set %ld: node left "
					  "out (weight= gives a node a larger share)", d->addr, d->port,
			     prev->line, d->set);
			d->kept = false;
			continue;
		}
		prev = d;
	}
	qsort(im->d, im->n, sizeof(*im->d), by_set_line);
}

/* A duid that equals another node's name or an earlier duid of the set
 * would make two nodes with one id: that node keeps its name as id. */
static void check_duids(struct imp *im, struct dest *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!s[i].kept || !s[i].duid[0])
			continue;
		for (size_t k = 0; k < n; k++) {
			if (s[k].kept && k != i &&
			    (!strcmp(s[k].name, s[i].duid) || (k < i && !strcmp(s[k].duid, s[i].duid)))) {
				note(im, s[i].line, "duid '%s' is another node's id in set %ld: the "
						    "node's id is its name", s[i].duid, s[i].set);
				s[i].duid[0] = 0;
				break;
			}
		}
	}
}

/* The notes of one set that only the whole set shows. */
static void set_notes(struct imp *im, struct dest *s, size_t n, bool probing)
{
	bool weighted = false, prio_differ = false;
	long prio = 0;
	size_t kept = 0;

	for (size_t i = 0; i < n; i++) {
		if (!s[i].kept)
			continue;
		if (kept++ && s[i].priority != prio)
			prio_differ = true;
		prio = s[i].priority;
		weighted |= s[i].weight >= 0;
	}
	if (!kept)
		note(im, s[0].line, "set %ld: no destination carried over: no pool for it", s[0].set);
	for (size_t i = 0; i < n; i++) {
		if (!s[i].kept)
			continue;
		if (prio_differ)
			note(im, s[i].line, "priority %ld: siphon keeps no order within a pool (Maglev "
					    "spreads calls by Call-ID), and set %ld's priorities differ",
			     s[i].priority, s[i].set);
		if (weighted && s[i].weight < 0 && !(s[i].flags & DS_DISABLED))
			note(im, s[i].line, "no weight= while other destinations of set %ld have one: "
					    "siphon gives it the default weight 100", s[i].set);
		if (probing && !(s[i].flags & (DS_PROBING | DS_DISABLED)))
			note(im, s[i].line, "no flag 8 (probing): dispatcher did not probe it, siphond "
					    "probes every node");
	}
}

static void write_node(FILE *f, const struct dest *d, bool last)
{
	fprintf(f, "\t\t{ name = \"%s\"; address = \"%s\"; port = %ld;", d->name, d->addr, d->port);
	if (d->flags & DS_DISABLED)
		fprintf(f, " weight = 0;");
	else if (d->weight >= 0)
		fprintf(f, " weight = %ld;", d->weight);
	if (d->duid[0])
		fprintf(f, " id = \"%s\";", d->duid);
	fprintf(f, " }%s  # line %d", last ? "" : ",", d->line);
	if (d->flags & DS_DISABLED) {
		fprintf(f, ": disabled (flag 4)");
		if (d->weight >= 0)
			fprintf(f, ", weight=%ld", d->weight);
	}
	fputc('\n', f);
}

static void write_config(FILE *f, const struct imp *im, const char *control)
{
	const char *base = strrchr(im->name, '/');
	const struct dsi_result *r = im->r;
	size_t i = 0;

	fprintf(f, "# siphon config written by siphonctl import-dispatcher from %s\n"
		   "# (docs/migrating.md): a pool per dispatcher set, named set<ID>, and a node\n"
		   "# per destination, named after its address and port.\n",
		base ? base + 1 : im->name);
	if (control)
		fprintf(f, "\nbalancer = {\n\tcontrol = [\"%s\"];  # where siphond's probes leave from\n};\n",
			control);
	fprintf(f, "\npools = (\n");
	for (size_t p = 0; p < r->n_pools; p++) {
		const struct dsi_pool *pool = &r->pools[p];
		unsigned written = 0;

		fprintf(f, "\t{ name = \"set%ld\";\n", pool->set);
		if (pool->probe)
			fprintf(f, "\t  # flag 8: probed. Kamailio's thresholds are in kamailio.cfg:\n"
				   "\t  # ds_ping_interval, ds_probing_threshold (down), ds_inactive_threshold (up)\n"
				   "\t  probe = { interval_ms = %u; timeout_ms = %u; down = %u; up = %u; };\n",
				HEALTH_INTERVAL_MS_DEFAULT, HEALTH_TIMEOUT_MS_DEFAULT, HEALTH_DOWN_DEFAULT,
				HEALTH_UP_DEFAULT);
		fprintf(f, "\t  nodes = (\n");
		for (; written < pool->n_nodes; i++) {
			if (im->d[i].set != pool->set || !im->d[i].kept)
				continue;
			written++;
			write_node(f, &im->d[i], written == pool->n_nodes);
		}
		fprintf(f, "\t  ); }%s\n", p + 1 < r->n_pools ? "," : "");
	}
	fprintf(f, ");\n\n"
		   "# Kamailio picks the set in its script (ds_select_dst); this route sends every\n"
		   "# message to set %ld: write the rules that choose (docs/config.md \"route\").\n"
		   "route = (\n\t{ then = \"pool set%ld\"; }\n);\n",
		r->pools[0].set, r->pools[0].set);
}

/* Pools from the sets with kept nodes; the set notes; the limits. */
static int make_pools(struct imp *im, const char *control)
{
	struct dsi_result *r = im->r;
	bool probing = false;
	size_t total = 0;
	int first_probe = 0;

	for (size_t i = 0; i < im->n; i++)
		if (im->d[i].kept && (im->d[i].flags & DS_PROBING)) {
			probing = true;
			if (!first_probe || im->d[i].line < first_probe)
				first_probe = im->d[i].line;
		}
	if (probing && !control)
		note(im, first_probe, "flag 8 (probing): siphond probes from balancer.control, which "
				      "dispatcher.list does not hold: give --control ADDR (without it "
				      "nothing is probed)");
	r->pools = calloc(TABLES_MAX_POOLS, sizeof(*r->pools));
	if (!r->pools)
		return -ENOMEM;
	for (size_t i = 0, j; i < im->n; i = j) {
		struct dsi_pool pool = { .set = im->d[i].set };

		for (j = i; j < im->n && im->d[j].set == im->d[i].set; j++) {
			if (!im->d[j].kept)
				continue;
			if (!pool.n_nodes++)
				pool.first_line = im->d[j].line;
			pool.probe |= (im->d[j].flags & DS_PROBING) != 0;
			im->line = im->d[j].line;
			if (pool.n_nodes > MAGLEV_MAX_NODES)
				return fail(im, "set %ld has more than %u destinations: siphon's limit "
						"for a pool", pool.set, MAGLEV_MAX_NODES);
			if (++total > TABLES_MAX_NODES)
				return fail(im, "more than %u destinations: siphon's limit",
					    TABLES_MAX_NODES);
		}
		check_duids(im, &im->d[i], j - i);
		set_notes(im, &im->d[i], j - i, probing);
		if (!pool.n_nodes)
			continue;
		if (r->n_pools == TABLES_MAX_POOLS)
			return fail_at(im, pool.first_line, "set %ld is the %dth set with a destination: "
					   "siphon has at most %d pools", pool.set,
				       TABLES_MAX_POOLS + 1, TABLES_MAX_POOLS);
		r->pools[r->n_pools++] = pool;
	}
	if (!r->n_pools)
		return fail_at(im, 0, "%s", im->n ? "no destination could be carried over: nothing to write"
						  : "no destination in it: nothing to write");
	return 0;
}

int dsi_import(const char *name, const char *text, size_t len, const char *control,
	       struct dsi_result *r)
{
	struct imp im = { .name = name, .r = r };
	unsigned char bin[16];
	char *buf = NULL, *out = NULL;
	size_t out_len = 0;
	FILE *f;
	int err;

	memset(r, 0, sizeof(*r));
	if (control && inet_pton(AF_INET, control, bin) != 1 && inet_pton(AF_INET6, control, bin) != 1)
		return fail_at(&im, 0, "control '%.80s' is not an IPv4 or IPv6 address", control);
	buf = malloc(len + 1);
	err = buf ? 0 : -ENOMEM;
	if (!err) {
		memcpy(buf, text, len);
		err = parse_text(&im, buf, len);
	}
	if (!err) {
		drop_repeats(&im);
		err = make_pools(&im, control);
	}
	if (!err) {
		f = open_memstream(&out, &out_len);
		err = f ? 0 : -ENOMEM;
		if (f) {
			write_config(f, &im, control);
			if (fclose(f) != 0)
				err = -ENOMEM;
		}
	}
	if (!err && im.oom)
		err = -ENOMEM;
	if (err == -ENOMEM)
		fail_at(&im, 0, "out of memory");
	if (err) {
		free(out);
		out = NULL;
		free(r->pools);
		r->pools = NULL;
		r->n_pools = 0;
	}
	r->config = out;
	if (r->n_notes)
		qsort(r->notes, r->n_notes, sizeof(*r->notes), by_line);
	free(im.d);
	free(buf);
	return err;
}

void dsi_result_free(struct dsi_result *r)
{
	free(r->config);
	free(r->notes);
	free(r->pools);
	memset(r, 0, sizeof(*r));
}
