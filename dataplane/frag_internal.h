/* What the parts of the fragment table share (fragments.c: one fragment,
 * set-up and names; frag_index.c: the indexes, decided entries and
 * sources; frag_datagram.c: datagrams in flight). Not for other users:
 * fragments.h is the interface. */
#ifndef SIPHON_FRAG_INTERNAL_H
#define SIPHON_FRAG_INTERNAL_H

#include "siphon/maglev.h" /* callid_hash(): XXH64 */

#include "fragments.h"
#include "siphon/bytes.h"
#include "rewrite.h"

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

struct frag_decided *frag_dec_find(struct frag_table *t, const struct frag_key *key, uint32_t hash);
void frag_dec_kill(struct frag_table *t, struct frag_decided *e);
struct frag_decided *frag_dec_put(struct frag_table *t, const struct frag_key *key, uint32_t hash,
				  enum frag_result result, uint32_t lifetime_ms);
bool frag_fits_decided(const struct frag_decided *e, const struct frag_in *in, const uint8_t *f,
		       const struct pkt_layout *l);
uint32_t frag_ix_find(const struct frag_table *t, enum ix_kind k, const struct frag_key *key,
		      uint32_t hash);
bool frag_ix_insert(struct frag_table *t, enum ix_kind k, uint32_t id);
void frag_ix_remove(struct frag_table *t, enum ix_kind k, uint32_t id);
void frag_src_attach(struct frag_table *t, struct frag_datagram *d, uint32_t sid);
void frag_src_detach(struct frag_table *t, struct frag_datagram *d);
uint32_t frag_src_get(struct frag_table *t, const struct frag_key *key);
void frag_src_put_back(struct frag_table *t, uint32_t sid);
enum frag_result frag_dg_add(struct frag_table *t, struct frag_datagram *d, const uint8_t *f,
			     const struct pkt_layout *l, const struct frag_in *in);
enum frag_result frag_dg_check(const struct frag_table *t, const struct frag_datagram *d,
			       const uint8_t *f, const struct frag_in *in, uint32_t *pos);
void frag_dg_drop(struct frag_table *t, struct frag_datagram *d, enum frag_result r);
void frag_dg_expire(struct frag_table *t, struct frag_datagram *d);
bool frag_dg_expired(const struct frag_table *t, const struct frag_datagram *d);
struct frag_datagram *frag_dg_new(struct frag_table *t, const struct frag_in *in);
void frag_dg_release(struct frag_table *t, struct frag_datagram *d);
enum frag_result frag_dg_place(const struct frag_datagram *d, const uint8_t *f,
			       const struct frag_in *in, bool bytes, uint32_t *pos);
void frag_dg_reassemble(struct frag_table *t, struct frag_datagram *d);

#endif
