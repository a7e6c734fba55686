/* The fast path's end of the publish channel (common/siphon/gen_wire.h,
 * docs/generations.md): connects to siphond's socket, attaches with the
 * generation it runs, receives GENERATION messages, validates each blob
 * (tables_blob_open) and hands it to an apply hook, then ACKs with the
 * generation's number and status. Runs in a control thread, never on the
 * packet path: it reads, allocates and blocks (with timeouts) as it needs.
 *
 * A refused generation (corrupt, foreign, not applicable) is ACKed with
 * -errno and the reason, logged and counted; the running generation stays
 * and the connection goes on. A malformed message (header, truncation)
 * cannot be resynchronised: it is ACKed likewise, then the connection is
 * dropped and made again with back-off (100 ms doubling to 5 s). */
#ifndef SIPHON_GEN_RECEIVER_H
#define SIPHON_GEN_RECEIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "siphon/tables.h"

#define GEN_RECEIVER_BACKOFF_MIN_MS 100u
#define GEN_RECEIVER_BACKOFF_MAX_MS 5000u
#define GEN_RECEIVER_LINE_MAX       4096u /* the attach reply */

/* A generation that validated: the blob (64-byte aligned, owned) and the
 * tables opened in place in it. */
struct gen_generation {
	void *blob;
	size_t len;
	uint64_t number;
	struct compiled_tables t;
};

/* Applies g: 0 when it runs in every lane (the hook then owns g, to free
 * with gen_generation_free once retired), or -errno with err saying why
 * (the receiver frees g; what ran before must still run). */
typedef int (*gen_apply_fn)(void *ctx, struct gen_generation *g, char *err, size_t errlen);

#define GEN_RECEIVER_COUNTERS(X)                                                        \
	X(connects, "attached to siphond")                                                 \
	X(connect_failed, "connection or attach attempts that failed")                     \
	X(disconnects, "connections lost, or dropped after a malformed message")          \
	X(generations, "GENERATION messages received whole")                               \
	X(applied, "generations applied and acknowledged with status 0")                  \
	X(unchanged, "generations received that were already running (acknowledged)")      \
	X(refused, "generations refused: corrupt, foreign or not applicable")             \
	X(protocol_errors, "malformed messages (header, truncation, size)")                 \
	X(ack_failed, "acknowledgements that could not be sent")                            \
	X(counters_sent, "COUNTERS snapshots sent to siphond")                              \
	X(counters_skipped, "snapshots not sent: siphond had not read the previous ones")

struct gen_receiver_counters {
#define X(id, help) uint64_t id;
	GEN_RECEIVER_COUNTERS(X)
#undef X
};

struct gen_receiver {
	const char *path;       /* siphond's socket */
	char name[64];          /* how siphond calls this fast path */
	uint64_t running;       /* the generation in use (0: none yet) */
	gen_apply_fn apply;
	void *ctx;
	int fd;                 /* -1: not connected */
	unsigned io_timeout_ms; /* a stalled read or write gives up after this */
	uint64_t max_payload;   /* GEN_WIRE_MAX_PAYLOAD unless lowered */
	unsigned backoff_ms;
	uint64_t next_try_ms;
	bool quiet;             /* a failed attempt was logged: count the next ones only */
	bool defer_ack;         /* an applied generation is ACKed by gen_receiver_ack_pending */
	uint64_t pending_ack;   /* applied, not yet ACKed (0: none) */
	char last_error[256];
	struct gen_receiver_counters c;
};

void gen_receiver_init(struct gen_receiver *r, const char *path, const char *name,
		       uint64_t running, gen_apply_fn apply, void *ctx);
void gen_receiver_close(struct gen_receiver *r);

/* Attaches over an open, connected socket (taken over: closed on failure).
 * 0 or -errno with r->last_error. */
int gen_receiver_attach(struct gen_receiver *r, int fd);
/* Connects to r->path and attaches. 0 or -errno with r->last_error. */
int gen_receiver_connect(struct gen_receiver *r);

/* Reads and answers one message. 0: answered (applied, unchanged or
 * refused); -errno: the connection is gone or was dropped (r->fd is -1). */
int gen_receiver_step(struct gen_receiver *r);

/* The control loop's turn, at most about wait_ms: connects when due
 * (with back-off), or waits for a message and answers it. The number of
 * generations applied in this turn (0 or 1). */
int gen_receiver_tick(struct gen_receiver *r, unsigned wait_ms);

/* Sends the ACK a defer_ack receiver held back (the generation now runs
 * everywhere). 0 or -errno (the connection is then dropped). */
int gen_receiver_ack_pending(struct gen_receiver *r);

/* Sends a COUNTERS snapshot (payload: common/siphon/gen_counters.h) when
 * attached. Skipped (-EAGAIN, counted) while what was sent before still
 * fills half the socket's buffer, so a siphond that does not read never
 * stalls the control thread; it is made for the next one. 0 or -errno
 * (the connection is then dropped, as after any failed write). */
int gen_receiver_send_counters(struct gen_receiver *r, const void *payload, size_t len);

void gen_generation_free(struct gen_generation *g);

const char *gen_receiver_counter_name(unsigned i);
uint64_t gen_receiver_counter(const struct gen_receiver *r, unsigned i);
unsigned gen_receiver_counter_count(void);

#endif
