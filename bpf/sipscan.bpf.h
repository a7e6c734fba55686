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
 * sk_lines(), a few lines a call); other loops unroll their first words and go on in
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

#include "sipscan_words.bpf.h"
#include "sipscan_values.bpf.h"

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

/* The first n (1-32) bytes of the words w are letters, digits, '-', '.' */
static __always_inline int sk_name_bytes(const __u64 *w, __u32 n)
{
	for (__u32 j = 0; j < 4; j++) {
		if (~m_name(w[j]) & m_low(n - j * 8))
			return 0;
		if (n <= j * 8 + 8)
			break;
	}
	return 1;
}

/* The line at p (p <= SK_SCAN_MAX): its end found from the words the
 * name is read from, then, for a header line, the header. Returns 0:
 * unsure; 1: the empty line (t->done, t->hdr_len); else where the next
 * line starts. */
static __always_inline int sk_header(struct sk_scratch *s, struct sk_scan *t, __u32 p, int lookup)
{
	__u64 *w = t->w, *l = (__u64 *)s->key.name, m; /* off the stack: the calls are deep */
	__u32 colon = SKS_NONE, le = SKS_NONE, kind, v;

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

		/* lower case (| 0x20, exact on name bytes), zero past the name */
		l[j] = (w[j] | B20) & ((keep >> 7) * 0xFF);
		if (n <= 8)
			break;
	}
	kind = sk_kind(s, colon, l[0], l[1], l[2], l[3], lookup);
	/* a name the kind knows is made of name bytes already: | 0x20 gives a
	 * letter, digit, '-' or '.' only from itself, its other case, or a
	 * byte below 0x20 (none before the line's end); check the others */
	if (!kind && !sk_name_bytes(w, colon))
		return 0;
	v = p + colon + 1;
	t->extra_seen |= kind >> 16;
	/* one parsed kind a name (xdp_tables.c publish_names()): a switch,
	 * so that an unknown kind (looked up) is 8 paths for the verifier,
	 * not one per combination of bits */
	switch (kind & 0xFFFF) {
	case SKH_CALL_ID:
		if (++t->n_callid == 1 && !sk_value(s, SKH_CALL_ID, v, le))
			return 0;
		break;
	case SKH_VIA:
		if (!sk_value(s, SKH_VIA, v, le))
			return 0;
		if (++t->n_via == 1) {
			t->via_off = v;
			t->via_end = le;
		}
		break;
	case SKH_FROM:
		t->n_from++;
		break;
	case SKH_TO:
		if (++t->n_to == 1 && !sk_value(s, SKH_TO, v, le))
			return 0;
		break;
	case SKH_CSEQ:
		if (++t->n_cseq == 1 && !sk_value(s, SKH_CSEQ, v, le))
			return 0;
		break;
	case SKH_CLEN:
		if (++t->n_clen == 1 && !sk_value(s, SKH_CLEN, v, le))
			return 0;
		break;
	case SKH_ROUTE:
		if (++t->n_route == 1) {
			t->route_off = v;
			t->route_end = le;
		}
		break;
	}
	return (int)le + 2;
}

/* Up to SK_LINES_A_CALL lines from p, as sk_header(): 0 unsure, 1 the
 * empty line, else where the next line starts. A global function: the
 * verifier checks it once, apart from the line loop; a few lines a call,
 * since a call and its return cost about what a short line's scan does. */
#define SK_LINES_A_CALL 3

__noinline int sk_lines(struct sk_scratch *s, __u32 p, int lookup)
{
	int next = 0;

	if (!s)
		return 0;
	s->st.line = p;
	for (__u32 i = 0; i < SK_LINES_A_CALL; i++) {
		/* the line's start read back from the map value: an unknown
		 * bounded scalar each iteration, so the verifier prunes */
		p = s->st.line;
		if (p > SK_SCAN_MAX)
			return 0;
		next = sk_header(s, &s->st, p, lookup);
		if (next <= 1)
			break;
		s->st.line = (__u32)next;
	}
	return next;
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
	/* a bounded loop, no iterator call: the body is small (the lines are
	 * sk_lines()'s, verified apart), so the verifier walks all its
	 * iterations cheaply */
#pragma clang loop unroll(disable)
	for (__u32 i = 0; i < SK_LINES_MAX / SK_LINES_A_CALL + 1; i++) {
		int next;

		p = t->line;
		if (p > SK_SCAN_MAX)
			break;
		next = sk_lines(s, p, lookup);
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
		t->ruri_nid = sk_has_nid(s, t->ruri_off, t->ruri_off + t->ruri_len);
		if (t->n_route)
			t->route_nid = sk_has_nid(s, t->route_off, t->route_end);
	}
	t->sure = 1;
	return 1;
}

#endif
