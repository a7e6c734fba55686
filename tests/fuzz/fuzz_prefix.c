/* Fuzz harness over the source-prefix classifier (abort() on a breach).
 *
 * Input byte 0 picks the mode. Bit 1 set: the rest is text for
 * prefix_parse, which must give a verdict, and an accepted prefix must
 * print and parse back to itself. Otherwise bit 0 picks IPv4 or IPv6 and
 * the rest is records of [plen, key_bytes address bytes, flag]: flag's low
 * 7 bits name the flag, its top bit keeps host bits (the add must then be
 * refused). The built table must answer like a scan of every prefix, at
 * each prefix's edges and just outside them, and the same adds in reverse
 * order must give the same bytes. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"

#include "prefix_build.h"
#include "siphon/prefix_table.h"


#define MAX_PREFIXES 64

struct pfx {
	uint8_t addr[16];
	unsigned plen;
	struct flagset flags;
};

static unsigned keep_bits(unsigned plen, unsigned byte)
{
	return plen >= 8 * (byte + 1) ? 8 : plen > 8 * byte ? plen - 8 * byte : 0;
}

static void fuzz_parse(const uint8_t *data, size_t size)
{
	char text[64], again[INET6_ADDRSTRLEN + 8];
	uint8_t a[16], b[16];
	unsigned kb = 0, plen = 0, kb2, plen2;
	struct prefix_builder pb;
	struct flagset f = { { 1, 0 } };
	int rc;

	if (size > sizeof(text) - 1)
		size = sizeof(text) - 1;
	memcpy(text, data, size);
	text[size] = '\0';
	rc = prefix_parse(text, a, &kb, &plen);
	CHECK(rc == 0 || rc == -EINVAL || rc == -EDOM);
	if (rc == -EINVAL)
		return;
	CHECK(kb == 4 || kb == 16);
	CHECK(plen <= 8 * kb);
	CHECK(prefix_host_bits_clear(a, kb, plen) == (rc == 0));
	CHECK(prefix_builder_init(&pb, kb) == 0);
	CHECK(prefix_builder_add(&pb, a, plen, &f) == (rc == 0 ? 0 : -EINVAL));
	prefix_builder_free(&pb);
	if (rc != 0)
		return;
	CHECK(inet_ntop(kb == 4 ? AF_INET : AF_INET6, a, again, INET6_ADDRSTRLEN) != NULL);
	snprintf(again + strlen(again), 8, "/%u", plen);
	CHECK(prefix_parse(again, b, &kb2, &plen2) == 0);
	CHECK(kb2 == kb && plen2 == plen && memcmp(a, b, 16) == 0);
}

static void check_table(const struct prefix_table *t, unsigned kb)
{
	CHECK(t->key_bytes == kb && t->n_nodes >= 1 && t->n_values >= 1);
	CHECK(t->n_nodes <= PREFIX_MAX_NODES);
	for (unsigned i = 0; i < FLAGSET_WORDS; i++)
		CHECK(t->values[0].w[i] == 0);
	for (size_t k = 0; k < (size_t)t->n_nodes * PREFIX_FANOUT; k++) {
		CHECK(t->nodes[k].value < t->n_values);
		CHECK(t->nodes[k].child < t->n_nodes);
		CHECK(t->nodes[k].child == 0 || t->nodes[k].child > k / PREFIX_FANOUT);
	}
	if (t->n_values <= 512)
		for (uint32_t i = 0; i < t->n_values; i++)
			for (uint32_t j = i + 1; j < t->n_values; j++)
				CHECK(!flagset_equal(&t->values[i], &t->values[j]));
}

static void check_addr(const struct prefix_table *t, const struct pfx *ps, unsigned n,
		       const uint8_t *a)
{
	struct flagset want = { { 0 } };
	const struct flagset *got = prefix_lookup(t, a);

	for (unsigned i = 0; i < n; i++) {
		bool in = true;
		for (unsigned j = 0; j < t->key_bytes; j++)
			if ((a[j] ^ ps[i].addr[j]) & (uint8_t)~(0xffu >> keep_bits(ps[i].plen, j)))
				in = false;
		if (in)
			flagset_or(&want, &ps[i].flags);
	}
	CHECK(got >= t->values && got < t->values + t->n_values);
	CHECK(flagset_equal(got, &want));
}

/* a + 1 or a - 1, wrapping, big-endian */
static void step(uint8_t *a, unsigned kb, int delta)
{
	for (unsigned i = kb; i-- > 0;) {
		uint8_t before = a[i];
		a[i] = (uint8_t)(a[i] + delta);
		if (before != (delta > 0 ? 0xff : 0))
			return;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pfx ps[MAX_PREFIXES];
	struct prefix_builder fwd, rev;
	struct prefix_table tf, tr;
	unsigned kb, n = 0;
	size_t rec;

	if (size < 1)
		return 0;
	if (data[0] & 2) {
		fuzz_parse(data + 1, size - 1);
		return 0;
	}
	kb = data[0] & 1 ? 16 : 4;
	rec = 2 + kb;
	CHECK(prefix_builder_init(&fwd, kb) == 0);
	for (size_t off = 1; off + rec <= size && n < MAX_PREFIXES; off += rec) {
		struct pfx *p = &ps[n];
		const uint8_t flag = data[off + 1 + kb];
		bool host_bits = false;

		memset(p, 0, sizeof(*p));
		p->plen = data[off] % (8 * kb + 1);
		memcpy(p->addr, data + off + 1, kb);
		for (unsigned j = 0; j < kb; j++) {
			uint8_t host = (uint8_t)(0xffu >> keep_bits(p->plen, j));
			host_bits |= (p->addr[j] & host) != 0;
			if (!(flag & 0x80))
				p->addr[j] &= (uint8_t)~host;
		}
		flagset_set(&p->flags, flag & 0x7f);
		if ((flag & 0x80) && host_bits) {
			CHECK(prefix_builder_add(&fwd, p->addr, p->plen, &p->flags) == -EINVAL);
			continue;
		}
		CHECK(prefix_builder_add(&fwd, p->addr, p->plen, &p->flags) == 0);
		n++;
	}
	CHECK(prefix_builder_build(&fwd, &tf) == 0);
	check_table(&tf, kb);

	CHECK(prefix_builder_init(&rev, kb) == 0);
	for (unsigned i = n; i-- > 0;)
		CHECK(prefix_builder_add(&rev, ps[i].addr, ps[i].plen, &ps[i].flags) == 0);
	CHECK(prefix_builder_build(&rev, &tr) == 0);
	CHECK(tr.n_nodes == tf.n_nodes && tr.n_values == tf.n_values);
	CHECK(memcmp(tr.nodes, tf.nodes, (size_t)tf.n_nodes * PREFIX_FANOUT * sizeof(*tf.nodes)) == 0);
	CHECK(memcmp(tr.values, tf.values, (size_t)tf.n_values * sizeof(*tf.values)) == 0);
	prefix_builder_free(&rev);

	for (unsigned i = 0; i < n; i++) {
		uint8_t a[16];

		memcpy(a, ps[i].addr, 16);
		check_addr(&tf, ps, n, a);
		step(a, kb, -1);
		check_addr(&tf, ps, n, a);
		for (unsigned j = 0; j < kb; j++)
			a[j] = ps[i].addr[j] | (uint8_t)(0xffu >> keep_bits(ps[i].plen, j));
		check_addr(&tf, ps, n, a);
		step(a, kb, +1);
		check_addr(&tf, ps, n, a);
	}
	prefix_builder_free(&fwd);
	return 0;
}
