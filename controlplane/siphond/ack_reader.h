/* Reading a fast path's messages from its byte stream
 * (common/siphon/gen_wire.h): ACKs and COUNTERS snapshots. A pure
 * function, no sockets, so it is fuzzed alone (tests/fuzz). */
#ifndef SIPHON_ACK_READER_H
#define SIPHON_ACK_READER_H

#include <stddef.h>
#include <stdint.h>

#include "siphon/gen_wire.h"

struct ack_reader {
	uint8_t buf[sizeof(struct gen_wire_hdr) + sizeof(struct gen_wire_ack)];
	size_t have;          /* bytes of the message so far */
	struct gen_wire_hdr h; /* once have >= the header */
	uint8_t *payload;     /* a COUNTERS payload (h.length bytes), malloc'ed */
};

/* Takes bytes from p[0, len): *used of them. 1 when an ACK is complete
 * (in *ack; call again with the rest), 2 when a COUNTERS message is (its
 * payload: ack_reader_take; only its size is checked here), 0 when every
 * byte was taken and the message is not complete yet, or -EPROTO /
 * -EMSGSIZE / -ENOMEM with err: a bad header, a GENERATION, a reason
 * without its NUL, a status above 0, generation 0. The reader is unusable
 * after an error. */
int ack_read(struct ack_reader *r, const uint8_t *p, size_t len, size_t *used,
	     struct gen_wire_ack *ack, char *err, size_t errlen);

/* After ack_read returned 2: the payload, now the caller's (free()), and
 * its length. */
void *ack_reader_take(struct ack_reader *r, size_t *len);

/* Frees what the reader holds (a COUNTERS payload in progress). */
void ack_reader_free(struct ack_reader *r);

#endif
