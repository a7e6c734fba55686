/* Header names (the parsed ones, the extra sets) and parsers for the
 * header values the scanner records: Via, name-addr (From, To), Call-ID
 * words, method names. Each reads one bounded range and never fails
 * loudly: what does not parse is left empty. */
#include <errno.h>
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

/* ---- header names ---------------------------------------------------- */

static bool eq_nocase(const uint8_t *p, const char *name, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (ascii_lower(p[i]) != ascii_lower((uint8_t)name[i]))
			return false;
	return true;
}

static const struct {
	uint8_t len;
	char compact;
	char name[22];
} known_headers[] = {
#define SIP_HEADER(id, name, compact) { sizeof(name) - 1, compact, name },
#include "siphon/sip_headers.def"
#undef SIP_HEADER
};

/* Any known name, long or compact: for building extra sets (not per packet). */
static int known_header_lookup(const uint8_t *name, unsigned len)
{
	for (unsigned i = 0; i < SIP_HDR__COUNT; i++)
		if ((known_headers[i].len == len && eq_nocase(name, known_headers[i].name, len)) ||
		    (len == 1 && known_headers[i].compact == ascii_lower(name[0])))
			return (int)i;
	return -1;
}

int sip_parsed_header_lookup(const uint8_t *name, unsigned len)
{
	uint8_t b[16] = { 0 };

	if (len == 0 || len > sizeof(b))
		return -1;
	memcpy(b, name, len);
	return parsed_header_id(len, load_word(b, 8) | CASE_BITS, load_word(b + 8, 8) | CASE_BITS);
}

int sip_extra_add(struct sip_extra_set *set, const char *name)
{
	size_t len = strlen(name);
	struct sip_extra_header h = { .len = 0 };
	int id;

	if (len == 0 || len >= SIP_EXTRA_NAME_MAX)
		return -EINVAL;
	for (size_t i = 0; i < len; i++)
		if (!cc_is((uint8_t)name[i], CC_TOKEN))
			return -EINVAL;
	id = known_header_lookup((const uint8_t *)name, (unsigned)len);
	if (id >= 0) { /* store the long form, so both forms match */
		name = known_headers[id].name;
		len = known_headers[id].len;
		h.compact = known_headers[id].compact;
	}
	for (size_t i = 0; i < len; i++)
		h.lname[i] = (char)ascii_lower((uint8_t)name[i]);
	h.len = (uint8_t)len;
	for (unsigned i = 0; i < set->count; i++)
		if (set->hdr[i].len == h.len && memcmp(set->hdr[i].lname, h.lname, h.len) == 0)
			return -EEXIST;
	if (set->count >= SIP_EXTRA_MAX)
		return -ENOSPC;
	set->hdr[set->count] = h;
	id = set->count++;
	sip_extra_index(set);
	return id;
}

void sip_extra_index(struct sip_extra_set *set)
{
	memset(set->by_long, 0, sizeof(set->by_long));
	memset(set->by_compact, 0, sizeof(set->by_compact));
	memset(set->by_len, 0, sizeof(set->by_len));
	set->indexed = false;
	for (unsigned i = 0; i < set->count && i < SIP_EXTRA_MAX; i++) {
		const struct sip_extra_header *h = &set->hdr[i];

		if (h->len >= SIP_EXTRA_NAME_MAX)
			return; /* not from sip_extra_add(): compare each entry */
		set->by_len[h->len] |= 1u << i;
		if (h->compact)
			set->by_len[1] |= 1u << i;
	}
	/* a parsed header's names: exactly what the compares would give */
	for (unsigned id = 0; id < SIP_HDR_PARSED_COUNT; id++) {
		uint8_t lname[sizeof(known_headers[0].name)], c = (uint8_t)known_headers[id].compact;

		for (unsigned k = 0; k < known_headers[id].len; k++)
			lname[k] = ascii_lower((uint8_t)known_headers[id].name[k]);
		set->by_long[id] = sip_extra_lookup(set, lname, known_headers[id].len);
		set->by_compact[id] = c ? sip_extra_lookup(set, &c, 1) : 0;
	}
	set->indexed = true;
}

uint32_t sip_extra_lookup(const struct sip_extra_set *set, const uint8_t *name, unsigned len)
{
	uint32_t mask = 0;

	for (unsigned i = 0; i < set->count; i++) {
		const struct sip_extra_header *h = &set->hdr[i];
		if ((h->len == len && eq_lower(name, h->lname, len)) ||
		    (len == 1 && h->compact && ascii_lower(name[0]) == (uint8_t)h->compact))
			mask |= 1u << i;
	}
	return mask;
}

/* ---- header values --------------------------------------------------- */

#ifdef __SSE2__
/* Bit i set: byte i is neither a word character (CC_WORD) nor '@'. Word
 * characters are the visible ASCII bytes but # $ & , ; = @ ^ |. */
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

		/* most Call-IDs are letters, digits, '-', '.' and '@' only: the
		 * exact test is for the others */
		if (((alnum_dot16(v) | at_mask) & keep) != keep && (call_id_bad16(v) & keep))
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
	/* Methods are case-sensitive (RFC 3261 section 7.1). For the known
	 * ones, (first letter + 11 * length) % 32 differs, so it picks the only
	 * candidate (a collision would be a -Woverride-init error here). */
#define HASH(first, len) (((first) + 11 * (len)) & 31)
	static const uint8_t by_hash[32] = {
		[HASH('I', 6)] = SIP_METHOD_INVITE,   [HASH('A', 3)] = SIP_METHOD_ACK,
		[HASH('B', 3)] = SIP_METHOD_BYE,      [HASH('C', 6)] = SIP_METHOD_CANCEL,
		[HASH('O', 7)] = SIP_METHOD_OPTIONS,  [HASH('R', 8)] = SIP_METHOD_REGISTER,
		[HASH('P', 5)] = SIP_METHOD_PRACK,    [HASH('S', 9)] = SIP_METHOD_SUBSCRIBE,
		[HASH('N', 6)] = SIP_METHOD_NOTIFY,   [HASH('P', 7)] = SIP_METHOD_PUBLISH,
		[HASH('I', 4)] = SIP_METHOD_INFO,     [HASH('R', 5)] = SIP_METHOD_REFER,
		[HASH('M', 7)] = SIP_METHOD_MESSAGE,  [HASH('U', 6)] = SIP_METHOD_UPDATE,
	};
#undef HASH
	_Static_assert(SIP_METHOD__COUNT == 15, "a new method needs its by_hash entry");
	uint64_t keep, word = 0;
	unsigned m;

	if (len < 3 || len > 9)
		return SIP_METHOD_OTHER;
	m = by_hash[(p[0] + 11 * len) & 31];
	if (m == SIP_METHOD_OTHER || methods[m].len != len)
		return SIP_METHOD_OTHER;
	/* the first 8 bytes as one word, then the ninth */
	keep = len >= 8 ? ~0ull : (1ull << (8 * len)) - 1;
	if (t->limit - p >= 8)
		word = load_word(p, 8) & keep;
	else
		for (unsigned i = 0; i < len; i++)
			word |= (uint64_t)p[i] << (8 * i);
	if (word != (load_word((const uint8_t *)methods[m].name, 8) & keep) ||
	    (len == 9 && p[8] != (uint8_t)methods[m].name[8]))
		return SIP_METHOD_OTHER;
	return (enum sip_method)m;
}

/* Skips a quoted string starting at p (which is '"'); returns the byte after
 * the closing quote, or NULL when it is not closed. */
SIP_ALWAYS_INLINE const uint8_t *skip_quoted(const struct sip_text *t, const uint8_t *p,
					     const uint8_t *to)
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
	const uint8_t *first_end = NULL, *p;
	bool content = false;
	unsigned added = 0;

	/* no comma: one value, or none when it is all whitespace */
	if (find_byte(from, to, t->limit, ',') == to) {
		if (room && skip_lws(from, to) != to)
			*count = (uint16_t)(*count + 1);
		return to;
	}
	p = find_any3(from, to, t->limit, ',', '"', '<');
	for (const uint8_t *q = from; q < p && !content; q++)
		content = !cc_is(*q, CC_LWS);
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

/* Finds parameter `name` (LIT8 of a lower-case name of `name_len` letters)
 * in ";a=b;c" params [p, to); sets *val. */
SIP_ALWAYS_INLINE void find_param(const struct sip_text *t, const uint8_t *p, const uint8_t *to,
				  uint64_t name, unsigned name_len, struct sip_span *val)
{
	while (p < to) {
		const uint8_t *start, *name_end, *v, *v_end;
		bool named;

		if (*p != ';') {
			p = find_byte(p, to, t->limit, ';');
			if (p == to)
				return;
		}
		start = skip_lws(p + 1, to);
		/* Most often the name sought stands right there, ended by '=':
		 * then it needs no scan as a token. */
		named = to - start > name_len && eq_word(start, name, name_len, t->limit) &&
			!cc_is(start[name_len], CC_TOKEN);
		if (named) {
			name_end = start + name_len;
		} else {
			name_end = skip_token(start, to, t->limit);
			named = (unsigned)(name_end - start) == name_len &&
				eq_word(start, name, name_len, t->limit);
		}
		v = skip_lws(name_end, to);
		if (named && v < to && *v == '=') {
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

/* sent-protocol = name SLASH version SLASH transport, with optional LWS
 * around the slashes; returns the transport's start or NULL. */
static const uint8_t *skip_protocol(const struct sip_text *t, const uint8_t *p, const uint8_t *to)
{
	/* "SIP/2.0/" in any case of the letters: one word compare */
	if (to - p > 8 && (load_word(p, 8) | 0x202020) == load_word((const uint8_t *)"sip/2.0/", 8))
		return p + 8;
	for (int part = 0; part < 2; part++) {
		const uint8_t *tok = skip_lws(p, to);
		p = skip_token(tok, to, t->limit);
		if (p == tok)
			return NULL;
		p = skip_lws(p, to);
		if (p == to || *p != '/')
			return NULL;
		p++;
	}
	return p;
}

/* via-parm = sent-protocol LWS sent-by *( SEMI via-params ). [from, to) is
 * one Via value. */
void sip_parse_via(const struct sip_text *t, const uint8_t *from, const uint8_t *to,
		   bool branch, struct sip_via *via)
{
	const uint8_t *p, *h;

	while (from < to && (*from == ',' || cc_is(*from, CC_LWS))) /* empty values first */
		from++;
	trim_lws(&from, &to);
	via->value = span_of(t->base, from, to);
	p = skip_protocol(t, from, to);
	if (!p)
		return;
	h = skip_lws(p, to);
	p = skip_token_short(h, to);
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
	if (p < to && *p != ';')
		p = find_byte(p, to, t->limit, ';');
	via->params = span_of(t->base, p, to);
	if (branch)
		find_param(t, p, to, LIT8("branch"), 6, &via->branch);
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
	find_param(t, params, to, LIT8("tag"), 3, &na->tag);
}
