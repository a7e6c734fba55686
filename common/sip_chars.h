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

/* Like eq_lower for a constant literal of letters and '-' only, a word at a
 * time: OR-ing 0x20 lowers A-Z and changes no other byte into a letter or
 * '-' except CR (0x0D -> '-'), which never stands inside a line. */
static inline bool eq_name(const uint8_t *p, const char *lower, unsigned n)
{
	const uint64_t case_bits = 0x2020202020202020ull;

	for (unsigned i = 0; i < n; i += 8) {
		unsigned k = n - i < 8 ? n - i : 8;
		uint64_t mask = k == 8 ? case_bits : case_bits & ((1ull << (8 * k)) - 1);
		if ((load_word(p + i, k) | mask) != load_word((const uint8_t *)lower + i, k))
			return false;
	}
	return true;
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

/* Bytes in [lo, hi]: adding 0x80 - lo moves that range to the bottom of
 * the signed order, where one compare finds it. */
static inline __m128i in_range16(__m128i v, uint8_t lo, uint8_t hi)
{
	return _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8((char)(0x80 - lo))),
			      _mm_set1_epi8((char)(0x80 + (hi - lo) + 1)));
}

static inline __m128i eq16(__m128i v, char c)
{
	return _mm_cmpeq_epi8(v, _mm_set1_epi8(c));
}

/* Bit i set: byte i is a token character (CC_TOKEN, checked by a test
 * against the table for every byte). */
static inline unsigned token_mask16(__m128i v)
{
	__m128i t = _mm_or_si128(in_range16(_mm_or_si128(v, _mm_set1_epi8(0x20)), 'a', 'z'),
				 in_range16(v, '0', '9'));
	__m128i m = _mm_or_si128(_mm_or_si128(in_range16(v, '*', '+'), in_range16(v, '-', '.')),
				 in_range16(v, '_', '`'));
	m = _mm_or_si128(m, _mm_or_si128(_mm_or_si128(eq16(v, '!'), eq16(v, '%')),
					 _mm_or_si128(eq16(v, '\''), eq16(v, '~'))));
	return mask16(_mm_or_si128(t, m));
}
#endif

/* First byte in [p, end) equal to a, b or c, or end. The scanner's per-byte
 * loops go through here: 16 bytes a step where SSE2 exists, reading ahead
 * of end (but not of limit) so that short ranges need no byte loop. */
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

static inline const uint8_t *find_byte(const uint8_t *p, const uint8_t *end, const uint8_t *limit,
				       uint8_t c)
{
#ifdef __SSE2__
	while (p < end && limit - p >= 16) {
		unsigned mask = mask16(eq16(load16(p), (char)c));
		if (mask) {
			p += __builtin_ctz(mask);
			return p < end ? p : end;
		}
		p += 16;
	}
#else
	(void)limit;
#endif
	while (p < end && *p != c)
		p++;
	return p < end ? p : end;
}

/* First byte in [p, to) that is not a token character, or to. */
static inline const uint8_t *skip_token(const uint8_t *p, const uint8_t *to, const uint8_t *limit)
{
#ifdef __SSE2__
	while (p < to && limit - p >= 16) {
		unsigned stop = ~token_mask16(load16(p)) & 0xFFFFu;
		if (stop) {
			p += __builtin_ctz(stop);
			return p < to ? p : to;
		}
		p += 16;
	}
#else
	(void)limit;
#endif
	while (p < to && cc_is(*p, CC_TOKEN))
		p++;
	return p < to ? p : to;
}

/* Value parsers (sip_fields.c); each judges [from, to) only. */
void sip_parse_via(const struct sip_text *t, const uint8_t *from, const uint8_t *to,
		   struct sip_via *via);
void sip_parse_name_addr(const struct sip_text *t, const uint8_t *from, const uint8_t *to,
			 struct sip_name_addr *na);
/* Counts the comma-separated non-empty values of a header value, adding at
 * most `room` to *count; returns the end of the first value. */
const uint8_t *sip_count_values(const struct sip_text *t, const uint8_t *from, const uint8_t *to,
				uint16_t *count, unsigned room);
/* 1-`max_digits` digits, nothing else; false otherwise. */
bool sip_parse_uint(const uint8_t *from, const uint8_t *to, unsigned max_digits, uint32_t *value);
bool sip_valid_call_id(const struct sip_text *t, const uint8_t *from, const uint8_t *to);
enum sip_method sip_method_lookup(const struct sip_text *t, const uint8_t *p, unsigned len);

#endif
