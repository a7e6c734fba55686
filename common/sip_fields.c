/* Parsers for the header values the scanner records: Via, name-addr (From,
 * To), numbers, Call-ID words, method names. Each reads one bounded range
 * and never fails loudly: what does not parse is left empty. */
#include <string.h>

#include "sip_chars.h"

/* The class table, built from constant expressions so it needs no init. */
#define IS_ALPHA(c) (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z'))
#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')
#define IS_TOKEN_MARK(c)                                                                    \
	((c) == '-' || (c) == '.' || (c) == '!' || (c) == '%' || (c) == '*' || (c) == '_' || \
	 (c) == '+' || (c) == '`' || (c) == '\'' || (c) == '~')
#define IS_WORD_MARK(c)                                                                       \
	((c) == '(' || (c) == ')' || (c) == '<' || (c) == '>' || (c) == ':' || (c) == '\\' ||  \
	 (c) == '"' || (c) == '/' || (c) == '[' || (c) == ']' || (c) == '?' || (c) == '{' ||   \
	 (c) == '}')
#define IS_TOKEN(c) (IS_ALPHA(c) || IS_DIGIT(c) || IS_TOKEN_MARK(c))
#define IS_URI(c) ((c) > 0x20 && (c) < 0x7f && (c) != '<' && (c) != '>' && (c) != '"')
#define CC(c)                                                                              \
	((IS_TOKEN(c) ? CC_TOKEN : 0) | (IS_TOKEN(c) || IS_WORD_MARK(c) ? CC_WORD : 0) |  \
	 (IS_DIGIT(c) ? CC_DIGIT : 0) | (IS_ALPHA(c) ? CC_ALPHA : 0) |                     \
	 ((c) == ' ' || (c) == '\t' || (c) == '\r' || (c) == '\n' ? CC_LWS : 0) |           \
	 (IS_ALPHA(c) || IS_DIGIT(c) || (c) == '+' || (c) == '-' || (c) == '.' ? CC_SCHEME : 0) | \
	 (IS_URI(c) ? CC_URI : 0))
#define CC4(c) CC(c), CC((c) + 1), CC((c) + 2), CC((c) + 3)
#define CC16(c) CC4(c), CC4((c) + 4), CC4((c) + 8), CC4((c) + 12)
#define CC64(c) CC16(c), CC16((c) + 16), CC16((c) + 32), CC16((c) + 48)

const uint8_t sip_cc[256] = { CC64(0), CC64(64), CC64(128), CC64(192) };

bool sip_parse_uint(const uint8_t *from, const uint8_t *to, unsigned max_digits, uint32_t *value)
{
	size_t n = (size_t)(to - from);
	uint64_t v = 0;

	if (n == 0 || n > max_digits || max_digits > 10)
		return false;
	for (const uint8_t *p = from; p < to; p++) {
		if (!cc_is(*p, CC_DIGIT))
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v > UINT32_MAX)
		return false;
	*value = (uint32_t)v;
	return true;
}

bool sip_is_word(const uint8_t *from, const uint8_t *to)
{
	if (from >= to)
		return false;
	for (const uint8_t *p = from; p < to; p++)
		if (!cc_is(*p, CC_WORD))
			return false;
	return true;
}

/* callid = word [ "@" word ] (RFC 3261 section 25.1). Word characters are
 * the visible ASCII bytes but # $ & , ; = @ ^ |, so 16 bytes are checked a
 * step with a range test and a few equality tests. */
bool sip_valid_call_id(const struct sip_text *t, const uint8_t *from, const uint8_t *to)
{
	const uint8_t *p = from, *at = NULL;
	unsigned ats = 0;

	if (from >= to)
		return false;
#ifdef __SSE2__
	while (p < to && t->limit - p >= 16) {
		const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		__m128i bad = _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x21)), /* CTL, SP, >= 0x80 */
					   _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7F)));
		static const char non_word[] = "#$&,;=^|";
		unsigned keep = to - p >= 16 ? 0xFFFFu : (1u << (to - p)) - 1, at_mask;

		for (unsigned i = 0; i < sizeof(non_word) - 1; i++)
			bad = _mm_or_si128(bad, _mm_cmpeq_epi8(v, _mm_set1_epi8(non_word[i])));
		if ((unsigned)_mm_movemask_epi8(bad) & keep)
			return false;
		at_mask = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('@'))) & keep;
		if (at_mask) {
			if (!at)
				at = p + __builtin_ctz(at_mask);
			ats += (unsigned)__builtin_popcount(at_mask);
		}
		p += 16;
	}
#else
	(void)t;
#endif
	for (; p < to; p++) {
		if (*p == '@') {
			if (!at)
				at = p;
			ats++;
		} else if (!cc_is(*p, CC_WORD)) {
			return false;
		}
	}
	return ats == 0 || (ats == 1 && at > from && at + 1 < to);
}

enum sip_method sip_method_lookup(const struct sip_text *t, const uint8_t *p, unsigned len)
{
	static const struct {
		uint8_t len;
		char name[10];
	} methods[] = {
#define SIP_METHOD(id, name) { sizeof(name) - 1, name },
#include "siphon/sip_methods.def"
#undef SIP_METHOD
	};

	/* Methods are case-sensitive (RFC 3261 section 7.1); the known ones
	 * are 3 to 9 bytes: the first 8 compare as one word. */
	uint64_t word;

	if (len < 3 || len > 9)
		return SIP_METHOD_OTHER;
	if (t->limit - p >= 8)
		word = load_word(p, 8) & (len >= 8 ? ~0ull : (1ull << (8 * len)) - 1);
	else
		for (unsigned i = word = 0; i < len; i++)
			word |= (uint64_t)p[i] << (8 * i);
	for (unsigned i = 1; i < SIP_METHOD__COUNT; i++) {
		uint64_t known = 0;
		if (methods[i].len != len)
			continue;
		__builtin_memcpy(&known, methods[i].name, len < 8 ? len : 8);
		if (word == known && (len <= 8 || p[8] == (uint8_t)methods[i].name[8]))
			return (enum sip_method)i;
	}
	return SIP_METHOD_OTHER;
}

/* Skips a quoted string starting at p (which is '"'); returns the byte after
 * the closing quote, or NULL when it is not closed. */
static const uint8_t *skip_quoted(const struct sip_text *t, const uint8_t *p, const uint8_t *to)
{
	p++;
	while (p < to) {
		p = find_any3(p, to, t->limit, '"', '\\', '"');
		if (p == to)
			break;
		if (*p == '"')
			return p + 1;
		p += 2; /* the byte after a backslash is taken as is */
	}
	return NULL;
}

const uint8_t *sip_count_values(const struct sip_text *t, const uint8_t *from, const uint8_t *to,
				uint16_t *count, unsigned room)
{
	const uint8_t *first_end = NULL, *p = find_any3(from, to, t->limit, ',', '"', '<');
	bool content = false;
	unsigned added = 0;

	for (const uint8_t *q = from; q < p && !content; q++)
		content = !cc_is(*q, CC_LWS);
	if (p == to) { /* the common case: one value, nothing to walk */
		if (content && room)
			*count = (uint16_t)(*count + 1);
		return to;
	}
	for (; p < to && added < room; p++) {
		if (*p == '"') {
			const uint8_t *close = skip_quoted(t, p, to);
			p = (close ? close : to) - 1;
			content = true;
		} else if (*p == '<') { /* a URI in <> may hold commas */
			const uint8_t *close = find_byte(p, to, t->limit, '>');
			p = (close < to ? close + 1 : to) - 1;
			content = true;
		} else if (*p == ',') {
			if (content) {
				added++;
				if (!first_end)
					first_end = p;
			}
			content = false;
		} else if (!cc_is(*p, CC_LWS)) {
			content = true;
		}
	}
	if (content && added < room)
		added++;
	*count = (uint16_t)(*count + added);
	return first_end ? first_end : to;
}

static const uint8_t *skip_lws(const uint8_t *p, const uint8_t *to)
{
	while (p < to && cc_is(*p, CC_LWS))
		p++;
	return p;
}

static const uint8_t *skip_token(const uint8_t *p, const uint8_t *to)
{
	while (p < to && cc_is(*p, CC_TOKEN))
		p++;
	return p;
}

/* Finds parameter `name` (lower case) in ";a=b;c" params [p, to); sets *val. */
static void find_param(const struct sip_text *t, const uint8_t *p, const uint8_t *to,
		       const char *name, unsigned name_len, struct sip_span *val)
{
	while (p < to) {
		const uint8_t *start, *name_end, *v, *v_end;

		if (*p != ';') {
			p = find_byte(p, to, t->limit, ';');
			if (p == to)
				return;
		}
		start = skip_lws(p + 1, to);
		name_end = skip_token(start, to);
		v = skip_lws(name_end, to);
		if ((unsigned)(name_end - start) == name_len && eq_lower(start, name, name_len) &&
		    v < to && *v == '=') {
			v = skip_lws(v + 1, to);
			v_end = skip_token(v, to);
			*val = span_of(t->base, v, v_end);
			return;
		}
		p = v;
		if (p < to && *p == '=') { /* skip the value, quoted or not */
			p = skip_lws(p + 1, to);
			if (p < to && *p == '"') {
				p = skip_quoted(t, p, to);
				if (!p)
					return;
			}
		}
	}
}

/* via-parm = sent-protocol LWS sent-by *( SEMI via-params ), where
 * sent-protocol = name SLASH version SLASH transport, with optional LWS
 * around the slashes. [from, to) is one Via value. */
void sip_parse_via(const struct sip_text *t, const uint8_t *from, const uint8_t *to,
		   struct sip_via *via)
{
	const uint8_t *p, *h;

	while (from < to && (*from == ',' || cc_is(*from, CC_LWS))) /* empty values first */
		from++;
	trim_lws(&from, &to);
	via->value = span_of(t->base, from, to);
	p = from;
	/* "SIP/2.0/" in any case of the letters: one word compare */
	if (to - p > 8 && (load_word(p, 8) | 0x202020) == load_word((const uint8_t *)"sip/2.0/", 8)) {
		p += 8;
	} else {
		for (int part = 0; part < 2; part++) {
			const uint8_t *tok = skip_lws(p, to);
			p = skip_token(tok, to);
			if (p == tok)
				return;
			p = skip_lws(p, to);
			if (p == to || *p != '/')
				return;
			p++;
		}
	}
	h = skip_lws(p, to);
	p = skip_token(h, to);
	if (p == h)
		return;
	via->transport = span_of(t->base, h, p);
	h = skip_lws(p, to);
	if (h < to && *h == '[') {
		p = find_byte(h, to, t->limit, ']');
		if (p == to)
			return;
		p++;
	} else {
		p = skip_token(h, to);
	}
	if (p == h)
		return;
	via->host = span_of(t->base, h, p);
	p = skip_lws(p, to);
	if (p < to && *p == ':') {
		const uint8_t *d = skip_lws(p + 1, to);
		p = d;
		while (p < to && cc_is(*p, CC_DIGIT))
			p++;
		via->port = span_of(t->base, d, p);
	}
	p = find_byte(p, to, t->limit, ';');
	via->params = span_of(t->base, p, to);
	find_param(t, p, to, "branch", 6, &via->branch);
}

/* From / To: ( name-addr / addr-spec ) *( SEMI params ), name-addr =
 * [ display-name ] LAQUOT addr-spec RAQUOT. */
void sip_parse_name_addr(const struct sip_text *t, const uint8_t *from, const uint8_t *to,
			 struct sip_name_addr *na)
{
	const uint8_t *p, *laquot, *params;

	trim_lws(&from, &to);
	na->value = span_of(t->base, from, to);
	p = from;
	if (p < to && *p == '"') {
		const uint8_t *close = skip_quoted(t, p, to);
		if (!close)
			return; /* unterminated quoted display name */
		na->display = span_of(t->base, p + 1, close - 1);
		p = close;
	}
	laquot = find_byte(p, to, t->limit, '<');
	if (laquot < to) {
		const uint8_t *raquot = find_byte(laquot, to, t->limit, '>');
		const uint8_t *d = p, *d_end = laquot;
		if (raquot == to)
			return;
		if (na->display.len == 0 && d == from) {
			trim_lws(&d, &d_end);
			na->display = span_of(t->base, d, d_end);
		}
		na->uri = span_of(t->base, laquot + 1, raquot);
		params = raquot + 1;
	} else {
		const uint8_t *u = p, *u_end = find_byte(p, to, t->limit, ';');
		trim_lws(&u, &u_end);
		na->uri = span_of(t->base, u, u_end);
		params = u_end;
	}
	find_param(t, params, to, "tag", 3, &na->tag);
}
