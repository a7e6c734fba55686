/* SIP mutants for the mutation round of tests/bpf/test_parity.c
 * (docs/xdp.md "Tests"): the kernel scan is a second SIP parser, so it is
 * run over inputs nobody wrote by hand. A mutant is a payload with 1-3 of:
 * a byte set to an interesting byte (CR, LF, SP, HTAB, the separators
 * : ; , " < > = @, NUL, 0x7F, 0x80, 0xFF), a letter's case swapped, an
 * interesting byte inserted or deleted, the payload cut short, a header
 * line duplicated, dropped or swapped with another, Content-Length's
 * digits changed, a header name in its compact (or long) form, a line
 * folded, a nid parameter (mut_nid()). Most byte positions are picked
 * inside the header block, where the scan works.
 *
 * Deterministic: every choice comes from the caller's generator (splitmix64),
 * so a seed names the whole round. Static functions; included by
 * test_parity.c only. */
#ifndef SIPHON_TESTS_BPF_MUTATE_H
#define SIPHON_TESTS_BPF_MUTATE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define MUT_MAX   3400 /* a payload, at most (a test-run frame is smaller still) */
#define MUT_LINES 128  /* header lines looked at */

struct mut_rng {
	uint64_t s;
};

/* splitmix64 */
static uint64_t mut_next(struct mut_rng *r)
{
	uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* 0..n-1 (0 when n is 0) */
static size_t mut_below(struct mut_rng *r, size_t n)
{
	return n ? (size_t)(mut_next(r) % n) : 0;
}

static const uint8_t mut_bytes[] = {'\r', '\n', ' ', '\t', ':', ';', ',', '"',
				    '<',  '>',  '=', '@',  0,   0x7F, 0x80, 0xFF};

#define MUT_OPS(X)                                    \
	X(FLIP, "flip", 6)                            \
	X(CASE, "case", 2)                            \
	X(INSERT, "insert", 4)                        \
	X(DELETE, "delete", 4)                        \
	X(TRUNCATE, "truncate", 2)                    \
	X(DUP_LINE, "dup-line", 2)                    \
	X(DROP_LINE, "drop-line", 2)                  \
	X(SWAP_LINES, "swap-lines", 2)                \
	X(CLEN, "clen", 3)                            \
	X(COMPACT, "compact", 2)                      \
	X(FOLD, "fold", 2)                            \
	X(NID, "nid", 3)

enum mut_op {
#define X(id, name, weight) MUT_##id,
	MUT_OPS(X)
#undef X
	MUT__COUNT
};

static const char *const mut_op_names[] = {
#define X(id, name, weight) [MUT_##id] = name,
	MUT_OPS(X)
#undef X
};

static const unsigned mut_op_weights[] = {
#define X(id, name, weight) [MUT_##id] = weight,
	MUT_OPS(X)
#undef X
};

/* counts per op over a round (how many mutants each went into) */
static unsigned long mut_op_count[MUT__COUNT];

struct mutant {
	uint8_t b[MUT_MAX];
	size_t n;
	char what[192]; /* the ops applied, for a failure report */
	size_t what_len;
};

static void mut_note(struct mutant *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void mut_note(struct mutant *m, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (m->what_len + 1 >= sizeof(m->what))
		return;
	va_start(ap, fmt);
	k = vsnprintf(m->what + m->what_len, sizeof(m->what) - m->what_len, fmt, ap);
	va_end(ap);
	if (k > 0)
		m->what_len += (size_t)k;
	if (m->what_len >= sizeof(m->what))
		m->what_len = sizeof(m->what) - 1;
}

/* [off, off + del) becomes ins[0..ins_len); false when it would not fit */
static bool mut_splice(struct mutant *m, size_t off, size_t del, const void *ins, size_t ins_len)
{
	if (off > m->n || del > m->n - off || m->n - del + ins_len > MUT_MAX)
		return false;
	memmove(m->b + off + ins_len, m->b + off + del, m->n - off - del);
	if (ins_len)
		memcpy(m->b + off, ins, ins_len);
	m->n = m->n - del + ins_len;
	return true;
}

/* The header lines: start[0] is the first header line (after the start
 * line's LF), start[i + 1] the end of line i (after its LF); the block ends
 * at start[k] (the empty line, or the end). Returns k (0: none). */
static size_t mut_lines(const struct mutant *m, size_t *start)
{
	const uint8_t *lf = memchr(m->b, '\n', m->n);
	size_t k = 0, p;

	if (!lf)
		return 0;
	p = (size_t)(lf - m->b) + 1;
	start[0] = p;
	while (k < MUT_LINES && p < m->n) {
		if (m->b[p] == '\n' || (m->b[p] == '\r' && p + 1 < m->n && m->b[p + 1] == '\n'))
			break; /* the empty line */
		lf = memchr(m->b + p, '\n', m->n - p);
		if (!lf)
			break; /* a last line without its end: not a line to move */
		p = (size_t)(lf - m->b) + 1;
		start[++k] = p;
	}
	return k;
}

/* A byte position: mostly inside the header block (the scan's work) */
static size_t mut_pos(struct mut_rng *r, const struct mutant *m, size_t extra)
{
	size_t start[MUT_LINES + 1], k = mut_lines(m, start), hdr = k ? start[k] + 2 : 0;

	if (hdr > m->n)
		hdr = m->n;
	if (hdr && mut_below(r, 5) < 4)
		return mut_below(r, hdr + extra);
	return mut_below(r, m->n + extra);
}

/* [name, name_end) and the colon of the line [a, e); false without a colon */
static bool mut_name(const struct mutant *m, size_t a, size_t e, size_t *name_end, size_t *colon)
{
	const uint8_t *c = memchr(m->b + a, ':', e - a);
	size_t ne;

	if (!c)
		return false;
	*colon = (size_t)(c - m->b);
	for (ne = *colon; ne > a && (m->b[ne - 1] == ' ' || m->b[ne - 1] == '\t'); ne--)
		;
	*name_end = ne;
	return true;
}

/* the value's end in the line [a, e): before CR LF, LF or the end */
static size_t mut_value_end(const struct mutant *m, size_t a, size_t e)
{
	if (e > a && m->b[e - 1] == '\n')
		e--;
	if (e > a && m->b[e - 1] == '\r')
		e--;
	return e;
}

static bool mut_name_is(const struct mutant *m, size_t a, size_t ne, const char *name)
{
	size_t n = strlen(name);

	if (ne - a != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((m->b[a + i] | 0x20) != (uint8_t)name[i])
			return false;
	return true;
}

/* long and compact header names (RFC 3261 7.3.3 and the IANA registry) */
static const char *const mut_compact[][2] = {
	{"call-id", "i"}, {"via", "v"}, {"from", "f"}, {"to", "t"}, {"content-length", "l"},
	{"contact", "m"}, {"content-type", "c"}, {"subject", "s"}, {"supported", "k"},
	{"content-encoding", "e"}, {"event", "o"}, {"refer-to", "r"}, {"referred-by", "b"},
	{"allow-events", "u"}, {"session-expires", "x"},
};
#define MUT_N_COMPACT (sizeof(mut_compact) / sizeof(mut_compact[0]))

/* A header name as spelled in messages (Call-ID, Content-Length, ...) */
static void mut_spell(const char *lower, char *out, size_t cap, struct mut_rng *r)
{
	size_t n = strlen(lower), i;
	unsigned style = (unsigned)mut_below(r, 4); /* 0-1 as usual, 2 upper, 3 random */

	for (i = 0; i < n && i + 1 < cap; i++) {
		char c = lower[i];
		bool up = style == 2 || (style == 3 && mut_below(r, 2)) ||
			  (style < 2 && (i == 0 || lower[i - 1] == '-'));

		if (style < 2 && strcmp(lower, "call-id") == 0 && i >= 5)
			up = true; /* "Call-ID" */
		out[i] = up && c >= 'a' && c <= 'z' ? (char)(c - 32) : c;
	}
	out[i] = 0;
}

static void mut_flip(struct mut_rng *r, struct mutant *m)
{
	size_t p;
	uint8_t c;

	if (!m->n)
		return;
	p = mut_pos(r, m, 0);
	c = mut_bytes[mut_below(r, sizeof(mut_bytes))];
	m->b[p] = c;
	mut_note(m, " flip@%zu=%02x", p, c);
}

static void mut_case(struct mut_rng *r, struct mutant *m)
{
	size_t p;

	if (!m->n)
		return;
	for (p = mut_pos(r, m, 0); p < m->n; p++)
		if ((m->b[p] | 0x20) >= 'a' && (m->b[p] | 0x20) <= 'z') {
			m->b[p] ^= 0x20;
			mut_note(m, " case@%zu", p);
			return;
		}
}

static void mut_insert(struct mut_rng *r, struct mutant *m)
{
	size_t p = mut_pos(r, m, 1);
	uint8_t c = mut_bytes[mut_below(r, sizeof(mut_bytes))];

	if (mut_splice(m, p, 0, &c, 1))
		mut_note(m, " insert@%zu=%02x", p, c);
}

/* deletes the first interesting byte at or after a position (within 64
 * bytes), else the byte there */
static void mut_delete(struct mut_rng *r, struct mutant *m)
{
	size_t p, q;

	if (!m->n)
		return;
	p = mut_pos(r, m, 0);
	for (q = p; q < m->n && q < p + 64; q++)
		if (memchr(mut_bytes, m->b[q], sizeof(mut_bytes)))
			break;
	if (q >= m->n || q >= p + 64)
		q = p;
	mut_note(m, " delete@%zu=%02x", q, m->b[q]);
	mut_splice(m, q, 1, NULL, 0);
}

static void mut_truncate(struct mut_rng *r, struct mutant *m)
{
	size_t p;

	if (!m->n)
		return;
	p = mut_pos(r, m, 0);
	m->n = p;
	mut_note(m, " truncate@%zu", p);
}

static void mut_dup_line(struct mut_rng *r, struct mutant *m)
{
	static uint8_t line[MUT_MAX];
	size_t start[MUT_LINES + 1], k = mut_lines(m, start), i, to, len;

	if (!k)
		return;
	i = mut_below(r, k);
	to = start[mut_below(r, k + 1)];
	len = start[i + 1] - start[i];
	memcpy(line, m->b + start[i], len);
	if (mut_splice(m, to, 0, line, len))
		mut_note(m, " dup-line:%zu@%zu", i, to);
}

static void mut_drop_line(struct mut_rng *r, struct mutant *m)
{
	size_t start[MUT_LINES + 1], k = mut_lines(m, start), i;

	if (!k)
		return;
	i = mut_below(r, k);
	mut_splice(m, start[i], start[i + 1] - start[i], NULL, 0);
	mut_note(m, " drop-line:%zu", i);
}

static void mut_swap_lines(struct mut_rng *r, struct mutant *m)
{
	static uint8_t tmp[MUT_MAX];
	size_t start[MUT_LINES + 1], k = mut_lines(m, start), i, j, t, la, lb, mid;

	if (k < 2)
		return;
	i = mut_below(r, k);
	j = mut_below(r, k - 1);
	j += j >= i;
	if (i > j) {
		t = i;
		i = j;
		j = t;
	}
	/* [line i][middle][line j] becomes [line j][middle][line i] */
	la = start[i + 1] - start[i];
	lb = start[j + 1] - start[j];
	mid = start[j] - start[i + 1];
	memcpy(tmp, m->b + start[j], lb);
	memcpy(tmp + lb, m->b + start[i + 1], mid);
	memcpy(tmp + lb + mid, m->b + start[i], la);
	memcpy(m->b + start[i], tmp, la + mid + lb);
	mut_note(m, " swap-lines:%zu,%zu", i, j);
}

/* Content-Length (or l) gets other digits; without one, one is added */
static void mut_clen(struct mut_rng *r, struct mutant *m)
{
	size_t start[MUT_LINES + 1], k = mut_lines(m, start), body, found = k, ne, colon = 0;
	char v[48], name[20];
	int n;

	body = k && start[k] + 2 <= m->n ? m->n - start[k] - 2 : 0;
	for (size_t i = 0; i < k; i++)
		if (mut_name(m, start[i], start[i + 1], &ne, &colon) &&
		    (mut_name_is(m, start[i], ne, "content-length") || mut_name_is(m, start[i], ne, "l")))
			found = i;
	switch (mut_below(r, 10)) {
	case 0: n = snprintf(v, sizeof(v), " %zu", body + 1); break;
	case 1: n = snprintf(v, sizeof(v), " %zu", body ? body - 1 : 0); break;
	case 2: n = snprintf(v, sizeof(v), " %zu", body); break;
	case 3: n = snprintf(v, sizeof(v), " 0"); break;
	case 4: n = snprintf(v, sizeof(v), " %0*zu", (int)(2 + mut_below(r, 9)), body); break;
	case 5: n = snprintf(v, sizeof(v), " %llu", (unsigned long long)(mut_next(r) % 10000000000ull)); break;
	case 6: n = snprintf(v, sizeof(v), "  %zu  ", body); break;
	case 7: n = snprintf(v, sizeof(v), " %c%zu", "+-"[mut_below(r, 2)], body); break;
	case 8: n = snprintf(v, sizeof(v), "%s", mut_below(r, 2) ? "" : " "); break;
	default: n = snprintf(v, sizeof(v), " %zu%c%zu", body / 10, " x\t"[mut_below(r, 3)], body % 10); break;
	}
	if (found < k) {
		mut_name(m, start[found], start[found + 1], &ne, &colon);
		if (mut_splice(m, colon + 1, mut_value_end(m, start[found], start[found + 1]) - colon - 1,
			       v, (size_t)n))
			mut_note(m, " clen:%zu=\"%s\"", found, v);
		return;
	}
	/* none: a new Content-Length line */
	{
		char line[80];
		size_t at = k ? start[mut_below(r, k + 1)] : 0;
		int ln;

		if (!k)
			return;
		mut_spell(mut_below(r, 4) ? "content-length" : "l", name, sizeof(name), r);
		ln = snprintf(line, sizeof(line), "%s:%s\r\n", name, v);
		if (mut_splice(m, at, 0, line, (size_t)ln))
			mut_note(m, " clen-new@%zu=\"%s\"", at, v);
	}
}

/* a known header name in its other form (long <-> compact, any case);
 * without one, a header name in another case */
static void mut_compact_name(struct mut_rng *r, struct mutant *m)
{
	size_t start[MUT_LINES + 1], k = mut_lines(m, start), cand[MUT_LINES], nc = 0, ne, colon, i;
	char name[24];

	for (i = 0; i < k; i++) {
		if (!mut_name(m, start[i], start[i + 1], &ne, &colon))
			continue;
		for (size_t c = 0; c < MUT_N_COMPACT; c++)
			if (mut_name_is(m, start[i], ne, mut_compact[c][0]) ||
			    mut_name_is(m, start[i], ne, mut_compact[c][1]))
				cand[nc++] = i * MUT_N_COMPACT + c;
	}
	if (!nc) {
		if (!k)
			return;
		i = mut_below(r, k);
		if (!mut_name(m, start[i], start[i + 1], &ne, &colon))
			return;
		for (size_t p = start[i]; p < ne; p++)
			if ((m->b[p] | 0x20) >= 'a' && (m->b[p] | 0x20) <= 'z' && mut_below(r, 2))
				m->b[p] ^= 0x20;
		mut_note(m, " name-case:%zu", i);
		return;
	}
	{
		size_t pick = cand[mut_below(r, nc)], c = pick % MUT_N_COMPACT;
		bool is_long;

		i = pick / MUT_N_COMPACT;
		mut_name(m, start[i], start[i + 1], &ne, &colon);
		is_long = ne - start[i] > 1;
		mut_spell(mut_compact[c][is_long ? 1 : 0], name, sizeof(name), r);
		if (mut_splice(m, start[i], ne - start[i], name, strlen(name)))
			mut_note(m, " compact:%zu=%s", i, name);
	}
}

/* a header line folded: a blank of its value (or any point) becomes
 * CR LF and SP or HTAB */
static void mut_fold(struct mut_rng *r, struct mutant *m)
{
	size_t start[MUT_LINES + 1], k = mut_lines(m, start), i, ne, colon, ve, p, del = 0;
	uint8_t ins[3] = {'\r', '\n', ' '};

	if (!k)
		return;
	i = mut_below(r, k);
	if (!mut_name(m, start[i], start[i + 1], &ne, &colon))
		return;
	ve = mut_value_end(m, start[i], start[i + 1]);
	p = colon + 1 + mut_below(r, ve - colon);
	if (mut_below(r, 2)) { /* at a blank of the value, if any */
		const uint8_t *b = memchr(m->b + colon + 1, ' ', ve - colon - 1);

		if (b) {
			p = (size_t)(b - m->b);
			del = 1;
		}
	}
	ins[2] = mut_below(r, 3) ? ' ' : '\t';
	if (mut_splice(m, p, del, ins, 3))
		mut_note(m, " fold:%zu@%zu%s", i, p, ins[2] == '\t' ? "(ht)" : "");
}

/* Node-id tokens (docs/dispatch.md): parity.conf's and lab.conf's core
 * nodes, another pool's nodes, ids of no node, a letter's case, malformed
 * values, the longest id the kernel looks up (32 bytes) and one more. */
static const char *const mut_nid_names[] = {"nid", "nid", "nid", "nid", "NID", "Nid",
					    "niD", " nid", "nid ", "xnid"};
static const char *const mut_nid_values[] = {
	"b1", "b2", "b3", "b1", "b2", "b3", "p1", "n1", "B1", "B2", "bx", "b", "", "b1!",
	"b1>", "b 1", "b1,b2", "b2;nid=b3", ";nid=b1", "b3\"", "b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1",
	"b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b"};
#define MUT_N_NID_VALUES (sizeof(mut_nid_values) / sizeof(mut_nid_values[0]))

/* A nid parameter where dispatch looks (the top Via of a response, the
 * first Route or the Request-URI of a request; now and then another
 * line's end): inserted, or the value of one that is there replaced. */
static void mut_nid(struct mut_rng *r, struct mutant *m)
{
	size_t start[MUT_LINES + 1], k = mut_lines(m, start), at = 0, a, e, ne, colon;
	bool resp = m->n >= 8 && memcmp(m->b, "SIP/2.0 ", 8) == 0;
	const char *v = mut_nid_values[mut_below(r, MUT_N_NID_VALUES)];
	unsigned where = (unsigned)mut_below(r, 8);
	char ins[96];
	int n;

	if (!k)
		return;
	if (!resp && where < 3) { /* the Request-URI: before " SIP/2.0" */
		const uint8_t *sp = memchr(m->b, ' ', start[0]);
		const uint8_t *sp2 = sp ? memchr(sp + 1, ' ', start[0] - (size_t)(sp + 1 - m->b)) : NULL;

		if (!sp2)
			return;
		at = (size_t)(sp2 - m->b);
	} else {
		const char *want = resp || where < 5 ? "via" : "route";

		for (size_t i = 0; i < k && !at; i++) {
			a = start[i];
			e = start[i + 1];
			if (!mut_name(m, a, e, &ne, &colon))
				continue;
			if (mut_name_is(m, a, ne, want) || (want[0] == 'v' && mut_name_is(m, a, ne, "v")) ||
			    where == 7) /* any line */
				at = mut_value_end(m, a, e);
		}
		if (!at)
			return;
		/* inside a Route's <...> now and then */
		if (m->b[at - 1] == '>' && mut_below(r, 2))
			at--;
	}
	/* replace the value of a nid there (the line or the start line) */
	if (mut_below(r, 3) == 0) {
		size_t from = at;

		while (from > 0 && m->b[from - 1] != '\n')
			from--;
		for (size_t p = from; p + 4 <= at; p++) {
			if ((m->b[p] | 0x20) == 'n' && (m->b[p + 1] | 0x20) == 'i' &&
			    (m->b[p + 2] | 0x20) == 'd' && m->b[p + 3] == '=') {
				size_t ve = p + 4;

				while (ve < at && m->b[ve] != ';' && m->b[ve] != '>' && m->b[ve] != ' ')
					ve++;
				if (mut_splice(m, p + 4, ve - (p + 4), v, strlen(v)))
					mut_note(m, " nid:value=%s@%zu", v, p + 4);
				return;
			}
		}
	}
	n = snprintf(ins, sizeof(ins), ";%s=%s", mut_nid_names[mut_below(r, 10)], v);
	if (n > 0 && mut_splice(m, at, 0, ins, (size_t)n))
		mut_note(m, " nid:%s@%zu", ins, at);
}

/* 1-3 mutations of m (its payload set), chosen by r */
static void mutate(struct mut_rng *r, struct mutant *m)
{
	unsigned total = 0, times = 1 + (unsigned)mut_below(r, 3);

	for (unsigned o = 0; o < MUT__COUNT; o++)
		total += mut_op_weights[o];
	m->what_len = 0;
	m->what[0] = 0;
	for (unsigned t = 0; t < times; t++) {
		unsigned w = (unsigned)mut_below(r, total), op = 0;

		while (w >= mut_op_weights[op])
			w -= mut_op_weights[op++];
		mut_op_count[op]++;
		switch ((enum mut_op)op) {
		case MUT_FLIP: mut_flip(r, m); break;
		case MUT_CASE: mut_case(r, m); break;
		case MUT_INSERT: mut_insert(r, m); break;
		case MUT_DELETE: mut_delete(r, m); break;
		case MUT_TRUNCATE: mut_truncate(r, m); break;
		case MUT_DUP_LINE: mut_dup_line(r, m); break;
		case MUT_DROP_LINE: mut_drop_line(r, m); break;
		case MUT_SWAP_LINES: mut_swap_lines(r, m); break;
		case MUT_CLEN: mut_clen(r, m); break;
		case MUT_COMPACT: mut_compact_name(r, m); break;
		case MUT_FOLD: mut_fold(r, m); break;
		case MUT_NID: mut_nid(r, m); break;
		case MUT__COUNT: break;
		}
	}
}

/* b[0..n) as a C string, 16 per line at most 96 bytes of text a line */
static void mut_print_escaped(FILE *out, const uint8_t *b, size_t n)
{
	size_t col = 0;

	fprintf(out, "#   \"");
	for (size_t i = 0; i < n; i++) {
		uint8_t c = b[i];

		if (c == '\r')
			col += (size_t)fprintf(out, "\\r");
		else if (c == '\n')
			col += (size_t)fprintf(out, "\\n");
		else if (c == '\t')
			col += (size_t)fprintf(out, "\\t");
		else if (c == '"' || c == '\\')
			col += (size_t)fprintf(out, "\\%c", c);
		else if (c >= 0x20 && c < 0x7F)
			col += (size_t)fprintf(out, "%c", c);
		else /* octal: a hex escape would swallow the hex digits after it */
			col += (size_t)fprintf(out, "\\%03o", c);
		if (i + 1 < n && (c == '\n' || col >= 96)) {
			fprintf(out, "\"\n#   \"");
			col = 0;
		}
	}
	fprintf(out, "\"\n");
}

#endif
