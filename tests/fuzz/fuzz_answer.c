/* Fuzz harness over siphond's answers (controlplane/answer/, docs/answers.md):
 * any bytes as a request to answer (OPTIONS, any reply rule, 503 for a pool
 * with no live node) and as a STUN binding request. Besides "no crash", an
 * answer made must scan back as a SIP response with the request's Call-ID,
 * CSeq and Via count, or be a STUN success of the right length with the
 * request's transaction id. */
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz_check.h"

#include "answer.h"
#include "siphon/sip_scan.h"

static void check_sip(const uint8_t *req, size_t size, const uint8_t *out, size_t len, size_t cap,
		      uint16_t code)
{
	static struct sip_msg in, msg;

	CHECK(len <= cap && len <= SIP_LIMIT_MSG_BYTES_DEFAULT);
	CHECK(sip_scan(req, size, NULL, NULL, &in) == SIP_VERDICT_FORWARD && in.is_request);
	CHECK(in.method != SIP_METHOD_ACK);
	CHECK(sip_scan(out, len, NULL, NULL, &msg) == SIP_VERDICT_FORWARD);
	CHECK(!msg.is_request && msg.status == code);
	CHECK(msg.call_id.len == in.call_id.len &&
	      memcmp(out + msg.call_id.off, req + in.call_id.off, in.call_id.len) == 0);
	CHECK(msg.cseq == in.cseq && msg.cseq_method_name.len == in.cseq_method_name.len &&
	      memcmp(out + msg.cseq_method_name.off, req + in.cseq_method_name.off,
		     in.cseq_method_name.len) == 0);
	CHECK(msg.via_count == in.via_count);
	CHECK(msg.to.tag.len != 0 || code == 100);
	CHECK(msg.msg_len == len && msg.content_length == 0);
}

static void check_stun(const uint8_t *req, size_t size, const uint8_t *out, size_t len, int family)
{
	static struct sip_msg msg;

	CHECK(len == (family == AF_INET ? 32u : 44u));
	CHECK(out[0] == 0x01 && out[1] == 0x01 && out[2] == 0 && out[3] == len - 20);
	CHECK(memcmp(out + 4, req + 4, 16) == 0);
	/* what the fast path punts as STUN is what is answered */
	sip_scan(req, size, NULL, NULL, &msg);
	CHECK(msg.reason == SIP_REASON_STUN_BINDING);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[20000];
	struct sip_endpoint v4 = { .ip = { .family = AF_INET, .addr = { 192, 0, 2, 10 } }, .port = 5060 };
	struct sip_endpoint v6 = { .ip = { .family = AF_INET6,
					   .addr = { 0x20, 0x01, 0x0d, 0xb8, [15] = 7 } },
				   .port = 40000 };
	const struct sip_endpoint *src = size % 2 ? &v6 : &v4;
	const struct answer_status ok = { 200, "OK", 0 }, trying = { 100, "Trying", 0 };
	size_t cap = size % 7 == 3 ? size / 2 : sizeof(out), len = 0;

	if (answer_options(data, size, src, &ok, out, cap, &len) == 0)
		check_sip(data, size, out, len, cap, 200);
	if (answer_request(data, size, src, &trying, out, cap, &len) == 0)
		check_sip(data, size, out, len, cap, 100);
	if (answer_no_live_node(data, size, src, 30, out, cap, &len) == 0)
		check_sip(data, size, out, len, cap, 503);
	if (answer_stun(data, size, src, out, sizeof(out), &len) == 0)
		check_stun(data, size, out, len, src->ip.family);
	return 0;
}
