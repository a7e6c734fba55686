/* The STUN binding success response (RFC 5389 7.3.1, 15.2). */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "answer.h"

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Header and attributes of a binding request, every length checked. */
static bool is_binding_request(const uint8_t *req, size_t len)
{
	size_t body, off;

	if (len < STUN_HEADER_LEN || len > 65535 + STUN_HEADER_LEN)
		return false;
	/* the type's top two bits are 0 and it is a binding request */
	if (get16(req) != STUN_BINDING_REQUEST)
		return false;
	body = get16(req + 2);
	if (body % 4 || body != len - STUN_HEADER_LEN)
		return false;
	if (req[4] != 0x21 || req[5] != 0x12 || req[6] != 0xA4 || req[7] != 0x42)
		return false;
	for (off = STUN_HEADER_LEN; off < len;) {
		size_t alen;

		if (len - off < 4)
			return false;
		alen = get16(req + off + 2);
		alen = (alen + 3) & ~(size_t)3; /* padded to 4 */
		if (alen > len - off - 4)
			return false;
		off += 4 + alen;
	}
	return true;
}

int answer_stun(const uint8_t *req, size_t len, const struct sip_endpoint *src, uint8_t *out,
		size_t cap, size_t *out_len)
{
	size_t alen, n;
	uint8_t *a;

	if (!is_binding_request(req, len))
		return -EINVAL;
	if (src->ip.family == AF_INET)
		alen = 8;
	else if (src->ip.family == AF_INET6)
		alen = 20;
	else
		return -EINVAL;
	n = STUN_HEADER_LEN + 4 + alen;
	if (cap < n)
		return -ENOSPC;
	put16(out, STUN_BINDING_SUCCESS);
	put16(out + 2, (uint16_t)(4 + alen));
	memcpy(out + 4, req + 4, 16); /* the cookie and the transaction id */
	a = out + STUN_HEADER_LEN;
	put16(a, STUN_XOR_MAPPED_ADDRESS);
	put16(a + 2, (uint16_t)alen);
	a[4] = 0;
	a[5] = src->ip.family == AF_INET ? 0x01 : 0x02;
	put16(a + 6, (uint16_t)(src->port ^ (STUN_MAGIC_COOKIE >> 16)));
	/* the address XOR the cookie, then (IPv6) the transaction id: bytes
	 * 4..19 of the header */
	for (size_t i = 0; i < alen - 4; i++)
		a[8 + i] = src->ip.addr[i] ^ out[4 + i];
	*out_len = n;
	return 0;
}
