/* Classify and decide: named flags (as bits) for a scanned message, then
 * the first rule of the route that holds. The same code runs in the fast
 * path and in `siphonctl explain`. No allocation, no lock per message. */
#ifndef SIPHON_CLASSIFY_H
#define SIPHON_CLASSIFY_H

#include <hs/hs.h>

#include "siphon/tables.h"

/* The kinds of flags, in the order a lazy evaluation computes them: the
 * cheap ones (SOURCE .. PRESENT) together before the first rule; the
 * costly ones (TO_SELF, PROBE, MATCH) only when a term the message reaches
 * is open without them, Hyperscan last and once per header; DERIVED when
 * such a term needs them (docs/config.md "When flags are computed"). */
enum flag_group {
	FLAG_GROUP_SOURCE,  /* source prefixes and transport: one trie lookup */
	FLAG_GROUP_METHOD,  /* the request method, or the CSeq method of a response */
	FLAG_GROUP_DIALOG,  /* in_dialog: To has a tag */
	FLAG_GROUP_PRESENT, /* present; and every match flag of an absent header (clear) */
	FLAG_GROUP_TO_SELF, /* Request-URI host against the balancer's addresses and names */
	FLAG_GROUP_PROBE,   /* own_probe_answer: top Via host and the node index */
	FLAG_GROUP_DERIVED, /* expr: decide()'s own pass, when a term needs one whose
			     * base flags are known */
	FLAG_GROUP_MATCH,   /* match: one Hyperscan scan per header a reached term needs */
	FLAG_GROUP__COUNT
};

struct classifier {
	const struct compiled_tables *tables;
	hs_database_t *db;   /* deserialized from tables->hs_db: every pattern */
	hs_database_t *header_db[SIP_EXTRA_MAX]; /* a header's own patterns, when the
			       * tables carry them (NULL: db, filtered by header) */
	hs_scratch_t *scratch; /* one per worker */
	uint32_t pattern_headers; /* extra-header indices that have patterns */
	uint32_t precheck_headers; /* those with a literal pre-check (precheck[h]) */
	bool precheck_off; /* a test hook: scan every header as if none had one */
	struct hs_precheck precheck[SIP_EXTRA_MAX]; /* from tables->literals: a value
			       * with none of a header's literals is not scanned */
	/* lazy evaluation (classifier_init derives it from the tables) */
	bool lazy_ok; /* the tables allow it (flag kinds disjoint, derived flags in
		       * order); false: decide_message() computes every flag */
	struct flagset all;                     /* bits 0 .. n_flags-1 */
	struct flagset cheap;                   /* SOURCE .. PRESENT */
	struct flagset group[FLAG_GROUP__COUNT]; /* the flags of each kind */
	struct flagset header_match[SIP_EXTRA_MAX]; /* the match flags of each header */
	uint16_t expr_first[SIPHON_MAX_FLAGS], expr_end[SIPHON_MAX_FLAGS]; /* a derived
		       * flag's terms: expr_terms[first .. end) */
	bool has_derived;
	bool one_word; /* n_flags <= 64: the second word of every set is clear */
	struct flagset derived_deps[SIPHON_MAX_FLAGS]; /* a derived flag's base flags (the
		       * flags of its terms, derived ones by their own) */
	struct flagset method_by_id[SIP_METHOD__COUNT]; /* the method flags of each known
		       * method (its exact name), once per generation; OTHER
		       * names are compared with the tables' */
};

/* The flags of one message as far as they have been computed: `known`
 * says which bits are, `value` holds those that are set (a subset of
 * known). Filled by flag_eval_init(), grown by decide_lazy() and
 * flag_eval_all(). */
struct flag_eval {
	const struct classifier *c;
	const uint8_t *buf;
	const struct sip_msg *msg;
	const struct packet_meta *pm;
	struct flagset known, value;
	uint32_t groups_done; /* 1 << enum flag_group: the kinds computed (MATCH: see
			       * headers_scanned) */
	uint32_t headers_scanned; /* 1 << header: Hyperscan has run over its value */
	unsigned hs_scans;    /* headers scanned: Hyperscan calls made or spared by the
			       * literal pre-check (a test hook; the budget) */
	unsigned hs_spared;   /* of those, the pre-check settled without a call */
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

/* Lazy classification: nothing computed yet. The pointers must stay valid
 * while e is used. */
void flag_eval_init(struct flag_eval *e, const struct classifier *c, const uint8_t *buf,
		    const struct sip_msg *msg, const struct packet_meta *pm);

/* decide() over a message's flags, computing only the costly flags the
 * rules it reaches need (the cheap kinds first, for all); Hyperscan runs
 * only when a reached term still depends on a match flag, once per header
 * it needs. The decision is decide()'s over classify()'s flags, and every
 * bit of e->known has the value classify() + decide() give it. Needs
 * c->lazy_ok. */
void decide_lazy(struct flag_eval *e, struct decision *d);

/* Completes e: every flag known, e->value then equal to classify()'s flags
 * with the derived flags decide() adds. */
void flag_eval_all(struct flag_eval *e);

/* The host of a SIP URI ("sip:user@host:port;params"): IPv6 keeps its
 * brackets. False when there is none. */
bool sip_uri_host(const uint8_t *uri, size_t len, const uint8_t **host, size_t *host_len);

#endif
