/* Dispatch: which core node gets a message, statelessly (docs/design.md step 5,
 * docs/dispatch.md). Every siphon node with the same tables makes the same
 * choice. */
#ifndef SIPHON_DISPATCH_H
#define SIPHON_DISPATCH_H

#include "siphon/tables.h"

/* The URI / Via parameter a core node adds so that later messages of the
 * dialog come back to it: ";nid=TOKEN". */
#define DISPATCH_NID_PARAM "nid"

struct dispatch_result {
	enum dispatch_by by;
	int node; /* index into tables->nodes, or -1 */
	bool nid_unknown; /* a nid named no node of the pool: the hash decided */
};

/* `pool` is the rule's pool; `now` is seconds on CLOCK_MONOTONIC (for the
 * grace period of a previous table). */
void dispatch(const struct compiled_tables *t, const uint8_t *buf, const struct sip_msg *msg,
	      uint16_t pool, uint64_t now, struct dispatch_result *r);

/* The grace-then-Maglev step alone, for a hash of the caller's choosing
 * (dispatch() hashes the Call-ID; a TCP connection its 5-tuple): with
 * `dialog`, the previous table first while it lasts and its node is up.
 * r must be set to no node (DISPATCH_BY_NONE, -1) by the caller. */
void dispatch_by_hash(const struct compiled_tables *t, uint16_t pool, uint64_t hash,
		      bool dialog, uint64_t now, struct dispatch_result *r);

/* The value of the nid parameter in [from, to), or false. */
bool dispatch_find_nid(const uint8_t *from, const uint8_t *to, const uint8_t **val, size_t *len);

#endif
