/* Lays compiled tables out as one blob: the header and its directory, then
 * every section in directory order at an aligned offset. The blob is
 * zeroed first, so padding is zero and the same tables give the same
 * bytes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "blob_write.h"
#include "siphon/table_blob.h"

struct src {
	const void *data; /* NULL: filled in place below (core, pools, Maglev slots) */
	uint64_t count;
};

static uint64_t align_up(uint64_t x)
{
	return (x + TABLES_BLOB_ALIGN - 1) & ~(uint64_t)(TABLES_BLOB_ALIGN - 1);
}

static uint64_t maglev_slot_count(const struct compiled_tables *t)
{
	uint64_t n = 0;

	for (uint32_t p = 0; p < t->n_pools; p++)
		n += (uint64_t)t->pools[p].maglev.size + t->pools[p].previous.size;
	return n;
}

static void sources(const struct compiled_tables *t, struct src s[TABLES_BLOB__COUNT])
{
	const uint64_t index_slots = t->nid_slots ? (uint64_t)t->node_index_mask + 1 : 0;

	s[TABLES_BLOB_CORE] = (struct src){ NULL, 1 };
	s[TABLES_BLOB_METHODS] = (struct src){ t->methods, t->n_methods };
	s[TABLES_BLOB_SELF_ADDRS] = (struct src){ t->self_addrs, t->n_self_addrs };
	s[TABLES_BLOB_SELF_NAMES] = (struct src){ t->self_names, t->n_self_names };
	s[TABLES_BLOB_CONTROL_ADDRS] = (struct src){ t->control_addrs, t->n_control_addrs };
	s[TABLES_BLOB_HEADERS] = (struct src){ t->headers.hdr, t->headers.count };
	s[TABLES_BLOB_HEADER_PRESENT] = (struct src){ t->header_present, t->headers.count };
	s[TABLES_BLOB_PATTERNS] = (struct src){ t->patterns, t->n_patterns };
	s[TABLES_BLOB_HS_DB] = (struct src){ t->hs_db, t->n_patterns ? t->hs_db_len : 0 };
	s[TABLES_BLOB_HS_LITERALS] = (struct src){ t->literals, t->n_literals };
	s[TABLES_BLOB_EXPR_TERMS] = (struct src){ t->expr_terms, t->n_expr_terms };
	s[TABLES_BLOB_RULE_TERMS] = (struct src){ t->rule_terms, t->n_rule_terms };
	s[TABLES_BLOB_ACTIONS] = (struct src){ t->actions, t->n_rules };
	s[TABLES_BLOB_POOL_NAMES] = (struct src){ t->pool_names, t->n_pools };
	s[TABLES_BLOB_POOLS] = (struct src){ NULL, t->n_pools };
	s[TABLES_BLOB_MAGLEV_SLOTS] = (struct src){ NULL, maglev_slot_count(t) };
	s[TABLES_BLOB_NODES] = (struct src){ t->nodes, t->n_nodes };
	/* tables built without a node index get an empty one */
	s[TABLES_BLOB_NID_SLOTS] = (struct src){ t->nid_slots, index_slots ? index_slots : 2 };
	s[TABLES_BLOB_ADDR_SLOTS] = (struct src){ t->addr_slots, index_slots ? index_slots : 2 };
	s[TABLES_BLOB_PREFIX4_NODES] = (struct src){ t->source4.nodes, t->source4.n_nodes };
	s[TABLES_BLOB_PREFIX4_VALUES] = (struct src){ t->source4.values, t->source4.n_values };
	s[TABLES_BLOB_PREFIX6_NODES] = (struct src){ t->source6.nodes, t->source6.n_nodes };
	s[TABLES_BLOB_PREFIX6_VALUES] = (struct src){ t->source6.values, t->source6.n_values };
}

static void write_core(const struct compiled_tables *t, struct tables_blob_core *c)
{
	c->n_flags = t->n_flags;
	c->n_ports = t->n_ports;
	c->limits = t->limits;
	c->hash_seed = t->hash_seed;
	c->grace_s = t->grace_s;
	c->node_index_mask = t->nid_slots ? t->node_index_mask : 1;
	c->source4_key_bytes = 4;
	c->source6_key_bytes = 16;
	memcpy(c->ports, t->ports, sizeof(c->ports));
	c->has_mac = t->has_mac;
	c->has_gateway_mac = t->has_gateway_mac;
	memcpy(c->mac, t->mac, 6);
	memcpy(c->gateway_mac, t->gateway_mac, 6);
	memcpy(c->transports, t->transports, sizeof(c->transports));
	c->to_self = t->to_self;
	c->own_probe_answer = t->own_probe_answer;
	c->in_dialog = t->in_dialog;
}

/* Each pool's current table, then its previous one, one after another. */
static void write_pools(const struct compiled_tables *t, struct tables_blob_pool *out,
			uint16_t *slots)
{
	uint32_t at = 0;

	for (uint32_t p = 0; p < t->n_pools; p++) {
		const struct pool_table *pt = &t->pools[p];
		struct tables_blob_pool *b = &out[p];

		b->mode = (uint32_t)pt->mode;
		b->first_node = pt->first_node;
		b->n_nodes = pt->n_nodes;
		b->gue_port = pt->gue_port;
		b->encap_source4 = pt->encap_source4;
		b->encap_source6 = pt->encap_source6;
		b->maglev_first = at;
		b->maglev_size = pt->maglev.size;
		if (pt->maglev.size)
			memcpy(slots + at, pt->maglev.slots, pt->maglev.size * sizeof(*slots));
		at += pt->maglev.size;
		if (pt->previous.size) {
			b->previous_first = at;
			b->previous_size = pt->previous.size;
			b->previous_until = pt->previous_until;
			memcpy(slots + at, pt->previous.slots, pt->previous.size * sizeof(*slots));
			at += pt->previous.size;
		}
	}
}

static const uint32_t elem_sizes[TABLES_BLOB__COUNT] = {
#define X(id, name, type) [TABLES_BLOB_##id] = sizeof(type),
	TABLES_BLOB_SECTIONS(X)
#undef X
};

int tables_blob_build(const struct compiled_tables *t, uint64_t generation, void **blob,
		      size_t *len)
{
	struct src s[TABLES_BLOB__COUNT];
	struct tables_blob_header *h;
	uint64_t at = sizeof(*h);
	uint8_t *b;

	*blob = NULL;
	*len = 0;
	if (t->n_pools > TABLES_MAX_POOLS)
		return -E2BIG;
	sources(t, s);
	for (unsigned i = 0; i < TABLES_BLOB__COUNT; i++) {
		if (s[i].count > UINT32_MAX)
			return -E2BIG;
		at = align_up(at) + s[i].count * elem_sizes[i];
	}
	if (at > SIZE_MAX)
		return -E2BIG;
	b = calloc(1, (size_t)at);
	if (!b)
		return -ENOMEM;
	h = (struct tables_blob_header *)(void *)b;
	*h = (struct tables_blob_header){ .magic = TABLES_BLOB_MAGIC, .abi = TABLES_BLOB_ABI,
		.header_size = sizeof(*h), .total_len = at, .generation = generation,
		.n_sections = TABLES_BLOB__COUNT };
	at = sizeof(*h);
	for (unsigned i = 0; i < TABLES_BLOB__COUNT; i++) {
		const size_t bytes = (size_t)s[i].count * elem_sizes[i];
		at = align_up(at);
		h->sec[i] = (struct tables_blob_section){ at, (uint32_t)s[i].count, elem_sizes[i] };
		if (s[i].data && bytes)
			memcpy(b + at, s[i].data, bytes);
		at += bytes;
	}
	write_core(t, (struct tables_blob_core *)(void *)(b + h->sec[TABLES_BLOB_CORE].offset));
	write_pools(t, (struct tables_blob_pool *)(void *)(b + h->sec[TABLES_BLOB_POOLS].offset),
		    (uint16_t *)(void *)(b + h->sec[TABLES_BLOB_MAGLEV_SLOTS].offset));
	h->checksum = tables_blob_checksum(b, (size_t)at);
	*blob = b;
	*len = (size_t)at;
	return 0;
}
