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

#ifdef __SSE2__
/* Bit i set: byte i is neither a word character nor '@'. Word characters
 * are the visible ASCII bytes but # $ & , ; = @ ^ | (a test checks this
 * against the table for every byte). */
static inline unsigned call_id_bad16(__m128i v)
{
	__m128i bad = _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x21)), /* CTL, SP, >= 0x80 */
				   eq16(v, 0x7F));
	bad = _mm_or_si128(bad, _mm_or_si128(in_range16(v, '#', '$'), eq16(v, '&')));
	bad = _mm_or_si128(bad, _mm_or_si128(eq16(v, ','), eq16(v, ';')));
	bad = _mm_or_si128(bad, _mm_or_si128(eq16(v, '='), eq16(v, '^')));
	return mask16(_mm_or_si128(bad, eq16(v, '|')));
}
#endif

/* callid = word [ "@" word ] (RFC 3261 section 25.1), 16 bytes a step. */
bool sip_valid_call_id(const struct sip_text *t, const uint8_t *from, const uint8_t *to)
{
	const uint8_t *p = from, *at = NULL;
	unsigned ats = 0; /* 0, 1, or 2 for "more than one" */

	if (from >= to)
		return false;
#ifdef __SSE2__
	while (p < to && t->limit - p >= 16) {
		const __m128i v = load16(p);
		unsigned keep = to - p >= 16 ? 0xFFFFu : (1u << (to - p)) - 1;
		unsigned at_mask = mask16(eq16(v, '@')) & keep;

		if (call_id_bad16(v) & keep)
			return false;
		if (at_mask) {
			if (!at)
				at = p + __builtin_ctz(at_mask);
			ats += (at_mask & (at_mask - 1)) ? 2 : 1;
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
	_Static_assert(SIP_METHOD__COUNT == 15, "a new method needs a case below");
	enum sip_method m = SIP_METHOD_OTHER;
	uint64_t word, known = 0;

	/* Methods are case-sensitive (RFC 3261 section 7.1). The known ones
	 * differ in length or first letter, so those two pick the only
	 * candidate, and one word compare (plus a ninth byte) decides. */
	if (len < 3 || len > 9)
		return SIP_METHOD_OTHER;
	switch (len * 256 + p[0]) {
	case 3 * 256 + 'A': m = SIP_METHOD_ACK; break;
	case 3 * 256 + 'B': m = SIP_METHOD_BYE; break;
	case 4 * 256 + 'I': m = SIP_METHOD_INFO; break;
	case 5 * 256 + 'P': m = SIP_METHOD_PRACK; break;
	case 5 * 256 + 'R': m = SIP_METHOD_REFER; break;
	case 6 * 256 + 'I': m = SIP_METHOD_INVITE; break;
	case 6 * 256 + 'C': m = SIP_METHOD_CANCEL; break;
	case 6 * 256 + 'N': m = SIP_METHOD_NOTIFY; break;
	case 6 * 256 + 'U': m = SIP_METHOD_UPDATE; break;
	case 7 * 256 + 'O': m = SIP_METHOD_OPTIONS; break;
	case 7 * 256 + 'P': m = SIP_METHOD_PUBLISH; break;
	case 7 * 256 + 'M': m = SIP_METHOD_MESSAGE; break;
	case 8 * 256 + 'R': m = SIP_METHOD_REGISTER; break;
	case 9 * 256 + 'S': m = SIP_METHOD_SUBSCRIBE; break;
	default: return SIP_METHOD_OTHER;
	}
	if (t->limit - p >= 8)
		word = load_word(p, 8) & (len >= 8 ? ~0ull : (1ull << (8 * len)) - 1);
	else
		for (unsigned i = word = 0; i < len; i++)
			word |= (uint64_t)p[i] << (8 * i);
	__builtin_memcpy(&known, methods[m].name, len < 8 ? len : 8);
	if (methods[m].len == len && word == known && (len <= 8 || p[8] == (uint8_t)methods[m].name[8]))
		return m;
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

/* Finds parameter `name` (lower-case letters) in ";a=b;c" params [p, to);
 * sets *val. */
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
		name_end = skip_token(start, to, t->limit);
		v = skip_lws(name_end, to);
		/* a token compares exactly with eq_name */
		if ((unsigned)(name_end - start) == name_len && eq_name(start, name, name_len) &&
		    v < to && *v == '=') {
			v = skip_lws(v + 1, to);
			v_end = skip_token(v, to, t->limit);
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
			p = skip_token(tok, to, t->limit);
			if (p == tok)
				return;
			p = skip_lws(p, to);
			if (p == to || *p != '/')
				return;
			p++;
		}
	}
	h = skip_lws(p, to);
	p = skip_token(h, to, t->limit);
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
		p = skip_token(h, to, t->limit);
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
