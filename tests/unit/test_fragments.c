/* The fragment table (dataplane/fragments.h, docs/fragments.md): a UDP
 * datagram carrying a ~3000-byte SIP INVITE, cut into 3-5 IPv4 / IPv6
 * fragments and fed in order, reversed, shuffled, duplicated, overlapping,
 * incomplete; the limits; decisions for late fragments (suite dp). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "fragments.h"
#include "siphon/packet.h"
#include "rewrite.h"
#include "siphon/maglev.h"

#define MAX_FRAGS 8
#define FRAME_CAP 12288

static const uint8_t MAC_BAL[6] = { 2, 0, 0, 0, 0, 0x0a }, MAC_CLIENT[6] = { 2, 0, 0, 0, 0, 0x99 };
static const uint8_t CLIENT4[4] = { 192, 0, 2, 7 }, VIP4[4] = { 198, 51, 100, 10 };
static const uint8_t CLIENT6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7 };
static const uint8_t VIP6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10 };

/* How a datagram is framed. */
struct spec {
	int family;
	uint32_t id;
	bool vlan;      /* an 802.1Q tag */
	bool dstopts;   /* IPv6: a destination-options header after the fragment header */
	uint16_t hbh;   /* IPv6: a hop-by-hop header of this many bytes in every fragment */
	uint8_t proto;  /* 0: UDP */
	uint16_t sport; /* 0: 5062 */
};

struct frag {
	uint8_t buf[FRAME_CAP];
	size_t len;
	struct pkt_layout l;
	enum pkt_status st;
};

static char sip[4096];
static size_t sip_len;
static uint8_t dgram[65536]; /* the fragmentable part: [dest-opts] UDP header, payload */
static size_t dgram_len, l4_rel;
static struct frag fr[MAX_FRAGS];
static struct frag extra;
static struct frag_table tab;

struct decision {
	uint32_t node;
	uint8_t mode;
};

/* ---- building frames ------------------------------------------------------------ */

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xFFFF) + (s >> 16);
	return (uint16_t)~s;
}

/* A ~3000-byte INVITE with an SDP body. */
static void make_invite(void)
{
	char body[3000];
	size_t blen = 0;

	blen += (size_t)snprintf(body, sizeof(body),
				 "v=0\r\no=- 1 1 IN IP4 192.0.2.7\r\ns=-\r\nc=IN IP4 192.0.2.7\r\n"
				 "t=0 0\r\nm=audio 40000 RTP/AVP 0 8 101\r\n");
	for (int i = 0; blen < 2600; i++)
		blen += (size_t)snprintf(body + blen, sizeof(body) - blen,
					 "a=x-padding-%04d:0123456789abcdefghijklmnopqrstuvwxyz\r\n", i);
	sip_len = (size_t)snprintf(sip, sizeof(sip),
				   "INVITE sip:b@example.com SIP/2.0\r\n"
				   "Via: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK-frag1\r\n"
				   "From: <sip:a@example.com>;tag=f1\r\nTo: <sip:b@example.com>\r\n"
				   "Call-ID: frag-test-1@192.0.2.7\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n"
				   "Contact: <sip:a@192.0.2.7:5062>\r\nContent-Type: application/sdp\r\n"
				   "Content-Length: %zu\r\n\r\n%s",
				   blen, body);
	assert_true(sip_len > 2900 && sip_len < sizeof(sip));
}

/* dgram = [dest-opts] + UDP header + payload, with a valid UDP checksum. */
static void make_datagram(const struct spec *s, const uint8_t *payload, size_t plen)
{
	const size_t alen = s->family == AF_INET ? 4 : 16;
	const uint32_t ulen = (uint32_t)(8 + plen);
	uint8_t *u;
	uint32_t sum;

	memset(dgram, 0, sizeof(dgram));
	l4_rel = 0;
	if (s->dstopts) {
		dgram[0] = 17; /* next: UDP; length 0 = 8 bytes; PadN of 4 */
		dgram[2] = 1;
		dgram[3] = 4;
		l4_rel = 8;
	}
	u = dgram + l4_rel;
	put16(u, s->sport ? s->sport : 5062);
	put16(u + 2, 5060);
	put16(u + 4, ulen);
	memcpy(u + 8, payload, plen);
	sum = sum16(s->family == AF_INET ? CLIENT4 : CLIENT6, alen, 0);
	sum = sum16(s->family == AF_INET ? VIP4 : VIP6, alen, sum);
	sum += 17 + ulen;
	sum = sum16(u, ulen, sum);
	put16(u + 6, fold(sum) ? fold(sum) : 0xFFFF);
	dgram_len = l4_rel + ulen;
}

/* One fragment: data [off, off + len) of dgram, MF as given; parsed. */
static void make_frag(struct frag *f, const struct spec *s, size_t off, size_t len, bool mf)
{
	uint8_t *p = f->buf;
	size_t o = 12;

	memset(f, 0, sizeof(*f));
	memcpy(p, MAC_BAL, 6);
	memcpy(p + 6, MAC_CLIENT, 6);
	if (s->vlan) {
		put16(p + o, 0x8100);
		put16(p + o + 2, 100);
		o += 4;
	}
	put16(p + o, s->family == AF_INET ? 0x0800 : 0x86DD);
	o += 2;
	if (s->family == AF_INET) {
		uint8_t *ip = p + o;
		ip[0] = 0x45;
		put16(ip + 2, (uint32_t)(20 + len));
		put16(ip + 4, s->id & 0xFFFF);
		put16(ip + 6, (mf ? 0x2000u : 0) | (uint32_t)(off / 8));
		ip[8] = 64;
		ip[9] = s->proto ? s->proto : 17;
		memcpy(ip + 12, CLIENT4, 4);
		memcpy(ip + 16, VIP4, 4);
		put16(ip + 10, fold(sum16(ip, 20, 0)));
		o += 20;
	} else {
		uint8_t *ip = p + o, *fh;
		ip[0] = 0x60;
		put16(ip + 4, (uint32_t)(s->hbh + 8 + len));
		ip[6] = s->hbh ? 0 : 44;
		ip[7] = 64;
		memcpy(ip + 8, CLIENT6, 16);
		memcpy(ip + 24, VIP6, 16);
		o += 40;
		if (s->hbh) {
			p[o] = 44;
			p[o + 1] = (uint8_t)(s->hbh / 8 - 1);
			p[o + 2] = 1; /* PadN */
			p[o + 3] = (uint8_t)(s->hbh - 4);
			o += s->hbh;
		}
		fh = p + o;
		fh[0] = s->dstopts ? 60 : (s->proto ? s->proto : 17);
		put16(fh + 2, (uint32_t)off | (mf ? 1u : 0));
		fh[4] = (uint8_t)(s->id >> 24);
		fh[5] = (uint8_t)(s->id >> 16);
		fh[6] = (uint8_t)(s->id >> 8);
		fh[7] = (uint8_t)s->id;
		o += 8;
	}
	assert_true(o + len <= FRAME_CAP);
	memcpy(p + o, dgram + off, len);
	f->len = o + len;
	f->st = pkt_parse(f->buf, f->len, &f->l);
}

/* Cuts dgram into n fragments of equal size (multiples of 8; the last
 * takes the rest); returns the offset of fragment i in *offs. */
static void cut(const struct spec *s, unsigned n)
{
	const size_t piece = dgram_len / n / 8 * 8;

	for (unsigned i = 0; i < n; i++) {
		const size_t off = i * piece, len = i + 1 < n ? piece : dgram_len - off;
		make_frag(&fr[i], s, off, len, i + 1 < n);
		assert_int_equal(fr[i].st, i == 0 ? PKT_STATUS_OK : PKT_STATUS_FRAGMENT);
		assert_true(fr[i].l.is_fragment);
	}
}

static void invite(const struct spec *s, unsigned n)
{
	make_datagram(s, (const uint8_t *)sip, sip_len);
	cut(s, n);
}

/* These tests reassemble: a first fragment the table offers to decide at
 * once (FIRST) is filed, as by a caller that needs the whole datagram
 * (test_frag_first.c covers the decision at the first fragment). */
static enum frag_result add(const struct frag *f, uint64_t now, struct frag_datagram **done)
{
	enum frag_result r = frag_add(&tab, f->buf, f->len, &f->l, now, done);

	if (r == FRAG_RESULT_FIRST) {
		r = frag_hold(&tab, f->buf, f->len, &f->l);
		if (done)
			*done = NULL;
	}
	return r;
}

static void init(const struct frag_limits *lim)
{
	assert_int_equal(frag_table_init(&tab, lim), 0);
}

/* The datagram is the INVITE, with its frames in offset order, as sent. */
static void check_complete(const struct frag_datagram *d, unsigned n)
{
	assert_non_null(d);
	assert_int_equal(d->payload_len, sip_len);
	assert_memory_equal(d->payload, sip, sip_len);
	assert_int_equal(d->udp_len, sip_len + 8);
	assert_memory_equal(d->udp_hdr, dgram + l4_rel, 8);
	assert_int_equal(d->dport, 5060);
	assert_int_equal(d->n_frames, n);
	for (unsigned i = 0; i < n; i++) {
		const struct frag_frame *x = &d->frames[i];
		assert_int_equal(x->len, fr[i].len);
		assert_int_equal(x->cap, fr[i].len + FRAG_FRAME_ROOM);
		assert_memory_equal(x->frame, fr[i].buf, fr[i].len);
		assert_int_equal(x->off, fr[i].l.frag_off);
		assert_int_equal(x->l.frag_off, fr[i].l.frag_off);
		assert_int_equal(x->l.l3_len, fr[i].l.l3_len);
		assert_int_equal(x->l.payload_off, fr[i].l.payload_off);
		assert_int_equal(x->l.first_fragment, i == 0);
		assert_int_equal(x->data_off + x->data_len, x->len);
		if (i)
			assert_int_equal(x->off, d->frames[i - 1].off + d->frames[i - 1].data_len);
	}
}

/* Feeds fr[order[i]]: HELD until the last, which completes. */
static struct frag_datagram *feed(const unsigned *order, unsigned n, uint64_t now)
{
	struct frag_datagram *d = NULL;

	for (unsigned i = 0; i < n; i++) {
		const enum frag_result r = add(&fr[order[i]], now, &d);
		assert_string_equal(frag_result_name(r),
				    frag_result_name(i + 1 < n ? FRAG_RESULT_HELD : FRAG_RESULT_COMPLETE));
		assert_true(i + 1 < n ? d == NULL : d != NULL);
	}
	return d;
}

static struct frag_datagram *feed_in_order(unsigned n, uint64_t now)
{
	const unsigned order[MAX_FRAGS] = { 0, 1, 2, 3, 4, 5, 6, 7 };
	return feed(order, n, now);
}

static uint32_t rnd_state = 12345;

static uint32_t rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return rnd_state >> 8;
}

static void decide(struct frag_datagram *d, uint32_t node)
{
	const struct decision dec = { node, 2 };
	frag_decide(&tab, d, &dec, sizeof(dec));
}

static void check_decision(uint32_t node)
{
	size_t len;
	const uint8_t *p = frag_decision(&tab, &len);
	struct decision dec;

	assert_non_null(p);
	assert_int_equal(len, sizeof(dec));
	memcpy(&dec, p, sizeof(dec));
	assert_int_equal(dec.node, node);
	assert_int_equal(dec.mode, 2);
}

/* ---- tests ---------------------------------------------------------------------- */

/* In order, reversed, shuffled: 3-5 fragments, IPv4 / IPv6 / IPv6 with a
 * destination-options header inside the fragmentable part, with a VLAN tag. */
static void every_order(void **state)
{
	const struct spec specs[] = {
		{ .family = AF_INET, .id = 0x1234 },
		{ .family = AF_INET6, .id = 0xdeadbeef },
		{ .family = AF_INET6, .id = 7, .dstopts = true, .vlan = true },
		{ .family = AF_INET, .id = 9, .vlan = true },
	};
	uint32_t id = 0;

	(void)state;
	make_invite();
	init(NULL);
	for (unsigned s = 0; s < sizeof(specs) / sizeof(specs[0]); s++) {
		for (unsigned n = 3; n <= 5; n++) {
			unsigned order[MAX_FRAGS];
			struct spec sp = specs[s];

			for (unsigned k = 0; k < 12; k++) {
				struct frag_datagram *d;
				sp.id = specs[s].id + id++;
				invite(&sp, n);
				for (unsigned i = 0; i < n; i++)
					order[i] = k == 1 ? n - 1 - i : i; /* k 0: in order, 1: reversed */
				for (unsigned i = n - 1; k >= 2 && i > 0; i--) {
					const unsigned j = rnd() % (i + 1), x = order[i];
					order[i] = order[j];
					order[j] = x;
				}
				d = feed(order, n, 1000 + k);
				check_complete(d, n);
				assert_int_equal(d->key.family, sp.family);
				assert_int_equal(d->key.id, sp.family == AF_INET ? (sp.id & 0xFFFF) : sp.id);
				assert_int_equal(tab.n_datagrams, 1);
				decide(d, s * 100 + n);
				assert_int_equal(tab.n_datagrams, 0);
				/* any late fragment: the decision */
				assert_int_equal(add(&fr[rnd() % n], 1500, NULL), FRAG_RESULT_DECIDED);
				check_decision(s * 100 + n);
			}
		}
	}
	assert_int_equal(tab.c.result[FRAG_RESULT_COMPLETE], 4 * 3 * 12);
	assert_int_equal(tab.c.result[FRAG_RESULT_DECIDED], 4 * 3 * 12);
	assert_int_equal(tab.c.decided, 4 * 3 * 12);
	assert_int_equal(frag_expire(&tab, 1500), 0);
	assert_int_equal(frag_expire(&tab, 100000), 0);
	assert_int_equal(tab.c.decided_expired, 4 * 3 * 12);
	assert_int_equal(tab.n_decided, 0);
	frag_table_free(&tab);
}

/* Exact duplicates before completion are ignored, during the wait for the
 * decision too; after it they get the decision. Ethernet padding is cut. */
static void duplicates(void **state)
{
	const struct spec sp = { .family = AF_INET, .id = 77 };
	struct frag_datagram *d = NULL;

	(void)state;
	make_invite();
	init(NULL);
	invite(&sp, 4);
	assert_int_equal(add(&fr[0], 10, &d), FRAG_RESULT_HELD);
	assert_int_equal(add(&fr[0], 11, &d), FRAG_RESULT_DUPLICATE);
	assert_int_equal(add(&fr[2], 12, &d), FRAG_RESULT_HELD);
	fr[2].len += 20; /* padding after the IP packet: not part of the fragment */
	assert_int_equal(add(&fr[2], 13, &d), FRAG_RESULT_DUPLICATE);
	fr[2].len -= 20;
	assert_int_equal(add(&fr[1], 14, &d), FRAG_RESULT_HELD);
	assert_int_equal(tab.n_datagrams, 1);
	assert_int_equal(add(&fr[3], 15, &d), FRAG_RESULT_COMPLETE);
	check_complete(d, 4);
	/* waiting for frag_decide() */
	assert_int_equal(add(&fr[1], 16, NULL), FRAG_RESULT_DUPLICATE);
	assert_null(frag_decision(&tab, &(size_t){ 0 }));
	decide(d, 42);
	assert_int_equal(tab.n_datagrams, 0);
	assert_int_equal(tab.n_decided, 1);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(add(&fr[i], 20, &d), FRAG_RESULT_DECIDED);
		assert_null(d);
		check_decision(42);
	}
	assert_int_equal(tab.c.result[FRAG_RESULT_HELD], 3);
	assert_int_equal(tab.c.result[FRAG_RESULT_COMPLETE], 1);
	assert_int_equal(tab.c.result[FRAG_RESULT_DUPLICATE], 3);
	assert_int_equal(tab.c.result[FRAG_RESULT_DECIDED], 4);
	assert_int_equal(tab.n_datagrams, 0);
	frag_table_free(&tab);
}

/* Overlaps drop the whole datagram, and its later fragments, for as long as
 * the datagram could have been reassembled (RFC 5722). */
static void overlap(void **state)
{
	struct spec sp = { .family = AF_INET, .id = 1 };
	struct frag_datagram *d = NULL;

	(void)state;
	make_invite();
	init(NULL);
	/* the same extent, other bytes */
	invite(&sp, 4);
	assert_int_equal(add(&fr[0], 0, NULL), FRAG_RESULT_HELD);
	assert_int_equal(add(&fr[1], 0, NULL), FRAG_RESULT_HELD);
	extra = fr[1];
	extra.buf[extra.l.payload_off + 5] ^= 0x20;
	assert_int_equal(add(&extra, 1, NULL), FRAG_RESULT_OVERLAP);
	assert_int_equal(tab.n_datagrams, 0);
	assert_int_equal(tab.c.dropped_frames, 2);
	assert_int_equal(add(&fr[2], 2, NULL), FRAG_RESULT_OVERLAP);
	assert_int_equal(add(&fr[3], 3, NULL), FRAG_RESULT_OVERLAP);
	assert_int_equal(add(&fr[0], 4, NULL), FRAG_RESULT_OVERLAP);
	assert_int_equal(tab.n_datagrams, 0);
	/* a timeout later the id is free again */
	assert_int_equal(frag_expire(&tab, 2001), 0);
	d = feed_in_order(4, 2001);
	check_complete(d, 4);
	decide(d, 1);

	/* another extent, the same bytes: a piece spanning two fragments */
	sp.id = 2;
	invite(&sp, 4);
	assert_int_equal(add(&fr[1], 3000, NULL), FRAG_RESULT_HELD);
	make_frag(&extra, &sp, fr[1].l.frag_off + 8, fr[2].l.frag_off - fr[1].l.frag_off, true);
	assert_int_equal(extra.st, PKT_STATUS_FRAGMENT);
	assert_int_equal(add(&extra, 3000, NULL), FRAG_RESULT_OVERLAP);
	assert_int_equal(add(&fr[2], 3000, NULL), FRAG_RESULT_OVERLAP);

	/* IPv6: a piece inside a held fragment, and one straddling its start */
	sp = (struct spec){ .family = AF_INET6, .id = 3 };
	invite(&sp, 3);
	assert_int_equal(add(&fr[2], 3000, NULL), FRAG_RESULT_HELD);
	make_frag(&extra, &sp, fr[2].l.frag_off + 16, 16, true);
	assert_int_equal(add(&extra, 3000, NULL), FRAG_RESULT_OVERLAP);
	sp.id = 4;
	invite(&sp, 3);
	assert_int_equal(add(&fr[1], 3000, NULL), FRAG_RESULT_HELD);
	make_frag(&extra, &sp, fr[1].l.frag_off - 8, 16, true);
	assert_int_equal(add(&extra, 3000, NULL), FRAG_RESULT_OVERLAP);
	assert_int_equal(tab.n_datagrams, 0);
	assert_int_equal(tab.c.result[FRAG_RESULT_OVERLAP], 8);
	frag_table_free(&tab);
}

/* A missing fragment: the datagram times out after timeout_ms, counted
 * once, by frag_expire() or when frag_add() meets it. */
static void missing_fragment(void **state)
{
	const struct spec sp = { .family = AF_INET6, .id = 0x10001 };
	const struct frag_limits lim = { .partial_ms = 2000 }; /* no faster ageing here */

	(void)state;
	make_invite();
	init(&lim);
	invite(&sp, 5);
	for (unsigned i = 0; i < 5; i++)
		if (i != 2)
			assert_int_equal(add(&fr[i], 1000 + i, NULL), FRAG_RESULT_HELD);
	assert_int_equal(frag_expire(&tab, 2999), 0);
	assert_int_equal(tab.n_datagrams, 1);
	assert_int_equal(frag_expire(&tab, 3000), 1);
	assert_int_equal(tab.n_datagrams, 0);
	assert_int_equal(tab.c.timeouts, 1);
	assert_int_equal(tab.c.timeout_frames, 4);
	assert_int_equal(frag_expire(&tab, 3001), 0);
	/* the straggler starts a datagram of its own, which times out too */
	assert_int_equal(add(&fr[2], 3001, NULL), FRAG_RESULT_HELD);
	/* frag_add() meets the expired datagram: reclaimed, reported by frag_expire() */
	assert_int_equal(add(&fr[0], 5001, NULL), FRAG_RESULT_HELD);
	assert_int_equal(tab.n_datagrams, 1);
	assert_int_equal(frag_expire(&tab, 5001), 1);
	assert_int_equal(frag_expire(&tab, 7001), 1);
	assert_int_equal(tab.c.timeouts, 3);
	assert_int_equal(tab.n_datagrams, 0);
	/* time going backwards counts as the latest time */
	assert_int_equal(add(&fr[0], 10, NULL), FRAG_RESULT_HELD);
	assert_int_equal(frag_expire(&tab, 9000), 0);
	assert_int_equal(frag_expire(&tab, 9001), 1);
	frag_table_free(&tab);
}

static void too_many_fragments(void **state)
{
	const struct frag_limits lim = { .max_fragments = 4 };
	struct spec sp = { .family = AF_INET, .id = 5 };

	(void)state;
	make_invite();
	init(&lim);
	invite(&sp, 5);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(add(&fr[i], 0, NULL), FRAG_RESULT_HELD);
	assert_int_equal(add(&fr[3], 0, NULL), FRAG_RESULT_DUPLICATE); /* not a new one */
	assert_int_equal(add(&fr[4], 0, NULL), FRAG_RESULT_TOO_MANY_FRAGMENTS);
	assert_int_equal(tab.n_datagrams, 0);
	assert_int_equal(tab.c.dropped_frames, 4);
	assert_int_equal(add(&fr[0], 0, NULL), FRAG_RESULT_TOO_MANY_FRAGMENTS);
	/* four fragments are fine */
	sp.id = 6;
	invite(&sp, 4);
	check_complete(feed_in_order(4, 0), 4);
	frag_table_free(&tab);
}

/* No free slot: an expired datagram gives its slot first (a timeout);
 * else the oldest incomplete datagram of the source holding the most goes
 * (evicted); when every datagram waits for frag_decide(), the fragment is
 * table_full. test_frag_first.c has the choice among sources. */
static void table_full(void **state)
{
	const struct frag_limits lim = { .max_datagrams = 2, .partial_ms = 2000 };
	const struct spec s1 = { .family = AF_INET, .id = 1 }, s2 = { .family = AF_INET, .id = 2 },
			  s3 = { .family = AF_INET6, .id = 3 }, s4 = { .family = AF_INET, .id = 4 },
			  s5 = { .family = AF_INET, .id = 5 };
	struct frag_datagram *d = NULL;
	struct frag f3[3], f4[3];

	(void)state;
	make_invite();
	init(&lim);
	invite(&s1, 3);
	assert_int_equal(add(&fr[0], 0, NULL), FRAG_RESULT_HELD);
	invite(&s2, 3);
	assert_int_equal(add(&fr[0], 1000, NULL), FRAG_RESULT_HELD);
	/* datagram 1 (from t=0) has expired at 2000: its slot goes to 3 */
	invite(&s3, 3);
	memcpy(f3, fr, sizeof(f3));
	assert_int_equal(add(&f3[0], 2000, NULL), FRAG_RESULT_HELD);
	assert_int_equal(frag_expire(&tab, 2000), 1);
	assert_int_equal(tab.c.result[FRAG_RESULT_EVICTED], 0);
	/* none expired: both sources hold one; the IPv4 one got there first */
	invite(&s4, 3);
	memcpy(f4, fr, sizeof(f4));
	assert_int_equal(add(&f4[0], 2001, NULL), FRAG_RESULT_HELD);
	assert_int_equal(tab.c.result[FRAG_RESULT_EVICTED], 1);
	assert_int_equal(tab.c.evicted_frames, 1);
	assert_int_equal(tab.n_datagrams, 2);
	invite(&s2, 3); /* datagram 2 is gone: its next fragment starts anew */
	assert_int_equal(add(&fr[1], 2001, NULL), FRAG_RESULT_HELD);
	assert_int_equal(tab.c.result[FRAG_RESULT_EVICTED], 2); /* datagram 3 went for it */
	/* 4 completes and waits for a decision, the same for 2: nothing may go */
	assert_int_equal(add(&f4[1], 2002, NULL), FRAG_RESULT_HELD);
	assert_int_equal(add(&f4[2], 2002, &d), FRAG_RESULT_COMPLETE);
	assert_int_equal(add(&fr[0], 2002, NULL), FRAG_RESULT_HELD);
	assert_int_equal(add(&fr[2], 2002, &d), FRAG_RESULT_COMPLETE);
	invite(&s5, 3);
	assert_int_equal(add(&fr[0], 2003, NULL), FRAG_RESULT_TABLE_FULL);
	assert_int_equal(tab.c.result[FRAG_RESULT_TABLE_FULL], 1);
	assert_int_equal(tab.c.result[FRAG_RESULT_FIRST], 0); /* each FIRST was filed */
	assert_int_equal(tab.c.timeouts, 1);
	frag_table_free(&tab);
}

static void too_big(void **state)
{
	static uint8_t big[12000];
	const struct frag_limits small = { .max_datagram_bytes = 2000 };
	const struct frag_limits tight = { .max_fragments = 4, .max_datagram_bytes = 4000 };
	struct spec sp = { .family = AF_INET, .id = 1 };

	(void)state;
	make_invite();
	/* the datagram passes max_datagram_bytes: from the first fragment's
	 * UDP length, or from a later fragment's end */
	init(&small);
	invite(&sp, 3);
	assert_int_equal(add(&fr[0], 0, NULL), FRAG_RESULT_TOO_BIG);
	assert_int_equal(add(&fr[1], 0, NULL), FRAG_RESULT_TOO_BIG);
	sp.id = 2;
	invite(&sp, 3);
	assert_int_equal(add(&fr[1], 0, NULL), FRAG_RESULT_HELD);
	assert_int_equal(add(&fr[2], 0, NULL), FRAG_RESULT_TOO_BIG);
	assert_int_equal(tab.n_datagrams, 0);
	frag_table_free(&tab);

	/* a frame past FRAG_FRAME_MAX */
	init(NULL);
	memset(big, 'x', sizeof(big));
	sp.id = 3;
	make_datagram(&sp, big, sizeof(big));
	make_frag(&fr[0], &sp, 0, 9600, true);
	make_frag(&fr[1], &sp, 9600, dgram_len - 9600, false);
	assert_int_equal(fr[0].st, PKT_STATUS_OK);
	assert_true(fr[0].len > FRAG_FRAME_MAX);
	assert_int_equal(add(&fr[1], 0, NULL), FRAG_RESULT_HELD);
	assert_int_equal(add(&fr[0], 0, NULL), FRAG_RESULT_TOO_BIG);
	sp.id = 4;
	make_datagram(&sp, big, 9000); /* two frames within the limit */
	cut(&sp, 2);
	{
		struct frag_datagram *d = feed_in_order(2, 0);
		assert_int_equal(d->payload_len, 9000);
		assert_memory_equal(d->payload, big, 9000);
	}
	frag_table_free(&tab);

	/* headers beyond the storage budget: 4000 + 4 * FRAG_HDR_BUDGET bytes
	 * of frames, three fragments with 512-byte hop-by-hop headers each */
	init(&tight);
	sp = (struct spec){ .family = AF_INET6, .id = 5, .hbh = 512 };
	invite(&sp, 3);
	assert_int_equal(add(&fr[0], 0, NULL), FRAG_RESULT_HELD);
	assert_int_equal(add(&fr[1], 0, NULL), FRAG_RESULT_HELD);
	assert_int_equal(add(&fr[2], 0, NULL), FRAG_RESULT_TOO_BIG);
	/* small headers fit */
	sp = (struct spec){ .family = AF_INET6, .id = 6, .hbh = 8 };
	invite(&sp, 4);
	check_complete(feed_in_order(4, 0), 4);
	assert_int_equal(tab.c.result[FRAG_RESULT_TOO_BIG], 1);
	frag_table_free(&tab);
}

/* Inconsistent fragments: BAD, and a datagram they contradict is dropped. */
static void bad_fragments(void **state)
{
	struct spec sp = { .family = AF_INET, .id = 1 };
	struct pkt_layout l;
	uint8_t tcp[40] = { 0 };

	(void)state;
	make_invite();
	init(NULL);
	invite(&sp, 4);

	/* not a fragment, no layout, a layout that does not fit the frame */
	make_datagram(&sp, (const uint8_t *)sip, 100);
	make_frag(&extra, &sp, 0, dgram_len, false);
	assert_int_equal(extra.st, PKT_STATUS_OK);
	assert_int_equal(add(&extra, 0, NULL), FRAG_RESULT_BAD);
	assert_int_equal(frag_add(&tab, fr[1].buf, fr[1].len, NULL, 0, NULL), FRAG_RESULT_BAD);
	assert_int_equal(frag_add(&tab, NULL, 0, &fr[1].l, 0, NULL), FRAG_RESULT_BAD);
	assert_int_equal(frag_add(&tab, fr[1].buf, fr[1].len - 1, &fr[1].l, 0, NULL), FRAG_RESULT_BAD);
	l = fr[1].l;
	l.family = 0;
	assert_int_equal(frag_add(&tab, fr[1].buf, fr[1].len, &l, 0, NULL), FRAG_RESULT_BAD);
	/* a middle fragment whose data is not a multiple of 8 */
	l = fr[1].l;
	l.l3_len -= 3;
	assert_int_equal(frag_add(&tab, fr[1].buf, fr[1].len, &l, 0, NULL), FRAG_RESULT_BAD);
	assert_int_equal(tab.n_datagrams, 0);

	/* not UDP: an IPv4 TCP fragment, an IPv6 first fragment carrying TCP */
	sp.proto = 6;
	invite(&sp, 3);
	assert_int_equal(fr[1].l.l4_proto, 6);
	assert_int_equal(add(&fr[1], 0, NULL), FRAG_RESULT_BAD);
	sp = (struct spec){ .family = AF_INET6, .id = 2, .proto = 6 };
	tcp[12] = 0x50;
	memcpy(dgram, tcp, sizeof(tcp));
	dgram_len = sizeof(tcp);
	make_frag(&extra, &sp, 0, 24, true);
	assert_int_equal(extra.st, PKT_STATUS_OK);
	assert_int_equal(extra.l.l4_proto, 6);
	assert_int_equal(add(&extra, 0, NULL), FRAG_RESULT_BAD);
	assert_int_equal(tab.n_datagrams, 0);

	/* a second last fragment with another end */
	sp = (struct spec){ .family = AF_INET, .id = 3 };
	invite(&sp, 4);
	assert_int_equal(add(&fr[0], 0, NULL), FRAG_RESULT_HELD);
	assert_int_equal(add(&fr[3], 0, NULL), FRAG_RESULT_HELD);
	make_frag(&extra, &sp, fr[2].l.frag_off, 8, false);
	assert_int_equal(add(&extra, 0, NULL), FRAG_RESULT_BAD);
	assert_int_equal(tab.n_datagrams, 0);
	assert_int_equal(add(&fr[1], 0, NULL), FRAG_RESULT_BAD); /* the rest of it too */

	/* data past the end the last fragment gives */
	sp.id = 4;
	make_datagram(&sp, (const uint8_t *)sip, sip_len);
	make_frag(&extra, &sp, 8, 16, false); /* ends at 24 */
	assert_int_equal(add(&extra, 0, NULL), FRAG_RESULT_HELD);
	make_frag(&extra, &sp, 32, 16, true);
	assert_int_equal(add(&extra, 0, NULL), FRAG_RESULT_BAD);

	/* a UDP length that disagrees with the end */
	sp.id = 5;
	invite(&sp, 3);
	put16(fr[0].buf + fr[0].l.l4_off + 4, (uint32_t)(sip_len + 8 + 8));
	assert_int_equal(pkt_parse(fr[0].buf, fr[0].len, &fr[0].l), PKT_STATUS_OK);
	assert_int_equal(add(&fr[2], 0, NULL), FRAG_RESULT_HELD);
	assert_int_equal(add(&fr[0], 0, NULL), FRAG_RESULT_BAD);
	sp.id = 6; /* the first fragment first: the last one disagrees */
	invite(&sp, 3);
	put16(fr[0].buf + fr[0].l.l4_off + 4, (uint32_t)(sip_len + 8 - 16));
	assert_int_equal(pkt_parse(fr[0].buf, fr[0].len, &fr[0].l), PKT_STATUS_OK);
	assert_int_equal(add(&fr[0], 0, NULL), FRAG_RESULT_HELD);
	assert_int_equal(add(&fr[2], 0, NULL), FRAG_RESULT_BAD);
	sp.id = 7; /* a first fragment that holds the whole datagram */
	invite(&sp, 3);
	put16(fr[0].buf + fr[0].l.l4_off + 4, (uint32_t)(fr[1].l.frag_off));
	assert_int_equal(pkt_parse(fr[0].buf, fr[0].len, &fr[0].l), PKT_STATUS_OK);
	assert_int_equal(add(&fr[0], 0, NULL), FRAG_RESULT_BAD);
	/* a middle fragment reaching the end the first fragment gives */
	sp.id = 8;
	invite(&sp, 3);
	assert_int_equal(add(&fr[0], 0, NULL), FRAG_RESULT_HELD);
	make_frag(&extra, &sp, fr[2].l.frag_off, dgram_len - fr[2].l.frag_off + 8 - (dgram_len % 8), true);
	assert_int_equal(add(&extra, 0, NULL), FRAG_RESULT_BAD);
	assert_int_equal(tab.n_datagrams, 0);
	assert_int_equal(tab.c.result[FRAG_RESULT_BAD], 15);
	assert_int_equal(frag_expire(&tab, 5000), 0);
	frag_table_free(&tab);
}

/* Decided entries: they age out, a fragment that cannot belong to the
 * decided datagram (IP id reuse) starts a new one, a full ring pushes out
 * its oldest entry, and a decision is at most FRAG_DECISION_MAX bytes. */
static void decided_entries(void **state)
{
	const struct frag_limits lim = { .max_decided = 2 };
	struct spec sp = { .family = AF_INET, .id = 1 };
	struct frag_datagram *d;
	uint8_t blob[100];
	uint64_t evicted;
	size_t len;

	(void)state;
	make_invite();
	init(&lim);
	invite(&sp, 3);
	d = feed_in_order(3, 100);
	decide(d, 5);
	assert_int_equal(add(&fr[1], 5099, NULL), FRAG_RESULT_DECIDED);
	check_decision(5);
	assert_int_equal(add(&fr[1], 5100, NULL), FRAG_RESULT_HELD); /* aged out: a new datagram */
	assert_int_equal(tab.c.decided_expired, 1);
	assert_int_equal(frag_expire(&tab, 7100), 1);

	/* the same id, another datagram: its first fragment has another UDP header */
	d = feed_in_order(3, 8000);
	decide(d, 6);
	sp.sport = 5070;
	invite(&sp, 3);
	assert_int_equal(add(&fr[0], 8001, NULL), FRAG_RESULT_HELD);
	assert_int_equal(tab.c.decided_replaced, 1);
	d = NULL;
	assert_int_equal(add(&fr[2], 8001, NULL), FRAG_RESULT_HELD);
	assert_int_equal(add(&fr[1], 8001, &d), FRAG_RESULT_COMPLETE);
	check_complete(d, 3);
	assert_int_equal(d->sport, 5070);
	decide(d, 7);
	/* a fragment past the decided datagram's end: not one of its fragments */
	sp.id = 1;
	make_datagram(&sp, (const uint8_t *)sip, sip_len);
	make_frag(&extra, &sp, 4000, 8, true);
	assert_int_equal(add(&extra, 8002, NULL), FRAG_RESULT_HELD);
	assert_int_equal(tab.c.decided_replaced, 2);
	/* inside the decided datagram, but cut elsewhere: not one of its fragments */
	sp.id = 2;
	invite(&sp, 3);
	d = feed_in_order(3, 8003);
	decide(d, 8);
	make_frag(&extra, &sp, fr[1].l.frag_off + 8, 16, true);
	assert_int_equal(add(&extra, 8004, NULL), FRAG_RESULT_HELD);
	assert_int_equal(tab.c.decided_replaced, 3);
	/* with more fragments than an entry lists, the extent check is by range */
	sp.id = 3;
	make_datagram(&sp, (const uint8_t *)sip, sip_len);
	for (unsigned i = 0; i < MAX_FRAGS; i++) /* 8 pieces and a tail */
		make_frag(&fr[i], &sp, i * (dgram_len / 72 * 8), dgram_len / 72 * 8, true);
	make_frag(&extra, &sp, 8 * (dgram_len / 72 * 8), dgram_len - 8 * (dgram_len / 72 * 8), false);
	for (unsigned i = 0; i < MAX_FRAGS; i++)
		assert_int_equal(add(&fr[i], 8005, NULL), FRAG_RESULT_HELD);
	assert_int_equal(add(&extra, 8005, &d), FRAG_RESULT_COMPLETE);
	assert_int_equal(d->n_frames, 9);
	assert_memory_equal(d->payload, sip, sip_len);
	decide(d, 9);
	make_frag(&extra, &sp, 8, 16, true);
	assert_int_equal(add(&extra, 8006, NULL), FRAG_RESULT_DECIDED);
	check_decision(9);

	/* the ring holds two: a third decision pushes out the oldest */
	evicted = tab.c.decided_evicted;
	for (uint32_t id = 10; id < 13; id++) {
		sp.id = id;
		invite(&sp, 3);
		d = feed_in_order(3, 9000);
		memset(blob, (int)id, sizeof(blob));
		frag_decide(&tab, d, blob, sizeof(blob));
	}
	assert_int_equal(tab.c.decided_evicted, evicted + 2); /* id 3's entry, then id 10's */
	invite(&sp, 3); /* id 12 */
	assert_int_equal(add(&fr[1], 9001, NULL), FRAG_RESULT_DECIDED);
	assert_non_null(frag_decision(&tab, &len));
	assert_int_equal(len, FRAG_DECISION_MAX);
	assert_int_equal(frag_decision(&tab, &len)[0], 12);
	sp.id = 10;
	invite(&sp, 3);
	assert_int_equal(add(&fr[1], 9001, NULL), FRAG_RESULT_HELD);
	/* frag_decide() on a datagram that is not complete does nothing */
	frag_decide(&tab, NULL, blob, 4);
	assert_int_equal(tab.c.decided, 8);
	frag_table_free(&tab);
}

/* Keys that share a home: the index probes FRAG_PROBE_MAX slots, and a key
 * whose window is full is TABLE_FULL (a datagram) or not remembered (a
 * decision); removals in the middle of the run keep every other key found. */
static void bounded_probing(void **state)
{
	const struct frag_limits lim = { .max_datagrams = 64, .max_decided = 64, .hash_seed = 99,
					 .max_per_source = 64 };
	struct spec sp = { .family = AF_INET };
	struct frag_key k = { .family = AF_INET, .proto = 17 };
	struct frag_datagram *d;
	uint32_t ids[FRAG_PROBE_MAX + 1];
	unsigned n = 0;

	(void)state;
	memcpy(k.src, CLIENT4, 4);
	memcpy(k.dst, VIP4, 4);
	for (uint32_t id = 0; id < 65536 && n <= FRAG_PROBE_MAX; id++) {
		k.id = id;
		if ((callid_hash((const uint8_t *)&k, sizeof(k), lim.hash_seed) & 127) == 5)
			ids[n++] = id; /* the index has 128 slots */
	}
	assert_int_equal(n, FRAG_PROBE_MAX + 1);
	make_invite();
	init(&lim);
	for (unsigned i = 0; i < FRAG_PROBE_MAX; i++) {
		sp.id = ids[i];
		invite(&sp, 3);
		assert_int_equal(add(&fr[0], 0, NULL), FRAG_RESULT_HELD);
	}
	sp.id = ids[FRAG_PROBE_MAX];
	invite(&sp, 3);
	assert_int_equal(add(&fr[0], 0, NULL), FRAG_RESULT_TABLE_FULL);
	assert_int_equal(tab.n_datagrams, FRAG_PROBE_MAX);
	/* complete and decide them out of order */
	for (unsigned j = 0; j < FRAG_PROBE_MAX; j++) {
		const unsigned i = j * 7 % FRAG_PROBE_MAX;
		sp.id = ids[i];
		invite(&sp, 3);
		assert_int_equal(add(&fr[2], 1, NULL), FRAG_RESULT_HELD);
		assert_int_equal(add(&fr[1], 1, &d), FRAG_RESULT_COMPLETE);
		check_complete(d, 3);
		decide(d, i);
	}
	assert_int_equal(tab.n_datagrams, 0);
	/* the decided index is as crowded now: one more decision is lost */
	sp.id = ids[FRAG_PROBE_MAX];
	invite(&sp, 3);
	decide(feed_in_order(3, 2), 99);
	assert_int_equal(tab.c.decided_lost, 1);
	assert_int_equal(add(&fr[1], 3, NULL), FRAG_RESULT_HELD);
	for (unsigned i = 0; i < FRAG_PROBE_MAX; i++) {
		sp.id = ids[i];
		invite(&sp, 3);
		assert_int_equal(add(&fr[i % 3], 3, NULL), FRAG_RESULT_DECIDED);
		check_decision(i);
	}
	frag_table_free(&tab);
}

/* The stored frames take rewrite_forward() in place, encap included. */
static void rewrite_stored_frames(void **state)
{
	const struct pool_node node = { .addr = { AF_INET, { 198, 51, 100, 21 } }, .port = 5080 };
	struct rewrite_target rt = { .mode = POOL_MODE_ENCAP, .node = &node,
				     .encap_src = { AF_INET, { 198, 18, 0, 1 } } };
	const struct spec sp = { .family = AF_INET6, .id = 99 };
	struct frag_datagram *d;

	(void)state;
	make_invite();
	init(NULL);
	invite(&sp, 4);
	d = feed_in_order(4, 0);
	check_complete(d, 4);
	for (unsigned i = 0; i < d->n_frames; i++) {
		struct frag_frame *x = &d->frames[i];
		size_t len = x->len;
		assert_int_equal(rewrite_forward(x->frame, &len, x->cap, &x->l, x->l.payload_len, &rt), 0);
		assert_int_equal(len, fr[i].len + 20); /* the outer IPv4 header */
	}
	decide(d, 1);
	frag_table_free(&tab);
}

static void limits_and_names(void **state)
{
	struct frag_limits lim = { .max_fragments = FRAG_FRAGMENTS_LIMIT + 1 };

	(void)state;
	assert_int_equal(frag_table_init(&tab, &lim), -EINVAL);
	lim = (struct frag_limits){ .max_datagram_bytes = 15 };
	assert_int_equal(frag_table_init(&tab, &lim), -EINVAL);
	lim = (struct frag_limits){ .max_decided = (1u << 22) + 1 };
	assert_int_equal(frag_table_init(&tab, &lim), -EINVAL);
	frag_table_free(&tab);
	init(NULL);
	assert_int_equal(tab.lim.max_datagrams, 256);
	assert_int_equal(tab.lim.max_fragments, 64);
	assert_int_equal(tab.lim.max_datagram_bytes, 65535);
	assert_int_equal(tab.lim.timeout_ms, 2000);
	assert_int_equal(tab.lim.decided_ms, 5000);
	assert_int_equal(tab.lim.max_decided, 4096);
	assert_int_equal(tab.lim.max_per_source, 16);
	assert_int_equal(tab.lim.partial_ms, 500);
	assert_true(tab.mem_bytes < 32u << 20);
	print_message("default table: %zu bytes\n", tab.mem_bytes);
	frag_table_free(&tab);
	frag_table_free(&tab); /* twice is fine */

	for (unsigned r = 0; r < FRAG_RESULT__COUNT; r++) {
		assert_string_not_equal(frag_result_name(r), "?");
		assert_true(strlen(frag_result_help(r)) > 10);
		assert_int_equal(frag_result_is_drop(r),
				 r >= FRAG_RESULT_DUPLICATE && r <= FRAG_RESULT_BAD);
		assert_int_equal(frag_result_is_event(r), r >= FRAG_RESULT_EVICTED);
	}
	assert_string_equal(frag_result_name(FRAG_RESULT_OVERLAP), "overlap");
	assert_string_equal(frag_result_name(FRAG_RESULT_TABLE_FULL), "table_full");
	assert_string_equal(frag_result_name(FRAG_RESULT__COUNT), "?");
	assert_false(frag_result_is_drop(FRAG_RESULT__COUNT));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_order),
		cmocka_unit_test(duplicates),
		cmocka_unit_test(overlap),
		cmocka_unit_test(missing_fragment),
		cmocka_unit_test(too_many_fragments),
		cmocka_unit_test(table_full),
		cmocka_unit_test(too_big),
		cmocka_unit_test(bad_fragments),
		cmocka_unit_test(decided_entries),
		cmocka_unit_test(bounded_probing),
		cmocka_unit_test(rewrite_stored_frames),
		cmocka_unit_test(limits_and_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
