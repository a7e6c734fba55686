/* The kernel scan's words and searches (docs/xdp.md "The kernel scan";
 * sipscan.bpf.h scans a payload with them): the per-CPU scratch holding
 * the payload copy and the scan's state, loads of 8 payload bytes as a
 * word, per-byte masks over a word (the has-byte bit tricks), character
 * classes, and the word-wise searches the line and value parsers share:
 * a line's end, a byte, "nid", blank trimming. */
#ifndef SIPHON_SIPSCAN_WORDS_BPF_H
#define SIPHON_SIPSCAN_WORDS_BPF_H

#include <linux/bpf.h>
#include <linux/version.h>
#include <bpf/bpf_helpers.h>

#include "siphon/siphon_tables.h"

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

/* What the scan found; offsets into the payload. */
struct sk_scan {
	__u32 sure, done, hdr_len;
	__u32 is_request, method_off, method_len, ruri_off, ruri_len, status, line1_end;
	__u32 n_callid, callid_off, callid_len;
	__u32 n_via, via_off, via_end, n_from, n_to, to_tag, n_cseq, m_off, m_len;
	__u32 n_clen, clen, n_route, route_off, route_end, extra_seen;
	__u32 via_nid, route_nid, ruri_nid; /* where "nid" first is, + 1 (0: nowhere) */
	/* the value parsers' state (kept here, not in registers, across iterations) */
	__u32 line, st, k, a, b, bad, at, n_at, lt, gt, semi, q1, q2, named, tag_len, name_len;
	__u64 num, lname;
	__u64 w[5]; /* the first 40 bytes of the line sk_header() reads */
};

/* A per-CPU memo of a table answer, keyed by the generation it came from
 * (seq * 2 + half: a publication never serves an older table's answer). */
#define SK_MEMO_SLOTS 8 /* a power of two */

struct sk_memo_method { /* kt_methods for a method of at most 8 bytes */
	__u64 word;          /* the method, zero-padded (it gives the length too) */
	__u32 gen, found;
	struct sk_flags flags;
};

struct sk_memo_route { /* the route (siphon.bpf.c route_eval()) for flags in three values */
	__u32 gen;
	__s32 rule;                    /* out: the rule, its action, or why up */
	__u32 kind, pool, why;
	__u32 victim;                  /* in a pair's first slot: the way to fill next */
	struct sk_flags val, unk;      /* in */
	struct sk_flags dval, dunk;    /* out: with the derived flags */
};

struct sk_memo_source { /* kt_src4 / kt_src6 for one source address */
	__u32 gen, family;
	__u64 addr[2];         /* IPv4: the 4 bytes in addr[0], addr[1] 0 */
	struct sk_flags flags; /* zero: no prefix covers it */
};

/* Everything a packet writes or memoises per CPU, in the one map value it
 * looks up anyway (fewer maps and cache lines a packet: issue 11). */
struct sk_scratch {
	__u8 buf[SKS_BUF + 64];
	struct sk_scan st;
	struct sk_name_key key;
	struct sk_memo_method methods[SK_MEMO_SLOTS];
	struct sk_memo_route routes[SK_MEMO_SLOTS];
	struct sk_memo_source sources[SK_MEMO_SLOTS];
	struct bpf_fib_lookup fib; /* bpf_fib_lookup()'s parameters, off the stack */
};

/* The memo slot of a word: its top bits after a multiply by 2^64 / phi. */
static __always_inline __u32 sk_memo_slot(__u64 word)
{
	return (__u32)((word * 0x9E3779B97F4A7C15ull) >> 61) & (SK_MEMO_SLOTS - 1);
}

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

/* Where "nid" (any case) first starts inside [from, to), plus 1; 0 when
 * nowhere. */
static __always_inline __u32 sk_has_nid(const struct sk_scratch *s, __u32 from, __u32 to)
{
	struct bpf_iter_num it;
	__u32 r = 0;
	int *ip;

	/* the first 64 bytes unrolled (a start line, a Via, a Route) */
	for (__u32 j = 0; j < 8; j++) {
		__u32 q = from + j * 8;
		__u64 m;

		if (q + 3 > to)
			return 0;
		m = m_eq(sk_ld(s, q) | B20, 'n') & m_eq(sk_ld(s, q + 1) | B20, 'i') &
		    m_eq(sk_ld(s, q + 2) | B20, 'd') & m_low(to - q - 2);
		if (m)
			return q + m_first(m) + 1;
	}
	SK_FOR(it, ip, 8, SK_SCAN_MAX / 8 + 2) {
		__u32 q = from + 8 * (__u32)*ip;
		__u64 m;

		if (q + 3 > to || q > SK_SCAN_MAX)
			break;
		m = m_eq(sk_ld(s, q) | B20, 'n') & m_eq(sk_ld(s, q + 1) | B20, 'i') &
		    m_eq(sk_ld(s, q + 2) | B20, 'd') & m_low(to - q - 2);
		if (m) {
			r = q + m_first(m) + 1;
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

#endif
