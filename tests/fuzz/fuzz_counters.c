/* Fuzz harness over the COUNTERS check (common/gen_counters.c) and the
 * exposition and stats made of what it accepts; abort() on a breach.
 *
 * The input's first 3 bytes are the limits (flags, rules, nodes, each
 * 0-255); the rest is a snapshot payload. An accepted payload must hold
 * what the check promises (names group.counter of [a-z0-9_], both lists
 * strictly sorted, indices within the limits), and rebuilt through the
 * builder it must come out byte for byte the same (but for indexed zeros,
 * which the builder leaves out). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"

#include "siphon/gen_counters.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gen_counters_limits lim;
	const struct gen_wire_counters *h;
	const struct gen_wire_named *nm;
	const struct gen_wire_indexed *ix;
	struct gen_counters_builder b;
	uint8_t *p;
	void *again;
	size_t len, again_len, zeros = 0;
	char err[256];
	int rc;

	if (size < 3)
		return 0;
	lim = (struct gen_counters_limits){ data[0], data[1], data[2] };
	len = size - 3;
	p = malloc(len + 1); /* aligned, as siphond's copy is */
	memcpy(p, data + 3, len);
	rc = gen_counters_check(p, len, &lim, err, sizeof(err));
	if (rc) {
		CHECK(rc == -EPROTO || rc == -EMSGSIZE || rc == -ERANGE);
		CHECK(memchr(err, '\0', sizeof(err)) && err[0]);
		free(p);
		return 0;
	}
	h = (const void *)p;
	nm = gen_counters_named(p);
	ix = gen_counters_indexed(p);
	gen_counters_init(&b);
	for (uint32_t i = 0; i < h->n_named; i++) {
		const char *dot = strchr(nm[i].name, '.');
		char group[GEN_COUNTERS_NAME_MAX];

		CHECK(dot && dot != nm[i].name && dot[1]);
		CHECK(i == 0 || strcmp(nm[i - 1].name, nm[i].name) < 0);
		memcpy(group, nm[i].name, (size_t)(dot - nm[i].name));
		group[dot - nm[i].name] = '\0';
		gen_counters_add_named(&b, group, dot + 1, nm[i].value);
	}
	for (uint32_t i = 0; i < h->n_indexed; i++) {
		CHECK(ix[i].kind > GEN_COUNTER__NONE && ix[i].kind < GEN_COUNTER__COUNT);
		CHECK(ix[i].index < 256 * GEN_NODE_MSG_SLOTS);
		zeros += ix[i].value == 0;
		gen_counters_add_indexed(&b, (enum gen_counter_kind)ix[i].kind, ix[i].index, ix[i].value);
	}
	{
		const struct gen_counters_head head = { h->generation, h->lanes, h->seq, h->instance,
							h->flags };

		CHECK(gen_counters_finish(&b, &head, &again, &again_len) == 0);
	}
	gen_counters_free(&b);
	CHECK(again_len == len - zeros * sizeof(*ix));
	CHECK(gen_counters_check(again, again_len, &lim, err, sizeof(err)) == 0);
	if (!zeros) {
		CHECK(memcmp(again, p, len) == 0);
	}
	free(again);
	free(p);
	return 0;
}
