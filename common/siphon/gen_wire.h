/* The publish channel between siphond and each fast path (docs/publish.md).
 *
 * A fast path connects to siphond's Unix socket (the RPC socket), sends
 * one JSON line {"method":"fastpath.attach","params":{"name":NAME,
 * "generation":N},"id":1} and reads one JSON reply line; from then on the
 * connection carries only binary messages: a 16-byte header, then
 * `length` bytes of payload. siphond sends GENERATION (a table blob,
 * common/siphon/table_blob.h) on attach when the fast path does not run
 * its current generation, and on every publication; the fast path answers
 * each with ACK (applied, or refused with a reason; the running generation
 * stays). Host byte order: both ends are on one machine. */
#ifndef SIPHON_GEN_WIRE_H
#define SIPHON_GEN_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define GEN_WIRE_MAGIC       0x42555053u /* "SPUB" as stored by a little-endian host */
#define GEN_WIRE_VERSION     1u
#define GEN_WIRE_MAX_PAYLOAD (256u << 20) /* a blob larger than this is refused */
#define GEN_WIRE_ATTACH      "fastpath.attach"
/* siphond persists the generation it publishes as STATE_DIR/GEN_STATE_FILE;
 * a fast path that cannot reach siphond at start runs it */
#define GEN_STATE_FILE       "generation.blob"

enum gen_wire_type {
	GEN_WIRE_GENERATION = 1, /* siphond -> fast path: payload = a table blob */
	GEN_WIRE_ACK = 2,        /* fast path -> siphond: payload = struct gen_wire_ack */
};

struct gen_wire_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t type;   /* enum gen_wire_type */
	uint64_t length; /* payload bytes that follow */
};

struct gen_wire_ack {
	uint64_t generation; /* the generation the message carried */
	int32_t status;      /* 0: applied and running; else -errno, and reason says why */
	char reason[116];    /* NUL-terminated */
};

_Static_assert(sizeof(struct gen_wire_hdr) == 16, "the header is 16 bytes");
_Static_assert(sizeof(struct gen_wire_ack) == 128, "an ack is 128 bytes");

/* 0, or -EPROTO (magic, version, type) / -EMSGSIZE (length over the
 * bound, or an ACK of another size) with err saying which field. */
static inline int gen_wire_check(const struct gen_wire_hdr *h, char *err, size_t errlen);

#include <errno.h>
#include <stdio.h>

static inline int gen_wire_check(const struct gen_wire_hdr *h, char *err, size_t errlen)
{
	if (h->magic != GEN_WIRE_MAGIC || h->version != GEN_WIRE_VERSION) {
		snprintf(err, errlen, "publish channel: magic %#x version %u (want %#x, %u)",
			 h->magic, h->version, GEN_WIRE_MAGIC, GEN_WIRE_VERSION);
		return -EPROTO;
	}
	if (h->type != GEN_WIRE_GENERATION && h->type != GEN_WIRE_ACK) {
		snprintf(err, errlen, "publish channel: message type %u unknown", h->type);
		return -EPROTO;
	}
	if (h->length > GEN_WIRE_MAX_PAYLOAD ||
	    (h->type == GEN_WIRE_ACK && h->length != sizeof(struct gen_wire_ack))) {
		snprintf(err, errlen, "publish channel: %s of %llu bytes refused",
			 h->type == GEN_WIRE_ACK ? "an ack" : "a generation",
			 (unsigned long long)h->length);
		return -EMSGSIZE;
	}
	return 0;
}

#endif
