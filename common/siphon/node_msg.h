/* Per node x message counters (docs/metrics.md): which of the
 * GEN_NODE_MSG_SLOTS a forwarded message counts in. Slots 0-6: requests
 * by method (INVITE ACK BYE CANCEL OPTIONS REGISTER other), 7-12:
 * responses by class (1xx-6xx). The XDP program computes the same
 * (bpf/siphon.bpf.c, msg_slot). */
#ifndef SIPHON_NODE_MSG_H
#define SIPHON_NODE_MSG_H

#include <stdbool.h>

#include "siphon/gen_wire.h"
#include "siphon/sip_scan.h"

enum node_msg_method {
#define X(id, name) NODE_MSG_##id,
	GEN_NODE_MSG_METHODS(X)
#undef X
	NODE_MSG__METHODS /* 7: the first response class slot */
};

_Static_assert(NODE_MSG__METHODS + 6 == GEN_NODE_MSG_SLOTS, "7 methods and 6 classes");

static inline unsigned node_msg_slot(bool is_request, enum sip_method m, unsigned status)
{
	if (!is_request)
		return status >= 100 && status <= 699 ? NODE_MSG__METHODS + status / 100 - 1 :
			GEN_NODE_MSG_SLOTS - 1;
	switch (m) {
	case SIP_METHOD_INVITE:
		return NODE_MSG_INVITE;
	case SIP_METHOD_ACK:
		return NODE_MSG_ACK;
	case SIP_METHOD_BYE:
		return NODE_MSG_BYE;
	case SIP_METHOD_CANCEL:
		return NODE_MSG_CANCEL;
	case SIP_METHOD_OPTIONS:
		return NODE_MSG_OPTIONS;
	case SIP_METHOD_REGISTER:
		return NODE_MSG_REGISTER;
	default:
		return NODE_MSG_OTHER;
	}
}

/* "INVITE" ... "other" for a request slot, "1xx" ... "6xx" for a
 * response slot; *is_request says which. */
static inline const char *node_msg_slot_name(unsigned slot, bool *is_request)
{
	static const char *const names[GEN_NODE_MSG_SLOTS] = {
#define X(id, name) name,
		GEN_NODE_MSG_METHODS(X)
#undef X
		"1xx", "2xx", "3xx", "4xx", "5xx", "6xx"
	};

	if (is_request)
		*is_request = slot < NODE_MSG__METHODS;
	return slot < GEN_NODE_MSG_SLOTS ? names[slot] : "?";
}

#endif
