#include <string.h>

#include "siphon/json_write.h"

/* Length of the valid UTF-8 sequence at p (2-4), or 0 if there is none. */
static size_t utf8_seq_len(const uint8_t *p, size_t avail)
{
	uint32_t cp;
	size_t n;

	if (p[0] >= 0xC2 && p[0] <= 0xDF)
		n = 2, cp = p[0] & 0x1F;
	else if (p[0] >= 0xE0 && p[0] <= 0xEF)
		n = 3, cp = p[0] & 0x0F;
	else if (p[0] >= 0xF0 && p[0] <= 0xF4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (avail < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3F);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

void json_write_bytes(FILE *out, const uint8_t *p, size_t len)
{
	fputc('"', out);
	for (size_t i = 0; i < len; i++) {
		uint8_t c = p[i];
		size_t n;

		if (c == '"' || c == '\\') {
			fputc('\\', out);
			fputc(c, out);
		} else if (c == '\n') {
			fputs("\\n", out);
		} else if (c == '\r') {
			fputs("\\r", out);
		} else if (c == '\t') {
			fputs("\\t", out);
		} else if (c >= 0x20 && c < 0x7F) {
			fputc(c, out);
		} else if (c >= 0x80 && (n = utf8_seq_len(p + i, len - i)) != 0) {
			fwrite(p + i, 1, n, out);
			i += n - 1;
		} else {
			fprintf(out, "\\u%04x", c);
		}
	}
	fputc('"', out);
}

void json_write_str(FILE *out, const char *s)
{
	json_write_bytes(out, (const uint8_t *)s, strlen(s));
}

void json_key(FILE *out, const char *key, int *first)
{
	if (!*first)
		fputc(',', out);
	*first = 0;
	json_write_str(out, key);
	fputc(':', out);
}

void json_counter_map(FILE *out, const char *key, int *first, const uint64_t *v, unsigned n,
		      json_name_fn name, const void *ctx, bool skip_zero)
{
	int inner = 1;

	json_key(out, key, first);
	fputc('{', out);
	for (unsigned i = 0; i < n; i++) {
		if (skip_zero && !v[i])
			continue;
		json_key(out, name(i, ctx), &inner);
		fprintf(out, "%llu", (unsigned long long)v[i]);
	}
	fputc('}', out);
}
