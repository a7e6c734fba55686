/* The kernel lane's SIP scan: one bounded pass (bpf_loop, one callback per
 * byte) over the start line and the header block of a UDP payload copied
 * into a per-CPU buffer. It is a *recogniser of a strict subset* of what
 * common/sip_scan.c forwards: whenever it sets `sure`, sip_scan() returns
 * "forward" with the same Call-ID, method, dialog state and msg_len; for
 * anything outside the subset it clears `sure` and the packet goes to user
 * space (docs/xdp.md "The kernel scan").
 *
 * The subset: start line `METHOD SP scheme ":" uri SP "SIP/2.0" CRLF` with
 * METHOD of A-Z, or `"SIP/2.0" SP 3DIGIT [SP reason] CRLF`; header lines
 * `token ":" value CRLF` with bytes 0x20-0x7E only (no HTAB, no folding, no
 * bare LF, no byte >= 0x7F, no blank before the colon); exactly one Call-ID
 * `word ["@" word]`; Via values without ',' or '"'; a first To whose
 * display name, if quoted, is a plain `"text"` before the '<', and whose tag parameter, if any, is exactly ";tag=" token; a first CSeq
 * `digits SP method` equal to the request method; at most one
 * Content-Length of 1-9 digits, equal to the bytes after the header block;
 * Via, From, To and CSeq present. */
#ifndef SIPHON_SIPSCAN_BPF_H
#define SIPHON_SIPSCAN_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "siphon_tables.h"

#define SKS_MASK (SK_SCAN_MAX - 1)
#define SKS_NONE 0xFFFF
/* "SIP/2.0 " as a little-endian word: byte k is its k-th character */
#define SKS_VERSION 0x20302E322F504953ull

enum {
	ST_METHOD, ST_URI0, ST_SCHEME, ST_URI, ST_VER, ST_STATUS, ST_REASON,
	ST_LF, ST_LINE, ST_NAME, ST_VALUE, ST_END_LF,
};

/* What the scan found; offsets into the payload. */
struct sk_scan {
	/* the walk */
	__u32 phase, k, line_is_header;
	__u32 kind;           /* SKH_* | extra mask << 16 of the current header */
	__u32 win, rawwin;    /* last 4 bytes, lower case and as they are */
	/* the current header value */
	__u32 v_start, v_end, pend_sp, inner_sp, n_at, at_pos, n_bad_word, n_nondigit;
	__u32 has_comma, has_quote, n_quote, q2_pos, has_bslash, lt_pos, gt_pos, semi_pos;
	__u32 nid_hits, tag_hits, tag_pos, tag_lower;
	__u32 cs_state, cs_digits, cs_m_off, cs_m_len;
	__u64 cs_num, digits_val;
	/* results */
	__u32 sure, done, hdr_len;
	__u32 is_request, method_off, method_len, ruri_off, ruri_len, ruri_nid, status;
	__u32 n_callid, callid_off, callid_len;
	__u32 n_via, via_nid, n_from, n_to, to_tag, n_cseq, m_off, m_len;
	__u32 n_clen, clen, n_route, route_nid, extra_seen;
};

struct sk_scratch {
	__u8 buf[SK_SCAN_MAX + 64];
	struct sk_scan st;
	struct sk_name_key key;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sk_scratch);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sip_scratch SEC(".maps");

static __always_inline int c_alpha(__u32 c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

static __always_inline int c_digit(__u32 c)
{
	return c >= '0' && c <= '9';
}

static __always_inline int c_token(__u32 c)
{
	return c_alpha(c) || c_digit(c) || c == '-' || c == '.' || c == '!' || c == '%' ||
	       c == '*' || c == '_' || c == '+' || c == '`' || c == '\'' || c == '~';
}

/* RFC 3261 word characters (CC_WORD), '@' not among them */
static __always_inline int c_word(__u32 c)
{
	return c_token(c) || c == '(' || c == ')' || c == '<' || c == '>' || c == ':' ||
	       c == '\\' || c == '"' || c == '/' || c == '[' || c == ']' || c == '?' ||
	       c == '{' || c == '}';
}

static __always_inline int c_scheme(__u32 c)
{
	return c_alpha(c) || c_digit(c) || c == '+' || c == '-' || c == '.';
}

static __always_inline int c_uri(__u32 c)
{
	return c > 0x20 && c < 0x7f && c != '<' && c != '>' && c != '"';
}

static __always_inline __u32 c_lower(__u32 c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

struct scan_ctx {
	struct sk_scratch *s;
};

static __always_inline void value_reset(struct sk_scan *t)
{
	t->v_start = SKS_NONE;
	t->v_end = 0;
	t->pend_sp = t->inner_sp = t->n_at = 0;
	t->at_pos = SKS_NONE;
	t->n_bad_word = t->n_nondigit = 0;
	t->has_comma = t->has_quote = t->n_quote = t->has_bslash = 0;
	t->q2_pos = 0;
	t->lt_pos = t->gt_pos = t->semi_pos = SKS_NONE;
	t->tag_hits = 0;
	t->tag_pos = 0;
	t->tag_lower = 0;
	t->cs_state = t->cs_digits = t->cs_m_off = t->cs_m_len = 0;
	t->cs_num = t->digits_val = 0;
}

/* One byte of a header value (0x20-0x7E). */
static __always_inline void value_byte(struct sk_scan *t, __u32 i, __u32 c)
{
	if (c == ' ') {
		if (t->v_start != SKS_NONE)
			t->pend_sp = 1;
	} else {
		if (t->v_start == SKS_NONE)
			t->v_start = i;
		if (t->pend_sp)
			t->inner_sp = 1;
		t->pend_sp = 0;
		t->v_end = i + 1;
		if (c == '@') {
			if (!t->n_at)
				t->at_pos = i;
			t->n_at++;
		} else if (!c_word(c)) {
			t->n_bad_word++;
		}
		if (c_digit(c))
			t->digits_val = t->digits_val * 10 + (c - '0');
		else
			t->n_nondigit++;
	}
	if (c == ',')
		t->has_comma = 1;
	else if (c == '"') {
		t->has_quote = 1;
		if (++t->n_quote == 2)
			t->q2_pos = i;
	} else if (c == '\\')
		t->has_bslash = 1;
	else if (c == '<' && t->lt_pos == SKS_NONE)
		t->lt_pos = i;
	else if (c == '>' && t->lt_pos != SKS_NONE && t->gt_pos == SKS_NONE)
		t->gt_pos = i;
	else if (c == ';' && t->semi_pos == SKS_NONE)
		t->semi_pos = i;
	if ((t->win & 0xFFFFFF) == 0x746167) { /* "tag" (any case) ends at i */
		if (!t->tag_hits) {
			t->tag_pos = i - 2;
			t->tag_lower = (t->rawwin & 0xFFFFFF) == 0x746167;
		}
		t->tag_hits++;
	}
	/* CSeq: *SP digits 1*SP token *SP */
	switch (t->cs_state) {
	case 0:
		if (c_digit(c)) {
			t->cs_state = 1;
			t->cs_digits = 1;
			t->cs_num = c - '0';
		} else if (c != ' ') {
			t->cs_state = 5;
		}
		break;
	case 1:
		if (c_digit(c)) {
			t->cs_digits++;
			if (t->cs_digits <= 10)
				t->cs_num = t->cs_num * 10 + (c - '0');
		} else if (c == ' ') {
			t->cs_state = 2;
		} else {
			t->cs_state = 5;
		}
		break;
	case 2:
		if (c_token(c)) {
			t->cs_state = 3;
			t->cs_m_off = i;
			t->cs_m_len = 1;
		} else if (c != ' ') {
			t->cs_state = 5;
		}
		break;
	case 3:
		if (c_token(c))
			t->cs_m_len++;
		else if (c == ' ')
			t->cs_state = 4;
		else
			t->cs_state = 5;
		break;
	case 4:
		if (c != ' ')
			t->cs_state = 5;
		break;
	}
}

/* The header line ended (its CR at i - 1, LF at i). 0: unsure. */
static __always_inline int header_end(struct sk_scratch *s, struct sk_scan *t)
{
	__u32 kind = t->kind;
	int content = t->v_start != SKS_NONE;

	t->extra_seen |= kind >> 16;
	if (kind & SKH_CALL_ID) {
		if (++t->n_callid == 1) {
			if (!content || t->inner_sp || t->n_bad_word)
				return 0;
			if (t->n_at > 1 || (t->n_at == 1 && (t->at_pos == t->v_start ||
							     t->at_pos + 1 >= t->v_end)))
				return 0;
			t->callid_off = t->v_start;
			t->callid_len = t->v_end - t->v_start;
		}
	}
	if (kind & SKH_VIA) {
		if (!content || t->has_comma || t->has_quote)
			return 0;
		if (++t->n_via == 1)
			t->via_nid = t->nid_hits;
	}
	if (kind & SKH_FROM)
		t->n_from++;
	if (kind & SKH_TO) {
		if (++t->n_to == 1) {
			__u32 region, tp;

			/* a quoted display name: only `"text" <uri>` */
			if (t->has_quote &&
			    (t->n_quote != 2 || t->has_bslash || s->buf[t->v_start & SKS_MASK] != '"' ||
			     t->lt_pos == SKS_NONE || t->lt_pos < t->q2_pos))
				return 0;
			if (t->lt_pos != SKS_NONE) {
				if (t->gt_pos == SKS_NONE)
					return 0;
				region = t->gt_pos;
			} else {
				region = t->semi_pos; /* SKS_NONE: no parameters */
			}
			if (t->tag_hits == 0) {
				t->to_tag = 0;
			} else {
				tp = t->tag_pos;
				if (t->tag_hits != 1 || !t->tag_lower || region == SKS_NONE ||
				    tp <= region || tp + 5 > t->v_end)
					return 0;
				if (s->buf[(tp - 1) & SKS_MASK] != ';' || s->buf[(tp + 3) & SKS_MASK] != '=' ||
				    !c_token(s->buf[(tp + 4) & SKS_MASK]))
					return 0;
				t->to_tag = 1;
			}
		}
	}
	if (kind & SKH_CSEQ) {
		if (++t->n_cseq == 1) {
			if ((t->cs_state != 3 && t->cs_state != 4) || t->cs_digits > 10 ||
			    t->cs_num > 0x7FFFFFFF || t->cs_m_len >= SK_NAME_MAX)
				return 0;
			t->m_off = t->cs_m_off;
			t->m_len = t->cs_m_len;
			if (t->is_request) {
				if (t->m_len != t->method_len)
					return 0;
				for (__u32 j = 0; j < SK_NAME_MAX; j++) {
					if (j >= t->m_len)
						break;
					if (s->buf[(t->m_off + j) & SKS_MASK] !=
					    s->buf[(t->method_off + j) & SKS_MASK])
						return 0;
				}
			}
		}
	}
	if (kind & SKH_CLEN) {
		if (++t->n_clen == 1) {
			if (!content || t->inner_sp || t->n_nondigit || t->v_end - t->v_start > 9)
				return 0;
			t->clen = (__u32)t->digits_val;
		}
	}
	if (kind & SKH_ROUTE) {
		if (++t->n_route == 1)
			t->route_nid = t->nid_hits;
	}
	return 1;
}

#define SCAN_UNSURE() do { t->sure = 0; return 1; } while (0)

static long scan_cb(__u32 i, void *vctx)
{
	struct scan_ctx *x = vctx;
	struct sk_scratch *s = x->s;
	struct sk_scan *t;
	__u32 c;

	if (!s)
		return 1;
	t = &s->st;
	c = s->buf[i & SKS_MASK];
	t->win = t->win << 8 | c_lower(c);
	t->rawwin = t->rawwin << 8 | c;
	if ((t->win & 0xFFFFFF) == 0x6e6964) /* "nid", any case */
		t->nid_hits++;
	if (t->phase == ST_LF) {
		if (c != '\n')
			SCAN_UNSURE();
		if (t->line_is_header && !header_end(s, t))
			SCAN_UNSURE();
		t->phase = ST_LINE;
		t->win = t->rawwin = 0;
		t->nid_hits = 0;
		return 0;
	}
	if (t->phase == ST_END_LF) {
		if (c != '\n')
			SCAN_UNSURE();
		t->hdr_len = i + 1;
		t->done = 1;
		return 1;
	}
	if (c == '\r') {
		switch (t->phase) {
		case ST_VER:
			if (t->k != 7)
				SCAN_UNSURE();
			t->ruri_nid = t->nid_hits;
			break;
		case ST_STATUS:
			if (t->k != 11)
				SCAN_UNSURE();
			/* fall through */
		case ST_REASON:
		case ST_VALUE:
			break;
		case ST_LINE:
			t->phase = ST_END_LF;
			return 0;
		default:
			SCAN_UNSURE();
		}
		t->line_is_header = t->phase == ST_VALUE;
		t->phase = ST_LF;
		return 0;
	}
	if (c < 0x20 || c > 0x7e)
		SCAN_UNSURE();
	switch (t->phase) {
	case ST_METHOD:
		if (c >= 'A' && c <= 'Z') {
			if (++t->method_len >= SK_NAME_MAX)
				SCAN_UNSURE();
		} else if (c == ' ' && t->method_len) {
			t->phase = ST_URI0;
			t->ruri_off = i + 1;
		} else {
			SCAN_UNSURE();
		}
		return 0;
	case ST_URI0:
		if (!c_alpha(c))
			SCAN_UNSURE();
		t->phase = ST_SCHEME;
		return 0;
	case ST_SCHEME:
		if (c == ':') {
			t->phase = ST_URI;
			t->k = 0;
		} else if (!c_scheme(c)) {
			SCAN_UNSURE();
		}
		return 0;
	case ST_URI:
		if (c == ' ' && t->k) {
			t->ruri_len = i - t->ruri_off;
			t->phase = ST_VER;
			t->k = 0;
		} else if (c_uri(c)) {
			t->k++;
		} else {
			SCAN_UNSURE();
		}
		return 0;
	case ST_VER:
		if (t->k >= 7 || c != ((SKS_VERSION >> (8 * (t->k & 7))) & 0xFF))
			SCAN_UNSURE();
		t->k++;
		return 0;
	case ST_STATUS: {
		if (t->k < 8) {
			if (c != ((SKS_VERSION >> (8 * (t->k & 7))) & 0xFF))
				SCAN_UNSURE();
		} else if (t->k < 11) {
			if (!c_digit(c))
				SCAN_UNSURE();
			t->status = t->status * 10 + (c - '0');
		} else if (t->k == 11 && c == ' ') {
			t->phase = ST_REASON;
		} else {
			SCAN_UNSURE();
		}
		t->k++;
		return 0;
	}
	case ST_REASON:
		return 0;
	case ST_LINE:
		if (!c_token(c))
			SCAN_UNSURE(); /* a folded line, or no name */
		__builtin_memset(s->key.name, 0, sizeof(s->key.name));
		s->key.name[0] = (__u8)c_lower(c);
		s->key.len = 1;
		t->phase = ST_NAME;
		return 0;
	case ST_NAME:
		if (c == ':') {
			__u32 *kind = bpf_map_lookup_elem(&kt_hdrs, &s->key);

			t->kind = kind ? *kind : 0;
			value_reset(t);
			t->win = t->rawwin = 0;
			t->nid_hits = 0;
			t->phase = ST_VALUE;
		} else if (c_token(c) && s->key.len < SK_NAME_MAX) {
			s->key.name[s->key.len & (SK_NAME_MAX - 1)] = (__u8)c_lower(c);
			s->key.len++;
		} else {
			SCAN_UNSURE();
		}
		return 0;
	case ST_VALUE:
		value_byte(t, i, c);
		return 0;
	}
	SCAN_UNSURE();
}

/* Scans s->buf[0..len) (len 1..SK_SCAN_MAX) with the names of `half`.
 * 1 when sure that sip_scan() forwards it (the fields in s->st). */
static __always_inline int sk_scan(struct sk_scratch *s, __u32 len, __u32 half,
				   const struct sk_tables *tb)
{
	struct scan_ctx x = { .s = s };
	struct sk_scan *t = &s->st;
	const __u8 *b = s->buf;

	__builtin_memset(t, 0, sizeof(*t));
	t->sure = 1;
	s->key.half = half;
	if (len < 16)
		return 0;
	if ((b[0] | 0x20) == 's' && (b[1] | 0x20) == 'i' && (b[2] | 0x20) == 'p' && b[3] == '/') {
		t->phase = ST_STATUS;
	} else {
		t->phase = ST_METHOD;
		t->is_request = 1;
		t->method_off = 0;
	}
	bpf_loop(len, scan_cb, &x, 0);
	if (!t->sure || !t->done)
		return 0;
	if (!t->is_request && (t->status < 100 || t->status > 699))
		return 0;
	if (t->n_callid != 1 || t->n_clen > 1 || !t->n_via || !t->n_from || !t->n_to || !t->n_cseq)
		return 0;
	if (t->n_clen && t->clen != len - t->hdr_len)
		return 0; /* the pipeline cuts (smaller) or drops (larger): user space */
	if (len > tb->max_msg_bytes || t->n_via > tb->max_vias)
		return 0;
	if (!t->is_request) {
		t->method_off = t->m_off;
		t->method_len = t->m_len;
	}
	return 1;
}

#endif
