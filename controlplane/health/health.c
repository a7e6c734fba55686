/* The node state machine (docs/health.md): Kamailio dispatcher thresholds,
 * ICMP at once, 503 + Retry-After holds, RFC 7339 oc on the weight. */
#include <errno.h>

#include "health.h"

void health_params_default(struct health_params *p)
{
	*p = (struct health_params){
		.interval_ms = HEALTH_INTERVAL_MS_DEFAULT,
		.timeout_ms = HEALTH_TIMEOUT_MS_DEFAULT,
		.down = HEALTH_DOWN_DEFAULT,
		.up = HEALTH_UP_DEFAULT,
		.retry_after_max_s = HEALTH_RETRY_AFTER_MAX_DEFAULT,
	};
}

int health_params_check(const struct health_params *p)
{
	if (!p->interval_ms || !p->timeout_ms || !p->down || !p->up || !p->retry_after_max_s)
		return -EINVAL;
	if (p->codes.n > HEALTH_CODES_MAX)
		return -EINVAL;
	return 0;
}

void health_node_init(struct health_node *n, const struct health_params *params, uint32_t weight,
		      uint64_t now_ms)
{
	*n = (struct health_node){
		.params = params,
		.state = HEALTH_ACTIVE,
		.why = HEALTH_WHY_NONE,
		.weight = weight,
		.next_ms = now_ms,
		.last_change_ms = now_ms,
	};
}

static void set_state(struct health_node *n, enum health_state state, enum health_why why,
		      uint64_t now_ms)
{
	if (state != n->state) {
		n->state = state;
		n->counters[HEALTH_CNT_STATE_CHANGES]++;
		n->last_change_ms = now_ms;
		n->changed = true;
	}
	n->why = why;
}

static bool held(const struct health_node *n)
{
	return n->state == HEALTH_INACTIVE && n->why == HEALTH_WHY_RETRY_AFTER;
}

void health_expire(struct health_node *n, uint64_t now_ms)
{
	if (!held(n) || now_ms < n->until_ms)
		return;
	/* back to where the 503 found it, counters as they were */
	set_state(n, n->held_state, n->held_why, now_ms);
	n->until_ms = 0;
	n->next_ms = now_ms;
}

uint32_t health_effective_weight(const struct health_node *n)
{
	if (!health_state_takes_calls(n->state))
		return 0;
	/* rounded up: only oc=100 takes a node with a weight to 0 */
	return (uint32_t)(((uint64_t)n->weight * (100u - n->oc) + 99u) / 100u);
}

bool health_take_changed(struct health_node *n)
{
	bool c = n->changed;

	n->changed = false;
	return c;
}

int health_probe_sent(struct health_node *n, uint64_t now_ms, uint32_t *seq)
{
	health_expire(n, now_ms);
	if (n->state == HEALTH_DISABLED || held(n))
		return -EPERM;
	if (n->outstanding)
		return -EBUSY;
	n->seq++;
	n->outstanding = true;
	n->sent_ms = now_ms;
	n->next_ms = now_ms + n->params->interval_ms;
	n->counters[HEALTH_CNT_PROBES_SENT]++;
	if (seq)
		*seq = n->seq;
	return 0;
}

static void success(struct health_node *n, uint64_t now_ms)
{
	n->failures = 0;
	if (n->state != HEALTH_INACTIVE) { /* active, or trying: one answer is enough */
		set_state(n, HEALTH_ACTIVE, HEALTH_WHY_NONE, now_ms);
		return;
	}
	if (n->successes < UINT16_MAX)
		n->successes++;
	if (n->successes >= n->params->up) {
		n->successes = 0;
		set_state(n, HEALTH_ACTIVE, HEALTH_WHY_NONE, now_ms);
	}
}

static void failure(struct health_node *n, uint64_t now_ms)
{
	if (n->failures < UINT16_MAX)
		n->failures++;
	n->successes = 0;
	if (n->state == HEALTH_INACTIVE) {
		if (n->failures >= n->params->down && n->why == HEALTH_WHY_START)
			n->why = HEALTH_WHY_FAILURES;
		return;
	}
	if (n->failures >= n->params->down)
		set_state(n, HEALTH_INACTIVE, HEALTH_WHY_FAILURES, now_ms);
	else
		set_state(n, HEALTH_TRYING, HEALTH_WHY_NONE, now_ms);
}

static void hold(struct health_node *n, uint64_t now_ms, uint32_t seconds)
{
	uint32_t max = n->params->retry_after_max_s;

	if (!held(n)) {
		n->held_state = n->state;
		n->held_why = n->why;
	}
	n->until_ms = now_ms + (uint64_t)(seconds < max ? seconds : max) * 1000u;
	n->next_ms = n->until_ms;
	n->counters[HEALTH_CNT_RETRY_AFTER]++;
	set_state(n, HEALTH_INACTIVE, HEALTH_WHY_RETRY_AFTER, now_ms);
}

static void icmp(struct health_node *n, uint64_t now_ms)
{
	n->counters[HEALTH_CNT_ICMP]++;
	n->outstanding = false;
	if (n->state == HEALTH_DISABLED)
		return;
	/* the host answered for the port: nothing listens, no need to wait for
	 * `down` timeouts */
	if (n->failures < n->params->down)
		n->failures = n->params->down;
	n->successes = 0;
	n->until_ms = 0;
	set_state(n, HEALTH_INACTIVE, HEALTH_WHY_ICMP, now_ms);
}

static void reply(struct health_node *n, uint64_t now_ms, const struct health_result *r)
{
	n->outstanding = false;
	if (r->bad_retry_after)
		n->counters[HEALTH_CNT_BAD_RETRY_AFTER]++;
	if (r->oc == HEALTH_OC_INVALID)
		n->counters[HEALTH_CNT_BAD_OC]++; /* and the reduction in force stays */
	else
		n->oc = r->oc >= 0 ? (uint8_t)r->oc : 0;
	if (r->code == 503 && r->retry_after_s > 0)
		hold(n, now_ms, r->retry_after_s); /* overload, not a failure */
	else if (health_codes_accept(&n->params->codes, r->code))
		success(n, now_ms);
	else
		failure(n, now_ms);
}

int health_probe_result(struct health_node *n, uint64_t now_ms, const struct health_result *r)
{
	uint32_t before;

	if ((unsigned)r->kind >= HEALTH_RESULT__COUNT)
		return -EINVAL;
	if (r->kind == HEALTH_RESULT_REPLY &&
	    (r->code < 100 || r->code > 699 || r->oc > 100 || r->oc < HEALTH_OC_INVALID))
		return -EINVAL;
	health_expire(n, now_ms);
	before = health_effective_weight(n);
	switch (r->kind) {
	case HEALTH_RESULT_ICMP_UNREACHABLE:
		icmp(n, now_ms);
		break;
	case HEALTH_RESULT_TIMEOUT:
		if (!n->outstanding) {
			n->counters[HEALTH_CNT_STALE]++;
			return 0;
		}
		n->counters[HEALTH_CNT_TIMEOUTS]++;
		n->outstanding = false;
		failure(n, now_ms);
		break;
	case HEALTH_RESULT_REPLY:
		n->counters[HEALTH_CNT_REPLIES_1XX + r->code / 100 - 1]++;
		if (r->code < 200)
			return 0; /* provisional: the probe is still out */
		if (!n->outstanding) {
			n->counters[HEALTH_CNT_STALE]++;
			return 0;
		}
		reply(n, now_ms, r);
		break;
	default:
		return -EINVAL;
	}
	if (health_effective_weight(n) != before)
		n->changed = true;
	return 0;
}

int health_disable(struct health_node *n, uint64_t now_ms)
{
	n->outstanding = false; /* an answer to it now is stale */
	n->until_ms = 0;
	set_state(n, HEALTH_DISABLED, HEALTH_WHY_ADMIN, now_ms);
	return 0;
}

int health_enable(struct health_node *n, uint64_t now_ms)
{
	if (n->state != HEALTH_DISABLED)
		return 0;
	n->failures = 0;
	n->successes = 0;
	n->oc = 0;
	n->next_ms = now_ms;
	set_state(n, HEALTH_INACTIVE, HEALTH_WHY_START, now_ms);
	return 0;
}

int health_enable_unprobed(struct health_node *n, uint64_t now_ms)
{
	if (n->state != HEALTH_DISABLED)
		return 0;
	n->failures = 0;
	n->successes = 0;
	n->oc = 0;
	n->next_ms = now_ms;
	set_state(n, HEALTH_ACTIVE, HEALTH_WHY_NONE, now_ms);
	return 0;
}
