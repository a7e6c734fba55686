/* Building a table blob (docs/tables.md) from compiled tables: the control
 * plane's side of a table generation. common/siphon/table_blob.h is the
 * layout and the reader. */
#ifndef SIPHON_BLOB_WRITE_H
#define SIPHON_BLOB_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "siphon/tables.h"

/* One allocation (free() it) holding t whole as generation `generation`,
 * checksummed. 0, -E2BIG when t holds more than a blob may (limits.h),
 * -ENOMEM. */
int tables_blob_build(const struct compiled_tables *t, uint64_t generation, void **blob,
		      size_t *len);

#endif
