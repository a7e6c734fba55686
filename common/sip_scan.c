/* The SIP scanner: start line and header block in one bounded pass, then
 * the edge profile (docs/scanner.md) over what was found. */
#include <errno.h>
#include <string.h>

#include "sip_chars.h"

#define PARSED_HEADERS SIP_HDR_PARSED_COUNT

struct raw_value {
	const uint8_t *from, *to;
};

struct header_line {
	int id;              /* enum sip_header, or -1 */
	uint32_t extra_mask; /* which extra headers this name is */
	const uint8_t *value, *value_end;
};

struct scan {
	struct sip_text text; /* buf and end, for the value parsers */
	const uint8_t *buf, *end;
	const struct sip_limits *limits;
	const struct sip_extra_set *extra;
	struct sip_msg *msg;
	struct raw_value first[PARSED_HEADERS];
	struct raw_value top_via;
};

/* First CR, LF or NUL in [p, end), or end: the one loop over every byte. */
static inline const uint8_t *find_line_special(const uint8_t *p, const uint8_t *end)
{
	return find_any3(p, end, end, '\n', '\r', '\0');
}

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

/* The headers the scanner parses, by length then name: the per-line lookup.
 * A test checks it against sip_headers.def in every letter case. */
int sip_parsed_header_lookup(const uint8_t *name, unsigned len)
{
	switch (len) {
	case 1:
		switch (ascii_lower(name[0])) {
		case 'i': return SIP_HDR_CALL_ID;
		case 'v': return SIP_HDR_VIA;
		case 'f': return SIP_HDR_FROM;
		case 't': return SIP_HDR_TO;
		case 'l': return SIP_HDR_CONTENT_LENGTH;
		default: return -1;
		}
	case 2:
		return eq_name(name, "to", 2) ? SIP_HDR_TO : -1;
	case 3:
		return eq_name(name, "via", 3) ? SIP_HDR_VIA : -1;
	case 4:
		if (eq_name(name, "from", 4))
			return SIP_HDR_FROM;
		return eq_name(name, "cseq", 4) ? SIP_HDR_CSEQ : -1;
	case 5:
		return eq_name(name, "route", 5) ? SIP_HDR_ROUTE : -1;
	case 7:
		return eq_name(name, "call-id", 7) ? SIP_HDR_CALL_ID : -1;
	case 10:
		return eq_name(name, "user-agent", 10) ? SIP_HDR_USER_AGENT : -1;
	case 12:
		return eq_name(name, "max-forwards", 12) ? SIP_HDR_MAX_FORWARDS : -1;
	case 14:
		return eq_name(name, "content-length", 14) ? SIP_HDR_CONTENT_LENGTH : -1;
	default:
		return -1;
	}
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
	return set->count++;
}

static uint32_t extra_lookup(const struct sip_extra_set *set, const uint8_t *name, unsigned len)
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

/* ---- rule 1: not SIP ------------------------------------------------- */

static bool is_keepalive(const uint8_t *p, const uint8_t *end)
{
	while (p < end && cc_is(*p, CC_LWS))
		p++;
	return p == end;
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

/* The first line, without trailing whitespace, starts with "SIP/" or ends
 * with an element that does. */
static bool looks_like_sip(const uint8_t *buf, const uint8_t *end)
{
	const uint8_t *lf = memchr(buf, '\n', (size_t)(end - buf));
	const uint8_t *le = lf ? lf : end, *last;

	while (le > buf && cc_is(le[-1], CC_LWS))
		le--;
	if (le - buf >= 4 && eq_lower(buf, "sip/", 4))
		return true;
	last = le;
	while (last > buf && last[-1] != ' ')
		last--;
	return last > buf && le - last >= 4 && eq_lower(last, "sip/", 4);
}

/* ---- rule 2: start line ---------------------------------------------- */

static enum sip_reason check_version(const uint8_t *v, const uint8_t *ve)
{
	const uint8_t *p = v + 4, *d;

	if (ve - v == 7 && eq_lower(v, "sip/2.0", 7))
		return SIP_REASON_OK;
	if (ve - v < 7 || !eq_lower(v, "sip/", 4))
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
	const uint8_t *p = s->buf, *sp = memchr(p, ' ', (size_t)(le - p));
	enum sip_reason r = check_version(p, sp ? sp : le);
	uint32_t code;

	if (r != SIP_REASON_OK)
		return r;
	if (!sp)
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

/* Request-Line = Method SP Request-URI SP SIP-Version, single spaces. */
static enum sip_reason parse_request_line(struct scan *s, const uint8_t *le)
{
	struct sip_msg *msg = s->msg;
	const uint8_t *p = s->buf, *m = p, *u, *colon;

	while (p < le && cc_is(*p, CC_TOKEN))
		p++;
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
	p++;
	while (p < le && cc_is(*p, CC_URI))
		p++;
	if (p == colon + 1 || p == le || *p != ' ') {
		/* "SIP/x.y" right after the URI is still a request line with a
		 * bad version only if the URI itself was well-formed. */
		return SIP_REASON_BAD_START_LINE;
	}
	msg->ruri = span_of(s->buf, u, p);
	p++;
	msg->version = span_of(s->buf, p, le);
	msg->is_request = true;
	return check_version(p, le);
}

/* ---- rule 2: header lines -------------------------------------------- */

static void record_header(struct scan *s, const struct header_line *h)
{
	struct sip_msg *msg = s->msg;
	const uint8_t *v = h->value, *ve = h->value_end;

	if (h->id >= 0) {
		if (msg->hdr_count[h->id]++ == 0)
			s->first[h->id] = (struct raw_value){ v, ve };
		if (h->id == SIP_HDR_VIA) {
			unsigned cap = s->limits->max_vias + 1u;
			unsigned room = msg->via_count < cap ? cap - msg->via_count : 0;
			const uint8_t *first_end;
			uint16_t before = msg->via_count;
			if (room) {
				first_end = sip_count_values(&s->text, v, ve, &msg->via_count, room);
				if (before == 0 && msg->via_count > 0) /* the top Via value */
					s->top_via = (struct raw_value){ v, first_end };
			}
		}
	}
	for (uint32_t mask = h->extra_mask; mask; mask &= mask - 1) {
		unsigned i = (unsigned)__builtin_ctz(mask);
		if (msg->extra_count[i]++ == 0) {
			const uint8_t *a = v, *b = ve;
			trim_lws(&a, &b);
			msg->extra[i] = span_of(s->buf, a, b);
		}
	}
}

/* header = name *(SP / HTAB) ":" value; fills h for a new header line.
 * Known names are matched exactly, which proves them tokens; only other
 * names are checked byte by byte. */
static bool parse_header_name(struct scan *s, const uint8_t *p, const uint8_t *le,
			      struct header_line *h)
{
	const uint8_t *colon = find_byte(p, le, s->end, ':'), *name_end;
	unsigned len;

	if (colon == le)
		return false;
	name_end = colon;
	while (name_end > p && (name_end[-1] == ' ' || name_end[-1] == '\t'))
		name_end--;
	len = (unsigned)(name_end - p);
	if (len == 0)
		return false;
	h->id = sip_parsed_header_lookup(p, len);
	if (h->id < 0)
		for (const uint8_t *q = p; q < name_end; q++)
			if (!cc_is(*q, CC_TOKEN))
				return false;
	h->extra_mask = s->extra && s->extra->count ? extra_lookup(s->extra, p, len) : 0;
	h->value = colon + 1;
	h->value_end = le;
	return true;
}

/* Walks the start line and the header lines up to the empty line. */
static enum sip_reason scan_lines(struct scan *s)
{
	const uint8_t *p = s->buf, *end = s->end;
	struct header_line cur = { .id = -1 };
	bool have_cur = false, start_line = true;

	while (p < end) {
		const uint8_t *le = find_line_special(p, end), *next;
		bool terminated = true;
		enum sip_reason r;

		if (le == end) {
			next = end;
			terminated = false;
		} else if (*le == '\0') {
			return SIP_REASON_NUL_IN_HEADERS;
		} else if (*le == '\r') {
			if (le + 1 == end) {
				next = end;
				terminated = false;
			} else if (le[1] != '\n') {
				return SIP_REASON_BAD_LINE_END;
			} else {
				next = le + 2;
			}
		} else {
			next = le + 1;
		}

		if (start_line) {
			r = eq_lower(p, "sip/", 4) ? parse_status_line(s, le) : parse_request_line(s, le);
			if (r != SIP_REASON_OK)
				return r;
			start_line = false;
		} else if (le == p) {
			if (!terminated)
				break;
			if (have_cur)
				record_header(s, &cur);
			s->msg->hdr_len = (uint16_t)(next - s->buf);
			return SIP_REASON_OK;
		} else if (*p == ' ' || *p == '\t') {
			if (!have_cur)
				return SIP_REASON_BAD_HEADER_LINE;
			cur.value_end = le; /* a folded line continues the value */
		} else {
			if (have_cur)
				record_header(s, &cur);
			if (!parse_header_name(s, p, le, &cur))
				return SIP_REASON_BAD_HEADER_LINE;
			have_cur = true;
		}
		if (!terminated)
			break;
		p = next;
	}
	return SIP_REASON_NO_HEADER_END;
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
	if (s->top_via.from)
		sip_parse_via(&s->text, s->top_via.from, s->top_via.to, &msg->via);
	if (msg->hdr_count[SIP_HDR_FROM])
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
	msg->max_forwards = -1;
	if (msg->hdr_count[SIP_HDR_MAX_FORWARDS]) {
		trimmed(&s->first[SIP_HDR_MAX_FORWARDS], &a, &b);
		if (sip_parse_uint(a, b, 10, &v) && v <= INT32_MAX)
			msg->max_forwards = (int32_t)v;
	}
	if (msg->hdr_count[SIP_HDR_USER_AGENT]) {
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
	size_t body = (size_t)(s->end - s->buf) - msg->hdr_len;
	const uint8_t *a, *b;

	msg->msg_len = (uint16_t)(s->end - s->buf);
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

/* CSeq = 1*DIGIT LWS Method */
static enum sip_reason check_sanity(struct scan *s)
{
	struct sip_msg *msg = s->msg;
	const uint8_t *a, *b, *d, *m;

	if (msg->via_count == 0) /* no Via header, or only empty ones */
		return SIP_REASON_NO_VIA;
	if (!msg->hdr_count[SIP_HDR_FROM])
		return SIP_REASON_NO_FROM;
	if (!msg->hdr_count[SIP_HDR_TO])
		return SIP_REASON_NO_TO;
	if (!msg->hdr_count[SIP_HDR_CSEQ])
		return SIP_REASON_NO_CSEQ;
	trimmed(&s->first[SIP_HDR_CSEQ], &a, &b);
	d = a;
	while (d < b && cc_is(*d, CC_DIGIT))
		d++;
	if (!sip_parse_uint(a, d, 10, &msg->cseq) || msg->cseq > INT32_MAX)
		return SIP_REASON_BAD_CSEQ;
	m = d;
	while (m < b && cc_is(*m, CC_LWS))
		m++;
	if (m == d || m == b)
		return SIP_REASON_BAD_CSEQ;
	for (d = m; d < b; d++)
		if (!cc_is(*d, CC_TOKEN))
			return SIP_REASON_BAD_CSEQ;
	msg->cseq_method_name = span_of(s->buf, m, b);
	msg->cseq_method = sip_method_lookup(&s->text, m, (unsigned)(b - m));
	if (msg->is_request && (msg->cseq_method_name.len != msg->method_name.len ||
				memcmp(m, s->buf + msg->method_name.off, msg->method_name.len) != 0))
		return SIP_REASON_CSEQ_MISMATCH;
	return SIP_REASON_OK;
}

static enum sip_reason classify(struct scan *s, size_t len)
{
	static enum sip_reason (*const rules[])(struct scan *) = {
		check_call_id, check_framing, check_limits, check_sanity,
	};
	enum sip_reason r;

	if (len == 0)
		return SIP_REASON_EMPTY;
	if (len > SIP_SCAN_MAX_INPUT)
		return SIP_REASON_TOO_BIG;
	if (is_keepalive(s->buf, s->end))
		return SIP_REASON_KEEPALIVE;
	if (is_stun_binding(s->buf, len))
		return SIP_REASON_STUN_BINDING;
	if (!looks_like_sip(s->buf, s->end))
		return SIP_REASON_NOT_SIP;
	r = scan_lines(s);
	if (r != SIP_REASON_OK)
		return r;
	s->msg->parsed = true;
	parse_fields(s);
	for (unsigned i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		r = rules[i](s);
		if (r != SIP_REASON_OK)
			return r;
	}
	return SIP_REASON_OK;
}

enum sip_verdict sip_scan(const uint8_t *buf, size_t len, const struct sip_limits *limits,
			  const struct sip_extra_set *extra, struct sip_msg *msg)
{
	static const struct sip_limits defaults = SIP_LIMITS_DEFAULT;
	struct scan s = {
		.text = { buf, buf + len },
		.buf = buf,
		.end = buf + len,
		.limits = limits ? limits : &defaults,
		.extra = extra,
		.msg = msg,
	};

	memset(msg, 0, sizeof(*msg));
	msg->max_forwards = -1;
	msg->reason = classify(&s, len);
	msg->verdict = sip_reason_verdict(msg->reason);
	return msg->verdict;
}
