#include <sys/socket.h>

#include "checksum.h"
#include "siphon/packet.h"
#include "siphon/bytes.h"

uint16_t csum_fold(uint32_t sum)
{
	sum = (sum & 0xFFFF) + (sum >> 16);
	sum = (sum & 0xFFFF) + (sum >> 16);
	return (uint16_t)sum;
}

uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	uint64_t s = sum;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += rd16(p + i);
	if (i < n)
		s += (uint32_t)p[i] << 8;
	s = (s & 0xFFFFFFFF) + (s >> 32);
	s = (s & 0xFFFFFFFF) + (s >> 32);
	return csum_fold((uint32_t)s);
}

uint32_t csum_add_at(uint32_t sum, const uint8_t *p, size_t n, size_t pos)
{
	uint16_t s;

	if (pos % 2 == 0)
		return csum_add(sum, p, n);
	/* RFC 1071 §2(B): a sum over swapped bytes is the swapped sum */
	s = csum_fold(csum_add(0, p, n));
	return csum_fold((uint32_t)csum_fold(sum) + (uint16_t)(s << 8 | s >> 8));
}

uint16_t csum_update_sum(uint16_t check, uint32_t from, uint32_t to)
{
	uint32_t s = (uint16_t)~check;

	s += (uint16_t)~csum_fold(from);
	s += csum_fold(to);
	return (uint16_t)~csum_fold(s);
}

uint16_t csum_update16(uint16_t check, uint16_t from, uint16_t to)
{
	return csum_update_sum(check, from, to);
}

uint16_t csum_update_bytes(uint16_t check, const uint8_t *from, const uint8_t *to, size_t n)
{
	return csum_update_sum(check, csum_add(0, from, n), csum_add(0, to, n));
}

uint16_t csum_ipv4_header(const uint8_t *ip, size_t ihl)
{
	uint32_t s;

	if (ihl < 20)
		return 0;
	s = csum_add(0, ip, 10);
	s = csum_add(s, ip + 12, ihl - 12);
	return (uint16_t)~csum_fold(s);
}

bool csum_ipv4_header_ok(const uint8_t *ip, size_t ihl)
{
	return ihl >= 20 && csum_fold(csum_add(0, ip, ihl)) == 0xFFFF;
}

uint32_t csum_pseudo(int family, const uint8_t *src, const uint8_t *dst, uint8_t proto,
		     uint32_t l4_len)
{
	const size_t alen = family == AF_INET6 ? 16 : 4;
	uint32_t s = csum_add(0, src, alen);

	s = csum_add(s, dst, alen);
	/* the IPv4 (zero, proto, length) and IPv6 (length32, zero, next
	 * header) tails sum the same */
	return csum_fold(s + proto + (l4_len >> 16) + (l4_len & 0xFFFF));
}

/* Where the checksum field sits, or 0 when the segment has none. */
static size_t check_field(uint8_t proto, size_t len)
{
	if (proto == PKT_PROTO_UDP && len >= 8)
		return 6;
	if (proto == PKT_PROTO_TCP && len >= 20)
		return 16;
	return 0;
}

uint16_t csum_l4(int family, const uint8_t *src, const uint8_t *dst, uint8_t proto,
		 const uint8_t *seg, size_t len)
{
	size_t at = check_field(proto, len);
	uint32_t s;
	uint16_t c;

	if (!at || len > UINT32_MAX)
		return 0;
	s = csum_pseudo(family, src, dst, proto, (uint32_t)len);
	s = csum_add(s, seg, at);
	s = csum_add(s, seg + at + 2, len - at - 2);
	c = (uint16_t)~csum_fold(s);
	return proto == PKT_PROTO_UDP && c == 0 ? 0xFFFF : c;
}

bool csum_l4_ok(int family, const uint8_t *src, const uint8_t *dst, uint8_t proto,
		const uint8_t *seg, size_t len)
{
	size_t at = check_field(proto, len);
	uint32_t s;

	if (!at || len > UINT32_MAX)
		return false;
	if (proto == PKT_PROTO_UDP && rd16(seg + at) == 0)
		return family == AF_INET;
	s = csum_pseudo(family, src, dst, proto, (uint32_t)len);
	return csum_fold(csum_add(s, seg, len)) == 0xFFFF;
}
