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

/* callid = word [ "@" word ] (RFC 3261 section 25.1) */
bool sip_valid_call_id(const uint8_t *from, const uint8_t *to)
{
	const uint8_t *at = memchr(from, '@', (size_t)(to - from));

	if (!at)
		return sip_is_word(from, to);
	return sip_is_word(from, at) && sip_is_word(at + 1, to);
}

enum sip_method sip_method_lookup(const uint8_t *p, unsigned len)
{
	static const struct {
		uint8_t len;
		char name[10];
	} methods[] = {
#define SIP_METHOD(id, name) { sizeof(name) - 1, name },
#include "siphon/sip_methods.def"
#undef SIP_METHOD
	};

	/* Methods are case-sensitive (RFC 3261 section 7.1). */
	for (unsigned i = 1; i < SIP_METHOD__COUNT; i++)
		if (methods[i].len == len && memcmp(p, methods[i].name, len) == 0)
			return (enum sip_method)i;
	return SIP_METHOD_OTHER;
}

/* Skips a quoted string starting at p (which is '"'); returns the byte after
 * the closing quote, or NULL when it is not closed. */
static const uint8_t *skip_quoted(const uint8_t *p, const uint8_t *to)
{
	for (p++; p < to; p++) {
		if (*p == '\\' && p + 1 < to)
			p++;
		else if (*p == '"')
			return p + 1;
	}
	return NULL;
}

const uint8_t *sip_count_values(const uint8_t *from, const uint8_t *to, uint16_t *count, unsigned room)
{
	const uint8_t *first_end = NULL;
	bool content = false;
	unsigned added = 0;

	for (const uint8_t *p = from; p < to && added < room; p++) {
		if (*p == '"') {
			const uint8_t *close = skip_quoted(p, to);
			p = (close ? close : to) - 1;
			content = true;
		} else if (*p == '<') { /* a URI in <> may hold commas */
			const uint8_t *close = memchr(p, '>', (size_t)(to - p));
			p = (close ? close + 1 : to) - 1;
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

/* Finds parameter `name` (lower case) in ";a=b;c" params [p, to); sets *val. */
static void find_param(const uint8_t *base, const uint8_t *p, const uint8_t *to, const char *name,
		       unsigned name_len, struct sip_span *val)
{
	while (p < to) {
		const uint8_t *start, *name_end, *v, *v_end;

		if (*p != ';') {
			p++;
			continue;
		}
		start = p + 1;
		while (start < to && cc_is(*start, CC_LWS))
			start++;
		name_end = start;
		while (name_end < to && cc_is(*name_end, CC_TOKEN))
			name_end++;
		v = name_end;
		while (v < to && cc_is(*v, CC_LWS))
			v++;
		if ((unsigned)(name_end - start) == name_len && eq_lower(start, name, name_len) &&
		    v < to && *v == '=') {
			v++;
			while (v < to && cc_is(*v, CC_LWS))
				v++;
			v_end = v;
			while (v_end < to && cc_is(*v_end, CC_TOKEN))
				v_end++;
			*val = span_of(base, v, v_end);
			return;
		}
		p = v;
		if (p < to && *p == '=') { /* skip the value, quoted or not */
			p++;
			while (p < to && cc_is(*p, CC_LWS))
				p++;
			if (p < to && *p == '"') {
				p = skip_quoted(p, to);
				if (!p)
					return;
			}
		}
	}
}

/* via-parm = sent-protocol LWS sent-by *( SEMI via-params ), where
 * sent-protocol = name SLASH version SLASH transport, with optional LWS
 * around the slashes. [from, to) is one Via value. */
void sip_parse_via(const uint8_t *base, const uint8_t *from, const uint8_t *to, struct sip_via *via)
{
	const uint8_t *p, *t, *h;

	trim_lws(&from, &to);
	via->value = span_of(base, from, to);
	p = from;
	for (int part = 0; part < 3; part++) {
		const uint8_t *t_end;
		while (p < to && cc_is(*p, CC_LWS))
			p++;
		t = p;
		while (p < to && cc_is(*p, CC_TOKEN))
			p++;
		if (p == t)
			return;
		t_end = p;
		while (p < to && cc_is(*p, CC_LWS))
			p++;
		if (part == 2)
			via->transport = span_of(base, t, t_end);
		else if (p < to && *p == '/')
			p++;
		else
			return;
	}
	h = p;
	if (p < to && *p == '[') {
		const uint8_t *close = memchr(p, ']', (size_t)(to - p));
		if (!close)
			return;
		p = close + 1;
	} else {
		while (p < to && cc_is(*p, CC_TOKEN))
			p++;
	}
	if (p == h)
		return;
	via->host = span_of(base, h, p);
	while (p < to && cc_is(*p, CC_LWS))
		p++;
	if (p < to && *p == ':') {
		const uint8_t *d;
		p++;
		while (p < to && cc_is(*p, CC_LWS))
			p++;
		d = p;
		while (p < to && cc_is(*p, CC_DIGIT))
			p++;
		via->port = span_of(base, d, p);
	}
	while (p < to && *p != ';')
		p++;
	via->params = span_of(base, p, to);
	find_param(base, p, to, "branch", 6, &via->branch);
}

/* From / To: ( name-addr / addr-spec ) *( SEMI params ), name-addr =
 * [ display-name ] LAQUOT addr-spec RAQUOT. */
void sip_parse_name_addr(const uint8_t *base, const uint8_t *from, const uint8_t *to,
			 struct sip_name_addr *na)
{
	const uint8_t *p, *laquot, *params;

	trim_lws(&from, &to);
	na->value = span_of(base, from, to);
	p = from;
	if (p < to && *p == '"') {
		const uint8_t *close = skip_quoted(p, to);
		if (!close)
			return; /* unterminated quoted display name */
		na->display = span_of(base, p + 1, close - 1);
		p = close;
	}
	laquot = memchr(p, '<', (size_t)(to - p));
	if (laquot) {
		const uint8_t *raquot = memchr(laquot, '>', (size_t)(to - laquot));
		const uint8_t *d = p, *d_end = laquot;
		if (!raquot)
			return;
		if (na->display.len == 0 && d == from) {
			trim_lws(&d, &d_end);
			na->display = span_of(base, d, d_end);
		}
		na->uri = span_of(base, laquot + 1, raquot);
		params = raquot + 1;
	} else {
		const uint8_t *semi = memchr(p, ';', (size_t)(to - p));
		const uint8_t *u = p, *u_end = semi ? semi : to;
		trim_lws(&u, &u_end);
		na->uri = span_of(base, u, u_end);
		params = u_end;
	}
	find_param(base, params, to, "tag", 3, &na->tag);
}
