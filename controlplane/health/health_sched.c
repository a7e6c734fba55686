/* Which nodes of a pool are due for a probe, which probes timed out: round
 * robin from a cursor, a bounded number of nodes per call. */
#include "health.h"

uint32_t health_sched_due(struct health_sched *s, uint64_t now_ms, uint32_t max_scan,
			  uint32_t *out, uint32_t max_out)
{
	uint32_t found = 0, i, scan = max_scan < s->n ? max_scan : s->n;

	if (s->n == 0)
		return 0;
	for (i = 0; i < scan && found < max_out; i++) {
		uint32_t k = (s->due_cursor + i) % s->n;
		struct health_node *n = &s->nodes[k];

		health_expire(n, now_ms);
		if (n->state == HEALTH_DISABLED || n->outstanding || now_ms < n->next_ms)
			continue;
		if (n->state == HEALTH_INACTIVE && n->why == HEALTH_WHY_RETRY_AFTER)
			continue; /* health_expire() left it held: next_ms is its until */
		out[found++] = k;
	}
	/* the next call starts after the last node looked at: none starves */
	s->due_cursor = (s->due_cursor + i) % s->n;
	return found;
}

uint32_t health_sched_timeouts(struct health_sched *s, uint64_t now_ms, uint32_t max_scan,
			       uint32_t *out, uint32_t max_out)
{
	uint32_t found = 0, i, scan = max_scan < s->n ? max_scan : s->n;

	if (s->n == 0)
		return 0;
	for (i = 0; i < scan && found < max_out; i++) {
		uint32_t k = (s->timeout_cursor + i) % s->n;
		const struct health_node *n = &s->nodes[k];

		if (n->outstanding && now_ms >= n->sent_ms &&
		    now_ms - n->sent_ms >= n->params->timeout_ms)
			out[found++] = k;
	}
	s->timeout_cursor = (s->timeout_cursor + i) % s->n;
	return found;
}
