/* Fuzz harness over the message reader of siphond's publisher
 * (controlplane/siphond/ack_reader.c, common/siphon/gen_wire.h); abort()
 * on a breach.
 *
 * The input's first byte picks a piece size; the rest is the byte stream
 * a fast path sent. Fed whole and fed in pieces, the reader must give the
 * same ACKs and COUNTERS payloads, stop at the same byte with the same
 * error, never take more than it was given, and every ACK it gives must
 * hold what the reader promises: generation > 0, status <= 0, a NUL
 * inside the reason; every payload the size its header allows. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"

#include "ack_reader.h"

#define MAX_ACKS 64

struct run {
	struct gen_wire_ack acks[MAX_ACKS];
	size_t n_acks, taken;
	int error;
	uint64_t payloads, payload_sum; /* COUNTERS: how many, and their bytes hashed */
};

static void feed(const uint8_t *p, size_t len, size_t piece, struct run *out)
{
	struct ack_reader r = { 0 };
	char err[256];

	memset(out, 0, sizeof(*out));
	for (size_t off = 0; off < len;) {
		size_t n = len - off < piece ? len - off : piece, used;
		struct gen_wire_ack a;
		int rc = ack_read(&r, p + off, n, &used, &a, err, sizeof(err));

		CHECK(used <= n);
		off += used;
		out->taken = off;
		if (rc < 0) {
			CHECK(rc == -EPROTO || rc == -EMSGSIZE || rc == -ENOMEM);
			CHECK(memchr(err, '\0', sizeof(err)) && err[0]);
			out->error = rc;
			ack_reader_free(&r);
			return;
		}
		CHECK(rc == 0 || rc == 1 || rc == 2);
		if (rc == 2) {
			size_t plen;
			uint8_t *pl = ack_reader_take(&r, &plen);

			CHECK(pl && plen >= GEN_COUNTERS_MIN_LEN && plen % 16 == 0 &&
			      plen <= GEN_WIRE_COUNTERS_MAX);
			out->payloads++;
			for (size_t i = 0; i < plen; i++)
				out->payload_sum = out->payload_sum * 31 + pl[i];
			free(pl);
			continue;
		}
		if (rc == 0) {
			CHECK(used == n);
			continue;
		}
		CHECK(a.generation > 0 && a.status <= 0);
		CHECK(memchr(a.reason, '\0', sizeof(a.reason)));
		if (out->n_acks < MAX_ACKS)
			out->acks[out->n_acks++] = a;
	}
	ack_reader_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run whole, pieces;
	size_t piece;

	if (size < 1)
		return 0;
	piece = data[0] % 40 + 1;
	feed(data + 1, size - 1, size, &whole);
	feed(data + 1, size - 1, piece, &pieces);
	CHECK(whole.error == pieces.error && whole.taken == pieces.taken);
	CHECK(whole.n_acks == pieces.n_acks);
	CHECK(whole.payloads == pieces.payloads && whole.payload_sum == pieces.payload_sum);
	CHECK(memcmp(whole.acks, pieces.acks, whole.n_acks * sizeof(whole.acks[0])) == 0);
	return 0;
}
