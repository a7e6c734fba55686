/* Character classes of RFC 3261 section 25.1 as one constant table, and the
 * small helpers the scanner's parsers share. Internal to common/. */
#ifndef SIPHON_SIP_CHARS_H
#define SIPHON_SIP_CHARS_H

#include <stdbool.h>
#include <stdint.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "siphon/sip_scan.h"

enum {
	CC_TOKEN = 1 << 0,  /* token: alphanum - . ! % * _ + ` ' ~ */
	CC_WORD = 1 << 1,   /* word: token plus ( ) < > : \ " / [ ] ? { } */
	CC_DIGIT = 1 << 2,
	CC_ALPHA = 1 << 3,
	CC_LWS = 1 << 4,    /* SP HTAB CR LF: whitespace inside a folded value */
	CC_SCHEME = 1 << 5, /* after a scheme's first letter: alphanum + - . */
	CC_URI = 1 << 6,    /* visible ASCII that may stand in a Request-URI */
};

/* Hidden: the library is built -fPIC, and a default-visibility table would
 * cost a GOT load on every use. */
extern const uint8_t sip_cc[256] __attribute__((visibility("hidden")));

/* For the few helpers of the per-line and per-byte paths that the compiler
 * would otherwise leave as calls. */
#define SIP_ALWAYS_INLINE static inline __attribute__((always_inline))

static inline bool cc_is(uint8_t c, unsigned cls)
{
	return (sip_cc[c] & cls) != 0;
}

static inline uint8_t ascii_lower(uint8_t c)
{
	return (uint8_t)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
}

/* Case-insensitive compare of n bytes against a lower-case literal. */
static inline bool eq_lower(const uint8_t *p, const char *lower, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (ascii_lower(p[i]) != (uint8_t)lower[i])
			return false;
	return true;
}

/* n <= 8 bytes as one little-endian word; with a constant n the compiler
 * makes this one or two loads. */
static inline uint64_t load_word(const uint8_t *p, unsigned n)
{
	uint64_t w = 0;
	__builtin_memcpy(&w, p, n);
	return w;
}

/* Up to 8 bytes of a string literal as a constant word, zero-padded. */
#define LIT8(lit) load_word((const uint8_t *)(lit "\0\0\0\0\0\0\0"), 8)

/* OR-ing 0x20 into every byte lowers A-Z and makes no other byte a letter,
 * nor a '-' but CR (0x0D), which never stands inside a line: names compare
 * with lower-case literals a word at a time. */
#define CASE_BITS 0x2020202020202020ull

static inline uint64_t low_bytes(uint64_t w, unsigned n)
{
	return n >= 8 ? w : w & ((1ull << (8 * n)) - 1);
}

/* The n <= 8 bytes at p, letters lowered (CASE_BITS), equal `word`
 * (LIT8 of a lower-case literal). One load where limit allows it. */
SIP_ALWAYS_INLINE bool eq_word(const uint8_t *p, uint64_t word, unsigned n, const uint8_t *limit)
{
	uint64_t w = 0;

	if (limit - p >= 8)
		w = load_word(p, 8);
	else
		for (unsigned i = 0; i < n; i++)
			w |= (uint64_t)p[i] << (8 * i);
	return low_bytes(w | CASE_BITS, n) == word;
}

static inline struct sip_span span_of(const uint8_t *base, const uint8_t *from, const uint8_t *to)
{
	return (struct sip_span){ (uint16_t)(from - base), (uint16_t)(to - from) };
}

static inline const uint8_t *skip_lws(const uint8_t *p, const uint8_t *to)
{
	while (p < to && cc_is(*p, CC_LWS))
		p++;
	return p;
}

/* Narrows [*from, *to) past leading and trailing SP HTAB CR LF. */
static inline void trim_lws(const uint8_t **from, const uint8_t **to)
{
	const uint8_t *a = skip_lws(*from, *to), *b = *to;
	while (b > a && cc_is(b[-1], CC_LWS))
		b--;
	*from = a;
	*to = b;
}

/* 1-`max_digits` digits (at most 10), nothing else; false otherwise. */
SIP_ALWAYS_INLINE bool sip_parse_uint(const uint8_t *from, const uint8_t *to, unsigned max_digits,
				      uint32_t *value)
{
	size_t n = (size_t)(to - from);
	uint64_t v = 0;

	if (n == 0 || n > max_digits || max_digits > 10)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)from[i] - '0';
		if (d > 9)
			return false;
		v = v * 10 + d;
	}
	if (v > UINT32_MAX)
		return false;
	*value = (uint32_t)v;
	return true;
}

/* The payload being scanned: offsets are from base, and the SIMD searches
 * may read ahead up to limit (the end of the payload), never past it. */
struct sip_text {
	const uint8_t *base, *limit;
};

#ifdef __SSE2__
static inline __m128i load16(const uint8_t *p)
{
	return _mm_loadu_si128((const __m128i *)(const void *)p);
}

static inline unsigned mask16(__m128i v)
{
	return (unsigned)_mm_movemask_epi8(v);
}

/* Bytes in [lo, hi]: adding 0x7F - hi moves that range to the top of the
 * signed order, where one compare (with a constant operand) finds it. */
static inline __m128i in_range16(__m128i v, uint8_t lo, uint8_t hi)
{
	return _mm_cmpgt_epi8(_mm_add_epi8(v, _mm_set1_epi8((char)(0x7F - hi))),
			      _mm_set1_epi8((char)(0x7E - (hi - lo))));
}

static inline __m128i eq16(__m128i v, char c)
{
	return _mm_cmpeq_epi8(v, _mm_set1_epi8(c));
}

/* Bit i set: byte i is a letter, a digit, '-' or '.'. These are token
 * characters and nearly all of those in hosts, tags, branches, methods and
 * header names, for a third of the cost of testing the whole token class. */
static inline unsigned alnum_dot16(__m128i v)
{
	__m128i letter = in_range16(_mm_or_si128(v, _mm_set1_epi8(0x20)), 'a', 'z');
	__m128i digit_dot = _mm_or_si128(in_range16(v, '0', '9'), in_range16(v, '-', '.'));
	return mask16(_mm_or_si128(letter, digit_dot));
}
#endif

/* First byte in [p, end) equal to a, b or c, or end: 16 bytes a step where
 * SSE2 exists, reading ahead of end (but not of limit) so that short ranges
 * need no byte loop. */
static inline const uint8_t *find_any3(const uint8_t *p, const uint8_t *end, const uint8_t *limit,
				       uint8_t a, uint8_t b, uint8_t c)
{
#ifdef __SSE2__
	while (p < end && limit - p >= 16) {
		__m128i v = load16(p);
		unsigned mask = mask16(_mm_or_si128(_mm_or_si128(eq16(v, (char)a), eq16(v, (char)b)),
						    eq16(v, (char)c)));
		if (mask) {
			p += __builtin_ctz(mask);
			return p < end ? p : end;
		}
		p += 16;
	}
#else
	(void)limit;
#endif
	while (p < end && *p != a && *p != b && *p != c)
		p++;
	return p < end ? p : end;
}

/* The same for one byte (the compiler folds the repeated SIMD compares;
 * measured: 6 instructions more per INVITE than a copy of the loop). */
static inline const uint8_t *find_byte(const uint8_t *p, const uint8_t *end, const uint8_t *limit,
				       uint8_t c)
{
	return find_any3(p, end, limit, c, c, c);
}

/* First byte in [p, to) that is not a token character, or to. The SIMD
 * step stops at the first byte outside alnum_dot16(); the table decides
 * whether that byte ends the token. */
static inline const uint8_t *skip_token(const uint8_t *p, const uint8_t *to, const uint8_t *limit)
{
#ifdef __SSE2__
	while (p < to && limit - p >= 16) {
		unsigned stop = ~alnum_dot16(load16(p)) & 0xFFFFu;
		if (!stop) {
			p += 16;
			continue;
		}
		p += __builtin_ctz(stop);
		if (p >= to || !cc_is(*p, CC_TOKEN))
			return p < to ? p : to;
		p++; /* one of ! % * _ + ` ' ~ */
	}
#else
	(void)limit;
#endif
	while (p < to && cc_is(*p, CC_TOKEN))
		p++;
	return p < to ? p : to;
}

/* The same as a byte loop, for tokens of a few bytes (methods, transports). */
static inline const uint8_t *skip_token_short(const uint8_t *p, const uint8_t *to)
{
	while (p < to && cc_is(*p, CC_TOKEN))
		p++;
	return p;
}

/* The headers the scanner parses, by the name's length and its first 16
 * bytes with CASE_BITS set, as two little-endian words (bytes past the name
 * do not matter). A test checks this lookup against sip_headers.def in
 * every letter case, through sip_parsed_header_lookup(). */
static inline int parsed_header_id(unsigned len, uint64_t lo, uint64_t hi)
{
	switch (len) {
	case 1:
		switch (lo & 0xFF) {
		case 'i': return SIP_HDR_CALL_ID;
		case 'v': return SIP_HDR_VIA;
		case 'f': return SIP_HDR_FROM;
		case 't': return SIP_HDR_TO;
		case 'l': return SIP_HDR_CONTENT_LENGTH;
		default: return -1;
		}
	case 2:
		return low_bytes(lo, 2) == LIT8("to") ? SIP_HDR_TO : -1;
	case 3:
		return low_bytes(lo, 3) == LIT8("via") ? SIP_HDR_VIA : -1;
	case 4:
		if (low_bytes(lo, 4) == LIT8("from"))
			return SIP_HDR_FROM;
		return low_bytes(lo, 4) == LIT8("cseq") ? SIP_HDR_CSEQ : -1;
	case 5:
		return low_bytes(lo, 5) == LIT8("route") ? SIP_HDR_ROUTE : -1;
	case 7:
		return low_bytes(lo, 7) == LIT8("call-id") ? SIP_HDR_CALL_ID : -1;
	case 10:
		if (lo == LIT8("user-age") && low_bytes(hi, 2) == LIT8("nt"))
			return SIP_HDR_USER_AGENT;
		return -1;
	case 12:
		if (lo == LIT8("max-forw") && low_bytes(hi, 4) == LIT8("ards"))
			return SIP_HDR_MAX_FORWARDS;
		return -1;
	case 14:
		if (lo == LIT8("content-") && low_bytes(hi, 6) == LIT8("length"))
			return SIP_HDR_CONTENT_LENGTH;
		return -1;
	default:
		return -1;
	}
}

/* The caller-chosen headers a name is, as a mask of their indexes: each
 * entry compared. */
uint32_t sip_extra_lookup(const struct sip_extra_set *set, const uint8_t *name, unsigned len);

/* The same for a header line whose name the scanner found to be parsed
 * header id (or -1): from the set's index when it has one, so that most
 * lines cost two loads and no compare. */
SIP_ALWAYS_INLINE uint32_t sip_extra_lookup_id(const struct sip_extra_set *set, int id,
					       const uint8_t *name, unsigned len)
{
	if (set->indexed) {
		if (id >= 0)
			return len == 1 ? set->by_compact[id] : set->by_long[id];
		if (len >= SIP_EXTRA_NAME_MAX || !set->by_len[len])
			return 0;
	}
	return sip_extra_lookup(set, name, len);
}

/* Value parsers (sip_fields.c); each judges [from, to) only. */
void sip_parse_via(const struct sip_text *t, const uint8_t *from, const uint8_t *to,
		   bool branch, struct sip_via *via); /* branch: look for via->branch */
void sip_parse_name_addr(const struct sip_text *t, const uint8_t *from, const uint8_t *to,
			 struct sip_name_addr *na);
/* Counts the comma-separated non-empty values of a header value, adding at
 * most `room` to *count; returns the end of the first value. */
const uint8_t *sip_count_values(const struct sip_text *t, const uint8_t *from, const uint8_t *to,
				uint16_t *count, unsigned room);
bool sip_valid_call_id(const struct sip_text *t, const uint8_t *from, const uint8_t *to);
enum sip_method sip_method_lookup(const struct sip_text *t, const uint8_t *p, unsigned len);

#endif
