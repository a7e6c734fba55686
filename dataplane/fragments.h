/* IP fragments, step 7 of the per-packet path (docs/design.md, docs/fragments.md):
 * a first fragment that carries the SIP header block is decided at once
 * and only the decision is remembered, for the later fragments; otherwise a
 * bounded, aged table collects the fragments of the UDP datagram,
 * reassembles its payload once every fragment is in (so the pipeline can
 * scan the SIP message), and remembers the decision for fragments that
 * arrive after it. The fragments themselves are forwarded as they came,
 * each rewritten on its own (rewrite_forward() on every stored frame with
 * its stored layout). One source (a /32 or a /64) holds a bounded share of
 * the table; a full table evicts the heaviest source's oldest datagram.
 *
 * Pure C: all memory is allocated by frag_table_init(); frag_add(),
 * frag_decide() and frag_expire() allocate nothing, make no system call,
 * run bounded loops and are total over any frame and layout.
 *
 * One table per worker; nothing here is thread-safe. Time is the caller's
 * monotonic milliseconds; a time that goes backwards counts as the latest
 * time seen. */
#ifndef SIPHON_FRAGMENTS_H
#define SIPHON_FRAGMENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "siphon/packet.h"

#define FRAG_FRAME_MAX    9216u /* the longest frame (up to the IP packet's end) stored */
#define FRAG_FRAME_ROOM   64u   /* spare bytes after each stored frame, for rewrite_forward() */
#define FRAG_HDR_BUDGET   128u  /* storage per fragment for its L2/L3 headers (see docs) */
#define FRAG_DECISION_MAX 64u   /* bytes of an opaque decision */
#define FRAG_PROBE_MAX    32u   /* hash probes before a key counts as not storable */
#define FRAG_EXPIRE_BATCH 1024u /* entries frag_expire() reclaims per call, per kind */
#define FRAG_FRAGMENTS_LIMIT 1024u /* the largest max_fragments accepted */
#define FRAG_KIND_EVENT   2u    /* frag_result.def: an event, not a result of frag_add() */

enum frag_result {
#define FRAG_RESULT(id, name, drop, help) FRAG_RESULT_##id,
#include "frag_result.def"
#undef FRAG_RESULT
	FRAG_RESULT__COUNT
};

/* A zero field takes its default. */
struct frag_limits {
	uint32_t max_datagrams;      /* datagrams in flight (held or complete): 256, 1..65536 */
	uint32_t max_fragments;      /* per datagram: 64, 1..FRAG_FRAGMENTS_LIMIT */
	uint32_t max_datagram_bytes; /* fragmentable part (UDP header + payload): 65535, 16..65535 */
	uint32_t timeout_ms;         /* first fragment in to datagram complete: 2000 */
	uint32_t decided_ms;         /* lifetime of a decided entry: 5000 */
	uint32_t max_decided;        /* decided entries: 4096, 1..1<<22 */
	uint64_t hash_seed;          /* for the key hash (the config's hash_seed is fine) */
	uint32_t max_per_source;     /* datagrams one /32 or /64 holds: 16, 1..max_datagrams */
	uint32_t partial_ms;         /* lifetime of a datagram with only its first fragment or
				      * only later ones: 500, at most timeout_ms */
};

#define FRAG_LIMITS_DEFAULT { 256, 64, 65535, 2000, 5000, 4096, 0, 16, 500 }

/* What makes fragments one datagram: IPv4 (src, dst, 16-bit id, protocol)
 * or IPv6 (src, dst, 32-bit id). Addresses are left-aligned, zero-padded. */
struct frag_key {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t proto;  /* IPv4 protocol; 0 for IPv6 */
	uint16_t zero;
	uint32_t id;
	uint8_t src[16];
	uint8_t dst[16];
};

/* One stored fragment: a copy of the frame as it came, cut at the IP
 * packet's end (Ethernet padding dropped), and the layout pkt_parse() gave
 * for it, valid for the copy. The caller may rewrite the copy in place
 * (rewrite_forward(frame, &len, cap, &l, ...)) once the datagram is
 * COMPLETE: the table no longer reads its bytes. */
struct frag_frame {
	uint8_t *frame;
	uint16_t len;
	uint16_t cap;      /* len + FRAG_FRAME_ROOM */
	uint16_t off;      /* the fragment's data offset in the datagram */
	uint16_t data_len; /* its data bytes */
	uint16_t data_off; /* where its data starts in frame */
	struct pkt_layout l;
};

enum frag_state { FRAG_DG_FREE, FRAG_DG_HELD, FRAG_DG_COMPLETE };

struct frag_datagram {
	/* Set when frag_add() returns COMPLETE; valid until frag_decide()
	 * (or until frag_expire() reclaims a datagram never decided). The
	 * payload lives in one buffer per table: the next COMPLETE reuses it.
	 * After FIRST: the UDP header fields and payload (the bytes of the
	 * first fragment after the UDP header, in the caller's frame) are the
	 * first fragment's, frames are the later fragments held before it
	 * (often none); valid until the next call on the table. */
	struct frag_key key;
	uint8_t udp_hdr[8];      /* the UDP header, as the first fragment carries it */
	uint16_t sport, dport;   /* from udp_hdr, host order */
	uint16_t udp_len;        /* the UDP length field: 8 + payload_len */
	const uint8_t *payload;  /* the reassembled UDP payload: the bytes after the UDP header */
	uint16_t payload_len;
	uint16_t n_frames;
	struct frag_frame *frames; /* n_frames in offset order: frames[0] is the first fragment */
	uint16_t *order;           /* frames[order[i]] is the i-th to arrive: forward them so */

	/* the table's own */
	uint64_t created_ms;
	uint32_t hash;
	uint32_t prev, next; /* age list (oldest first); next is also the free list */
	uint32_t src;        /* its source entry */
	uint32_t sprev, snext; /* the source's datagrams, oldest first */
	uint8_t list;        /* age list: 0 partial (only the first, or no first), 1 full */
	uint32_t used;       /* storage bytes used */
	uint32_t covered;    /* data bytes held */
	uint16_t end;        /* the datagram's end (fragmentable part), once known */
	uint16_t l4_rel;     /* the UDP header's offset in the fragmentable part */
	uint8_t state;       /* enum frag_state */
	bool have_first, have_last;
	uint8_t *store;      /* this slot's frame storage */
};

struct frag_counters {
	uint64_t result[FRAG_RESULT__COUNT]; /* every frag_add() by its result */
	uint64_t timeouts;          /* datagrams dropped for a missing fragment */
	uint64_t timeout_frames;    /* the frames they held */
	uint64_t dropped_frames;    /* held frames of datagrams dropped for overlap, too_big, ... */
	uint64_t undecided_expired; /* COMPLETE datagrams never given to frag_decide() */
	uint64_t decided;           /* frag_decide() calls */
	uint64_t decided_expired;   /* decided entries that aged out */
	uint64_t decided_evicted;   /* decided entries pushed out before their time (table full) */
	uint64_t decided_replaced;  /* decided entries a fragment contradicted (IP id reuse) */
	uint64_t decided_lost;      /* decisions not stored: no free hash slot */
	uint64_t evicted_frames;    /* held frames of datagrams evicted (evicted, source_limit) */
};

struct frag_decided; /* fragments.c */
struct frag_source;  /* fragments.c */

struct frag_table {
	struct frag_limits lim;
	struct frag_counters c;
	uint32_t n_datagrams; /* in flight */
	uint32_t n_decided;   /* entries in the decided ring, live or not */
	size_t mem_bytes;     /* everything frag_table_init() allocated */

	/* the table's own */
	struct frag_datagram *dg;
	struct frag_frame *frames;
	uint16_t *order;
	uint8_t *store;
	uint32_t store_bytes; /* per datagram */
	uint32_t *dg_index, dg_mask;
	uint32_t free_head, oldest[2], newest[2]; /* the age lists: partial, full */
	struct frag_source *srcs;
	uint32_t *src_index, src_mask, src_free;
	uint32_t *bucket, *bucket_tail; /* sources holding c datagrams, in the order they got there */
	uint32_t max_count; /* the most datagrams a source holds */
	struct frag_decided *dec;
	uint32_t *dec_index, dec_mask;
	uint32_t dec_tail;
	uint8_t *reasm; /* the payload of the latest COMPLETE */
	uint8_t decision[FRAG_DECISION_MAX];
	size_t decision_len;
	uint64_t now_ms;
	unsigned pending_timeouts; /* reclaimed by frag_add(), reported by frag_expire() */
	/* the first fragment FIRST offered, for frag_decide() */
	struct frag_datagram *offered; /* NULL, &first_view or the slot of its held fragments */
	struct frag_datagram first_view;
	uint16_t first_len;            /* its data bytes */
};

/* 0, -EINVAL (a limit out of range) or -ENOMEM. lim NULL: the defaults. On
 * an error the table is left zeroed (frag_table_free() is still safe). */
int frag_table_init(struct frag_table *t, const struct frag_limits *lim);
void frag_table_free(struct frag_table *t);

/* Files one fragment: frame[0..len) with the layout pkt_parse() gave for
 * it (PKT_STATUS_OK with l->is_fragment, or PKT_STATUS_FRAGMENT). The
 * frame is copied; the caller keeps its buffer.
 *
 *   HELD      stored, the datagram misses fragments
 *   COMPLETE  *done is the datagram (payload, UDP header, frames in offset
 *             order); process it, then call frag_decide(t, *done, ...)
 *   FIRST     the first fragment of a datagram not decided yet, that does
 *             not complete it: NOT stored. *done has its UDP header and
 *             payload prefix, and the later fragments held so far. Either
 *             decide now (forward (*done)->frames, then this frame, then
 *             frag_decide(t, *done, ...)), or frag_hold() it.
 *   DECIDED   the datagram was decided before: frag_decision() has the
 *             stored decision, rewrite this frame with it
 *   others    drops (frag_result_is_drop()); see frag_result.def
 *
 * *done is NULL unless COMPLETE or FIRST (done may be NULL). */
enum frag_result frag_add(struct frag_table *t, const uint8_t *frame, size_t len,
			  const struct pkt_layout *l, uint64_t now_ms, struct frag_datagram **done);

/* Right after FIRST, with the same frame: stores it to reassemble the
 * datagram (its header block did not end in it). HELD or a drop; the
 * FIRST is counted under this result instead. */
enum frag_result frag_hold(struct frag_table *t, const uint8_t *frame, size_t len,
			   const struct pkt_layout *l);

/* After DECIDED, until the next call on the table: the stored decision and
 * its length (NULL, 0 otherwise). */
const uint8_t *frag_decision(const struct frag_table *t, size_t *len);

/* Stores the caller's decision (opaque, at most FRAG_DECISION_MAX bytes;
 * more are cut) for datagram d, which frag_add() returned as COMPLETE or
 * FIRST (then right after it), and releases d: its frames and payload are
 * gone after this. Later fragments of d get DECIDED for decided_ms (after
 * FIRST: any that fits inside the datagram). Any other d is ignored. */
void frag_decide(struct frag_table *t, struct frag_datagram *d, const void *decision,
		 size_t decision_len);

/* Drops datagrams whose first fragment came timeout_ms or more ago and
 * decided entries past their lifetime, up to FRAG_EXPIRE_BATCH of each per
 * call. Returns the datagrams that timed out with a fragment missing
 * (including those frag_add() reclaimed since the last call): the caller
 * counts them as drops "fragment_timeout". */
unsigned frag_expire(struct frag_table *t, uint64_t now_ms);

/* "held", "overlap", ...: the counter names. Out-of-range values give "?". */
const char *frag_result_name(unsigned r);
const char *frag_result_help(unsigned r);
bool frag_result_is_drop(unsigned r);
bool frag_result_is_event(unsigned r); /* counted, never returned by frag_add() */

#endif
