/* Internet checksums for the packet layer (docs/packets.md): the RFC 1071
 * ones' complement sum, RFC 1624 incremental updates, and full UDP / TCP /
 * IPv4 header checksums used where a full sum is simpler and by the tests to
 * verify every rewritten packet from scratch.
 *
 * Checksum values are host-order numbers of the big-endian field: read the
 * field as p[0] << 8 | p[1], write it back the same way. Sums are 32-bit
 * partial sums, always folded to at most 0xFFFF on return, so a few of them
 * can be added without overflow. */
#ifndef SIPHON_CHECKSUM_H
#define SIPHON_CHECKSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 1071: `sum` plus the 16-bit big-endian words of p[0..n), an odd last
 * byte padded with zero. The bytes start at an even position of the data
 * being checksummed. */
uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n);
/* The same for bytes that start at position `pos` of the data being
 * checksummed (only the parity matters: an odd start swaps the bytes). */
uint32_t csum_add_at(uint32_t sum, const uint8_t *p, size_t n, size_t pos);
/* End-around carries folded in: 0..0xFFFF. */
uint16_t csum_fold(uint32_t sum);

/* RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'): the checksum after data whose
 * sum was `from` became data whose sum is `to` (removed bytes: to = 0). */
uint16_t csum_update_sum(uint16_t check, uint32_t from, uint32_t to);
/* ... for one 16-bit word, */
uint16_t csum_update16(uint16_t check, uint16_t from, uint16_t to);
/* ... and for n bytes at an even position (IPv4 / IPv6 addresses: 4, 16). */
uint16_t csum_update_bytes(uint16_t check, const uint8_t *from, const uint8_t *to, size_t n);

/* The IPv4 header checksum to store, the field counted as zero; ihl in
 * bytes (20..60). */
uint16_t csum_ipv4_header(const uint8_t *ip, size_t ihl);
bool csum_ipv4_header_ok(const uint8_t *ip, size_t ihl);

/* The pseudo-header sum (RFC 768 / RFC 793 for IPv4, RFC 8200 §8.1 for
 * IPv6); family AF_INET (4-byte addresses) or AF_INET6 (16-byte). */
uint32_t csum_pseudo(int family, const uint8_t *src, const uint8_t *dst, uint8_t proto,
		     uint32_t l4_len);

/* The UDP or TCP checksum to store for the segment seg[0..len) (header and
 * payload; the checksum field counted as zero). UDP: a computed 0 is sent
 * as 0xFFFF. 0 when proto is neither UDP nor TCP or len cannot hold the
 * header. */
uint16_t csum_l4(int family, const uint8_t *src, const uint8_t *dst, uint8_t proto,
		 const uint8_t *seg, size_t len);
/* The segment's checksum field is right. UDP over IPv4 with a zero field
 * ("no checksum") is right; over IPv6 it is not. */
bool csum_l4_ok(int family, const uint8_t *src, const uint8_t *dst, uint8_t proto,
		const uint8_t *seg, size_t len);

#endif
