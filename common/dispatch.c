#include <string.h>

#include "siphon/dispatch.h"
#include "siphon/node_index.h"

static bool token_char(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.' || c == '!' || c == '%' || c == '*' || c == '+' ||
	       c == '`' || c == '\'' || c == '~';
}

bool dispatch_find_nid(const uint8_t *from, const uint8_t *to, const uint8_t **val, size_t *len)
{
	static const char name[] = DISPATCH_NID_PARAM; /* lower case */
	const size_t n = sizeof(name) - 1;
	const uint8_t *p = from;

	/* from one ';' to the next (memchr, not a loop over every byte) */
	while (p < to && (p = memchr(p, ';', (size_t)(to - p))) != NULL) {
		const uint8_t *v, *e;
		size_t i;

		if ((size_t)(to - p) < n + 2) /* too short for ";nid=x": no later ';' is longer */
			return false;
		v = p++ + 1;
		while (v < to && (*v == ' ' || *v == '\t'))
			v++;
		if ((size_t)(to - v) < n + 1)
			continue;
		for (i = 0; i < n && (v[i] | 0x20) == (uint8_t)name[i]; i++)
			;
		if (i < n || v[n] != '=')
			continue;
		v += n + 1;
		for (e = v; e < to && token_char(*e); e++)
			;
		if (e == v)
			return false;
		*val = v;
		*len = (size_t)(e - v);
		return true;
	}
	return false;
}

/* A nid chooses among the nodes of the pool the route chose, never past
 * it: the token is the sender's choice. A nid naming no node of the pool
 * is noted (the caller counts it); one naming a node that is down falls
 * back to the hash like no nid. */
static bool by_nid(const struct compiled_tables *t, uint16_t pool, const uint8_t *buf,
		   struct sip_span span, enum dispatch_by how, struct dispatch_result *r)
{
	const uint8_t *v;
	size_t len;
	int node;

	if (!span.len || !dispatch_find_nid(buf + span.off, buf + span.off + span.len, &v, &len))
		return false;
	node = node_index_by_nid(t, pool, v, len);
	if (node < 0) {
		r->nid_unknown = true;
		return false;
	}
	if (!t->nodes[node].up)
		return false;
	r->by = how;
	r->node = node;
	return true;
}

void dispatch_by_hash(const struct compiled_tables *t, uint16_t pool, uint64_t hash,
		      bool dialog, uint64_t now, struct grace_calls *gc,
		      struct dispatch_result *r)
{
	const struct pool_table *pt = &t->pools[pool];
	const uint16_t cur = maglev_lookup(&pt->maglev, hash);

	/* after a pool change, dialog traffic stays where the previous table
	 * sent it while that node is up; a call begun since on a slot that
	 * moved began on the current node, and gc remembers it */
	if (pt->previous_until > now) {
		const uint16_t prev = maglev_lookup(&pt->previous, hash);
		const bool up = prev < pt->n_nodes && t->nodes[pt->first_node + prev].up;
		const bool moved = up && cur < pt->n_nodes && cur != prev && gc;

		if (!dialog && moved) {
			enum grace_note n = grace_calls_note(gc, hash, pt->previous_until, now);

			r->grace_noted = n == GRACE_NOTED;
			r->grace_full = n == GRACE_FULL;
		} else if (dialog && moved && grace_calls_seen(gc, hash, pt->previous_until)) {
			r->by = DISPATCH_BY_GRACE_NEW;
			r->node = (int)(pt->first_node + cur);
			return;
		} else if (dialog && up) {
			r->by = DISPATCH_BY_GRACE;
			r->node = (int)(pt->first_node + prev);
			return;
		}
	}
	if (cur < pt->n_nodes) {
		r->by = DISPATCH_BY_MAGLEV;
		r->node = (int)(pt->first_node + cur);
	}
}

void dispatch(const struct compiled_tables *t, const uint8_t *buf, const struct sip_msg *msg,
	      uint16_t pool, uint64_t now, struct grace_calls *gc, struct dispatch_result *r)
{
	bool dialog = sip_in_dialog(msg) || !msg->is_request || msg->method == SIP_METHOD_ACK ||
		      msg->method == SIP_METHOD_CANCEL;

	r->by = DISPATCH_BY_NONE;
	r->node = -1;
	r->nid_unknown = false;
	r->grace_noted = r->grace_full = false;
	if (pool >= t->n_pools)
		return;
	if (!msg->is_request) {
		if (by_nid(t, pool, buf, msg->via.params, DISPATCH_BY_VIA_NID, r))
			return;
	} else if (sip_in_dialog(msg)) {
		if (by_nid(t, pool, buf, msg->route, DISPATCH_BY_ROUTE_NID, r) ||
		    by_nid(t, pool, buf, msg->ruri, DISPATCH_BY_RURI_NID, r))
			return;
	}
	dispatch_by_hash(t, pool, callid_hash(buf + msg->call_id.off, msg->call_id.len, t->hash_seed),
			 dialog, now, gc, r);
}
