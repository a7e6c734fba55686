/* ACKs out of a fast path's byte stream, in whatever pieces they come. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ack_reader.h"

#define HDR sizeof(struct gen_wire_hdr)
#define ACK sizeof(struct gen_wire_ack)

int ack_read(struct ack_reader *r, const uint8_t *p, size_t len, size_t *used,
	     struct gen_wire_ack *ack, char *err, size_t errlen)
{
	size_t take = 0;

	*used = 0;
	while (take < len) {
		size_t want = (r->have < HDR ? HDR : HDR + ACK) - r->have;
		size_t n = len - take < want ? len - take : want;

		memcpy(r->buf + r->have, p + take, n);
		r->have += n;
		take += n;
		if (r->have == HDR) {
			struct gen_wire_hdr h;
			int rc;

			memcpy(&h, r->buf, HDR);
			rc = gen_wire_check(&h, err, errlen);
			if (rc)
				return *used = take, rc;
			if (h.type != GEN_WIRE_ACK) {
				snprintf(err, errlen, "publish channel: a fast path sends only ACK, "
						      "not message type %u", h.type);
				return *used = take, -EPROTO;
			}
		}
		if (r->have < HDR + ACK)
			continue;
		memcpy(ack, r->buf + HDR, ACK);
		r->have = 0;
		*used = take;
		if (!memchr(ack->reason, '\0', sizeof(ack->reason))) {
			snprintf(err, errlen, "publish channel: an ack whose reason has no NUL");
			return -EPROTO;
		}
		if (ack->status > 0 || ack->generation == 0) {
			snprintf(err, errlen, "publish channel: an ack of generation %llu with status %d",
				 (unsigned long long)ack->generation, ack->status);
			return -EPROTO;
		}
		return 1;
	}
	*used = take;
	return 0;
}
