/* Fuzz harness over the table blob reader (common/table_blob.c,
 * docs/tables.md). The input's first byte says whether to seal the rest
 * first (bit 0: write the right checksum, so that mutations reach the
 * checks behind it); the rest is the blob. Besides "no crash, no
 * sanitizer report" it checks (abort() on a breach):
 *   - the reader answers 0, -EINVAL or -EPROTO, with a message when it
 *     refuses, and leaves `out` zeroed then;
 *   - accepted tables point inside the blob only and keep the limits;
 *   - decide_message() over a few fixed messages, UDP and TCP, in and
 *     after a grace period, names only rules, pools and nodes of the
 *     tables, and a forwarded message's node belongs to its pool.
 * Seeds: tests/fuzz/corpus/blob/, written by blob_seeds.c. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz_check.h"

#include "siphon/decide.h"
#include "siphon/table_blob.h"

#define HDRS(ua)                                                                       \
	"Via: SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bK1;nid=b2\r\n"                     \
	"From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n"                 \
	"Call-ID: fuzz-blob-1@192.0.2.7\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n"        \
	"User-Agent: " ua "\r\nResource-Priority: esnet.1\r\nContent-Length: 0\r\n\r\n"

static const char *const messages[] = {
	"INVITE sip:bob@198.51.100.10 SIP/2.0\r\n" HDRS("softphone"),
	"OPTIONS sip:lb.example.com SIP/2.0\r\n" HDRS("friendly-scanner"),
	"SIP/2.0 200 OK\r\n" HDRS("core"),
	"BYE sip:bob@198.51.100.21;nid=b1 SIP/2.0\r\nRoute: <sip:198.51.100.10;lr;nid=a2>\r\n"
	"Via: SIP/2.0/UDP 192.0.2.7\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\n"
	"Call-ID: dialog-7\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n",
	"REGISTER sip:example.com SIP/2.0\r\n" HDRS("x"),
};

static bool inside(const void *p, size_t n, const uint8_t *blob, size_t len)
{
	const uint8_t *b = p;
	return n == 0 || (b >= blob && b <= blob + len && n <= (size_t)(blob + len - b));
}

static void check_tables(const struct compiled_tables *t, const uint8_t *blob, size_t len)
{
	CHECK(t->n_flags <= SIPHON_MAX_FLAGS && t->n_rules <= TABLES_MAX_RULES);
	CHECK(t->n_pools <= TABLES_MAX_POOLS && t->n_nodes <= TABLES_MAX_NODES);
	CHECK(t->headers.count <= SIP_EXTRA_MAX && t->n_patterns <= TABLES_MAX_PATTERNS);
	CHECK(inside(t->rule_terms, t->n_rule_terms * sizeof(*t->rule_terms), blob, len));
	CHECK(inside(t->expr_terms, t->n_expr_terms * sizeof(*t->expr_terms), blob, len));
	CHECK(inside(t->actions, t->n_rules * sizeof(*t->actions), blob, len));
	CHECK(inside(t->nodes, t->n_nodes * sizeof(*t->nodes), blob, len));
	CHECK(inside(t->pool_names, t->n_pools * sizeof(*t->pool_names), blob, len));
	CHECK(inside(t->nid_slots, (t->node_index_mask + 1u) * 2u, blob, len));
	CHECK(inside(t->addr_slots, (t->node_index_mask + 1u) * 2u, blob, len));
	CHECK(inside(t->hs_db, t->hs_db_len, blob, len));
	CHECK(inside(t->literals, t->n_literals * sizeof(*t->literals), blob, len));
	CHECK(inside(t->source4.nodes, (size_t)t->source4.n_nodes * PREFIX_FANOUT * 8, blob, len));
	CHECK(inside(t->source6.values, t->source6.n_values * sizeof(struct flagset), blob, len));
	for (uint32_t p = 0; p < t->n_pools; p++) {
		CHECK(inside(t->pools[p].maglev.slots, t->pools[p].maglev.size * 2u, blob, len));
		CHECK(inside(t->pools[p].previous.slots, t->pools[p].previous.size * 2u, blob, len));
		CHECK(t->pools[p].first_node + (uint64_t)t->pools[p].n_nodes <= t->n_nodes);
	}
}

static void meta(unsigned k, struct packet_meta *pm)
{
	static const uint8_t src6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 5, [15] = 9 };

	memset(pm, 0, sizeof(*pm));
	pm->transport = k & 1 ? TRANSPORT_TCP : TRANSPORT_UDP;
	pm->tcp_syn = (k & 2) != 0;
	pm->sport = 40000, pm->dport = 5060;
	if (k & 4) {
		pm->family = AF_INET6;
		memcpy(pm->src, src6, 16);
		pm->dst[0] = 0x20, pm->dst[15] = 0x10;
	} else {
		pm->family = AF_INET;
		pm->src[0] = 192, pm->src[2] = 2, pm->src[3] = (uint8_t)(7 + 120 * (k >> 3));
		pm->dst[0] = 198, pm->dst[1] = 51, pm->dst[2] = 100, pm->dst[3] = 10;
	}
}

static void check_decision(const struct compiled_tables *t, const struct msg_decision *d)
{
	CHECK(sip_reason_verdict(d->reason) == d->verdict);
	CHECK(d->rule >= -1 && d->rule < (int)t->n_rules);
	CHECK(d->pool >= -1 && d->pool < (int)t->n_pools);
	CHECK(d->node.node >= -1 && d->node.node < (int)t->n_nodes);
	if (d->verdict != SIP_VERDICT_FORWARD)
		return;
	CHECK(d->pool >= 0 && d->node.node >= 0);
	CHECK(t->nodes[d->node.node].pool == d->pool);
	CHECK((uint32_t)d->node.node - t->pools[d->pool].first_node < t->pools[d->pool].n_nodes);
}

static void decide_some(const struct compiled_tables *t)
{
	struct classifier cls;

	/* a database another Hyperscan refuses is refused here too: skip it */
	if (classifier_init(&cls, t) != 0)
		return;
	for (unsigned m = 0; m < sizeof(messages) / sizeof(messages[0]); m++)
		for (unsigned k = 0; k < 16; k++) {
			const struct decide_ctx ctx = { &cls, NULL, k & 8 ? 1u << 30 : 10, 1000, NULL };
			struct packet_meta pm;
			struct msg_decision d;

			meta(k, &pm);
			decide_message(&ctx, (const uint8_t *)messages[m], strlen(messages[m]), &pm, &d);
			check_decision(t, &d);
		}
	classifier_free(&cls);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct compiled_tables zero;
	static struct compiled_tables t;
	char err[256] = "";
	uint8_t *blob;
	size_t len;
	int rc;

	if (size < 1)
		return 0;
	len = size - 1;
	blob = malloc(len ? len : 1); /* aligned, exactly len bytes */
	CHECK(blob != NULL);
	memcpy(blob, data + 1, len);
	if ((data[0] & 1) && len >= TABLES_BLOB_SUMMED_FROM) {
		uint64_t sum = tables_blob_checksum(blob, len);
		memcpy(blob + 8, &sum, sizeof(sum));
	}
	rc = tables_blob_open(blob, len, &t, err, sizeof(err));
	CHECK(rc == 0 || rc == -EINVAL || rc == -EPROTO);
	if (rc) {
		CHECK(err[0] != 0);
		CHECK(memcmp(&t, &zero, sizeof(t)) == 0);
	} else {
		check_tables(&t, blob, len);
		decide_some(&t);
	}
	free(blob);
	return 0;
}
