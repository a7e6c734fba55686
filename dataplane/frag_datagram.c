/* The fragment table's datagrams in flight: slots, age lists, frames (frag_internal.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "frag_internal.h"

/* ---- datagrams in flight ---------------------------------------------------- */

static bool dg_partial(const struct frag_datagram *d)
{
	return !d->have_first || d->n_frames == 1;
}

bool frag_dg_expired(const struct frag_table *t, const struct frag_datagram *d)
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

void frag_dg_release(struct frag_table *t, struct frag_datagram *d)
{
	const uint32_t id = (uint32_t)(d - t->dg);

	frag_ix_remove(t, IX_DG, id);
	age_unlink(t, d);
	frag_src_detach(t, d);
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
void frag_dg_expire(struct frag_table *t, struct frag_datagram *d)
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
	frag_dg_release(t, d);
}

/* Dropped for result r: its frames go, and its later fragments get r for
 * as long as the datagram could still have been reassembled. */
void frag_dg_drop(struct frag_table *t, struct frag_datagram *d, enum frag_result r)
{
	t->c.dropped_frames += d->n_frames;
	frag_dec_put(t, &d->key, d->hash, r, t->lim.timeout_ms);
	frag_dg_release(t, d);
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
		frag_dg_release(t, d);
		return true;
	}
	return false;
}

/* A fresh slot for in's key, or NULL: no index slot, or nothing that may
 * go (every datagram of the heaviest source, or of this one at its bound,
 * waits for frag_decide()). Room comes from, in this order: a free slot;
 * for a source at its bound, its own oldest incomplete datagram; an
 * expired datagram; the heaviest source's oldest incomplete datagram. */
struct frag_datagram *frag_dg_new(struct frag_table *t, const struct frag_in *in)
{
	struct frag_datagram *d;
	uint32_t id, sid = frag_src_get(t, &in->key);

	if (sid == NONE)
		return NULL;
	if (t->srcs[sid].count >= t->lim.max_per_source &&
	    !evict_from(t, sid, FRAG_RESULT_SOURCE_LIMIT))
		return NULL;
	for (unsigned list = 0; list < 2 && t->free_head == NONE; list++)
		if (t->oldest[list] != NONE && frag_dg_expired(t, &t->dg[t->oldest[list]]))
			frag_dg_expire(t, &t->dg[t->oldest[list]]);
	if (t->free_head == NONE &&
	    !evict_from(t, t->bucket[t->max_count], FRAG_RESULT_EVICTED)) {
		frag_src_put_back(t, sid);
		return NULL;
	}
	/* an eviction may have freed sid (it took the source's last datagram) */
	if (t->srcs[sid].count == 0 && (sid = frag_src_get(t, &in->key)) == NONE)
		return NULL;
	id = t->free_head;
	d = &t->dg[id];
	d->key = in->key;
	d->hash = in->hash;
	if (!frag_ix_insert(t, IX_DG, id)) {
		frag_src_put_back(t, sid);
		return NULL;
	}
	t->free_head = d->next;
	d->state = FRAG_DG_HELD;
	d->created_ms = t->now_ms;
	d->end = d->l4_rel = 0;
	age_append(t, d, 0);
	frag_src_attach(t, d, sid);
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
enum frag_result frag_dg_place(const struct frag_datagram *d, const uint8_t *f,
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
enum frag_result frag_dg_check(const struct frag_table *t, const struct frag_datagram *d,
				 const uint8_t *f, const struct frag_in *in, uint32_t *pos)
{
	const uint32_t need = (in->frame_len + FRAG_FRAME_ROOM + 7) & ~7u;
	enum frag_result r;

	r = frag_dg_place(d, f, in, true, pos);
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

enum frag_result frag_dg_add(struct frag_table *t, struct frag_datagram *d, const uint8_t *f,
			       const struct pkt_layout *l, const struct frag_in *in)
{
	const uint32_t need = (in->frame_len + FRAG_FRAME_ROOM + 7) & ~7u;
	struct frag_frame *fr;
	enum frag_result r;
	uint32_t pos;

	r = frag_dg_check(t, d, f, in, &pos);
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

void frag_dg_reassemble(struct frag_table *t, struct frag_datagram *d)
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
