/* Fuzz harness over the SIP scanner. Besides "no crash, no sanitizer
 * report", it checks what every verdict promises (abort() on a breach):
 * spans inside the input, the verdict the reason names, a forwarded
 * message that really has what the edge profile requires, and the same
 * result twice. A prefix of the input scanned as the start of the whole
 * (sip_scan_prefix, a first IP fragment) whose header block ends inside
 * it gives exactly the whole input's result. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"

#include "siphon/sip_scan.h"


static void check_span(struct sip_span s, size_t size)
{
	CHECK((size_t)s.off + s.len <= size);
}

static void check_msg(const struct sip_msg *m, const uint8_t *data, size_t size,
		      const struct sip_limits *lim)
{
	CHECK((unsigned)m->reason < SIP_REASON__COUNT);
	CHECK(m->verdict == sip_reason_verdict(m->reason));
	if (!m->parsed)
		return;
	CHECK(m->hdr_len <= size);
	check_span(m->method_name, size);
	check_span(m->ruri, size);
	check_span(m->call_id, size);
	check_span(m->via.value, size);
	check_span(m->via.host, size);
	check_span(m->via.branch, size);
	check_span(m->from.tag, size);
	check_span(m->to.tag, size);
	check_span(m->route, size);
	for (unsigned i = 0; i < SIP_EXTRA_MAX; i++)
		check_span(m->extra[i], size);
	/* only the header block is ever scanned */
	CHECK(m->call_id.off + m->call_id.len <= m->hdr_len);
	if (m->verdict != SIP_VERDICT_FORWARD)
		return;
	CHECK(m->hdr_len <= m->msg_len && m->msg_len <= size);
	CHECK(m->msg_len <= lim->max_msg_bytes);
	CHECK(m->via_count >= 1 && m->via_count <= lim->max_vias);
	CHECK(m->hdr_count[SIP_HDR_CALL_ID] == 1 && m->call_id.len > 0);
	CHECK(memchr(data + m->call_id.off, ' ', m->call_id.len) == NULL);
	CHECK(memchr(data, '\0', m->hdr_len) == NULL);
	CHECK(m->hdr_count[SIP_HDR_FROM] && m->hdr_count[SIP_HDR_TO] && m->hdr_count[SIP_HDR_CSEQ]);
	CHECK(m->cseq <= INT32_MAX);
	if (m->is_request)
		CHECK(m->cseq_method_name.len == m->method_name.len &&
		      memcmp(data + m->cseq_method_name.off, data + m->method_name.off,
			     m->method_name.len) == 0);
	else
		CHECK(m->status >= 100 && m->status <= 699);
}

/* The prefix data[0..cut) as the start of a datagram of size bytes. */
static void check_prefix(const uint8_t *data, size_t size, size_t cut,
			 const struct sip_extra_set *extra, const struct sip_msg *whole)
{
	static struct sip_msg p;
	const struct sip_limits lim = SIP_LIMITS_DEFAULT;

	sip_scan_prefix(data, cut, size, &lim, extra, &p);
	CHECK((unsigned)p.reason < SIP_REASON__COUNT && p.verdict == sip_reason_verdict(p.reason));
	if (p.hdr_len)
		CHECK(memcmp(&p, whole, sizeof(p)) == 0);
	if (cut >= whole->hdr_len && whole->hdr_len) /* the block is in the prefix */
		CHECK(p.hdr_len == whole->hdr_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sip_extra_set extra;
	static struct sip_msg a, b;
	const struct sip_limits lim = SIP_LIMITS_DEFAULT;
	const struct sip_limits tight = { 300, 3 };

	if (extra.count == 0) {
		sip_extra_add(&extra, "Contact");
		sip_extra_add(&extra, "X-Siphon-Test");
		sip_extra_add(&extra, "k");
	}
	sip_scan(data, size, &lim, &extra, &a);
	check_msg(&a, data, size, &lim);
	sip_scan(data, size, &lim, &extra, &b);
	CHECK(memcmp(&a, &b, sizeof(a)) == 0);
	/* the fast path's scan (only what routing reads): the same but for
	 * the fields it leaves out */
	sip_scan_fields(data, size, size, &lim, &extra, SIP_FIELDS_ROUTING, &b);
	CHECK(b.from.value.len == 0 && b.from.tag.len == 0 && b.via.branch.len == 0 &&
	      b.max_forwards == -1 && b.user_agent.len == 0);
	CHECK(!b.is_request || b.via.value.len == 0);
	b.from = a.from, b.via.branch = a.via.branch;
	if (a.is_request)
		b.via = a.via;
	b.max_forwards = a.max_forwards, b.user_agent = a.user_agent;
	CHECK(memcmp(&a, &b, sizeof(a)) == 0);
	if (size) {
		check_prefix(data, size, a.hdr_len ? a.hdr_len : size / 2, &extra, &a);
		check_prefix(data, size, (data[size - 1] * 257u + size / 3) % size, &extra, &a);
	}
	sip_scan(data, size, &tight, NULL, &b);
	check_msg(&b, data, size, &tight);
	/* Tighter limits change nothing decided before rule 5 (the enum lists
	 * reasons in rule order) and can only turn a later one into a limit drop. */
	if (a.reason != SIP_REASON_OK && a.reason < SIP_REASON_TOO_BIG)
		CHECK(b.reason == a.reason);
	else
		CHECK(b.reason == a.reason || b.reason == SIP_REASON_TOO_BIG ||
		      b.reason == SIP_REASON_TOO_MANY_VIAS);
	return 0;
}
