/* blob-check FILE: opens a table blob file with tables_blob_open() as a
 * fast path would; prints "generation N" (exit 0) or why not (exit 1).
 * For tests/siphond/test_siphond.py. */
#include <stdio.h>
#include <stdlib.h>

#include "siphon/table_blob.h"

int main(int argc, char **argv)
{
	struct compiled_tables *t = malloc(sizeof(*t));
	char err[512];
	FILE *f;
	long len;
	void *blob;

	if (argc != 2 || !t || !(f = fopen(argv[1], "rb"))) {
		fprintf(stderr, "usage: blob-check FILE\n");
		return 2;
	}
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	blob = aligned_alloc(8, ((size_t)len + 7) / 8 * 8 + 8);
	if (!blob || fread(blob, 1, (size_t)len, f) != (size_t)len) {
		fprintf(stderr, "blob-check: %s: cannot read it\n", argv[1]);
		return 1;
	}
	fclose(f);
	if (tables_blob_open(blob, (size_t)len, t, err, sizeof(err)) != 0) {
		printf("%s: %s\n", argv[1], err);
		return 1;
	}
	printf("generation %llu\n", (unsigned long long)tables_blob_generation(blob));
	free(blob);
	free(t);
	return 0;
}
