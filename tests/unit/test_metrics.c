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
	assert_int_equal(gen_counters_finish(&b, 3, GEN_COUNTERS_LANE_AFXDP | GEN_COUNTERS_LANE_KERNEL,
					     1, &p, len), 0);
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
	assert_int_equal(gen_counters_finish(&b, 7, GEN_COUNTERS_LANE_AFXDP, 3, &p, &len), 0);
	gen_counters_free(&b);
	assert_int_equal(len, 32 + 2 * 48 + 2 * 16);
	h = p;
	assert_int_equal(h->version, 1);
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
	assert_int_equal(gen_counters_finish(&b, 7, 1, 1, &p, &len), -EINVAL);
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
	const size_t named = 32, idx = 32 + 4 * 48;
	const uint32_t v2 = 2, lanes = 4, n5 = 5;
	const uint64_t zero = 0;
	const uint16_t kind0 = 0, kind9 = 9, one = 1;
	const uint32_t big = 2;

	(void)state;
	/* the known snapshot: 4 named (kernel_reason, outcome, reason, xsk), 6 indexed */
	assert_int_equal(len, 32 + 4 * 48 + 6 * 16);
	refused(p, len, 0, "", 0, 31, -EMSGSIZE, "counters: 31 bytes, shorter than the header");
	refused(p, len, 0, &v2, 4, 0, -EPROTO,
		"counters: version 2, lanes 0x3, generation 3 (want 1, lanes of 0x3, a generation)");
	refused(p, len, 4, &lanes, 4, 0, -EPROTO,
		"counters: version 1, lanes 0x4, generation 3 (want 1, lanes of 0x3, a generation)");
	refused(p, len, 16, &zero, 8, 0, -EPROTO,
		"counters: version 1, lanes 0x3, generation 0 (want 1, lanes of 0x3, a generation)");
	refused(p, len, 8, &n5, 4, 0, -EMSGSIZE,
		"counters: 5 named and 6 indexed entries do not make 320 bytes (at most 1024 and 131072)");
	refused(p, len, 0, "", 0, len + 16, -EMSGSIZE,
		"counters: 4 named and 6 indexed entries do not make 336 bytes (at most 1024 and 131072)");
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
	refused(p, len, idx, &kind9, 2, 0, -EPROTO,
		"counters: indexed entry 0: kind 9, zero 0 (want a known kind, 0)");
	refused(p, len, idx + 2, &one, 2, 0, -EPROTO,
		"counters: indexed entry 0: kind 1, zero 1 (want a known kind, 0)");
	refused(p, len, idx + 16, "\x01\0\0\0\0\0\0", 8, 0, -EPROTO, /* flag 0 again */
		"counters: indexed entry 1 (flag 0) out of order");
	refused(p, len, idx + 4, &big, 4, 0, -ERANGE, "counters: flag 2, generation 3 has 2");
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
}

static void known_free(struct known *k)
{
	config_free(k->cfg);
	free(k->snap);
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
	}
	want = read_file(path);
	assert_string_equal(b.p, want);
	free(want);
	mbuf_free(&b);

	/* over the bound: refused whole */
	mbuf_init(&b, 4096);
	assert_int_equal(metrics_render(&k.src, &b), -EFBIG);
	mbuf_free(&b);

	/* a snapshot of another generation: no flag, rule or node series */
	k.src.generation = 4;
	mbuf_init(&b, METRICS_MAX_BYTES);
	assert_int_equal(metrics_render(&k.src, &b), 0);
	mbuf_printf(&b, "%s", "");
	assert_null(strstr(b.p, "siphon_flag_set_total{"));
	assert_null(strstr(b.p, "siphon_node_forwarded_packets_total{"));
	assert_non_null(strstr(b.p, "siphon_reason_packets_total{fastpath=\"xdp\\\"0\",lane=\"afxdp\","
				    "reason=\"too_big\"} 2\n"));
	mbuf_free(&b);
	known_free(&k);
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
	assert_int_equal(publisher_new(&d.pub), 0);
	publisher_set_limits(d.pub, metrics_limits, &d);
	h.length = len;
	memcpy(rest, &h, 16);
	memcpy(rest + 16, snap, len);
	memcpy(rest + 16 + len, &h, 16);
	memcpy(rest + 32 + len, snap, len);
	((struct gen_wire_indexed *)(rest + 32 + 2 * len - 16))->index = 2; /* node 2 of 2 */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(publisher_attach(d.pub, sv[0], "xdp0", 3, rest, 2 * (16 + len), &cur), 0);
	assert_string_equal(last_log, "fast path xdp0: counters refused: counters: kernel_node_bytes "
				      "2, generation 3 has 2; 1 so far");
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
	close(sv[1]);
	config_free(d.cfg);
	free(snap);
	free(rest);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_sorts_sums_and_checks),
		cmocka_unit_test(test_corrupt_refused),
		cmocka_unit_test(test_wire_header),
		cmocka_unit_test(test_exposition_text),
		cmocka_unit_test(test_stats_json),
		cmocka_unit_test(test_stats_method),
	};

	golden_dir = argc > 1 ? argv[1] : ".";
	return cmocka_run_group_tests(tests, NULL, NULL);
}
