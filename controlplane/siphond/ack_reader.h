/* Reading ACKs from a fast path's byte stream (common/siphon/gen_wire.h):
 * a pure function, no sockets, so it is fuzzed alone (tests/fuzz). */
#ifndef SIPHON_ACK_READER_H
#define SIPHON_ACK_READER_H

#include <stddef.h>
#include <stdint.h>

#include "siphon/gen_wire.h"

struct ack_reader {
	uint8_t buf[sizeof(struct gen_wire_hdr) + sizeof(struct gen_wire_ack)];
	size_t have;
};

/* Takes bytes from p[0, len): *used of them. 1 when an ACK is complete
 * (in *ack; call again with the rest), 0 when every byte was taken and
 * the message is not complete yet, or -EPROTO / -EMSGSIZE with err: a bad
 * header, a message other than ACK, a reason without its NUL, a status
 * above 0, generation 0. The reader is unusable after an error. */
int ack_read(struct ack_reader *r, const uint8_t *p, size_t len, size_t *used,
	     struct gen_wire_ack *ack, char *err, size_t errlen);

#endif
