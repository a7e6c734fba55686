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
 * stays). About once a second the fast path also sends COUNTERS, a
 * snapshot of its counters (common/siphon/gen_counters.h, docs/metrics.md).
 * Host byte order: both ends are on one machine. */
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
	GEN_WIRE_COUNTERS = 3,   /* fast path -> siphond: payload = a counters snapshot */
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

/* COUNTERS: this header, then n_named struct gen_wire_named sorted by
 * name (strictly), then n_indexed struct gen_wire_indexed sorted by
 * (kind, index) (strictly); indexed entries that are 0 may be left out.
 * Named counters do not depend on the generation ("group.counter", e.g.
 * "reason.too_big"); indexed ones are the flags, rules and nodes of
 * `generation`. Checked whole by gen_counters_check (gen_counters.h). */
#define GEN_COUNTERS_VERSION     3u /* 1: a 32-byte header, no instance, no method kinds;
					 * 2: no kernel_flag kind */
#define GEN_COUNTERS_MIN_LEN     32u /* what frames: a version-1 header (refused by version) */
#define GEN_COUNTERS_NAME_MAX    40 /* with its NUL */
#define GEN_COUNTERS_MAX_NAMED   1024u
#define GEN_COUNTERS_MAX_INDEXED (1u << 17)
#define GEN_COUNTERS_LANE_AFXDP  1u /* the pipeline's counters are in it */
#define GEN_COUNTERS_LANE_KERNEL 2u /* the XDP program's are */
#define GEN_COUNTERS_FINAL       1u /* flags: the last snapshot of its generation (sent once
				     * every worker left it: nothing counts into it any more) */

/* Per node x message: index = node * GEN_NODE_MSG_SLOTS + slot, slot
 * 0-6 the request methods, 7-12 the response classes 1xx-6xx. */
#define GEN_NODE_MSG_SLOTS       13u
#define GEN_NODE_MSG_METHODS(X) \
	X(INVITE, "INVITE") X(ACK, "ACK") X(BYE, "BYE") X(CANCEL, "CANCEL") \
	X(OPTIONS, "OPTIONS") X(REGISTER, "REGISTER") X(OTHER, "other")

struct gen_wire_counters {
	uint32_t version;    /* GEN_COUNTERS_VERSION */
	uint32_t lanes;      /* GEN_COUNTERS_LANE_* */
	uint32_t n_named;
	uint32_t n_indexed;
	uint64_t generation; /* what the fast path runs: indexed entries are its */
	uint64_t seq;        /* the fast path's snapshots, counted from 1 */
	uint64_t instance;   /* the fast path process (random, not 0): its counters start at 0 */
	uint32_t flags;      /* GEN_COUNTERS_FINAL */
	uint32_t zero;
};

struct gen_wire_named {
	char name[GEN_COUNTERS_NAME_MAX]; /* NUL-terminated, zeros after the NUL */
	uint64_t value;
};

/* enum gen_counter_kind: what an indexed entry's index means */
#define GEN_COUNTER_KINDS(X)                                                          \
	X(FLAG, "flag", "messages with the flag set (AF_XDP lane)")                    \
	X(RULE, "rule", "messages the rule decided or metered (AF_XDP lane)")          \
	X(NODE_PACKETS, "node_packets", "packets forwarded to the node (AF_XDP lane)") \
	X(KERNEL_RULE, "kernel_rule", "packets the rule decided in the kernel lane")   \
	X(KERNEL_NODE_PACKETS, "kernel_node_packets", "packets the kernel lane forwarded to the node") \
	X(KERNEL_NODE_BYTES, "kernel_node_bytes", "bytes the kernel lane forwarded to the node") \
	X(NODE_MSG, "node_msg", "messages forwarded to the node by method / class (AF_XDP lane; index node*13+slot)") \
	X(KERNEL_NODE_MSG, "kernel_node_msg", "the same in the kernel lane")                \
	X(KERNEL_FLAG, "kernel_flag", "messages the kernel lane took a verdict on with the flag set")

enum gen_counter_kind {
	GEN_COUNTER__NONE = 0, /* never on the wire */
#define X(id, name, help) GEN_COUNTER_##id,
	GEN_COUNTER_KINDS(X)
#undef X
	GEN_COUNTER__COUNT
};

struct gen_wire_indexed {
	uint16_t kind; /* enum gen_counter_kind */
	uint16_t zero;
	uint32_t index;
	uint64_t value;
};

#define GEN_WIRE_COUNTERS_MAX                                                    \
	(sizeof(struct gen_wire_counters) +                                      \
	 GEN_COUNTERS_MAX_NAMED * sizeof(struct gen_wire_named) +                \
	 GEN_COUNTERS_MAX_INDEXED * sizeof(struct gen_wire_indexed))

_Static_assert(sizeof(struct gen_wire_hdr) == 16, "the header is 16 bytes");
_Static_assert(sizeof(struct gen_wire_ack) == 128, "an ack is 128 bytes");
_Static_assert(sizeof(struct gen_wire_counters) == 48, "the counters header is 48 bytes");
_Static_assert(sizeof(struct gen_wire_named) == 48, "a named counter is 48 bytes");
_Static_assert(sizeof(struct gen_wire_indexed) == 16, "an indexed counter is 16 bytes");

/* 0, or -EPROTO (magic, version, type) / -EMSGSIZE (length over the
 * bound, an ACK of another size, COUNTERS shorter than its header, over
 * GEN_WIRE_COUNTERS_MAX or not a whole number of 16-byte units) with err
 * saying which field. */
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
	if (h->type != GEN_WIRE_GENERATION && h->type != GEN_WIRE_ACK &&
	    h->type != GEN_WIRE_COUNTERS) {
		snprintf(err, errlen, "publish channel: message type %u unknown", h->type);
		return -EPROTO;
	}
	if (h->length > GEN_WIRE_MAX_PAYLOAD ||
	    (h->type == GEN_WIRE_ACK && h->length != sizeof(struct gen_wire_ack)) ||
	    (h->type == GEN_WIRE_COUNTERS &&
	     (h->length < GEN_COUNTERS_MIN_LEN || h->length > GEN_WIRE_COUNTERS_MAX ||
	      h->length % 16))) {
		snprintf(err, errlen, "publish channel: %s of %llu bytes refused",
			 h->type == GEN_WIRE_ACK ? "an ack" :
			 h->type == GEN_WIRE_COUNTERS ? "a counters snapshot" : "a generation",
			 (unsigned long long)h->length);
		return -EMSGSIZE;
	}
	return 0;
}

#endif
