/* Fuzz harness over the fragment table (docs/fragments.md). The input
 * picks the table's limits and a UDP datagram (IPv4, IPv6, IPv6 with a
 * destination-options header in its fragmentable part), then a sequence of
 * 6-byte operations: a fragment of a regular cut, a random piece with a
 * right or wrong MF flag, a piece with a flipped byte or another UDP length,
 * a raw frame from the input, frag_expire(); time advances with every one.
 * Besides "no crash, no sanitizer report, no leak" it checks (abort() on a
 * breach):
 *   - every result is named; n_datagrams and n_decided stay within limits;
 *   - COMPLETE: frames in offset order, contiguous from 0, the first one
 *     first and the last one last, no more than max_fragments; the payload
 *     is their data after the UDP header, its length is the first
 *     fragment's UDP length - 8, and it is the original payload unless the
 *     datagram was fed altered pieces;
 *   - FIRST: the UDP header and payload prefix of the frame offered, held
 *     later fragments only, in a permutation for the order they came; it is
 *     decided at once, filed with frag_hold(), or left;
 *   - DECIDED: the decision stored for that datagram's key;
 *   - every frag_add() is counted once (frag_hold() recounts its FIRST);
 *     events are counted apart; frag_expire() reports every timeout once;
 *     in the end everything expires; no source holds more than its bound. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz_check.h"

#include "fragments.h"
#include "siphon/packet.h"


#define VARIANTS  3 /* IPv4, IPv6, IPv6 + destination options */
#define IDS       4
#define PAY_MAX   3000
#define FRAME_MAX 4096

static const uint8_t CLIENT4[4] = { 192, 0, 2, 7 }, VIP4[4] = { 198, 51, 100, 10 };
static const uint8_t CLIENT6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7 };
static const uint8_t VIP6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10 };

struct datagram {
	uint8_t b[8 + 8 + PAY_MAX]; /* [dest-opts] UDP header, payload */
	size_t len, l4_rel;
};

static struct datagram dg[VARIANTS];
static uint8_t payload[PAY_MAX];
static size_t payload_len;
static uint8_t frame[FRAME_MAX];
static struct frag_table t;
static bool tainted[VARIANTS][IDS], raw_seen;
static unsigned long adds, timeouts;

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void make_datagram(unsigned v)
{
	struct datagram *d = &dg[v];

	memset(d->b, 0, sizeof(d->b));
	d->l4_rel = v == 2 ? 8 : 0;
	if (v == 2) {
		d->b[0] = 17;
		d->b[2] = 1;
		d->b[3] = 4;
	}
	put16(d->b + d->l4_rel, 5062);
	put16(d->b + d->l4_rel + 2, 5060);
	put16(d->b + d->l4_rel + 4, (uint32_t)(8 + payload_len));
	put16(d->b + d->l4_rel + 6, 0x1234); /* not checked by the table */
	memcpy(d->b + d->l4_rel + 8, payload, payload_len);
	d->len = d->l4_rel + 8 + payload_len;
}

static uint32_t ip_id(unsigned v, unsigned id)
{
	return v == 0 ? 0x4000u + id : 0x60000000u + v * 16 + id;
}

/* The frame of bytes [off, off + len) of `src` as fragment (v, id). */
static size_t make_frag(unsigned v, unsigned id, const uint8_t *src, size_t off, size_t len,
			bool mf)
{
	size_t o = 14;

	memset(frame, 0, 64);
	put16(frame + 12, v == 0 ? 0x0800 : 0x86DD);
	if (v == 0) {
		frame[o] = 0x45;
		put16(frame + o + 2, (uint32_t)(20 + len));
		put16(frame + o + 4, ip_id(v, id));
		put16(frame + o + 6, (mf ? 0x2000u : 0) | (uint32_t)(off / 8));
		frame[o + 8] = 64;
		frame[o + 9] = 17;
		memcpy(frame + o + 12, CLIENT4, 4);
		frame[o + 15] = (uint8_t)(CLIENT4[3] + (id & 1)); /* two sources */
		memcpy(frame + o + 16, VIP4, 4);
		o += 20;
	} else {
		const uint32_t x = ip_id(v, id);
		frame[o] = 0x60;
		put16(frame + o + 4, (uint32_t)(8 + len));
		frame[o + 6] = 44;
		frame[o + 7] = 64;
		memcpy(frame + o + 8, CLIENT6, 16);
		frame[o + 23] = (uint8_t)(CLIENT6[15] + (id & 1)); /* one /64 */
		memcpy(frame + o + 24, VIP6, 16);
		o += 40;
		frame[o] = v == 2 ? 60 : 17;
		put16(frame + o + 2, (uint32_t)off | (mf ? 1u : 0));
		frame[o + 4] = (uint8_t)(x >> 24);
		frame[o + 5] = (uint8_t)(x >> 16);
		frame[o + 6] = (uint8_t)(x >> 8);
		frame[o + 7] = (uint8_t)x;
		o += 8;
	}
	memcpy(frame + o, src + off, len);
	return o + len;
}

static void check_complete(const struct frag_datagram *d, int v, int id)
{
	static uint8_t data[65536];
	const struct frag_frame *f0 = &d->frames[0], *fl;
	uint32_t end = 0;

	CHECK(d->n_frames >= 2 && d->n_frames <= t.lim.max_fragments);
	fl = &d->frames[d->n_frames - 1];
	CHECK(f0->off == 0 && f0->l.first_fragment && f0->l.l4_proto == PKT_PROTO_UDP);
	CHECK(!fl->l.more_fragments);
	for (unsigned i = 0; i < d->n_frames; i++) {
		const struct frag_frame *f = &d->frames[i];
		CHECK(f->off == end && f->data_len > 0);
		CHECK(f->data_off + f->data_len == f->len && f->cap == f->len + FRAG_FRAME_ROOM);
		CHECK(i + 1 == d->n_frames || f->l.more_fragments);
		memcpy(data + end, f->frame + f->data_off, f->data_len);
		end += f->data_len;
	}
	CHECK(end <= t.lim.max_datagram_bytes);
	/* the UDP length of the first fragment gives the payload's length */
	CHECK(d->udp_len == rd16(f0->frame + f0->l.l4_off + 4));
	CHECK(d->payload_len + 8u == d->udp_len);
	CHECK(memcmp(d->udp_hdr, f0->frame + f0->l.l4_off, 8) == 0);
	CHECK(f0->l.l4_off - f0->data_off + 8u + d->payload_len == end);
	CHECK(memcmp(d->payload, data + (f0->l.l4_off - f0->data_off) + 8, d->payload_len) == 0);
	if (v >= 0 && !tainted[v][id] && !raw_seen) {
		CHECK(d->payload_len == payload_len);
		CHECK(memcmp(d->payload, payload, payload_len) == 0);
	}
}

struct decision {
	int v, id;
	uint32_t serial;
};

static void check_first(const struct frag_datagram *d, const uint8_t *f,
			const struct pkt_layout *l)
{
	bool seen[FRAG_FRAGMENTS_LIMIT] = { false };

	CHECK(d->payload == f + l->l4_off + 8);
	CHECK(d->udp_len == rd16(f + l->l4_off + 4) && d->dport == rd16(f + l->l4_off + 2));
	CHECK((size_t)l->l4_off + 8 + d->payload_len == (size_t)l->l3_off + l->l3_len);
	CHECK(d->payload_len + 8u < d->udp_len);
	CHECK(d->n_frames < t.lim.max_fragments);
	for (unsigned i = 0; i < d->n_frames; i++) {
		CHECK(d->frames[i].off > 0);
		CHECK(d->order[i] < d->n_frames && !seen[d->order[i]]);
		seen[d->order[i]] = true;
	}
}

/* Files one frame, checks the result; v < 0 for a raw frame. */
static void feed(const uint8_t *f, size_t len, uint64_t now, int v, int id, uint8_t how)
{
	static uint32_t serial;
	struct frag_datagram *d = NULL;
	struct pkt_layout l;
	const enum pkt_status st = pkt_parse(f, len, &l);
	enum frag_result r;
	const uint8_t *dec;
	size_t dlen;

	if (!(st == PKT_STATUS_OK && l.is_fragment) && st != PKT_STATUS_FRAGMENT)
		return;
	r = frag_add(&t, f, len, &l, now, &d);
	adds++;
	CHECK((unsigned)r < FRAG_RESULT__COUNT && !frag_result_is_event(r));
	CHECK((r == FRAG_RESULT_COMPLETE || r == FRAG_RESULT_FIRST) == (d != NULL));
	if (r == FRAG_RESULT_FIRST) {
		check_first(d, f, &l);
		switch (how % 3) {
		case 0: /* the header block was not in it: reassemble */
			r = frag_hold(&t, f, len, &l);
			CHECK(!frag_result_is_event(r) && r != FRAG_RESULT_FIRST &&
			      r != FRAG_RESULT_COMPLETE && r != FRAG_RESULT_DECIDED);
			break;
		case 1: { /* decided at once */
			const struct decision mine = { v, id, serial++ };
			frag_decide(&t, d, &mine, sizeof(mine));
			break;
		}
		default: /* neither: the held fragments stay */
			break;
		}
		return;
	}
	CHECK(t.n_datagrams <= t.lim.max_datagrams && t.n_decided <= t.lim.max_decided);
	CHECK(t.max_count <= t.lim.max_per_source);
	if (v < 0)
		raw_seen = true; /* it may have filed anything under any key */
	dec = frag_decision(&t, &dlen);
	CHECK((dec != NULL) == (r == FRAG_RESULT_DECIDED && dlen > 0));
	CHECK(dlen <= FRAG_DECISION_MAX);
	if (r == FRAG_RESULT_DECIDED && !raw_seen && dlen == sizeof(struct decision)) {
		struct decision x;
		memcpy(&x, dec, sizeof(x));
		CHECK(x.v == v && x.id == id);
	}
	if (r != FRAG_RESULT_COMPLETE)
		return;
	check_complete(d, v, id);
	switch (how % 4) {
	case 0: /* never decided: frag_expire() reclaims it */
		break;
	case 1: { /* a short or oversized decision */
		uint8_t blob[FRAG_DECISION_MAX + 8];
		memset(blob, how, sizeof(blob));
		frag_decide(&t, d, blob, how & 4 ? 0 : sizeof(blob));
		break;
	}
	default: {
		const struct decision mine = { v, id, serial++ };
		frag_decide(&t, d, &mine, sizeof(mine));
		break;
	}
	}
	CHECK(d->state != FRAG_DG_COMPLETE || how % 4 == 0);
}

static const struct frag_limits limit_sets[8] = {
	{ 0 },
	{ .max_datagrams = 1, .max_fragments = 4, .max_decided = 1, .timeout_ms = 50 },
	{ .max_datagrams = 2, .max_fragments = 16, .max_decided = 4, .timeout_ms = 500,
	  .decided_ms = 200 },
	{ .max_datagrams = 8, .max_fragments = 2, .max_datagram_bytes = 1000 },
	{ .max_datagrams = 4, .max_fragments = 8, .max_datagram_bytes = 16, .decided_ms = 1 },
	{ .max_datagrams = 3, .max_fragments = 64, .max_decided = 2, .timeout_ms = 1 },
	{ .max_datagrams = 8, .max_fragments = 3, .max_datagram_bytes = 2048, .timeout_ms = 3000,
	  .decided_ms = 10000 },
	{ .max_datagrams = 2, .max_fragments = 1 },
};


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frag_limits lim;
	uint64_t now = 1000;
	size_t p = 3;
	unsigned long expired = 0;

	if (size < 3)
		return 0;
	lim = limit_sets[data[0] & 7];
	lim.hash_seed = data[0] >> 3;
	if (lim.max_datagrams == 0 && (data[0] & 0x80)) /* the defaults, or a small table */
		lim.max_datagrams = 4, lim.max_decided = 8;
	if (data[0] & 0x40) { /* tight per-source bounds, fast ageing */
		lim.max_per_source = 1 + (data[1] & 3);
		lim.partial_ms = 1 + data[2];
	}
	if (frag_table_init(&t, &lim) != 0)
		abort();
	payload_len = (size_t)(data[1] << 8 | data[2]) % PAY_MAX;
	for (size_t i = 0; i < payload_len; i++)
		payload[i] = (uint8_t)(i * 7 + (i >> 8));
	for (unsigned v = 0; v < VARIANTS; v++)
		make_datagram(v);
	memset(tainted, 0, sizeof(tainted));
	raw_seen = false;
	adds = timeouts = 0;

	while (p + 6 <= size) {
		const uint8_t *op = data + p;
		const unsigned v = (op[1] & 0x7F) % VARIANTS, id = (op[1] >> 2) % IDS;
		const struct datagram *d = &dg[v];
		const size_t n = 2 + op[2] % 5, piece = d->len / n / 8 * 8;
		size_t off, len;
		bool mf;

		p += 6;
		now += (uint64_t)op[5] * 4;
		switch (op[0] % 8) {
		default: /* 0-2: a fragment of a regular cut into n */
			if (piece == 0)
				break;
			off = (op[3] % n) * piece;
			len = off + piece < d->len && op[3] % n + 1 < n ? piece : d->len - off;
			feed(frame, make_frag(v, id, d->b, off, len, off + len < d->len), now, (int)v,
			     (int)id, op[4]);
			break;
		case 3: /* a random piece, MF right or wrong */
			off = (size_t)(op[2] << 8 | op[3]) % d->len / 8 * 8;
			len = (size_t)(op[4] & 0x7F) * 8 + 8;
			if (len > d->len - off)
				len = d->len - off;
			mf = off + len < d->len;
			if (op[1] & 0x80)
				mf = !mf;
			feed(frame, make_frag(v, id, d->b, off, len, mf), now, (int)v, (int)id, op[4]);
			break;
		case 4: { /* a regular fragment with a byte flipped (the UDP length, maybe) */
			static uint8_t alt[sizeof(dg[0].b)];
			if (piece == 0)
				break;
			memcpy(alt, d->b, d->len);
			off = (op[3] % n) * piece;
			len = op[3] % n + 1 < n ? piece : d->len - off;
			alt[off + op[4] % len] ^= (uint8_t)(op[1] | 1);
			tainted[v][id] = true;
			feed(frame, make_frag(v, id, alt, off, len, off + len < d->len), now, (int)v,
			     (int)id, op[4]);
			break;
		}
		case 5:
			timeouts += frag_expire(&t, now);
			break;
		case 6: { /* a raw frame from the input */
			len = op[4] * 8u;
			if (len > size - p)
				len = size - p;
			memcpy(frame, data + p, len);
			p += len;
			feed(frame, len, now, -1, 0, op[3]);
			break;
		}
		case 7: /* the same moment, again */
			now -= (uint64_t)op[5] * 4;
			break;
		}
	}

	/* everything ages out; what frag_add() reclaimed is reported even
	 * when nothing is left (it may have taken no slot after: FIRST) */
	expired += frag_expire(&t, now);
	for (int i = 0; i < 70 && (t.n_datagrams || t.n_decided); i++) {
		now += 1000;
		expired += frag_expire(&t, now);
	}
	timeouts += expired;
	CHECK(t.n_datagrams == 0 && t.n_decided == 0 && t.max_count == 0);
	CHECK(timeouts == t.c.timeouts);
	CHECK(t.c.result[FRAG_RESULT_PARTIAL_TIMEOUT] <= t.c.timeouts);
	{
		unsigned long sum = 0;
		for (unsigned r = 0; r < FRAG_RESULT__COUNT; r++)
			if (!frag_result_is_event(r))
				sum += t.c.result[r];
		CHECK(sum == adds);
	}
	frag_table_free(&t);
	return 0;
}
