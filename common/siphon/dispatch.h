/* Dispatch: which core node gets a message, statelessly (docs/design.md step 5,
 * docs/dispatch.md). Every siphon node with the same tables makes the same
 * choice. */
#ifndef SIPHON_DISPATCH_H
#define SIPHON_DISPATCH_H

#include "siphon/grace_calls.h"
#include "siphon/tables.h"

/* The URI / Via parameter a core node adds so that later messages of the
 * dialog come back to it: ";nid=TOKEN". */
#define DISPATCH_NID_PARAM "nid"

struct dispatch_result {
	enum dispatch_by by;
	int node; /* index into tables->nodes, or -1 */
	bool nid_unknown; /* a nid named no node of the pool: the hash decided */
	bool grace_noted; /* an initial request on a slot that moved during the grace
			   * period: remembered in the grace register */
	bool grace_full;  /* ... not remembered, its bucket full: its dialog will follow
			   * the previous table */
};

/* `pool` is the rule's pool; `now` is seconds on CLOCK_MONOTONIC (for the
 * grace period of a previous table); `gc` the grace register (NULL: none,
 * dialogs follow the previous table while it lasts). */
void dispatch(const struct compiled_tables *t, const uint8_t *buf, const struct sip_msg *msg,
	      uint16_t pool, uint64_t now, struct grace_calls *gc, struct dispatch_result *r);

/* The grace-then-Maglev step alone, for a hash of the caller's choosing
 * (dispatch() hashes the Call-ID; a TCP connection its 5-tuple). While the
 * pool's previous table lasts, a `dialog` message goes to its node when
 * that is up, unless the slot moved (the current table names another
 * node) and gc noted the call: then to the current node. An initial
 * request goes to the current node, and is noted in gc when its slot moved
 * from a node that is up. r must be set to no node (DISPATCH_BY_NONE, -1,
 * no flags) by the caller. */
void dispatch_by_hash(const struct compiled_tables *t, uint16_t pool, uint64_t hash,
		      bool dialog, uint64_t now, struct grace_calls *gc,
		      struct dispatch_result *r);

/* The value of the nid parameter in [from, to), or false. */
bool dispatch_find_nid(const uint8_t *from, const uint8_t *to, const uint8_t **val, size_t *len);

#endif
