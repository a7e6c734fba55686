/* A fast path's messages out of its byte stream, in whatever pieces they
 * come: ACKs (fixed size, read into the reader) and COUNTERS (read into a
 * buffer of the size the checked header gives, GEN_WIRE_COUNTERS_MAX at
 * most). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ack_reader.h"

#define HDR sizeof(struct gen_wire_hdr)
#define ACK sizeof(struct gen_wire_ack)

/* The header is complete: 0 when its message may follow. */
static int start(struct ack_reader *r, char *err, size_t errlen)
{
	int rc;

	memcpy(&r->h, r->buf, HDR);
	rc = gen_wire_check(&r->h, err, errlen);
	if (rc)
		return rc;
	if (r->h.type == GEN_WIRE_ACK)
		return 0;
	if (r->h.type != GEN_WIRE_COUNTERS) {
		snprintf(err, errlen, "publish channel: a fast path sends only ACK and COUNTERS, "
				      "not message type %u", r->h.type);
		return -EPROTO;
	}
	r->payload = malloc(r->h.length);
	if (!r->payload) {
		snprintf(err, errlen, "no memory for a counters snapshot of %llu bytes",
			 (unsigned long long)r->h.length);
		return -ENOMEM;
	}
	return 0;
}

static int ack_done(struct ack_reader *r, struct gen_wire_ack *ack, char *err, size_t errlen)
{
	memcpy(ack, r->buf + HDR, ACK);
	r->have = 0;
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

int ack_read(struct ack_reader *r, const uint8_t *p, size_t len, size_t *used,
	     struct gen_wire_ack *ack, char *err, size_t errlen)
{
	size_t take = 0;

	*used = 0;
	if (r->payload && r->have == 0) { /* a snapshot returned before and not taken */
		free(r->payload);
		r->payload = NULL;
	}
	while (take < len) {
		size_t want, n;
		int rc;

		if (r->have < HDR) {
			want = HDR - r->have;
			n = len - take < want ? len - take : want;
			memcpy(r->buf + r->have, p + take, n);
			r->have += n;
			take += n;
			if (r->have == HDR && (rc = start(r, err, errlen)) != 0)
				return *used = take, rc;
			continue;
		}
		want = HDR + r->h.length - r->have;
		n = len - take < want ? len - take : want;
		memcpy(r->h.type == GEN_WIRE_ACK ? r->buf + r->have : r->payload + (r->have - HDR),
		       p + take, n);
		r->have += n;
		take += n;
		if (r->have < HDR + r->h.length)
			continue;
		*used = take;
		if (r->h.type == GEN_WIRE_ACK)
			return ack_done(r, ack, err, errlen);
		r->have = 0; /* the payload stays until taken or the next call */
		return 2;
	}
	*used = take;
	return 0;
}

void *ack_reader_take(struct ack_reader *r, size_t *len)
{
	void *p = r->have == 0 ? r->payload : NULL;

	*len = p ? (size_t)r->h.length : 0;
	if (p)
		r->payload = NULL;
	return p;
}

void ack_reader_free(struct ack_reader *r)
{
	free(r->payload);
	r->payload = NULL;
	r->have = 0;
}
