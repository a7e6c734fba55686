/* The OPTIONS probe siphond sends a core node, and what it makes of the
 * answer (docs/health.md "Probes on the wire"). */
#ifndef SIPHON_PROBE_H
#define SIPHON_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include "health.h"
#include "sip_out.h"

enum probe_status {
#define PROBE_STATUS(id, name, help) PROBE_STATUS_##id,
#include "probe_status.def"
#undef PROBE_STATUS
	PROBE_STATUS__COUNT
};

const char *probe_status_name(unsigned s);

/* What names one probe: the daemon's run (a random number drawn at start,
 * so answers to an earlier run's probes match nothing), the node's slot
 * and the probe's sequence number (health_probe_sent()). All three travel
 * in the branch and in the Call-ID. */
struct probe_id {
	uint32_t instance, node, seq;
};

/* "z9hG4bK-sph-" and three times 8 hex digits joined by '-' */
#define PROBE_BRANCH_PREFIX "z9hG4bK-sph-"
#define PROBE_BRANCH_LEN    (sizeof(PROBE_BRANCH_PREFIX) - 1 + 26)
#define PROBE_CALLID_PREFIX "sph-"
#define PROBE_CALLID_LEN    (sizeof(PROBE_CALLID_PREFIX) - 1 + 26)
/* A probe is at most this long (two IPv6 addresses) */
#define PROBE_MAX_BYTES 512

/* Writes the probe of `id` from `control` (the balancer's control address
 * and the port siphond sends from) to `node`:
 *
 *   OPTIONS sip:NODE:PORT SIP/2.0
 *   Via: SIP/2.0/UDP CONTROL:PORT;branch=z9hG4bK-sph-I-N-S;oc;oc-algo="loss"
 *   Max-Forwards: 70
 *   From: <sip:siphon@CONTROL>;tag=sph-I
 *   To: <sip:NODE:PORT>
 *   Call-ID: sph-I-N-S
 *   CSeq: SEQ OPTIONS            (the sequence number below 2^31)
 *   Content-Length: 0
 *
 * 0, -EINVAL (an address of no known family), -ENOSPC (cap too small). */
int probe_build(const struct sip_endpoint *control, const struct sip_endpoint *node,
		const struct probe_id *id, uint8_t *out, size_t cap, size_t *out_len);

struct probe_answer {
	enum probe_status status;
	struct probe_id id;           /* status OK */
	struct health_result result;  /* status OK: kind REPLY */
};

/* Reads a datagram that may answer a probe: scanned by sip_scan(), a
 * response to OPTIONS whose top Via branch and Call-ID name one probe.
 * Retry-After: delta-seconds, optionally a comment and parameters after
 * it; more than 10 digits or anything else is malformed (ignored,
 * result.bad_retry_after). The top Via's oc: 1-3 digits, 0-100, else
 * HEALTH_OC_INVALID; oc with no value is taken as absent.
 * 0 with status OK, or -EINVAL with status saying why. */
int probe_answer_parse(const uint8_t *buf, size_t len, struct probe_answer *a);

/* The answer is to the probe `n` has outstanding, from this run. The
 * caller has checked that the datagram came from the node's address. */
bool probe_answer_matches(const struct probe_answer *a, uint32_t instance, uint32_t node,
			  const struct health_node *n);

#endif
