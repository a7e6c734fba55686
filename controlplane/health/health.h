/* Node health after Kamailio's dispatcher: one state machine per core node,
 * fed with probe results, and a scheduler that says which nodes are due.
 * Pure logic: no sockets, no clock reads; every time (ms, any epoch that
 * only grows) is passed in. Reference: docs/health.md. */
#ifndef SIPHON_HEALTH_H
#define SIPHON_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

enum health_state {
#define HEALTH_STATE(id, name, calls, help) HEALTH_##id,
#include "health_states.def"
#undef HEALTH_STATE
	HEALTH__COUNT
};

enum health_why {
#define HEALTH_WHY(id, name, help) HEALTH_WHY_##id,
#include "health_why.def"
#undef HEALTH_WHY
	HEALTH_WHY__COUNT
};

enum health_result_kind {
#define HEALTH_RESULT(id, name, help) HEALTH_RESULT_##id,
#include "health_results.def"
#undef HEALTH_RESULT
	HEALTH_RESULT__COUNT
};

enum health_counter {
#define HEALTH_COUNTER(id, name, help) HEALTH_CNT_##id,
#include "health_counters.def"
#undef HEALTH_COUNTER
	HEALTH_CNT__COUNT
};

const char *health_state_name(unsigned s);
const char *health_state_help(unsigned s);
bool health_state_takes_calls(unsigned s);
const char *health_why_name(unsigned w);
const char *health_result_name(unsigned r);
const char *health_counter_name(unsigned c);
/* The enum value of a name, or -1. */
int health_state_from_name(const char *name);

/* Accepted reply codes (Kamailio ds_ping_reply_codes): ranges of codes. */
#define HEALTH_CODES_MAX 16
struct health_codes {
	uint8_t n;
	struct {
		uint16_t lo, hi;
	} range[HEALTH_CODES_MAX];
};

/* Adds "2xx" (a class) or "404" (a code), 100-699. 0, -EINVAL, -ENOSPC. */
int health_codes_add(struct health_codes *c, const char *item);
/* True when the code is accepted; an empty list accepts 2xx only. */
bool health_codes_accept(const struct health_codes *c, uint16_t code);

/* Per pool; see docs/health.md for the proposed config keys. */
struct health_params {
	uint32_t interval_ms;     /* between probes of one node */
	uint32_t timeout_ms;      /* a probe without an answer by then failed */
	uint16_t down;            /* ds_probing_threshold: failures in a row -> inactive */
	uint16_t up;              /* ds_inactive_threshold: successes in a row -> active */
	uint32_t retry_after_max_s; /* a longer Retry-After is cut to this */
	struct health_codes codes;
};

#define HEALTH_INTERVAL_MS_DEFAULT     500u
#define HEALTH_TIMEOUT_MS_DEFAULT      1000u
#define HEALTH_DOWN_DEFAULT            3u
#define HEALTH_UP_DEFAULT              2u
#define HEALTH_RETRY_AFTER_MAX_DEFAULT 3600u

/* The defaults above, 2xx accepted. */
void health_params_default(struct health_params *p);
/* 0, or -EINVAL when a value is out of range (interval, timeout, down, up 0). */
int health_params_check(const struct health_params *p);

/* oc of the result: none in the answer, or one not 0-100. */
#define HEALTH_OC_ABSENT  (-1)
#define HEALTH_OC_INVALID (-2)

struct health_result {
	enum health_result_kind kind;
	uint16_t code;          /* REPLY: 100-699 */
	uint32_t retry_after_s; /* REPLY: Retry-After seconds, 0 when none */
	bool bad_retry_after;   /* REPLY: a Retry-After was there but malformed */
	int16_t oc;             /* REPLY: the top Via's oc, 0-100, or HEALTH_OC_* */
};

struct health_node {
	const struct health_params *params;
	enum health_state state;
	enum health_why why;
	uint32_t weight;      /* configured */
	uint8_t oc;           /* RFC 7339 reduction in percent, 0 when none */
	uint16_t failures;    /* consecutive, this run */
	uint16_t successes;   /* consecutive, while inactive */
	bool outstanding;     /* a probe is out */
	bool changed;         /* state or effective weight changed: see health_take_changed() */
	uint32_t seq;         /* of the last probe sent */
	uint64_t sent_ms;     /* when it left */
	uint64_t next_ms;     /* when the next probe is due */
	uint64_t until_ms;    /* RETRY_AFTER: out until then */
	enum health_state held_state; /* RETRY_AFTER: the state to go back to */
	enum health_why held_why;
	uint64_t last_change_ms;
	uint64_t counters[HEALTH_CNT__COUNT];
	/* round trips of answered probes, on siphond's microsecond clock
	 * (metrics); the state machine does not read them */
	uint64_t sent_us, rtt_last_us, rtt_sum_us, rtt_count;
};

/* A new node: active (Kamailio loads destinations active), probed at once.
 * params must outlive the node. */
void health_node_init(struct health_node *n, const struct health_params *params, uint32_t weight,
		      uint64_t now_ms);

/* A probe left for the node at now; returns the new probe's sequence
 * number through *seq. -EBUSY when one is outstanding, -EPERM when the
 * node is disabled or held by Retry-After. */
int health_probe_sent(struct health_node *n, uint64_t now_ms, uint32_t *seq);

/* What came of the outstanding probe. An ICMP port unreachable applies
 * even with none outstanding. -EINVAL for a bad result (unknown kind,
 * code outside 100-699); an answer with nothing outstanding is counted
 * (stale) and returns 0. A 1xx is counted and changes nothing. */
int health_probe_result(struct health_node *n, uint64_t now_ms, const struct health_result *r);

/* Operator: disable wins over every probe result until enable, which
 * starts the node over as inactive (why start), probed at once. */
int health_disable(struct health_node *n, uint64_t now_ms);
int health_enable(struct health_node *n, uint64_t now_ms);
/* enable for a node nothing probes (siphond --no-probes, no control
 * address of its family): back as at load, active (why none), since no
 * answer would ever bring it back from inactive. */
int health_enable_unprobed(struct health_node *n, uint64_t now_ms);

/* Ends a Retry-After hold whose time has come; the scheduler calls it. */
void health_expire(struct health_node *n, uint64_t now_ms);

/* The weight the Maglev table should use: 0 out of service, else the
 * configured weight lowered by oc percent, rounded up. */
uint32_t health_effective_weight(const struct health_node *n);

/* True once after a change of state or effective weight. */
bool health_take_changed(struct health_node *n);

/* ---- scheduler ------------------------------------------------------- */

/* Nodes of one pool (one health_params) in an array. Each scan resumes
 * at its cursor and looks at no more than max_scan nodes, so a call's work is
 * bounded however big the pool. Nodes whose Retry-After ended are set
 * back on the way. */
struct health_sched {
	struct health_node *nodes;
	uint32_t n;
	uint32_t due_cursor, timeout_cursor;
};

/* Indexes of nodes due for a probe at now (not disabled, not held, none
 * outstanding, next probe time reached), at most max_out. Returns the
 * count. */
uint32_t health_sched_due(struct health_sched *s, uint64_t now_ms, uint32_t max_scan,
			  uint32_t *out, uint32_t max_out);

/* Indexes of nodes whose outstanding probe is at least the timeout old
 * at now, at most max_out. The caller reports each as a TIMEOUT result. */
uint32_t health_sched_timeouts(struct health_sched *s, uint64_t now_ms, uint32_t max_scan,
			       uint32_t *out, uint32_t max_out);

#endif
