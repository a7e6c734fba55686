/* The fragment table (fragments.h, docs/fragments.md).
 *
 * Datagrams in flight live in a slab of max_datagrams slots, each with its
 * own frame storage and frame array, found through an open-addressing index
 * with bounded linear probing (backward-shift deletion keeps every entry
 * within FRAG_PROBE_MAX of its home). Slots also sit on one of two age
 * lists, oldest first: partial (only the first fragment, or no first yet;
 * partial_ms) and full (timeout_ms). A datagram moves to the full list when
 * it gets its second kind of fragment, so the full list is in promotion
 * order: its expiry may run up to partial_ms late, never early.
 *
 * Every slot also counts for its source (a /32 or /64), in a third index;
 * sources sit in buckets by how many datagrams they hold, so the heaviest
 * one is found in O(1) when the table must evict.
 *
 * Decided entries (a decision, or the drop that ended a datagram) live in a
 * ring of max_decided entries, in insertion order, with their own index;
 * a full ring pushes out its oldest entry. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "frag_internal.h"

_Static_assert(FRAG_FRAME_ROOM >= REWRITE_ENCAP_MAX, "stored frames must take an encap in place");
_Static_assert(FRAG_RESULT__COUNT <= 256, "a result fits the decided entry's byte");

static enum frag_result tally(struct frag_table *t, enum frag_result r)
{
	t->c.result[r]++;
	return r;
}
/* ---- one fragment ------------------------------------------------------------- */

/* Checks the layout against the frame and fills in; HELD when the fragment
 * can be filed, else BAD. */
static enum frag_result describe(const struct frag_table *t, const uint8_t *f, size_t len,
				 const struct pkt_layout *l, struct frag_in *in)
{
	size_t l3_end, data_off;

	memset(in, 0, sizeof(*in));
	if (!f || !l || !l->is_fragment)
		return FRAG_RESULT_BAD;
	l3_end = (size_t)l->l3_off + l->l3_len;
	if (l3_end > len)
		return FRAG_RESULT_BAD;
	in->key.family = l->family;
	in->key.id = l->frag_id;
	switch (l->family) {
	case AF_INET:
		if (l->l3_len < 20 || l->l3_hlen < 20 || l->l3_hlen > l->l3_len)
			return FRAG_RESULT_BAD;
		memcpy(in->key.src, f + l->l3_off + 12, 4);
		memcpy(in->key.dst, f + l->l3_off + 16, 4);
		in->key.proto = f[l->l3_off + 9];
		in->key.id &= 0xFFFF;
		if (in->key.proto != PKT_PROTO_UDP)
			return FRAG_RESULT_BAD; /* TCP, ... are not reassembled here */
		data_off = (size_t)l->l3_off + l->l3_hlen;
		break;
	case AF_INET6:
		if (l->l3_len < 48 || l->frag_hdr_off < (size_t)l->l3_off + 40 ||
		    (size_t)l->frag_hdr_off + 8 > l3_end)
			return FRAG_RESULT_BAD;
		memcpy(in->key.src, f + l->l3_off + 8, 16);
		memcpy(in->key.dst, f + l->l3_off + 24, 16);
		data_off = (size_t)l->frag_hdr_off + 8;
		break;
	default:
		return FRAG_RESULT_BAD;
	}
	if (data_off >= l3_end)
		return FRAG_RESULT_BAD; /* no data */
	in->data_off = (uint32_t)data_off;
	in->data_len = (uint32_t)(l3_end - data_off);
	in->frame_len = (uint32_t)l3_end;
	in->off = l->frag_off;
	in->end = in->off + in->data_len;
	in->first = in->off == 0;
	in->last = !l->more_fragments;
	if (in->end > 65535 || in->off % 8 || (in->first && in->last) ||
	    in->first != l->first_fragment)
		return FRAG_RESULT_BAD;
	if (!in->last && in->data_len % 8)
		return FRAG_RESULT_BAD; /* a middle fragment carries a multiple of 8 */
	if (in->first) {
		uint32_t ulen;
		if (l->l4_proto != PKT_PROTO_UDP || l->l4_off < data_off ||
		    (size_t)l->l4_off + UDP_HLEN > l3_end)
			return FRAG_RESULT_BAD;
		ulen = rd16(f + l->l4_off + 4);
		in->l4_rel = (uint32_t)(l->l4_off - data_off);
		in->total = in->l4_rel + ulen;
		if (ulen < UDP_HLEN || in->total <= in->end)
			return FRAG_RESULT_BAD; /* the first fragment holds the whole datagram */
	}
	in->hash = (uint32_t)callid_hash((const uint8_t *)&in->key, sizeof(in->key),
					 t->lim.hash_seed);
	return FRAG_RESULT_HELD;
}

/* The first fragment in, offered to the caller (FIRST) instead of stored:
 * d holds the datagram's later fragments, if any came before it. */
static enum frag_result offer_first(struct frag_table *t, struct frag_datagram *d,
				    const uint8_t *f, const struct pkt_layout *l,
				    const struct frag_in *in, struct frag_datagram **done)
{
	struct frag_datagram *v = d ? d : &t->first_view;
	enum frag_result r;
	uint32_t pos;

	if (d) {
		r = frag_dg_check(t, d, f, in, &pos);
		if (r != FRAG_RESULT_HELD) {
			if (r != FRAG_RESULT_DUPLICATE)
				frag_dg_drop(t, d, r);
			return r;
		}
	} else if (in->frame_len > FRAG_FRAME_MAX || in->total > t->lim.max_datagram_bytes) {
		/* as if it had been stored: the datagram is dropped */
		frag_dec_put(t, &in->key, in->hash, FRAG_RESULT_TOO_BIG, t->lim.timeout_ms);
		return FRAG_RESULT_TOO_BIG;
	} else {
		v->key = in->key;
		v->hash = in->hash;
		v->n_frames = 0;
	}
	memcpy(v->udp_hdr, f + l->l4_off, UDP_HLEN);
	v->sport = rd16(v->udp_hdr);
	v->dport = rd16(v->udp_hdr + 2);
	v->udp_len = rd16(v->udp_hdr + 4);
	v->payload = f + l->l4_off + UDP_HLEN;
	v->payload_len = (uint16_t)(in->data_off + in->data_len - (l->l4_off + UDP_HLEN));
	v->end = (uint16_t)in->total;
	t->first_len = (uint16_t)in->data_len;
	t->offered = v;
	if (done)
		*done = v;
	return FRAG_RESULT_FIRST;
}

/* frag_add(); hold: a first fragment is stored rather than offered. */
static enum frag_result add(struct frag_table *t, const uint8_t *frame, size_t len,
			    const struct pkt_layout *l, uint64_t now_ms, struct frag_datagram **done,
			    bool hold)
{
	struct frag_decided *e;
	struct frag_datagram *d = NULL;
	struct frag_in in;
	enum frag_result r;
	uint32_t id;

	if (done)
		*done = NULL;
	t->decision_len = 0;
	t->offered = NULL;
	if (!t->dg)
		return FRAG_RESULT_BAD;
	if (now_ms > t->now_ms)
		t->now_ms = now_ms;
	r = describe(t, frame, len, l, &in);
	if (r != FRAG_RESULT_HELD)
		return tally(t, r);

	e = frag_dec_find(t, &in.key, in.hash);
	if (e && e->result != FRAG_RESULT_DECIDED)
		return tally(t, (enum frag_result)e->result); /* the datagram was dropped */
	if (e && frag_fits_decided(e, &in, frame, l)) {
		memcpy(t->decision, e->decision, e->len);
		t->decision_len = e->len;
		return tally(t, FRAG_RESULT_DECIDED);
	}
	if (e) {
		frag_dec_kill(t, e);
		t->c.decided_replaced++;
	}

	id = frag_ix_find(t, IX_DG, &in.key, in.hash);
	if (id != NONE) {
		d = &t->dg[id];
		if (frag_dg_expired(t, d)) {
			frag_dg_expire(t, d);
			d = NULL;
		}
	}
	if (d && d->state == FRAG_DG_COMPLETE) {
		/* waiting for frag_decide(); its frames may be rewritten already */
		uint32_t pos;
		r = frag_dg_place(d, frame, &in, false, &pos);
		return tally(t, r == FRAG_RESULT_DUPLICATE ? r : FRAG_RESULT_BAD);
	}
	/* a first fragment that does not complete the datagram: the caller
	 * may decide from it at once, without a slot */
	if (in.first && !hold &&
	    !(d && (d->have_first || (d->have_last && d->covered + in.data_len == in.total))))
		return tally(t, offer_first(t, d, frame, l, &in, done));
	if (!d && !(d = frag_dg_new(t, &in)))
		return tally(t, FRAG_RESULT_TABLE_FULL);

	r = frag_dg_add(t, d, frame, l, &in);
	if (r == FRAG_RESULT_COMPLETE) {
		frag_dg_reassemble(t, d);
		if (done)
			*done = d;
	} else if (r != FRAG_RESULT_HELD && r != FRAG_RESULT_DUPLICATE) {
		frag_dg_drop(t, d, r);
	}
	return tally(t, r);
}

enum frag_result frag_add(struct frag_table *t, const uint8_t *frame, size_t len,
			  const struct pkt_layout *l, uint64_t now_ms, struct frag_datagram **done)
{
	return add(t, frame, len, l, now_ms, done, false);
}

enum frag_result frag_hold(struct frag_table *t, const uint8_t *frame, size_t len,
			   const struct pkt_layout *l)
{
	struct frag_datagram *d;
	enum frag_result r;

	if (!t->offered)
		return tally(t, FRAG_RESULT_BAD); /* not right after FIRST */
	t->c.result[FRAG_RESULT_FIRST]--; /* recounted under what happens now */
	r = add(t, frame, len, l, t->now_ms, &d, true);
	if (r == FRAG_RESULT_COMPLETE) { /* not the frame FIRST offered: it did not complete */
		t->c.result[r]--;
		frag_dg_drop(t, d, FRAG_RESULT_BAD);
		r = tally(t, FRAG_RESULT_BAD);
	}
	return r;
}

const uint8_t *frag_decision(const struct frag_table *t, size_t *len)
{
	*len = t->decision_len;
	return t->decision_len ? t->decision : NULL;
}

void frag_decide(struct frag_table *t, struct frag_datagram *d, const void *decision,
		 size_t decision_len)
{
	const bool first = d && d == t->offered; /* decided from its first fragment */
	struct frag_decided *e;

	if (!t->dg || !d || (!first && d->state != FRAG_DG_COMPLETE))
		return;
	t->offered = NULL;
	if (decision_len > FRAG_DECISION_MAX)
		decision_len = FRAG_DECISION_MAX;
	if (!decision)
		decision_len = 0;
	e = frag_dec_put(t, &d->key, d->hash, FRAG_RESULT_DECIDED, t->lim.decided_ms);
	if (e) {
		e->end = d->end;
		memcpy(e->udp_hdr, d->udp_hdr, UDP_HLEN);
		e->first_len = first ? t->first_len : d->frames[0].data_len;
		if (!first && d->n_frames <= DECIDED_EXTENTS) {
			e->n_ext = (uint8_t)d->n_frames;
			for (unsigned i = 0; i < d->n_frames; i++) {
				e->ext[i].off = d->frames[i].off;
				e->ext[i].len = d->frames[i].data_len;
			}
		}
		if (decision_len)
			memcpy(e->decision, decision, decision_len);
		e->len = (uint8_t)decision_len;
	}
	t->c.decided++;
	if (d != &t->first_view)
		frag_dg_release(t, d);
}

unsigned frag_expire(struct frag_table *t, uint64_t now_ms)
{
	unsigned n;

	if (!t->dg)
		return 0;
	if (now_ms > t->now_ms)
		t->now_ms = now_ms;
	for (unsigned list = 0; list < 2; list++)
		for (uint32_t i = 0; i < FRAG_EXPIRE_BATCH && t->oldest[list] != NONE; i++) {
			struct frag_datagram *d = &t->dg[t->oldest[list]];
			if (!frag_dg_expired(t, d))
				break;
			frag_dg_expire(t, d);
		}
	for (uint32_t i = 0; i < FRAG_EXPIRE_BATCH && t->n_decided; i++) {
		struct frag_decided *e = &t->dec[t->dec_tail];
		if (e->live) {
			if (e->expires_ms > t->now_ms)
				break;
			frag_dec_kill(t, e);
			t->c.decided_expired++;
		}
		t->dec_tail = (t->dec_tail + 1) % t->lim.max_decided;
		t->n_decided--;
	}
	n = t->pending_timeouts;
	t->pending_timeouts = 0;
	return n;
}

/* ---- set-up -------------------------------------------------------------------- */

static uint32_t index_size(uint32_t entries)
{
	uint32_t n = IX_MIN;

	while (n < 2 * entries) /* at most 2^23: bounded by the limits */
		n <<= 1;
	return n;
}

int frag_table_init(struct frag_table *t, const struct frag_limits *lim)
{
	const struct frag_limits def = FRAG_LIMITS_DEFAULT;
	struct frag_limits L = lim ? *lim : def;
	size_t n_dg, n_frames, store, n_dgix, n_decix, n_src, n_srcix;

	memset(t, 0, sizeof(*t));
	L.max_datagrams = L.max_datagrams ? L.max_datagrams : def.max_datagrams;
	L.max_fragments = L.max_fragments ? L.max_fragments : def.max_fragments;
	L.max_datagram_bytes = L.max_datagram_bytes ? L.max_datagram_bytes : def.max_datagram_bytes;
	L.timeout_ms = L.timeout_ms ? L.timeout_ms : def.timeout_ms;
	L.decided_ms = L.decided_ms ? L.decided_ms : def.decided_ms;
	L.max_decided = L.max_decided ? L.max_decided : def.max_decided;
	L.max_per_source = L.max_per_source ? L.max_per_source : def.max_per_source;
	if (L.max_per_source > L.max_datagrams)
		L.max_per_source = L.max_datagrams; /* the default with a small table */
	L.partial_ms = L.partial_ms ? L.partial_ms : def.partial_ms;
	if (L.partial_ms > L.timeout_ms)
		L.partial_ms = L.timeout_ms;
	if (L.max_datagrams > 65536 || L.max_fragments > FRAG_FRAGMENTS_LIMIT ||
	    L.max_datagram_bytes < 16 || L.max_datagram_bytes > 65535 ||
	    L.max_decided > (1u << 22))
		return -EINVAL;

	t->lim = L;
	t->store_bytes = (L.max_datagram_bytes +
			  L.max_fragments * (FRAG_HDR_BUDGET + FRAG_FRAME_ROOM + 8) + 63) & ~63u;
	n_dg = L.max_datagrams;
	n_frames = n_dg * L.max_fragments;
	store = n_dg * t->store_bytes;
	n_dgix = index_size(L.max_datagrams);
	n_decix = index_size(L.max_decided);
	n_src = n_dg + 1; /* a new source is filed before a full table evicts */
	n_srcix = index_size((uint32_t)n_src);
	t->dg_mask = (uint32_t)n_dgix - 1;
	t->dec_mask = (uint32_t)n_decix - 1;
	t->src_mask = (uint32_t)n_srcix - 1;

	t->dg = calloc(n_dg, sizeof(*t->dg));
	t->frames = calloc(n_frames, sizeof(*t->frames));
	t->store = calloc(store, 1);
	t->dg_index = calloc(n_dgix, sizeof(uint32_t));
	t->dec = calloc(L.max_decided, sizeof(*t->dec));
	t->dec_index = calloc(n_decix, sizeof(uint32_t));
	t->reasm = calloc(L.max_datagram_bytes, 1);
	t->order = calloc(n_frames, sizeof(uint16_t));
	t->srcs = calloc(n_src, sizeof(*t->srcs));
	t->src_index = calloc(n_srcix, sizeof(uint32_t));
	t->bucket = calloc(2 * ((size_t)L.max_per_source + 1), sizeof(uint32_t));
	if (!t->dg || !t->frames || !t->store || !t->dg_index || !t->dec || !t->dec_index ||
	    !t->reasm || !t->order || !t->srcs || !t->src_index || !t->bucket) {
		frag_table_free(t);
		return -ENOMEM;
	}
	t->bucket_tail = t->bucket + L.max_per_source + 1;
	t->mem_bytes = n_dg * sizeof(*t->dg) + n_frames * (sizeof(*t->frames) + sizeof(uint16_t)) +
		       store + (n_dgix + n_decix + n_srcix) * sizeof(uint32_t) +
		       L.max_decided * sizeof(*t->dec) + L.max_datagram_bytes +
		       n_src * sizeof(*t->srcs) + 2 * ((size_t)L.max_per_source + 1) * sizeof(uint32_t);

	for (uint32_t i = 0; i < L.max_datagrams; i++) {
		struct frag_datagram *d = &t->dg[i];
		d->frames = t->frames + (size_t)i * L.max_fragments;
		d->order = t->order + (size_t)i * L.max_fragments;
		d->store = t->store + (size_t)i * t->store_bytes;
		d->prev = NONE;
		d->next = i + 1 < L.max_datagrams ? i + 1 : NONE;
	}
	t->free_head = 0;
	t->oldest[0] = t->oldest[1] = t->newest[0] = t->newest[1] = NONE;
	for (uint32_t c = 0; c <= L.max_per_source; c++)
		t->bucket[c] = t->bucket_tail[c] = NONE;
	for (uint32_t i = 0; i < n_src; i++)
		t->srcs[i].bnext = i + 1 < n_src ? i + 1 : NONE;
	t->src_free = 0;
	return 0;
}

void frag_table_free(struct frag_table *t)
{
	free(t->dg);
	free(t->frames);
	free(t->store);
	free(t->dg_index);
	free(t->dec);
	free(t->dec_index);
	free(t->reasm);
	free(t->order);
	free(t->srcs);
	free(t->src_index);
	free(t->bucket);
	memset(t, 0, sizeof(*t));
}

/* ---- names ------------------------------------------------------------------------ */

static const char *const result_names[] = {
#define FRAG_RESULT(id, name, drop, help) [FRAG_RESULT_##id] = name,
#include "frag_result.def"
#undef FRAG_RESULT
};

static const char *const result_help[] = {
#define FRAG_RESULT(id, name, drop, help) [FRAG_RESULT_##id] = help,
#include "frag_result.def"
#undef FRAG_RESULT
};

static const uint8_t result_kind[] = {
#define FRAG_RESULT(id, name, drop, help) [FRAG_RESULT_##id] = drop,
#include "frag_result.def"
#undef FRAG_RESULT
};

const char *frag_result_name(unsigned r)
{
	return r < FRAG_RESULT__COUNT ? result_names[r] : "?";
}

const char *frag_result_help(unsigned r)
{
	return r < FRAG_RESULT__COUNT ? result_help[r] : "?";
}

bool frag_result_is_drop(unsigned r)
{
	return r < FRAG_RESULT__COUNT && result_kind[r] == 1;
}

bool frag_result_is_event(unsigned r)
{
	return r < FRAG_RESULT__COUNT && result_kind[r] == FRAG_KIND_EVENT;
}
