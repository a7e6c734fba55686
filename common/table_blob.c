/* Opening a table blob (docs/tables.md): every byte the tables will read is
 * checked before `out` points at it. Checks run in blob order (header,
 * directory, then each section), the first failure names its field. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <xxhash.h>

#include "siphon/node_index.h"
#include "siphon/table_blob.h"

/* The blob's element types are this build's structs: if one of these
 * changes, bump TABLES_BLOB_ABI (and update the figure). */
_Static_assert(sizeof(struct tables_blob_header) == 40 + 16 * TABLES_BLOB__COUNT, "header");
_Static_assert(sizeof(struct tables_blob_core) == 72 + 16 * (TRANSPORT__COUNT + 3), "core");
_Static_assert(sizeof(struct tables_blob_pool) == 80, "pool record");
_Static_assert(sizeof(struct dnf_term) == 40, "dnf_term: bump TABLES_BLOB_ABI");
_Static_assert(sizeof(struct rule_action) == 80, "rule_action: bump TABLES_BLOB_ABI");
_Static_assert(sizeof(struct pool_node) == 100, "pool_node: bump TABLES_BLOB_ABI");
_Static_assert(sizeof(struct method_flags) == 88, "method_flags: bump TABLES_BLOB_ABI");
_Static_assert(sizeof(struct self_addr) == 20, "self_addr: bump TABLES_BLOB_ABI");
_Static_assert(sizeof(struct sip_extra_header) == 66, "sip_extra_header: bump TABLES_BLOB_ABI");
_Static_assert(sizeof(struct pattern_ref) == 4, "pattern_ref: bump TABLES_BLOB_ABI");
_Static_assert(sizeof(struct hs_literal) == 32, "hs_literal: bump TABLES_BLOB_ABI");

static const char *const section_names[TABLES_BLOB__COUNT] = {
#define X(id, name, type) [TABLES_BLOB_##id] = #name,
	TABLES_BLOB_SECTIONS(X)
#undef X
};

static const uint32_t elem_sizes[TABLES_BLOB__COUNT] = {
#define X(id, name, type) [TABLES_BLOB_##id] = sizeof(type),
	TABLES_BLOB_SECTIONS(X)
#undef X
};

/* Element counts a section may have at most (the limits of limits.h). */
static const uint32_t max_counts[TABLES_BLOB__COUNT] = {
	[TABLES_BLOB_CORE] = 1,
	[TABLES_BLOB_METHODS] = TABLES_MAX_METHODS,
	[TABLES_BLOB_SELF_ADDRS] = TABLES_MAX_SELF,
	[TABLES_BLOB_SELF_NAMES] = TABLES_MAX_SELF,
	[TABLES_BLOB_CONTROL_ADDRS] = TABLES_MAX_SELF,
	[TABLES_BLOB_HEADERS] = SIP_EXTRA_MAX,
	[TABLES_BLOB_HEADER_PRESENT] = SIP_EXTRA_MAX,
	[TABLES_BLOB_PATTERNS] = TABLES_MAX_PATTERNS,
	[TABLES_BLOB_HS_DB] = UINT32_MAX,
	[TABLES_BLOB_HS_LITERALS] = SIP_EXTRA_MAX * HS_PRECHECK_MAX,
	[TABLES_BLOB_EXPR_TERMS] = TABLES_MAX_TERMS,
	[TABLES_BLOB_RULE_TERMS] = TABLES_MAX_TERMS,
	[TABLES_BLOB_ACTIONS] = TABLES_MAX_RULES,
	[TABLES_BLOB_POOL_NAMES] = TABLES_MAX_POOLS,
	[TABLES_BLOB_POOLS] = TABLES_MAX_POOLS,
	[TABLES_BLOB_MAGLEV_SLOTS] = 2u * TABLES_MAX_POOLS * MAGLEV_MAX_SIZE,
	[TABLES_BLOB_NODES] = TABLES_MAX_NODES,
	[TABLES_BLOB_NID_SLOTS] = 2u * 65536u,
	[TABLES_BLOB_ADDR_SLOTS] = 2u * 65536u,
	[TABLES_BLOB_PREFIX4_NODES] = PREFIX_MAX_NODES,
	[TABLES_BLOB_PREFIX4_VALUES] = PREFIX_MAX_NODES * PREFIX_FANOUT,
	[TABLES_BLOB_PREFIX6_NODES] = PREFIX_MAX_NODES,
	[TABLES_BLOB_PREFIX6_VALUES] = PREFIX_MAX_NODES * PREFIX_FANOUT,
};

struct reader {
	const uint8_t *b;
	size_t len;
	const struct tables_blob_header *h;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 3, 4))) static int fail(struct reader *r, int e, const char *fmt, ...)
{
	va_list ap;

	if (r->errlen) {
		va_start(ap, fmt);
		vsnprintf(r->err, r->errlen, fmt, ap);
		va_end(ap);
	}
	return e;
}

const char *tables_blob_section_name(unsigned id)
{
	return id < TABLES_BLOB__COUNT ? section_names[id] : "?";
}

uint64_t tables_blob_checksum(const void *blob, size_t len)
{
	if (len < TABLES_BLOB_SUMMED_FROM)
		return 0;
	return XXH64((const uint8_t *)blob + TABLES_BLOB_SUMMED_FROM, len - TABLES_BLOB_SUMMED_FROM, 0);
}

uint64_t tables_blob_generation(const void *blob)
{
	return ((const struct tables_blob_header *)blob)->generation;
}

static const void *sec(const struct reader *r, unsigned id)
{
	return r->b + r->h->sec[id].offset;
}

static uint32_t cnt(const struct reader *r, unsigned id)
{
	return r->h->sec[id].count;
}

/* A bool or a byte flag of the blob read as a byte: a bool holding 2 is
 * undefined behaviour once read as bool. */
static bool byte_ok(const void *p)
{
	return *(const uint8_t *)p <= 1;
}

static bool terminated(const char *s, size_t len, size_t max)
{
	return len < max && s[len] == 0;
}

static bool family_ok(int family, bool zero_ok)
{
	return family == AF_INET || family == AF_INET6 || (zero_ok && family == 0);
}

static int check_header(struct reader *r)
{
	const struct tables_blob_header *h = r->h;
	uint64_t sum;

	if (r->len < 8)
		return fail(r, -EINVAL, "blob: %zu bytes, too short for a header", r->len);
	if (h->magic == __builtin_bswap32(TABLES_BLOB_MAGIC))
		return fail(r, -EPROTO, "magic: a blob of the other byte order");
	if (h->magic != TABLES_BLOB_MAGIC)
		return fail(r, -EINVAL, "magic: 0x%08x, not a table blob (0x%08x)", h->magic,
			    TABLES_BLOB_MAGIC);
	if (h->abi != TABLES_BLOB_ABI)
		return fail(r, -EPROTO, "abi: version %u, this build reads version %u", h->abi,
			    TABLES_BLOB_ABI);
	if (h->header_size != sizeof(*h))
		return fail(r, -EINVAL, "header_size: %u, expected %zu", h->header_size, sizeof(*h));
	if (r->len < sizeof(*h))
		return fail(r, -EINVAL, "blob: %zu bytes, shorter than its header (%zu)", r->len,
			    sizeof(*h));
	if (h->total_len != r->len)
		return fail(r, -EINVAL, "total_len: %llu, but the blob has %zu bytes",
			    (unsigned long long)h->total_len, r->len);
	sum = tables_blob_checksum(r->b, r->len);
	if (h->checksum != sum)
		return fail(r, -EINVAL, "checksum: 0x%016llx stored, 0x%016llx computed",
			    (unsigned long long)h->checksum, (unsigned long long)sum);
	if (h->n_sections != TABLES_BLOB__COUNT)
		return fail(r, -EINVAL, "n_sections: %u, expected %u", h->n_sections,
			    (unsigned)TABLES_BLOB__COUNT);
	if (h->reserved != 0)
		return fail(r, -EINVAL, "reserved: %u, expected 0", h->reserved);
	return 0;
}

/* Each section aligned, after the one before it, inside the blob, with
 * this build's element size and a count within its limit. */
static int check_directory(struct reader *r)
{
	uint64_t prev_end = sizeof(*r->h);

	for (unsigned i = 0; i < TABLES_BLOB__COUNT; i++) {
		const struct tables_blob_section *s = &r->h->sec[i];
		const char *name = section_names[i];

		if (s->elem_size != elem_sizes[i])
			return fail(r, -EPROTO, "section %s: element size %u, this build's is %u", name,
				    s->elem_size, elem_sizes[i]);
		if (s->offset % TABLES_BLOB_ALIGN)
			return fail(r, -EINVAL, "section %s: offset %llu is not %u-byte aligned", name,
				    (unsigned long long)s->offset, TABLES_BLOB_ALIGN);
		if (s->offset < prev_end)
			return fail(r, -EINVAL, "section %s: offset %llu overlaps what comes before it "
				    "(up to %llu)", name, (unsigned long long)s->offset,
				    (unsigned long long)prev_end);
		if (s->offset > r->len || (uint64_t)s->count * s->elem_size > r->len - s->offset)
			return fail(r, -EINVAL, "section %s: %u elements of %u bytes at offset %llu end "
				    "past the blob (%zu bytes)", name, s->count, s->elem_size,
				    (unsigned long long)s->offset, r->len);
		if (s->count > max_counts[i])
			return fail(r, -EINVAL, "section %s: %u elements; at most %u", name, s->count,
				    max_counts[i]);
		prev_end = s->offset + (uint64_t)s->count * s->elem_size;
	}
	if (cnt(r, TABLES_BLOB_CORE) != 1)
		return fail(r, -EINVAL, "section core: %u elements, expected 1", cnt(r, TABLES_BLOB_CORE));
	if (cnt(r, TABLES_BLOB_HEADER_PRESENT) != cnt(r, TABLES_BLOB_HEADERS))
		return fail(r, -EINVAL, "section header_present: %u elements, expected one per header (%u)",
			    cnt(r, TABLES_BLOB_HEADER_PRESENT), cnt(r, TABLES_BLOB_HEADERS));
	if (cnt(r, TABLES_BLOB_POOL_NAMES) != cnt(r, TABLES_BLOB_POOLS))
		return fail(r, -EINVAL, "section pool_names: %u elements, expected one per pool (%u)",
			    cnt(r, TABLES_BLOB_POOL_NAMES), cnt(r, TABLES_BLOB_POOLS));
	if ((cnt(r, TABLES_BLOB_HS_DB) != 0) != (cnt(r, TABLES_BLOB_PATTERNS) != 0))
		return fail(r, -EINVAL, "section hs_db: %u bytes for %u patterns", cnt(r, TABLES_BLOB_HS_DB),
			    cnt(r, TABLES_BLOB_PATTERNS));
	return 0;
}

static int check_core(struct reader *r)
{
	const struct tables_blob_core *c = sec(r, TABLES_BLOB_CORE);
	const uint32_t n_nodes = cnt(r, TABLES_BLOB_NODES), slots = c->node_index_mask + 1;

	if (c->n_flags > SIPHON_MAX_FLAGS)
		return fail(r, -EINVAL, "core n_flags: %u; at most %u", c->n_flags, SIPHON_MAX_FLAGS);
	if (c->n_ports > 8)
		return fail(r, -EINVAL, "core n_ports: %u; at most 8", c->n_ports);
	if (!byte_ok(&c->has_mac) || !byte_ok(&c->has_gateway_mac))
		return fail(r, -EINVAL, "core has_mac / has_gateway_mac: not 0 or 1");
	if (c->pad[0] || c->pad[1])
		return fail(r, -EINVAL, "core pad: not zero");
	if (c->source4_key_bytes != 4 || c->source6_key_bytes != 16)
		return fail(r, -EINVAL, "core key bytes: %u and %u, expected 4 and 16",
			    c->source4_key_bytes, c->source6_key_bytes);
	/* a power of two, at least twice the nodes: every probe ends at an empty slot */
	if (c->node_index_mask >= 2u * 65536u || (slots & c->node_index_mask) ||
	    slots < node_index_slots(n_nodes))
		return fail(r, -EINVAL, "core node_index_mask: 0x%x for %u nodes", c->node_index_mask,
			    n_nodes);
	if (cnt(r, TABLES_BLOB_NID_SLOTS) != slots || cnt(r, TABLES_BLOB_ADDR_SLOTS) != slots)
		return fail(r, -EINVAL, "section nid_slots / addr_slots: %u and %u slots, expected %u",
			    cnt(r, TABLES_BLOB_NID_SLOTS), cnt(r, TABLES_BLOB_ADDR_SLOTS), slots);
	return 0;
}

static int check_addrs(struct reader *r, unsigned id)
{
	const struct self_addr *a = sec(r, id);

	for (uint32_t i = 0; i < cnt(r, id); i++)
		if (!family_ok(a[i].family, false))
			return fail(r, -EINVAL, "%s[%u]: family %d", section_names[id], i, a[i].family);
	return 0;
}

static int check_names(struct reader *r, unsigned id)
{
	const struct tables_blob_name *n = sec(r, id);

	for (uint32_t i = 0; i < cnt(r, id); i++)
		if (!memchr(n[i].s, 0, sizeof(n[i].s)))
			return fail(r, -EINVAL, "%s[%u]: not NUL-terminated", section_names[id], i);
	return 0;
}

/* The pre-check's literals: each of a header with patterns, at most
 * HS_PRECHECK_MAX a header, well formed (what hs_precheck_build() takes). */
static int check_literals(struct reader *r)
{
	const struct hs_literal *l = sec(r, TABLES_BLOB_HS_LITERALS);
	const struct pattern_ref *p = sec(r, TABLES_BLOB_PATTERNS);
	unsigned per_header[SIP_EXTRA_MAX] = { 0 };

	for (uint32_t i = 0; i < cnt(r, TABLES_BLOB_HS_LITERALS); i++) {
		bool patterns = false;

		for (uint32_t k = 0; k < cnt(r, TABLES_BLOB_PATTERNS) && !patterns; k++)
			patterns = p[k].header == l[i].header;
		if (!patterns)
			return fail(r, -EINVAL, "hs_literals[%u]: header %u has no patterns", i,
				    l[i].header);
		if (++per_header[l[i].header] > HS_PRECHECK_MAX)
			return fail(r, -EINVAL, "hs_literals[%u]: more than %d for header %u", i,
				    HS_PRECHECK_MAX, l[i].header);
		if (l[i].len < HS_LITERAL_MIN || l[i].len > HS_LITERAL_MAX || !byte_ok(&l[i].caseless))
			return fail(r, -EINVAL, "hs_literals[%u]: len %u, caseless %u", i, l[i].len,
				    l[i].caseless);
		for (unsigned k = 0; k < HS_LITERAL_MAX; k++)
			if (k < l[i].len ? l[i].text[k] == 0 || l[i].text[k] >= 0x80 : l[i].text[k] != 0)
				return fail(r, -EINVAL, "hs_literals[%u]: byte %u is 0x%02x", i, k,
					    l[i].text[k]);
	}
	return 0;
}

/* Methods, balancer addresses and names, extra headers, patterns. */
static int check_flags_input(struct reader *r)
{
	const uint32_t n_flags = ((const struct tables_blob_core *)sec(r, TABLES_BLOB_CORE))->n_flags;
	const struct method_flags *m = sec(r, TABLES_BLOB_METHODS);
	const struct sip_extra_header *h = sec(r, TABLES_BLOB_HEADERS);
	const struct pattern_ref *p = sec(r, TABLES_BLOB_PATTERNS);
	int err;

	for (uint32_t i = 0; i < cnt(r, TABLES_BLOB_METHODS); i++)
		if (!terminated(m[i].name, m[i].len, sizeof(m[i].name)))
			return fail(r, -EINVAL, "methods[%u]: len %u", i, m[i].len);
	if ((err = check_addrs(r, TABLES_BLOB_SELF_ADDRS)) || (err = check_addrs(r, TABLES_BLOB_CONTROL_ADDRS)) ||
	    (err = check_names(r, TABLES_BLOB_SELF_NAMES)) || (err = check_names(r, TABLES_BLOB_POOL_NAMES)))
		return err;
	for (uint32_t i = 0; i < cnt(r, TABLES_BLOB_HEADERS); i++)
		if (h[i].len == 0 || !terminated(h[i].lname, h[i].len, sizeof(h[i].lname)))
			return fail(r, -EINVAL, "headers[%u]: len %u", i, h[i].len);
	for (uint32_t i = 0; i < cnt(r, TABLES_BLOB_PATTERNS); i++) {
		if (p[i].header >= cnt(r, TABLES_BLOB_HEADERS))
			return fail(r, -EINVAL, "patterns[%u]: header %u; %u headers", i, p[i].header,
				    cnt(r, TABLES_BLOB_HEADERS));
		if (p[i].flag >= n_flags)
			return fail(r, -EINVAL, "patterns[%u]: flag %u; %u flags", i, p[i].flag, n_flags);
	}
	return check_literals(r);
}

/* Derived flags, the route and its actions. */
static int check_route(struct reader *r)
{
	const uint32_t n_flags = ((const struct tables_blob_core *)sec(r, TABLES_BLOB_CORE))->n_flags;
	const uint32_t n_rules = cnt(r, TABLES_BLOB_ACTIONS), n_pools = cnt(r, TABLES_BLOB_POOLS);
	const struct dnf_term *e = sec(r, TABLES_BLOB_EXPR_TERMS), *t = sec(r, TABLES_BLOB_RULE_TERMS);
	const struct rule_action *a = sec(r, TABLES_BLOB_ACTIONS);

	for (uint32_t i = 0; i < cnt(r, TABLES_BLOB_EXPR_TERMS); i++)
		if (e[i].target >= n_flags)
			return fail(r, -EINVAL, "expr_terms[%u]: target flag %u; %u flags", i, e[i].target,
				    n_flags);
	for (uint32_t i = 0; i < cnt(r, TABLES_BLOB_RULE_TERMS); i++)
		if (t[i].target >= n_rules)
			return fail(r, -EINVAL, "rule_terms[%u]: target rule %u; %u rules", i, t[i].target,
				    n_rules);
	for (uint32_t i = 0; i < n_rules; i++) {
		if ((unsigned)a[i].kind >= ACTION__COUNT)
			return fail(r, -EINVAL, "actions[%u]: kind %u", i, (unsigned)a[i].kind);
		if (a[i].kind == ACTION_POOL && a[i].pool >= n_pools)
			return fail(r, -EINVAL, "actions[%u]: pool %u; %u pools", i, a[i].pool, n_pools);
		if (!memchr(a[i].reply_reason, 0, sizeof(a[i].reply_reason)))
			return fail(r, -EINVAL, "actions[%u]: reply_reason not NUL-terminated", i);
	}
	return 0;
}

static int check_maglev(struct reader *r, uint32_t p, const char *which, uint32_t first,
			uint32_t size, uint32_t n_nodes)
{
	const uint16_t *s = sec(r, TABLES_BLOB_MAGLEV_SLOTS);
	const uint32_t n_slots = cnt(r, TABLES_BLOB_MAGLEV_SLOTS);

	if (size > MAGLEV_MAX_SIZE || first > n_slots || size > n_slots - first)
		return fail(r, -EINVAL, "pools[%u]: %s table of %u slots at %u; %u slots", p, which,
			    size, first, n_slots);
	for (uint32_t i = 0; i < size; i++)
		if (s[first + i] >= n_nodes && s[first + i] != MAGLEV_NO_NODE)
			return fail(r, -EINVAL, "pools[%u]: %s slot %u: node %u; the pool has %u", p,
				    which, i, s[first + i], n_nodes);
	return 0;
}

/* Pools, their Maglev tables and nodes, the node index. */
static int check_pools(struct reader *r)
{
	const struct tables_blob_pool *pool = sec(r, TABLES_BLOB_POOLS);
	const struct pool_node *node = sec(r, TABLES_BLOB_NODES);
	const uint16_t *nid = sec(r, TABLES_BLOB_NID_SLOTS), *addr = sec(r, TABLES_BLOB_ADDR_SLOTS);
	const uint32_t n_pools = cnt(r, TABLES_BLOB_POOLS), n_nodes = cnt(r, TABLES_BLOB_NODES);
	int err;

	for (uint32_t i = 0; i < n_nodes; i++) {
		const struct pool_node *n = &node[i];
		if (n->pool >= n_pools)
			return fail(r, -EINVAL, "nodes[%u]: pool %u; %u pools", i, n->pool, n_pools);
		if (!byte_ok(&n->up) || !byte_ok(&n->has_mac))
			return fail(r, -EINVAL, "nodes[%u]: up / has_mac not 0 or 1", i);
		if (!terminated(n->id, n->id_len, sizeof(n->id)))
			return fail(r, -EINVAL, "nodes[%u]: id_len %u", i, n->id_len);
		if (!family_ok(n->addr.family, false))
			return fail(r, -EINVAL, "nodes[%u]: family %d", i, n->addr.family);
	}
	for (uint32_t p = 0; p < n_pools; p++) {
		const struct tables_blob_pool *pt = &pool[p];
		if (pt->mode >= POOL_MODE__COUNT)
			return fail(r, -EINVAL, "pools[%u]: mode %u", p, pt->mode);
		if (pt->first_node > n_nodes || pt->n_nodes > n_nodes - pt->first_node)
			return fail(r, -EINVAL, "pools[%u]: nodes %u..%u; %u nodes", p, pt->first_node,
				    pt->first_node + pt->n_nodes, n_nodes);
		for (uint32_t i = pt->first_node; i < pt->first_node + pt->n_nodes; i++)
			if (node[i].pool != p)
				return fail(r, -EINVAL, "pools[%u]: node %u belongs to pool %u", p, i,
					    node[i].pool);
		if (!family_ok(pt->encap_source4.family, true) || !family_ok(pt->encap_source6.family, true))
			return fail(r, -EINVAL, "pools[%u]: encap source family", p);
		if (pt->pad)
			return fail(r, -EINVAL, "pools[%u]: pad not zero", p);
		if ((err = check_maglev(r, p, "maglev", pt->maglev_first, pt->maglev_size, pt->n_nodes)) ||
		    (err = check_maglev(r, p, "previous", pt->previous_first, pt->previous_size,
					pt->n_nodes)))
			return err;
	}
	/* and the other way: a nid lookup finds a node by its pool field */
	for (uint32_t i = 0; i < n_nodes; i++) {
		const struct tables_blob_pool *pt = &pool[node[i].pool];
		if (i - pt->first_node >= pt->n_nodes)
			return fail(r, -EINVAL, "nodes[%u]: pool %u, whose nodes are %u..%u", i,
				    node[i].pool, pt->first_node, pt->first_node + pt->n_nodes);
	}
	for (uint32_t i = 0; i < cnt(r, TABLES_BLOB_NID_SLOTS); i++) {
		if (nid[i] > n_nodes)
			return fail(r, -EINVAL, "nid_slots[%u]: %u; %u nodes", i, nid[i], n_nodes);
		if (addr[i] > n_nodes)
			return fail(r, -EINVAL, "addr_slots[%u]: %u; %u nodes", i, addr[i], n_nodes);
	}
	return 0;
}

static int check_prefix(struct reader *r, unsigned nodes_id, unsigned values_id)
{
	const struct tables_blob_prefix_node *n = sec(r, nodes_id);
	const uint32_t n_nodes = cnt(r, nodes_id), n_values = cnt(r, values_id);

	for (uint32_t i = 0; i < n_nodes; i++)
		for (unsigned k = 0; k < PREFIX_FANOUT; k++) {
			const struct prefix_entry *e = &n[i].e[k];
			/* node 0 is the root: never a child */
			if (e->child >= n_nodes)
				return fail(r, -EINVAL, "%s[%u][%u]: child %u; %u nodes",
					    section_names[nodes_id], i, k, e->child, n_nodes);
			if (e->value >= n_values)
				return fail(r, -EINVAL, "%s[%u][%u]: value %u; %u values",
					    section_names[nodes_id], i, k, e->value, n_values);
		}
	return 0;
}

static void fill_pools(const struct reader *r, struct compiled_tables *out)
{
	const struct tables_blob_pool *pool = sec(r, TABLES_BLOB_POOLS);
	const uint16_t *slots = sec(r, TABLES_BLOB_MAGLEV_SLOTS);

	for (uint32_t p = 0; p < out->n_pools; p++) {
		const struct tables_blob_pool *b = &pool[p];
		out->pools[p] = (struct pool_table){
			.mode = (enum pool_mode)b->mode,
			.first_node = b->first_node,
			.n_nodes = b->n_nodes,
			.maglev = { b->maglev_size, slots + b->maglev_first },
			.previous = { b->previous_size, slots + b->previous_first },
			.previous_until = b->previous_until,
			.encap_source4 = b->encap_source4,
			.encap_source6 = b->encap_source6,
			.gue_port = b->gue_port,
		};
	}
}

/* Copies what compiled_tables holds inline, points at the rest. */
static void fill(const struct reader *r, struct compiled_tables *out)
{
	const struct tables_blob_core *c = sec(r, TABLES_BLOB_CORE);

	out->n_flags = c->n_flags;
	out->limits = c->limits;
	out->headers.count = (uint8_t)cnt(r, TABLES_BLOB_HEADERS);
	memcpy(out->headers.hdr, sec(r, TABLES_BLOB_HEADERS), out->headers.count * sizeof(out->headers.hdr[0]));
	sip_extra_index(&out->headers);
	memcpy(out->header_present, sec(r, TABLES_BLOB_HEADER_PRESENT),
	       out->headers.count * sizeof(struct flagset));
	out->n_methods = cnt(r, TABLES_BLOB_METHODS);
	memcpy(out->methods, sec(r, TABLES_BLOB_METHODS), out->n_methods * sizeof(out->methods[0]));
	memcpy(out->transports, c->transports, sizeof(out->transports));
	out->to_self = c->to_self;
	out->own_probe_answer = c->own_probe_answer;
	out->in_dialog = c->in_dialog;
	out->n_self_addrs = cnt(r, TABLES_BLOB_SELF_ADDRS);
	memcpy(out->self_addrs, sec(r, TABLES_BLOB_SELF_ADDRS), out->n_self_addrs * sizeof(struct self_addr));
	out->n_self_names = cnt(r, TABLES_BLOB_SELF_NAMES);
	memcpy(out->self_names, sec(r, TABLES_BLOB_SELF_NAMES), out->n_self_names * TABLES_NAME_MAX);
	out->n_control_addrs = cnt(r, TABLES_BLOB_CONTROL_ADDRS);
	memcpy(out->control_addrs, sec(r, TABLES_BLOB_CONTROL_ADDRS),
	       out->n_control_addrs * sizeof(struct self_addr));
	out->n_ports = c->n_ports;
	memcpy(out->ports, c->ports, sizeof(out->ports));
	out->source4 = (struct prefix_table){ 4, cnt(r, TABLES_BLOB_PREFIX4_NODES),
		cnt(r, TABLES_BLOB_PREFIX4_VALUES), sec(r, TABLES_BLOB_PREFIX4_NODES),
		sec(r, TABLES_BLOB_PREFIX4_VALUES) };
	out->source6 = (struct prefix_table){ 16, cnt(r, TABLES_BLOB_PREFIX6_NODES),
		cnt(r, TABLES_BLOB_PREFIX6_VALUES), sec(r, TABLES_BLOB_PREFIX6_NODES),
		sec(r, TABLES_BLOB_PREFIX6_VALUES) };
	out->n_patterns = cnt(r, TABLES_BLOB_PATTERNS);
	memcpy(out->patterns, sec(r, TABLES_BLOB_PATTERNS), out->n_patterns * sizeof(out->patterns[0]));
	out->hs_db = out->n_patterns ? sec(r, TABLES_BLOB_HS_DB) : NULL;
	out->hs_db_len = cnt(r, TABLES_BLOB_HS_DB);
	out->n_literals = cnt(r, TABLES_BLOB_HS_LITERALS);
	out->literals = sec(r, TABLES_BLOB_HS_LITERALS);
	out->n_expr_terms = cnt(r, TABLES_BLOB_EXPR_TERMS);
	out->expr_terms = sec(r, TABLES_BLOB_EXPR_TERMS);
	out->n_rule_terms = cnt(r, TABLES_BLOB_RULE_TERMS);
	out->rule_terms = sec(r, TABLES_BLOB_RULE_TERMS);
	out->n_rules = cnt(r, TABLES_BLOB_ACTIONS);
	out->actions = sec(r, TABLES_BLOB_ACTIONS);
	out->n_pools = cnt(r, TABLES_BLOB_POOLS);
	out->pool_names = sec(r, TABLES_BLOB_POOL_NAMES);
	fill_pools(r, out);
	out->n_nodes = cnt(r, TABLES_BLOB_NODES);
	out->nodes = sec(r, TABLES_BLOB_NODES);
	out->node_index_mask = c->node_index_mask;
	out->nid_slots = sec(r, TABLES_BLOB_NID_SLOTS);
	out->addr_slots = sec(r, TABLES_BLOB_ADDR_SLOTS);
	out->hash_seed = c->hash_seed;
	out->has_mac = c->has_mac;
	out->has_gateway_mac = c->has_gateway_mac;
	memcpy(out->mac, c->mac, 6);
	memcpy(out->gateway_mac, c->gateway_mac, 6);
	out->grace_s = c->grace_s;
}

int tables_blob_open(const void *blob, size_t len, struct compiled_tables *out, char *err,
		     size_t errlen)
{
	struct reader r = { blob, len, blob, err, errlen };
	int rc;

	memset(out, 0, sizeof(*out));
	if (errlen)
		err[0] = 0;
	/* the elements are used in place: they need their alignment */
	if ((uintptr_t)blob % TABLES_BLOB_ALIGN)
		return fail(&r, -EINVAL, "blob: at an address not %u-byte aligned", TABLES_BLOB_ALIGN);
	if ((rc = check_header(&r)) || (rc = check_directory(&r)) || (rc = check_core(&r)) ||
	    (rc = check_flags_input(&r)) || (rc = check_route(&r)) || (rc = check_pools(&r)) ||
	    (rc = check_prefix(&r, TABLES_BLOB_PREFIX4_NODES, TABLES_BLOB_PREFIX4_VALUES)) ||
	    (rc = check_prefix(&r, TABLES_BLOB_PREFIX6_NODES, TABLES_BLOB_PREFIX6_VALUES)))
		return rc;
	fill(&r, out);
	return 0;
}
