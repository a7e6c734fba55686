/* Minimal JSON output for the CLI: one object per line. */
#ifndef SIPHON_JSON_WRITE_H
#define SIPHON_JSON_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Writes bytes as a JSON string. Valid UTF-8 passes through; control
 * characters and bytes that are not UTF-8 are written as \u00XX, so any
 * byte string has exactly one JSON form. */
void json_write_bytes(FILE *out, const uint8_t *p, size_t len);
void json_write_str(FILE *out, const char *s);

/* `"key":` with a leading comma unless first. */
void json_key(FILE *out, const char *key, int *first);

/* The name of counter i (ctx: whatever the caller's names need). */
typedef const char *(*json_name_fn)(unsigned i, const void *ctx);

/* `"key":{"name(0)":v[0],...}` with a leading comma unless first;
 * members whose value is 0 are left out when skip_zero. */
void json_counter_map(FILE *out, const char *key, int *first, const uint64_t *v, unsigned n,
		      json_name_fn name, const void *ctx, bool skip_zero);

#endif
