/* Classify and decide: named flags (as bits) for a scanned message, then
 * the first rule of the route that holds. The same code runs in the fast
 * path and in `siphonctl explain`. No allocation, no lock per message. */
#ifndef SIPHON_CLASSIFY_H
#define SIPHON_CLASSIFY_H

#include <hs/hs.h>

#include "siphon/tables.h"

struct classifier {
	const struct compiled_tables *tables;
	hs_database_t *db;   /* deserialized from tables->hs_db */
	hs_scratch_t *scratch; /* one per worker */
	uint32_t pattern_headers; /* extra-header indices that have patterns */
};

/* What the packet says besides the SIP message. */
struct packet_meta {
	int family; /* AF_INET or AF_INET6; 0 when the source is unknown */
	uint8_t src[16];
	enum transport transport;
	uint8_t dst[16];        /* the balancer address it was sent to (zero: unknown) */
	uint16_t sport, dport;  /* host order; zero when unknown */
	bool tcp_syn;           /* a TCP segment opening a connection (SYN without ACK) */
	uint32_t datagram_len;  /* UDP: the whole datagram's payload when the bytes are a
				 * first fragment's part of it; 0: the bytes are all */
};


struct decision {
	enum sip_verdict verdict;
	enum sip_reason reason;
	int rule; /* the deciding rule, or -1 when the scanner decided */
	unsigned n_rate_limits; /* rate-limit rules passed on the way */
	uint16_t rate_limits[DECISION_MAX_RATE_LIMITS];
};

/* 0, or -errno (-EINVAL: the database does not load on this CPU). */
int classifier_init(struct classifier *c, const struct compiled_tables *t);
void classifier_free(struct classifier *c);

/* Scans one payload with the tables' limits and header list. */
enum sip_verdict classifier_scan(const struct classifier *c, const uint8_t *buf, size_t len,
				 struct sip_msg *msg);

/* The flags of a message the scanner forwarded. */
void classify(const struct classifier *c, const uint8_t *buf, const struct sip_msg *msg,
	      const struct packet_meta *pm, struct flagset *flags);

/* The flags every segment of a TCP connection has: source prefixes and
 * transport (derived flags come with decide()). */
void classify_connection(const struct classifier *c, const struct packet_meta *pm,
			 struct flagset *flags);

/* The route's decision for those flags (derived flags are added to them). */
void decide(const struct compiled_tables *t, struct flagset *flags, struct decision *d);

/* The host of a SIP URI ("sip:user@host:port;params"): IPv6 keeps its
 * brackets. False when there is none. */
bool sip_uri_host(const uint8_t *uri, size_t len, const uint8_t **host, size_t *host_len);

#endif
