/* One punted message: decided as the fast path decides it, then answered
 * as docs/answers.md says (or counted with the reason it is not). */
#include <errno.h>
#include <string.h>

#include "answer.h"
#include "punt.h"
#include "siphon/decide.h"
#include "siphon/names.h"

static bool any_common(const struct flagset *a, const struct flagset *b)
{
	for (unsigned i = 0; i < FLAGSET_WORDS; i++)
		if (a->w[i] & b->w[i])
			return true;
	return false;
}

static void set(struct punt_result *r, enum punt_outcome o, const char *why)
{
	r->outcome = o;
	r->why = why;
}

/* A builder's refusal of a message decide_message() let through. */
static void refused(struct punt_result *r, int rc)
{
	set(r, PUNT_BAD, rc == -ENOSPC ? "answer_too_big" : "answer_refused");
}

/* Requests only; ACK never; in_dialog only where the 503 is concerned. */
static const char *not_answerable(const struct sip_msg *m, bool initial_only)
{
	if (!m->is_request)
		return "response";
	if (m->method == SIP_METHOD_ACK)
		return "ack";
	if (initial_only && m->to.tag.len)
		return "in_dialog";
	return NULL;
}

static void reply_rule(const struct compiled_tables *t, const uint8_t *buf,
		       const struct sip_endpoint *src, const struct msg_decision *d, uint8_t *out,
		       size_t cap, struct punt_result *r)
{
	const struct rule_action *a = &t->actions[d->rule];
	const struct answer_status st = { a->reply_code, a->reply_reason, 0 };
	const char *why = not_answerable(&d->msg, false);
	const bool options = d->msg.method == SIP_METHOD_OPTIONS;
	int rc;

	if (why) {
		set(r, PUNT_UNANSWERED, why);
		return;
	}
	rc = options ? answer_options(buf, d->msg.msg_len, src, &st, out, cap, &r->len) :
		       answer_request(buf, d->msg.msg_len, src, &st, out, cap, &r->len);
	if (rc) {
		refused(r, rc);
		return;
	}
	set(r, options ? PUNT_ANSWERED_OPTIONS : PUNT_ANSWERED_REPLY, NULL);
	r->code = a->reply_code;
}

static void no_live_node(const uint8_t *buf, const struct sip_endpoint *src,
			 const struct msg_decision *d, uint32_t retry_after_s, uint8_t *out,
			 size_t cap, struct punt_result *r)
{
	const char *why = not_answerable(&d->msg, true);
	int rc;

	if (why) {
		set(r, PUNT_UNANSWERED, why);
		return;
	}
	rc = answer_no_live_node(buf, d->msg.msg_len, src, retry_after_s, out, cap, &r->len);
	if (rc) {
		refused(r, rc);
		return;
	}
	set(r, PUNT_ANSWERED_503, NULL);
	r->code = 503;
}

void punt_answer(const struct classifier *cls, uint64_t now_ms, const uint8_t *buf, size_t len,
		 const struct packet_meta *pm, const uint32_t *retry_after_s, uint8_t *out,
		 size_t cap, struct punt_result *r)
{
	const struct compiled_tables *t = cls->tables;
	/* no grace register: siphond answers, it forwards nothing to a node */
	const struct decide_ctx ctx = { cls, NULL, now_ms / 1000, now_ms, NULL };
	struct sip_endpoint src = { .ip = { .family = pm->family }, .port = pm->sport };
	struct msg_decision d;
	int rc;

	memset(r, 0, sizeof(*r));
	memcpy(src.ip.addr, pm->src, sizeof(src.ip.addr));
	decide_message(&ctx, buf, len, pm, &d);
	if (d.incomplete) { /* the kernel hands whole datagrams; never expected */
		set(r, PUNT_BAD, "incomplete");
		return;
	}
	/* a core node answering siphond's own probe: siphond's, whatever
	 * the route says (it must never reach a core node) */
	if (d.classified && !d.msg.is_request && any_common(&d.flags, &t->own_probe_answer)) {
		set(r, PUNT_PROBE_ANSWER, NULL);
		return;
	}
	if (d.reason == SIP_REASON_STUN_BINDING) {
		rc = answer_stun(buf, len, &src, out, cap, &r->len);
		if (rc)
			set(r, PUNT_BAD, "stun_refused");
		else
			set(r, PUNT_ANSWERED_STUN, NULL);
		return;
	}
	if (d.verdict == SIP_VERDICT_REPLY && d.rule >= 0) {
		reply_rule(t, buf, &src, &d, out, cap, r);
		return;
	}
	if (d.reason == SIP_REASON_NO_LIVE_NODE && d.pool >= 0 && (uint32_t)d.pool < t->n_pools) {
		no_live_node(buf, &src, &d, retry_after_s[d.pool], out, cap, r);
		return;
	}
	/* the scanner refused it (junk, a malformed message): bad; else a
	 * rule's verdict siphond has nothing to say to (punt, drop, pool) */
	set(r, d.rule < 0 ? PUNT_BAD : PUNT_UNANSWERED, sip_reason_name(d.reason));
}
