/* Configs, flags and rules: configs built with config_load_text(), messages
 * written inline, decisions from classifier_scan + classify + decide, as
 * the fast path and `siphonctl explain` take them. expr_compile() on its
 * own is in test_rule_expr.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "siphon/classify.h"
#include "config.h"

static char edge_path[4096];

/* ---- the config under test, and running messages through it ---- */

static struct siphon_config *cfg;
static struct classifier cls;

static void drop_config(void)
{
	if (cfg) {
		classifier_free(&cls);
		config_free(cfg);
		cfg = NULL;
	}
}

static int teardown(void **state)
{
	(void)state;
	drop_config();
	return 0;
}

static void use_loaded(int rc, const struct config_error *err, const char *what)
{
	if (rc)
		fail_msg("config did not load: %s\n---\n%s", err->text, what);
	assert_non_null(cfg);
	assert_int_equal(classifier_init(&cls, &cfg->tables), 0);
}

static void use(const char *text)
{
	struct config_error err;

	drop_config();
	use_loaded(config_load_text("test.conf", text, &cfg, &err), &err, text);
}

static void use_edge(void)
{
	struct config_error err;

	drop_config();
	use_loaded(config_load(edge_path, &cfg, &err), &err, edge_path);
}

/* The error of a config that must not load. */
static const char *load_error(const char *text)
{
	static struct config_error err;
	struct siphon_config *c = NULL;
	int rc = config_load_text("test.conf", text, &c, &err);

	if (rc == 0) {
		config_free(c);
		fail_msg("config loaded but should not have:\n%s", text);
	}
	assert_int_equal(rc, -EINVAL);
	assert_null(c);
	return err.text;
}

#define assert_contains(hay, needle)                                                       \
	do {                                                                               \
		if (!strstr((hay), (needle)))                                              \
			fail_msg("'%s' does not contain '%s'", (hay), (needle));           \
	} while (0)

#define POOL \
	"pools = ( { name = \"core\"; nodes = ( { name = \"n1\"; address = \"198.51.100.21\"; } ); } );\n"
#define DEFAULT_ROUTE "route = ( { then = \"pool core\"; } );\n"

struct result {
	enum sip_verdict scan;
	enum sip_reason scan_reason;
	struct flagset flags;
	struct decision d;
};

static struct packet_meta meta(const char *src, enum transport tr)
{
	struct packet_meta pm = { .transport = tr };

	if (!src)
		return pm;
	if (inet_pton(AF_INET, src, pm.src) == 1) {
		pm.family = AF_INET;
	} else {
		assert_int_equal(inet_pton(AF_INET6, src, pm.src), 1);
		pm.family = AF_INET6;
	}
	return pm;
}

/* The lazy evaluation (the fast path's) against the result of classify +
 * decide: the same decision, every flag it computed with the same value,
 * and all of them once completed. Every run_*() checks it. */
static void check_lazy(const uint8_t *buf, const struct sip_msg *m, const struct packet_meta *pm,
		       const struct result *r)
{
	struct flag_eval e;
	struct decision d;

	assert_true(cls.lazy_ok);
	flag_eval_init(&e, &cls, buf, m, pm);
	decide_lazy(&e, &d);
	assert_int_equal(d.verdict, r->d.verdict);
	assert_int_equal(d.reason, r->d.reason);
	assert_int_equal(d.rule, r->d.rule);
	assert_int_equal(d.n_rate_limits, r->d.n_rate_limits);
	assert_memory_equal(d.rate_limits, r->d.rate_limits, d.n_rate_limits * sizeof(d.rate_limits[0]));
	for (unsigned i = 0; i < FLAGSET_WORDS; i++) {
		assert_int_equal(e.value.w[i] & ~e.known.w[i], 0);
		assert_int_equal(e.value.w[i], r->flags.w[i] & e.known.w[i]);
	}
	flag_eval_all(&e);
	assert_true(flagset_equal(&e.value, &r->flags));
}

static struct result run_pm(const char *msg, const struct packet_meta *pm)
{
	struct result r = { .d = { .rule = -1 } };
	struct sip_msg m;

	r.scan = classifier_scan(&cls, (const uint8_t *)msg, strlen(msg), &m);
	r.scan_reason = m.reason;
	if (r.scan == SIP_VERDICT_FORWARD) {
		classify(&cls, (const uint8_t *)msg, &m, pm, &r.flags);
		decide(&cfg->tables, &r.flags, &r.d);
		check_lazy((const uint8_t *)msg, &m, pm, &r);
	}
	return r;
}

static struct result run_bytes(const uint8_t *buf, size_t len, const char *src)
{
	struct packet_meta pm = meta(src, TRANSPORT_UDP);
	struct result r = { .d = { .rule = -1 } };
	struct sip_msg m;

	r.scan = classifier_scan(&cls, buf, len, &m);
	r.scan_reason = m.reason;
	if (r.scan == SIP_VERDICT_FORWARD) {
		classify(&cls, buf, &m, &pm, &r.flags);
		decide(&cfg->tables, &r.flags, &r.d);
		check_lazy(buf, &m, &pm, &r);
	}
	return r;
}

static struct result run_via(const char *msg, const char *src, enum transport tr)
{
	struct packet_meta pm = meta(src, tr);
	return run_pm(msg, &pm);
}

static struct result run_from(const char *msg, const char *src)
{
	return run_via(msg, src, TRANSPORT_UDP);
}

static struct result run(const char *msg)
{
	return run_via(msg, NULL, TRANSPORT_UDP);
}

/* The names of the set flags, in bit order, comma-separated; a bit past
 * the config's flags shows as ?N. */
static const char *names(const struct flagset *f)
{
	static char buf[4096];
	size_t n = 0;

	buf[0] = 0;
	for (unsigned i = 0; i < SIPHON_MAX_FLAGS; i++) {
		if (!flagset_has(f, i))
			continue;
		if (i < cfg->n_flags)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", n ? "," : "",
					      cfg->flags[i].name);
		else
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s?%u", n ? "," : "", i);
	}
	return buf;
}

#define assert_flags(res_, want)                                                     \
	do {                                                                         \
		struct result flags_of_ = (res_);                                    \
		assert_string_equal(names(&flags_of_.flags), (want));                \
	} while (0)

/* The rule that decided, by its line in the config text. */
static int rule_line(const struct result *r)
{
	assert_true(r->d.rule >= 0 && (unsigned)r->d.rule < cfg->n_rules);
	return cfg->rules[r->d.rule].line;
}

static const struct rule_action *action(const struct result *r)
{
	assert_true(r->d.rule >= 0 && (unsigned)r->d.rule < cfg->n_rules);
	return &cfg->tables.actions[r->d.rule];
}

static int flag_bit(const char *name)
{
	for (unsigned i = 0; i < cfg->n_flags; i++)
		if (strcmp(cfg->flags[i].name, name) == 0)
			return (int)i;
	fail_msg("no flag %s", name);
	return -1;
}

/* ---- messages ---- */

static char msgbuf[8192];

static const char *request_to(const char *method, const char *ruri, const char *to,
			      const char *headers)
{
	snprintf(msgbuf, sizeof(msgbuf),
		 "%s %s SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bK-t1;rport\r\n"
		 "Max-Forwards: 70\r\n"
		 "From: <sip:alice@example.net>;tag=f1\r\n"
		 "To: %s\r\n"
		 "Call-ID: t1@example.net\r\n"
		 "CSeq: 1 %s\r\n"
		 "%s"
		 "Content-Length: 0\r\n"
		 "\r\n",
		 method, ruri, to, method, headers ? headers : "");
	return msgbuf;
}

static const char *request(const char *method, const char *ruri, const char *headers)
{
	return request_to(method, ruri, "<sip:bob@example.com>", headers);
}

static const char *response(int status, const char *cseq_method, const char *via_host,
			    const char *headers)
{
	snprintf(msgbuf, sizeof(msgbuf),
		 "SIP/2.0 %d Whatever\r\n"
		 "Via: SIP/2.0/UDP %s;branch=z9hG4bK-t1\r\n"
		 "%s"
		 "From: <sip:alice@example.net>;tag=f1\r\n"
		 "To: <sip:bob@example.com>;tag=t9\r\n"
		 "Call-ID: t1@example.net\r\n"
		 "CSeq: 1 %s\r\n"
		 "Content-Length: 0\r\n"
		 "\r\n",
		 status, via_host, headers ? headers : "", cseq_method);
	return msgbuf;
}

/* ---- each flag kind ---- */

static void source_prefixes(void **state)
{
	(void)state;
	use("flags = (\n"
	    "  { name = \"NET\";    source = \"198.18.0.0/15\"; },\n"
	    "  { name = \"SUB\";    source = \"198.18.5.0/24\"; },\n"
	    "  { name = \"HOST\";   source = \"198.18.5.7\"; },\n"
	    "  { name = \"V6\";     source = \"2001:db8::/32\"; },\n"
	    "  { name = \"V6SUB\";  source = [\"2001:db8:5::/48\", \"203.0.113.0/24\"]; },\n"
	    "  { name = \"V6HOST\"; source = \"2001:db8:5::7/128\"; },\n"
	    "  { name = \"SAME\";   source = [\"198.18.5.0/24\", \"198.18.5.0/24\"]; }\n"
	    ");\n" POOL DEFAULT_ROUTE);
	const char *m = "BYE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 198.18.5.7\r\n"
			"From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n"
			"Call-ID: s1\r\nCSeq: 1 BYE\r\n\r\n";
	assert_flags(run_from(m, "198.18.5.7"), "NET,SUB,HOST,SAME");
	assert_flags(run_from(m, "198.18.5.6"), "NET,SUB,SAME");
	assert_flags(run_from(m, "198.18.5.8"), "NET,SUB,SAME");
	assert_flags(run_from(m, "198.18.5.255"), "NET,SUB,SAME");
	assert_flags(run_from(m, "198.18.6.0"), "NET");
	assert_flags(run_from(m, "198.18.4.255"), "NET");
	assert_flags(run_from(m, "198.18.0.0"), "NET");
	assert_flags(run_from(m, "198.19.255.255"), "NET");
	/* just outside the /15 on either side */
	assert_flags(run_from(m, "198.20.0.0"), "");
	assert_flags(run_from(m, "198.17.255.255"), "");
	assert_flags(run_from(m, "203.0.113.200"), "V6SUB");
	assert_flags(run_from(m, "203.0.112.255"), "");
	assert_flags(run_from(m, "2001:db8:5::7"), "V6,V6SUB,V6HOST");
	assert_flags(run_from(m, "2001:db8:5::6"), "V6,V6SUB");
	assert_flags(run_from(m, "2001:db8:5::8"), "V6,V6SUB");
	assert_flags(run_from(m, "2001:db8:5:ffff:ffff:ffff:ffff:ffff"), "V6,V6SUB");
	assert_flags(run_from(m, "2001:db8:4:ffff:ffff:ffff:ffff:ffff"), "V6");
	assert_flags(run_from(m, "2001:db8:6::"), "V6");
	assert_flags(run_from(m, "2001:db8::"), "V6");
	assert_flags(run_from(m, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"), "V6");
	assert_flags(run_from(m, "2001:db9::"), "");
	assert_flags(run_from(m, "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff"), "");
	/* an IPv4 address inside IPv6 is another address */
	assert_flags(run_from(m, "::ffff:198.18.5.7"), "");
	/* no source known (a file without --source) */
	assert_flags(run(m), "");
}

static void source_default_routes(void **state)
{
	(void)state;
	use("flags = (\n"
	    "  { name = \"ANY4\"; source = \"0.0.0.0/0\"; },\n"
	    "  { name = \"ANY6\"; source = \"::/0\"; },\n"
	    "  { name = \"TEST1\"; source = \"192.0.2.0/24\"; }\n"
	    ");\n" POOL DEFAULT_ROUTE);
	const char *m = request("INVITE", "sip:bob@example.com", NULL);
	assert_flags(run_from(m, "192.0.2.1"), "ANY4,TEST1");
	assert_flags(run_from(m, "198.51.100.1"), "ANY4");
	assert_flags(run_from(m, "2001:db8::1"), "ANY6");
	assert_flags(run(m), "");
}

static void method_names(void **state)
{
	(void)state;
	use("flags = (\n"
	    "  { name = \"INV\";    method = \"INVITE\"; },\n"
	    "  { name = \"ENDS\";   method = [\"BYE\", \"CANCEL\"]; },\n"
	    "  { name = \"ODD\";    method = \"X-FROB.1\"; },\n"
	    "  { name = \"LOWER\";  method = \"invite\"; },\n"
	    "  { name = \"EITHER\"; method = [\"INVITE\", \"invite\"]; }\n"
	    ");\n" POOL DEFAULT_ROUTE);
	assert_flags(run(request("INVITE", "sip:bob@example.com", NULL)), "INV,EITHER");
	/* methods are case-sensitive: "invite" is another token */
	assert_flags(run(request("invite", "sip:bob@example.com", NULL)), "LOWER,EITHER");
	assert_flags(run(request("BYE", "sip:bob@example.com", NULL)), "ENDS");
	assert_flags(run(request("CANCEL", "sip:bob@example.com", NULL)), "ENDS");
	assert_flags(run(request("X-FROB.1", "sip:bob@example.com", NULL)), "ODD");
	assert_flags(run(request("X-FROB.2", "sip:bob@example.com", NULL)), "");
	assert_flags(run(request("INVITEX", "sip:bob@example.com", NULL)), "");
	assert_flags(run(request("INVIT", "sip:bob@example.com", NULL)), "");
	assert_flags(run(request("OPTIONS", "sip:bob@example.com", NULL)), "");
	/* a response has the method of its CSeq */
	assert_flags(run(response(200, "INVITE", "203.0.113.5", NULL)), "INV,EITHER");
	assert_flags(run(response(487, "CANCEL", "203.0.113.5", NULL)), "ENDS");
	assert_flags(run(response(200, "X-FROB.1", "203.0.113.5", NULL)), "ODD");
	assert_flags(run(response(200, "REGISTER", "203.0.113.5", NULL)), "");
}

static const char *balancer =
	"balancer = {\n"
	"  addresses = [\"198.51.100.10\", \"2001:db8:10::10\"];\n"
	"  names = [\"lb.example.com\", \"SIP.Example.Com\"];\n"
	"  control = [\"198.51.100.2\", \"2001:db8:10::2\"];\n"
	"};\n";

static void to_self_by_address_and_name(void **state)
{
	static const struct {
		const char *ruri;
		bool self;
	} cases[] = {
		{ "sip:198.51.100.10", true },
		{ "sip:198.51.100.10:5060", true },
		{ "sip:alice@198.51.100.10", true },
		{ "sip:alice@198.51.100.10:5070;transport=udp", true },
		{ "sips:alice:secret@198.51.100.10;lr", true },
		{ "sip:198.51.100.10?Subject=hi", true },
		{ "sip:[2001:db8:10::10]", true },
		{ "sip:bob@[2001:db8:10::10]:5060", true },
		{ "sip:bob@[2001:DB8:10:0:0:0:0:10];transport=tcp", true },
		{ "sip:lb.example.com", true },
		{ "sip:LB.EXAMPLE.COM", true },
		{ "sip:100@Lb.Example.Com:5060;user=phone", true },
		{ "sip:sip.example.com", true },
		{ "sip:198.51.100.11", false },
		{ "sip:198.51.100.1", false },
		{ "sip:198.51.100.100", false },
		{ "sip:[2001:db8:10::11]", false },
		{ "sip:[2001:db8:10::10", false },
		{ "sip:xlb.example.com", false },
		{ "sip:lb.example.com.example.net", false },
		{ "sip:lb.example.co", false },
		{ "sip:bob@example.com", false },
		/* the VIP as user part names another host */
		{ "sip:198.51.100.10@example.com", false },
		{ "sip:lb.example.com@example.org", false },
		/* a control address is not where SIP arrives */
		{ "sip:198.51.100.2", false },
	};

	(void)state;
	char text[2048];
	snprintf(text, sizeof(text), "%sflags = ( { name = \"SELF\"; to_self = true; } );\n" POOL
		 DEFAULT_ROUTE, balancer);
	use(text);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct result r = run(request("OPTIONS", cases[i].ruri, NULL));
		if (r.scan != SIP_VERDICT_FORWARD)
			fail_msg("%s: scanner said %s", cases[i].ruri, sip_reason_name(r.scan_reason));
		if (flagset_has(&r.flags, 0) != cases[i].self)
			fail_msg("%s: to_self %s", cases[i].ruri, cases[i].self ? "missing" : "set");
	}
	/* responses are never "to" the balancer, whatever their To says */
	assert_flags(run(response(200, "OPTIONS", "198.51.100.10", NULL)), "");
}

static void self_flags_need_the_balancer_section(void **state)
{
	(void)state;
	/* a flag that could never be set is refused (docs/config.md, balancer) */
	assert_string_equal(load_error("flags = ( { name = \"SELF\"; to_self = true; } );\n" POOL
				       DEFAULT_ROUTE),
			    "test.conf:1: flag SELF: to_self needs balancer addresses or names");
	assert_string_equal(load_error("balancer = { addresses = \"198.51.100.10\"; };\n"
				       "flags = (\n { name = \"SELF\"; to_self = true; },\n"
				       " { name = \"PROBE\"; own_probe_answer = true; }\n);\n" POOL
				       DEFAULT_ROUTE),
			    "test.conf:4: flag PROBE: own_probe_answer needs balancer control addresses");
	/* names alone do for to_self */
	use("balancer = { names = \"lb.example.com\"; };\n"
	    "flags = ( { name = \"SELF\"; to_self = true; } );\n" POOL DEFAULT_ROUTE);
	assert_flags(run(request("OPTIONS", "sip:lb.example.com", NULL)), "SELF");
	assert_flags(run(request("OPTIONS", "sip:198.51.100.10", NULL)), "");
}

/* from the pool's node n1 */
static struct result from_node(const char *msg)
{
	return run_from(msg, "198.51.100.21");
}

static void own_probe_answer_by_top_via(void **state)
{
	(void)state;
	char text[2048];
	snprintf(text, sizeof(text), "%sflags = ( { name = \"PROBE\"; own_probe_answer = true; } );\n"
		 POOL DEFAULT_ROUTE, balancer);
	use(text);
	/* the node n1 (198.51.100.21) answers; the same Via from anyone else
	 * is not an answer to our probe (a Via is the sender's to write) */
	assert_flags(from_node(response(200, "OPTIONS", "198.51.100.2:5060", NULL)), "PROBE");
	assert_flags(run_from(response(200, "OPTIONS", "198.51.100.2:5060", NULL), "203.0.113.9"), "");
	assert_flags(run_from(response(200, "OPTIONS", "198.51.100.2:5060", NULL), "198.51.100.22"), "");
	assert_flags(run(response(200, "OPTIONS", "198.51.100.2:5060", NULL)), "");
	assert_flags(from_node(response(200, "OPTIONS", "198.51.100.2:5060", NULL)), "PROBE");
	assert_flags(from_node(response(200, "OPTIONS", "198.51.100.2", NULL)), "PROBE");
	assert_flags(from_node(response(503, "OPTIONS", "[2001:db8:10::2]:5060", NULL)), "PROBE");
	assert_flags(from_node(response(200, "INVITE", "198.51.100.2", NULL)), "PROBE");
	/* a VIP, a name, another address */
	assert_flags(from_node(response(200, "OPTIONS", "198.51.100.10", NULL)), "");
	assert_flags(from_node(response(200, "OPTIONS", "lb.example.com", NULL)), "");
	assert_flags(from_node(response(200, "OPTIONS", "198.51.100.3", NULL)), "");
	assert_flags(from_node(response(200, "OPTIONS", "[2001:db8:10::3]", NULL)), "");
	/* only the top Via counts */
	assert_flags(from_node(response(200, "OPTIONS", "203.0.113.5",
				  "Via: SIP/2.0/UDP 198.51.100.2;branch=z9hG4bK-p2\r\n")), "");
	assert_flags(from_node(response(200, "OPTIONS", "198.51.100.2, SIP/2.0/UDP 203.0.113.5",
				  NULL)), "PROBE");
	/* a request from a control address is not an answer */
	const char *req = "OPTIONS sip:core1.example.com SIP/2.0\r\n"
			  "Via: SIP/2.0/UDP 198.51.100.2:5060;branch=z9hG4bK-p1\r\n"
			  "From: <sip:probe@example.com>;tag=p\r\nTo: <sip:core1.example.com>\r\n"
			  "Call-ID: probe-1\r\nCSeq: 1 OPTIONS\r\n\r\n";
	assert_flags(from_node(req), "");
}

static void in_dialog_by_to_tag(void **state)
{
	(void)state;
	use("flags = ( { name = \"DIALOG\"; in_dialog = true; } );\n" POOL DEFAULT_ROUTE);
	assert_flags(run(request_to("BYE", "sip:bob@example.com", "<sip:bob@example.com>;tag=9x",
				    NULL)), "DIALOG");
	assert_flags(run(request_to("INVITE", "sip:bob@example.com", "<sip:bob@example.com>",
				    NULL)), "");
	assert_flags(run(request_to("INVITE", "sip:bob@example.com",
				    "<sip:bob@example.com;tag=in-uri>", NULL)), "");
	assert_flags(run(response(180, "INVITE", "203.0.113.5", NULL)), "DIALOG");
}

static void transport_of_arrival(void **state)
{
	(void)state;
	use("flags = (\n"
	    "  { name = \"SECURE\"; transport = [\"TLS\", \"wss\"]; },\n"
	    "  { name = \"DGRAM\";  transport = \"UDP\"; },\n"
	    "  { name = \"STREAM\"; transport = [\"tcp\", \"Tls\", \"SCTP\", \"WS\", \"WSS\"]; }\n"
	    ");\n" POOL DEFAULT_ROUTE);
	const char *m = request("INVITE", "sip:bob@example.com", NULL);
	assert_flags(run_via(m, NULL, TRANSPORT_UDP), "DGRAM");
	assert_flags(run_via(m, NULL, TRANSPORT_TCP), "STREAM");
	assert_flags(run_via(m, NULL, TRANSPORT_TLS), "SECURE,STREAM");
	assert_flags(run_via(m, NULL, TRANSPORT_SCTP), "STREAM");
	assert_flags(run_via(m, NULL, TRANSPORT_WS), "STREAM");
	assert_flags(run_via(m, NULL, TRANSPORT_WSS), "SECURE,STREAM");
	/* the Via's transport is what the message says, not how it came */
	assert_flags(run_via("INVITE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/TLS 203.0.113.5\r\n"
			     "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n"
			     "Call-ID: tls1\r\nCSeq: 1 INVITE\r\n\r\n", NULL, TRANSPORT_UDP),
		     "DGRAM");
}

static void header_present(void **state)
{
	(void)state;
	use("flags = (\n"
	    "  { name = \"ROUTED\";  header = \"Route\"; present = true; },\n"
	    "  { name = \"SUBJ\";    header = \"subject\"; present = true; },\n"
	    "  { name = \"CUSTOM\";  header = \"X-Siphon-Mark\"; present = true; },\n"
	    "  { name = \"CONTACT\"; header = \"m\"; present = true; }\n"
	    ");\n" POOL DEFAULT_ROUTE);
	assert_flags(run(request("INVITE", "sip:b@example.com", NULL)), "");
	assert_flags(run(request("INVITE", "sip:b@example.com",
				 "Route: <sip:core1.example.com;lr>\r\n")), "ROUTED");
	/* names any case, the compact form, spaces before the colon */
	assert_flags(run(request("INVITE", "sip:b@example.com", "SUBJECT: hi\r\n")), "SUBJ");
	assert_flags(run(request("INVITE", "sip:b@example.com", "s: hi\r\n")), "SUBJ");
	assert_flags(run(request("INVITE", "sip:b@example.com", "x-siphon-mark : 1\r\n")),
		     "CUSTOM");
	assert_flags(run(request("INVITE", "sip:b@example.com",
				 "Contact: <sip:a@203.0.113.5>\r\n")), "CONTACT");
	assert_flags(run(request("INVITE", "sip:b@example.com", "m: <sip:a@203.0.113.5>\r\n")),
		     "CONTACT");
	/* a header whose name only starts like one */
	assert_flags(run(request("INVITE", "sip:b@example.com", "X-Siphon-Marker: 1\r\n"
				 "Routes: x\r\n")), "");
	assert_flags(run(request("INVITE", "sip:b@example.com",
				 "Route: <sip:a.example.com;lr>\r\nSubject: x\r\n"
				 "X-Siphon-Mark: 2\r\n")), "ROUTED,SUBJ,CUSTOM");
}

static void header_match(void **state)
{
	(void)state;
	use("flags = (\n"
	    "  { name = \"EXACT\";  header = \"User-Agent\"; match = \"friendly-scanner\"; },\n"
	    "  { name = \"ANYCASE\"; header = \"User-Agent\"; match = \"friendly-scanner\";\n"
	    "    caseless = true; },\n"
	    "  { name = \"NOCASE\"; header = \"User-Agent\"; match = \"Friendly\"; caseless = false; },\n"
	    "  { name = \"XA\";     header = \"X-A\"; match = \"^foo$\"; },\n"
	    "  { name = \"XB\";     header = \"X-B\"; match = \"foo\"; },\n"
	    "  { name = \"SUBJ\";   header = \"Subject\"; match = \"urgent\"; },\n"
	    "  { name = \"SUBJP\";  header = \"s\"; present = true; }\n"
	    ");\n" POOL DEFAULT_ROUTE);
	assert_int_equal(cfg->tables.n_patterns, 6);
	assert_flags(run(request("OPTIONS", "sip:b@example.com", "User-Agent: friendly-scanner\r\n")),
		     "EXACT,ANYCASE");
	assert_flags(run(request("OPTIONS", "sip:b@example.com",
				 "User-Agent: Friendly-Scanner/1.0\r\n")), "ANYCASE,NOCASE");
	assert_flags(run(request("OPTIONS", "sip:b@example.com", "User-Agent: friendly-scan\r\n")),
		     "");
	assert_flags(run(request("OPTIONS", "sip:b@example.com", NULL)), "");
	/* one database for all headers: a value only matches its own header's patterns */
	assert_flags(run(request("OPTIONS", "sip:b@example.com", "X-A: foo\r\nX-B: bar\r\n")), "XA");
	assert_flags(run(request("OPTIONS", "sip:b@example.com", "X-A: bar\r\nX-B: foo\r\n")), "XB");
	assert_flags(run(request("OPTIONS", "sip:b@example.com", "X-A: foofoo\r\nX-B: xfoox\r\n")),
		     "XB");
	assert_flags(run(request("OPTIONS", "sip:b@example.com",
				 "User-Agent: x\r\nX-A: friendly-scanner\r\n")), "");
	/* the first value of the header is what is matched */
	assert_flags(run(request("OPTIONS", "sip:b@example.com",
				 "Subject: hello\r\nSubject: urgent\r\n")), "SUBJP");
	assert_flags(run(request("OPTIONS", "sip:b@example.com", "s: very urgent\r\n")),
		     "SUBJ,SUBJP");
	/* a header named in two flags, two spellings: one header */
	assert_int_equal(cfg->tables.headers.count, 4);
}

/* What "the first value" of a header is (docs/config.md, match). */
static void header_first_value(void **state)
{
	(void)state;
	use("flags = (\n"
	    "  { name = \"WHOLE\"; header = \"X-A\"; match = \"^ABC, abc$\"; },\n"
	    "  { name = \"TAIL\";  header = \"X-A\"; match = \"bar$\"; },\n"
	    "  { name = \"SEEN\";  header = \"X-A\"; present = true; }\n"
	    ");\n" POOL DEFAULT_ROUTE);
	/* commas are part of the one value; whitespace around it is trimmed */
	assert_flags(run(request("INVITE", "sip:b@example.com", "X-A: ABC, abc\r\n")), "WHOLE,SEEN");
	assert_flags(run(request("INVITE", "sip:b@example.com", "X-A:   ABC, abc  \t\r\n")),
		     "WHOLE,SEEN");
	assert_flags(run(request("INVITE", "sip:b@example.com", "X-A: ABC\r\nX-A: abc\r\n")),
		     "SEEN");
	/* a folded continuation line belongs to the value */
	assert_flags(run(request("INVITE", "sip:b@example.com", "X-A: foo\r\n bar\r\n")),
		     "TAIL,SEEN");
	/* present even with an empty value */
	assert_flags(run(request("INVITE", "sip:b@example.com", "X-A:\r\n")), "SEEN");
	assert_flags(run(request("INVITE", "sip:b@example.com", "X-A:   \r\n")), "SEEN");
}

static void derived_flags(void **state)
{
	(void)state;
	use("flags = (\n"
	    "  { name = \"A\"; header = \"X-A\"; present = true; },\n"
	    "  { name = \"B\"; header = \"X-B\"; present = true; },\n"
	    "  { name = \"C\"; header = \"X-C\"; present = true; },\n"
	    "  { name = \"D\"; expr = \"A and not B\"; },\n"
	    "  { name = \"E\"; expr = \"D or C\"; },\n"
	    "  { name = \"F\"; expr = \"not E\"; }\n"
	    ");\n" POOL DEFAULT_ROUTE);
	assert_flags(run(request("INVITE", "sip:b@example.com", NULL)), "F");
	assert_flags(run(request("INVITE", "sip:b@example.com", "X-A: 1\r\n")), "A,D,E");
	assert_flags(run(request("INVITE", "sip:b@example.com", "X-A: 1\r\nX-B: 1\r\n")), "A,B,F");
	assert_flags(run(request("INVITE", "sip:b@example.com", "X-B: 1\r\nX-C: 1\r\n")), "B,C,E");
	/* classify() alone leaves the derived flags to decide() */
	struct sip_msg m;
	struct flagset f;
	struct packet_meta pm = { 0 };
	const char *msg = request("INVITE", "sip:b@example.com", "X-A: 1\r\n");
	assert_int_equal(classifier_scan(&cls, (const uint8_t *)msg, strlen(msg), &m),
			 SIP_VERDICT_FORWARD);
	classify(&cls, (const uint8_t *)msg, &m, &pm, &f);
	assert_string_equal(names(&f), "A");
}

/* ---- the route ---- */

static const char *abc_flags =
	"flags = (\n"
	"  { name = \"A\"; header = \"X-A\"; present = true; },\n"
	"  { name = \"B\"; header = \"X-B\"; present = true; },\n"
	"  { name = \"C\"; header = \"X-C\"; present = true; }\n"
	");\n";

/* A request carrying X-A, X-B, X-C as the bits of abc say. */
static const char *abc_message(unsigned abc)
{
	char headers[64];
	snprintf(headers, sizeof(headers), "%s%s%s", abc & 1 ? "X-A: 1\r\n" : "",
		 abc & 2 ? "X-B: 1\r\n" : "", abc & 4 ? "X-C: 1\r\n" : "");
	return request("INVITE", "sip:b@example.com", headers);
}

static void first_matching_rule_wins(void **state)
{
	(void)state;
	char text[2048];
	snprintf(text, sizeof(text),
		 "%s" POOL
		 "route = (\n"                                         /* line 7 */
		 "  { when = \"A\"; then = \"reply 201 \\\"A\\\"\"; },\n"       /* 8 */
		 "  { when = \"A and B\"; then = \"reply 202 \\\"AB\\\"\"; },\n" /* 9 */
		 "  { when = \"B\"; then = \"reply 203 \\\"B\\\"\"; },\n"       /* 10 */
		 "  { when = \"B or C\"; then = \"drop\"; },\n"                 /* 11 */
		 "  { when = \"C\"; then = \"punt\"; },\n"                      /* 12 */
		 "  { then = \"pool core\"; }\n"                                /* 13 */
		 ");\n",
		 abc_flags);
	use(text);
	static const int want_line[8] = { 13, 8, 10, 8, 11, 8, 10, 8 };
	for (unsigned abc = 0; abc < 8; abc++) {
		struct result r = run(abc_message(abc));
		if (rule_line(&r) != want_line[abc])
			fail_msg("abc=%u: rule on line %d, want %d", abc, rule_line(&r),
				 want_line[abc]);
	}
	struct result r = run(abc_message(3));
	assert_int_equal(r.d.rule, 0);
	assert_int_equal(r.d.verdict, SIP_VERDICT_REPLY);
	assert_int_equal(r.d.reason, SIP_REASON_RULE_REPLY);
	assert_int_equal(action(&r)->reply_code, 201);
	assert_string_equal(action(&r)->reply_reason, "A");
	r = run(abc_message(2));
	assert_int_equal(action(&r)->reply_code, 203);
	r = run(abc_message(4));
	assert_int_equal(r.d.verdict, SIP_VERDICT_DROP);
	assert_int_equal(r.d.reason, SIP_REASON_RULE_DROP);
	r = run(abc_message(0));
	assert_int_equal(r.d.rule, 5);
	assert_int_equal(r.d.verdict, SIP_VERDICT_FORWARD);
	assert_int_equal(r.d.reason, SIP_REASON_RULE_POOL);
	assert_int_equal(r.d.n_rate_limits, 0);
	assert_string_equal(cfg->rules[1].text, "when A and B then reply 202 \"AB\"");
	assert_string_equal(cfg->rules[5].text, "then pool core");
}

static void punt_and_pool_choice(void **state)
{
	(void)state;
	char text[2048];
	snprintf(text, sizeof(text),
		 "%s"
		 "pools = (\n"
		 "  { name = \"core\"; nodes = ( { name = \"n1\"; address = \"198.51.100.21\"; } ); },\n"
		 "  { name = \"edge-b\"; nodes = ( { name = \"n1\"; address = \"2001:db8::21\"; } ); }\n"
		 ");\n"
		 "route = (\n"
		 "  { when = \"A\"; then = \"punt\"; },\n"
		 "  { when = \"B\"; then = \"pool edge-b\"; },\n"
		 "  { then = \"pool core\"; }\n"
		 ");\n",
		 abc_flags);
	use(text);
	struct result r = run(abc_message(1));
	assert_int_equal(r.d.verdict, SIP_VERDICT_PUNT);
	assert_int_equal(r.d.reason, SIP_REASON_RULE_PUNT);
	r = run(abc_message(2));
	assert_int_equal(action(&r)->kind, ACTION_POOL);
	assert_string_equal(cfg->tables.pool_names[action(&r)->pool], "edge-b");
	r = run(abc_message(0));
	assert_string_equal(cfg->tables.pool_names[action(&r)->pool], "core");
}

/* and/or/not, parentheses and precedence (not > and > or), against C. */
static void boolean_operators(void **state)
{
	static const char *const exprs[] = { /* each with its C form in the switch below */
		"A",
		"not A",
		"A and B",
		"A or B",
		"A or B and C",
		"(A or B) and C",
		"A and B or C",
		"A and (B or C)",
		"not A and B",
		"not (A and B)",
		"not (A or B)",
		"not A or not B",
		"not not A",
		"A and not B and C",
		"not (A and not (B or not C))",
		"((A))",
		"A or (B and not C) or not A and C",
		" A\tand\n(B or C) ",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(exprs) / sizeof(exprs[0]); i++) {
		char text[2048];
		snprintf(text, sizeof(text),
			 "%s" POOL "route = ( { when = \"%s\"; then = \"drop\"; },\n"
			 "          { then = \"punt\"; } );\n", abc_flags, exprs[i]);
		use(text);
		for (unsigned abc = 0; abc < 8; abc++) {
			bool A = abc & 1, B = abc & 2, C = abc & 4, want;
			switch (i) {
			case 0: want = A; break;
			case 1: want = !A; break;
			case 2: want = A && B; break;
			case 3: want = A || B; break;
			case 4: want = A || (B && C); break;
			case 5: want = (A || B) && C; break;
			case 6: want = (A && B) || C; break;
			case 7: want = A && (B || C); break;
			case 8: want = !A && B; break;
			case 9: want = !(A && B); break;
			case 10: want = !(A || B); break;
			case 11: want = !A || !B; break;
			case 12: want = A; break;
			case 13: want = A && !B && C; break;
			case 14: want = !(A && !(B || !C)); break;
			case 15: want = A; break;
			case 16: want = A || (B && !C) || (!A && C); break;
			case 17: want = A && (B || C); break;
			default: fail(); return;
			}
			struct result r = run(abc_message(abc));
			if ((r.d.verdict == SIP_VERDICT_DROP) != want)
				fail_msg("\"%s\" with A=%d B=%d C=%d: %s, want %s", exprs[i], A, B,
					 C, sip_verdict_name(r.d.verdict), want ? "drop" : "punt");
		}
	}
}

static void rate_limit_is_not_terminal(void **state)
{
	(void)state;
	char text[2048];
	snprintf(text, sizeof(text),
		 "%s" POOL
		 "route = (\n"                                                   /* 7 */
		 "  { when = \"A\"; then = \"rate-limit 10/s\"; },\n"                /* 8 */
		 "  { when = \"A or B\"; then = \"rate-limit 5/s burst 9\"; },\n"   /* 9 */
		 "  { when = \"C\"; then = \"drop\"; },\n"                           /* 10 */
		 "  { when = \"A\"; then = \"rate-limit 1/s\"; },\n"                 /* 11 */
		 "  { then = \"pool core\"; }\n"                                     /* 12 */
		 ");\n",
		 abc_flags);
	use(text);
	assert_int_equal(cfg->tables.actions[0].kind, ACTION_RATE_LIMIT);
	assert_int_equal(cfg->tables.actions[0].rate_per_sec, 10);
	assert_int_equal(cfg->tables.actions[0].burst, 10); /* burst defaults to the rate */
	assert_int_equal(cfg->tables.actions[1].rate_per_sec, 5);
	assert_int_equal(cfg->tables.actions[1].burst, 9);

	struct result r = run(abc_message(0));
	assert_int_equal(r.d.n_rate_limits, 0);
	assert_int_equal(rule_line(&r), 12);

	/* A: both buckets on the way (the second once, though A matches one of
	 * its terms), then the later one, then the default */
	r = run(abc_message(1));
	assert_int_equal(r.d.n_rate_limits, 3);
	assert_int_equal(r.d.rate_limits[0], 0);
	assert_int_equal(r.d.rate_limits[1], 1);
	assert_int_equal(r.d.rate_limits[2], 3);
	assert_int_equal(rule_line(&r), 12);
	assert_int_equal(r.d.verdict, SIP_VERDICT_FORWARD);
	assert_int_equal(r.d.reason, SIP_REASON_RULE_POOL);

	/* A and B both hold rule 9's two terms: still recorded once */
	r = run(abc_message(3));
	assert_int_equal(r.d.n_rate_limits, 3);
	assert_int_equal(r.d.rate_limits[1], 1);

	/* B and C: one bucket, then the drop; nothing after the drop */
	r = run(abc_message(6));
	assert_int_equal(r.d.n_rate_limits, 1);
	assert_int_equal(r.d.rate_limits[0], 1);
	assert_int_equal(rule_line(&r), 10);
	assert_int_equal(r.d.verdict, SIP_VERDICT_DROP);
	assert_int_equal(r.d.reason, SIP_REASON_RULE_DROP);
}

static void actions_as_written(void **state)
{
	(void)state;
	use("flags = ( { name = \"A\"; method = \"INVITE\"; } );\n" POOL
	    "route = (\n"
	    "  { when = \"A\"; then = \"reply 503\"; },\n"
	    "  { when = \"A\"; then = \"reply 200\"; },\n"
	    "  { when = \"A\"; then = \"reply 486 \\\"Busy Here\\\"\"; },\n"
	    "  { when = \"A\"; then = \"  reply   699   \\\"x\\\"  \"; },\n"
	    "  { when = \"A\"; then = \"rate-limit 10000000/s burst 10000000\"; },\n"
	    "  { then = \"reply 100 \\\"Trying\\\"\"; }\n"
	    ");\n");
	const struct rule_action *a = cfg->tables.actions;
	assert_int_equal(a[0].kind, ACTION_REPLY);
	assert_int_equal(a[0].reply_code, 503);
	assert_string_equal(a[0].reply_reason, "Service Unavailable");
	assert_string_equal(a[1].reply_reason, "OK");
	assert_string_equal(a[2].reply_reason, "Busy Here");
	assert_int_equal(a[3].reply_code, 699);
	assert_string_equal(a[3].reply_reason, "x");
	assert_int_equal(a[4].rate_per_sec, 10000000);
	assert_int_equal(a[5].reply_code, 100);
	assert_int_equal(cfg->n_rules, 6);
	assert_int_equal(cfg->tables.n_rules, 6);
}

/* ---- edge.conf: the OPTIONS seed case and the scanners ---- */

static const char *edge_options(const char *ruri_host, const char *via_host)
{
	snprintf(msgbuf, sizeof(msgbuf),
		 "OPTIONS sip:%s SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK-ka1;rport\r\n"
		 "Max-Forwards: 70\r\n"
		 "From: <sip:keepalive@peer.example.net>;tag=ka-1\r\n"
		 "To: <sip:%s>\r\n"
		 "Call-ID: ka-1@peer.example.net\r\n"
		 "CSeq: 7 OPTIONS\r\n"
		 "User-Agent: PeerGateway/2.3\r\n"
		 "Content-Length: 0\r\n"
		 "\r\n",
		 ruri_host, via_host, ruri_host);
	return msgbuf;
}

static void options_seed_case(void **state)
{
	static const char *const selves[] = { "lb.example.com", "SIP.EXAMPLE.COM", "198.51.100.10",
					       "[2001:db8:10::10]", "198.51.100.10:5060" };
	static const char *const outside[] = { "203.0.113.20", "198.18.0.1", "2001:db8:6::1" };
	/* our own network and the carriers: TRUSTED */
	static const char *const inside[] = { "198.51.100.7", "198.51.100.255", "2001:db8:5::1",
					      "2001:db8:5:ffff::9", "192.0.2.9", "2001:db8:b::1" };
	(void)state;
	use_edge();
	for (size_t h = 0; h < sizeof(selves) / sizeof(selves[0]); h++) {
		for (size_t s = 0; s < sizeof(outside) / sizeof(outside[0]); s++) {
			struct result r = run_from(edge_options(selves[h], "203.0.113.20"), outside[s]);
			if (r.d.verdict != SIP_VERDICT_REPLY || action(&r)->reply_code != 503)
				fail_msg("OPTIONS to %s from %s: not a 503", selves[h], outside[s]);
			assert_string_equal(action(&r)->reply_reason, "Options Reply");
			assert_int_equal(rule_line(&r), 62);
			assert_int_equal(r.d.n_rate_limits, 1); /* outsiders meet a bucket first */
			assert_int_equal(r.d.reason, SIP_REASON_RULE_REPLY);
		}
		for (size_t s = 0; s < sizeof(inside) / sizeof(inside[0]); s++) {
			struct result r = run_from(edge_options(selves[h], "198.51.100.7"), inside[s]);
			if (r.d.verdict != SIP_VERDICT_REPLY || action(&r)->reply_code != 200)
				fail_msg("OPTIONS to %s from %s: not a 200", selves[h], inside[s]);
			assert_string_equal(action(&r)->reply_reason, "OK");
			assert_int_equal(rule_line(&r), 63);
			assert_int_equal(r.d.n_rate_limits, 0);
		}
	}
	/* an OPTIONS for someone else goes through */
	struct result r = run_from(edge_options("core1.example.com", "203.0.113.20"), "203.0.113.20");
	assert_flags(r, "OPTIONS");
	assert_int_equal(rule_line(&r), 66);
	r = run_from(edge_options("core1.example.com", "192.0.2.9"), "192.0.2.9");
	assert_flags(r, "CARRIER_A,OPTIONS,TRUSTED");
	assert_string_equal(cfg->tables.pool_names[action(&r)->pool], "carrier_a");
	/* the answer to siphond's own probe is punted to it */
	r = run_from(response(200, "OPTIONS", "198.51.100.2:5060", NULL), "198.51.100.21");
	assert_flags(r, "INTERNALLY_SOURCED,OPTIONS,PROBE_ANSWER,IN_DIALOG,TRUSTED");
	assert_int_equal(r.d.verdict, SIP_VERDICT_PUNT);
	assert_int_equal(rule_line(&r), 60);
}

static const char sipvicious_compact[] =
	"OPTIONS sip:100@198.51.100.10 SIP/2.0\r\n"
	"v: SIP/2.0/UDP 203.0.113.66:5070;branch=z9hG4bK-2917348851;rport\r\n"
	"l: 0\r\n"
	"f: \"sipvicious\"<sip:100@198.51.100.10>;tag=6330613961623434\r\n"
	"t: \"sipvicious\"<sip:100@198.51.100.10>\r\n"
	"m: sip:100@203.0.113.66:5070\r\n"
	"CSeq: 1 OPTIONS\r\n"
	"i: 419238117765102854660412\r\n"
	"Max-Forwards: 70\r\n"
	"\r\n";

static const char *edge_scanner(const char *ua, const char *from)
{
	snprintf(msgbuf, sizeof(msgbuf),
		 "OPTIONS sip:100@198.51.100.10 SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 203.0.113.66:5070;branch=z9hG4bK-29173;rport\r\n"
		 "From: %s;tag=63306139\r\n"
		 "To: <sip:100@198.51.100.10>\r\n"
		 "Call-ID: 419238117765102854660412\r\n"
		 "CSeq: 1 OPTIONS\r\n"
		 "%s%s%s"
		 "Content-Length: 0\r\n"
		 "\r\n",
		 from, ua ? "User-Agent: " : "", ua ? ua : "", ua ? "\r\n" : "");
	return msgbuf;
}

static void scanners(void **state)
{
	static const char *const uas[] = { "friendly-scanner", "Friendly-Scanner",
					   "sipvicious/0.3.4", "SIPVicious", "sipcli/v1.8",
					   "Mozilla sip-scan", "iWar", "VaxSIPUserAgent/3.1" };
	(void)state;
	use_edge();
	for (size_t i = 0; i < sizeof(uas) / sizeof(uas[0]); i++) {
		/* from inside and over TLS too: scanners go first */
		struct result r = run_via(edge_scanner(uas[i], "<sip:100@example.com>"),
					  "198.51.100.7", TRANSPORT_TLS);
		if (!flagset_has(&r.flags, (unsigned)flag_bit("SCANNER_UA")) ||
		    r.d.verdict != SIP_VERDICT_DROP)
			fail_msg("User-Agent %s: not dropped (%s)", uas[i], names(&r.flags));
		assert_int_equal(rule_line(&r), 59);
		assert_int_equal(r.d.reason, SIP_REASON_RULE_DROP);
	}
	/* SIPVicious' compact form: no User-Agent, From display "sipvicious" */
	struct result r = run_from(sipvicious_compact, "203.0.113.66");
	assert_int_equal(r.scan, SIP_VERDICT_FORWARD);
	assert_flags(r, "OPTIONS,TO_SELF,SIPVICIOUS_FROM,SCANNER");
	assert_int_equal(r.d.verdict, SIP_VERDICT_DROP);
	assert_int_equal(rule_line(&r), 59);
	r = run_from(edge_scanner(NULL, "sipvicious <sip:100@example.com>"), "203.0.113.66");
	assert_flags(r, "OPTIONS,TO_SELF,SIPVICIOUS_FROM,SCANNER");
	r = run_from(edge_scanner(NULL, "\"SIPVicious\" <sip:100@example.com>"), "203.0.113.66");
	assert_flags(r, "OPTIONS,TO_SELF,SIPVICIOUS_FROM,SCANNER");
	/* not scanners: sipvicious elsewhere in From, an ordinary UA */
	r = run_from(edge_scanner(NULL, "\"Bob\" <sip:sipvicious@example.com>"), "203.0.113.66");
	assert_flags(r, "OPTIONS,TO_SELF");
	assert_int_equal(r.d.verdict, SIP_VERDICT_REPLY);
	assert_int_equal(action(&r)->reply_code, 503);
	r = run_from(edge_scanner("PeerGateway/2.3", "<sip:100@example.com>"), "203.0.113.66");
	assert_flags(r, "OPTIONS,TO_SELF");
	/* the UA pattern is matched in User-Agent only */
	r = run_from(edge_scanner(NULL, "\"friendly-scanner\" <sip:100@example.com>"),
		     "203.0.113.66");
	assert_flags(r, "OPTIONS,TO_SELF");
}

static void scanner_drops_never_reach_the_rules(void **state)
{
	(void)state;
	/* a route that would forward anything */
	use("balancer = { max_bytes = 400; max_vias = 2; };\n"
	    "flags = ( { name = \"ANY\"; source = \"0.0.0.0/0\"; } );\n" POOL
	    "route = ( { when = \"ANY\"; then = \"reply 200 \\\"seen\\\"\"; },\n"
	    "          { then = \"pool core\"; } );\n");
	assert_int_equal(cfg->tables.limits.max_msg_bytes, 400);
	assert_int_equal(cfg->tables.limits.max_vias, 2);
	static const struct {
		const char *msg;
		enum sip_reason reason;
	} cases[] = {
		{ "", SIP_REASON_EMPTY },
		{ "\r\n\r\n", SIP_REASON_KEEPALIVE },
		{ "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", SIP_REASON_NOT_SIP },
		{ "OPTIONS sip:100@198.51.100.10 SIP/2.0\r\nVia: SIP/2.0/UDP 203.0.113.66\r\n"
		  "From: \"sipvicious\"<sip:100@198.51.100.10>;tag=1\r\n"
		  "To: <sip:100@198.51.100.10>\r\nCSeq: 1 OPTIONS\r\n"
		  "User-Agent: friendly-scanner\r\n\r\n", SIP_REASON_CALLID_MISSING },
		{ "OPTIONS sip:100@198.51.100.10 SIP/2.0\r\n"
		  "Via: SIP/2.0/UDP 203.0.113.66, SIP/2.0/UDP 203.0.113.67\r\n"
		  "Via: SIP/2.0/UDP 203.0.113.68\r\n"
		  "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n"
		  "Call-ID: v3\r\nCSeq: 1 OPTIONS\r\n\r\n", SIP_REASON_TOO_MANY_VIAS },
		{ "OPTIONS sip:100@198.51.100.10 SIP/2.0\r\nVia: SIP/2.0/UDP 203.0.113.66\r\n"
		  "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n"
		  "Call-ID: c2\r\nCSeq: 1 INVITE\r\n\r\n", SIP_REASON_CSEQ_MISMATCH },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct result r = run_from(cases[i].msg, "192.0.2.1");
		if (r.scan_reason != cases[i].reason)
			fail_msg("case %zu: %s, want %s", i, sip_reason_name(r.scan_reason),
				 sip_reason_name(cases[i].reason));
		assert_int_not_equal(r.scan, SIP_VERDICT_FORWARD);
		assert_int_equal(r.d.rule, -1);
	}
	/* a STUN binding request is punted by the scanner, not by a rule */
	static const uint8_t stun[20] = { 0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42,
					  1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
	struct result st = run_bytes(stun, sizeof(stun), "192.0.2.1");
	assert_int_equal(st.scan, SIP_VERDICT_PUNT);
	assert_int_equal(st.scan_reason, SIP_REASON_STUN_BINDING);
	assert_int_equal(st.d.rule, -1);
	/* the config's max_bytes, not the default */
	const char *big = request("INVITE", "sip:b@example.com",
				  "Subject: 0123456789012345678901234567890123456789"
				  "01234567890123456789012345678901234567890123456789"
				  "01234567890123456789012345678901234567890123456789"
				  "01234567890123456789012345678901234567890123456789\r\n");
	assert_true(strlen(big) > 400);
	struct result r = run_from(big, "192.0.2.1");
	assert_int_equal(r.scan_reason, SIP_REASON_TOO_BIG);
	assert_int_equal(r.d.rule, -1);
	r = run_from(request("INVITE", "sip:b@example.com", NULL), "192.0.2.1");
	assert_int_equal(r.scan, SIP_VERDICT_FORWARD);
	assert_int_equal(r.d.rule, 0);
}

/* ---- more than 64 flags ---- */

static char *hundred_flags_config(void)
{
	size_t cap = 16384, n = 0;
	char *t = malloc(cap);

	assert_non_null(t);
	n += (size_t)snprintf(t + n, cap - n, "flags = (\n"); /* line 1 */
	for (unsigned i = 0; i < 100; i++) {                 /* F{i} on line i + 2 */
		const char *sep = i < 99 ? "," : "";
		if (i == 63)
			n += (size_t)snprintf(t + n, cap - n,
					      "  { name = \"F63\"; method = \"OPTIONS\"; }%s\n", sep);
		else if (i == 64)
			n += (size_t)snprintf(t + n, cap - n,
					      "  { name = \"F64\"; header = \"X-Bit64\"; present = true; }%s\n",
					      sep);
		else if (i == 98)
			n += (size_t)snprintf(t + n, cap - n,
					      "  { name = \"F98\"; header = \"User-Agent\"; match = \"bit98\"; }%s\n",
					      sep);
		else if (i == 99)
			n += (size_t)snprintf(t + n, cap - n,
					      "  { name = \"F99\"; expr = \"F63 and F64 and not F0\"; }%s\n",
					      sep);
		else
			n += (size_t)snprintf(t + n, cap - n,
					      "  { name = \"F%u\"; source = \"198.18.%u.0/24\"; }%s\n", i,
					      i, sep);
	}
	n += (size_t)snprintf(t + n, cap - n,
			      ");\n" POOL
			      "route = (\n"
			      "  { when = \"F0\"; then = \"drop\"; },\n"
			      "  { when = \"F99\"; then = \"reply 299 \\\"F99\\\"\"; },\n"
			      "  { when = \"F98 and not F64\"; then = \"reply 298 \\\"F98\\\"\"; },\n"
			      "  { when = \"F64\"; then = \"reply 264 \\\"F64\\\"\"; },\n"
			      "  { when = \"F63\"; then = \"reply 263 \\\"F63\\\"\"; },\n"
			      "  { when = \"not F62 and (F61 or F65)\"; then = \"reply 265 \\\"F65\\\"\"; },\n"
			      "  { then = \"punt\"; }\n"
			      ");\n");
	assert_true(n < cap);
	return t;
}

static int reply_code(const struct result *r)
{
	return r->d.verdict == SIP_VERDICT_REPLY ? action(r)->reply_code : 0;
}

static void a_hundred_flags(void **state)
{
	(void)state;
	char *text = hundred_flags_config();
	use(text);
	free(text);
	assert_int_equal(cfg->n_flags, 100);
	assert_int_equal(cfg->tables.n_flags, 100);
	assert_string_equal(cfg->flags[0].name, "F0");
	assert_string_equal(cfg->flags[99].name, "F99");
	assert_int_equal(cfg->flags[64].line, 66);
	assert_int_equal(cfg->flags[99].kind, FLAG_KIND_EXPR);

	/* flag 0 */
	struct result r = run_from(request("INVITE", "sip:b@example.com", NULL), "198.18.0.9");
	assert_flags(r, "F0");
	assert_int_equal(r.d.verdict, SIP_VERDICT_DROP);
	r = run_from(request("OPTIONS", "sip:b@example.com", "X-Bit64: y\r\n"), "198.18.0.9");
	assert_flags(r, "F0,F63,F64");
	assert_int_equal(r.d.verdict, SIP_VERDICT_DROP);
	/* 63 and 64 together make 99, across the word boundary */
	r = run_from(request("OPTIONS", "sip:b@example.com", "X-Bit64: y\r\n"), "198.18.7.1");
	assert_flags(r, "F7,F63,F64,F99");
	assert_int_equal(reply_code(&r), 299);
	/* 64 alone */
	r = run_from(request("INVITE", "sip:b@example.com", "x-bit64: y\r\n"), "203.0.113.1");
	assert_flags(r, "F64");
	assert_int_equal(reply_code(&r), 264);
	/* 63 alone */
	r = run_from(request("OPTIONS", "sip:b@example.com", NULL), "203.0.113.1");
	assert_flags(r, "F63");
	assert_int_equal(reply_code(&r), 263);
	/* 98, a pattern above 64 */
	r = run_from(request("INVITE", "sip:b@example.com", "User-Agent: ua-bit98\r\n"), "198.18.97.1");
	assert_flags(r, "F97,F98");
	assert_int_equal(reply_code(&r), 298);
	/* source flags above 64 */
	r = run_from(request("INVITE", "sip:b@example.com", NULL), "198.18.65.200");
	assert_flags(r, "F65");
	assert_int_equal(reply_code(&r), 265);
	r = run_from(request("INVITE", "sip:b@example.com", NULL), "198.18.62.200");
	assert_flags(r, "F62");
	assert_int_equal(r.d.verdict, SIP_VERDICT_PUNT);
	r = run_from(request("INVITE", "sip:b@example.com", NULL), "198.18.97.1");
	assert_flags(r, "F97");
	assert_int_equal(r.d.verdict, SIP_VERDICT_PUNT);
	r = run_from(request("INVITE", "sip:b@example.com", NULL), "198.18.100.1");
	assert_flags(r, "");
}

static void flag_limit_is_128(void **state)
{
	(void)state;
	size_t cap = 65536;
	char *t = malloc(cap);
	assert_non_null(t);
	for (unsigned total = 128; total <= 129; total++) {
		size_t n = (size_t)snprintf(t, cap, "flags = (\n");
		for (unsigned i = 0; i < total; i++)
			n += (size_t)snprintf(t + n, cap - n, "  { name = \"F%u\"; %s }%s\n", i,
					      i == 127 ? "expr = \"F0 and F126\";" : "in_dialog = true;",
					      i + 1 < total ? "," : "");
		snprintf(t + n, cap - n, ");\n" POOL
			 "route = ( { when = \"F127 or F126\"; then = \"drop\"; }, { then = \"punt\"; } );\n");
		if (total == 128) {
			use(t);
			struct result r = run(request_to("BYE", "sip:b@example.com",
							  "<sip:b@example.com>;tag=1", NULL));
			assert_true(flagset_has(&r.flags, 126));
			assert_true(flagset_has(&r.flags, 127));
			assert_int_equal(r.d.verdict, SIP_VERDICT_DROP);
			r = run(request("INVITE", "sip:b@example.com", NULL));
			assert_flags(r, "");
			assert_int_equal(r.d.verdict, SIP_VERDICT_PUNT);
		} else {
			assert_string_equal(load_error(t), "test.conf:1: flags: 129 flags; at most 128");
		}
	}
	free(t);
}

/* A route of `rules` rules, each "when (A or B) and ... (n_pairs pairs)". */
static char *route_text(unsigned rules, unsigned n_pairs)
{
	static const char pairs[] = "(A or B) and (C or D) and (E or F) and (G or H) and "
				    "(I or J) and (K or L)";
	size_t cap = 256 + rules * (sizeof(pairs) + 64), n;
	char *t = malloc(cap);

	assert_non_null(t);
	n = (size_t)snprintf(t, cap, "flags = (\n");
	for (char c = 'A'; c <= 'L'; c++)
		n += (size_t)snprintf(t + n, cap - n, "  { name = \"%c\"; header = \"X-%c\"; present = true; }%s\n",
				      c, c, c < 'L' ? "," : "");
	n += (size_t)snprintf(t + n, cap - n, ");\n" POOL "route = (\n");
	for (unsigned i = 0; i + 1 < rules; i++)
		n += (size_t)snprintf(t + n, cap - n, "  { when = \"%.*s\"; then = \"drop\"; },\n",
				      n_pairs == 1 ? 1 : (int)(n_pairs * 13 - 5),
				      n_pairs == 1 ? "A" : pairs);
	snprintf(t + n, cap - n, "  { then = \"punt\"; }\n);\n");
	return t;
}

static void route_limits(void **state)
{
	(void)state;
	char *t = route_text(1024, 1);
	use(t);
	free(t);
	assert_int_equal(cfg->n_rules, 1024);
	struct result r = run(abc_message(1));
	assert_int_equal(r.d.rule, 0);
	r = run(abc_message(2));
	assert_int_equal(r.d.rule, 1023);
	assert_int_equal(r.d.verdict, SIP_VERDICT_PUNT);

	t = route_text(1025, 1);
	assert_string_equal(load_error(t), "test.conf:16: route: 1025 rules; at most 1024");
	free(t);

	/* 63 of them and the default fit whatever the rule */
	t = route_text(64, 6);
	use(t);
	free(t);
	assert_int_equal(cfg->tables.n_rule_terms, 63 * 64 + 1);
	/* 65 conditions are too many */
	t = route_text(66, 6);
	assert_string_equal(load_error(t), "test.conf:81: route: more than 4096 terms in all conditions");
	free(t);
}

static void route_term_limit_counts_the_default(void **state)
{
	char *t;
	(void)state;
	/* 4096 terms over the whole route. 64 conditions of 64 terms are 4096,
	 * and the default rule is one more: the loader may take it or refuse
	 * it, but must not write past its term array. In a child process, as
	 * a heap overflow takes the test program down with it. */
	t = route_text(65, 6);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct config_error err;
		struct siphon_config *c = NULL;
		int ok = 0;
		if (config_load_text("test.conf", t, &c, &err) == 0) {
			struct classifier k;
			struct sip_msg m;
			struct flagset f;
			struct decision d;
			struct packet_meta pm = { 0 };
			const char *msg = abc_message(1);
			ok = c->tables.n_rule_terms == 64 * 64 + 1 &&
			     classifier_init(&k, &c->tables) == 0 &&
			     classifier_scan(&k, (const uint8_t *)msg, strlen(msg), &m) ==
				     SIP_VERDICT_FORWARD;
			if (ok) {
				classify(&k, (const uint8_t *)msg, &m, &pm, &f);
				decide(&c->tables, &f, &d);
				ok = d.rule == 64 && d.verdict == SIP_VERDICT_PUNT;
				classifier_free(&k);
			}
			config_free(c);
		} else {
			ok = strstr(err.text, "more than 4096 terms") != NULL;
		}
		_exit(ok ? 0 : 3);
	}
	int status = 0;
	free(t);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("64 conditions of 64 terms and a default rule: the loader %s",
			 WIFSIGNALED(status) ? "crashed" : "failed, or a sanitizer stopped it (see above)");
}

static void derived_term_limit(void **state)
{
	(void)state;
	size_t cap = 65536, n;
	char *t = malloc(cap);
	assert_non_null(t);
	for (unsigned derived = 64; derived <= 65; derived++) {
		n = (size_t)snprintf(t, cap, "flags = (\n");
		for (char c = 'A'; c <= 'L'; c++)
			n += (size_t)snprintf(t + n, cap - n,
					      "  { name = \"%c\"; header = \"X-%c\"; present = true; },\n", c, c);
		for (unsigned i = 0; i < derived; i++)
			n += (size_t)snprintf(t + n, cap - n,
					      "  { name = \"D%u\"; expr = \"(A or B) and (C or D) and (E or F) and "
					      "(G or H) and (I or J) and (K or L)\"; }%s\n",
					      i, i + 1 < derived ? "," : "");
		snprintf(t + n, cap - n, ");\n" POOL DEFAULT_ROUTE);
		if (derived == 64) {
			use(t);
			assert_int_equal(cfg->tables.n_expr_terms, 4096);
			struct result r = run(request("INVITE", "sip:b@example.com",
						      "X-A: 1\r\nX-D: 1\r\nX-E: 1\r\nX-H: 1\r\n"
						      "X-I: 1\r\nX-K: 1\r\n"));
			assert_true(flagset_has(&r.flags, 12));
			assert_true(flagset_has(&r.flags, 75));
		} else {
			assert_string_equal(load_error(t), "test.conf:78: flag D64: expr: more than 4096 "
							   "terms in all derived flags");
		}
	}
	free(t);
}

static void reply_reason_bounds(void **state)
{
	(void)state;
	char text[1024], reason[80];
	memset(reason, 'x', 63);
	reason[63] = 0;
	snprintf(text, sizeof(text), POOL "route = ( { then = \"reply 503 \\\"%s\\\"\"; } );\n",
		 reason);
	use(text);
	assert_string_equal(cfg->tables.actions[0].reply_reason, reason);
	memset(reason, 'x', 64);
	reason[64] = 0;
	snprintf(text, sizeof(text), POOL "route = ( { then = \"reply 503 \\\"%s\\\"\"; } );\n",
		 reason);
	assert_contains(load_error(text), "test.conf:2: route: then: reply 503: the reason must be one "
					  "quoted phrase of at most 63 characters");
	/* the RFC 3261 phrases when none is given, "Reply" for other codes */
	snprintf(text, sizeof(text),
		 "%s" POOL
		 "route = ( { when = \"A\"; then = \"reply 486\"; }, { when = \"A\"; then = \"reply 404\"; },\n"
		 "  { when = \"A\"; then = \"reply 603\"; }, { when = \"A\"; then = \"reply 299\"; },\n"
		 "  { when = \"A\"; then = \"reply 483\"; }, { then = \"reply 202\"; } );\n",
		 abc_flags);
	use(text);
	static const char *const phrases[] = { "Busy Here", "Not Found", "Decline", "Reply",
					       "Too Many Hops", "Accepted" };
	for (unsigned i = 0; i < 6; i++)
		assert_string_equal(cfg->tables.actions[i].reply_reason, phrases[i]);
}

/* ---- loading: what a config says, and how it fails ---- */

static void loaded_config_fields(void **state)
{
	(void)state;
	use_edge();
	assert_int_equal(cfg->n_flags, 15);
	assert_int_equal(cfg->n_rules, 8);
	assert_int_equal(cfg->n_pools, 2);
	assert_int_equal(cfg->tables.n_self_addrs, 2);
	assert_int_equal(cfg->tables.n_self_names, 2);
	assert_int_equal(cfg->tables.n_control_addrs, 2);
	assert_int_equal(cfg->tables.limits.max_msg_bytes, 16384);
	assert_int_equal(cfg->tables.limits.max_vias, 70);
	assert_string_equal(cfg->flags[0].name, "INTERNALLY_SOURCED");
	assert_int_equal(cfg->flags[0].line, 17);
	assert_string_equal(cfg->flags[0].doc, "our own monitoring and core network");
	assert_int_equal(cfg->flags[11].kind, FLAG_KIND_EXPR);
	assert_int_equal(cfg->rules[2].line, 61);
	const struct cfg_pool *core = &cfg->pools[0], *ca = &cfg->pools[1];
	assert_string_equal(core->name, "core");
	assert_int_equal(core->mode, POOL_MODE_DSR);
	assert_int_equal(core->n_nodes, 3);
	assert_string_equal(core->nodes[2].id, "b3-small");
	assert_string_equal(core->nodes[0].id, "b1");
	assert_int_equal(core->nodes[2].weight, 50);
	assert_int_equal(ca->mode, POOL_MODE_NAT);
	assert_int_equal(ca->probe.interval_ms, 500); /* defaults */
	assert_int_equal(ca->probe.down, 3);
	assert_int_equal(ca->probe.up, 2);
	assert_int_equal(ca->nodes[0].port, 5060);
	assert_int_equal(ca->nodes[0].weight, 100);
	assert_int_equal(ca->nodes[1].addr.family, AF_INET);
	assert_int_equal(ca->nodes[1].line, 54);
}

static void minimal_configs(void **state)
{
	(void)state;
	/* no balancer, no flags: one default rule */
	use(POOL DEFAULT_ROUTE);
	struct result r = run_from(request("INVITE", "sip:b@example.com", NULL), "192.0.2.1");
	assert_int_equal(r.d.rule, 0);
	assert_int_equal(r.d.verdict, SIP_VERDICT_FORWARD);
	assert_int_equal(cfg->tables.limits.max_msg_bytes, SIP_LIMIT_MSG_BYTES_DEFAULT);
	/* no pools either */
	use("route = ( { then = \"drop\"; } );");
	r = run(request("INVITE", "sip:b@example.com", NULL));
	assert_int_equal(r.d.verdict, SIP_VERDICT_DROP);
	/* flags = () is no flags */
	use("flags = ( );\nroute = ( { then = \"punt\"; } );");
	assert_int_equal(cfg->n_flags, 0);
}

static void load_errors_name_file_line_and_value(void **state)
{
	(void)state;
	assert_string_equal(load_error("flags = (\n  { name = \"A\"; method = \"IN VITE\"; }\n);\n"
				       POOL DEFAULT_ROUTE),
			    "test.conf:2: flag A: method: 'IN VITE' is not a SIP method token");
	assert_string_equal(load_error("flags = (\n  { name = \"A\"; method = \"INVITE\"; },\n"
				       "  { name = \"B\"; expr = \"A and (B\"; }\n);\n" POOL
				       DEFAULT_ROUTE),
			    "test.conf:3: flag B: expr \"A and (B\": unknown flag 'B' (or not "
			    "defined before this one)");
	assert_string_equal(load_error(POOL "\nroute = (\n { when = \"X\"; then = \"drop\"; },\n"
				       " { then = \"drop\"; } );\n"),
			    "test.conf:4: route: when \"X\": unknown flag 'X'");
	assert_contains(load_error("flags = ( { name = \"S\"; header = \"Subject\"; match = \"[a-\"; } );\n"
				   POOL DEFAULT_ROUTE),
			"test.conf:1: flag S: match \"[a-\": ");
	/* derived flags see only the flags before them */
	assert_string_equal(load_error("flags = (\n  { name = \"A\"; expr = \"A\"; }\n);\n" POOL
				       DEFAULT_ROUTE),
			    "test.conf:2: flag A: expr \"A\": unknown flag 'A' (or not defined before "
			    "this one)");
	assert_string_equal(load_error("flags = (\n  { name = \"A\"; expr = \"not B\"; },\n"
				       "  { name = \"B\"; method = \"BYE\"; }\n);\n" POOL DEFAULT_ROUTE),
			    "test.conf:2: flag A: expr \"not B\": unknown flag 'B' (or not defined "
			    "before this one)");
	/* a syntax error: libconfig's text, with the line */
	assert_string_equal(load_error("route = (\n { then = \"drop\" }\n"),
			    "test.conf:3: syntax: syntax error");
	/* the file's own errors */
	struct config_error err;
	struct siphon_config *c = (void *)&err;
	assert_int_equal(config_load("/nonexistent/siphon.conf", &c, &err), -ENOENT);
	assert_null(c);
	assert_string_equal(err.text, "/nonexistent/siphon.conf: No such file or directory");
}

static void flag_descriptions(void **state)
{
	(void)state;
	use("flags = (\n"
	    "  { name = \"S\"; source = [\"192.0.2.0/24\", \"2001:db8::/32\"]; doc = \"docs\"; },\n"
	    "  { name = \"M\"; method = [\"INVITE\", \"BYE\"]; },\n"
	    "  { name = \"T\"; transport = [\"tls\", \"wss\"]; },\n"
	    "  { name = \"H\"; header = \"user-agent\"; match = \"x\"; caseless = true; },\n"
	    "  { name = \"P\"; header = \"Route\"; present = true; },\n"
	    "  { name = \"E\"; expr = \"S and not (M or T)\"; }\n"
	    ");\n" POOL DEFAULT_ROUTE);
	assert_string_equal(cfg->flags[0].how, "source 192.0.2.0/24, 2001:db8::/32");
	assert_string_equal(cfg->flags[0].doc, "docs");
	assert_string_equal(cfg->flags[1].how, "method INVITE, BYE");
	assert_string_equal(cfg->flags[2].how, "transport TLS, WSS");
	assert_string_equal(cfg->flags[3].how, "header user-agent ~* \"x\"");
	assert_string_equal(cfg->flags[4].how, "header Route present");
	assert_string_equal(cfg->flags[5].how, "expr S and not (M or T)");
	assert_int_equal(cfg->flags[5].line, 7);
	assert_int_equal(cfg->flags[5].kind, FLAG_KIND_EXPR);
}

/* ---- expr_compile on its own ---- */

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(source_prefixes, teardown),
		cmocka_unit_test_teardown(source_default_routes, teardown),
		cmocka_unit_test_teardown(method_names, teardown),
		cmocka_unit_test_teardown(to_self_by_address_and_name, teardown),
		cmocka_unit_test_teardown(self_flags_need_the_balancer_section, teardown),
		cmocka_unit_test_teardown(own_probe_answer_by_top_via, teardown),
		cmocka_unit_test_teardown(in_dialog_by_to_tag, teardown),
		cmocka_unit_test_teardown(transport_of_arrival, teardown),
		cmocka_unit_test_teardown(header_present, teardown),
		cmocka_unit_test_teardown(header_match, teardown),
		cmocka_unit_test_teardown(header_first_value, teardown),
		cmocka_unit_test_teardown(derived_flags, teardown),
		cmocka_unit_test_teardown(first_matching_rule_wins, teardown),
		cmocka_unit_test_teardown(punt_and_pool_choice, teardown),
		cmocka_unit_test_teardown(boolean_operators, teardown),
		cmocka_unit_test_teardown(rate_limit_is_not_terminal, teardown),
		cmocka_unit_test_teardown(actions_as_written, teardown),
		cmocka_unit_test_teardown(options_seed_case, teardown),
		cmocka_unit_test_teardown(scanners, teardown),
		cmocka_unit_test_teardown(scanner_drops_never_reach_the_rules, teardown),
		cmocka_unit_test_teardown(a_hundred_flags, teardown),
		cmocka_unit_test_teardown(flag_limit_is_128, teardown),
		cmocka_unit_test_teardown(route_limits, teardown),
		cmocka_unit_test_teardown(route_term_limit_counts_the_default, teardown),
		cmocka_unit_test_teardown(derived_term_limit, teardown),
		cmocka_unit_test_teardown(reply_reason_bounds, teardown),
		cmocka_unit_test_teardown(loaded_config_fields, teardown),
		cmocka_unit_test_teardown(minimal_configs, teardown),
		cmocka_unit_test_teardown(load_errors_name_file_line_and_value, teardown),
		cmocka_unit_test_teardown(flag_descriptions, teardown),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR (tests/corpus; edge.conf is found from it)\n",
			argv[0]);
		return 2;
	}
	snprintf(edge_path, sizeof(edge_path), "%s/../../docs/examples/edge.conf", argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
