/* Table blobs, the round trip (docs/tables.md): a config's tables built
 * into a blob, written to a file, mapped back at another address and
 * opened give the same tables, field by field, and the same decision for
 * every message of the corpus and the examples, from several sources,
 * over UDP and TCP. Args: the source root. */
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "blob_write.h"
#include "config.h"
#include "siphon/decide.h"
#include "siphon/table_blob.h"

static const char *root;

struct fixture {
	struct siphon_config *cfg;
	uint16_t *previous; /* a previous Maglev table for pool 0 */
	void *mapped;
	size_t len;
	struct compiled_tables t;
};

static struct fixture *load(const char *rel)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct config_error err;
	char path[4096];
	struct pool_table *p0;

	assert_non_null(f);
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	if (config_load(path, &f->cfg, &err))
		fail_msg("%s", err.text);
	/* what siphond will change: a node down, a previous table in its grace period */
	f->cfg->nodes[1].up = false;
	p0 = &f->cfg->tables.pools[0];
	f->previous = calloc(p0->maglev.size, sizeof(uint16_t));
	assert_non_null(f->previous);
	for (uint32_t i = 0; i < p0->maglev.size; i++)
		f->previous[i] = i % 7 == 6 ? MAGLEV_NO_NODE : (uint16_t)((i * 31u) % p0->n_nodes);
	p0->previous = (struct maglev_table){ p0->maglev.size, f->previous };
	p0->previous_until = 2000;
	return f;
}

/* Built, written to a file, the built copy freed, the file mapped. */
static void build_and_map(struct fixture *f, uint64_t generation)
{
	char path[] = "/tmp/siphon-blob-XXXXXX";
	char err[256];
	void *blob;
	size_t len;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(tables_blob_build(&f->cfg->tables, generation, &blob, &len), 0);
	assert_int_equal(write(fd, blob, len), (ssize_t)len);
	free(blob);
	f->mapped = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	assert_true(f->mapped != MAP_FAILED);
	close(fd);
	unlink(path);
	f->len = len;
	if (tables_blob_open(f->mapped, len, &f->t, err, sizeof(err)))
		fail_msg("open: %s", err);
	assert_int_equal(tables_blob_generation(f->mapped), generation);
}

static void unload(struct fixture *f)
{
	munmap(f->mapped, f->len);
	config_free(f->cfg);
	free(f->previous);
	free(f);
}

#define INSIDE(f, p) assert_true((const uint8_t *)(p) >= (const uint8_t *)(f)->mapped && \
				 (const uint8_t *)(p) < (const uint8_t *)(f)->mapped + (f)->len)
#define SAME_ARRAY(f, a, b, n) do {                                   \
		INSIDE(f, b);                                          \
		assert_memory_equal(a, b, (size_t)(n) * sizeof(*(a))); \
	} while (0)

static void same_prefix(struct fixture *f, const struct prefix_table *a, const struct prefix_table *b)
{
	assert_int_equal(a->key_bytes, b->key_bytes);
	assert_int_equal(a->n_nodes, b->n_nodes);
	assert_int_equal(a->n_values, b->n_values);
	if (a->n_nodes)
		SAME_ARRAY(f, a->nodes, b->nodes, (size_t)a->n_nodes * PREFIX_FANOUT);
	if (a->n_values)
		SAME_ARRAY(f, a->values, b->values, a->n_values);
}

/* Every field of compiled_tables, arrays by content, and the blob's
 * arrays inside the mapping. */
static void same_tables(struct fixture *f)
{
	const struct compiled_tables *a = &f->cfg->tables, *b = &f->t;

	assert_int_equal(a->n_flags, b->n_flags);
	assert_memory_equal(&a->limits, &b->limits, sizeof(a->limits));
	assert_memory_equal(&a->headers, &b->headers, sizeof(a->headers));
	assert_memory_equal(a->header_present, b->header_present, sizeof(a->header_present));
	assert_int_equal(a->n_methods, b->n_methods);
	assert_memory_equal(a->methods, b->methods, sizeof(a->methods));
	assert_memory_equal(a->transports, b->transports, sizeof(a->transports));
	assert_true(flagset_equal(&a->to_self, &b->to_self) &&
		    flagset_equal(&a->own_probe_answer, &b->own_probe_answer) &&
		    flagset_equal(&a->in_dialog, &b->in_dialog));
	assert_int_equal(a->n_self_addrs, b->n_self_addrs);
	assert_int_equal(a->n_self_names, b->n_self_names);
	assert_int_equal(a->n_control_addrs, b->n_control_addrs);
	assert_int_equal(a->n_ports, b->n_ports);
	assert_memory_equal(a->ports, b->ports, sizeof(a->ports));
	assert_memory_equal(a->self_addrs, b->self_addrs, sizeof(a->self_addrs));
	assert_memory_equal(a->self_names, b->self_names, sizeof(a->self_names));
	assert_memory_equal(a->control_addrs, b->control_addrs, sizeof(a->control_addrs));
	same_prefix(f, &a->source4, &b->source4);
	same_prefix(f, &a->source6, &b->source6);
	assert_int_equal(a->n_patterns, b->n_patterns);
	assert_memory_equal(a->patterns, b->patterns, sizeof(a->patterns));
	assert_int_equal(a->hs_db_len, b->hs_db_len);
	assert_true(a->n_patterns > 0);
	SAME_ARRAY(f, (const uint8_t *)a->hs_db, (const uint8_t *)b->hs_db, a->hs_db_len);
	assert_int_equal(a->n_literals, b->n_literals);
	if (a->n_literals)
		SAME_ARRAY(f, a->literals, b->literals, a->n_literals);
	assert_int_equal(a->n_expr_terms, b->n_expr_terms);
	if (a->n_expr_terms)
		SAME_ARRAY(f, a->expr_terms, b->expr_terms, a->n_expr_terms);
	assert_int_equal(a->n_rule_terms, b->n_rule_terms);
	assert_int_equal(a->n_rules, b->n_rules);
	SAME_ARRAY(f, a->rule_terms, b->rule_terms, a->n_rule_terms);
	SAME_ARRAY(f, a->actions, b->actions, a->n_rules);
	assert_int_equal(a->n_pools, b->n_pools);
	SAME_ARRAY(f, a->pool_names, b->pool_names, a->n_pools);
	for (uint32_t p = 0; p < a->n_pools; p++) {
		const struct pool_table *x = &a->pools[p], *y = &b->pools[p];
		assert_int_equal(x->mode, y->mode);
		assert_int_equal(x->first_node, y->first_node);
		assert_int_equal(x->n_nodes, y->n_nodes);
		assert_int_equal(x->maglev.size, y->maglev.size);
		SAME_ARRAY(f, x->maglev.slots, y->maglev.slots, x->maglev.size);
		assert_int_equal(x->previous.size, y->previous.size);
		if (x->previous.size)
			SAME_ARRAY(f, x->previous.slots, y->previous.slots, x->previous.size);
		assert_int_equal(x->previous_until, y->previous_until);
		assert_memory_equal(&x->encap_source4, &y->encap_source4, sizeof(x->encap_source4));
		assert_memory_equal(&x->encap_source6, &y->encap_source6, sizeof(x->encap_source6));
		assert_int_equal(x->gue_port, y->gue_port);
	}
	assert_int_equal(b->pools[0].previous.size, b->pools[0].maglev.size);
	assert_int_equal(a->n_nodes, b->n_nodes);
	SAME_ARRAY(f, a->nodes, b->nodes, a->n_nodes);
	assert_false(b->nodes[1].up);
	assert_int_equal(a->node_index_mask, b->node_index_mask);
	SAME_ARRAY(f, a->nid_slots, b->nid_slots, a->node_index_mask + 1);
	SAME_ARRAY(f, a->addr_slots, b->addr_slots, a->node_index_mask + 1);
	assert_int_equal(a->hash_seed, b->hash_seed);
	assert_int_equal(a->has_mac, b->has_mac);
	assert_int_equal(a->has_gateway_mac, b->has_gateway_mac);
	assert_memory_equal(a->mac, b->mac, 6);
	assert_memory_equal(a->gateway_mac, b->gateway_mac, 6);
	assert_int_equal(a->grace_s, b->grace_s);
}

/* Sources that meet every prefix of edge.conf and dp.conf, and none. */
static const char *const sources[] = {
	"192.0.2.7", "192.0.2.130", "192.0.2.201", "198.51.100.21", "198.51.100.31",
	"203.0.113.5", "203.0.113.200", "10.1.2.3", "2001:db8:5::9", "2001:db8:b::1",
	"2001:db8:77::1", "2001:db8:ffff::1",
};

static void meta(unsigned s, enum transport tr, bool syn, struct packet_meta *pm)
{
	memset(pm, 0, sizeof(*pm));
	pm->family = strchr(sources[s], ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(pm->family, sources[s], pm->src), 1);
	inet_pton(pm->family, pm->family == AF_INET ? "198.51.100.10" : "2001:db8:10::10", pm->dst);
	pm->transport = tr;
	pm->tcp_syn = syn;
	pm->sport = (uint16_t)(40000 + s);
	pm->dport = 5060;
}

static void same_decision(const struct msg_decision *a, const struct msg_decision *b)
{
	assert_int_equal(a->verdict, b->verdict);
	assert_int_equal(a->reason, b->reason);
	assert_int_equal(a->rule, b->rule);
	assert_int_equal(a->pool, b->pool);
	assert_int_equal(a->node.node, b->node.node);
	assert_int_equal(a->node.by, b->node.by);
	assert_int_equal(a->node.nid_unknown, b->node.nid_unknown);
	assert_int_equal(a->fwd_len, b->fwd_len);
	assert_int_equal(a->classified, b->classified);
	assert_true(flagset_equal(&a->flags, &b->flags));
	assert_int_equal(a->n_rate_limits, b->n_rate_limits);
	assert_memory_equal(a->rate_limits, b->rate_limits, sizeof(a->rate_limits));
	assert_int_equal(a->incomplete, b->incomplete);
	assert_int_equal(a->stream_rule_ignored, b->stream_rule_ignored);
	assert_int_equal(a->msg.verdict, b->msg.verdict);
	assert_int_equal(a->msg.hdr_len, b->msg.hdr_len);
}

struct tally {
	unsigned messages, decisions, forwarded, by_grace, verdicts[SIP_VERDICT__COUNT];
};

static void decide_file(const struct classifier *ca, const struct classifier *cb, const char *path,
			struct tally *n)
{
	static const enum transport trs[] = { TRANSPORT_UDP, TRANSPORT_TCP, TRANSPORT_TLS };
	uint8_t buf[65536];
	FILE *fp = fopen(path, "rb");
	size_t len;

	assert_non_null(fp);
	len = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	n->messages++;
	for (unsigned s = 0; s < sizeof(sources) / sizeof(sources[0]); s++)
		for (unsigned k = 0; k < 4; k++) {
			/* inside and after the grace period of pool 0's previous table */
			const struct decide_ctx xa = { ca, NULL, k & 1 ? 1000 : 3000, 5000, NULL };
			const struct decide_ctx xb = { cb, NULL, xa.now_s, xa.now_ms, NULL };
			struct msg_decision da, db;
			struct packet_meta pm;

			meta(s, trs[k % 3], k == 3, &pm);
			decide_message(&xa, buf, len, &pm, &da);
			decide_message(&xb, buf, len, &pm, &db);
			same_decision(&da, &db);
			n->decisions++;
			n->verdicts[da.verdict]++;
			n->forwarded += da.verdict == SIP_VERDICT_FORWARD;
			n->by_grace += da.node.by == DISPATCH_BY_GRACE;
		}
}

static void decide_dir(const struct classifier *ca, const struct classifier *cb, const char *rel,
		       struct tally *n)
{
	char dir[4096], path[4400];
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/%s", root, rel);
	d = opendir(dir);
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		if (l < 5 || strcmp(e->d_name + l - 4, ".sip") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		decide_file(ca, cb, path, n);
	}
	closedir(d);
}

static void round_trip(const char *conf, uint64_t generation)
{
	struct fixture *f = load(conf);
	struct classifier ca, cb;
	struct tally n = { 0 };

	build_and_map(f, generation);
	same_tables(f);
	assert_int_equal(classifier_init(&ca, &f->cfg->tables), 0);
	assert_int_equal(classifier_init(&cb, &f->t), 0);
	decide_dir(&ca, &cb, "tests/corpus", &n);
	decide_dir(&ca, &cb, "docs/examples", &n);
	print_message("%s: %u messages, %u decisions, %u forwarded, %u by the grace table, "
		      "%u dropped, %u punted\n", conf, n.messages, n.decisions, n.forwarded, n.by_grace,
		      n.verdicts[SIP_VERDICT_DROP], n.verdicts[SIP_VERDICT_PUNT]);
	/* the comparison saw every kind of outcome */
	assert_true(n.messages > 170);
	assert_true(n.forwarded > 0 && n.by_grace > 0 && n.verdicts[SIP_VERDICT_DROP] > 0);
	classifier_free(&ca);
	classifier_free(&cb);
	unload(f);
}

static void test_edge_conf(void **state)
{
	(void)state;
	round_trip("docs/examples/edge.conf", 7);
}

static void test_dp_conf(void **state)
{
	(void)state;
	round_trip("tests/dp/dp.conf", UINT64_MAX);
}

/* The same tables give the same bytes; another generation, other bytes. */
static void test_deterministic(void **state)
{
	struct fixture *f = load("docs/examples/edge.conf");
	void *a, *b, *c;
	size_t la, lb, lc;

	(void)state;
	assert_int_equal(tables_blob_build(&f->cfg->tables, 1, &a, &la), 0);
	assert_int_equal(tables_blob_build(&f->cfg->tables, 1, &b, &lb), 0);
	assert_int_equal(tables_blob_build(&f->cfg->tables, 2, &c, &lc), 0);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);
	assert_int_equal(la, lc);
	assert_memory_not_equal(a, c, la);
	assert_int_equal(la % TABLES_BLOB_ALIGN, 0);
	free(a), free(b), free(c);
	config_free(f->cfg);
	free(f->previous);
	free(f);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edge_conf),
		cmocka_unit_test(test_dp_conf),
		cmocka_unit_test(test_deterministic),
	};

	if (argc < 2) {
		fprintf(stderr, "usage: %s SOURCE_ROOT\n", argv[0]);
		return 2;
	}
	root = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
