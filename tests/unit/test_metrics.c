/* Metrics (docs/metrics.md) without sockets: the COUNTERS message built,
 * checked and refused when corrupt (common/gen_counters.c); the exact
 * exposition text and the `stats` result for a known snapshot
 * (controlplane/siphond/metrics_text.c, stats_rpc.c); the `stats` method
 * through the RPC table, with the snapshot fed to the publisher as a fast
 * path would send it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "dns.h"
#include "metrics.h"
#include "siphon/gen_counters.h"

/* What the siphond files under test take from the rest of siphond. */
static char last_log[1024];

void siphond_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_log, sizeof(last_log), fmt, ap);
	va_end(ap);
}

struct generation *gen_ref(struct generation *g)
{
	if (g)
		g->refs++;
	return g;
}

void gen_unref(struct generation *g)
{
	if (g)
		g->refs--;
}

static const char CONF[] =
	"balancer = { addresses = [\"198.51.100.10\"]; };\n"
	"flags = ( { name = \"OPTIONS\"; method = \"OPTIONS\"; },\n"
	"          { name = \"LOCAL\"; source = \"192.0.2.0/24\"; } );\n"
	"pools = ( { name = \"core\"; nodes = ( { name = \"b1\"; address = \"198.51.100.21\"; },\n"
	"                                      { name = \"b2\"; address = \"198.51.100.22\"; } ); } );\n"
	"route = ( { when = \"OPTIONS\"; then = \"drop\"; },\n"
	"          { then = \"pool core\"; } );\n";

static struct siphon_config *load(void)
{
	struct siphon_config *cfg;
	struct config_error err;

	if (config_load_text("m.conf", CONF, &cfg, &err)) {
		fprintf(stderr, "%s\n", err.text);
		fail();
	}
	return cfg;
}

/* The snapshot of the exposition test, entries given out of order. */
static void *known_snapshot(size_t *len)
{
	struct gen_counters_builder b;
	void *p;

	gen_counters_init(&b);
	gen_counters_add_named(&b, "xsk", "rx", 9);
	gen_counters_add_named(&b, "reason", "too_big", 2);
	gen_counters_add_named(&b, "outcome", "forward", 7);
	gen_counters_add_named(&b, "kernel_reason", "forwarded", 3);
	gen_counters_add_indexed(&b, GEN_COUNTER_NODE_PACKETS, 1, 6);
	gen_counters_add_indexed(&b, GEN_COUNTER_FLAG, 0, 4);
	gen_counters_add_indexed(&b, GEN_COUNTER_RULE, 1, 6);
	gen_counters_add_indexed(&b, GEN_COUNTER_KERNEL_NODE_PACKETS, 0, 3);
	gen_counters_add_indexed(&b, GEN_COUNTER_KERNEL_NODE_BYTES, 0, 300);
	gen_counters_add_indexed(&b, GEN_COUNTER_KERNEL_RULE, 1, 3);
	gen_counters_add_indexed(&b, GEN_COUNTER_NODE_MSG, 1 * 13 + 0, 3);  /* b2 INVITE */
	gen_counters_add_indexed(&b, GEN_COUNTER_NODE_MSG, 1 * 13 + 1, 2);  /* b2 ACK */
	gen_counters_add_indexed(&b, GEN_COUNTER_NODE_MSG, 1 * 13 + 8, 1);  /* b2 2xx */
	gen_counters_add_indexed(&b, GEN_COUNTER_KERNEL_NODE_MSG, 0 * 13 + 2, 3); /* b1 BYE */
	gen_counters_add_indexed(&b, GEN_COUNTER_KERNEL_FLAG, 0, 1);
	assert_int_equal(gen_counters_finish(&b, &(struct gen_counters_head){
						     3, GEN_COUNTERS_LANE_AFXDP | GEN_COUNTERS_LANE_KERNEL,
						     1, 0x5151, 0 }, &p, len), 0);
	gen_counters_free(&b);
	return p;
}

static void test_build_sorts_sums_and_checks(void **state)
{
	struct gen_counters_builder b;
	const struct gen_counters_limits lim = { 2, 2, 2 };
	const struct gen_wire_counters *h;
	const struct gen_wire_named *nm;
	const struct gen_wire_indexed *ix;
	char err[256];
	size_t len;
	void *p;

	(void)state;
	gen_counters_init(&b);
	gen_counters_add_named(&b, "reason", "ok", 1);
	gen_counters_add_named(&b, "outcome", "drop", 0);
	gen_counters_add_named(&b, "reason", "ok", 2); /* the same name: summed */
	gen_counters_add_indexed(&b, GEN_COUNTER_NODE_PACKETS, 1, 5);
	gen_counters_add_indexed(&b, GEN_COUNTER_NODE_PACKETS, 0, 0); /* zero: left out */
	gen_counters_add_indexed(&b, GEN_COUNTER_FLAG, 1, 2);
	gen_counters_add_indexed(&b, GEN_COUNTER_NODE_PACKETS, 1, 1); /* summed */
	assert_int_equal(gen_counters_finish(&b, &(struct gen_counters_head){
						     7, GEN_COUNTERS_LANE_AFXDP, 3, 9, GEN_COUNTERS_FINAL },
					     &p, &len), 0);
	gen_counters_free(&b);
	assert_int_equal(len, 48 + 2 * 48 + 2 * 16);
	h = p;
	assert_int_equal(h->version, 3);
	assert_int_equal(h->instance, 9);
	assert_int_equal(h->flags, GEN_COUNTERS_FINAL);
	assert_int_equal(h->generation, 7);
	assert_int_equal(h->seq, 3);
	nm = gen_counters_named(p);
	assert_string_equal(nm[0].name, "outcome.drop");
	assert_string_equal(nm[1].name, "reason.ok");
	assert_int_equal(nm[1].value, 3);
	ix = gen_counters_indexed(p);
	assert_int_equal(ix[0].kind, GEN_COUNTER_FLAG);
	assert_int_equal(ix[1].kind, GEN_COUNTER_NODE_PACKETS);
	assert_int_equal(ix[1].index, 1);
	assert_int_equal(ix[1].value, 6);
	assert_int_equal(gen_counters_check(p, len, &lim, err, sizeof(err)), 0);
	free(p);

	/* a name that cannot be one makes finish refuse */
	gen_counters_init(&b);
	gen_counters_add_named(&b, "Reason", "ok", 1);
	assert_int_equal(gen_counters_finish(&b, &(struct gen_counters_head){ 7, 1, 1, 1, 0 }, &p,
					     &len), -EINVAL);
	assert_null(p);
	gen_counters_free(&b);
}

/* One corruption of a good snapshot and what check says of it. */
static void refused(const void *good, size_t len, size_t off, const void *bytes, size_t n,
		    size_t new_len, int rc, const char *why)
{
	const struct gen_counters_limits lim = { 2, 2, 2 };
	uint8_t *p = calloc(1, len + 64);
	char err[256] = "";

	memcpy(p, good, len);
	memcpy(p + off, bytes, n);
	assert_int_equal(gen_counters_check(p, new_len ? new_len : len, &lim, err, sizeof(err)), rc);
	assert_string_equal(err, why);
	free(p);
}

static void test_corrupt_refused(void **state)
{
	size_t len;
	void *p = known_snapshot(&len);
	const size_t named = 48, idx = 48 + 4 * 48;
	const uint32_t v1 = 1, v4 = 4, lanes = 4, n5 = 5, flags2 = 2;
	const uint64_t zero = 0;
	const uint16_t kind0 = 0, kind10 = GEN_COUNTER__COUNT, one = 1;
	const uint32_t big = 2;

	(void)state;
	/* the known snapshot: 4 named (kernel_reason, outcome, reason, xsk), 11 indexed */
	assert_int_equal(len, 48 + 4 * 48 + 11 * 16);
	refused(p, len, 0, "", 0, 47, -EMSGSIZE, "counters: 47 bytes, shorter than the header");
	/* another build's: by its version alone, whatever its size */
	refused(p, len, 0, &v1, 4, 32, -EPROTO,
		"counters: version 1, this siphond reads version 3 only (siphon and siphond are of "
		"different builds: run the same version of both)");
	refused(p, len, 0, &v4, 4, 0, -EPROTO,
		"counters: version 4, this siphond reads version 3 only (siphon and siphond are of "
		"different builds: run the same version of both)");
	refused(p, len, 4, &lanes, 4, 0, -EPROTO,
		"counters: lanes 0x4, generation 3, instance 20817, flags 0, zero 0 (want lanes of "
		"0x3, a generation, an instance, flags of 0x1, 0)");
	refused(p, len, 16, &zero, 8, 0, -EPROTO,
		"counters: lanes 0x3, generation 0, instance 20817, flags 0, zero 0 (want lanes of "
		"0x3, a generation, an instance, flags of 0x1, 0)");
	refused(p, len, 32, &zero, 8, 0, -EPROTO,
		"counters: lanes 0x3, generation 3, instance 0, flags 0, zero 0 (want lanes of "
		"0x3, a generation, an instance, flags of 0x1, 0)");
	refused(p, len, 40, &flags2, 4, 0, -EPROTO,
		"counters: lanes 0x3, generation 3, instance 20817, flags 0x2, zero 0 (want lanes of "
		"0x3, a generation, an instance, flags of 0x1, 0)");
	refused(p, len, 8, &n5, 4, 0, -EMSGSIZE,
		"counters: 5 named and 11 indexed entries do not make 416 bytes (at most 1024 and 131072)");
	refused(p, len, 0, "", 0, len + 16, -EMSGSIZE,
		"counters: 4 named and 11 indexed entries do not make 432 bytes (at most 1024 and 131072)");
	refused(p, len, named, "kernel_Reason", 13, 0, -EPROTO,
		"counters: named entry 0 is not group.counter of [a-z0-9_] with its NUL");
	refused(p, len, named, "kernelreason", 13, 0, -EPROTO, /* no dot */
		"counters: named entry 0 is not group.counter of [a-z0-9_] with its NUL");
	refused(p, len, named + 30, "x", 1, 0, -EPROTO, /* a byte after the NUL */
		"counters: named entry 0 is not group.counter of [a-z0-9_] with its NUL");
	refused(p, len, named, "1234567890123456789012345678901234567890", 40, 0, -EPROTO,
		"counters: named entry 0 is not group.counter of [a-z0-9_] with its NUL");
	refused(p, len, named + 48, "xsk.ab\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 24, 0, -EPROTO,
		"counters: named entry 2 (reason.too_big) out of order");
	refused(p, len, idx, &kind0, 2, 0, -EPROTO,
		"counters: indexed entry 0: kind 0, zero 0 (want a known kind, 0)");
	refused(p, len, idx, &kind10, 2, 0, -EPROTO,
		"counters: indexed entry 0: kind 10, zero 0 (want a known kind, 0)");
	refused(p, len, idx + 2, &one, 2, 0, -EPROTO,
		"counters: indexed entry 0: kind 1, zero 1 (want a known kind, 0)");
	refused(p, len, idx + 16, "\x01\0\0\0\0\0\0", 8, 0, -EPROTO, /* flag 0 again */
		"counters: indexed entry 1 (flag 0) out of order");
	refused(p, len, idx + 4, &big, 4, 0, -ERANGE, "counters: flag 2, generation 3 has 2");
	refused(p, len, idx + 9 * 16 + 4, "\x1a\0\0\0", 4, 0, -ERANGE,
		"counters: kernel_node_msg 26, generation 3 has 26");
	free(p);
}

static void test_wire_header(void **state)
{
	struct gen_wire_hdr h = { GEN_WIRE_MAGIC, GEN_WIRE_VERSION, GEN_WIRE_COUNTERS, 32 };
	char err[128];

	(void)state;
	assert_int_equal(gen_wire_check(&h, err, sizeof(err)), 0);
	h.length = GEN_WIRE_COUNTERS_MAX;
	assert_int_equal(gen_wire_check(&h, err, sizeof(err)), 0);
	h.length = GEN_WIRE_COUNTERS_MAX + 16;
	assert_int_equal(gen_wire_check(&h, err, sizeof(err)), -EMSGSIZE);
	h.length = 48 + 8;
	assert_int_equal(gen_wire_check(&h, err, sizeof(err)), -EMSGSIZE);
	assert_string_equal(err, "publish channel: a counters snapshot of 56 bytes refused");
	h.length = 16;
	assert_int_equal(gen_wire_check(&h, err, sizeof(err)), -EMSGSIZE);
	h.type = 4;
	assert_int_equal(gen_wire_check(&h, err, sizeof(err)), -EPROTO);
}

/* The src of the exposition and stats tests. */
struct known {
	struct siphon_config *cfg;
	void *snap;
	struct pub_snapshot fp;
	struct punt_counters punts;
	struct pub_counters pub;
	struct siphond_counters dc;
	struct metrics_src src;
	struct ctotals *tot;
};

static void known_src(struct known *k)
{
	size_t len;

	memset(k, 0, sizeof(*k));
	k->cfg = load();
	k->snap = known_snapshot(&len);
	k->fp = (struct pub_snapshot){ .name = "xdp\"0", .attached = true, .acked = 3, .p = k->snap,
				       .len = len, .age_s = 0.5 };
	k->punts.received = 4;
	k->punts.options.n[100] = 2; /* 200 */
	k->punts.stun = 1;
	k->punts.n_bad = 1;
	k->punts.bad[0] = (struct punt_why){ "not_sip", 1 };
	k->pub.counters = 2;
	k->pub.counters_refused = 1;
	k->dc.reloads = 2;
	k->dc.reloads_unchanged = 1;
	k->src = (struct metrics_src){
		.cfg = k->cfg, .generation = 3, .generation_age_s = 5, .generation_bytes = 1000,
		.punts = &k->punts, .pub = &k->pub, .dc = &k->dc, .fp = &k->fp, .n_fp = 1,
		.scrapes = 7,
	};
	k->tot = ctotals_new();
	assert_non_null(k->tot);
	assert_int_equal(ctotals_note_generation(k->tot, k->cfg, 3), 0);
	assert_int_equal(ctotals_feed(k->tot, "xdp\"0", k->snap, len, 1000), 0);
	k->src.tot = k->tot;
}

static void known_free(struct known *k)
{
	config_free(k->cfg);
	free(k->snap);
	ctotals_free(k->tot);
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *s = calloc(1, 1 << 20);

	assert_non_null(f);
	fread(s, 1, (1 << 20) - 1, f);
	fclose(f);
	return s;
}

static const char *golden_dir;

static void test_exposition_text(void **state)
{
	struct known k;
	struct mbuf b;
	char path[4096], *want;

	(void)state;
	known_src(&k);
	mbuf_init(&b, METRICS_MAX_BYTES);
	assert_int_equal(metrics_render(&k.src, &b), 0);
	mbuf_printf(&b, "%s", ""); /* NUL */
	snprintf(path, sizeof(path), "%s/metrics.txt", golden_dir);
	if (getenv("METRICS_GOLDEN_WRITE")) {
		FILE *f = fopen(path, "w");

		fputs(b.p, f);
		fclose(f);
		fail_msg("%s written (METRICS_GOLDEN_WRITE): check it, then run without", path);
	}
	want = read_file(path);
	assert_string_equal(b.p, want);
	free(want);
	mbuf_free(&b);

	/* over the bound: refused whole */
	mbuf_init(&b, 4096);
	assert_int_equal(metrics_render(&k.src, &b), -EFBIG);
	mbuf_free(&b);

	/* the running generation moved on: the totals stay */
	k.src.generation = 4;
	mbuf_init(&b, METRICS_MAX_BYTES);
	assert_int_equal(metrics_render(&k.src, &b), 0);
	mbuf_printf(&b, "%s", "");
	assert_non_null(strstr(b.p, "siphon_flag_set_total{fastpath=\"xdp\\\"0\",lane=\"afxdp\","
				    "flag=\"OPTIONS\"} 4\n"));
	assert_non_null(strstr(b.p, "siphon_flag_set_total{fastpath=\"xdp\\\"0\",lane=\"kernel\","
				    "flag=\"OPTIONS\"} 1\n"));
	assert_non_null(strstr(b.p, "siphon_node_forwarded_packets_total{fastpath=\"xdp\\\"0\","
				    "lane=\"afxdp\",pool=\"core\",node=\"b2\"} 6\n"));
	assert_non_null(strstr(b.p, "siphon_node_requests_total{pool=\"core\",node=\"b2\","
				    "method=\"INVITE\",lane=\"afxdp\"} 3\n"));
	assert_non_null(strstr(b.p, "siphon_node_responses_total{pool=\"core\",node=\"b2\","
				    "class=\"2xx\",lane=\"afxdp\"} 1\n"));
	assert_non_null(strstr(b.p, "siphon_node_requests_total{pool=\"core\",node=\"b1\","
				    "method=\"BYE\",lane=\"kernel\"} 3\n"));
	assert_non_null(strstr(b.p, "siphon_reason_packets_total{fastpath=\"xdp\\\"0\",lane=\"afxdp\","
				    "reason=\"too_big\"} 2\n"));
	mbuf_free(&b);
	known_free(&k);
}

/* The nodes given by name: one series per name and family, exact. */
static void test_dns_names(void **state)
{
	struct dns *dns = calloc(1, sizeof(*dns));
	struct dns_entry *e;
	struct mbuf b;

	(void)state;
	assert_non_null(dns);
	e = &dns->e[3]; /* the used ones, wherever they are */
	e->used = e->failing = true;
	snprintf(e->pool, sizeof(e->pool), "core");
	snprintf(e->spec.name, sizeof(e->spec.name), "sip");
	snprintf(e->query, sizeof(e->query), "_sip._udp.core.lab.test");
	e->resolutions = 7;
	e->failures = 2;
	e->changes = 1;
	e->n_nodes = 3;
	mbuf_init(&b, 1 << 16);
	metrics_dns(&b, dns);
	mbuf_printf(&b, "%s", "");
#define L "{pool=\"core\",name=\"sip\",query=\"_sip._udp.core.lab.test\"}"
	assert_non_null(strstr(b.p, "siphon_dns_resolutions_total" L " 7\n"));
	assert_non_null(strstr(b.p, "siphon_dns_failures_total" L " 2\n"));
	assert_non_null(strstr(b.p, "siphon_dns_changes_total" L " 1\n"));
	assert_non_null(strstr(b.p, "siphon_dns_nodes" L " 3\n"));
	assert_non_null(strstr(b.p, "siphon_dns_failing" L " 1\n"));
#undef L
	assert_int_equal(strstr(b.p, "# TYPE siphon_dns_nodes gauge\n") != NULL, 1);
	mbuf_free(&b);

	/* no resolver: nothing at all */
	mbuf_init(&b, 1 << 16);
	metrics_dns(&b, NULL);
	assert_int_equal(b.len, 0);
	mbuf_free(&b);
	free(dns);
}

static void test_stats_json(void **state)
{
	struct known k;
	json_t *j;
	char *s, path[4096], *want;

	(void)state;
	known_src(&k);
	j = metrics_stats_json(&k.src);
	assert_non_null(j);
	s = json_dumps(j, JSON_COMPACT);
	snprintf(path, sizeof(path), "%s/stats.json", golden_dir);
	if (getenv("METRICS_GOLDEN_WRITE")) {
		FILE *f = fopen(path, "w");

		fprintf(f, "%s\n", s);
		fclose(f);
		fail_msg("%s written (METRICS_GOLDEN_WRITE): check it, then run without", path);
	}
	want = read_file(path);
	want[strcspn(want, "\n")] = '\0';
	assert_string_equal(s, want);
	free(want);
	free(s);
	json_decref(j);
	known_free(&k);
}

/* The method through the table: a publisher with one fast path that sent
 * the snapshot (and a corrupt one) right after its attach line. */
static void test_stats_method(void **state)
{
	struct siphond d = { 0 };
	struct generation cur = { .refs = 1, .number = 3, .made = 0, .len = 1000 };
	struct rpc_counters rc = { 0 };
	struct gen_wire_hdr h = { GEN_WIRE_MAGIC, GEN_WIRE_VERSION, GEN_WIRE_COUNTERS, 0 };
	size_t len;
	void *snap = known_snapshot(&len);
	uint8_t *rest = malloc(2 * (16 + len));
	int sv[2];
	const char *line;
	char *reply;
	json_t *j, *fp;

	(void)state;
	d.cfg = load();
	d.cur = &cur;
	d.tot = ctotals_new();
	metrics_generation(&d);
	assert_int_equal(publisher_new(&d.pub), 0);
	publisher_set_limits(d.pub, metrics_limits, &d);
	publisher_set_snap_hook(d.pub, metrics_snap, &d);
	h.length = len;
	memcpy(rest, &h, 16);
	memcpy(rest + 16, snap, len);
	memcpy(rest + 16 + len, &h, 16);
	memcpy(rest + 32 + len, snap, len);
	((struct gen_wire_indexed *)(rest + 32 + 2 * len - 16))->index = 2; /* flag 2 of 2 */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(publisher_attach(d.pub, sv[0], "xdp0", 3, rest, 2 * (16 + len), &cur), 0);
	assert_string_equal(last_log, "fast path xdp0: counters refused: counters: kernel_flag 2, "
				      "generation 3 has 2; 1 so far");
	rpc_table_init(&d.table);
	assert_int_equal(stats_methods_add(&d), 0);
	line = "{\"method\":\"stats\",\"id\":1}";
	reply = rpc_handle_line(&d.table, line, strlen(line), &rc);
	j = json_loads(reply, 0, NULL);
	assert_non_null(j);
	if (!json_object_get(j, "result"))
		fail_msg("%s", reply);
	fp = json_array_get(json_object_get(json_object_get(j, "result"), "fast_paths"), 0);
	assert_string_equal(json_string_value(json_object_get(fp, "name")), "xdp0");
	assert_int_equal(json_integer_value(json_object_get(fp, "refused")), 1);
	assert_int_equal(json_integer_value(json_object_get(
		json_object_get(json_object_get(fp, "counters"), "flags"), "OPTIONS")), 4);
	assert_int_equal(json_integer_value(json_object_get(
		json_object_get(json_object_get(fp, "counters"), "kernel_flags"), "OPTIONS")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
		json_object_get(j, "result"), "snapshots"), "refused")), 1);
	json_decref(j);
	free(reply);
	line = "{\"method\":\"stats\",\"params\":{\"x\":1},\"id\":2}";
	reply = rpc_handle_line(&d.table, line, strlen(line), &rc);
	assert_string_equal(reply, "{\"id\":2,\"error\":{\"code\":\"bad_params\",\"message\":"
				   "\"params.x: unknown parameter (stats takes none)\"}}");
	free(reply);
	publisher_free(d.pub);
	ctotals_free(d.tot);
	close(sv[1]);
	config_free(d.cfg);
	free(snap);
	free(rest);
}

/* Generation 2 of the continuity test: a node b0 before b1 (every index
 * moves), b2 removed, a rule on top (the pool rule's index moves). */
static const char CONF2[] =
	"balancer = { addresses = [\"198.51.100.10\"]; };\n"
	"flags = ( { name = \"OPTIONS\"; method = \"OPTIONS\"; },\n"
	"          { name = \"LOCAL\"; source = \"192.0.2.0/24\"; } );\n"
	"pools = ( { name = \"core\"; nodes = ( { name = \"b0\"; address = \"198.51.100.20\"; },\n"
	"                                      { name = \"b1\"; address = \"198.51.100.21\"; } ); } );\n"
	"route = ( { when = \"LOCAL\"; then = \"drop\"; },\n"
	"          { when = \"OPTIONS\"; then = \"drop\"; },\n"
	"          { then = \"pool core\"; } );\n";

/* A snapshot: gen, instance, flags; then (kind, index, value) triples
 * ending with kind 0. */
static void *snap_of(uint64_t gen, uint64_t instance, uint32_t flags, size_t *len, ...)
{
	static uint64_t seq;
	struct gen_counters_builder b;
	va_list ap;
	unsigned kind;
	void *p;

	gen_counters_init(&b);
	gen_counters_add_named(&b, "packets", "in", seq);
	va_start(ap, len);
	while ((kind = va_arg(ap, unsigned))) {
		uint32_t i = va_arg(ap, uint32_t);
		uint64_t v = va_arg(ap, uint64_t);

		gen_counters_add_indexed(&b, (enum gen_counter_kind)kind, i, v);
	}
	va_end(ap);
	assert_int_equal(gen_counters_finish(&b, &(struct gen_counters_head){
						     gen, GEN_COUNTERS_LANE_AFXDP, ++seq, instance,
						     flags }, &p, len), 0);
	gen_counters_free(&b);
	return p;
}

struct want {
	uint64_t b0, b1, b2, rule, invite;
};

static void feed_and_check(struct ctotals *t, void *snap, size_t len, uint64_t now,
			   const struct want *w, struct want *last, const char *rule_key_s)
{
	struct want got;
	assert_int_equal(ctotals_feed(t, "xdp0", snap, len, now), 0);
	free(snap);
	got.b0 = ctotals_get(t, "xdp0", GEN_COUNTER_NODE_PACKETS, 0, "core", "b0");
	got.b1 = ctotals_get(t, "xdp0", GEN_COUNTER_NODE_PACKETS, 0, "core", "b1");
	got.b2 = ctotals_get(t, "xdp0", GEN_COUNTER_NODE_PACKETS, 0, "core", "b2");
	got.rule = ctotals_get(t, "xdp0", GEN_COUNTER_RULE, 0, rule_key_s, "");
	got.invite = ctotals_get(t, "xdp0", GEN_COUNTER_NODE_MSG, 0, "core", "b1");
	/* monotonic, and exactly what is wanted */
	assert_true(got.b0 >= last->b0 && got.b1 >= last->b1 && got.b2 >= last->b2 &&
		    got.rule >= last->rule && got.invite >= last->invite);
	assert_int_equal(got.b0, w->b0);
	assert_int_equal(got.b1, w->b1);
	assert_int_equal(got.b2, w->b2);
	assert_int_equal(got.rule, w->rule);
	assert_int_equal(got.invite, w->invite);
	*last = got;
}

/* Snapshots across two generations (indices of other nodes and rules in
 * each), the last of the first one sent after the second was published,
 * a reconnect and a restart of the fast path: monotonic totals, exact. */
static void test_totals_across_generations(void **state)
{
	struct siphon_config *c1 = load(), *c2;
	struct config_error err;
	struct ctotals *t = ctotals_new();
	struct want last = { 0 };
	char key[CTOT_RULE_KEY_MAX], key2[CTOT_RULE_KEY_MAX];
	const unsigned N = GEN_COUNTER_NODE_PACKETS, R = GEN_COUNTER_RULE, M = GEN_COUNTER_NODE_MSG;
	size_t len;
	void *p;
	double rate;

	(void)state;
	assert_int_equal(config_load_text("m2.conf", CONF2, &c2, &err), 0);
	rule_key(c1, 1, key);
	rule_key(c2, 2, key2);
	assert_string_equal(key, key2); /* "then pool core" keeps its key at another line */
	assert_int_equal(ctotals_note_generation(t, c1, 1), 0);
	/* generation 1: b1 = 0, b2 = 1, the pool rule = 1 */
	p = snap_of(1, 7, 0, &len, N, 0, (uint64_t)5, N, 1, (uint64_t)3, R, 1, (uint64_t)8, M, 0,
		    (uint64_t)2, 0);
	feed_and_check(t, p, len, 1000, &(struct want){ 0, 5, 3, 8, 2 }, &last, key);
	p = snap_of(1, 7, 0, &len, N, 0, (uint64_t)10, N, 1, (uint64_t)4, R, 1, (uint64_t)14, M, 0,
		    (uint64_t)4, 0);
	feed_and_check(t, p, len, 2000, &(struct want){ 0, 10, 4, 14, 4 }, &last, key);
	/* generation 2 published; generation 1's final snapshot comes after */
	assert_int_equal(ctotals_note_generation(t, c2, 2), 0);
	p = snap_of(1, 7, GEN_COUNTERS_FINAL, &len, N, 0, (uint64_t)12, N, 1, (uint64_t)4, R, 1,
		    (uint64_t)16, M, 0, (uint64_t)5, 0);
	feed_and_check(t, p, len, 2500, &(struct want){ 0, 12, 4, 16, 5 }, &last, key);
	/* generation 2 from 0: b0 = 0, b1 = 1, the pool rule = 2 */
	p = snap_of(2, 7, 0, &len, N, 0, (uint64_t)1, N, 1, (uint64_t)2, R, 2, (uint64_t)10, M, 13,
		    (uint64_t)1, 0);
	feed_and_check(t, p, len, 3000, &(struct want){ 1, 14, 4, 26, 6 }, &last, key);
	p = snap_of(2, 7, 0, &len, N, 0, (uint64_t)1, N, 1, (uint64_t)3, R, 2, (uint64_t)11, M, 13,
		    (uint64_t)1, 0);
	feed_and_check(t, p, len, 4000, &(struct want){ 1, 15, 4, 27, 6 }, &last, key);
	/* the same snapshot again (a reconnect of the same process): nothing moves */
	p = snap_of(2, 7, 0, &len, N, 0, (uint64_t)1, N, 1, (uint64_t)3, R, 2, (uint64_t)11, M, 13,
		    (uint64_t)1, 0);
	feed_and_check(t, p, len, 4000, &(struct want){ 1, 15, 4, 27, 6 }, &last, key);
	/* a restarted fast path (another instance) counts from 0 */
	p = snap_of(2, 8, 0, &len, N, 1, (uint64_t)2, 0);
	feed_and_check(t, p, len, 5000, &(struct want){ 1, 17, 4, 27, 6 }, &last, key);
	/* b2, removed, keeps its total; its rate and b1's */
	assert_int_equal(ctotals_node(t, "core", "b2", 5000, &rate), 4);
	assert_true(rate > 0.249 && rate < 0.251); /* b2: 3 at 1000, still 4 at 5000 */
	assert_int_equal(ctotals_node(t, "core", "b1", 5000, &rate), 17);
	assert_true(rate > 2.99 && rate < 3.01); /* 5 at 1000, 17 at 5000 */
	assert_int_equal(ctotals_node(t, "core", "b1", 10001, &rate), 17);
	assert_true(rate == 0.0); /* no snapshot for over 5 s */
	/* a generation siphond has no names for: not counted, said so */
	p = snap_of(9, 8, 0, &len, N, 0, (uint64_t)100, 0);
	assert_int_equal(ctotals_feed(t, "xdp0", p, len, 6000), 0);
	free(p);
	assert_int_equal(ctotals_unattributed(t), 1);
	assert_int_equal(ctotals_get(t, "xdp0", N, 0, "core", "b0"), 1);
	ctotals_free(t);
	config_free(c1);
	config_free(c2);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_sorts_sums_and_checks),
		cmocka_unit_test(test_corrupt_refused),
		cmocka_unit_test(test_wire_header),
		cmocka_unit_test(test_exposition_text),
		cmocka_unit_test(test_dns_names),
		cmocka_unit_test(test_stats_json),
		cmocka_unit_test(test_stats_method),
		cmocka_unit_test(test_totals_across_generations),
	};

	golden_dir = argc > 1 ? argv[1] : ".";
	return cmocka_run_group_tests(tests, NULL, NULL);
}
