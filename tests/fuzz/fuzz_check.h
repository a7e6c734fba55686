/* What every fuzz harness shares: an invariant that does not hold aborts,
 * which libFuzzer reports (and the replay programs fail on). */
#ifndef SIPHON_FUZZ_CHECK_H
#define SIPHON_FUZZ_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define CHECK(cond)          \
	do {                 \
		if (!(cond)) \
			abort(); \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
