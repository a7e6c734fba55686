/* The fixture of the reassembly tests (frag_fixture.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sys/socket.h>

#include <cmocka.h>

#include "frag_fixture.h"

const uint8_t MAC_BAL[6] = { 2, 0, 0, 0, 0, 0x0a }, MAC_CLIENT[6] = { 2, 0, 0, 0, 0, 0x99 };
const uint8_t CLIENT4[4] = { 192, 0, 2, 7 }, VIP4[4] = { 198, 51, 100, 10 };
const uint8_t CLIENT6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7 };
const uint8_t VIP6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10 };

char sip[4096];
size_t sip_len;
uint8_t dgram[65536];
size_t dgram_len, l4_rel;
struct frag fr[MAX_FRAGS];
struct frag extra;
struct frag_table tab;

/* ---- building frames ------------------------------------------------------------ */

/* A ~3000-byte INVITE with an SDP body. */
void make_invite(void)
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
void make_datagram(const struct spec *s, const uint8_t *payload, size_t plen)
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
	fb_put16(u, s->sport ? s->sport : 5062);
	fb_put16(u + 2, 5060);
	fb_put16(u + 4, ulen);
	memcpy(u + 8, payload, plen);
	sum = fb_sum16(s->family == AF_INET ? CLIENT4 : CLIENT6, alen, 0);
	sum = fb_sum16(s->family == AF_INET ? VIP4 : VIP6, alen, sum);
	sum += 17 + ulen;
	sum = fb_sum16(u, ulen, sum);
	fb_put16(u + 6, fb_fold(sum) ? fb_fold(sum) : 0xFFFF);
	dgram_len = l4_rel + ulen;
}

/* One fragment: data [off, off + len) of dgram, MF as given; parsed. */
void make_frag(struct frag *f, const struct spec *s, size_t off, size_t len, bool mf)
{
	uint8_t *p = f->buf;
	size_t o = 12;

	memset(f, 0, sizeof(*f));
	memcpy(p, MAC_BAL, 6);
	memcpy(p + 6, MAC_CLIENT, 6);
	if (s->vlan) {
		fb_put16(p + o, 0x8100);
		fb_put16(p + o + 2, 100);
		o += 4;
	}
	fb_put16(p + o, s->family == AF_INET ? 0x0800 : 0x86DD);
	o += 2;
	if (s->family == AF_INET) {
		uint8_t *ip = p + o;
		ip[0] = 0x45;
		fb_put16(ip + 2, (uint32_t)(20 + len));
		fb_put16(ip + 4, s->id & 0xFFFF);
		fb_put16(ip + 6, (mf ? 0x2000u : 0) | (uint32_t)(off / 8));
		ip[8] = 64;
		ip[9] = s->proto ? s->proto : 17;
		memcpy(ip + 12, CLIENT4, 4);
		memcpy(ip + 16, VIP4, 4);
		fb_put16(ip + 10, fb_fold(fb_sum16(ip, 20, 0)));
		o += 20;
	} else {
		uint8_t *ip = p + o, *fh;
		ip[0] = 0x60;
		fb_put16(ip + 4, (uint32_t)(s->hbh + 8 + len));
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
		fb_put16(fh + 2, (uint32_t)off | (mf ? 1u : 0));
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
void cut(const struct spec *s, unsigned n)
{
	const size_t piece = dgram_len / n / 8 * 8;

	for (unsigned i = 0; i < n; i++) {
		const size_t off = i * piece, len = i + 1 < n ? piece : dgram_len - off;
		make_frag(&fr[i], s, off, len, i + 1 < n);
		assert_int_equal(fr[i].st, i == 0 ? PKT_STATUS_OK : PKT_STATUS_FRAGMENT);
		assert_true(fr[i].l.is_fragment);
	}
}

void invite(const struct spec *s, unsigned n)
{
	make_datagram(s, (const uint8_t *)sip, sip_len);
	cut(s, n);
}

/* These tests reassemble: a first fragment the table offers to decide at
 * once (FIRST) is filed, as by a caller that needs the whole datagram
 * (test_frag_first.c covers the decision at the first fragment). */
enum frag_result add(const struct frag *f, uint64_t now, struct frag_datagram **done)
{
	enum frag_result r = frag_add(&tab, f->buf, f->len, &f->l, now, done);

	if (r == FRAG_RESULT_FIRST) {
		r = frag_hold(&tab, f->buf, f->len, &f->l);
		if (done)
			*done = NULL;
	}
	return r;
}

void init(const struct frag_limits *lim)
{
	assert_int_equal(frag_table_init(&tab, lim), 0);
}

/* The datagram is the INVITE, with its frames in offset order, as sent. */
void check_complete(const struct frag_datagram *d, unsigned n)
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
struct frag_datagram *feed(const unsigned *order, unsigned n, uint64_t now)
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

struct frag_datagram *feed_in_order(unsigned n, uint64_t now)
{
	const unsigned order[MAX_FRAGS] = { 0, 1, 2, 3, 4, 5, 6, 7 };
	return feed(order, n, now);
}

static uint32_t rnd_state = 12345;

uint32_t rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return rnd_state >> 8;
}

void decide_node(struct frag_datagram *d, uint32_t node)
{
	const struct decision dec = { node, 2 };
	frag_decide(&tab, d, &dec, sizeof(dec));
}

void check_decision(uint32_t node)
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
