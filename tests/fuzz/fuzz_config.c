/* Fuzz harness over the config loader: the input, NUL-terminated, is a
 * config text for config_load_text(). Besides "no crash, no leak, no
 * sanitizer report", it checks what loading promises (abort() on a
 * breach): a refused config says why, naming the file; a loaded one has
 * consistent tables, a classifier that initialises, and a decision by a
 * rule for every message the scanner forwards. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz_check.h"

#include "siphon/classify.h"
#include "config.h"

const char *__lsan_default_suppressions(void);
const char *__lsan_default_options(void);

/* libconfig 1.5 leaks the string token it holds when a syntax error stops
 * the parse (hyperrealm/libconfig#142, fixed in 1.7 by #155). siphon owns
 * no memory libconfig allocates, so a leak with libconfig on its stack is
 * libconfig's. */
const char *__lsan_default_suppressions(void)
{
	return "leak:libconfig.so\n";
}

const char *__lsan_default_options(void)
{
	return "print_suppressions=0";
}

#define NAME "fuzz.conf"

/* Messages with the headers configs tend to name, requests and responses. */
static const char *const messages[] = {
	"OPTIONS sip:lb.example.com SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 203.0.113.20:5060;branch=z9hG4bK-ka1;rport\r\n"
	"Max-Forwards: 70\r\n"
	"From: <sip:keepalive@peer.example.net>;tag=ka-1\r\n"
	"To: <sip:lb.example.com>\r\n"
	"Call-ID: ka-1@203.0.113.20\r\n"
	"CSeq: 7 OPTIONS\r\n"
	"User-Agent: friendly-scanner\r\n"
	"Subject: hello, world\r\n"
	"Content-Length: 0\r\n"
	"\r\n",

	"INVITE sip:+15551230001@[2001:db8:10::10]:5060;user=phone SIP/2.0\r\n"
	"v: SIP/2.0/TLS [2001:db8:5::7]:5061;branch=z9hG4bK-i1\r\n"
	"f: \"sipvicious\"<sip:100@198.51.100.10>;tag=63306139\r\n"
	"t: <sip:+15551230001@198.51.100.10>\r\n"
	"i: 419238117765102854660412\r\n"
	"CSeq: 1 INVITE\r\n"
	"Route: <sip:core1.example.com;lr>\r\n"
	"Resource-Priority: esnet.0\r\n"
	"X-A: foo\r\n"
	" bar\r\n"
	"m: <sip:100@203.0.113.66:5070>\r\n"
	"s: urgent\r\n"
	"l: 4\r\n"
	"\r\n"
	"v=0\n",

	"SIP/2.0 200 OK\r\n"
	"Via: SIP/2.0/UDP 198.51.100.2:5060;branch=z9hG4bK-p1\r\n"
	"From: <sip:probe@example.com>;tag=p\r\n"
	"To: <sip:core1.example.com>;tag=c1\r\n"
	"Call-ID: probe-1\r\n"
	"CSeq: 1 OPTIONS\r\n"
	"Content-Length: 0\r\n"
	"\r\n",

	"X-FROB.1 sip:bob@example.com SIP/2.0\r\n"
	"Via: SIP/2.0/WS 192.0.2.7;branch=z9hG4bK-o1\r\n"
	"From: <sip:a@example.com>;tag=1\r\n"
	"To: <sip:bob@example.com>;tag=2\r\n"
	"Call-ID: odd-1\r\n"
	"CSeq: 3 X-FROB.1\r\n"
	"\r\n",
};

static const struct {
	int family;
	uint8_t src[16];
	enum transport transport;
} sources[] = {
	{ 0, { 0 }, TRANSPORT_UDP },
	{ AF_INET, { 192, 0, 2, 7 }, TRANSPORT_UDP },
	{ AF_INET, { 198, 51, 100, 2 }, TRANSPORT_TCP },
	{ AF_INET6, { 0x20, 0x01, 0x0d, 0xb8, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7 }, TRANSPORT_TLS },
};

static void check_term(const struct dnf_term *t, unsigned n_flags)
{
	for (unsigned b = n_flags; b < SIPHON_MAX_FLAGS; b++)
		CHECK(!flagset_has(&t->must, b) && !flagset_has(&t->must_not, b));
	for (unsigned w = 0; w < FLAGSET_WORDS; w++)
		CHECK((t->must.w[w] & t->must_not.w[w]) == 0);
}

static void check_tables(const struct siphon_config *cfg)
{
	const struct compiled_tables *t = &cfg->tables;
	uint16_t last = 0;

	CHECK(cfg->n_flags <= SIPHON_MAX_FLAGS && t->n_flags == cfg->n_flags);
	CHECK(cfg->n_rules >= 1 && t->n_rules == cfg->n_rules && cfg->n_rules <= TABLES_MAX_RULES);
	CHECK(t->n_rule_terms >= 1 && t->n_expr_terms <= TABLES_MAX_TERMS);
	CHECK(t->n_pools == cfg->n_pools);
	CHECK(t->headers.count <= SIP_EXTRA_MAX && t->n_methods <= TABLES_MAX_METHODS);
	for (uint32_t i = 0; i < cfg->n_flags; i++) {
		CHECK(cfg->flags[i].name[0] && cfg->flags[i].line > 0);
		CHECK((unsigned)cfg->flags[i].kind < FLAG_KIND__COUNT);
	}
	/* derived flags only read flags defined before them */
	for (uint32_t i = 0; i < t->n_expr_terms; i++) {
		const struct dnf_term *e = &t->expr_terms[i];
		CHECK(e->target < cfg->n_flags && cfg->flags[e->target].kind == FLAG_KIND_EXPR);
		check_term(e, e->target);
		CHECK(e->target >= last);
		last = e->target;
	}
	/* rule terms in rule order; the last rule is the default and holds always */
	last = 0;
	for (uint32_t i = 0; i < t->n_rule_terms; i++) {
		const struct dnf_term *r = &t->rule_terms[i];
		CHECK(r->target < cfg->n_rules && r->target >= last);
		check_term(r, cfg->n_flags);
		last = r->target;
	}
	CHECK(last == cfg->n_rules - 1);
	CHECK(flagset_empty(&t->rule_terms[t->n_rule_terms - 1].must) &&
	      flagset_empty(&t->rule_terms[t->n_rule_terms - 1].must_not));
	for (uint32_t i = 0; i < cfg->n_rules; i++) {
		const struct rule_action *a = &t->actions[i];
		CHECK((unsigned)a->kind < ACTION__COUNT);
		CHECK(cfg->rules[i].line > 0);
		if (a->kind == ACTION_POOL)
			CHECK(a->pool < cfg->n_pools);
		if (a->kind == ACTION_REPLY)
			CHECK(a->reply_code >= 100 && a->reply_code <= 699 && a->reply_reason[0] &&
			      memchr(a->reply_reason, 0, sizeof(a->reply_reason)));
		if (a->kind == ACTION_RATE_LIMIT)
			CHECK(a->rate_per_sec >= 1 && a->burst >= 1);
	}
	CHECK(action_is_terminal(t->actions[cfg->n_rules - 1].kind));
	/* nodes given by name are no node until resolved (docs/dns.md) */
	for (uint32_t i = 0; i < cfg->n_pools; i++) {
		CHECK(cfg->pools[i].n_nodes + cfg->pools[i].n_names >= 1);
		for (uint32_t k = 0; k < cfg->pools[i].n_nodes; k++)
			CHECK(cfg->pools[i].nodes[k].from_name < (int)cfg->pools[i].n_names);
	}
}

/* What siphond's resolver could answer for any name: IPv4 and IPv6
 * addresses, ports, priorities (the same answer for each). */
static uint32_t lookup(void *ctx, const char *pool, const struct cfg_name *name,
		       const struct cfg_resolved **out)
{
	static const struct cfg_resolved answer[] = {
		{ { AF_INET, { 198, 18, 0, 1 } }, 5060, 10, 60 },
		{ { AF_INET, { 198, 18, 0, 2 } }, 5062, 10, 1 },
		{ { AF_INET6, { 0x20, 0x01, 0x0d, 0xb8, [15] = 3 } }, 5060, 20, 5 },
	};

	(void)ctx, (void)pool;
	CHECK(name->host[0] && name->name[0] && name->id[0]);
	*out = answer;
	return 3;
}

/* The config rebuilt with its names resolved: consistent tables, every
 * resolved node named NAME@ADDRESS after its entry. */
static void check_rebuilt(const struct siphon_config *cfg)
{
	struct siphon_config *with;
	struct config_error err;
	int rc;

	if (!cfg->n_names)
		return;
	rc = config_rebuild(cfg, lookup, NULL, &with, &err);
	CHECK(memchr(err.text, 0, sizeof(err.text)) != NULL);
	if (rc) { /* limits, or a resolved name twice */
		CHECK(with == NULL && strncmp(err.text, NAME ":", strlen(NAME ":")) == 0);
		return;
	}
	check_tables(with);
	CHECK(with->n_names == cfg->n_names && with->n_pools == cfg->n_pools);
	for (uint32_t i = 0; i < with->n_pools; i++)
		for (uint32_t k = 0; k < with->pools[i].n_nodes; k++) {
			const struct cfg_node *n = &with->pools[i].nodes[k];

			if (n->from_name < 0)
				continue;
			CHECK(strchr(n->name, '@') && !strchr(n->id, '@') && !strchr(n->id, '.'));
			CHECK(strncmp(n->name, with->pools[i].names[n->from_name].name,
				      strlen(with->pools[i].names[n->from_name].name)) == 0);
		}
	config_free(with);
}

static void run_messages(const struct siphon_config *cfg, const struct classifier *cls)
{
	for (size_t m = 0; m < sizeof(messages) / sizeof(messages[0]); m++) {
		const uint8_t *buf = (const uint8_t *)messages[m];
		struct sip_msg msg;

		if (classifier_scan(cls, buf, strlen(messages[m]), &msg) != SIP_VERDICT_FORWARD)
			continue;
		for (size_t s = 0; s < sizeof(sources) / sizeof(sources[0]); s++) {
			struct packet_meta pm = { .family = sources[s].family,
						  .transport = sources[s].transport };
			struct flagset flags, again;
			struct decision d;

			memcpy(pm.src, sources[s].src, sizeof(pm.src));
			classify(cls, buf, &msg, &pm, &flags);
			for (unsigned b = cfg->n_flags; b < SIPHON_MAX_FLAGS; b++)
				CHECK(!flagset_has(&flags, b));
			again = flags;
			decide(&cfg->tables, &flags, &d);
			/* decide only adds derived flags */
			for (unsigned w = 0; w < FLAGSET_WORDS; w++)
				CHECK((again.w[w] & ~flags.w[w]) == 0);
			CHECK(d.rule >= 0 && (uint32_t)d.rule < cfg->n_rules);
			CHECK(action_is_terminal(cfg->tables.actions[d.rule].kind));
			CHECK(d.reason >= SIP_REASON_RULE_POOL && d.reason < SIP_REASON__COUNT &&
			      d.reason != SIP_REASON_RATE_LIMITED);
			CHECK(d.verdict == sip_reason_verdict(d.reason));
			for (unsigned i = 0; i < d.n_rate_limits; i++)
				CHECK(d.rate_limits[i] < d.rule &&
				      cfg->tables.actions[d.rate_limits[i]].kind == ACTION_RATE_LIMIT);
			/* the lazy evaluation (the fast path's) decides alike, and
			 * every flag it computed has this value */
			CHECK(cls->lazy_ok);
			{
				struct flag_eval e;
				struct decision ld;

				flag_eval_init(&e, cls, buf, &msg, &pm);
				decide_lazy(&e, &ld);
				CHECK(ld.rule == d.rule && ld.reason == d.reason &&
				      ld.verdict == d.verdict && ld.n_rate_limits == d.n_rate_limits);
				CHECK(memcmp(ld.rate_limits, d.rate_limits,
					     d.n_rate_limits * sizeof(d.rate_limits[0])) == 0);
				for (unsigned w = 0; w < FLAGSET_WORDS; w++)
					CHECK((e.value.w[w] & ~e.known.w[w]) == 0 &&
					      ((e.value.w[w] ^ flags.w[w]) & e.known.w[w]) == 0);
				flag_eval_all(&e);
				CHECK(flagset_equal(&e.value, &flags));
			}
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct siphon_config *cfg = NULL;
	struct config_error err;
	struct classifier cls;
	char *text = malloc(size + 1);
	int rc;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	memset(err.text, 'x', sizeof(err.text));
	rc = config_load_text(NAME, text, &cfg, &err);
	CHECK(memchr(err.text, 0, sizeof(err.text)) != NULL);
	if (rc) {
		CHECK(rc == -EINVAL || rc == -ENOMEM || rc == -ENOENT || rc == -EFBIG);
		CHECK(cfg == NULL);
		/* "fuzz.conf:LINE: ..." or "fuzz.conf: ..." */
		CHECK(strncmp(err.text, NAME ":", strlen(NAME ":")) == 0);
		CHECK(strlen(err.text) > strlen(NAME ": "));
		free(text);
		return 0;
	}
	CHECK(cfg != NULL);
	check_tables(cfg);
	check_rebuilt(cfg);
	CHECK(classifier_init(&cls, &cfg->tables) == 0);
	run_messages(cfg, &cls);
	classifier_free(&cls);
	config_free(cfg);
	free(text);
	return 0;
}
