/* The SIP scanner: one bounded pass over a UDP payload.
 *
 * sip_scan() reads the start line and the header block of one datagram and
 * fills a struct sip_msg with offsets into it (no copies, no allocation,
 * no system call) and a verdict with a named reason, following the edge
 * profile in docs/scanner.md. Only the header block is scanned: never the
 * body, never a second message in the same datagram.
 */
#ifndef SIPHON_SIP_SCAN_H
#define SIPHON_SIP_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "siphon/names.h"

/* UDP payloads are at most 65535 bytes, so 16-bit offsets cover them. */
#define SIP_SCAN_MAX_INPUT 65535u

/* A place in the payload; len 0 means absent or empty. */
struct sip_span {
	uint16_t off;
	uint16_t len;
};

/* Limits of the edge profile (rule 5); configurable. */
struct sip_limits {
	uint32_t max_msg_bytes; /* a framed message above this is dropped */
	uint16_t max_vias;      /* more Via values than this are dropped */
};

#define SIP_LIMIT_MSG_BYTES_DEFAULT 16384u
#define SIP_LIMIT_VIAS_DEFAULT      70u
#define SIP_LIMITS_DEFAULT \
	((struct sip_limits){ SIP_LIMIT_MSG_BYTES_DEFAULT, SIP_LIMIT_VIAS_DEFAULT })

/* The headers the scanner parses itself: the first group of
 * sip_headers.def, CALL_ID .. USER_AGENT. */
#define SIP_HDR_PARSED_COUNT (SIP_HDR_USER_AGENT + 1)

/* The parsed header a name (long or compact, any case) stands for, or -1. */
int sip_parsed_header_lookup(const uint8_t *name, unsigned len);

/* Caller-chosen further headers whose values the scan records. */
#define SIP_EXTRA_MAX      16
#define SIP_EXTRA_NAME_MAX 64

struct sip_extra_header {
	char lname[SIP_EXTRA_NAME_MAX]; /* lower case */
	uint8_t len;
	char compact; /* lower-case compact form, or 0 */
};

struct sip_extra_set {
	uint8_t count;
	struct sip_extra_header hdr[SIP_EXTRA_MAX];
	/* The index sip_extra_index() builds from hdr[], once per set (a table
	 * generation), so that a header line costs no compare per entry: the
	 * entries a parsed header's long and compact names match, and those
	 * a name of each length may match. indexed false: not built, every
	 * entry is compared (a set written by hand). */
	bool indexed;
	uint32_t by_long[SIP_HDR_PARSED_COUNT], by_compact[SIP_HDR_PARSED_COUNT];
	uint32_t by_len[SIP_EXTRA_NAME_MAX];
};

/* Adds a header name to the set (its compact form is found by itself).
 * Returns its index, -EINVAL for a name that is not a token or is too
 * long, -ENOSPC when the set is full, -EEXIST when it is there already. */
int sip_extra_add(struct sip_extra_set *set, const char *name);

/* (Re)builds set's index from its entries (sip_extra_add() does it; call
 * it after writing hdr[] and count by other means). */
void sip_extra_index(struct sip_extra_set *set);

struct sip_via {
	struct sip_span value;     /* the whole top Via value */
	struct sip_span transport; /* "UDP", "TCP", ... */
	struct sip_span host;      /* sent-by host, IPv6 with its brackets */
	struct sip_span port;      /* sent-by port digits, absent if none */
	struct sip_span branch;    /* value of the branch parameter */
	struct sip_span params;    /* everything after sent-by, from the first ';' */
};

struct sip_name_addr {
	struct sip_span value;   /* the whole header value, trimmed */
	struct sip_span display; /* display name, without quotes */
	struct sip_span uri;     /* the URI, without < > */
	struct sip_span tag;     /* value of the tag parameter */
};

struct sip_msg {
	enum sip_verdict verdict;
	enum sip_reason reason;
	bool parsed; /* start line and header block read: rules 1 and 2 passed */

	/* framing */
	uint16_t hdr_len; /* start line + headers + empty line: where the body starts */
	uint16_t msg_len; /* bytes to forward: hdr_len + Content-Length, or the datagram */

	/* start line */
	bool is_request;
	enum sip_method method; /* request method, SIP_METHOD_OTHER if unknown */
	struct sip_span method_name;
	struct sip_span ruri;
	struct sip_span version;
	uint16_t status;               /* responses: 100-699 */
	struct sip_span reason_phrase; /* responses */

	/* headers */
	struct sip_span call_id; /* trimmed value of the (first) Call-ID */
	uint16_t call_id_count;
	struct sip_via via;   /* top Via */
	uint16_t via_count;   /* Via values in all Via headers (stops at max_vias + 1) */
	struct sip_name_addr from;
	struct sip_name_addr to;
	struct sip_span route; /* top Route value */
	uint32_t cseq;
	struct sip_span cseq_method_name;
	enum sip_method cseq_method;
	bool has_content_length;
	uint32_t content_length;
	int32_t max_forwards; /* -1 when absent or not a number below 2^31 */
	struct sip_span user_agent;

	uint16_t hdr_count[SIP_HDR_PARSED_COUNT]; /* header lines seen, of the parsed headers */
	struct sip_span extra[SIP_EXTRA_MAX];   /* first value of each extra header */
	uint16_t extra_count[SIP_EXTRA_MAX];
};

/* Scans one UDP payload. `extra` may be NULL. Always fills msg->verdict
 * and msg->reason and returns the verdict. */
enum sip_verdict sip_scan(const uint8_t *buf, size_t len, const struct sip_limits *limits,
			  const struct sip_extra_set *extra, struct sip_msg *msg);

/* The same over buf[0..len), the start of a datagram of datagram_len
 * bytes (a first IP fragment; datagram_len is the UDP length - 8). The
 * framing (Content-Length against the body) and the size limit count the
 * whole datagram. A verdict holds for the datagram only when the header
 * block ends inside buf (msg->hdr_len != 0): otherwise scan the datagram
 * once it is whole. datagram_len <= len is sip_scan(). */
enum sip_verdict sip_scan_prefix(const uint8_t *buf, size_t len, size_t datagram_len,
				 const struct sip_limits *limits, const struct sip_extra_set *extra,
				 struct sip_msg *msg);

/* The fields a scan may leave out because no routing decision reads them
 * (sip_scan_fields()); the verdict and every other field are the same.
 * sip_scan() and sip_scan_prefix() parse all of them. */
enum sip_fields {
	SIP_FIELD_FROM = 1u << 0,         /* from.value, display, uri, tag (else all empty;
					   * the From header is still counted) */
	SIP_FIELD_VIA_BRANCH = 1u << 1,   /* via.branch */
	SIP_FIELD_MAX_FORWARDS = 1u << 2, /* max_forwards (else -1) */
	SIP_FIELD_USER_AGENT = 1u << 3,   /* user_agent (as a rule's header, extra[] has it) */
	SIP_FIELD_REQUEST_VIA = 1u << 4,  /* a request's via (else empty; via_count is
					   * counted): only a response's top Via
					   * routes (its nid, its sent-by) */
	SIP_FIELDS_ALL = (1u << 5) - 1,
	/* what dispatch and the flags read: Call-ID, a response's top Via
	 * (host, params), To tag, Route, CSeq, Content-Length, the
	 * Request-URI and the extra headers are always parsed */
	SIP_FIELDS_ROUTING = 0,
};

/* sip_scan_prefix() parsing only the optional fields in `fields` (a mask
 * of enum sip_fields). */
enum sip_verdict sip_scan_fields(const uint8_t *buf, size_t len, size_t datagram_len,
				 const struct sip_limits *limits, const struct sip_extra_set *extra,
				 unsigned fields, struct sip_msg *msg);

/* True when the message is in a dialog: its To header has a tag. */
static inline bool sip_in_dialog(const struct sip_msg *msg)
{
	return msg->to.tag.len != 0;
}

#endif
