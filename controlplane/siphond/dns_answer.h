/* What a DNS answer makes of a node given by name (docs/dns.md): pure
 * functions, no I/O, unit-tested and fuzzed (tests/unit/test_dns_answer.c,
 * tests/fuzz/fuzz_dns_answer.c). */
#ifndef SIPHON_DNS_ANSWER_H
#define SIPHON_DNS_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define DNS_MAX_TARGETS 16   /* SRV records of one name that are looked at */
#define DNS_MAX_ADDRS   16   /* addresses of one target that are looked at */
#define DNS_MAX_NODES   32   /* nodes one name becomes, at most */
#define DNS_TTL_MIN_S   1    /* a TTL below this (0 too) is taken as this */
#define DNS_TTL_MAX_S   3600 /* and one above, as this */
#define DNS_RETRY_S     5    /* after a failure, the next try (or the TTL, if shorter) */
#define DNS_TYPE_SRV    33

/* A TTL in seconds as siphond uses it: within [DNS_TTL_MIN_S, DNS_TTL_MAX_S]. */
uint32_t dns_ttl_clamp(uint32_t ttl_s);

/* The lowest TTL of the answer section's records of class IN and `type`
 * in a DNS message (a TTL with the top bit set counts as 0, RFC 2181).
 * 0, -ENOENT (no such record) or -EINVAL (malformed). */
int dns_answer_min_ttl(const uint8_t *msg, size_t len, uint16_t type, uint32_t *ttl);

/* An SRV record's weight as a node weight: 0 becomes 1, a small share
 * rather than none (RFC 2782: "a very small chance of being selected"). */
uint32_t dns_srv_weight(uint16_t weight);

/* One answer made canonical: sorted by priority, family, address and
 * port; an address and port given twice kept once (the lowest priority;
 * at equal priority the weights add up, at most 65535); at most max kept,
 * the lowest priorities first. The count; *dropped, how many were cut. */
uint32_t dns_nodes_finish(struct cfg_resolved *r, uint32_t n, uint32_t max, uint32_t *dropped);

/* Two canonical answers are the same nodes. */
bool dns_nodes_equal(const struct cfg_resolved *a, uint32_t na, const struct cfg_resolved *b,
		     uint32_t nb);

#endif
