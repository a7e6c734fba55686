/* Table blobs, the refusals (docs/tables.md "What is validated"): every
 * header field, truncations, every section's directory entry, every kind
 * of index, a bad checksum. Each case changes one thing in a good blob of
 * docs/examples/edge.conf, seals it again (unless the checksum is the
 * point) and requires the exact error, its message and a zeroed `out`.
 * Args: the source root. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "blob_write.h"
#include "config.h"
#include "siphon/table_blob.h"

static const char *root;
static struct siphon_config *cfg;
static uint16_t *previous;
static void *good;
static size_t good_len;
static uint64_t *buf; /* the working copy, 8-byte aligned */

static struct tables_blob_header *H(void)
{
	return (struct tables_blob_header *)(void *)buf;
}

static void *S(unsigned id)
{
	return (uint8_t *)buf + H()->sec[id].offset;
}

#define M(id, type) ((type *)S(TABLES_BLOB_##id))

static void fresh(void)
{
	memcpy(buf, good, good_len);
}

static void expect_at(const void *blob, size_t len, int rc, const char *text)
{
	static const struct compiled_tables zero;
	struct compiled_tables t;
	char err[256] = "";

	memset(&t, 0xA5, sizeof(t));
	if (tables_blob_open(blob, len, &t, err, sizeof(err)) != rc || !strstr(err, text))
		fail_msg("expected %d \"%s\", got \"%s\"", rc, text, err);
	assert_memory_equal(&t, &zero, sizeof(t));
}

/* Sealed: the checksum is right, so the check named is the one that fails. */
#define CASE(mutation, rc, text)                                        \
	do {                                                            \
		fresh();                                                \
		mutation;                                               \
		H()->checksum = tables_blob_checksum(buf, good_len);    \
		expect_at(buf, good_len, rc, text);                     \
	} while (0)

static int setup(void **state)
{
	struct config_error err;
	char path[4096];
	struct pool_table *p0;

	(void)state;
	snprintf(path, sizeof(path), "%s/docs/examples/edge.conf", root);
	if (config_load(path, &cfg, &err)) {
		fprintf(stderr, "%s\n", err.text);
		return -1;
	}
	/* a previous table too, so that its checks have something to refuse */
	p0 = &cfg->tables.pools[0];
	previous = malloc(p0->maglev.size * sizeof(uint16_t));
	if (!previous)
		return -1;
	memcpy(previous, p0->maglev.slots, p0->maglev.size * sizeof(uint16_t));
	p0->previous = (struct maglev_table){ p0->maglev.size, previous };
	p0->previous_until = 500;
	if (tables_blob_build(&cfg->tables, 42, &good, &good_len))
		return -1;
	buf = malloc(good_len);
	return buf ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(buf);
	free(good);
	free(previous);
	config_free(cfg);
	return 0;
}

static void test_good_opens(void **state)
{
	struct compiled_tables t;
	char err[256];

	(void)state;
	fresh();
	assert_int_equal(tables_blob_open(buf, good_len, &t, err, sizeof(err)), 0);
	assert_int_equal(t.n_pools, 2);
	assert_int_equal(t.n_nodes, 5);
	assert_int_equal(t.pools[0].previous.size, 65537);
	assert_int_equal(tables_blob_generation(buf), 42);
}

static void test_header(void **state)
{
	(void)state;
	CASE(H()->magic ^= 1, -EINVAL, "magic: 0x54485052, not a table blob (0x54485053)");
	CASE(H()->magic = __builtin_bswap32(TABLES_BLOB_MAGIC), -EPROTO,
	     "magic: a blob of the other byte order");
	CASE(H()->abi = 4, -EPROTO, "abi: version 4, this build reads version 3");
	CASE(H()->abi = 0, -EPROTO, "abi: version 0, this build reads version 3");
	CASE(H()->header_size += 8, -EINVAL, "header_size: ");
	CASE(H()->total_len += 8, -EINVAL, "total_len: ");
	CASE(H()->total_len -= 8, -EINVAL, "total_len: ");
	CASE(H()->n_sections--, -EINVAL, "n_sections: 22, expected 23");
	CASE(H()->reserved = 1, -EINVAL, "reserved: 1, expected 0");
	/* not sealed: what the checksum is for */
	fresh();
	H()->generation++;
	expect_at(buf, good_len, -EINVAL, "checksum: ");
	fresh();
	H()->checksum ^= 1ull << 40;
	expect_at(buf, good_len, -EINVAL, "checksum: ");
	fresh();
	((uint8_t *)S(TABLES_BLOB_HS_DB))[100] ^= 0x10;
	expect_at(buf, good_len, -EINVAL, "checksum: ");
	fresh();
	((uint8_t *)buf)[good_len - 1] ^= 0x80;
	expect_at(buf, good_len, -EINVAL, "checksum: ");
}

static void truncated(size_t len, const char *text)
{
	/* exactly len bytes: a read past them is a sanitizer report */
	void *b = malloc(len ? len : 1);

	assert_non_null(b);
	memcpy(b, good, len);
	expect_at(b, len, -EINVAL, text);
	free(b);
}

static void test_truncated(void **state)
{
	const size_t hs = sizeof(struct tables_blob_header);

	(void)state;
	truncated(0, "blob: 0 bytes, too short for a header");
	truncated(7, "blob: 7 bytes, too short for a header");
	truncated(8, "blob: 8 bytes, shorter than its header");
	truncated(hs - 1, "shorter than its header");
	truncated(hs, "total_len: ");
	truncated(good_len / 2, "total_len: ");
	truncated(good_len - 1, "total_len: ");
}

static void test_foreign(void **state)
{
	static const char sip[] = "OPTIONS sip:lb.example.com SIP/2.0\r\nVia: SIP/2.0/UDP x\r\n"
				  "\r\n0123456789012345678901234567890123456789012345678901234567890"
				  "12345678901234567890123456789012345678901234567890123456789012"
				  "34567890123456789012345678901234567890123456789012345678901234"
				  "56789012345678901234567890123456789012345678901234567890123456"
				  "78901234567890123456789012345678901234567890123456789012345678";
	uint64_t aligned[sizeof(sip) / 8 + 1];
	uint8_t *odd = malloc(good_len + 8);

	(void)state;
	memcpy(aligned, sip, sizeof(sip));
	expect_at(aligned, sizeof(sip), -EINVAL, "not a table blob");
	/* a good blob at an address its elements cannot be read from */
	assert_non_null(odd);
	memcpy(odd + 4, good, good_len);
	expect_at(odd + 4, good_len, -EINVAL, "blob: at an address not 8-byte aligned");
	free(odd);
}

/* Every section: its element size, alignment, order, extent. */
static void test_directory(void **state)
{
	char text[160];

	(void)state;
	for (unsigned i = 0; i < TABLES_BLOB__COUNT; i++) {
		const char *name = tables_blob_section_name(i);
		const uint64_t off = ((struct tables_blob_header *)good)->sec[i].offset;

		snprintf(text, sizeof(text), "section %s: element size", name);
		CASE(H()->sec[i].elem_size++, -EPROTO, text);
		snprintf(text, sizeof(text), "section %s: offset %llu is not 8-byte aligned", name,
			 (unsigned long long)off + 4);
		CASE(H()->sec[i].offset += 4, -EINVAL, text);
		snprintf(text, sizeof(text), "section %s: offset %llu overlaps", name,
			 (unsigned long long)(i ? H()->sec[0].offset : 0));
		CASE(H()->sec[i].offset = i ? H()->sec[0].offset : 0, -EINVAL, text);
		snprintf(text, sizeof(text), "section %s: ", name);
		CASE(H()->sec[i].offset = good_len + 8, -EINVAL, text);
		CASE(H()->sec[i].offset = UINT64_MAX - 7, -EINVAL, "end past the blob");
		CASE(H()->sec[i].count = UINT32_MAX, -EINVAL, "end past the blob");
	}
	CASE(H()->sec[TABLES_BLOB_METHODS].count = 33, -EINVAL, "section methods: 33 elements; at most 32");
	CASE(H()->sec[TABLES_BLOB_SELF_ADDRS].count = 33, -EINVAL,
	     "section self_addrs: 33 elements; at most 32");
	CASE(H()->sec[TABLES_BLOB_HEADERS].count = 17, -EINVAL, "section headers: 17 elements; at most 16");
	CASE(H()->sec[TABLES_BLOB_POOLS].count = 65, -EINVAL, "section pools: 65 elements; at most 64");
	CASE(H()->sec[TABLES_BLOB_CORE].count = 0, -EINVAL, "section core: 0 elements, expected 1");
	CASE(H()->sec[TABLES_BLOB_HEADER_PRESENT].count--, -EINVAL,
	     "section header_present: 3 elements, expected one per header (4)");
	CASE(H()->sec[TABLES_BLOB_POOL_NAMES].count--, -EINVAL,
	     "section pool_names: 1 elements, expected one per pool (2)");
	CASE(H()->sec[TABLES_BLOB_HS_DB].count = 0, -EINVAL, "section hs_db: 0 bytes for 3 patterns");
	CASE(H()->sec[TABLES_BLOB_NID_SLOTS].count--, -EINVAL,
	     "section nid_slots / addr_slots: 15 and 16 slots, expected 16");
}

static void test_core(void **state)
{
	(void)state;
	CASE(M(CORE, struct tables_blob_core)->n_flags = 129, -EINVAL, "core n_flags: 129; at most 128");
	CASE(M(CORE, struct tables_blob_core)->n_ports = 9, -EINVAL, "core n_ports: 9; at most 8");
	CASE(M(CORE, struct tables_blob_core)->has_mac = 2, -EINVAL, "core has_mac");
	CASE(M(CORE, struct tables_blob_core)->has_gateway_mac = 0xff, -EINVAL, "core has_mac");
	CASE(M(CORE, struct tables_blob_core)->pad[1] = 1, -EINVAL, "core pad: not zero");
	CASE(M(CORE, struct tables_blob_core)->source6_key_bytes = 4, -EINVAL,
	     "core key bytes: 4 and 4, expected 4 and 16");
	CASE(M(CORE, struct tables_blob_core)->node_index_mask = 14, -EINVAL,
	     "core node_index_mask: 0xe for 5 nodes");
	CASE(M(CORE, struct tables_blob_core)->node_index_mask = 7, -EINVAL,
	     "core node_index_mask: 0x7 for 5 nodes");
}

static void test_flags_input(void **state)
{
	(void)state;
	CASE(M(METHODS, struct method_flags)[1].len = 64, -EINVAL, "methods[1]: len 64");
	CASE(M(METHODS, struct method_flags)[0].name[7] = 'X', -EINVAL, "methods[0]: len 7");
	CASE(M(SELF_ADDRS, struct self_addr)[1].family = 99, -EINVAL, "self_addrs[1]: family 99");
	CASE(M(CONTROL_ADDRS, struct self_addr)[0].family = 0, -EINVAL, "control_addrs[0]: family 0");
	CASE(memset(M(SELF_NAMES, struct tables_blob_name)[1].s, 'a', TABLES_NAME_MAX), -EINVAL,
	     "self_names[1]: not NUL-terminated");
	CASE(memset(M(POOL_NAMES, struct tables_blob_name)[0].s, 'a', TABLES_NAME_MAX), -EINVAL,
	     "pool_names[0]: not NUL-terminated");
	CASE(M(HEADERS, struct sip_extra_header)[2].len = 0, -EINVAL, "headers[2]: len 0");
	CASE(M(HEADERS, struct sip_extra_header)[0].len = 64, -EINVAL, "headers[0]: len 64");
	CASE(M(PATTERNS, struct pattern_ref)[2].header = 4, -EINVAL, "patterns[2]: header 4; 4 headers");
	CASE(M(PATTERNS, struct pattern_ref)[0].flag = 15, -EINVAL, "patterns[0]: flag 15; 15 flags");
	/* the literal pre-check's: edge.conf's patterns all have them */
	assert_int_equal(H()->sec[TABLES_BLOB_HS_LITERALS].count, 9);
	CASE(H()->sec[TABLES_BLOB_HS_LITERALS].count = 257, -EINVAL,
	     "section hs_literals: 257 elements of 32 bytes");
	CASE(M(HS_LITERALS, struct hs_literal)[0].header = 4, -EINVAL,
	     "hs_literals[0]: header 4 has no patterns");
	CASE(M(HS_LITERALS, struct hs_literal)[1].len = 1, -EINVAL, "hs_literals[1]: len 1, caseless 1");
	CASE(M(HS_LITERALS, struct hs_literal)[1].len = HS_LITERAL_MAX + 1, -EINVAL,
	     "hs_literals[1]: len 29, caseless 1");
	CASE(M(HS_LITERALS, struct hs_literal)[2].caseless = 2, -EINVAL, "hs_literals[2]: len ");
	CASE(M(HS_LITERALS, struct hs_literal)[0].text[0] = 0x80, -EINVAL,
	     "hs_literals[0]: byte 0 is 0x80");
	CASE(M(HS_LITERALS, struct hs_literal)[0].text[HS_LITERAL_MAX - 1] = 'x', -EINVAL,
	     "hs_literals[0]: byte 27 is 0x78");
}

static int find_action(enum action_kind kind)
{
	for (uint32_t i = 0; i < cfg->tables.n_rules; i++)
		if (cfg->tables.actions[i].kind == kind)
			return (int)i;
	fail_msg("no action of kind %d", kind);
	return -1;
}

static void test_route(void **state)
{
	char text[96];
	const int pool = find_action(ACTION_POOL), reply = find_action(ACTION_REPLY);

	(void)state;
	CASE(M(EXPR_TERMS, struct dnf_term)[1].target = 15, -EINVAL,
	     "expr_terms[1]: target flag 15; 15 flags");
	CASE(M(RULE_TERMS, struct dnf_term)[0].target = 8, -EINVAL, "rule_terms[0]: target rule 8; 8 rules");
	CASE(M(RULE_TERMS, struct dnf_term)[3].target = 0xffff, -EINVAL, "rule_terms[3]: target rule 65535");
	CASE(M(ACTIONS, struct rule_action)[0].kind = ACTION__COUNT, -EINVAL, "actions[0]: kind 5");
	CASE(M(ACTIONS, struct rule_action)[2].kind = (enum action_kind)-1, -EINVAL, "actions[2]: kind 4294967295");
	snprintf(text, sizeof(text), "actions[%d]: pool 2; 2 pools", pool);
	CASE(M(ACTIONS, struct rule_action)[pool].pool = 2, -EINVAL, text);
	snprintf(text, sizeof(text), "actions[%d]: reply_reason not NUL-terminated", reply);
	CASE(memset(M(ACTIONS, struct rule_action)[reply].reply_reason, 'x', TABLES_NAME_MAX), -EINVAL,
	     text);
}

static void test_pools(void **state)
{
	(void)state;
	CASE(M(POOLS, struct tables_blob_pool)[1].mode = POOL_MODE__COUNT, -EINVAL, "pools[1]: mode 3");
	CASE(M(POOLS, struct tables_blob_pool)[1].first_node = 4, -EINVAL, "pools[1]: nodes 4..6; 5 nodes");
	CASE(M(POOLS, struct tables_blob_pool)[1].first_node = UINT32_MAX, -EINVAL, "pools[1]: nodes");
	CASE(M(POOLS, struct tables_blob_pool)[0].n_nodes = UINT32_MAX, -EINVAL, "pools[0]: nodes");
	CASE(M(POOLS, struct tables_blob_pool)[0].n_nodes = 4, -EINVAL,
	     "pools[0]: node 3 belongs to pool 1");
	CASE(M(NODES, struct pool_node)[1].pool = 1, -EINVAL, "pools[0]: node 1 belongs to pool 1");
	CASE((M(POOLS, struct tables_blob_pool)[0].n_nodes = 2, M(POOLS, struct tables_blob_pool)[0].maglev_size = 0,
	      M(POOLS, struct tables_blob_pool)[0].previous_size = 0), -EINVAL,
	     "nodes[2]: pool 0, whose nodes are 0..2");
	CASE(M(POOLS, struct tables_blob_pool)[0].encap_source6.family = 7, -EINVAL,
	     "pools[0]: encap source family");
	CASE(M(POOLS, struct tables_blob_pool)[1].pad = 1, -EINVAL, "pools[1]: pad not zero");
	CASE(M(POOLS, struct tables_blob_pool)[1].maglev_size = MAGLEV_MAX_SIZE + 2, -EINVAL,
	     "pools[1]: maglev table of 1048575 slots");
	CASE(M(POOLS, struct tables_blob_pool)[1].maglev_first = 3 * 65537 - 10, -EINVAL,
	     "pools[1]: maglev table of 65537 slots at 196601; 196611 slots");
	CASE(M(POOLS, struct tables_blob_pool)[1].maglev_first = UINT32_MAX, -EINVAL,
	     "pools[1]: maglev table");
	CASE(M(POOLS, struct tables_blob_pool)[0].previous_first = 2 * 65537 + 1, -EINVAL,
	     "pools[0]: previous table of 65537 slots at 131075");
	/* pool 0's current table, then its previous one, then pool 1's */
	CASE(M(MAGLEV_SLOTS, uint16_t)[5] = 3, -EINVAL, "pools[0]: maglev slot 5: node 3; the pool has 3");
	CASE(M(MAGLEV_SLOTS, uint16_t)[65537 + 9] = 0xfffe, -EINVAL,
	     "pools[0]: previous slot 9: node 65534; the pool has 3");
	CASE(M(MAGLEV_SLOTS, uint16_t)[2 * 65537] = 2, -EINVAL,
	     "pools[1]: maglev slot 0: node 2; the pool has 2");
	/* the no-node marker is a value a slot may hold */
	fresh();
	M(MAGLEV_SLOTS, uint16_t)[7] = MAGLEV_NO_NODE;
	H()->checksum = tables_blob_checksum(buf, good_len);
	{
		struct compiled_tables t;
		char err[256];
		assert_int_equal(tables_blob_open(buf, good_len, &t, err, sizeof(err)), 0);
		assert_int_equal(t.pools[0].maglev.slots[7], MAGLEV_NO_NODE);
	}
}

static void test_nodes(void **state)
{
	(void)state;
	CASE(M(NODES, struct pool_node)[4].pool = 2, -EINVAL, "nodes[4]: pool 2; 2 pools");
	CASE(*(uint8_t *)&M(NODES, struct pool_node)[2].up = 2, -EINVAL, "nodes[2]: up / has_mac");
	CASE(*(uint8_t *)&M(NODES, struct pool_node)[0].has_mac = 9, -EINVAL, "nodes[0]: up / has_mac");
	CASE(M(NODES, struct pool_node)[3].id_len = 64, -EINVAL, "nodes[3]: id_len 64");
	CASE(M(NODES, struct pool_node)[3].id_len = 1, -EINVAL, "nodes[3]: id_len 1");
	CASE(M(NODES, struct pool_node)[0].addr.family = 0, -EINVAL, "nodes[0]: family 0");
	CASE(M(NID_SLOTS, uint16_t)[3] = 6, -EINVAL, "nid_slots[3]: 6; 5 nodes");
	CASE(M(ADDR_SLOTS, uint16_t)[15] = 0xffff, -EINVAL, "addr_slots[15]: 65535; 5 nodes");
}

static void test_prefixes(void **state)
{
	struct tables_blob_prefix_node *p4, *p6;
	char text[96];
	const uint32_t n4 = cfg->tables.source4.n_nodes, v4 = cfg->tables.source4.n_values;
	const uint32_t n6 = cfg->tables.source6.n_nodes, v6 = cfg->tables.source6.n_values;

	(void)state;
	assert_true(n4 > 1 && n6 > 1);
	snprintf(text, sizeof(text), "prefix4_nodes[0][198]: child %u; %u nodes", n4, n4);
	CASE((p4 = S(TABLES_BLOB_PREFIX4_NODES), p4[0].e[198].child = n4), -EINVAL, text);
	snprintf(text, sizeof(text), "prefix4_nodes[1][255]: value %u; %u values", v4, v4);
	CASE((p4 = S(TABLES_BLOB_PREFIX4_NODES), p4[1].e[255].value = v4), -EINVAL, text);
	snprintf(text, sizeof(text), "prefix6_nodes[%u][0]: child 4294967295; %u nodes", n6 - 1, n6);
	CASE((p6 = S(TABLES_BLOB_PREFIX6_NODES), p6[n6 - 1].e[0].child = UINT32_MAX), -EINVAL, text);
	snprintf(text, sizeof(text), "prefix6_nodes[0][32]: value %u; %u values", v6 + 5, v6);
	CASE((p6 = S(TABLES_BLOB_PREFIX6_NODES), p6[0].e[32].value = v6 + 5), -EINVAL, text);
}

/* A config with no pattern, prefix, pool or node: empty sections open. */
static void test_minimal(void **state)
{
	struct siphon_config *c;
	struct config_error err;
	struct compiled_tables t;
	char text[256];
	void *b;
	size_t len;

	(void)state;
	if (config_load_text("min.conf", "route = ({ then = \"drop\"; });\n", &c, &err))
		fail_msg("%s", err.text);
	assert_int_equal(tables_blob_build(&c->tables, 0, &b, &len), 0);
	assert_int_equal(tables_blob_open(b, len, &t, text, sizeof(text)), 0);
	assert_int_equal(t.n_pools, 0);
	assert_int_equal(t.n_nodes, 0);
	assert_int_equal(t.n_patterns, 0);
	assert_null(t.hs_db);
	assert_int_equal(t.n_rules, 1);
	assert_int_equal(t.actions[0].kind, ACTION_DROP);
	free(b);
	config_free(c);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_opens), cmocka_unit_test(test_header),
		cmocka_unit_test(test_truncated),  cmocka_unit_test(test_foreign),
		cmocka_unit_test(test_directory),  cmocka_unit_test(test_core),
		cmocka_unit_test(test_flags_input), cmocka_unit_test(test_route),
		cmocka_unit_test(test_pools),      cmocka_unit_test(test_nodes),
		cmocka_unit_test(test_prefixes),   cmocka_unit_test(test_minimal),
	};

	if (argc < 2) {
		fprintf(stderr, "usage: %s SOURCE_ROOT\n", argv[0]);
		return 2;
	}
	root = argv[1];
	return cmocka_run_group_tests(tests, setup, teardown);
}
