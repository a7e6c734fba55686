#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "frag_build.h"

static const uint8_t MAC_BAL[6] = { 2, 0, 0, 0, 0, 0x0a }, MAC_CLIENT[6] = { 2, 0, 0, 0, 0, 0x99 };

void fb_put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

uint32_t fb_sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

uint16_t fb_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xFFFF) + (s >> 16);
	return (uint16_t)~s;
}

size_t fb_invite(char *out, size_t cap, const char *call_id, size_t body_len, size_t pad)
{
	char body[8192], hdrs[4096];
	size_t blen = 0, hlen = 0;

	while (blen < body_len && blen + 1 < sizeof(body))
		blen += (size_t)snprintf(body + blen, sizeof(body) - blen, "a=x-pad:%05zu\r\n", blen);
	body[body_len < blen ? body_len : blen] = '\0';
	blen = strlen(body);
	hdrs[0] = '\0';
	while (hlen < pad && hlen + 1 < sizeof(hdrs))
		hlen += (size_t)snprintf(hdrs + hlen, sizeof(hdrs) - hlen, "X-Pad: %064zu\r\n", hlen);
	return (size_t)snprintf(out, cap,
				"INVITE sip:b@example.com SIP/2.0\r\n"
				"Via: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK-%s\r\n"
				"From: <sip:a@example.com>;tag=f1\r\nTo: <sip:b@example.com>\r\n%s"
				"Call-ID: %s\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n"
				"Content-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n%s",
				call_id, hdrs, call_id, blen, body);
}

void fb_datagram(struct fb_datagram *d, int family, const uint8_t *src, const uint8_t *dst,
		 uint32_t id, const void *payload, size_t plen)
{
	const size_t alen = family == AF_INET ? 4 : 16;
	const uint32_t ulen = (uint32_t)(8 + plen);
	uint32_t sum;

	memset(d, 0, sizeof(*d));
	d->family = family;
	d->id = id;
	memcpy(d->src, src, alen);
	memcpy(d->dst, dst, alen);
	fb_put16(d->b, 5062);
	fb_put16(d->b + 2, 5060);
	fb_put16(d->b + 4, ulen);
	memcpy(d->b + 8, payload, plen);
	sum = fb_sum16(src, alen, fb_sum16(dst, alen, 17 + ulen));
	sum = fb_sum16(d->b, ulen, sum);
	fb_put16(d->b + 6, fb_fold(sum) ? fb_fold(sum) : 0xFFFF);
	d->len = ulen;
}

void fb_frag(struct fb_frame *f, const struct fb_datagram *d, size_t off, size_t len, bool mf)
{
	uint8_t *p = f->buf;
	size_t o = 14;

	memset(f, 0, sizeof(*f));
	memcpy(p, MAC_BAL, 6);
	memcpy(p + 6, MAC_CLIENT, 6);
	fb_put16(p + 12, d->family == AF_INET ? 0x0800 : 0x86DD);
	if (d->family == AF_INET) {
		uint8_t *ip = p + o;
		ip[0] = 0x45;
		fb_put16(ip + 2, (uint32_t)(20 + len));
		fb_put16(ip + 4, d->id & 0xFFFF);
		fb_put16(ip + 6, (mf ? 0x2000u : 0) | (uint32_t)(off / 8));
		ip[8] = 64;
		ip[9] = 17;
		memcpy(ip + 12, d->src, 4);
		memcpy(ip + 16, d->dst, 4);
		fb_put16(ip + 10, fb_fold(fb_sum16(ip, 20, 0)));
		o += 20;
	} else {
		uint8_t *ip = p + o, *fh = p + o + 40;
		ip[0] = 0x60;
		fb_put16(ip + 4, (uint32_t)(8 + len));
		ip[6] = 44;
		ip[7] = 64;
		memcpy(ip + 8, d->src, 16);
		memcpy(ip + 24, d->dst, 16);
		fh[0] = 17;
		fb_put16(fh + 2, (uint32_t)off | (mf ? 1u : 0));
		fh[4] = (uint8_t)(d->id >> 24);
		fh[5] = (uint8_t)(d->id >> 16);
		fh[6] = (uint8_t)(d->id >> 8);
		fh[7] = (uint8_t)d->id;
		o += 48;
	}
	memcpy(p + o, d->b + off, len);
	f->len = o + len;
	f->st = pkt_parse(f->buf, f->len, &f->l);
}

void fb_cut(struct fb_frame *f, const struct fb_datagram *d, unsigned n)
{
	const size_t piece = d->len / n / 8 * 8;

	for (unsigned i = 0; i < n; i++) {
		const size_t off = i * piece;
		fb_frag(&f[i], d, off, i + 1 < n ? piece : d->len - off, i + 1 < n);
	}
}
