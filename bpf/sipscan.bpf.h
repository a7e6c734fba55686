/* The kernel lane's SIP scan over a UDP payload copied into a per-CPU
 * buffer (docs/xdp.md "The kernel scan"). It is a *recogniser of a strict
 * subset* of what common/sip_scan.c forwards: whenever it says sure,
 * sip_scan() returns "forward" with the same Call-ID, method, dialog state
 * and msg_len; for anything outside the subset it says unsure and the
 * packet goes to user space.
 *
 * Speed: work is per word and per line, not per byte. The first 40 bytes
 * of a line are read once as five words: its end (the first byte outside
 * 0x20-0x7E, by the has-byte bit tricks below) and its header name are
 * found in them; the name is checked and case-folded word-wise and
 * recognised inline (a map lookup per line only when the config has header
 * flags). Values are looked at only for the headers the lane needs
 * (Call-ID, Via, To, CSeq, Content-Length), word-wise, in a global
 * function of their own (sk_value()); the other lines cost the line end
 * and the name. The line loop is a bounded loop (no call per line but
 * sk_header()); other loops unroll their first words and go on in
 * open-coded iterators (bpf_iter_num, kernel >= 6.4): state the loop
 * carries stays in bounded registers or in the per-CPU value, so the
 * verifier converges after a few iterations.
 *
 * The subset: start line `METHOD SP scheme ":" uri SP "SIP/2.0" CRLF` with
 * METHOD of A-Z (at most 31), or `"SIP/2.0" SP 3DIGIT [SP reason] CRLF`;
 * header lines `name ":" value CRLF` with a name of letters, digits, '-'
 * and '.' (at most 32) and bytes 0x20-0x7E only (no HTAB, no folding, no
 * bare CR or LF, no byte >= 0x7F); exactly one Call-ID `word ["@" word]`;
 * Via values without ',' or '"'; a first To whose display name, if quoted,
 * is a plain `"text"` before the '<', its tag found as sip_parse_name_addr()
 * finds it (the first parameter named tag, any case, with '='); a first
 * CSeq `digits SP method` equal to the request method; at most one
 * Content-Length of 1-9 digits, equal to the bytes after the header block;
 * Via, From, To and CSeq present. */
#ifndef SIPHON_SIPSCAN_BPF_H
#define SIPHON_SIPSCAN_BPF_H

#include <linux/bpf.h>
#include <linux/version.h>
#include <bpf/bpf_helpers.h>

#include "siphon_tables.h"

/* ---- open-coded iterators (kernel 6.4; libbpf 1.1 does not declare them) ---- */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 4, 0)
struct bpf_iter_num {
	__u64 __opaque[1];
} __attribute__((aligned(8)));
#endif
extern int bpf_iter_num_new(struct bpf_iter_num *it, int start, int end) __weak __ksym;
extern int *bpf_iter_num_next(struct bpf_iter_num *it) __weak __ksym;
extern void bpf_iter_num_destroy(struct bpf_iter_num *it) __weak __ksym;

/* for (int i = from; i < to; i++), i read through the iterator; the loop
 * must end by break or running out, then SK_END(it). */
#define SK_FOR(it, ip, from, to) \
	for (bpf_iter_num_new(&(it), (int)(from), (int)(to)); ((ip) = bpf_iter_num_next(&(it)));)
#define SK_END(it) bpf_iter_num_destroy(&(it))

#define SKS_BUF   4096             /* power of two above SK_SCAN_MAX + 40 */
#define SKS_MASK  (SKS_BUF - 1) /* 4095, as in sk_at() */
#define SKS_NONE  0xFFFF
#define SK_LINES_MAX (SK_SCAN_MAX / 4 + 2) /* a header line has at least 4 bytes */

/* ---- words: 8 payload bytes, little-endian (byte k at bits 8k) ---- */
#define B01 0x0101010101010101ull
#define B7F 0x7F7F7F7F7F7F7F7Full
#define B80 0x8080808080808080ull
#define B20 0x2020202020202020ull

/* "SIP/2.0 " as a word */
#define SKS_VERSION 0x20302E322F504953ull

/* Bit 7 of byte k set iff byte k is c: exact per byte (no carry leaves a
 * byte: (x & 0x7F) + 0x7F <= 0xFE). */
static __always_inline __u64 m_eq(__u64 w, __u64 c)
{
	__u64 x = w ^ (B01 * c);

	return ~(((x & B7F) + B7F) | x | B7F);
}

/* Bit 7 of byte k set iff lo <= byte k <= hi; exact for bytes below 0x80. */
static __always_inline __u64 m_range(__u64 w, __u64 lo, __u64 hi)
{
	return (w + B01 * (0x80 - lo)) & ~(w + B01 * (0x7F - hi)) & B80;
}

/* A mask whose lowest set bit is at the first byte outside 0x20-0x7E (the
 * bits above it may be wrong: borrows and carries run up from a flagged
 * byte only). Below 0x20 borrows in w - 0x20, 0x7F carries into bit 7 in
 * w + 1, from 0x80 bit 7 is set already. */
static __always_inline __u64 m_stop(__u64 w)
{
	return ((w - B20) | (w + B01) | w) & B80;
}

/* The byte index of the lowest set bit of a B80 mask (not 0). clang 14
 * has no ctz for BPF: the isolated bit, as 1 << 8k, times a word whose byte
 * 7 - k holds k. */
static __always_inline __u32 m_first(__u64 m)
{
	return (__u32)((((m & -m) >> 7) * 0x0001020304050607ull) >> 56);
}

/* The low n bytes (n <= 8) of a B80 mask. */
static __always_inline __u64 m_low(__u32 n)
{
	return n >= 8 ? B80 : B80 & ((1ull << (8 * n)) - 1);
}

/* Scheme characters: letters, digits, '+', '-', '.' (exact below 0x80;
 * bytes from 0x80 are never flagged as one). */
static __always_inline __u64 m_scheme(__u64 w)
{
	return m_range(w | B20, 'a', 'z') | m_range(w, '0', '9') | m_range(w, '+', '+') |
	       m_range(w, '-', '.');
}

/* Letters, digits, '-' and '.' (a header name the scan takes as a token). */
static __always_inline __u64 m_name(__u64 w)
{
	return m_range(w | B20, 'a', 'z') | m_range(w, '0', '9') | m_range(w, '-', '.');
}

/* What the scan found; offsets into the payload. */
struct sk_scan {
	__u32 sure, done, hdr_len;
	__u32 is_request, method_off, method_len, ruri_off, ruri_len, status, line1_end;
	__u32 n_callid, callid_off, callid_len;
	__u32 n_via, via_off, via_end, n_from, n_to, to_tag, n_cseq, m_off, m_len;
	__u32 n_clen, clen, n_route, route_off, route_end, extra_seen;
	__u32 via_nid, route_nid, ruri_nid;
	/* the value parsers' state (kept here, not in registers, across iterations) */
	__u32 line, st, k, a, b, bad, at, n_at, lt, gt, semi, q1, q2, named, tag_len, name_len;
	__u64 num, lname;
};

struct sk_scratch {
	__u8 buf[SKS_BUF + 64];
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

/* s->buf + (off & SKS_MASK), the mask kept from clang (which drops it
 * where it proved a tighter bound on another copy of off). */
static __always_inline const __u8 *sk_at(const struct sk_scratch *s, __u64 off)
{
	asm volatile("%0 &= 4095" : "+r"(off));
	return s->buf + off;
}

static __always_inline __u64 sk_ld(const struct sk_scratch *s, __u32 off)
{
	return *(const __u64 *)sk_at(s, off);
}

static __always_inline __u32 sk_byte(const struct sk_scratch *s, __u32 off)
{
	return *sk_at(s, off);
}

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

static __always_inline int c_scheme(__u32 c)
{
	return c_alpha(c) || c_digit(c) || c == '+' || c == '-' || c == '.';
}

/* The first byte at or after p outside 0x20-0x7E (the zero word written
 * at len stops every search), or SKS_NONE. */
static __always_inline __u32 sk_line_end(const struct sk_scratch *s, __u32 p)
{
	struct bpf_iter_num it;
	__u32 r = SKS_NONE;
	int *ip;

	/* most lines end within 64 bytes: no iterator for those */
	for (__u32 j = 0; j < 8; j++) {
		__u64 m = m_stop(sk_ld(s, p + j * 8));

		if (m)
			return p + j * 8 + m_first(m);
	}
	SK_FOR(it, ip, 1, SK_SCAN_MAX / 64 + 2) {
		__u32 q = p + 64 * (__u32)*ip;
		__u64 m = 0;

		if (q > SK_SCAN_MAX)
			break;
		for (__u32 j = 0; j < 8; j++) {
			m = m_stop(sk_ld(s, q + j * 8));
			if (m) {
				r = q + j * 8 + m_first(m);
				break;
			}
		}
		if (m)
			break;
	}
	SK_END(it);
	return r;
}

/* CR LF at le (inside the scanned bytes) */
static __always_inline int sk_crlf(const struct sk_scratch *s, __u32 le)
{
	return le < SK_SCAN_MAX && *(const __u16 *)sk_at(s, le) == 0x0A0D; /* CR LF */
}

/* The first byte c1 or c2 in [from, to), or SKS_NONE. */
static __always_inline __u32 sk_find2(const struct sk_scratch *s, __u32 from, __u32 to, __u64 c1,
				      __u64 c2)
{
	struct bpf_iter_num it;
	__u32 r = SKS_NONE;
	int *ip;

	for (__u32 j = 0; j < 8; j++) {
		__u32 q = from + j * 8;
		__u64 w, m;

		if (q >= to)
			return SKS_NONE;
		w = sk_ld(s, q);
		m = (m_eq(w, c1) | m_eq(w, c2)) & m_low(to - q);
		if (m)
			return q + m_first(m);
	}
	SK_FOR(it, ip, 8, SK_SCAN_MAX / 8 + 2) {
		__u32 q = from + 8 * (__u32)*ip;
		__u64 w, m;

		if (q >= to || q > SK_SCAN_MAX)
			break;
		w = sk_ld(s, q);
		m = (m_eq(w, c1) | m_eq(w, c2)) & m_low(to - q);
		if (m) {
			r = q + m_first(m);
			break;
		}
	}
	SK_END(it);
	return r;
}

/* The first byte c in [from, to), or SKS_NONE. */
static __always_inline __u32 sk_find(const struct sk_scratch *s, __u32 from, __u32 to, __u64 c)
{
	return sk_find2(s, from, to, c, c);
}

/* "nid" in any case inside [from, to)? */
static __always_inline __u32 sk_has_nid(const struct sk_scratch *s, __u32 from, __u32 to)
{
	struct bpf_iter_num it;
	__u32 r = 0;
	int *ip;

	/* the first 64 bytes unrolled (a start line, a Via, a Route) */
	for (__u32 j = 0; j < 8; j++) {
		__u32 q = from + j * 8;

		if (q + 3 > to)
			return 0;
		if (m_eq(sk_ld(s, q) | B20, 'n') & m_eq(sk_ld(s, q + 1) | B20, 'i') &
		    m_eq(sk_ld(s, q + 2) | B20, 'd') & m_low(to - q - 2))
			return 1;
	}
	SK_FOR(it, ip, 8, SK_SCAN_MAX / 8 + 2) {
		__u32 q = from + 8 * (__u32)*ip;
		__u64 m;

		if (q + 3 > to || q > SK_SCAN_MAX)
			break;
		m = m_eq(sk_ld(s, q) | B20, 'n') & m_eq(sk_ld(s, q + 1) | B20, 'i') &
		    m_eq(sk_ld(s, q + 2) | B20, 'd') & m_low(to - q - 2);
		if (m) {
			r = 1;
			break;
		}
	}
	SK_END(it);
	return r;
}

/* [*a, *b) without leading and trailing blanks (t->a, t->b). */
static __always_inline void sk_trim(const struct sk_scratch *s, struct sk_scan *t, __u32 from,
				    __u32 to)
{
	struct bpf_iter_num it;
	int *ip;

	t->a = from;
	t->b = to;
	/* the usual value: one blank after the colon, none at the end */
	if (from < to && sk_byte(s, from) == ' ')
		t->a = from + 1;
	if (t->a < to && sk_byte(s, t->a) != ' ' && sk_byte(s, to - 1) != ' ')
		return;
	SK_FOR(it, ip, 0, SK_SCAN_MAX) {
		if (t->a >= t->b || sk_byte(s, t->a) != ' ')
			break;
		t->a++;
	}
	SK_END(it);
	SK_FOR(it, ip, 0, SK_SCAN_MAX) {
		if (t->b <= t->a || sk_byte(s, t->b - 1) != ' ')
			break;
		t->b--;
	}
	SK_END(it);
}

/* ---- the start line [0, le) ---- */

static __always_inline int sk_start_line(struct sk_scratch *s, struct sk_scan *t, __u32 le)
{
	struct bpf_iter_num it;
	__u32 sp = SKS_NONE, u;
	__u64 m;
	int *ip;

	if (le < 11 || le > SK_SCAN_MAX)
		return 0;
	if (sk_ld(s, 0) == SKS_VERSION) { /* a response */
		__u32 d0 = sk_byte(s, 8), d1 = sk_byte(s, 9), d2 = sk_byte(s, 10);

		if (!c_digit(d0) || !c_digit(d1) || !c_digit(d2))
			return 0;
		if (le != 11 && sk_byte(s, 11) != ' ')
			return 0;
		t->status = (d0 - '0') * 100 + (d1 - '0') * 10 + (d2 - '0');
		return t->status >= 100 && t->status <= 699;
	}
	/* METHOD SP: A-Z, 1-31 of them */
	for (__u32 j = 0; j < 4; j++) {
		m = m_eq(sk_ld(s, j * 8), ' ');
		if (m) {
			sp = j * 8 + m_first(m);
			break;
		}
	}
	if (sp == SKS_NONE || sp == 0 || sp >= le)
		return 0;
	for (__u32 j = 0; j < 4; j++) {
		__u32 n = sp > j * 8 ? sp - j * 8 : 0;

		if (n && (~m_range(sk_ld(s, j * 8), 'A', 'Z') & m_low(n)))
			return 0;
	}
	t->is_request = 1;
	t->method_off = 0;
	t->method_len = sp;
	t->ruri_off = sp + 1;
	/* scheme ":" */
	if (!c_alpha(sk_byte(s, sp + 1)))
		return 0;
	t->k = SKS_NONE;
	/* the usual scheme ("sip", "sips", "tel") within a word: the first
	 * byte that is not a scheme character must be the colon */
	m = ~m_scheme(sk_ld(s, sp + 2)) & B80;
	if (m) {
		u = sp + 2 + m_first(m);
		if (u >= le || sk_byte(s, u) != ':')
			return 0;
		t->k = u;
		goto uri;
	}
	SK_FOR(it, ip, sp + 2, le) {
		__u32 c = sk_byte(s, (__u32)*ip);

		if (c == ':') {
			t->k = (__u32)*ip;
			break;
		}
		if (!c_scheme(c)) {
			t->k = SKS_NONE;
			break;
		}
	}
	SK_END(it);
	if (t->k == SKS_NONE)
		return 0;
uri:
	/* uri SP "SIP/2.0": the first of SP < > " after the colon is the SP
	 * 8 bytes before the line's end (the first 64 bytes unrolled) */
	u = SKS_NONE;
	for (__u32 j = 0; j < 8; j++) {
		__u32 q = t->k + 1 + j * 8;
		__u64 w;

		if (q >= le)
			goto uri_end;
		w = sk_ld(s, q);
		m = (m_eq(w, ' ') | m_eq(w, '<') | m_eq(w, '>') | m_eq(w, '"')) & m_low(le - q);
		if (m) {
			u = q + m_first(m);
			goto uri_end;
		}
	}
	{
		SK_FOR(it, ip, 8, SK_SCAN_MAX / 8 + 2) {
			__u32 q = t->k + 1 + 8 * (__u32)*ip;
			__u64 w;

			if (q >= le || q > SK_SCAN_MAX)
				break;
			w = sk_ld(s, q);
			m = (m_eq(w, ' ') | m_eq(w, '<') | m_eq(w, '>') | m_eq(w, '"')) & m_low(le - q);
			if (m) {
				u = q + m_first(m);
				break;
			}
		}
		SK_END(it);
	}
uri_end:
	if (u == SKS_NONE || u <= t->k + 1 || u + 8 != le || sk_byte(s, u) != ' ')
		return 0;
	if (sk_ld(s, u) != 0x302E322F50495320ull) /* " SIP/2.0" */
		return 0;
	t->ruri_len = u - t->ruri_off;
	return 1;
}

/* ---- header values ---- */

/* One word of the Call-ID at q: 1 when it ends the check (t->bad, or a
 * second '@': t->n_at 2). */
static __always_inline int sk_callid_word(struct sk_scratch *s, struct sk_scan *t, __u32 q)
{
	__u64 w = sk_ld(s, q), keep = m_low(t->b - q), am;

	/* not word characters (CC_WORD): SP # $ & , ; = ^ | ('@' apart) */
	if ((m_eq(w, ' ') | m_range(w, '#', '$') | m_eq(w, '&') | m_eq(w, ',') | m_eq(w, ';') |
	     m_eq(w, '=') | m_eq(w, '^') | m_eq(w, '|')) & keep) {
		t->bad = 1;
		return 1;
	}
	am = m_eq(w, '@') & keep;
	if (am) {
		if (t->n_at || (am & (am - 1))) {
			t->n_at = 2;
			return 1;
		}
		t->n_at = 1;
		t->at = q + m_first(am);
	}
	return 0;
}

/* Call-ID: trimmed, `word ["@" word]`, no blank inside. */
static __always_inline int sk_callid(struct sk_scratch *s, struct sk_scan *t, __u32 v, __u32 ve)
{
	struct bpf_iter_num it;
	int *ip;

	sk_trim(s, t, v, ve);
	if (t->a >= t->b)
		return 0;
	t->bad = 0;
	t->n_at = 0;
	t->at = SKS_NONE;
	/* most Call-IDs fit 32 bytes: no iterator for those */
	for (__u32 j = 0; j < 4; j++) {
		__u32 q = t->a + j * 8;

		if (q >= t->b)
			goto done;
		if (sk_callid_word(s, t, q))
			return 0;
	}
	SK_FOR(it, ip, 4, SK_SCAN_MAX / 8 + 2) {
		__u32 q = t->a + 8 * (__u32)*ip;

		if (q >= t->b || q > SK_SCAN_MAX)
			break;
		if (sk_callid_word(s, t, q))
			break;
	}
	SK_END(it);
done:
	if (t->bad || t->n_at > 1)
		return 0;
	if (t->n_at == 1 && (t->at == t->a || t->at + 1 >= t->b))
		return 0;
	t->callid_off = t->a;
	t->callid_len = t->b - t->a;
	return 1;
}

/* Via: not empty, no ',' and no '"'. */
static __always_inline int sk_via(struct sk_scratch *s, struct sk_scan *t, __u32 v, __u32 ve)
{
	struct bpf_iter_num it;
	int *ip;

	__u64 bad = 0, content = 0;

	for (__u32 j = 0; j < 8; j++) {
		__u32 q = v + j * 8;
		__u64 w = sk_ld(s, q), keep;

		if (q >= ve)
			return !bad && content;
		keep = m_low(ve - q);
		bad |= (m_eq(w, ',') | m_eq(w, '"')) & keep;
		content |= ~m_eq(w, ' ') & keep;
	}
	if (bad)
		return 0;
	t->bad = 0;
	t->k = content != 0;
	SK_FOR(it, ip, 8, SK_SCAN_MAX / 8 + 2) {
		__u32 q = v + 8 * (__u32)*ip;
		__u64 w, keep;

		if (q >= ve || q > SK_SCAN_MAX)
			break;
		w = sk_ld(s, q);
		keep = m_low(ve - q);
		if ((m_eq(w, ',') | m_eq(w, '"')) & keep) {
			t->bad = 1;
			break;
		}
		if (~m_eq(w, ' ') & keep)
			t->k = 1;
	}
	SK_END(it);
	return !t->bad && t->k;
}

/* The first To: its display name and its tag, as sip_parse_name_addr() and
 * find_param() see them. */
static __always_inline int sk_to(struct sk_scratch *s, struct sk_scan *t, __u32 v, __u32 ve)
{
	struct bpf_iter_num it;
	__u32 from, quotes = 0;
	int *ip;

	sk_trim(s, t, v, ve);
	/* the first '"' or '<': a quote first is a quoted display name; a '<'
	 * first, then no quote may follow anywhere (none before the '>' here,
	 * none after it below) */
	t->q1 = sk_find2(s, t->a, t->b, '"', '<');
	from = t->a;
	if (t->q1 != SKS_NONE && sk_byte(s, t->q1) == '<') {
		t->lt = t->q1;
		t->gt = sk_find2(s, t->lt, t->b, '"', '>');
		if (t->gt == SKS_NONE || sk_byte(s, t->gt) != '>')
			return 0;
		from = t->gt + 1;
		quotes = 1;
	} else if (t->q1 != SKS_NONE) {
		/* a quoted display name: only `"text"` first, then the '<' */
		if (t->q1 != t->a)
			return 0;
		t->q2 = sk_find(s, t->a + 1, t->b, '"');
		if (t->q2 == SKS_NONE || sk_find(s, t->q2 + 1, t->b, '"') != SKS_NONE ||
		    sk_find(s, t->a, t->b, '\\') != SKS_NONE)
			return 0;
		from = t->q2 + 1;
		t->lt = sk_find(s, t->a, t->b, '<');
		if (t->lt == SKS_NONE || t->lt < t->q2)
			return 0;
		t->gt = sk_find(s, t->lt, t->b, '>');
		if (t->gt == SKS_NONE)
			return 0;
		from = t->gt + 1;
	} else { /* no quote, no '<' */
		from = sk_find(s, from, t->b, ';');
		if (from == SKS_NONE) {
			t->to_tag = 0;
			return 1;
		}
	}
	/* the usual parameters: exactly ";tag=" and a token of letters,
	 * digits, '-' and '.' up to the end */
	if (t->b > from + 5 && t->b - from <= 5 + 32 &&
	    (sk_ld(s, from) & 0xFFFFFFFFFFull) == 0x3d6761743bull) { /* ";tag=" */
		__u32 q = from + 5, n = t->b - q, bad = 0;

		for (__u32 j = 0; j < 4; j++) {
			if (n <= j * 8)
				break;
			if (~m_name(sk_ld(s, q + j * 8)) & m_low(n - j * 8)) {
				bad = 1;
				break;
			}
		}
		if (!bad) {
			t->to_tag = 1;
			return 1;
		}
	}
	if (quotes && sk_find(s, from, t->b, '"') != SKS_NONE)
		return 0;
	/* the parameters [from, b), no quote among them: split at every ';';
	 * the first named tag (any case) followed by '=' decides. st: 0 seek
	 * ';', 1 blanks before a name, 2 the name, 3 blanks after it, 4 blanks
	 * after "tag=", 5 the tag, 6 decided */
	t->st = 0;
	t->tag_len = 0;
	SK_FOR(it, ip, from, t->b) {
		__u32 c = sk_byte(s, (__u32)*ip);

		switch (t->st) {
		case 0:
			if (c == ';')
				t->st = 1;
			break;
		case 1:
			if (c == ';')
				break;
			if (c == ' ')
				break;
			if (c_token(c)) {
				t->st = 2;
				t->name_len = 1;
				t->lname = c | 0x20;
			} else {
				t->st = 0;
			}
			break;
		case 2:
			if (c_token(c)) {
				if (t->name_len < 4)
					t->lname |= (__u64)(c | 0x20) << (8 * t->name_len);
				t->name_len++;
				break;
			}
			t->named = t->name_len == 3 && t->lname == 0x676174; /* "tag" */
			if (c == ' ')
				t->st = 3;
			else if (c == '=')
				t->st = t->named ? 4 : 0;
			else
				t->st = c == ';' ? 1 : 0;
			break;
		case 3:
			if (c == ' ')
				break;
			if (c == '=')
				t->st = t->named ? 4 : 0;
			else
				t->st = c == ';' ? 1 : 0;
			break;
		case 4:
			if (c == ' ')
				break;
			if (c_token(c)) {
				t->st = 5;
				t->tag_len = 1;
			} else {
				t->st = 6;
			}
			break;
		case 5:
			if (c_token(c))
				t->tag_len++;
			else
				t->st = 6;
			break;
		}
		if (t->st == 6)
			break;
	}
	SK_END(it);
	t->to_tag = t->tag_len > 0 && (t->st == 5 || t->st == 6);
	return 1;
}

/* Bytes k < n of a word (n <= 8: the low n bytes; n >= 8: all). */
static __always_inline __u64 m_bytes(__u32 n)
{
	return n >= 8 ? ~0ull : (1ull << (8 * n)) - 1;
}

/* Token characters (CC_TOKEN): letters, digits, - . ! % * _ + ` ' ~ */
static __always_inline __u64 m_token(__u64 w)
{
	return m_name(w) | m_range(w, '*', '+') | m_range(w, '_', '`') | m_eq(w, '!') |
	       m_eq(w, '%') | m_eq(w, '\'') | m_eq(w, '~');
}

/* The first byte at or after q that is not a digit, within 16 bytes;
 * 16 when there is none. */
static __always_inline __u32 sk_digits(const struct sk_scratch *s, __u32 q)
{
	__u64 m = ~m_range(sk_ld(s, q), '0', '9') & B80;

	if (m)
		return m_first(m);
	m = ~m_range(sk_ld(s, q + 8), '0', '9') & B80;
	return m ? 8 + m_first(m) : 16;
}

/* The number of the n (at most 10) digits at q. */
static __always_inline __u64 sk_number(const struct sk_scratch *s, __u32 q, __u32 n)
{
	__u64 w0 = sk_ld(s, q), w1 = sk_ld(s, q + 8), num = 0;

	for (__u32 j = 0; j < 10; j++) {
		if (j >= n)
			break;
		num = num * 10 + (((j < 8 ? w0 >> (8 * j) : w1 >> (8 * (j - 8))) & 0xFF) - '0');
	}
	return num;
}

/* The first CSeq: *SP 1*10DIGIT 1*SP token *SP, at most 2^31 - 1; for a
 * request byte for byte its method. Word-wise: trimmed, the digits, one
 * blank (more in a loop), a token of at most 31 bytes up to the end. */
static __always_inline int sk_cseq(struct sk_scratch *s, struct sk_scan *t, __u32 v, __u32 ve)
{
	struct bpf_iter_num it;
	__u32 d, b0, n;
	int *ip;

	sk_trim(s, t, v, ve);
	if (t->a >= t->b)
		return 0;
	d = sk_digits(s, t->a);
	/* digits, then a blank inside the trimmed value (so a token follows) */
	if (d == 0 || d > 10 || t->a + d >= t->b || sk_byte(s, t->a + d) != ' ')
		return 0;
	if (sk_number(s, t->a, d) > 0x7FFFFFFF)
		return 0;
	b0 = t->a + d + 1;
	if (sk_byte(s, b0) == ' ') { /* more blanks: rare */
		t->k = b0;
		SK_FOR(it, ip, 0, SK_SCAN_MAX) {
			if (t->k >= t->b || sk_byte(s, t->k) != ' ')
				break;
			t->k++;
		}
		SK_END(it);
		b0 = t->k;
	}
	if (b0 >= t->b || t->b - b0 >= SK_NAME_MAX)
		return 0;
	n = t->b - b0;
	for (__u32 j = 0; j < 4; j++) {
		if (n <= j * 8)
			break;
		if (~m_token(sk_ld(s, b0 + j * 8)) & m_low(n - j * 8))
			return 0;
	}
	t->m_off = b0;
	t->m_len = n;
	if (t->is_request) {
		if (n != t->method_len)
			return 0;
		for (__u32 j = 0; j < 4; j++) {
			if (n <= j * 8)
				break;
			if ((sk_ld(s, b0 + j * 8) ^ sk_ld(s, t->method_off + j * 8)) & m_bytes(n - j * 8))
				return 0;
		}
	}
	return 1;
}

/* Content-Length: trimmed, 1-9 digits. */
static __always_inline int sk_clen(struct sk_scratch *s, struct sk_scan *t, __u32 v, __u32 ve)
{
	__u32 n;

	sk_trim(s, t, v, ve);
	if (t->a >= t->b || t->b - t->a > 9)
		return 0;
	n = t->b - t->a;
	if (sk_digits(s, t->a) < n)
		return 0;
	t->clen = (__u32)sk_number(s, t->a, n);
	return 1;
}

/* The value [v, ve) of a header of one kind (SKH_*): 0 unsure. A global
 * function, verified once apart from sk_header() (whose paths would
 * otherwise multiply through every value parser); called for the few
 * lines whose value the lane reads. */
__noinline int sk_value(struct sk_scratch *s, __u32 kind, __u32 v, __u32 ve)
{
	struct sk_scan *t;

	if (!s || v > SK_SCAN_MAX || ve > SK_SCAN_MAX)
		return 0;
	t = &s->st;
	switch (kind) {
	case SKH_CALL_ID:
		return sk_callid(s, t, v, ve);
	case SKH_VIA:
		return sk_via(s, t, v, ve);
	case SKH_TO:
		return sk_to(s, t, v, ve);
	case SKH_CSEQ:
		return sk_cseq(s, t, v, ve);
	case SKH_CLEN:
		return sk_clen(s, t, v, ve);
	}
	return 0;
}

/* The kind of a header name of n (1-32) bytes at p, lower-cased words
 * l0..l3 (zero past the name): SKH_* | extra mask << 16. */
static __always_inline __u32 sk_kind(struct sk_scratch *s, __u32 n, __u64 l0, __u64 l1, __u64 l2,
				     __u64 l3, int lookup)
{
	__u32 *kind;

	if (lookup) {
		__u64 *k = (__u64 *)s->key.name;

		k[0] = l0;
		k[1] = l1;
		k[2] = l2;
		k[3] = l3;
		s->key.len = n;
		kind = bpf_map_lookup_elem(&kt_hdrs, &s->key);
		return kind ? *kind : 0;
	}
	/* the parsed names of xdp_tables.c publish_names(), long and compact */
	switch (n) {
	case 1:
		switch (l0) {
		case 'i': return SKH_CALL_ID;
		case 'v': return SKH_VIA;
		case 'f': return SKH_FROM;
		case 't': return SKH_TO;
		case 'l': return SKH_CLEN;
		}
		return 0;
	case 2:
		return l0 == 0x6f74 ? SKH_TO : 0;                          /* "to" */
	case 3:
		return l0 == 0x616976 ? SKH_VIA : 0;                       /* "via" */
	case 4:
		if (l0 == 0x6d6f7266)                                      /* "from" */
			return SKH_FROM;
		return l0 == 0x71657363 ? SKH_CSEQ : 0;                    /* "cseq" */
	case 5:
		return l0 == 0x6574756f72ull ? SKH_ROUTE : 0;              /* "route" */
	case 7:
		return l0 == 0x64692d6c6c6163ull ? SKH_CALL_ID : 0;        /* "call-id" */
	case 14:                                                           /* "content-length" */
		return l0 == 0x2d746e65746e6f63ull && l1 == 0x6874676e656cull ? SKH_CLEN : 0;
	}
	return 0;
}

/* The line at p: its end found from the words the name is read from,
 * then, for a header line, the header. Returns 0: unsure; 1: the empty
 * line (t->done, t->hdr_len); else where the next line starts. A global
 * function: the verifier checks it once, apart from the line loop. */
__noinline int sk_header(struct sk_scratch *s, __u32 p, int lookup)
{
	struct sk_scan *t;
	__u64 w[5], l[4], m;
	__u32 colon = SKS_NONE, le = SKS_NONE, kind, v;

	if (!s || p > SK_SCAN_MAX)
		return 0;
	t = &s->st;
	for (__u32 j = 0; j < 5; j++)
		w[j] = sk_ld(s, p + j * 8);
	/* the line's end: the first byte outside 0x20-0x7E, CR LF */
	for (__u32 j = 0; j < 5; j++) {
		m = m_stop(w[j]);
		if (m) {
			le = p + j * 8 + m_first(m);
			break;
		}
	}
	if (le == SKS_NONE)
		le = sk_line_end(s, p + 40);
	if (!sk_crlf(s, le))
		return 0;
	if (le == p) { /* the empty line */
		t->hdr_len = le + 2;
		t->done = 1;
		return 1;
	}
	for (__u32 j = 0; j < 5; j++) {
		m = m_eq(w[j], ':');
		if (m) {
			colon = j * 8 + m_first(m);
			break;
		}
	}
	/* a name of 1-32 letters, digits, '-', '.' right before the colon
	 * (no blank, no folded line) */
	if (colon == SKS_NONE || colon == 0 || colon > SK_NAME_MAX || p + colon >= le)
		return 0;
	l[1] = l[2] = l[3] = 0;
	for (__u32 j = 0; j < 4; j++) {
		__u32 n = colon - j * 8;
		__u64 keep = m_low(n);

		if (~m_name(w[j]) & keep)
			return 0;
		/* lower case (| 0x20 is exact on these bytes), zero past the name */
		l[j] = (w[j] | B20) & ((keep >> 7) * 0xFF);
		if (n <= 8)
			break;
	}
	kind = sk_kind(s, colon, l[0], l[1], l[2], l[3], lookup);
	v = p + colon + 1;
	t->extra_seen |= kind >> 16;
	if (kind & SKH_CALL_ID) {
		if (++t->n_callid == 1 && !sk_value(s, SKH_CALL_ID, v, le))
			return 0;
	}
	if (kind & SKH_VIA) {
		if (!sk_value(s, SKH_VIA, v, le))
			return 0;
		if (++t->n_via == 1) {
			t->via_off = v;
			t->via_end = le;
		}
	}
	if (kind & SKH_FROM)
		t->n_from++;
	if (kind & SKH_TO) {
		if (++t->n_to == 1 && !sk_value(s, SKH_TO, v, le))
			return 0;
	}
	if (kind & SKH_CSEQ) {
		if (++t->n_cseq == 1 && !sk_value(s, SKH_CSEQ, v, le))
			return 0;
	}
	if (kind & SKH_CLEN) {
		if (++t->n_clen == 1 && !sk_value(s, SKH_CLEN, v, le))
			return 0;
	}
	if (kind & SKH_ROUTE) {
		if (++t->n_route == 1) {
			t->route_off = v;
			t->route_end = le;
		}
	}
	return (int)le + 2;
}

/* Any flag of an extra header (present or match): then the per-line
 * header-name lookup is needed. */
static __always_inline int sk_has_extra(const struct sk_tables *tb)
{
	__u64 any = 0;

	for (__u32 j = 0; j < SK_EXTRA_MAX; j++)
		any |= tb->extra_present[j].w[0] | tb->extra_present[j].w[1] |
		       tb->extra_match[j].w[0] | tb->extra_match[j].w[1];
	return any != 0;
}

/* Scans s->buf[0..len) (len 1..SK_SCAN_MAX) with the names of half =
 * hl & 1 (looked up per line when hl & 2). 1 when sure that sip_scan()
 * forwards it (the fields in s->st). A global function, verified once
 * (five arguments at most). */
__noinline int sk_scan_payload(struct sk_scratch *s, __u32 len, __u32 hl, __u32 max_msg_bytes,
			       __u32 max_vias)
{
	__u32 half = hl & 1, le, p;
	int lookup = (hl & 2) != 0;
	struct sk_scan *t;

	if (!s)
		return 0;
	t = &s->st;
	__builtin_memset(t, 0, sizeof(*t));
	s->key.half = half;
	if (len < 16 || len > SK_SCAN_MAX)
		return 0;
	/* a zero word after the payload: every line search stops there */
	*(__u64 *)sk_at(s, len) = 0;
	le = sk_line_end(s, 0);
	if (!sk_crlf(s, le) || !sk_start_line(s, t, le))
		return 0;
	t->line1_end = le;
	/* the line's start lives in the map value: read back as an unknown
	 * bounded scalar each iteration, so the loop converges */
	t->line = le + 2;
	/* a bounded loop, no iterator call per line: the body is small (the
	 * line is sk_header()'s, verified apart), so the verifier walks all
	 * SK_LINES_MAX iterations cheaply */
#pragma clang loop unroll(disable)
	for (__u32 i = 0; i < SK_LINES_MAX; i++) {
		int next;

		p = t->line;
		if (p > SK_SCAN_MAX)
			break;
		next = sk_header(s, p, lookup);
		if (next <= 1) /* unsure, or the empty line */
			break;
		t->line = (__u32)next;
	}
	if (!t->done)
		return 0;
	if (t->n_callid != 1 || t->n_clen > 1 || !t->n_via || !t->n_from || !t->n_to || !t->n_cseq)
		return 0;
	if (t->n_clen && t->clen != len - t->hdr_len)
		return 0; /* the pipeline cuts (smaller) or drops (larger): user space */
	if (len > max_msg_bytes || t->n_via > max_vias)
		return 0;
	if (!t->is_request) {
		t->method_off = t->m_off;
		t->method_len = t->m_len;
		t->via_nid = sk_has_nid(s, t->via_off, t->via_end);
	} else if (t->to_tag) {
		t->ruri_nid = sk_has_nid(s, 0, t->line1_end);
		if (t->n_route)
			t->route_nid = sk_has_nid(s, t->route_off, t->route_end);
	}
	t->sure = 1;
	return 1;
}

#endif
