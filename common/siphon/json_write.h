/* Minimal JSON output for the CLI: one object per line. */
#ifndef SIPHON_JSON_WRITE_H
#define SIPHON_JSON_WRITE_H

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

#endif
