// SPDX-License-Identifier: Apache-2.0
/* The tables into the XDP program's rodata and maps (xdp_tables.h,
 * bpf/siphon_tables.h, docs/xdp.md "Maps"). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "siphon/siphon_xdp.h"
#include "siphon/lane_limits.h"
#include "siphon/siphon_tables.h"
#include "siphon.skel.h"
#include "xdp_tables.h"

_Static_assert(sizeof(struct sk_flags) == sizeof(struct flagset), "sk_flags is a flagset");
_Static_assert(SIP_EXTRA_MAX == SK_EXTRA_MAX, "one extra-header bit each");
_Static_assert(SIPHON_MAX_FLAGS == 128, "two words of flags in the kernel");
_Static_assert(sizeof(struct sk_nid_key) == 40, "the kernel builds the nid key in 5 words");

int xdp_tables_configure(struct siphon_bpf *skel, const struct compiled_tables *t,
			 bool kernel_lane, char *err, size_t errlen)
{
	uint32_t n4 = 0, n6 = 0;
	int rc = kernel_lane_fits(t, err, errlen); /* the VIPs and ports fit the rodata */

	if (rc)
		return rc;
	skel->rodata->kernel_lane = kernel_lane ? 1 : 0;
	for (uint32_t i = 0; i < t->n_self_addrs; i++) {
		const struct self_addr *a = &t->self_addrs[i];

		if (a->family == AF_INET)
			memcpy(&skel->rodata->vip4[n4++], a->addr, 4);
		else
			memcpy(skel->rodata->vip6[n6++], a->addr, 16);
	}
	skel->rodata->vip4_count = n4;
	skel->rodata->vip6_count = n6;
	for (uint32_t i = 0; i < t->n_ports; i++)
		skel->rodata->vip_ports[i] = t->ports[i];
	skel->rodata->vip_port_count = t->n_ports;
	skel->rodata->hash_seed = t->hash_seed;
	return 0;
}

struct siphon_bpf *xdp_tables_load_unpinned(const struct compiled_tables *t, bool kernel_lane,
					    int egress_ifindex, char *err, size_t errlen)
{
	struct siphon_bpf *s = siphon_bpf__open();
	struct bpf_map *m;
	int rc;

	if (!s) {
		snprintf(err, errlen, "opening the XDP program: %s", strerror(errno));
		return NULL;
	}
	bpf_object__for_each_map(m, s->obj)
		bpf_map__set_pin_path(m, NULL);
	if (xdp_tables_configure(s, t, kernel_lane, err, errlen))
		goto fail;
	rc = siphon_bpf__load(s);
	if (rc) {
		snprintf(err, errlen, "loading the XDP program: %s", strerror(-rc));
		goto fail;
	}
	if (xdp_tables_publish(s, t, egress_ifindex, err, errlen))
		goto fail;
	return s;
fail:
	siphon_bpf__destroy(s);
	return NULL;
}

static void to_sk(struct sk_flags *out, const struct flagset *f)
{
	memcpy(out, f, sizeof(*out));
}

static void or_sk(struct sk_flags *out, const struct flagset *f)
{
	out->w[0] |= f->w[0];
	out->w[1] |= f->w[1];
}

static int fail(char *err, size_t errlen, int rc, const char *what)
{
	snprintf(err, errlen, "publishing the XDP tables: %s: %s", what, strerror(-rc));
	return rc;
}

static int update(int fd, uint32_t key, const void *value, char *err, size_t errlen,
		  const char *what)
{
	int rc = bpf_map_update_elem(fd, &key, value, BPF_ANY);

	return rc ? fail(err, errlen, rc, what) : 0;
}

/* Deletes every key of a hash or LPM map whose u32 at half_off is half. */
static int clear_half(int fd, size_t key_size, size_t half_off, uint32_t half, size_t max,
		      char *err, size_t errlen, const char *what)
{
	uint8_t *keys = calloc(max + 2, key_size);
	uint8_t *cur, *next;
	size_t n = 0;
	bool first = true;
	int rc = 0;

	if (!keys)
		return fail(err, errlen, -ENOMEM, what);
	cur = keys + max * key_size;
	next = cur + key_size;
	while (n < max && bpf_map_get_next_key(fd, first ? NULL : cur, next) == 0) {
		uint32_t h;

		first = false;
		memcpy(cur, next, key_size);
		memcpy(&h, cur + half_off, 4);
		if (h == half)
			memcpy(keys + n++ * key_size, cur, key_size);
	}
	for (size_t i = 0; i < n && !rc; i++)
		if (bpf_map_delete_elem(fd, keys + i * key_size) && errno != ENOENT)
			rc = fail(err, errlen, -errno, what);
	free(keys);
	return rc;
}

struct name_entry {
	struct sk_name_key key;
	uint32_t bits;
};

static void add_name(struct name_entry *names, unsigned *n, uint32_t half, const char *name,
		     size_t len, uint32_t bits)
{
	struct sk_name_key k = { .half = half, .len = (uint32_t)len };

	if (len == 0 || len > SK_NAME_MAX || !bits)
		return; /* the kernel scan sends a longer name up by itself */
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		k.name[i] = (unsigned char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	for (unsigned i = 0; i < *n; i++)
		if (memcmp(&names[i].key, &k, sizeof(k)) == 0) {
			names[i].bits |= bits;
			return;
		}
	names[*n].key = k;
	names[(*n)++].bits = bits;
}

/* The header names the kernel scan must know: the parsed ones that the
 * edge profile and dispatch read, and the extra set (present / match). */
static int publish_names(struct siphon_bpf *skel, const struct compiled_tables *t, uint32_t half,
			 char *err, size_t errlen)
{
	static const struct {
		uint32_t bits;
		const char *name;
		char compact;
	} parsed[] = {
		{ SKH_CALL_ID, "call-id", 'i' }, { SKH_VIA, "via", 'v' },
		{ SKH_FROM, "from", 'f' },       { SKH_TO, "to", 't' },
		{ SKH_CSEQ, "cseq", 0 },         { SKH_CLEN, "content-length", 'l' },
		{ SKH_ROUTE, "route", 0 },
	};
	struct name_entry names[2 * (sizeof(parsed) / sizeof(parsed[0]) + SIP_EXTRA_MAX)];
	int hfd = bpf_map__fd(skel->maps.kt_hdrs), mfd = bpf_map__fd(skel->maps.kt_methods);
	unsigned n = 0;
	int rc;

	for (size_t i = 0; i < sizeof(parsed) / sizeof(parsed[0]); i++) {
		add_name(names, &n, half, parsed[i].name, strlen(parsed[i].name), parsed[i].bits);
		if (parsed[i].compact)
			add_name(names, &n, half, &parsed[i].compact, 1, parsed[i].bits);
	}
	for (unsigned i = 0; i < t->headers.count; i++) {
		const struct sip_extra_header *h = &t->headers.hdr[i];

		add_name(names, &n, half, h->lname, h->len, 1u << (16 + i));
		if (h->compact)
			add_name(names, &n, half, &h->compact, 1, 1u << (16 + i));
	}
	rc = clear_half(hfd, sizeof(struct sk_name_key), 0, half, SK_MAX_NAMES, err, errlen,
			"kt_hdrs");
	if (!rc)
		rc = clear_half(mfd, sizeof(struct sk_name_key), 0, half, SK_MAX_NAMES, err, errlen,
				"kt_methods");
	for (unsigned i = 0; i < n && !rc; i++)
		if (bpf_map_update_elem(hfd, &names[i].key, &names[i].bits, BPF_ANY))
			rc = fail(err, errlen, -errno, "kt_hdrs");
	for (uint32_t i = 0; i < t->n_methods && !rc; i++) {
		const struct method_flags *m = &t->methods[i];
		struct sk_name_key k = { .half = half, .len = m->len };
		struct sk_flags f = { { 0, 0 } };

		if (m->len == 0 || m->len >= SK_NAME_MAX)
			continue; /* the kernel scan sends such a method up by itself */
		memcpy(k.name, m->name, m->len);
		bpf_map_lookup_elem(mfd, &k, &f); /* a name twice: the union */
		or_sk(&f, &m->flags);
		if (bpf_map_update_elem(mfd, &k, &f, BPF_ANY))
			rc = fail(err, errlen, -errno, "kt_methods");
	}
	return rc;
}

/* Every node's id in its pool (kt_nids): what a nid may name in the
 * kernel lane, as node_index_by_nid() finds it (exact bytes, per pool).
 * Ids over SK_NAME_MAX bytes are left out: the lane sends a token that
 * long up. */
static int publish_nids(struct siphon_bpf *skel, const struct compiled_tables *t, uint32_t half,
			char *err, size_t errlen)
{
	int fd = bpf_map__fd(skel->maps.kt_nids);
	int rc = clear_half(fd, sizeof(struct sk_nid_key), 0, half, 2 * SK_MAX_NODES, err, errlen,
			    "kt_nids");

	for (uint32_t i = 0; i < t->n_nodes && !rc; i++) {
		const struct pool_node *n = &t->nodes[i];
		struct sk_nid_key k = { .half = half, .pool = n->pool, .len = n->id_len };

		if (n->id_len == 0 || n->id_len > SK_NAME_MAX)
			continue;
		memcpy(k.id, n->id, n->id_len);
		if (bpf_map_update_elem(fd, &k, &i, BPF_ANY))
			rc = fail(err, errlen, -errno, "kt_nids");
	}
	return rc;
}

/* The stride-8 trie (prefix_table.h) as LPM entries: every leaf entry with
 * flags becomes one prefix of 8 * depth bits; the leaves cover disjoint
 * ranges, so the longest match is the one leaf prefix_lookup() ends on. */
static int walk_prefixes(int fd, const struct prefix_table *pt, uint32_t node, unsigned depth,
			 uint8_t *addr, uint32_t half, unsigned *count)
{
	for (unsigned b = 0; b < PREFIX_FANOUT; b++) {
		const struct prefix_entry *e = &pt->nodes[(size_t)node * PREFIX_FANOUT + b];
		int rc;

		addr[depth] = (uint8_t)b;
		if (e->child != 0 && e->child < pt->n_nodes && depth + 1 < pt->key_bytes) {
			rc = walk_prefixes(fd, pt, e->child, depth + 1, addr, half, count);
			if (rc)
				return rc;
			continue;
		}
		if (e->value == 0 || e->value >= pt->n_values ||
		    flagset_empty(&pt->values[e->value]))
			continue;
		{
			uint8_t key[4 + 4 + PREFIX_KEY_MAX] = { 0 };
			uint32_t plen = 32 + 8 * (depth + 1);
			struct sk_flags f;

			if (++*count > SK_MAX_PREFIXES / 2)
				return -E2BIG;
			memcpy(key, &plen, 4);
			memcpy(key + 4, &half, 4);
			memcpy(key + 8, addr, depth + 1);
			to_sk(&f, &pt->values[e->value]);
			if (bpf_map_update_elem(fd, key, &f, BPF_ANY))
				return -errno;
		}
	}
	return 0;
}

static int publish_prefixes(int fd, const struct prefix_table *pt, size_t key_size,
			    uint32_t half, char *err, size_t errlen, const char *what)
{
	uint8_t addr[PREFIX_KEY_MAX] = { 0 };
	unsigned count = 0;
	int rc = clear_half(fd, key_size, 4, half, SK_MAX_PREFIXES, err, errlen, what);

	if (rc || pt->n_nodes == 0 || pt->n_values == 0)
		return rc;
	if (pt->key_bytes + 8 != key_size)
		return fail(err, errlen, -EINVAL, what);
	rc = walk_prefixes(fd, pt, 0, 0, addr, half, &count);
	if (rc == -E2BIG) {
		snprintf(err, errlen,
			 "publishing the XDP tables: %s: the source prefixes take more than %d "
			 "entries (SK_MAX_PREFIXES / 2)", what, SK_MAX_PREFIXES / 2);
		return rc;
	}
	return rc ? fail(err, errlen, rc, what) : 0;
}

static int publish_maglev(int fd, const struct maglev_table *m, uint32_t base, char *err,
			  size_t errlen)
{
	uint32_t *keys = malloc(m->size * sizeof(uint32_t)), *vals = malloc(m->size * sizeof(uint32_t));
	uint32_t count = m->size;
	LIBBPF_OPTS(bpf_map_batch_opts, bo, .elem_flags = 0, .flags = 0);
	int rc = 0;

	if (!keys || !vals) {
		free(keys);
		free(vals);
		return fail(err, errlen, -ENOMEM, "kt_maglev");
	}
	for (uint32_t i = 0; i < m->size; i++) {
		keys[i] = base + i;
		vals[i] = m->slots[i];
	}
	if (count && bpf_map_update_batch(fd, keys, vals, &count, &bo)) {
		/* a kernel without batch updates for arrays: one by one */
		for (uint32_t i = 0; i < m->size && !rc; i++)
			if (bpf_map_update_elem(fd, &keys[i], &vals[i], BPF_ANY))
				rc = -errno;
	}
	free(keys);
	free(vals);
	return rc ? fail(err, errlen, rc, "kt_maglev") : 0;
}

int xdp_tables_next_half(const struct siphon_bpf *skel)
{
	struct sk_gen gen = { 0, 0 };
	uint32_t zero = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.generation), &zero, &gen))
		return -errno;
	return (int)((gen.active & 1) ^ 1);
}

int xdp_tables_publish(struct siphon_bpf *skel, const struct compiled_tables *t,
		       int egress_ifindex, char *err, size_t errlen)
{
	struct sk_tables tb;
	struct sk_gen gen = { 0, 0 };
	uint32_t zero = 0, half;
	int rc, gfd = bpf_map__fd(skel->maps.generation);

	rc = kernel_lane_fits(t, err, errlen);
	if (rc)
		return rc;
	if (bpf_map_lookup_elem(gfd, &zero, &gen))
		return fail(err, errlen, -errno, "generation");
	half = (gen.active & 1) ^ 1; /* xdp_tables_next_half() */

	/* the inactive half, whole; the program reads only the active one */
	memset(&tb, 0, sizeof(tb));
	/* the kernel looks up every header name only when some flag needs it */
	for (unsigned i = 0; i < SK_EXTRA_MAX; i++)
		tb.has_extra |= (tb.extra_present[i].w[0] | tb.extra_present[i].w[1] |
				 tb.extra_match[i].w[0] | tb.extra_match[i].w[1]) != 0;
	rc = update(bpf_map__fd(skel->maps.kt_tables), half, &tb, err, errlen, "kt_tables");
	for (uint32_t i = 0; i < t->n_rule_terms && !rc; i++) {
		struct sk_term term = { .target = t->rule_terms[i].target };
		to_sk(&term.must, &t->rule_terms[i].must);
		to_sk(&term.must_not, &t->rule_terms[i].must_not);
		rc = update(bpf_map__fd(skel->maps.kt_terms), half * SK_MAX_RULE_TERMS + i, &term,
			    err, errlen, "kt_terms");
	}
	for (uint32_t i = 0; i < t->n_expr_terms && !rc; i++) {
		struct sk_term term = { .target = t->expr_terms[i].target };
		to_sk(&term.must, &t->expr_terms[i].must);
		to_sk(&term.must_not, &t->expr_terms[i].must_not);
		rc = update(bpf_map__fd(skel->maps.kt_expr), half * SK_MAX_EXPR_TERMS + i, &term,
			    err, errlen, "kt_expr");
	}
	for (uint32_t i = 0; i < t->n_rules && !rc; i++) {
		struct sk_rule_action a = { .kind = (uint32_t)t->actions[i].kind,
					    .pool = t->actions[i].pool };
		rc = update(bpf_map__fd(skel->maps.kt_actions), half * SK_MAX_RULES + i, &a, err,
			    errlen, "kt_actions");
	}
	for (uint32_t i = 0; i < t->n_nodes && !rc; i++) {
		const struct pool_node *pn = &t->nodes[i];
		struct sk_node n = { .has_mac = pn->has_mac, .up = pn->up,
				     .family = pn->addr.family == AF_INET ? 4 : 6 };
		memcpy(n.mac, pn->mac, 6);
		memcpy(n.addr, pn->addr.addr, pn->addr.family == AF_INET ? 4 : 16);
		rc = update(bpf_map__fd(skel->maps.kt_nodes), half * SK_MAX_NODES + i, &n, err,
			    errlen, "kt_nodes");
	}
	for (uint32_t p = 0; p < t->n_pools && !rc; p++) {
		const struct pool_table *pt = &t->pools[p];
		struct sk_pool sp = { .mode = (uint32_t)pt->mode, .size = pt->maglev.size,
				      .first_node = pt->first_node, .n_nodes = pt->n_nodes,
				      .previous_until = pt->previous.size ? pt->previous_until : 0 };
		rc = publish_maglev(bpf_map__fd(skel->maps.kt_maglev), &pt->maglev,
				    (half * SK_MAX_POOLS + p) * SK_MAGLEV_MAX, err, errlen);
		if (!rc)
			rc = update(bpf_map__fd(skel->maps.kt_pools), half * SK_MAX_POOLS + p, &sp, err,
				    errlen, "kt_pools");
	}
	if (!rc)
		rc = publish_names(skel, t, half, err, errlen);
	if (!rc)
		rc = publish_nids(skel, t, half, err, errlen);
	if (!rc)
		rc = publish_prefixes(bpf_map__fd(skel->maps.kt_src4), &t->source4,
				      sizeof(struct sk_lpm4), half, err, errlen, "kt_src4");
	if (!rc)
		rc = publish_prefixes(bpf_map__fd(skel->maps.kt_src6), &t->source6,
				      sizeof(struct sk_lpm6), half, err, errlen, "kt_src6");
	if (rc)
		return rc;

	/* the scalars, and the flags a message sets (unknown before the scan) */
	tb.valid = 1;
	tb.n_rule_terms = t->n_rule_terms;
	tb.n_rules = t->n_rules;
	tb.n_expr_terms = t->n_expr_terms;
	tb.n_pools = t->n_pools;
	tb.n_nodes = t->n_nodes;
	tb.max_msg_bytes = t->limits.max_msg_bytes;
	tb.max_vias = t->limits.max_vias;
	tb.has_mac = t->has_mac;
	memcpy(tb.mac, t->mac, 6);
	tb.egress_ifindex = egress_ifindex > 0 ? (uint32_t)egress_ifindex : 0;
	to_sk(&tb.udp, &t->transports[TRANSPORT_UDP]);
	to_sk(&tb.in_dialog, &t->in_dialog);
	to_sk(&tb.to_self, &t->to_self);
	to_sk(&tb.own_probe, &t->own_probe_answer);
	or_sk(&tb.msg_flags, &t->in_dialog);
	or_sk(&tb.msg_flags, &t->to_self);
	or_sk(&tb.msg_flags, &t->own_probe_answer);
	for (uint32_t i = 0; i < t->n_methods; i++)
		or_sk(&tb.msg_flags, &t->methods[i].flags);
	for (unsigned i = 0; i < t->headers.count && i < SK_EXTRA_MAX; i++) {
		to_sk(&tb.extra_present[i], &t->header_present[i]);
		or_sk(&tb.msg_flags, &t->header_present[i]);
	}
	for (uint32_t i = 0; i < t->n_patterns; i++) {
		struct flagset f = { { 0 } };
		unsigned h = t->patterns[i].header;

		flagset_set(&f, t->patterns[i].flag);
		if (h < SK_EXTRA_MAX)
			or_sk(&tb.extra_match[h], &f);
		or_sk(&tb.msg_flags, &f);
	}
	/* the kernel looks up every header name only when some flag needs it */
	for (unsigned i = 0; i < SK_EXTRA_MAX; i++)
		tb.has_extra |= (tb.extra_present[i].w[0] | tb.extra_present[i].w[1] |
				 tb.extra_match[i].w[0] | tb.extra_match[i].w[1]) != 0;
	rc = update(bpf_map__fd(skel->maps.kt_tables), half, &tb, err, errlen, "kt_tables");
	if (rc)
		return rc;

	/* where forwarded frames leave (not per generation) */
	if (egress_ifindex > 0) {
		struct bpf_devmap_val port = { .ifindex = (uint32_t)egress_ifindex }; /* no program */
		rc = update(bpf_map__fd(skel->maps.tx_ports), 0, &port, err, errlen, "tx_ports");
		if (rc)
			return rc;
	} else if (bpf_map_delete_elem(bpf_map__fd(skel->maps.tx_ports), &zero) && errno != ENOENT) {
		return fail(err, errlen, -errno, "tx_ports");
	}

	/* the switch: one update */
	gen.active = half;
	gen.seq++;
	return update(gfd, 0, &gen, err, errlen, "generation");
}
