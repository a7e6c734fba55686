#include <xxhash.h>

#include "siphon/maglev.h"

uint64_t callid_hash(const uint8_t *callid, size_t len, uint64_t seed)
{
	return XXH64(callid, len, seed);
}
