#include <string.h>
#include <sys/socket.h>

#include "siphon/decide.h"
#include "siphon/maglev.h"

static void start(struct msg_decision *out, bool stream)
{
	out->verdict = SIP_VERDICT_DROP;
	out->reason = SIP_REASON_RULE_DROP;
	out->classified = false;
	out->hs_scans = 0;
	out->rule = -1;
	out->n_rate_limits = 0;
	out->pool = -1;
	out->node = (struct dispatch_result){ .by = DISPATCH_BY_NONE, .node = -1 };
	out->fwd_len = 0;
	out->stream = stream;
	out->stream_rule_ignored = false;
	out->incomplete = false;
}

/* The message's flags and the route's decision over them: all flags, or
 * (ctx->lazy_flags) only those the rules reached need. */
static void classify_decide(const struct decide_ctx *ctx, const uint8_t *payload,
			    const struct packet_meta *pm, struct decision *d,
			    struct msg_decision *out)
{
	const struct classifier *c = ctx->cls;

	out->classified = true;
	if (ctx->lazy_flags && c->lazy_ok) {
		struct flag_eval e;

		flag_eval_init(&e, c, payload, &out->msg, pm);
		decide_lazy(&e, d);
		out->flags = e.value;
		out->known = e.known;
		out->hs_scans = e.hs_scans;
		return;
	}
	classify(c, payload, &out->msg, pm, &out->flags);
	decide(c->tables, &out->flags, d);
	out->known = c->all;
	for (unsigned i = 0; i < c->tables->headers.count; i++)
		out->hs_scans += out->msg.extra_count[i] && (c->pattern_headers & (1u << i));
}

/* The rate-limit rules of the decision applied: false when a bucket is
 * empty (out then says rate_limited). */
static bool route(const struct decide_ctx *ctx, const struct packet_meta *pm,
		  const struct decision *d, struct msg_decision *out)
{
	const struct compiled_tables *t = ctx->cls->tables;

	for (unsigned i = 0; i < d->n_rate_limits; i++) {
		const struct rule_action *a = &t->actions[d->rate_limits[i]];
		if (ctx->buckets && !ratelimit_take(ctx->buckets, d->rate_limits[i], pm->family,
						    pm->src, a->rate_per_sec, a->burst, ctx->now_ms)) {
			out->verdict = SIP_VERDICT_DROP;
			out->reason = SIP_REASON_RATE_LIMITED;
			out->rule = d->rate_limits[i];
			return false;
		}
		out->rate_limits[out->n_rate_limits++] = d->rate_limits[i];
	}
	return true;
}

static void take(struct msg_decision *out, const struct decision *d)
{
	out->verdict = d->verdict;
	out->reason = d->reason;
	out->rule = d->rule;
}

/* UDP: one datagram, one message (docs/scanner.md, docs/dispatch.md). */
static void decide_datagram(const struct decide_ctx *ctx, const uint8_t *payload,
			    const struct packet_meta *pm, struct msg_decision *out)
{
	const struct compiled_tables *t = ctx->cls->tables;
	struct decision d;

	if (out->msg.verdict != SIP_VERDICT_FORWARD) {
		out->verdict = out->msg.verdict;
		out->reason = out->msg.reason;
		return;
	}
	classify_decide(ctx, payload, pm, &d, out);
	if (!route(ctx, pm, &d, out))
		return;
	take(out, &d);
	if (out->verdict != SIP_VERDICT_FORWARD)
		return;
	out->pool = t->actions[d.rule].pool;
	dispatch(t, payload, &out->msg, (uint16_t)out->pool, ctx->now_s, ctx->grace_calls,
		 &out->node);
	if (out->node.node < 0) {
		out->verdict = SIP_VERDICT_PUNT;
		out->reason = SIP_REASON_NO_LIVE_NODE;
		return;
	}
	out->fwd_len = out->msg.msg_len;
}

/* The node of a TCP connection: Maglev over its 5-tuple, so every segment
 * of it lands on the node that terminates it. */
static void connection_node(const struct decide_ctx *ctx, const struct packet_meta *pm,
			    struct msg_decision *out)
{
	const struct compiled_tables *t = ctx->cls->tables;
	const size_t alen = pm->family == AF_INET ? 4 : 16;
	uint8_t key[2 * 16 + 4];

	memcpy(key, pm->src, alen);
	memcpy(key + alen, pm->dst, alen);
	key[2 * alen] = (uint8_t)(pm->sport >> 8), key[2 * alen + 1] = (uint8_t)pm->sport;
	key[2 * alen + 2] = (uint8_t)(pm->dport >> 8), key[2 * alen + 3] = (uint8_t)pm->dport;
	/* segments after the SYN keep the previous table during the grace
	 * period, as dialogs do; a connection opened since on a slot that
	 * moved stays on its SYN's node (the grace register) */
	dispatch_by_hash(t, (uint16_t)out->pool, callid_hash(key, 2 * alen + 4, t->hash_seed),
			 !pm->tcp_syn, ctx->now_s, ctx->grace_calls, &out->node);
}

/* TCP (docs/dispatch.md "TCP"): the segment's connection decides the pool
 * from the flags every segment has (source, transport); a segment that
 * starts with a whole header block is classified too, and its rules may
 * drop it, but never move the connection to another node. */
static void decide_stream(const struct decide_ctx *ctx, const uint8_t *payload, size_t len,
			  const struct packet_meta *pm, struct msg_decision *out)
{
	const struct compiled_tables *t = ctx->cls->tables;
	/* a segment that starts with a start line and a whole header block
	 * carries a message; a body continuing in the next segment is no
	 * reason to refuse it (rule 4 is UDP framing) */
	const bool has_msg = out->msg.parsed;
	struct decision conn, d;
	struct flagset conn_flags;

	if (has_msg && out->msg.verdict != SIP_VERDICT_FORWARD &&
	    out->msg.reason != SIP_REASON_CLEN_TOO_LARGE) {
		out->verdict = out->msg.verdict; /* the edge profile, as for UDP */
		out->reason = out->msg.reason;
		return;
	}

	classify_connection(ctx->cls, pm, &conn_flags);
	decide(t, &conn_flags, &conn);
	if (conn.verdict == SIP_VERDICT_DROP) {
		out->flags = conn_flags;
		out->known = ctx->cls->all;
		out->classified = true;
		take(out, &conn);
		return;
	}
	if (has_msg) {
		classify_decide(ctx, payload, pm, &d, out);
		if (!route(ctx, pm, &d, out))
			return;
		if (d.verdict == SIP_VERDICT_DROP) {
			take(out, &d);
			return;
		}
	} else {
		out->flags = conn_flags;
		out->known = ctx->cls->all;
		out->classified = true;
	}
	if (conn.verdict != SIP_VERDICT_FORWARD) { /* punt or reply: siphond's business */
		take(out, &conn);
		return;
	}
	out->pool = t->actions[conn.rule].pool;
	out->stream_rule_ignored = has_msg && (d.verdict != SIP_VERDICT_FORWARD ||
					       t->actions[d.rule].pool != out->pool);
	take(out, has_msg && !out->stream_rule_ignored ? &d : &conn);
	connection_node(ctx, pm, out);
	if (out->node.node < 0) {
		out->verdict = SIP_VERDICT_PUNT;
		out->reason = SIP_REASON_NO_LIVE_NODE;
		return;
	}
	out->fwd_len = (uint16_t)len;
}

void decide_message(const struct decide_ctx *ctx, const uint8_t *payload, size_t len,
		    const struct packet_meta *pm, struct msg_decision *out)
{
	const struct compiled_tables *t = ctx->cls->tables;
	const bool stream = pm->transport != TRANSPORT_UDP;
	/* the fast path parses what routing reads; explain and siphond all */
	const unsigned fields = ctx->lazy_flags ? SIP_FIELDS_ROUTING : SIP_FIELDS_ALL;

	start(out, stream);
	if (stream) {
		sip_scan_fields(payload, len, len, &t->limits, &t->headers, fields, &out->msg);
		decide_stream(ctx, payload, len, pm, out);
		return;
	}
	/* a first fragment: framing and size over the whole datagram */
	sip_scan_fields(payload, len, pm->datagram_len > len ? pm->datagram_len : len, &t->limits,
			&t->headers, fields, &out->msg);
	if (pm->datagram_len > len && !out->msg.hdr_len) {
		out->incomplete = true;
		return;
	}
	decide_datagram(ctx, payload, pm, out);
}
