/* The fragment table's indexes, decided entries and sources (frag_internal.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "frag_internal.h"

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
uint32_t frag_ix_find(const struct frag_table *t, enum ix_kind k, const struct frag_key *key,
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
bool frag_ix_insert(struct frag_table *t, enum ix_kind k, uint32_t id)
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
void frag_ix_remove(struct frag_table *t, enum ix_kind k, uint32_t id)
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

void frag_dec_kill(struct frag_table *t, struct frag_decided *e)
{
	if (!e->live)
		return;
	frag_ix_remove(t, IX_DEC, (uint32_t)(e - t->dec));
	e->live = false;
}

/* The live, unexpired entry of key, or NULL. */
struct frag_decided *frag_dec_find(struct frag_table *t, const struct frag_key *key,
				     uint32_t hash)
{
	const uint32_t id = frag_ix_find(t, IX_DEC, key, hash);
	struct frag_decided *e;

	if (id == NONE)
		return NULL;
	e = &t->dec[id];
	if (e->expires_ms <= t->now_ms) {
		frag_dec_kill(t, e);
		t->c.decided_expired++;
		return NULL;
	}
	return e;
}

/* A new entry for key (replacing one the key had), living lifetime_ms; the
 * ring's oldest entry makes room when it is full. NULL when the index has
 * no slot for it. */
struct frag_decided *frag_dec_put(struct frag_table *t, const struct frag_key *key,
				    uint32_t hash, enum frag_result result, uint32_t lifetime_ms)
{
	const uint32_t max = t->lim.max_decided;
	const uint32_t old = frag_ix_find(t, IX_DEC, key, hash);
	struct frag_decided *e;
	uint32_t id;

	if (old != NONE)
		frag_dec_kill(t, &t->dec[old]);
	if (t->n_decided == max) {
		e = &t->dec[t->dec_tail];
		if (e->live) {
			if (e->expires_ms > t->now_ms)
				t->c.decided_evicted++;
			else
				t->c.decided_expired++;
			frag_dec_kill(t, e);
		}
		t->dec_tail = (t->dec_tail + 1) % max;
		t->n_decided--;
	}
	id = (t->dec_tail + t->n_decided) % max;
	e = &t->dec[id];
	memset(e, 0, sizeof(*e));
	e->key = *key;
	e->hash = hash;
	if (!frag_ix_insert(t, IX_DEC, id)) {
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
bool frag_fits_decided(const struct frag_decided *e, const struct frag_in *in,
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

/* Frees a source entry that holds nothing (frag_src_get() made it, no datagram came). */
void frag_src_put_back(struct frag_table *t, uint32_t sid)
{
	struct frag_source *s = &t->srcs[sid];

	if (s->count)
		return;
	frag_ix_remove(t, IX_SRC, sid);
	s->bnext = t->src_free;
	t->src_free = sid;
}

/* The source entry of key's /32 or /64, created if need be; NONE when its
 * index has no slot. */
uint32_t frag_src_get(struct frag_table *t, const struct frag_key *key)
{
	struct frag_key k = { .family = key->family };
	struct frag_source *s;
	uint32_t hash, id;

	memcpy(k.src, key->src, key->family == AF_INET ? 4 : 8);
	hash = (uint32_t)callid_hash((const uint8_t *)&k, sizeof(k), t->lim.hash_seed);
	id = frag_ix_find(t, IX_SRC, &k, hash);
	if (id != NONE || t->src_free == NONE)
		return id;
	id = t->src_free;
	s = &t->srcs[id];
	s->key = k;
	s->hash = hash;
	if (!frag_ix_insert(t, IX_SRC, id))
		return NONE;
	t->src_free = s->bnext;
	s->count = 0;
	s->head = s->tail = NONE;
	return id;
}

void frag_src_attach(struct frag_table *t, struct frag_datagram *d, uint32_t sid)
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

void frag_src_detach(struct frag_table *t, struct frag_datagram *d)
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
		frag_src_put_back(t, d->src);
}
