/* Character classes of RFC 3261 section 25.1 as one constant table, and the
 * small helpers the scanner's parsers share. Internal to common/. */
#ifndef SIPHON_SIP_CHARS_H
#define SIPHON_SIP_CHARS_H

#include <stdbool.h>
#include <stdint.h>

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

extern const uint8_t sip_cc[256];

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

static inline struct sip_span span_of(const uint8_t *base, const uint8_t *from, const uint8_t *to)
{
	return (struct sip_span){ (uint16_t)(from - base), (uint16_t)(to - from) };
}

/* Narrows [*from, *to) past leading and trailing SP HTAB CR LF. */
static inline void trim_lws(const uint8_t **from, const uint8_t **to)
{
	const uint8_t *a = *from, *b = *to;
	while (a < b && cc_is(*a, CC_LWS))
		a++;
	while (b > a && cc_is(b[-1], CC_LWS))
		b--;
	*from = a;
	*to = b;
}

/* Value parsers (sip_fields.c); each reads [from, to) of `base` only. */
void sip_parse_via(const uint8_t *base, const uint8_t *from, const uint8_t *to, struct sip_via *via);
void sip_parse_name_addr(const uint8_t *base, const uint8_t *from, const uint8_t *to,
			 struct sip_name_addr *na);
/* Counts the comma-separated non-empty values of a header value, adding at
 * most `room` to *count; returns the end of the first value. */
const uint8_t *sip_count_values(const uint8_t *from, const uint8_t *to, uint16_t *count, unsigned room);
/* 1-`max_digits` digits, nothing else; false otherwise. */
bool sip_parse_uint(const uint8_t *from, const uint8_t *to, unsigned max_digits, uint32_t *value);
bool sip_is_word(const uint8_t *from, const uint8_t *to);
bool sip_valid_call_id(const uint8_t *from, const uint8_t *to);
enum sip_method sip_method_lookup(const uint8_t *p, unsigned len);

#endif
