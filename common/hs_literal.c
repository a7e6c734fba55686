/* The literal pre-check in front of Hyperscan (siphon/hs_literal.h,
 * docs/scanner.md "The literal pre-check"). */
#include <hs/hs.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_AVX2_PATH 1
#endif

#include "siphon/hs_literal.h"

static bool is_alnum(unsigned c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

/* Past a character class starting at p ('['), or NULL for what is not
 * read here (POSIX classes, \Q..\E, no closing bracket). */
static const unsigned char *skip_class(const unsigned char *p)
{
	p++;
	if (*p == '^')
		p++;
	if (*p == ']') /* a ']' first is a member */
		p++;
	for (unsigned n = 0; n < 4096; n++) {
		const unsigned c = *p;

		if (c == 0)
			return NULL;
		if (c == '\\') {
			if (p[1] == 0 || p[1] == 'Q' || p[1] == 'E')
				return NULL;
			p += 2;
			continue;
		}
		if (c == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '='))
			return NULL;
		if (c == ']')
			return p + 1;
		p++;
	}
	return NULL;
}

/* The literal run being read and the longest one of the alternative. */
struct runs {
	uint8_t cur[HS_LITERAL_MAX], best[HS_LITERAL_MAX];
	size_t cur_len, best_len; /* whole lengths; the first HS_LITERAL_MAX bytes kept */
};

static void run_add(struct runs *r, unsigned c)
{
	if (r->cur_len < HS_LITERAL_MAX)
		r->cur[r->cur_len] = (uint8_t)c;
	r->cur_len++;
}

static void run_close(struct runs *r)
{
	if (r->cur_len > r->best_len) {
		memcpy(r->best, r->cur, sizeof(r->best));
		r->best_len = r->cur_len;
	}
	r->cur_len = 0;
}

/* One alternative from *pp to the next top-level '|' or the end: its
 * longest run of literal characters each of which every match has, in
 * order and adjacent. False for what is not read here. */
static bool alternative(const unsigned char **pp, struct runs *r)
{
	const unsigned char *p = *pp;

	if (*p == '^')
		p++;
	for (unsigned n = 0; n < 65536; n++) {
		unsigned c = *p;
		int lit = -1; /* the atom's byte, or -1: not a literal */
		bool required = true, last = false;

		if (c == 0 || c == '|')
			break;
		if (c == '$') {
			if (p[1] != 0 && p[1] != '|')
				return false;
			p++;
			break;
		}
		if (c == '\\') {
			c = p[1];
			if (c == 0 || c >= 0x80 || is_alnum(c))
				return false; /* \d, \x41, \Q...: not read here */
			lit = (int)c;
			p += 2;
		} else if (c == '.') {
			p++;
		} else if (c == '[') {
			p = skip_class(p);
			if (!p)
				return false;
		} else if (c >= 0x80 || strchr("()^{}]*+?", (int)c)) {
			return false;
		} else {
			lit = (int)c;
			p++;
		}
		/* its quantifier: '?' and '*' make it optional, '+' required once
		 * but not adjacent to what follows; then a lazy or possessive mark */
		if (*p == '?' || *p == '*' || *p == '+') {
			required = *p == '+';
			last = true;
			p++;
			if (*p == '?' || *p == '+')
				p++;
			if (*p == '?' || *p == '*' || *p == '+' || *p == '{')
				return false;
		} else if (*p == '{') {
			return false;
		}
		if (lit >= 0 && required)
			run_add(r, (unsigned)lit);
		else
			run_close(r);
		if (last)
			run_close(r);
	}
	run_close(r);
	*pp = p;
	return true;
}

unsigned hs_literal_extract(const char *pattern, unsigned hs_flags, uint16_t header,
			    struct hs_literal *out, unsigned max)
{
	const unsigned char *p = (const unsigned char *)pattern;
	unsigned n = 0;

	if (hs_flags & ~(unsigned)(HS_FLAG_SINGLEMATCH | HS_FLAG_CASELESS))
		return 0;
	for (unsigned alt = 0; alt < 65536; alt++) {
		struct runs r = { .cur_len = 0, .best_len = 0 };

		if (!alternative(&p, &r) || r.best_len < HS_LITERAL_MIN || n == max)
			return 0;
		memset(&out[n], 0, sizeof(out[n]));
		out[n].header = header;
		out[n].caseless = (hs_flags & HS_FLAG_CASELESS) != 0;
		out[n].len = (uint8_t)(r.best_len < HS_LITERAL_MAX ? r.best_len : HS_LITERAL_MAX);
		memcpy(out[n].text, r.best, out[n].len);
		n++;
		if (*p == 0)
			return n;
		p++; /* '|' */
	}
	return 0;
}

/* How common a byte (| 0x20) is in SIP header values, a guess: the
 * punctuation and digits of URIs and parameters, the letters of "sip"
 * and of English most. */
static unsigned byte_cost(uint8_t c)
{
	if ((c >= '0' && c <= '9') || strchr(" .:;<>@=-/\"", c))
		return 3;
	if (strchr("etaoinsrhlcdupm", c))
		return 2;
	return 1;
}

/* The offset of the pair of l to search for: the lowest cost, the first of those. */
static unsigned pair_offset(const struct hs_literal *l)
{
	unsigned best = 0, best_cost = ~0u;

	for (unsigned k = 0; k + 1 < l->len; k++) {
		const unsigned cost = byte_cost(l->text[k] | 0x20) + byte_cost(l->text[k + 1] | 0x20);

		if (cost < best_cost)
			best = k, best_cost = cost;
	}
	return best;
}

bool hs_precheck_build(struct hs_precheck *p, const struct hs_literal *lits, unsigned n)
{
	memset(p, 0, sizeof(*p));
	if (n == 0 || n > HS_PRECHECK_MAX)
		return false;
	for (unsigned i = 0; i < n; i++) {
		const struct hs_literal *l = &lits[i];
		unsigned j, k;
		uint8_t a, b;

		if (l->len < HS_LITERAL_MIN || l->len > HS_LITERAL_MAX || l->caseless > 1)
			goto bad;
		for (k = 0; k < l->len; k++)
			if (l->text[k] == 0 || l->text[k] >= 0x80)
				goto bad;
		p->lit[i] = *l;
		k = pair_offset(l);
		a = l->text[k] | 0x20, b = l->text[k + 1] | 0x20;
		p->off[i] = (uint8_t)k, p->pa[i] = a, p->pb[i] = b;
		for (j = 0; j < p->n_pair; j++)
			if (p->first[j][0] == a && p->second[j][0] == b)
				break;
		if (j == p->n_pair) {
			memset(p->first[j], a, 16);
			memset(p->second[j], b, 16);
			p->n_pair++;
		}
	}
	p->n_lit = (uint8_t)n;
	for (unsigned j = 0; j < p->n_pair; j++) {
		const uint8_t bit = (uint8_t)(1u << (j % 8)), a = p->first[j][0], b = p->second[j][0];

		for (unsigned half = 0; half < 32; half += 16) {
			p->nib[0][half + (a & 15)] |= bit;
			p->nib[1][half + (a >> 4)] |= bit;
			p->nib[2][half + (b & 15)] |= bit;
			p->nib[3][half + (b >> 4)] |= bit;
		}
	}
#ifdef HAVE_AVX2_PATH
	__builtin_cpu_init();
	p->wide = __builtin_cpu_supports("avx2") ? 1 : 0;
#endif
	return true;
bad:
	memset(p, 0, sizeof(*p));
	return false;
}

static inline uint8_t fold(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? c | 0x20 : c;
}

/* Whether a literal of p whose pair is at v[pos] is in [v, v+len). */
static bool literal_at(const struct hs_precheck *p, const uint8_t *v, size_t len, size_t pos)
{
	const uint8_t a = v[pos] | 0x20, b = v[pos + 1] | 0x20;

	for (unsigned i = 0; i < p->n_lit; i++) {
		const struct hs_literal *l = &p->lit[i];
		const uint8_t *s;
		unsigned k = 0;

		if (p->pa[i] != a || p->pb[i] != b || pos < p->off[i] ||
		    l->len > len - (pos - p->off[i]))
			continue;
		s = v + pos - p->off[i];
		if (!l->caseless) {
			if (memcmp(s, l->text, l->len) == 0)
				return true;
			continue;
		}
		while (k < l->len && fold(s[k]) == fold(l->text[k]))
			k++;
		if (k == l->len)
			return true;
	}
	return false;
}

bool hs_precheck_may_match_scalar(const struct hs_precheck *p, const uint8_t *v, size_t len)
{
	for (size_t pos = 0; pos + 2 <= len; pos++)
		if (literal_at(p, v, len, pos))
			return true;
	return false;
}

#ifdef __SSE2__
/* The positions of block b (16 starts) where some literal's first two
 * bytes, | 0x20, are: bit i for b[i], b[i+1]. */
static inline unsigned pair_mask(const struct hs_precheck *p, const uint8_t *b)
{
	const __m128i lower = _mm_set1_epi8(0x20);
	const __m128i b0 = _mm_or_si128(_mm_loadu_si128((const __m128i *)b), lower);
	const __m128i b1 = _mm_or_si128(_mm_loadu_si128((const __m128i *)(b + 1)), lower);
	__m128i any = _mm_setzero_si128();

	for (unsigned j = 0; j < p->n_pair; j++) {
		const __m128i f = _mm_load_si128((const __m128i *)p->first[j]);
		const __m128i s = _mm_load_si128((const __m128i *)p->second[j]);
		any = _mm_or_si128(any, _mm_and_si128(_mm_cmpeq_epi8(b0, f), _mm_cmpeq_epi8(b1, s)));
	}
	return (unsigned)_mm_movemask_epi8(any);
}

static bool may_match_sse2(const struct hs_precheck *p, const uint8_t *v, size_t len)
{
	uint8_t tail[32];
	size_t i = 0;
	unsigned bits;

	if (len < HS_LITERAL_MIN)
		return false;
	if (len < 17) { /* one block from a zeroed copy: a pair the padding
			 * made up is not in the value, literal_at() reads that */
		memset(tail, 0, sizeof(tail));
		memcpy(tail, v, len);
		for (bits = pair_mask(p, tail); bits; bits &= bits - 1) {
			const size_t pos = (unsigned)__builtin_ctz(bits);

			if (pos + 1 < len && literal_at(p, v, len, pos))
				return true;
		}
		return false;
	}
	/* blocks of 16 pair starts while 17 bytes are there, the last one
	 * overlapping the one before */
	for (;;) {
		for (bits = pair_mask(p, v + i); bits; bits &= bits - 1)
			if (literal_at(p, v, len, i + (unsigned)__builtin_ctz(bits)))
				return true;
		if (i + 17 == len)
			return false;
		i = i + 33 <= len ? i + 16 : len - 17;
	}
}

#ifdef HAVE_AVX2_PATH
/* pair_mask() over 32 starts. */
__attribute__((target("avx2"))) static inline unsigned pair_mask32(const struct hs_precheck *p,
								   const uint8_t *b)
{
	const __m256i lower = _mm256_set1_epi8(0x20);
	const __m256i b0 = _mm256_or_si256(_mm256_loadu_si256((const __m256i *)b), lower);
	const __m256i b1 = _mm256_or_si256(_mm256_loadu_si256((const __m256i *)(b + 1)), lower);
	__m256i any = _mm256_setzero_si256();

	for (unsigned j = 0; j < p->n_pair; j++) {
		const __m256i f = _mm256_broadcastsi128_si256(_mm_load_si128((const __m128i *)p->first[j]));
		const __m256i s = _mm256_broadcastsi128_si256(_mm_load_si128((const __m128i *)p->second[j]));
		any = _mm256_or_si256(any, _mm256_and_si256(_mm256_cmpeq_epi8(b0, f),
							    _mm256_cmpeq_epi8(b1, s)));
	}
	return (unsigned)_mm256_movemask_epi8(any);
}

/* The same by bucket, for more than BUCKETS_FROM pairs: a constant cost
 * (two table lookups per byte of the pair) instead of one compare per
 * pair. Exact for up to 8 pairs; with more, a bucket holds several and a
 * start may be set for a pair that is not there, which literal_at()
 * rejects, so the answer does not change. */
#define BUCKETS_FROM 3

__attribute__((target("avx2"))) static inline __m256i nibble_lookup(const uint8_t lo_tab[32],
								  const uint8_t hi_tab[32],
								  __m256i x)
{
	const __m256i low4 = _mm256_set1_epi8(0x0F);
	const __m256i lo = _mm256_and_si256(x, low4);
	const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(x, 4), low4);

	return _mm256_and_si256(_mm256_shuffle_epi8(_mm256_load_si256((const __m256i *)lo_tab), lo),
				_mm256_shuffle_epi8(_mm256_load_si256((const __m256i *)hi_tab), hi));
}

__attribute__((target("avx2"))) static inline unsigned bucket_mask32(const struct hs_precheck *p,
								    const uint8_t *b)
{
	const __m256i lower = _mm256_set1_epi8(0x20);
	const __m256i b0 = _mm256_or_si256(_mm256_loadu_si256((const __m256i *)b), lower);
	const __m256i b1 = _mm256_or_si256(_mm256_loadu_si256((const __m256i *)(b + 1)), lower);
	const __m256i both = _mm256_and_si256(nibble_lookup(p->nib[0], p->nib[1], b0),
					      nibble_lookup(p->nib[2], p->nib[3], b1));

	return ~(unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi8(both, _mm256_setzero_si256()));
}

/* The starts of block b where a pair may be (bit i: b[i], b[i+1]). */
__attribute__((target("avx2"), always_inline)) static inline unsigned
starts32(const struct hs_precheck *p, const uint8_t *b, bool buckets)
{
	return buckets ? bucket_mask32(p, b) : pair_mask32(p, b);
}

/* may_match_sse2() 32 starts at a time, by pair or by bucket. */
__attribute__((target("avx2"), always_inline)) static inline bool
may_match_32(const struct hs_precheck *p, const uint8_t *v, size_t len, bool buckets)
{
	uint8_t tail[64];
	size_t i = 0;
	unsigned bits;

	if (len < 33) {
		memset(tail, 0, sizeof(tail));
		memcpy(tail, v, len);
		for (bits = starts32(p, tail, buckets); bits; bits &= bits - 1) {
			const size_t pos = (unsigned)__builtin_ctz(bits);

			if (pos + 1 < len && literal_at(p, v, len, pos))
				return true;
		}
		return false;
	}
	for (;;) {
		for (bits = starts32(p, v + i, buckets); bits; bits &= bits - 1)
			if (literal_at(p, v, len, i + (unsigned)__builtin_ctz(bits)))
				return true;
		if (i + 33 == len)
			return false;
		i = i + 65 <= len ? i + 32 : len - 33;
	}
}

__attribute__((target("avx2"))) static bool may_match_avx2(const struct hs_precheck *p,
							    const uint8_t *v, size_t len)
{
	return p->n_pair >= BUCKETS_FROM ? may_match_32(p, v, len, true)
					 : may_match_32(p, v, len, false);
}
#endif

bool hs_precheck_may_match(const struct hs_precheck *p, const uint8_t *v, size_t len)
{
	if (len < HS_LITERAL_MIN)
		return false;
#ifdef HAVE_AVX2_PATH
	if (p->wide)
		return may_match_avx2(p, v, len);
#endif
	return may_match_sse2(p, v, len);
}
#else
bool hs_precheck_may_match(const struct hs_precheck *p, const uint8_t *v, size_t len)
{
	return hs_precheck_may_match_scalar(p, v, len);
}
#endif
