/* XXH64 (the xxHash spec, github.com/Cyan4973/xxHash doc/xxhash_spec.md)
 * over at most SIPHON_XDP_HASH_MAX bytes of a map-value buffer: the
 * Call-ID hash the fast path dispatches on (common/callid_hash.c), so the
 * kernel lane picks the same Maglev slot. Parity-tested against
 * callid_hash() by tests/bpf/test_xdp.c (xxh64() over struct
 * hash_scratch) and, through the node picked, by tests/bpf/test_parity.c
 * (the kernel lane's XXH64_DEFINE(xxh64_sks, ...) over the scan buffer,
 * from the Call-ID's offset).
 *
 * Verifier notes: every loop has a constant bound, and every read index is
 * masked to the buffer (an asm mask clang cannot drop; struct hash_scratch
 * has 32 bytes of slack for the widest read, the scan buffer 64). Reads are little-endian, as XXH64 specifies and as
 * -target bpf (bpfel on x86) loads. */
#ifndef SIPHON_HASH_BPF_H
#define SIPHON_HASH_BPF_H

#include <linux/types.h>

#include "siphon/siphon_xdp.h"

#define XXH_P1 0x9E3779B185EBCA87ULL
#define XXH_P2 0xC2B2AE3D27D4EB4FULL
#define XXH_P3 0x165667B19E3779F9ULL
#define XXH_P4 0x85EBCA77C2B2AE63ULL
#define XXH_P5 0x27D4EB2F165667C5ULL

#define XXH_MASK (SIPHON_XDP_HASH_MAX - 1)

static __always_inline __u64 xxh_rotl(__u64 x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static __always_inline __u64 xxh_round(__u64 acc, __u64 in)
{
	acc += in * XXH_P2;
	acc = xxh_rotl(acc, 31);
	return acc * XXH_P1;
}

static __always_inline __u64 xxh_merge(__u64 acc, __u64 v)
{
	acc ^= xxh_round(0, v);
	return acc * XXH_P1 + XXH_P4;
}

/* index & mask, the mask kept from clang (it drops a mask where it
 * proved a bound on another copy of the index) */
#define XXH_AT(b, i, mask) ({ __u64 i_ = (i); asm volatile("%0 &= %1" : "+r"(i_) : "i"(mask)); (b) + i_; })

/* XXH64 of len bytes (clamped to SIPHON_XDP_HASH_MAX) at b + off, every
 * read at b + ((off + i) & mask): b must have mask + 9 readable bytes. */
#define XXH64_DEFINE(name, mask)                                                        \
static __always_inline __u64 name(const __u8 *b, __u32 off, __u32 len, __u64 seed)     \
{                                                                                       \
	__u32 i = 0;                                                                    \
	__u64 h;                                                                        \
                                                                                        \
	if (len > SIPHON_XDP_HASH_MAX)                                                  \
		len = SIPHON_XDP_HASH_MAX;                                              \
	if (len >= 32) {                                                                \
		__u64 v1 = seed + XXH_P1 + XXH_P2, v2 = seed + XXH_P2;                  \
		__u64 v3 = seed, v4 = seed - XXH_P1;                                    \
                                                                                        \
		for (int n = 0; n < SIPHON_XDP_HASH_MAX / 32; n++) {                    \
			if (i + 32 > len)                                               \
				break;                                                  \
			v1 = xxh_round(v1, *(const __u64 *)XXH_AT(b, off + i, mask));      \
			v2 = xxh_round(v2, *(const __u64 *)XXH_AT(b, off + i + 8, mask));  \
			v3 = xxh_round(v3, *(const __u64 *)XXH_AT(b, off + i + 16, mask)); \
			v4 = xxh_round(v4, *(const __u64 *)XXH_AT(b, off + i + 24, mask)); \
			i += 32;                                                        \
		}                                                                       \
		h = xxh_rotl(v1, 1) + xxh_rotl(v2, 7) + xxh_rotl(v3, 12) + xxh_rotl(v4, 18); \
		h = xxh_merge(h, v1);                                                   \
		h = xxh_merge(h, v2);                                                   \
		h = xxh_merge(h, v3);                                                   \
		h = xxh_merge(h, v4);                                                   \
	} else {                                                                        \
		h = seed + XXH_P5;                                                      \
	}                                                                               \
	h += len;                                                                       \
	for (int n = 0; n < 3; n++) {                                                   \
		if (i + 8 > len)                                                        \
			break;                                                          \
		h ^= xxh_round(0, *(const __u64 *)XXH_AT(b, off + i, mask));            \
		h = xxh_rotl(h, 27) * XXH_P1 + XXH_P4;                                  \
		i += 8;                                                                 \
	}                                                                               \
	if (i + 4 <= len) {                                                             \
		h ^= (__u64)*(const __u32 *)XXH_AT(b, off + i, mask) * XXH_P1;          \
		h = xxh_rotl(h, 23) * XXH_P2 + XXH_P3;                                  \
		i += 4;                                                                 \
	}                                                                               \
	for (int n = 0; n < 3; n++) {                                                   \
		if (i >= len)                                                           \
			break;                                                          \
		h ^= (__u64)*XXH_AT(b, off + i, mask) * XXH_P5;                         \
		h = xxh_rotl(h, 11) * XXH_P1;                                           \
		i++;                                                                    \
	}                                                                               \
	h ^= h >> 33;                                                                   \
	h *= XXH_P2;                                                                    \
	h ^= h >> 29;                                                                   \
	h *= XXH_P3;                                                                    \
	h ^= h >> 32;                                                                   \
	return h;                                                                       \
}

/* xxh64_masked(): over a struct hash_scratch (b[0..len)) */
XXH64_DEFINE(xxh64_masked, XXH_MASK)

static __always_inline __u64 xxh64(const __u8 *b, __u32 len, __u64 seed)
{
	return xxh64_masked(b, 0, len, seed);
}

#endif
