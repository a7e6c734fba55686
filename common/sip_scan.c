/* The SIP scanner: start line and header block in one bounded pass, then
 * the edge profile (docs/scanner.md) over what was found. */
#include <errno.h>
#include <string.h>

#include "sip_chars.h"

#define PARSED_HEADERS SIP_HDR_PARSED_COUNT

struct raw_value {
	const uint8_t *from, *to;
};

struct scan {
	struct sip_text text; /* buf and end, for the value parsers */
	const uint8_t *buf, *end;
	size_t datagram_len; /* end - buf, or more when buf is a prefix (a first fragment) */
	const struct sip_limits *limits;
	const struct sip_extra_set *extra; /* NULL when it names no header */
	unsigned fields; /* enum sip_fields: the optional fields to parse */
	struct sip_msg *msg;
	struct raw_value top_via;
	struct raw_value first[PARSED_HEADERS]; /* set where hdr_count is not 0 */
};

/* ---- the line finder ------------------------------------------------- */

/* Rather than one search per line, the payload is classified 64 bytes at a
 * time into a bit mask of its control bytes up to CR (0x00-0x0D: NUL, HTAB,
 * LF, CR and a few rare others); a line ends at the first of them past its
 * start that is a CR, LF or NUL. A block is classified only when a line
 * runs past the one before (the header walk starts the new block at that
 * line), so the scan still stops at the empty line. */

#ifdef __SSE2__
static inline unsigned low16(__m128i v)
{
	return mask16(_mm_cmpeq_epi8(_mm_subs_epu8(v, _mm_set1_epi8(0x0D)), _mm_setzero_si128()));
}
#endif

/* Bit i: block[i] is 0x00-0x0D; bits past end are 0. No load passes end or
 * goes before buf. */
static __attribute__((noinline)) uint64_t low_mask(const uint8_t *block, const uint8_t *buf,
						    const uint8_t *end)
{
	unsigned n = end - block < 64 ? (unsigned)(end - block) : 64, i = 0;
	uint64_t mask = 0;

#ifdef __SSE2__
	if (n == 64)
		return (uint64_t)low16(load16(block)) | (uint64_t)low16(load16(block + 16)) << 16 |
		       (uint64_t)low16(load16(block + 32)) << 32 |
		       (uint64_t)low16(load16(block + 48)) << 48;
	for (; i + 16 <= n; i += 16)
		mask |= (uint64_t)low16(load16(block + i)) << i;
	if (i < n && end - buf >= 16) /* the payload's last 16 bytes, shifted into place */
		return mask | (uint64_t)(low16(load16(end - 16)) >> (16 - (n - i))) << i;
#else
	(void)buf;
#endif
	for (; i < n; i++)
		if (block[i] <= 0x0D)
			mask |= 1ull << i;
	return mask;
}

#if defined(__x86_64__) && defined(__SSE2__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HAVE_AVX2_PATH 1

/* low_mask() of a whole block, 32 bytes a step; only called where
 * __builtin_cpu_supports("avx2") said so. */
__attribute__((target("avx2"), noinline)) static uint64_t low_mask64_avx2(const uint8_t *block)
{
	const __m256i cr = _mm256_set1_epi8(0x0D), zero = _mm256_setzero_si256();
	__m256i a = _mm256_loadu_si256((const __m256i *)(const void *)block);
	__m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(block + 32));
	uint32_t lo = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_subs_epu8(a, cr), zero));
	uint32_t hi = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_subs_epu8(b, cr), zero));

	return (uint64_t)hi << 32 | lo;
}
#endif

/* The line finder's state, kept in registers by the loop that uses it. */
struct finder {
	const uint8_t *block, *end;
	uint64_t low; /* low_mask() of block */
};

static inline void finder_init(struct finder *f, const uint8_t *buf, const uint8_t *end)
{
	f->block = buf;
	f->end = end;
	f->low = low_mask(buf, buf, end);
}

/* low_mask() of the 64 bytes from b (buf: the payload's start). */
static inline uint64_t low_mask_at(const uint8_t *b, const uint8_t *buf, const uint8_t *end)
{
#ifdef HAVE_AVX2_PATH
	if (end - b >= 64 && __builtin_cpu_supports("avx2"))
		return low_mask64_avx2(b);
#endif
	return low_mask(b, buf, end);
}

static inline void finder_next_block(struct finder *f)
{
	f->block += 64;
	f->low = low_mask_at(f->block, f->block - 64, f->end); /* the 64 bytes before are payload */
}

/* First byte 0x00-0x0D in [p, end), or end. Lines are asked for in order,
 * so p is never before the current block. */
SIP_ALWAYS_INLINE const uint8_t *find_low(struct finder *f, const uint8_t *p)
{
	size_t i = (size_t)(p - f->block);
	uint64_t m = 0;

	while (i >= 64 || (m = f->low >> i) == 0) { /* on to the next block */
		if (f->end - f->block <= 64)
			return f->end;
		finder_next_block(f);
		i = p > f->block ? (size_t)(p - f->block) : 0;
	}
	return f->block + i + (unsigned)__builtin_ctzll(m);
}

/* "SIP/" in any case, as one word compare: OR-ing 0x20 makes only S and s
 * into s, and so on. p must have 4 bytes. */
static inline bool is_sip_slash(const uint8_t *p)
{
	return (load_word(p, 4) | 0x202020) == load_word((const uint8_t *)"sip/", 4);
}

/* Rule 1: the first line, without trailing whitespace, starts with "SIP/"
 * or ends with an element that does. f is at the payload's start; a copy
 * finds the first LF, so the lines can start over. */
static bool looks_like_sip(const struct finder *f)
{
	struct finder g = *f;
	const uint8_t *buf = f->block, *le = find_low(&g, buf), *last;

	while (le < g.end && *le != '\n')
		le = find_low(&g, le + 1);
	while (le > buf && cc_is(le[-1], CC_LWS))
		le--;
	if (le - buf >= 4 && is_sip_slash(buf))
		return true;
	/* the usual request line ends in " SIP/2.0": no need to walk back */
	if (le - buf >= 8 && le[-8] == ' ' && is_sip_slash(le - 7) && le[-3] != ' ' && le[-2] != ' ')
		return true;
	last = le;
	while (last > buf && last[-1] != ' ')
		last--;
	return last > buf && le - last >= 4 && is_sip_slash(last);
}

/* Finds the end of the line at p: sets *le to its CR or LF, or to end, and
 * returns the next line, or NULL when the payload ends inside this one. A
 * NUL or a CR without LF sets *r. */
SIP_ALWAYS_INLINE const uint8_t *line_end(struct finder *f, const uint8_t *p, const uint8_t **le,
					  enum sip_reason *r)
{
	for (;;) {
		p = find_low(f, p);
		*le = p;
		if (p == f->end)
			return NULL;
		if (*p == '\r') {
			if (p + 1 == f->end)
				return NULL;
			if (p[1] == '\n')
				return p + 2;
			*r = SIP_REASON_BAD_LINE_END;
			return NULL;
		}
		if (*p == '\n')
			return p + 1;
		if (*p == '\0') {
			*r = SIP_REASON_NUL_IN_HEADERS;
			return NULL;
		}
		p++; /* HTAB or another control byte */
	}
}

/* ---- rule 1: not SIP ------------------------------------------------- */

static bool is_keepalive(const uint8_t *p, const uint8_t *end)
{
	return skip_lws(p, end) == end;
}

/* RFC 5389 section 6: binding request, magic cookie, consistent length. */
static bool is_stun_binding(const uint8_t *buf, size_t len)
{
	size_t body;

	if (len < 20 || buf[0] != 0x00 || buf[1] != 0x01)
		return false;
	body = ((size_t)buf[2] << 8) | buf[3];
	return body % 4 == 0 && body == len - 20 && buf[4] == 0x21 && buf[5] == 0x12 &&
	       buf[6] == 0xA4 && buf[7] == 0x42;
}

/* ---- rule 2: start line ---------------------------------------------- */

static enum sip_reason check_version(const uint8_t *v, const uint8_t *ve)
{
	const uint8_t *p = v + 4, *d;

	if (ve - v == 7 && (load_word(v, 7) | 0x202020) == load_word((const uint8_t *)"sip/2.0", 7))
		return SIP_REASON_OK;
	if (ve - v < 7 || !is_sip_slash(v))
		return SIP_REASON_BAD_START_LINE;
	for (int part = 0; part < 2; part++) {
		d = p;
		while (p < ve && cc_is(*p, CC_DIGIT))
			p++;
		if (p == d || (part == 0 && (p == ve || *p++ != '.')))
			return SIP_REASON_BAD_START_LINE;
	}
	return p == ve ? SIP_REASON_BAD_VERSION : SIP_REASON_BAD_START_LINE;
}

/* Status-Line = SIP-Version SP Status-Code [SP Reason-Phrase] */
static enum sip_reason parse_status_line(struct scan *s, const uint8_t *le)
{
	struct sip_msg *msg = s->msg;
	const uint8_t *p = s->buf, *sp = find_byte(p, le, s->end, ' ');
	enum sip_reason r = check_version(p, sp);
	uint32_t code;

	if (r != SIP_REASON_OK)
		return r;
	if (sp == le)
		return SIP_REASON_BAD_START_LINE;
	msg->version = span_of(s->buf, p, sp);
	p = sp + 1;
	if (le - p < 3 || !sip_parse_uint(p, p + 3, 3, &code) || code < 100 || code > 699)
		return SIP_REASON_BAD_START_LINE;
	p += 3;
	if (p < le && *p++ != ' ')
		return SIP_REASON_BAD_START_LINE;
	msg->status = (uint16_t)code;
	msg->reason_phrase = span_of(s->buf, p, le);
	return SIP_REASON_OK;
}

/* First byte in [p, to) that may not stand in a Request-URI, or to. */
static inline const uint8_t *skip_uri(const uint8_t *p, const uint8_t *to, const uint8_t *limit)
{
#ifdef __SSE2__
	while (p < to && limit - p >= 16) {
		__m128i v = load16(p);
		/* visible ASCII is 0x21-0x7E; bytes from 0x80 are negative */
		__m128i ok = _mm_andnot_si128(eq16(v, 0x7F), _mm_cmpgt_epi8(v, _mm_set1_epi8(0x20)));
		__m128i bad = _mm_or_si128(eq16(v, '"'), _mm_or_si128(eq16(v, '<'), eq16(v, '>')));
		unsigned stop = ~mask16(_mm_andnot_si128(bad, ok)) & 0xFFFFu;
		if (stop) {
			p += __builtin_ctz(stop);
			return p < to ? p : to;
		}
		p += 16;
	}
#else
	(void)limit;
#endif
	while (p < to && cc_is(*p, CC_URI))
		p++;
	return p < to ? p : to;
}

/* Request-Line = Method SP Request-URI SP SIP-Version, single spaces. */
static enum sip_reason parse_request_line(struct scan *s, const uint8_t *le)
{
	struct sip_msg *msg = s->msg;
	const uint8_t *p = s->buf, *m = p, *u, *colon;

	p = skip_token_short(p, le);
	if (p == m || p == le || *p != ' ')
		return SIP_REASON_BAD_START_LINE;
	msg->method_name = span_of(s->buf, m, p);
	msg->method = sip_method_lookup(&s->text, m, (unsigned)(p - m));
	u = ++p;
	if (p == le || !cc_is(*p, CC_ALPHA))
		return SIP_REASON_BAD_START_LINE;
	while (p < le && cc_is(*p, CC_SCHEME))
		p++;
	colon = p;
	if (colon == le || *colon != ':')
		return SIP_REASON_BAD_START_LINE;
	p = skip_uri(p + 1, le, s->end);
	if (p == colon + 1 || p == le || *p != ' ')
		return SIP_REASON_BAD_START_LINE;
	msg->ruri = span_of(s->buf, u, p);
	p++;
	msg->version = span_of(s->buf, p, le);
	msg->is_request = true;
	return check_version(p, le);
}

/* ---- rule 2: header lines -------------------------------------------- */

/* Via values count across all Via headers, up to max_vias + 1. */
static __attribute__((noinline)) void count_vias(struct scan *s, const uint8_t *v,
						  const uint8_t *ve)
{
	struct sip_msg *msg = s->msg;
	unsigned cap = s->limits->max_vias + 1u;
	unsigned room = msg->via_count < cap ? cap - msg->via_count : 0;
	uint16_t before = msg->via_count;
	const uint8_t *first_end;

	if (!room)
		return;
	first_end = sip_count_values(&s->text, v, ve, &msg->via_count, room);
	if (before == 0 && msg->via_count > 0) /* the top Via value */
		s->top_via = (struct raw_value){ v, first_end };
}

/* The first value of each extra header, and their counts. */
static __attribute__((noinline)) void record_extra(struct scan *s, uint32_t mask,
						    const uint8_t *v, const uint8_t *ve)
{
	struct sip_msg *msg = s->msg;

	for (; mask; mask &= mask - 1) {
		unsigned i = (unsigned)__builtin_ctz(mask);
		if (msg->extra_count[i]++ == 0) {
			const uint8_t *a = v, *b = ve;
			trim_lws(&a, &b);
			msg->extra[i] = span_of(s->buf, a, b);
		}
	}
}

/* A header line, once the next line shows it is not folded further. */
struct header {
	int id;              /* enum sip_header, or -1 */
	uint32_t extra_mask; /* which extra headers this name is */
	const uint8_t *value, *value_end;
};

SIP_ALWAYS_INLINE void record_header(struct scan *s, const struct header *h)
{
	if (h->id >= 0) {
		if (s->msg->hdr_count[h->id]++ == 0)
			s->first[h->id] = (struct raw_value){ h->value, h->value_end };
		if (h->id == SIP_HDR_VIA)
			count_vias(s, h->value, h->value_end);
	}
	if (h->extra_mask)
		record_extra(s, h->extra_mask, h->value, h->value_end);
}

/* header = name *(SP / HTAB) ":" value; fills h for a new header line.
 * Known names are matched exactly, which proves them tokens; only other
 * names are checked for token characters. */
static __attribute__((noinline)) bool parse_header_name_slow(const struct scan *s,
							     const uint8_t *p, const uint8_t *le,
							     struct header *h)
{
	const uint8_t *colon = find_byte(p, le, s->end, ':'), *name_end = colon;
	unsigned len;

	if (colon == le)
		return false;
	while (name_end > p && (name_end[-1] == ' ' || name_end[-1] == '\t'))
		name_end--;
	len = (unsigned)(name_end - p);
	if (len == 0)
		return false;
	h->id = sip_parsed_header_lookup(p, len);
	if (h->id < 0 && skip_token(p, name_end, s->end) != name_end)
		return false;
	h->extra_mask = s->extra ? sip_extra_lookup_id(s->extra, h->id, p, len) : 0;
	h->value = colon + 1;
	h->value_end = le;
	return true;
}

/* The same for the usual line: 16 bytes to read, a name shorter than that
 * right before the colon, letters, digits, '-' and '.' only unless it is a
 * known name. One load serves the colon, the lookup and the token check.
 * Anything else goes the slow way: a name with blanks before the colon
 * fails both tests (no known name holds a blank), and so is trimmed there. */
SIP_ALWAYS_INLINE bool parse_header_name(const struct scan *s, const uint8_t *p, const uint8_t *le,
					 struct header *h)
{
#ifdef __SSE2__
	if (s->end - p >= 16) {
		__m128i v = load16(p);
		unsigned colon_mask = mask16(eq16(v, ':')), len;
		const uint8_t *colon = p + (unsigned)__builtin_ctz(colon_mask | 0x10000);
		uint8_t lower[16];

		if (colon >= le || colon == p)
			return false; /* no colon in the line, or no name */
		len = (unsigned)(colon - p);
		_mm_storeu_si128((__m128i *)(void *)lower, _mm_or_si128(v, _mm_set1_epi8(0x20)));
		h->id = parsed_header_id(len, load_word(lower, 8), load_word(lower + 8, 8));
		/* no colon in the 16 bytes makes len 16: neither test passes */
		if (h->id >= 0 || (len < 16 && !(~alnum_dot16(v) & ((1u << len) - 1)))) {
			h->extra_mask = s->extra ? sip_extra_lookup_id(s->extra, h->id, p, len) : 0;
			h->value = colon + 1;
			h->value_end = le;
			return true;
		}
	}
#endif
	/* through a copy, so that the caller's header stays in registers */
	struct header slow;
	if (!parse_header_name_slow(s, p, le, &slow))
		return false;
	*h = slow;
	return true;
}

/* Reads the header lines, from the one at next, up to the empty line. */
static __attribute__((noinline)) enum sip_reason scan_headers(struct scan *s, struct finder f,
							      const uint8_t *next)
{
	const uint8_t *end = s->end, *p, *le;
	struct header cur = { .id = -1, .value = NULL }; /* value: set once a header was read */

	while (next && next < end) {
		size_t i = (size_t)((p = next) - f.block);
		uint64_t m;

		/* A line that runs past the block: the next block starts with it. */
		if (i >= 64 || (m = f.low >> i) == 0) {
			f.block = p;
			f.low = m = low_mask_at(p, s->buf, end);
		}
		/* the usual line: its CR LF within 64 bytes */
		if (m && *(le = p + (unsigned)__builtin_ctzll(m)) == '\r' && le + 1 < end &&
		    le[1] == '\n') {
			next = le + 2;
		} else {
			enum sip_reason r = SIP_REASON_OK;
			next = line_end(&f, p, &le, &r);
			if (r != SIP_REASON_OK)
				return r;
		}
		if (le == p) { /* the empty line */
			if (!next)
				break;
			if (cur.value)
				record_header(s, &cur);
			s->msg->hdr_len = (uint16_t)(next - s->buf);
			return SIP_REASON_OK;
		}
		if (*p == ' ' || *p == '\t') {
			if (!cur.value)
				return SIP_REASON_BAD_HEADER_LINE;
			cur.value_end = le; /* a folded line continues the value */
			continue;
		}
		if (cur.value)
			record_header(s, &cur);
		if (!parse_header_name(s, p, le, &cur))
			return SIP_REASON_BAD_HEADER_LINE;
	}
	return SIP_REASON_NO_HEADER_END;
}

/* Walks the start line and the header lines up to the empty line. */
static enum sip_reason scan_lines(struct scan *s, struct finder *f)
{
	const uint8_t *le, *next;
	enum sip_reason r = SIP_REASON_OK;

	next = line_end(f, s->buf, &le, &r);
	if (r != SIP_REASON_OK)
		return r;
	r = is_sip_slash(s->buf) ? parse_status_line(s, le) : parse_request_line(s, le);
	if (r != SIP_REASON_OK)
		return r;
	return scan_headers(s, *f, next);
}

/* ---- rules 3 to 6 ---------------------------------------------------- */

static void trimmed(const struct raw_value *rv, const uint8_t **a, const uint8_t **b)
{
	*a = rv->from;
	*b = rv->to;
	trim_lws(a, b);
}

/* Fills the fields the rules and the dispatcher read. */
static void parse_fields(struct scan *s)
{
	struct sip_msg *msg = s->msg;
	const uint8_t *a, *b;
	uint32_t v;

	if (msg->hdr_count[SIP_HDR_CALL_ID]) {
		trimmed(&s->first[SIP_HDR_CALL_ID], &a, &b);
		msg->call_id = span_of(s->buf, a, b);
	}
	if (s->top_via.from && (!msg->is_request || (s->fields & SIP_FIELD_REQUEST_VIA)))
		sip_parse_via(&s->text, s->top_via.from, s->top_via.to,
			      s->fields & SIP_FIELD_VIA_BRANCH, &msg->via);
	if (msg->hdr_count[SIP_HDR_FROM] && (s->fields & SIP_FIELD_FROM))
		sip_parse_name_addr(&s->text, s->first[SIP_HDR_FROM].from, s->first[SIP_HDR_FROM].to,
				    &msg->from);
	if (msg->hdr_count[SIP_HDR_TO])
		sip_parse_name_addr(&s->text, s->first[SIP_HDR_TO].from, s->first[SIP_HDR_TO].to,
				    &msg->to);
	if (msg->hdr_count[SIP_HDR_ROUTE]) {
		uint16_t ignored = 0;
		a = s->first[SIP_HDR_ROUTE].from;
		b = sip_count_values(&s->text, a, s->first[SIP_HDR_ROUTE].to, &ignored, 1);
		trim_lws(&a, &b);
		msg->route = span_of(s->buf, a, b);
	}
	if (msg->hdr_count[SIP_HDR_MAX_FORWARDS] && (s->fields & SIP_FIELD_MAX_FORWARDS)) {
		trimmed(&s->first[SIP_HDR_MAX_FORWARDS], &a, &b);
		if (sip_parse_uint(a, b, 10, &v) && v <= INT32_MAX)
			msg->max_forwards = (int32_t)v;
	}
	if (msg->hdr_count[SIP_HDR_USER_AGENT] && (s->fields & SIP_FIELD_USER_AGENT)) {
		trimmed(&s->first[SIP_HDR_USER_AGENT], &a, &b);
		msg->user_agent = span_of(s->buf, a, b);
	}
}

static enum sip_reason check_call_id(struct scan *s)
{
	const struct sip_msg *msg = s->msg;
	const uint8_t *a = s->buf + msg->call_id.off;

	if (msg->hdr_count[SIP_HDR_CALL_ID] == 0)
		return SIP_REASON_CALLID_MISSING;
	if (msg->hdr_count[SIP_HDR_CALL_ID] > 1)
		return SIP_REASON_CALLID_REPEATED;
	if (msg->call_id.len == 0)
		return SIP_REASON_CALLID_EMPTY;
	if (!sip_valid_call_id(&s->text, a, a + msg->call_id.len))
		return SIP_REASON_CALLID_INVALID;
	return SIP_REASON_OK;
}

/* RFC 3261 section 18.3: Content-Length frames a UDP message. */
static enum sip_reason check_framing(struct scan *s)
{
	struct sip_msg *msg = s->msg;
	size_t body = s->datagram_len - msg->hdr_len;
	const uint8_t *a, *b;

	msg->msg_len = (uint16_t)s->datagram_len;
	if (msg->hdr_count[SIP_HDR_CONTENT_LENGTH] == 0)
		return SIP_REASON_OK;
	trimmed(&s->first[SIP_HDR_CONTENT_LENGTH], &a, &b);
	if (!sip_parse_uint(a, b, 9, &msg->content_length))
		return SIP_REASON_CLEN_INVALID;
	msg->has_content_length = true;
	if (msg->hdr_count[SIP_HDR_CONTENT_LENGTH] > 1)
		return SIP_REASON_CLEN_REPEATED;
	if (msg->content_length > body)
		return SIP_REASON_CLEN_TOO_LARGE;
	msg->msg_len = (uint16_t)(msg->hdr_len + msg->content_length);
	return SIP_REASON_OK;
}

static enum sip_reason check_limits(struct scan *s)
{
	if (s->msg->msg_len > s->limits->max_msg_bytes)
		return SIP_REASON_TOO_BIG;
	if (s->msg->via_count > s->limits->max_vias)
		return SIP_REASON_TOO_MANY_VIAS;
	return SIP_REASON_OK;
}

/* n bytes at a and at b are the same; limit bounds the SIMD loads. */
static inline bool same_bytes(const uint8_t *a, const uint8_t *b, size_t n, const uint8_t *limit)
{
#ifdef __SSE2__
	if (n <= 16 && limit - a >= 16 && limit - b >= 16) {
		unsigned eq = mask16(_mm_cmpeq_epi8(load16(a), load16(b)));
		return ((eq | ~((1u << n) - 1)) & 0xFFFFu) == 0xFFFFu;
	}
#else
	(void)limit;
#endif
	return memcmp(a, b, n) == 0;
}

/* CSeq = 1*DIGIT LWS Method */
static enum sip_reason check_sanity(struct scan *s)
{
	struct sip_msg *msg = s->msg;
	const uint8_t *a, *b, *d, *m, *lim;
	uint64_t v = 0;

	if (msg->via_count == 0) /* no Via header, or only empty ones */
		return SIP_REASON_NO_VIA;
	if (!msg->hdr_count[SIP_HDR_FROM])
		return SIP_REASON_NO_FROM;
	if (!msg->hdr_count[SIP_HDR_TO])
		return SIP_REASON_NO_TO;
	if (!msg->hdr_count[SIP_HDR_CSEQ])
		return SIP_REASON_NO_CSEQ;
	trimmed(&s->first[SIP_HDR_CSEQ], &a, &b);
	/* 1 to 10 digits below 2^32 make the number; above 2^31 - 1 it is bad */
	lim = b - a > 11 ? a + 11 : b; /* an 11th digit is enough to fail */
	for (d = a; d < lim && (unsigned)*d - '0' <= 9; d++)
		v = v * 10 + (unsigned)(*d - '0');
	if (d == a || d - a > 10 || v > UINT32_MAX)
		return SIP_REASON_BAD_CSEQ;
	msg->cseq = (uint32_t)v;
	if (v > INT32_MAX)
		return SIP_REASON_BAD_CSEQ;
	m = skip_lws(d, b);
	if (m == d || m == b)
		return SIP_REASON_BAD_CSEQ;
	/* the request's own method, byte for byte: a token, and no lookup */
	if (msg->is_request && (size_t)(b - m) == msg->method_name.len &&
	    same_bytes(m, s->buf + msg->method_name.off, msg->method_name.len, s->end)) {
		msg->cseq_method_name = span_of(s->buf, m, b);
		msg->cseq_method = msg->method;
		return SIP_REASON_OK;
	}
	if (skip_token(m, b, s->end) != b)
		return SIP_REASON_BAD_CSEQ;
	msg->cseq_method_name = span_of(s->buf, m, b);
	msg->cseq_method = sip_method_lookup(&s->text, m, (unsigned)(b - m));
	return msg->is_request ? SIP_REASON_CSEQ_MISMATCH : SIP_REASON_OK;
}

static enum sip_reason classify(struct scan *s, size_t len)
{
	const bool prefix = s->datagram_len > len; /* more bytes follow */
	struct finder f;
	enum sip_reason r;

	if (len == 0)
		return SIP_REASON_EMPTY;
	if (s->datagram_len > SIP_SCAN_MAX_INPUT)
		return SIP_REASON_TOO_BIG;
	if (!prefix && is_keepalive(s->buf, s->end))
		return SIP_REASON_KEEPALIVE; /* a prefix of blanks may go on with anything */
	if (len >= 20 && is_stun_binding(s->buf, s->datagram_len))
		return SIP_REASON_STUN_BINDING; /* its 20-byte header is enough */
	finder_init(&f, s->buf, s->end);
	if (!looks_like_sip(&f))
		return SIP_REASON_NOT_SIP;
	r = scan_lines(s, &f);
	if (r != SIP_REASON_OK)
		return r;
	s->msg->parsed = true;
	parse_fields(s);
	if ((r = check_call_id(s)) != SIP_REASON_OK || (r = check_framing(s)) != SIP_REASON_OK ||
	    (r = check_limits(s)) != SIP_REASON_OK)
		return r;
	return check_sanity(s);
}

/* memset of a fixed size compiles to `rep stos`, slow to start for a
 * struct this small; plain 16-byte stores are not. */
static inline void clear_msg(struct sip_msg *msg)
{
#ifdef __SSE2__
	uint8_t *d = (uint8_t *)msg;
	__m128i zero = _mm_setzero_si128();
	size_t i;

	/* hides the constant, or the loops would become a memset again */
	__asm__("" : "+x"(zero));
	_Static_assert(sizeof(*msg) >= 16, "sip_msg is larger than one store");
	for (i = 0; i + 64 <= sizeof(*msg); i += 64) {
		_mm_storeu_si128((__m128i *)(void *)(d + i), zero);
		_mm_storeu_si128((__m128i *)(void *)(d + i + 16), zero);
		_mm_storeu_si128((__m128i *)(void *)(d + i + 32), zero);
		_mm_storeu_si128((__m128i *)(void *)(d + i + 48), zero);
	}
	for (; i + 16 <= sizeof(*msg); i += 16)
		_mm_storeu_si128((__m128i *)(void *)(d + i), zero);
	_mm_storeu_si128((__m128i *)(void *)(d + sizeof(*msg) - 16), zero);
#else
	memset(msg, 0, sizeof(*msg));
#endif
}

enum sip_verdict sip_scan_fields(const uint8_t *buf, size_t len, size_t datagram_len,
				 const struct sip_limits *limits, const struct sip_extra_set *extra,
				 unsigned fields, struct sip_msg *msg)
{
	static const struct sip_limits defaults = SIP_LIMITS_DEFAULT;
	struct scan s;

	static const uint8_t nothing;

	if (!buf) /* an empty input may come as NULL: NULL + 0 is undefined in C */
		buf = &nothing, len = 0;
	/* s.first is left unset: it is read only where hdr_count says it was set */
	s.text = (struct sip_text){ buf, buf + len };
	s.buf = buf;
	s.end = buf + len;
	s.datagram_len = datagram_len > len ? datagram_len : len;
	s.limits = limits ? limits : &defaults;
	s.extra = extra && extra->count ? extra : NULL;
	s.fields = fields;
	s.msg = msg;
	s.top_via.from = NULL;
	clear_msg(msg);
	msg->max_forwards = -1;
	msg->reason = classify(&s, len);
	msg->verdict = sip_reason_verdict(msg->reason);
	return msg->verdict;
}

enum sip_verdict sip_scan_prefix(const uint8_t *buf, size_t len, size_t datagram_len,
				 const struct sip_limits *limits, const struct sip_extra_set *extra,
				 struct sip_msg *msg)
{
	return sip_scan_fields(buf, len, datagram_len, limits, extra, SIP_FIELDS_ALL, msg);
}

enum sip_verdict sip_scan(const uint8_t *buf, size_t len, const struct sip_limits *limits,
			  const struct sip_extra_set *extra, struct sip_msg *msg)
{
	return sip_scan_prefix(buf, len, len, limits, extra, msg);
}
