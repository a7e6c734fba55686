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

#include "siphon/maglev.h" /* callid_hash(): XXH64 */

#include "fragments.h"
#include "siphon/bytes.h"
#include "rewrite.h"

_Static_assert(FRAG_FRAME_ROOM >= REWRITE_ENCAP_MAX, "stored frames must take an encap in place");
_Static_assert(FRAG_RESULT__COUNT <= 256, "a result fits the decided entry's byte");

#define NONE     UINT32_MAX
#define UDP_HLEN 8
#define IX_MIN   64u
#define DECIDED_EXTENTS 8 /* fragments a decided entry remembers one by one */

struct frag_decided {
	struct frag_key key;
	uint64_t expires_ms;
	uint32_t hash;
	bool live;          /* in the index */
	uint8_t result;     /* FRAG_RESULT_DECIDED, or the drop that ended the datagram */
	uint8_t len;        /* decision bytes */
	uint16_t end;       /* the datagram's end: a late fragment must fit it */
	uint16_t first_len; /* the first fragment's data bytes */
	uint8_t udp_hdr[8]; /* a late first fragment must carry the same */
	uint8_t n_ext;      /* extents below; 0: more than DECIDED_EXTENTS fragments */
	struct {
		uint16_t off, len;
	} ext[DECIDED_EXTENTS]; /* the datagram's fragments */
	uint8_t decision[FRAG_DECISION_MAX];
};

/* What frag_add() learns of one fragment before it touches the table. */
struct frag_in {
	struct frag_key key;
	uint32_t hash;
	uint32_t off, end;   /* the data's extent in the datagram */
	uint32_t data_len;
	uint32_t data_off;   /* in the frame */
	uint32_t frame_len;  /* up to the IP packet's end */
	bool first, last;
	uint32_t l4_rel;     /* first: the UDP header's offset in the fragmentable part */
	uint32_t total;      /* first: l4_rel + the UDP length, the datagram's end */
};

/* One source's share of the table: a /32 or /64 with datagrams in flight. */
struct frag_source {
	struct frag_key key; /* family and the prefix in src; the rest zero */
	uint32_t hash;
	uint32_t count;      /* its datagrams */
	uint32_t head, tail; /* its datagrams, oldest first (sprev / snext) */
	uint32_t bprev, bnext; /* its bucket (sources holding as many); bnext: free list */
};

enum ix_kind { IX_DG, IX_DEC, IX_SRC };

static enum frag_result tally(struct frag_table *t, enum frag_result r)
{
	t->c.result[r]++;
	return r;
}

/* ---- the two indexes ---------------------------------------------------- */

static uint32_t *ix_slots(const struct frag_table *t, enum ix_kind k, uint32_t *mask)
{
	*mask = k == IX_DG ? t->dg_mask : k == IX_DEC ? t->dec_mask : t->src_mask;
	return k == IX_DG ? t->dg_index : k == IX_DEC ? t->dec_index : t->src_index;
}

static uint32_t entry_hash(const struct frag_table *t, enum ix_kind k, uint32_t id)
{
	return k == IX_DG ? t->dg[id].hash : k == IX_DEC ? t->dec[id].hash : t->srcs[id].hash;
}

static const struct frag_key *entry_key(const struct frag_table *t, enum ix_kind k, uint32_t id)
{
	return k == IX_DG ? &t->dg[id].key : k == IX_DEC ? &t->dec[id].key : &t->srcs[id].key;
}

/* The entry id of key, or NONE. */
static uint32_t ix_find(const struct frag_table *t, enum ix_kind k, const struct frag_key *key,
			uint32_t hash)
{
	uint32_t mask, p;
	const uint32_t *ix = ix_slots(t, k, &mask);

	p = hash & mask;
	for (uint32_t n = 0; n < FRAG_PROBE_MAX; n++, p = (p + 1) & mask) {
		const uint32_t v = ix[p];
		if (!v)
			return NONE;
		if (entry_hash(t, k, v - 1) == hash &&
		    memcmp(entry_key(t, k, v - 1), key, sizeof(*key)) == 0)
			return v - 1;
	}
	return NONE;
}

/* Files entry id, whose hash is set; false when its probe window is full. */
static bool ix_insert(struct frag_table *t, enum ix_kind k, uint32_t id)
{
	uint32_t mask, p;
	uint32_t *ix = ix_slots(t, k, &mask);

	p = entry_hash(t, k, id) & mask;
	for (uint32_t n = 0; n < FRAG_PROBE_MAX; n++, p = (p + 1) & mask) {
		if (!ix[p]) {
			ix[p] = id + 1;
			return true;
		}
	}
	return false;
}

/* Removes entry id; later entries of its run move back towards their home
 * (never away from it, so every entry stays within the probe bound). */
static void ix_remove(struct frag_table *t, enum ix_kind k, uint32_t id)
{
	uint32_t mask, i, j;
	uint32_t *ix = ix_slots(t, k, &mask);

	i = entry_hash(t, k, id) & mask;
	for (uint32_t n = 0; ix[i] != id + 1; n++, i = (i + 1) & mask)
		if (n == FRAG_PROBE_MAX || !ix[i])
			return; /* not filed */
	j = i;
	for (uint32_t n = 0; n <= mask; n++) {
		uint32_t home;
		j = (j + 1) & mask;
		if (!ix[j])
			break;
		home = entry_hash(t, k, ix[j] - 1) & mask;
		/* ix[j] may fill the hole at i when its home is not in (i, j] */
		if (((j - home) & mask) >= ((j - i) & mask)) {
			ix[i] = ix[j];
			i = j;
		}
	}
	ix[i] = 0;
}

/* ---- decided entries ------------------------------------------------------ */

static void dec_kill(struct frag_table *t, struct frag_decided *e)
{
	if (!e->live)
		return;
	ix_remove(t, IX_DEC, (uint32_t)(e - t->dec));
	e->live = false;
}

/* The live, unexpired entry of key, or NULL. */
static struct frag_decided *dec_find(struct frag_table *t, const struct frag_key *key,
				     uint32_t hash)
{
	const uint32_t id = ix_find(t, IX_DEC, key, hash);
	struct frag_decided *e;

	if (id == NONE)
		return NULL;
	e = &t->dec[id];
	if (e->expires_ms <= t->now_ms) {
		dec_kill(t, e);
		t->c.decided_expired++;
		return NULL;
	}
	return e;
}

/* A new entry for key (replacing one the key had), living lifetime_ms; the
 * ring's oldest entry makes room when it is full. NULL when the index has
 * no slot for it. */
static struct frag_decided *dec_put(struct frag_table *t, const struct frag_key *key,
				    uint32_t hash, enum frag_result result, uint32_t lifetime_ms)
{
	const uint32_t max = t->lim.max_decided;
	const uint32_t old = ix_find(t, IX_DEC, key, hash);
	struct frag_decided *e;
	uint32_t id;

	if (old != NONE)
		dec_kill(t, &t->dec[old]);
	if (t->n_decided == max) {
		e = &t->dec[t->dec_tail];
		if (e->live) {
			if (e->expires_ms > t->now_ms)
				t->c.decided_evicted++;
			else
				t->c.decided_expired++;
			dec_kill(t, e);
		}
		t->dec_tail = (t->dec_tail + 1) % max;
		t->n_decided--;
	}
	id = (t->dec_tail + t->n_decided) % max;
	e = &t->dec[id];
	memset(e, 0, sizeof(*e));
	e->key = *key;
	e->hash = hash;
	if (!ix_insert(t, IX_DEC, id)) {
		t->c.decided_lost++;
		return NULL;
	}
	e->live = true;
	e->result = (uint8_t)result;
	e->expires_ms = t->now_ms + lifetime_ms;
	t->n_decided++;
	return e;
}

/* Whether a fragment may belong to the datagram e decided. A datagram
 * decided complete needed every fragment, so a late one has the extent of
 * one of them (or, for a datagram of many fragments, lies inside it with
 * the last one ending at its end). One decided from its first fragment
 * takes any later fragment inside it (n_ext 0). A first one carries the
 * same UDP header and length. Anything else is a new datagram that reuses
 * the IP id. */
static bool fits_decided(const struct frag_decided *e, const struct frag_in *in,
			 const uint8_t *f, const struct pkt_layout *l)
{
	bool seen = e->n_ext == 0;

	for (unsigned i = 0; i < e->n_ext && !seen; i++)
		seen = e->ext[i].off == in->off && e->ext[i].len == in->data_len;
	if (!seen || (in->last ? in->end != e->end : in->end >= e->end))
		return false;
	return !in->first ||
	       (in->data_len == e->first_len && memcmp(e->udp_hdr, f + l->l4_off, UDP_HLEN) == 0);
}

/* ---- sources -------------------------------------------------------------- */

static void bucket_unlink(struct frag_table *t, struct frag_source *s)
{
	if (s->bprev != NONE)
		t->srcs[s->bprev].bnext = s->bnext;
	else
		t->bucket[s->count] = s->bnext;
	if (s->bnext != NONE)
		t->srcs[s->bnext].bprev = s->bprev;
	else
		t->bucket_tail[s->count] = s->bprev;
}

/* At the tail of bucket s->count: a bucket lists its sources in the order
 * they reached the count, so eviction among equals takes the one that got
 * there first (its datagrams are the oldest; a new datagram has had the
 * longest to complete once it is at a bucket's head). */
static void bucket_link(struct frag_table *t, struct frag_source *s)
{
	const uint32_t id = (uint32_t)(s - t->srcs), tail = t->bucket_tail[s->count];

	s->bprev = tail;
	s->bnext = NONE;
	if (tail != NONE)
		t->srcs[tail].bnext = id;
	else
		t->bucket[s->count] = id;
	t->bucket_tail[s->count] = id;
	if (s->count > t->max_count)
		t->max_count = s->count;
}

/* Frees a source entry that holds nothing (src_get() made it, no datagram came). */
static void src_put_back(struct frag_table *t, uint32_t sid)
{
	struct frag_source *s = &t->srcs[sid];

	if (s->count)
		return;
	ix_remove(t, IX_SRC, sid);
	s->bnext = t->src_free;
	t->src_free = sid;
}

/* The source entry of key's /32 or /64, created if need be; NONE when its
 * index has no slot. */
static uint32_t src_get(struct frag_table *t, const struct frag_key *key)
{
	struct frag_key k = { .family = key->family };
	struct frag_source *s;
	uint32_t hash, id;

	memcpy(k.src, key->src, key->family == AF_INET ? 4 : 8);
	hash = (uint32_t)callid_hash((const uint8_t *)&k, sizeof(k), t->lim.hash_seed);
	id = ix_find(t, IX_SRC, &k, hash);
	if (id != NONE || t->src_free == NONE)
		return id;
	id = t->src_free;
	s = &t->srcs[id];
	s->key = k;
	s->hash = hash;
	if (!ix_insert(t, IX_SRC, id))
		return NONE;
	t->src_free = s->bnext;
	s->count = 0;
	s->head = s->tail = NONE;
	return id;
}

static void src_attach(struct frag_table *t, struct frag_datagram *d, uint32_t sid)
{
	struct frag_source *s = &t->srcs[sid];
	const uint32_t id = (uint32_t)(d - t->dg);

	if (s->count)
		bucket_unlink(t, s);
	s->count++;
	bucket_link(t, s);
	d->src = sid;
	d->sprev = s->tail;
	d->snext = NONE;
	if (s->tail != NONE)
		t->dg[s->tail].snext = id;
	else
		s->head = id;
	s->tail = id;
}

static void src_detach(struct frag_table *t, struct frag_datagram *d)
{
	struct frag_source *s = &t->srcs[d->src];

	if (d->sprev != NONE)
		t->dg[d->sprev].snext = d->snext;
	else
		s->head = d->snext;
	if (d->snext != NONE)
		t->dg[d->snext].sprev = d->sprev;
	else
		s->tail = d->sprev;
	bucket_unlink(t, s);
	if (t->bucket[s->count] == NONE && t->max_count == s->count)
		t->max_count--; /* s was the last at the top; it lands one below */
	s->count--;
	if (s->count)
		bucket_link(t, s);
	else
		src_put_back(t, d->src);
}

/* ---- datagrams in flight ---------------------------------------------------- */

static bool dg_partial(const struct frag_datagram *d)
{
	return !d->have_first || d->n_frames == 1;
}

static bool dg_expired(const struct frag_table *t, const struct frag_datagram *d)
{
	return t->now_ms - d->created_ms >= (d->list ? t->lim.timeout_ms : t->lim.partial_ms);
}

static void age_unlink(struct frag_table *t, struct frag_datagram *d)
{
	if (d->prev != NONE)
		t->dg[d->prev].next = d->next;
	else
		t->oldest[d->list] = d->next;
	if (d->next != NONE)
		t->dg[d->next].prev = d->prev;
	else
		t->newest[d->list] = d->prev;
}

static void age_append(struct frag_table *t, struct frag_datagram *d, uint8_t list)
{
	const uint32_t id = (uint32_t)(d - t->dg);

	d->list = list;
	d->prev = t->newest[list];
	d->next = NONE;
	if (t->newest[list] != NONE)
		t->dg[t->newest[list]].next = id;
	else
		t->oldest[list] = id;
	t->newest[list] = id;
}

static void dg_release(struct frag_table *t, struct frag_datagram *d)
{
	const uint32_t id = (uint32_t)(d - t->dg);

	ix_remove(t, IX_DG, id);
	age_unlink(t, d);
	src_detach(t, d);
	d->state = FRAG_DG_FREE;
	d->n_frames = 0;
	d->used = d->covered = 0;
	d->have_first = d->have_last = false;
	d->payload = NULL;
	d->payload_len = 0;
	d->prev = NONE;
	d->next = t->free_head;
	t->free_head = id;
	t->n_datagrams--;
}

/* Timed out: a fragment is missing (or, COMPLETE, the caller never decided). */
static void dg_expire(struct frag_table *t, struct frag_datagram *d)
{
	if (d->state == FRAG_DG_HELD) {
		t->c.timeouts++;
		t->c.timeout_frames += d->n_frames;
		t->pending_timeouts++;
		if (!d->list)
			t->c.result[FRAG_RESULT_PARTIAL_TIMEOUT]++;
	} else {
		t->c.undecided_expired++;
	}
	dg_release(t, d);
}

/* Dropped for result r: its frames go, and its later fragments get r for
 * as long as the datagram could still have been reassembled. */
static void dg_drop(struct frag_table *t, struct frag_datagram *d, enum frag_result r)
{
	t->c.dropped_frames += d->n_frames;
	dec_put(t, &d->key, d->hash, r, t->lim.timeout_ms);
	dg_release(t, d);
}

/* Drops source sid's oldest incomplete datagram to make room, counted
 * under r; false when it has none (all wait for frag_decide()). At most
 * max_per_source steps. */
static bool evict_from(struct frag_table *t, uint32_t sid, enum frag_result r)
{
	if (sid == NONE)
		return false;
	for (uint32_t id = t->srcs[sid].head; id != NONE; id = t->dg[id].snext) {
		struct frag_datagram *d = &t->dg[id];
		if (d->state != FRAG_DG_HELD)
			continue;
		t->c.result[r]++;
		t->c.evicted_frames += d->n_frames;
		dg_release(t, d);
		return true;
	}
	return false;
}

/* A fresh slot for in's key, or NULL: no index slot, or nothing that may
 * go (every datagram of the heaviest source, or of this one at its bound,
 * waits for frag_decide()). Room comes from, in this order: a free slot;
 * for a source at its bound, its own oldest incomplete datagram; an
 * expired datagram; the heaviest source's oldest incomplete datagram. */
static struct frag_datagram *dg_new(struct frag_table *t, const struct frag_in *in)
{
	struct frag_datagram *d;
	uint32_t id, sid = src_get(t, &in->key);

	if (sid == NONE)
		return NULL;
	if (t->srcs[sid].count >= t->lim.max_per_source &&
	    !evict_from(t, sid, FRAG_RESULT_SOURCE_LIMIT))
		return NULL;
	for (unsigned list = 0; list < 2 && t->free_head == NONE; list++)
		if (t->oldest[list] != NONE && dg_expired(t, &t->dg[t->oldest[list]]))
			dg_expire(t, &t->dg[t->oldest[list]]);
	if (t->free_head == NONE &&
	    !evict_from(t, t->bucket[t->max_count], FRAG_RESULT_EVICTED)) {
		src_put_back(t, sid);
		return NULL;
	}
	/* an eviction may have freed sid (it took the source's last datagram) */
	if (t->srcs[sid].count == 0 && (sid = src_get(t, &in->key)) == NONE)
		return NULL;
	id = t->free_head;
	d = &t->dg[id];
	d->key = in->key;
	d->hash = in->hash;
	if (!ix_insert(t, IX_DG, id)) {
		src_put_back(t, sid);
		return NULL;
	}
	t->free_head = d->next;
	d->state = FRAG_DG_HELD;
	d->created_ms = t->now_ms;
	d->end = d->l4_rel = 0;
	age_append(t, d, 0);
	src_attach(t, d, sid);
	t->n_datagrams++;
	return d;
}

/* The first stored fragment whose offset is at least off (binary search:
 * the frames are sorted and disjoint). */
static uint32_t lower_bound(const struct frag_datagram *d, uint32_t off)
{
	uint32_t lo = 0, hi = d->n_frames;

	while (lo < hi) {
		const uint32_t mid = lo + (hi - lo) / 2;
		if (d->frames[mid].off < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* DUPLICATE (same extent, and same bytes when `bytes`), OVERLAP, or HELD
 * with *pos where the fragment goes. */
static enum frag_result place(const struct frag_datagram *d, const uint8_t *f,
			      const struct frag_in *in, bool bytes, uint32_t *pos)
{
	const uint32_t p = lower_bound(d, in->off);

	*pos = p;
	if (p < d->n_frames) {
		const struct frag_frame *n = &d->frames[p];
		if (n->off == in->off && n->data_len == in->data_len)
			return !bytes || memcmp(n->frame + n->data_off, f + in->data_off,
						in->data_len) == 0 ? FRAG_RESULT_DUPLICATE
								   : FRAG_RESULT_OVERLAP;
		if (n->off < in->end)
			return FRAG_RESULT_OVERLAP;
	}
	if (p > 0) {
		const struct frag_frame *b = &d->frames[p - 1];
		if ((uint32_t)b->off + b->data_len > in->off)
			return FRAG_RESULT_OVERLAP;
	}
	return FRAG_RESULT_HELD;
}

/* The datagram's end as far as it is known: from the last fragment or from
 * the first fragment's UDP length, which must agree. */
static enum frag_result check_end(const struct frag_datagram *d, const struct frag_in *in)
{
	const bool known = d->have_first || d->have_last;
	const uint32_t top = d->n_frames ? (uint32_t)d->frames[d->n_frames - 1].off +
						   d->frames[d->n_frames - 1].data_len
					 : 0;

	if (in->first && (known ? in->total != d->end : top >= in->total))
		return FRAG_RESULT_BAD; /* the UDP length disagrees with the data */
	if (in->last) {
		if (d->have_last || (known && in->end != d->end) || top > in->end)
			return FRAG_RESULT_BAD; /* a second end, or data past it */
	} else if (known && in->end >= d->end) {
		return FRAG_RESULT_BAD; /* a middle fragment at or past the end */
	}
	return FRAG_RESULT_HELD;
}

/* HELD when the fragment may join d (at *pos), else why not. */
static enum frag_result dg_check(const struct frag_table *t, const struct frag_datagram *d,
				 const uint8_t *f, const struct frag_in *in, uint32_t *pos)
{
	const uint32_t need = (in->frame_len + FRAG_FRAME_ROOM + 7) & ~7u;
	enum frag_result r;

	r = place(d, f, in, true, pos);
	if (r != FRAG_RESULT_HELD)
		return r;
	if (d->n_frames >= t->lim.max_fragments)
		return FRAG_RESULT_TOO_MANY_FRAGMENTS;
	if (in->frame_len > FRAG_FRAME_MAX || in->end > t->lim.max_datagram_bytes ||
	    (in->first && in->total > t->lim.max_datagram_bytes))
		return FRAG_RESULT_TOO_BIG;
	r = check_end(d, in);
	if (r != FRAG_RESULT_HELD)
		return r;
	if (d->used + need > t->store_bytes)
		return FRAG_RESULT_TOO_BIG; /* headers beyond the storage budget */
	return FRAG_RESULT_HELD;
}

static enum frag_result dg_add(struct frag_table *t, struct frag_datagram *d, const uint8_t *f,
			       const struct pkt_layout *l, const struct frag_in *in)
{
	const uint32_t need = (in->frame_len + FRAG_FRAME_ROOM + 7) & ~7u;
	struct frag_frame *fr;
	enum frag_result r;
	uint32_t pos;

	r = dg_check(t, d, f, in, &pos);
	if (r != FRAG_RESULT_HELD)
		return r;

	/* arrival order: the frames from pos on move up one */
	for (uint32_t i = 0; i < d->n_frames; i++)
		d->order[i] = (uint16_t)(d->order[i] + (d->order[i] >= pos));
	d->order[d->n_frames] = (uint16_t)pos;
	memmove(&d->frames[pos + 1], &d->frames[pos], (d->n_frames - pos) * sizeof(*fr));
	fr = &d->frames[pos];
	fr->frame = d->store + d->used;
	memcpy(fr->frame, f, in->frame_len);
	fr->len = (uint16_t)in->frame_len;
	fr->cap = (uint16_t)(in->frame_len + FRAG_FRAME_ROOM);
	fr->off = (uint16_t)in->off;
	fr->data_len = (uint16_t)in->data_len;
	fr->data_off = (uint16_t)in->data_off;
	fr->l = *l;
	d->used += need;
	d->n_frames++;
	d->covered += in->data_len;
	if (in->first) {
		d->have_first = true;
		d->end = (uint16_t)in->total;
		d->l4_rel = (uint16_t)in->l4_rel;
		memcpy(d->udp_hdr, f + l->l4_off, UDP_HLEN);
	}
	if (in->last) {
		d->have_last = true;
		d->end = (uint16_t)in->end;
	}
	if (!d->list && !dg_partial(d)) { /* both kinds in: the full lifetime */
		age_unlink(t, d);
		age_append(t, d, 1);
	}
	/* disjoint fragments inside [0, end) covering end bytes cover it all */
	if (d->have_first && d->have_last && d->covered == d->end)
		return FRAG_RESULT_COMPLETE;
	return FRAG_RESULT_HELD;
}

static void reassemble(struct frag_table *t, struct frag_datagram *d)
{
	for (uint32_t i = 0; i < d->n_frames; i++) {
		const struct frag_frame *fr = &d->frames[i];
		memcpy(t->reasm + fr->off, fr->frame + fr->data_off, fr->data_len);
	}
	d->sport = rd16(d->udp_hdr);
	d->dport = rd16(d->udp_hdr + 2);
	d->udp_len = rd16(d->udp_hdr + 4);
	d->payload = t->reasm + d->l4_rel + UDP_HLEN;
	d->payload_len = (uint16_t)(d->udp_len - UDP_HLEN);
	d->state = FRAG_DG_COMPLETE;
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
		r = dg_check(t, d, f, in, &pos);
		if (r != FRAG_RESULT_HELD) {
			if (r != FRAG_RESULT_DUPLICATE)
				dg_drop(t, d, r);
			return r;
		}
	} else if (in->frame_len > FRAG_FRAME_MAX || in->total > t->lim.max_datagram_bytes) {
		/* as if it had been stored: the datagram is dropped */
		dec_put(t, &in->key, in->hash, FRAG_RESULT_TOO_BIG, t->lim.timeout_ms);
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

	e = dec_find(t, &in.key, in.hash);
	if (e && e->result != FRAG_RESULT_DECIDED)
		return tally(t, (enum frag_result)e->result); /* the datagram was dropped */
	if (e && fits_decided(e, &in, frame, l)) {
		memcpy(t->decision, e->decision, e->len);
		t->decision_len = e->len;
		return tally(t, FRAG_RESULT_DECIDED);
	}
	if (e) {
		dec_kill(t, e);
		t->c.decided_replaced++;
	}

	id = ix_find(t, IX_DG, &in.key, in.hash);
	if (id != NONE) {
		d = &t->dg[id];
		if (dg_expired(t, d)) {
			dg_expire(t, d);
			d = NULL;
		}
	}
	if (d && d->state == FRAG_DG_COMPLETE) {
		/* waiting for frag_decide(); its frames may be rewritten already */
		uint32_t pos;
		r = place(d, frame, &in, false, &pos);
		return tally(t, r == FRAG_RESULT_DUPLICATE ? r : FRAG_RESULT_BAD);
	}
	/* a first fragment that does not complete the datagram: the caller
	 * may decide from it at once, without a slot */
	if (in.first && !hold &&
	    !(d && (d->have_first || (d->have_last && d->covered + in.data_len == in.total))))
		return tally(t, offer_first(t, d, frame, l, &in, done));
	if (!d && !(d = dg_new(t, &in)))
		return tally(t, FRAG_RESULT_TABLE_FULL);

	r = dg_add(t, d, frame, l, &in);
	if (r == FRAG_RESULT_COMPLETE) {
		reassemble(t, d);
		if (done)
			*done = d;
	} else if (r != FRAG_RESULT_HELD && r != FRAG_RESULT_DUPLICATE) {
		dg_drop(t, d, r);
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
		dg_drop(t, d, FRAG_RESULT_BAD);
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
	e = dec_put(t, &d->key, d->hash, FRAG_RESULT_DECIDED, t->lim.decided_ms);
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
		dg_release(t, d);
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
			if (!dg_expired(t, d))
				break;
			dg_expire(t, d);
		}
	for (uint32_t i = 0; i < FRAG_EXPIRE_BATCH && t->n_decided; i++) {
		struct frag_decided *e = &t->dec[t->dec_tail];
		if (e->live) {
			if (e->expires_ms > t->now_ms)
				break;
			dec_kill(t, e);
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
