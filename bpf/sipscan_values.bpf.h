/* The kernel scan's value parsers (docs/xdp.md "The kernel scan"): the
 * values of the headers the lane reads (Call-ID, Via, To, CSeq,
 * Content-Length), word-wise, behind one global function, sk_value(),
 * that sipscan.bpf.h's sk_header() calls for those lines only. Each
 * recognises the subset sipscan.bpf.h states; state that iterators carry
 * lives in struct sk_scan (s->st). */
#ifndef SIPHON_SIPSCAN_VALUES_BPF_H
#define SIPHON_SIPSCAN_VALUES_BPF_H

#include "sipscan_words.bpf.h"

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
	/* every value but Via's is read trimmed (t->a, t->b): one body for
	 * the four parsers, not one inlined in each */
	if (kind != SKH_VIA)
		sk_trim(s, t, v, ve);
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

#endif
