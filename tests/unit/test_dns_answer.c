/* DNS answers to nodes (docs/dns.md), without a network: the TTL of an
 * SRV answer read from the message, an answer made canonical, and what
 * config_rebuild() makes of answers (names, nids, ports, weights, SRV
 * priorities, the same tables for the same answer in another order). */
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

#include <cmocka.h>

#include "config.h"
#include "dns_answer.h"

static struct cfg_resolved addr4(const char *text, uint16_t port, uint16_t prio, uint32_t weight)
{
	struct cfg_resolved r = { .addr.family = AF_INET, .port = port, .priority = prio,
				  .weight = weight };

	assert_int_equal(inet_pton(AF_INET, text, r.addr.addr), 1);
	return r;
}

static struct cfg_resolved addr6(const char *text, uint16_t port, uint16_t prio, uint32_t weight)
{
	struct cfg_resolved r = { .addr.family = AF_INET6, .port = port, .priority = prio,
				  .weight = weight };

	assert_int_equal(inet_pton(AF_INET6, text, r.addr.addr), 1);
	return r;
}

static void test_ttl_clamp(void **state)
{
	(void)state;
	assert_int_equal(dns_ttl_clamp(0), DNS_TTL_MIN_S);
	assert_int_equal(dns_ttl_clamp(2), 2);
	assert_int_equal(dns_ttl_clamp(300), 300);
	assert_int_equal(dns_ttl_clamp(86400), DNS_TTL_MAX_S);
	assert_int_equal(dns_srv_weight(0), 1);
	assert_int_equal(dns_srv_weight(65535), 65535);
}

/* A response to _sip._udp.example.test SRV: the question, then records. */
struct msg {
	uint8_t b[512];
	size_t len;
};

static void put(struct msg *m, const void *p, size_t n)
{
	memcpy(m->b + m->len, p, n);
	m->len += n;
}

static void put16(struct msg *m, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	put(m, b, 2);
}

static void put32(struct msg *m, uint32_t v)
{
	put16(m, (uint16_t)(v >> 16));
	put16(m, (uint16_t)v);
}

static void start_msg(struct msg *m, uint16_t answers)
{
	static const uint8_t qname[] = "\x04_sip\x04_udp\x07" "example\x04test";

	m->len = 0;
	put16(m, 0x1234);
	put16(m, 0x8180);
	put16(m, 1);
	put16(m, answers);
	put16(m, 0);
	put16(m, 0);
	put(m, qname, sizeof(qname)); /* with its final 0 */
	put16(m, DNS_TYPE_SRV);
	put16(m, 1);
}

static void srv_rr(struct msg *m, uint32_t ttl, const char *target_label)
{
	size_t l = strlen(target_label);

	put16(m, 0xc00c); /* the question's name */
	put16(m, DNS_TYPE_SRV);
	put16(m, 1);
	put32(m, ttl);
	put16(m, (uint16_t)(6 + 1 + l + 2));
	put16(m, 10);
	put16(m, 60);
	put16(m, 5060);
	m->b[m->len++] = (uint8_t)l;
	put(m, target_label, l);
	put16(m, 0xc016); /* ... "example.test" of the question */
}

static void a_rr(struct msg *m, uint32_t ttl)
{
	put16(m, 0xc00c);
	put16(m, 1);
	put16(m, 1);
	put32(m, ttl);
	put16(m, 4);
	put32(m, 0xc6120001);
}

static void test_min_ttl(void **state)
{
	struct msg m;
	uint32_t ttl = 99;

	(void)state;
	start_msg(&m, 3);
	srv_rr(&m, 30, "sip1");
	a_rr(&m, 5); /* another type: not counted */
	srv_rr(&m, 20, "sip2");
	assert_int_equal(dns_answer_min_ttl(m.b, m.len, DNS_TYPE_SRV, &ttl), 0);
	assert_int_equal(ttl, 20);
	assert_int_equal(dns_answer_min_ttl(m.b, m.len, 1, &ttl), 0);
	assert_int_equal(ttl, 5);
	/* RFC 2181: a TTL with its top bit set is 0 */
	start_msg(&m, 1);
	srv_rr(&m, 0x80000001u, "sip1");
	assert_int_equal(dns_answer_min_ttl(m.b, m.len, DNS_TYPE_SRV, &ttl), 0);
	assert_int_equal(ttl, 0);
	/* none of the type */
	start_msg(&m, 1);
	a_rr(&m, 5);
	assert_int_equal(dns_answer_min_ttl(m.b, m.len, DNS_TYPE_SRV, &ttl), -ENOENT);
	/* cut anywhere: malformed, never read past the end */
	start_msg(&m, 2);
	srv_rr(&m, 30, "sip1");
	srv_rr(&m, 20, "sip2");
	for (size_t cut = 0; cut < m.len; cut++) {
		int rc = dns_answer_min_ttl(m.b, cut, DNS_TYPE_SRV, &ttl);

		assert_true(rc == -EINVAL || (rc == 0 && ttl == 30));
	}
	/* a reserved label type (0x40) */
	start_msg(&m, 1);
	m.b[12] = 0x44;
	assert_int_equal(dns_answer_min_ttl(m.b, m.len, DNS_TYPE_SRV, &ttl), -EINVAL);
	assert_int_equal(dns_answer_min_ttl(NULL, 0, DNS_TYPE_SRV, &ttl), -EINVAL);
}

static void test_finish(void **state)
{
	struct cfg_resolved r[] = {
		addr4("198.18.0.3", 5060, 20, 10),
		addr6("2001:db8::1", 5060, 10, 5),
		addr4("198.18.0.2", 5062, 10, 30),
		addr4("198.18.0.1", 5060, 10, 60),
		addr4("198.18.0.2", 5062, 10, 30), /* twice at one priority: weights add up */
		addr4("198.18.0.1", 5060, 30, 99), /* again at a higher priority: dropped */
	};
	uint32_t dropped, n;

	(void)state;
	r[0].addr.addr[7] = 0xaa; /* bytes past an IPv4 address do not count */
	n = dns_nodes_finish(r, 6, DNS_MAX_NODES, &dropped);
	assert_int_equal(n, 4);
	assert_int_equal(dropped, 0);
	assert_int_equal(r[0].addr.addr[3], 1);
	assert_int_equal(r[0].priority, 10);
	assert_int_equal(r[0].weight, 60);
	assert_int_equal(r[1].addr.addr[3], 2);
	assert_int_equal(r[1].weight, 60);
	assert_int_equal(r[2].addr.family, AF_INET6); /* IPv4 first within a priority */
	assert_int_equal(r[3].priority, 20);
	assert_int_equal(r[3].addr.addr[7], 0);
	/* at most max: the highest priorities go */
	n = dns_nodes_finish(r, 4, 2, &dropped);
	assert_int_equal(n, 2);
	assert_int_equal(dropped, 2);
	assert_int_equal(r[1].addr.addr[3], 2);
	assert_int_equal(dns_nodes_finish(r, 0, 4, &dropped), 0);
}

static void test_equal_any_order(void **state)
{
	struct cfg_resolved a[] = { addr4("198.18.0.1", 5060, 0, 0), addr4("198.18.0.2", 5060, 0, 0),
				    addr4("198.18.0.3", 5060, 0, 0) };
	struct cfg_resolved b[] = { addr4("198.18.0.3", 5060, 0, 0), addr4("198.18.0.1", 5060, 0, 0),
				    addr4("198.18.0.2", 5060, 0, 0) };
	uint32_t d, na = dns_nodes_finish(a, 3, 8, &d), nb = dns_nodes_finish(b, 3, 8, &d);

	(void)state;
	assert_true(dns_nodes_equal(a, na, b, nb));
	b[2].weight = 7;
	assert_false(dns_nodes_equal(a, na, b, nb));
	assert_false(dns_nodes_equal(a, na, b, nb - 1));
}

/* config_rebuild's lookup: canned answers by node name. */
struct answers {
	struct cfg_resolved sip[8], h[8];
	uint32_t n_sip, n_h;
	unsigned calls;
};

static uint32_t lookup(void *ctx, const char *pool, const struct cfg_name *name,
		       const struct cfg_resolved **out)
{
	struct answers *a = ctx;

	assert_string_equal(pool, "core");
	a->calls++;
	if (strcmp(name->name, "sip") == 0) {
		assert_int_equal(name->kind, CFG_NAME_SRV);
		*out = a->sip;
		return a->n_sip;
	}
	assert_int_equal(name->kind, CFG_NAME_HOST);
	*out = a->h;
	return a->n_h;
}

static const char *const conf =
	"pools = ( { name = \"core\"; nodes = (\n"
	"  { name = \"b1\"; address = \"198.51.100.21\"; },\n"
	"  { name = \"sip\"; srv = \"example.test\"; },\n"
	"  { name = \"h\"; host = \"h.example.test\"; port = 5070; weight = 50; family = \"ipv4\"; id = \"hh\"; }\n"
	"); } );\n"
	"route = ( { then = \"pool core\"; } );\n";

static struct siphon_config *rebuilt(struct siphon_config *base, struct answers *a)
{
	struct siphon_config *cfg = NULL;
	struct config_error err;
	uint32_t d;

	a->n_sip = dns_nodes_finish(a->sip, a->n_sip, DNS_MAX_NODES, &d);
	a->n_h = dns_nodes_finish(a->h, a->n_h, DNS_MAX_NODES, &d);
	if (config_rebuild(base, lookup, a, &cfg, &err))
		fail_msg("%s", err.text);
	return cfg;
}

static void test_config_names(void **state)
{
	struct siphon_config *base, *cfg;
	struct config_error err;
	struct answers a = {
		.sip = { addr4("198.18.0.2", 5062, 10, 30), addr4("198.18.0.1", 5060, 10, 60),
			 addr6("2001:db8::3", 5060, 20, 1) },
		.n_sip = 3,
		.h = { addr4("198.18.1.2", 0, 0, 0), addr6("2001:db8::9", 0, 0, 0),
		       addr4("198.18.1.1", 0, 0, 0) },
		.n_h = 3,
	};
	const struct cfg_pool *p;

	(void)state;
	if (config_load_text("n.conf", conf, &base, &err))
		fail_msg("%s", err.text);
	/* loaded alone: the names are kept, and are no node */
	assert_int_equal(base->n_names, 2);
	assert_int_equal(base->pools[0].n_names, 2);
	assert_int_equal(base->pools[0].n_nodes, 1);
	assert_int_equal(base->tables.n_nodes, 1);
	assert_string_equal(base->pools[0].names[0].host, "example.test");
	assert_int_equal(base->pools[0].names[1].port, 5070);

	cfg = rebuilt(base, &a);
	p = &cfg->pools[0];
	assert_int_equal(p->n_nodes, 1 + 3 + 2); /* h's IPv6 address: family ipv4 */
	assert_string_equal(p->nodes[0].name, "b1");
	assert_int_equal(p->nodes[0].from_name, -1);
	assert_string_equal(p->nodes[1].name, "sip@198.18.0.1");
	assert_string_equal(p->nodes[1].id, "sip-198-18-0-1");
	assert_int_equal(p->nodes[1].port, 5060);
	assert_int_equal(p->nodes[1].weight, 60);
	assert_int_equal(p->nodes[1].priority, 10);
	assert_int_equal(p->nodes[1].from_name, 0);
	assert_string_equal(p->nodes[2].name, "sip@198.18.0.2:5062");
	assert_string_equal(p->nodes[2].id, "sip-198-18-0-2_5062");
	assert_int_equal(p->nodes[2].port, 5062);
	assert_string_equal(p->nodes[3].name, "sip@[2001:db8::3]");
	assert_string_equal(p->nodes[3].id, "sip-2001-db8--3");
	assert_int_equal(p->nodes[3].priority, 20);
	assert_int_equal(p->nodes[3].weight, 1);
	assert_string_equal(p->nodes[4].name, "h@198.18.1.1:5070");
	assert_string_equal(p->nodes[4].id, "hh-198-18-1-1_5070");
	assert_int_equal(p->nodes[4].port, 5070);
	assert_int_equal(p->nodes[4].weight, 50);
	assert_int_equal(p->nodes[4].from_name, 1);
	assert_int_equal(cfg->tables.n_nodes, 6);
	assert_string_equal(cfg->nodes[5].id, "hh-198-18-1-2_5070");

	/* the same answer in another order: the same tables */
	struct answers b = a;
	struct cfg_resolved t = b.sip[0];

	b.sip[0] = b.sip[2], b.sip[2] = t;
	t = b.h[0], b.h[0] = b.h[1], b.h[1] = t;
	struct siphon_config *again = rebuilt(base, &b);

	assert_int_equal(again->tables.n_nodes, cfg->tables.n_nodes);
	assert_memory_equal(again->maglev_slots, cfg->maglev_slots,
			    cfg->pools[0].maglev_size * sizeof(uint16_t));
	config_free(again);

	/* one address replaced: Maglev moves the old node's slots, the new
	 * node's share, and few others */
	b = a;
	b.sip[1] = addr4("198.18.0.7", 5060, 10, 60); /* was 198.18.0.1 */
	again = rebuilt(base, &b);
	uint32_t moved = 0, size = cfg->pools[0].maglev_size, gone = 0, came = 0;

	for (uint32_t s = 0; s < size; s++) {
		const char *was = cfg->nodes[cfg->maglev_slots[s]].id;
		const char *now = again->nodes[again->maglev_slots[s]].id;

		gone += strcmp(was, "sip-198-18-0-1") == 0;
		came += strcmp(now, "sip-198-18-0-7") == 0;
		moved += strcmp(was, now) != 0;
	}
	assert_true(gone > 0 && came > 0);
	assert_true(moved >= gone && moved <= gone + came + size / 100);
	config_free(again);
	config_free(cfg);

	/* nothing resolved yet: the literal node only */
	memset(&b, 0, sizeof(b));
	cfg = rebuilt(base, &b);
	assert_int_equal(cfg->pools[0].n_nodes, 1);
	config_free(cfg);
	config_free(base);
}

static void test_config_errors(void **state)
{
	static const struct {
		const char *nodes, *error;
	} bad[] = {
		{ "{ name = \"s\"; srv = \"example.test\"; port = 5060; }",
		  "port and weight come from the SRV records" },
		{ "{ name = \"s\"; host = \"198.18.0.1\"; }", "'198.18.0.1' is not a DNS name" },
		{ "{ name = \"s\"; host = \"a..b\"; }", "is not a DNS name" },
		{ "{ name = \"s\"; host = \"a.test\"; srv = \"b.test\"; }", "give one of address, host and srv" },
		{ "{ name = \"s\"; host = \"a.test\"; address = \"198.18.0.1\"; }", "give one of address" },
		{ "{ name = \"s\"; host = \"a.test\"; family = \"inet\"; }", "'inet' is not ipv4, ipv6 or any" },
		{ "{ name = \"s\"; host = \"a.test\"; mac = \"02:00:00:00:00:01\"; }", "no fixed next hop" },
		{ "{ name = \"s\"; address = \"198.18.0.1\"; family = \"ipv4\"; }", "family is for a node given by host or srv" },
		{ "{ name = \"averyveryverylongname\"; host = \"a.test\"; }", "at most 15 and an id of at most 17" },
		{ "{ name = \"s\"; port = 5060; }", "'address' is required (or 'host'" },
	};
	char text[1024];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct siphon_config *cfg;
		struct config_error err;

		snprintf(text, sizeof(text), "pools = ( { name = \"core\"; nodes = ( %s ); } );\n"
			 "route = ( { then = \"pool core\"; } );\n", bad[i].nodes);
		assert_int_not_equal(config_load_text("e.conf", text, &cfg, &err), 0);
		if (!strstr(err.text, bad[i].error))
			fail_msg("%s: got '%s', want '%s'", bad[i].nodes, err.text, bad[i].error);
	}
	/* a nat pool is one family: a name needs one, and the same */
	struct siphon_config *cfg;
	struct config_error err;

	assert_int_not_equal(config_load_text("e.conf",
		"pools = ( { name = \"core\"; mode = \"nat\"; nodes = ( { name = \"s\"; host = \"a.test\"; } ); } );\n"
		"route = ( { then = \"pool core\"; } );\n", &cfg, &err), 0);
	assert_non_null(strstr(err.text, "mode nat needs family"));
	assert_int_not_equal(config_load_text("e.conf",
		"pools = ( { name = \"core\"; mode = \"nat\"; nodes = ( { name = \"b\"; address = \"198.18.0.1\"; },\n"
		"  { name = \"s\"; host = \"a.test\"; family = \"ipv6\"; } ); } );\n"
		"route = ( { then = \"pool core\"; } );\n", &cfg, &err), 0);
	assert_non_null(strstr(err.text, "e.conf:2: pool core: node s: mode nat cannot mix"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ttl_clamp),
		cmocka_unit_test(test_min_ttl),
		cmocka_unit_test(test_finish),
		cmocka_unit_test(test_equal_any_order),
		cmocka_unit_test(test_config_names),
		cmocka_unit_test(test_config_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
