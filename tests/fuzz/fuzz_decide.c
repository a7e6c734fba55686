/* Fuzz harness over the one decision path (common/decide.c): the input's
 * first byte picks the packet's meta (UDP or TCP, SYN, family, source),
 * the rest is the L4 payload. Besides "no crash, no sanitizer report" it
 * checks (abort() on a breach):
 *   - the verdict is the one its reason names, the rule and node exist;
 *   - a forwarded message goes to a live node of the pool its rule chose
 *     (a nid never leads out of it), with no more bytes than it has;
 *   - the same input decides the same twice;
 *   - every segment of a TCP connection that is forwarded goes to the node
 *     its SYN went to, unless the grace register had no room for it;
 *   - the fast path's lazy flags (ctx.lazy_flags) decide the same verdict,
 *     reason, rule, rate-limit rules, pool, node and bytes as every flag,
 *     every flag they computed has its full value, and they make no more
 *     Hyperscan calls (docs/design.md "Classify");
 *   - the literal pre-check (docs/scanner.md) changes nothing: with it off
 *     (every header scanned) both paths give the same flags and decision,
 *     and on each header value its "surely no match" is Hyperscan's too.
 * The pools with two nodes are in the grace period of a previous table
 * that differs in a third of the slots (or past it: bit 4 of the first
 * byte), with a tiny grace register shared by the inputs, so that notes,
 * reads and full buckets all happen. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "fuzz_check.h"

#include "config.h"
#include "siphon/decide.h"

static const char conf[] =
	"balancer = { addresses = [\"198.51.100.10\", \"2001:db8:10::10\"];\n"
	"  names = [\"lb.example.com\"]; control = [\"198.51.100.2\"]; };\n"
	"flags = (\n"
	"  { name = \"INSIDE\"; source = [\"198.51.100.0/24\", \"2001:db8:5::/48\"]; },\n"
	"  { name = \"CARRIER\"; source = [\"192.0.2.0/24\"]; },\n"
	"  { name = \"DEAD_NET\"; source = [\"203.0.113.128/25\"]; },\n"
	"  { name = \"OPTIONS\"; method = \"OPTIONS\"; },\n"
	"  { name = \"TO_SELF\"; to_self = true; },\n"
	"  { name = \"PROBE\"; own_probe_answer = true; },\n"
	"  { name = \"DIALOG\"; in_dialog = true; },\n"
	"  { name = \"UA\"; header = \"User-Agent\"; caseless = true; match = \"scanner\"; },\n"
	"  { name = \"PRIO\"; header = \"Resource-Priority\"; present = true; },\n"
	"  { name = \"FROMX\"; header = \"From\"; caseless = true; match = \"^\\\"?evil\"; },\n"
	"  { name = \"EMERG\"; header = \"Resource-Priority\"; match = \"esnet\\\\.[0-9]\"; },\n"
	"  { name = \"TRUST\"; expr = \"INSIDE or CARRIER\"; },\n"
	"  { name = \"BAD\"; expr = \"FROMX and not DIALOG and not TRUST\"; }\n"
	");\n"
	"pools = (\n"
	"  { name = \"core\"; nodes = ( { name = \"b1\"; address = \"198.51.100.21\"; },\n"
	"      { name = \"b2\"; address = \"198.51.100.22\"; } ); },\n"
	"  { name = \"nat\"; mode = \"nat\"; nodes = ( { name = \"b1\"; address = \"198.51.100.31\"; },\n"
	"      { name = \"a2\"; address = \"198.51.100.32\"; } ); },\n"
	"  { name = \"dead\"; nodes = ( { name = \"d1\"; address = \"198.51.100.41\"; weight = 0; } ); }\n"
	");\n"
	"route = (\n"
	"  { when = \"UA\"; then = \"drop\"; },\n"
	"  { when = \"BAD or (EMERG and TO_SELF)\"; then = \"drop\"; },\n"
	"  { when = \"PROBE\"; then = \"punt\"; },\n"
	"  { when = \"OPTIONS and not INSIDE\"; then = \"rate-limit 10/s\"; },\n"
	"  { when = \"OPTIONS and TO_SELF\"; then = \"reply 200 \\\"OK\\\"\"; },\n"
	"  { when = \"DEAD_NET\"; then = \"pool dead\"; },\n"
	"  { when = \"PRIO\"; then = \"pool nat\"; },\n"
	"  { when = \"CARRIER\"; then = \"pool nat\"; },\n"
	"  { then = \"pool core\"; }\n"
	");\n";

static const char *const sources4[] = { "198.51.100.21", "192.0.2.7", "203.0.113.200",
					 "203.0.113.5" };

#define GRACE_UNTIL 2000 /* the inputs run at 1000 (in the grace period) or 3000 */

static struct siphon_config *cfg;
static struct classifier cls;
static struct grace_calls *gc;
static unsigned inputs;

/* Each pool with two nodes or more: a previous table, another node in
 * every third slot. */
static void previous_tables(struct compiled_tables *t)
{
	for (uint32_t p = 0; p < t->n_pools; p++) {
		struct pool_table *pt = &t->pools[p];
		uint16_t *prev;

		if (pt->n_nodes < 2)
			continue;
		prev = malloc(pt->maglev.size * sizeof(*prev));
		CHECK(prev != NULL);
		for (uint32_t i = 0; i < pt->maglev.size; i++) {
			uint16_t n = pt->maglev.slots[i];

			prev[i] = i % 3 || n >= pt->n_nodes ? n : (uint16_t)((n + 1) % pt->n_nodes);
		}
		pt->previous = (struct maglev_table){ pt->maglev.size, prev };
		pt->previous_until = GRACE_UNTIL;
	}
}

static void setup(void)
{
	struct config_error err;

	/* one bucket, six of its eight entries taken by other calls: the
	 * inputs fill it soon; a fresh one now and then, so that it is not
	 * always full */
	if (inputs++ % 4096 == 0) {
		grace_calls_free(gc);
		gc = grace_calls_new(0);
		CHECK(gc != NULL);
		for (uint64_t i = 1; i <= 6; i++)
			CHECK(grace_calls_note(gc, i << 32, GRACE_UNTIL, 1000) == GRACE_NOTED);
	}
	if (cfg)
		return;
	CHECK(config_load_text("fuzz.conf", conf, &cfg, &err) == 0);
	CHECK(classifier_init(&cls, &cfg->tables) == 0);
	previous_tables(&cfg->tables);
}

static void meta_from(uint8_t sel, struct packet_meta *pm)
{
	static const uint8_t v6src[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9 };
	static const uint8_t v6dst[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10 };

	memset(pm, 0, sizeof(*pm));
	pm->transport = sel & 1 ? TRANSPORT_TCP : TRANSPORT_UDP;
	pm->tcp_syn = (sel & 2) != 0;
	pm->sport = (uint16_t)(40000 + (sel >> 6));
	pm->dport = 5060;
	if (sel & 0x20) {
		pm->family = AF_INET6;
		memcpy(pm->src, v6src, 16);
		memcpy(pm->dst, v6dst, 16);
	} else {
		pm->family = AF_INET;
		inet_pton(AF_INET, sources4[(sel >> 2) & 3], pm->src);
		pm->dst[0] = 198, pm->dst[1] = 51, pm->dst[2] = 100, pm->dst[3] = 10;
	}
}

/* The lazy decision against the full one of the same input. */
static void check_lazy(const struct msg_decision *full, const struct msg_decision *lazy)
{
	CHECK(full->verdict == lazy->verdict && full->reason == lazy->reason &&
	      full->rule == lazy->rule && full->pool == lazy->pool &&
	      full->node.node == lazy->node.node && full->fwd_len == lazy->fwd_len &&
	      full->incomplete == lazy->incomplete && full->classified == lazy->classified &&
	      full->stream_rule_ignored == lazy->stream_rule_ignored);
	CHECK(full->n_rate_limits == lazy->n_rate_limits);
	CHECK(memcmp(full->rate_limits, lazy->rate_limits,
		     full->n_rate_limits * sizeof(full->rate_limits[0])) == 0);
	CHECK(lazy->hs_scans <= full->hs_scans);
	if (!full->classified)
		return;
	for (unsigned i = 0; i < FLAGSET_WORDS; i++) {
		CHECK((lazy->flags.w[i] & ~lazy->known.w[i]) == 0);
		CHECK(((full->flags.w[i] ^ lazy->flags.w[i]) & lazy->known.w[i]) == 0);
	}
}

/* The same decision and flags with the pre-check off, and on every value
 * of a header with a pre-check it says "no match" only when Hyperscan
 * finds none of that header's patterns. */
static void check_precheck(struct decide_ctx *ctx, const uint8_t *p, size_t len,
			   const struct packet_meta *pm, const struct msg_decision *with)
{
	static struct msg_decision without;
	const struct compiled_tables *t = &cfg->tables;

	cls.precheck_off = true;
	decide_message(ctx, p, len, pm, &without);
	cls.precheck_off = false;
	CHECK(with->verdict == without.verdict && with->reason == without.reason &&
	      with->rule == without.rule && with->classified == without.classified &&
	      with->hs_scans == without.hs_scans);
	if (!with->classified)
		return;
	CHECK(flagset_equal(&with->flags, &without.flags) && flagset_equal(&with->known, &without.known));
	for (unsigned h = 0; h < t->headers.count; h++) {
		const uint8_t *v = p + with->msg.extra[h].off;
		const size_t n = with->msg.extra[h].len;
		struct flagset all = { { 0 } };

		if (!with->msg.extra_count[h] || !(cls.precheck_headers & (1u << h)))
			continue;
		CHECK(hs_precheck_may_match(&cls.precheck[h], v, n) ==
		      hs_precheck_may_match_scalar(&cls.precheck[h], v, n));
		if (hs_precheck_may_match(&cls.precheck[h], v, n))
			continue;
		/* every flag computed: what Hyperscan set on this header, none */
		cls.precheck_off = true;
		classify(&cls, p, &with->msg, pm, &all);
		cls.precheck_off = false;
		for (unsigned w = 0; w < FLAGSET_WORDS; w++)
			CHECK((all.w[w] & cls.header_match[h].w[w]) == 0);
	}
}

static void check_one(const struct msg_decision *d, size_t len)
{
	const struct compiled_tables *t = &cfg->tables;

	CHECK(sip_reason_verdict(d->reason) == d->verdict);
	CHECK(d->rule >= -1 && d->rule < (int)t->n_rules);
	CHECK(d->n_rate_limits <= DECISION_MAX_RATE_LIMITS);
	if (d->verdict != SIP_VERDICT_FORWARD)
		return;
	CHECK(d->rule >= 0 && d->pool >= 0 && (uint32_t)d->pool < t->n_pools);
	CHECK(t->actions[d->rule].kind == ACTION_POOL && t->actions[d->rule].pool == d->pool);
	CHECK(d->node.node >= 0 && (uint32_t)d->node.node < t->n_nodes);
	CHECK(t->nodes[d->node.node].pool == d->pool && t->nodes[d->node.node].up);
	CHECK(d->fwd_len <= len);
	CHECK(d->stream || d->fwd_len == d->msg.msg_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct decide_ctx ctx = { &cls, NULL, 1000, 1000000, NULL };
	struct msg_decision a, b, syn, lz;
	struct decide_ctx lazy;
	struct packet_meta pm;

	setup();
	if (size < 1)
		return 0;
	ctx.grace_calls = gc;
	ctx.now_s = data[0] & 0x10 ? 3000 : 1000;
	meta_from(data[0], &pm);
	decide_message(&ctx, data + 1, size - 1, &pm, &a);
	check_one(&a, size - 1);
	decide_message(&ctx, data + 1, size - 1, &pm, &b);
	CHECK(a.verdict == b.verdict && a.reason == b.reason && a.rule == b.rule &&
	      a.node.node == b.node.node && a.fwd_len == b.fwd_len);
	lazy = ctx;
	lazy.lazy_flags = true;
	decide_message(&lazy, data + 1, size - 1, &pm, &lz);
	check_lazy(&b, &lz);
	check_precheck(&lazy, data + 1, size - 1, &pm, &lz);
	check_precheck(&ctx, data + 1, size - 1, &pm, &b);
	CHECK(!a.node.grace_noted || ctx.now_s < GRACE_UNTIL);
	if (pm.transport == TRANSPORT_TCP && !pm.tcp_syn && a.verdict == SIP_VERDICT_FORWARD) {
		/* the SYN first: in the grace period a connection opened before
		 * it (a, not noted) may stay on the previous table's node */
		pm.tcp_syn = true;
		decide_message(&ctx, NULL, 0, &pm, &syn);
		check_one(&syn, 0);
		CHECK(syn.verdict == SIP_VERDICT_FORWARD);
		pm.tcp_syn = false;
		decide_message(&ctx, data + 1, size - 1, &pm, &b);
		check_one(&b, size - 1);
		/* noted (or not in a grace period): on the SYN's node; its bucket
		 * full: where the segment went before the SYN was seen */
		CHECK(syn.node.grace_full ? b.node.node == a.node.node : b.node.node == syn.node.node);
	}
	return 0;
}
