/* Lazy classification (docs/design.md "Classify"): decide_message() with
 * ctx.lazy_flags, the fast path's, against the same call computing every
 * flag, explain's. For every corpus message and example message, under
 * every example config, from sources in and out of each config's prefixes,
 * over UDP, TCP and TLS:
 *   - the same verdict, reason, rule, rate-limit rules, pool, node, bytes;
 *   - every flag the lazy path computed has its full value (flags within
 *     known, equal to the full flags there);
 *   - no more Hyperscan calls than the full path;
 *   - the literal pre-check changes no flag (precheck_changes_no_flag).
 * And the budget itself: under edge.conf a response and an in-dialog
 * request make the scans the first rule (SCANNER: a match on User-Agent,
 * when there is one, or on From, which every message has) needs, and none
 * at all once that rule is narrowed with IN_DIALOG. */
#include <arpa/inet.h>
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "siphon/decide.h"
#include "config.h"

static char root[4096]; /* the source tree */

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = malloc(70000);

	assert_non_null(f);
	assert_non_null(buf);
	*len = fread(buf, 1, 70000, f);
	fclose(f);
	return buf;
}

struct input {
	char name[256];
	uint8_t *buf;
	size_t len;
};

static struct input inputs[512];
static unsigned n_inputs;

static void add_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	assert_non_null(d);
	while ((de = readdir(d))) {
		char path[4096 + 256];
		size_t n = strlen(de->d_name);

		if (n < 5 || strcmp(de->d_name + n - 4, ".sip") != 0)
			continue;
		assert_true(n_inputs < sizeof(inputs) / sizeof(inputs[0]));
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		snprintf(inputs[n_inputs].name, sizeof(inputs[0].name), "%s", de->d_name);
		inputs[n_inputs].buf = slurp(path, &inputs[n_inputs].len);
		n_inputs++;
	}
	closedir(d);
}

static void load_inputs(void)
{
	char dir[4096 + 32];

	if (n_inputs)
		return;
	snprintf(dir, sizeof(dir), "%s/tests/corpus", root);
	add_dir(dir);
	snprintf(dir, sizeof(dir), "%s/docs/examples", root);
	add_dir(dir);
	assert_true(n_inputs > 150);
}

static const char *const sources[] = {
	NULL,		  /* unknown */
	"192.0.2.7",	  /* edge.conf CARRIER_A */
	"192.0.2.200",	  /* CARRIER_B */
	"198.51.100.21",  /* a node (b1): own_probe_answer */
	"198.51.100.50",  /* INTERNALLY_SOURCED */
	"203.0.113.9",	  /* nobody */
	"198.18.0.77",	  /* the bpf configs' range */
	"2001:db8:5::9",  /* v6 internal */
	"2001:db8:b::1",  /* v6 CARRIER_B */
	"2001:db8:99::1", /* v6 nobody */
};

static void meta(const char *src, enum transport tr, struct packet_meta *pm)
{
	memset(pm, 0, sizeof(*pm));
	pm->transport = tr;
	pm->sport = 40000, pm->dport = 5060;
	if (!src)
		return;
	if (inet_pton(AF_INET, src, pm->src) == 1) {
		pm->family = AF_INET;
		pm->dst[0] = 198, pm->dst[1] = 51, pm->dst[2] = 100, pm->dst[3] = 10;
	} else {
		assert_int_equal(inet_pton(AF_INET6, src, pm->src), 1);
		pm->family = AF_INET6;
		pm->dst[0] = 0x20, pm->dst[1] = 0x01, pm->dst[15] = 0x10;
	}
}

/* Lazy against full for one message; returns the lazy scans. */
static unsigned compare(const struct classifier *cls, const struct input *in,
			const struct packet_meta *pm, const char *conf)
{
	struct decide_ctx full = { cls, NULL, 1000, 1000000, NULL }, lazy = full;
	static struct msg_decision a, b;

	lazy.lazy_flags = true;
	decide_message(&full, in->buf, in->len, pm, &a);
	decide_message(&lazy, in->buf, in->len, pm, &b);
	if (a.verdict != b.verdict || a.reason != b.reason || a.rule != b.rule ||
	    a.pool != b.pool || a.node.node != b.node.node || a.node.by != b.node.by ||
	    a.fwd_len != b.fwd_len || a.n_rate_limits != b.n_rate_limits ||
	    a.classified != b.classified || a.stream_rule_ignored != b.stream_rule_ignored)
		fail_msg("%s under %s (family %d, transport %d): full %s/%s rule %d node %d, "
			 "lazy %s/%s rule %d node %d", in->name, conf, pm->family, pm->transport,
			 sip_verdict_name(a.verdict), sip_reason_name(a.reason), a.rule, a.node.node,
			 sip_verdict_name(b.verdict), sip_reason_name(b.reason), b.rule, b.node.node);
	assert_memory_equal(a.rate_limits, b.rate_limits, a.n_rate_limits * sizeof(a.rate_limits[0]));
	if (a.classified) {
		assert_true(flagset_equal(&a.known, &cls->all));
		for (unsigned i = 0; i < FLAGSET_WORDS; i++) {
			if (b.flags.w[i] & ~b.known.w[i])
				fail_msg("%s under %s: a flag set but not computed", in->name, conf);
			if ((a.flags.w[i] ^ b.flags.w[i]) & b.known.w[i])
				fail_msg("%s under %s: a computed flag differs", in->name, conf);
		}
	}
	assert_true(b.hs_scans <= a.hs_scans);
	return b.hs_scans;
}

struct totals {
	unsigned messages, full_scans, lazy_scans;
};

static void compare_config(const struct siphon_config *cfg, const char *conf, struct totals *tot)
{
	static const enum transport trs[] = { TRANSPORT_UDP, TRANSPORT_TCP, TRANSPORT_TLS };
	struct classifier cls;

	assert_int_equal(classifier_init(&cls, &cfg->tables), 0);
	assert_true(cls.lazy_ok);
	for (unsigned i = 0; i < n_inputs; i++)
		for (unsigned s = 0; s < sizeof(sources) / sizeof(sources[0]); s++)
			for (unsigned k = 0; k < sizeof(trs) / sizeof(trs[0]); k++) {
				struct packet_meta pm;
				struct decide_ctx full = { &cls, NULL, 1000, 1000000, NULL };
				struct msg_decision a;

				meta(sources[s], trs[k], &pm);
				tot->lazy_scans += compare(&cls, &inputs[i], &pm, conf);
				decide_message(&full, inputs[i].buf, inputs[i].len, &pm, &a);
				tot->full_scans += a.hs_scans;
				tot->messages++;
			}
	classifier_free(&cls);
}

static struct siphon_config *load_file(const char *rel)
{
	struct config_error err;
	struct siphon_config *cfg;
	char path[4096 + 64];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	if (config_load(path, &cfg, &err))
		fail_msg("%s: %s", path, err.text);
	return cfg;
}

static void lazy_equals_full_on_every_example_config(void **state)
{
	static const char *const confs[] = { "docs/examples/edge.conf", "packaging/siphon.conf",
					     "tests/bpf/parity.conf", "tests/bpf/lab.conf",
					     "tests/bpf/fib.conf" };
	(void)state;
	load_inputs();
	for (unsigned c = 0; c < sizeof(confs) / sizeof(confs[0]); c++) {
		struct siphon_config *cfg = load_file(confs[c]);
		struct totals tot = { 0 };

		compare_config(cfg, confs[c], &tot);
		printf("# %s: %u decisions, Hyperscan calls: full %u, lazy %u\n", confs[c],
		       tot.messages, tot.full_scans, tot.lazy_scans);
		assert_true(tot.messages > 0 && tot.lazy_scans <= tot.full_scans);
		config_free(cfg);
	}
}

/* Every kind of flag, derived flags over derived flags, match flags on
 * parsed and unparsed headers, negations in rules and expressions. */
static const char every_kind[] =
	"balancer = { addresses = [\"198.51.100.10\", \"2001:db8:10::10\"];\n"
	"  names = [\"lb.example.com\", \"sip.example.com\"]; control = [\"198.51.100.2\"]; };\n"
	"flags = (\n"
	"  { name = \"INSIDE\"; source = [\"198.51.100.0/24\", \"2001:db8:5::/48\"]; },\n"
	"  { name = \"CARRIER\"; source = [\"192.0.2.0/24\", \"2001:db8:b::/48\"]; },\n"
	"  { name = \"INVITE\"; method = [\"INVITE\", \"UPDATE\"]; },\n"
	"  { name = \"OPTIONS\"; method = \"OPTIONS\"; },\n"
	"  { name = \"REGISTER\"; method = \"REGISTER\"; },\n"
	"  { name = \"TO_SELF\"; to_self = true; },\n"
	"  { name = \"PROBE\"; own_probe_answer = true; },\n"
	"  { name = \"DIALOG\"; in_dialog = true; },\n"
	"  { name = \"STREAM\"; transport = [\"TCP\", \"TLS\"]; },\n"
	"  { name = \"UA_SCAN\"; header = \"User-Agent\"; caseless = true;\n"
	"    match = \"scanner|sipvicious|sipcli|sip-scan\"; },\n"
	"  { name = \"UA_SIPP\"; header = \"User-Agent\"; match = \"^SIPp\"; },\n"
	"  { name = \"FROM_V\"; header = \"From\"; caseless = true; match = \"^\\\"?sipvicious\"; },\n"
	"  { name = \"FROM_ALICE\"; header = \"From\"; match = \"alice\"; },\n"
	"  { name = \"CT_SDP\"; header = \"Content-Type\"; caseless = true; match = \"application/sdp\"; },\n"
	"  { name = \"HAS_ROUTE\"; header = \"Route\"; present = true; },\n"
	"  { name = \"HAS_SUBJ\"; header = \"Subject\"; present = true; },\n"
	"  { name = \"SCANNER\"; expr = \"UA_SCAN or FROM_V\"; },\n"
	"  { name = \"NEW_CALL\"; expr = \"INVITE and not DIALOG\"; },\n"
	"  { name = \"TRUSTED\"; expr = \"INSIDE or CARRIER\"; },\n"
	"  { name = \"ODD\"; expr = \"(NEW_CALL and not TRUSTED) or (SCANNER and STREAM) or (HAS_ROUTE and not DIALOG)\"; }\n"
	");\n"
	"pools = (\n"
	"  { name = \"core\"; nodes = ( { name = \"b1\"; address = \"198.51.100.21\"; },\n"
	"      { name = \"b2\"; address = \"198.51.100.22\"; } ); },\n"
	"  { name = \"alt\"; nodes = ( { name = \"a1\"; address = \"198.51.100.31\"; } ); }\n"
	");\n"
	"route = (\n"
	"  { when = \"SCANNER and not TRUSTED\"; then = \"drop\"; },\n"
	"  { when = \"PROBE\"; then = \"punt\"; },\n"
	"  { when = \"OPTIONS or REGISTER\"; then = \"rate-limit 10/s\"; },\n"
	"  { when = \"OPTIONS and TO_SELF\"; then = \"reply 200 \\\"OK\\\"\"; },\n"
	"  { when = \"REGISTER and not FROM_ALICE\"; then = \"rate-limit 5/s\"; },\n"
	"  { when = \"ODD and CT_SDP\"; then = \"pool alt\"; },\n"
	"  { when = \"UA_SIPP or HAS_SUBJ\"; then = \"pool alt\"; },\n"
	"  { when = \"not DIALOG and FROM_ALICE and not CT_SDP\"; then = \"reply 403\"; },\n"
	"  { then = \"pool core\"; }\n"
	");\n";

static void lazy_equals_full_on_every_kind(void **state)
{
	struct config_error err;
	struct siphon_config *cfg;
	struct totals tot = { 0 };

	(void)state;
	load_inputs();
	if (config_load_text("every-kind.conf", every_kind, &cfg, &err))
		fail_msg("%s", err.text);
	compare_config(cfg, "every-kind.conf", &tot);
	printf("# every-kind.conf: %u decisions, Hyperscan calls: full %u, lazy %u\n", tot.messages,
	       tot.full_scans, tot.lazy_scans);
	/* laziness saves scans here: its early rules decide without a match flag */
	assert_true(tot.messages > 0 && tot.lazy_scans < tot.full_scans);
	config_free(cfg);
}

static const struct input *input(const char *name)
{
	load_inputs();
	for (unsigned i = 0; i < n_inputs; i++)
		if (strcmp(inputs[i].name, name) == 0)
			return &inputs[i];
	fail_msg("no input %s", name);
	return NULL;
}

static unsigned lazy_scans(const struct classifier *cls, const char *name, const char *src)
{
	struct decide_ctx ctx = { cls, NULL, 1000, 1000000, NULL, .lazy_flags = true };
	struct packet_meta pm;
	struct msg_decision d;
	const struct input *in = input(name);

	meta(src, TRANSPORT_UDP, &pm);
	decide_message(&ctx, in->buf, in->len, &pm, &d);
	assert_int_equal(d.verdict, SIP_VERDICT_FORWARD);
	return d.hs_scans;
}

/* edge.conf's first rule is SCANNER = SCANNER_UA or SIPVICIOUS_FROM, a
 * match on From, which every message has: every message needs that scan,
 * and one of User-Agent when it is there (one call per header: the
 * patterns are per header, docs/design.md "Classify"). With the rule narrowed to
 * messages out of a dialog (as docs/config.md advises for the kernel lane)
 * a response and an in-dialog request make none. */
static void hyperscan_budget_under_edge(void **state)
{
	static const char *const dialog[] = { "02-ringing.sip", "03-ok.sip", "04-bye.sip",
					      "002-ack-in-dialog.sip", "003-bye-route-set.sip" };
	struct siphon_config *cfg = load_file("docs/examples/edge.conf");
	struct classifier cls;
	char path[4096 + 64], *text, *at;
	size_t len;
	struct config_error err;

	(void)state;
	assert_int_equal(classifier_init(&cls, &cfg->tables), 0);
	for (unsigned i = 0; i < sizeof(dialog) / sizeof(dialog[0]); i++) {
		const struct input *in = input(dialog[i]);
		const unsigned want = memmem(in->buf, in->len, "User-Agent:", 11) ? 2 : 1;

		assert_int_equal(lazy_scans(&cls, dialog[i], "203.0.113.9"), want);
		assert_int_equal(lazy_scans(&cls, dialog[i], "192.0.2.7"), want);
	}
	classifier_free(&cls);
	config_free(cfg);

	snprintf(path, sizeof(path), "%s/docs/examples/edge.conf", root);
	text = (char *)slurp(path, &len);
	text[len] = 0;
	at = strstr(text, "when = \"SCANNER\";  ");
	assert_non_null(at);
	memcpy(at, "when = \"SCANNER and not IN_DIALOG\";", strlen("when = \"SCANNER and not IN_DIALOG\";"));
	if (config_load_text("edge-narrowed.conf", text, &cfg, &err))
		fail_msg("%s", err.text);
	assert_int_equal(classifier_init(&cls, &cfg->tables), 0);
	for (unsigned i = 0; i < sizeof(dialog) / sizeof(dialog[0]); i++) {
		assert_int_equal(lazy_scans(&cls, dialog[i], "203.0.113.9"), 0);
		assert_int_equal(lazy_scans(&cls, dialog[i], "192.0.2.7"), 0);
		assert_int_equal(lazy_scans(&cls, dialog[i], "2001:db8:5::9"), 0);
	}
	/* an initial INVITE still meets the scanner rule: User-Agent and From */
	assert_int_equal(lazy_scans(&cls, "01-invite.sip", "203.0.113.9"), 2);
	classifier_free(&cls);
	config_free(cfg);
	free(text);
}

/* Each header's own Hyperscan database (what classify() scans) against
 * the database of every pattern filtered by header (the section without
 * its directory, as an older blob has it): every flag of every message
 * the same, under edge.conf and every-kind. */
static void header_databases_equal_the_one(void **state)
{
	struct siphon_config *cfgs[2];
	struct config_error err;

	(void)state;
	load_inputs();
	cfgs[0] = load_file("docs/examples/edge.conf");
	if (config_load_text("every-kind.conf", every_kind, &cfgs[1], &err))
		fail_msg("%s", err.text);
	for (unsigned c = 0; c < 2; c++) {
		const struct compiled_tables *t = &cfgs[c]->tables;
		struct compiled_tables one = *t;
		struct classifier split, whole;
		struct hs_db_entry first;
		uint32_t n, magic;

		/* the first database alone: its length is the directory's first entry */
		memcpy(&magic, (const uint8_t *)t->hs_db + t->hs_db_len - 4, 4);
		memcpy(&n, (const uint8_t *)t->hs_db + t->hs_db_len - 8, 4);
		assert_int_equal(magic, HS_DB_MAGIC);
		assert_true(n >= 2);
		memcpy(&first, (const uint8_t *)t->hs_db + t->hs_db_len - 8 - n * sizeof(first),
		       sizeof(first));
		one.hs_db_len = first.len;
		assert_int_equal(classifier_init(&split, t), 0);
		assert_int_equal(classifier_init(&whole, &one), 0);
		for (unsigned h = 0; h < t->headers.count; h++) {
			assert_null(whole.header_db[h]);
			assert_true(!(split.pattern_headers & (1u << h)) || split.header_db[h]);
		}
		for (unsigned i = 0; i < n_inputs; i++)
			for (unsigned s = 0; s < sizeof(sources) / sizeof(sources[0]); s++) {
				struct packet_meta pm;
				struct sip_msg msg;
				struct flagset a, b;

				meta(sources[s], TRANSPORT_UDP, &pm);
				if (classifier_scan(&split, inputs[i].buf, inputs[i].len, &msg) !=
				    SIP_VERDICT_FORWARD)
					continue;
				classify(&split, inputs[i].buf, &msg, &pm, &a);
				classify(&whole, inputs[i].buf, &msg, &pm, &b);
				if (!flagset_equal(&a, &b))
					fail_msg("%s: per-header databases and the one differ", inputs[i].name);
			}
		classifier_free(&split);
		classifier_free(&whole);
		config_free(cfgs[c]);
	}
}

/* The literal pre-check (docs/scanner.md) changes no flag: for every
 * corpus and example message under every example config (and every-kind),
 * from every source over UDP, TCP and TLS, classify() and the lazy path
 * give the same flags with it and without it (every header scanned); the
 * SSE2 search and the scalar one agree on every value of a header that has
 * a pre-check. Under edge.conf it spares scans. */
static void precheck_changes_no_flag(void **state)
{
	static const char *const confs[] = { "docs/examples/edge.conf", "packaging/siphon.conf",
					     "tests/bpf/parity.conf", "tests/bpf/lab.conf",
					     "tests/bpf/fib.conf", NULL };
	static const enum transport trs[] = { TRANSPORT_UDP, TRANSPORT_TCP, TRANSPORT_TLS };

	(void)state;
	load_inputs();
	for (unsigned c = 0; c < sizeof(confs) / sizeof(confs[0]); c++) {
		struct siphon_config *cfg;
		struct config_error err;
		struct classifier cls;
		unsigned spared = 0, scanned = 0, values = 0;

		if (confs[c])
			cfg = load_file(confs[c]);
		else if (config_load_text("every-kind.conf", every_kind, &cfg, &err))
			fail_msg("%s", err.text);
		assert_int_equal(classifier_init(&cls, &cfg->tables), 0);
		for (unsigned i = 0; i < n_inputs; i++) {
			struct sip_msg msg;

			if (classifier_scan(&cls, inputs[i].buf, inputs[i].len, &msg) != SIP_VERDICT_FORWARD)
				continue;
			for (unsigned h = 0; h < cfg->tables.headers.count; h++) {
				const uint8_t *v = inputs[i].buf + msg.extra[h].off;

				if (!msg.extra_count[h] || !(cls.precheck_headers & (1u << h)))
					continue;
				values++;
				assert_int_equal(hs_precheck_may_match(&cls.precheck[h], v, msg.extra[h].len),
						 hs_precheck_may_match_scalar(&cls.precheck[h], v,
									      msg.extra[h].len));
			}
			for (unsigned s = 0; s < sizeof(sources) / sizeof(sources[0]); s++)
				for (unsigned k = 0; k < sizeof(trs) / sizeof(trs[0]); k++) {
					struct packet_meta pm;
					struct flagset with, without;
					struct flag_eval e1, e2;
					struct decision d1, d2;

					meta(sources[s], trs[k], &pm);
					cls.precheck_off = false;
					classify(&cls, inputs[i].buf, &msg, &pm, &with);
					flag_eval_init(&e1, &cls, inputs[i].buf, &msg, &pm);
					decide_lazy(&e1, &d1);
					cls.precheck_off = true;
					classify(&cls, inputs[i].buf, &msg, &pm, &without);
					flag_eval_init(&e2, &cls, inputs[i].buf, &msg, &pm);
					decide_lazy(&e2, &d2);
					if (!flagset_equal(&with, &without) || !flagset_equal(&e1.value, &e2.value) ||
					    !flagset_equal(&e1.known, &e2.known) || d1.rule != d2.rule ||
					    d1.verdict != d2.verdict || d1.reason != d2.reason)
						fail_msg("%s under %s: the pre-check changed a flag or the decision",
							 inputs[i].name, confs[c] ? confs[c] : "every-kind.conf");
					assert_int_equal(e1.hs_scans, e2.hs_scans);
					assert_int_equal(e2.hs_spared, 0);
					spared += e1.hs_spared;
					scanned += e1.hs_scans;
				}
		}
		printf("# %s: %u header values pre-checked; lazy path: %u of %u scans spared\n",
		       confs[c] ? confs[c] : "every-kind.conf", values, spared, scanned);
		if (c == 0)
			assert_true(cls.precheck_headers != 0 && spared > 0);
		classifier_free(&cls);
		config_free(cfg);
	}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lazy_equals_full_on_every_example_config),
		cmocka_unit_test(lazy_equals_full_on_every_kind),
		cmocka_unit_test(hyperscan_budget_under_edge),
		cmocka_unit_test(header_databases_equal_the_one),
		cmocka_unit_test(precheck_changes_no_flag),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR (tests/corpus; the tree is found from it)\n",
			argv[0]);
		return 2;
	}
	snprintf(root, sizeof(root), "%s/../..", argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
