/* The OPTIONS probe and its answer (controlplane/health/probe_*.c): exact
 * bytes, scanned back; answers matched, Retry-After and oc read. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "answer.h"
#include "probe.h"
#include "siphon/sip_scan.h"

static struct sip_endpoint ep(const char *ip, uint16_t port)
{
	struct sip_endpoint e = { .port = port };

	e.ip.family = strchr(ip, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(e.ip.family, ip, e.ip.addr), 1);
	return e;
}

static const struct probe_id ID = { 0x2a, 1, 7 };

static const char PROBE_V4[] =
	"OPTIONS sip:198.51.100.21:5060 SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 198.51.100.2:5060;branch=z9hG4bK-sph-0000002a-00000001-00000007;oc;oc-algo=\"loss\"\r\n"
	"Max-Forwards: 70\r\n"
	"From: <sip:siphon@198.51.100.2>;tag=sph-0000002a\r\n"
	"To: <sip:198.51.100.21:5060>\r\n"
	"Call-ID: sph-0000002a-00000001-00000007\r\n"
	"CSeq: 7 OPTIONS\r\n"
	"Content-Length: 0\r\n"
	"\r\n";

static void probe_v4(void **state)
{
	struct sip_endpoint c = ep("198.51.100.2", 5060), n = ep("198.51.100.21", 5060);
	uint8_t out[PROBE_MAX_BYTES];
	struct sip_msg msg;
	size_t len = 0;

	(void)state;
	assert_int_equal(probe_build(&c, &n, &ID, out, sizeof(out), &len), 0);
	assert_int_equal(len, strlen(PROBE_V4));
	assert_memory_equal(out, PROBE_V4, len);
	assert_int_equal(sip_scan(out, len, NULL, NULL, &msg), SIP_VERDICT_FORWARD);
	assert_int_equal(msg.reason, SIP_REASON_OK);
	assert_true(msg.is_request);
	assert_int_equal(msg.method, SIP_METHOD_OPTIONS);
	assert_int_equal(msg.max_forwards, 70);
	assert_int_equal(msg.cseq, 7);
	assert_int_equal(msg.via.branch.len, PROBE_BRANCH_LEN);
	assert_memory_equal(out + msg.via.branch.off, "z9hG4bK-sph-0000002a-00000001-00000007",
			    PROBE_BRANCH_LEN);
	assert_int_equal(msg.call_id.len, PROBE_CALLID_LEN);
	/* every cap below the length is refused, the exact one is enough */
	for (size_t cap = 0; cap < len; cap++)
		assert_int_equal(probe_build(&c, &n, &ID, out, cap, &len), -ENOSPC);
	assert_int_equal(probe_build(&c, &n, &ID, out, len, &len), 0);
}

static void probe_v6(void **state)
{
	static const char want[] =
		"OPTIONS sip:[2001:db8:10::21]:5080 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP [2001:db8:10::2]:5062;branch=z9hG4bK-sph-deadbeef-00010002-80000001;oc;oc-algo=\"loss\"\r\n"
		"Max-Forwards: 70\r\n"
		"From: <sip:siphon@[2001:db8:10::2]>;tag=sph-deadbeef\r\n"
		"To: <sip:[2001:db8:10::21]:5080>\r\n"
		"Call-ID: sph-deadbeef-00010002-80000001\r\n"
		"CSeq: 1 OPTIONS\r\n"
		"Content-Length: 0\r\n"
		"\r\n";
	struct sip_endpoint c = ep("2001:db8:10::2", 5062), n = ep("2001:db8:10::21", 5080);
	struct probe_id id = { 0xdeadbeef, 0x00010002, 0x80000001 };
	uint8_t out[PROBE_MAX_BYTES];
	struct sip_msg msg;
	size_t len = 0;

	(void)state;
	assert_int_equal(probe_build(&c, &n, &id, out, sizeof(out), &len), 0);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(out, want, len);
	assert_int_equal(sip_scan(out, len, NULL, NULL, &msg), SIP_VERDICT_FORWARD);
	assert_int_equal(msg.via.host.len, strlen("[2001:db8:10::2]"));
	assert_memory_equal(out + msg.via.host.off, "[2001:db8:10::2]", msg.via.host.len);
	c.ip.family = 0;
	assert_int_equal(probe_build(&c, &n, &id, out, sizeof(out), &len), -EINVAL);
}

/* the answer a node gives to PROBE_V4, with headers in between */
static size_t answer_to(char *buf, size_t cap, const char *status, const char *via_extra,
			const char *more_headers)
{
	int n = snprintf(buf, cap,
			 "SIP/2.0 %s\r\n"
			 "Via: SIP/2.0/UDP 198.51.100.2:5060;branch=z9hG4bK-sph-0000002a-00000001-00000007%s\r\n"
			 "From: <sip:siphon@198.51.100.2>;tag=sph-0000002a\r\n"
			 "To: <sip:198.51.100.21:5060>;tag=n1\r\n"
			 "Call-ID: sph-0000002a-00000001-00000007\r\n"
			 "CSeq: 7 OPTIONS\r\n"
			 "%s"
			 "Content-Length: 0\r\n\r\n",
			 status, via_extra, more_headers);
	assert_true(n > 0 && (size_t)n < cap);
	return (size_t)n;
}

static void parse(const char *status, const char *via_extra, const char *more,
		  struct probe_answer *a, int want)
{
	char buf[1024];
	size_t len = answer_to(buf, sizeof(buf), status, via_extra, more);

	assert_int_equal(probe_answer_parse((const uint8_t *)buf, len, a), want);
}

static void answer_good(void **state)
{
	struct probe_answer a;

	(void)state;
	parse("200 OK", ";oc=20;oc-algo=\"loss\";received=198.51.100.2", "", &a, 0);
	assert_int_equal(a.status, PROBE_STATUS_OK);
	assert_int_equal(a.id.instance, 0x2a);
	assert_int_equal(a.id.node, 1);
	assert_int_equal(a.id.seq, 7);
	assert_int_equal(a.result.kind, HEALTH_RESULT_REPLY);
	assert_int_equal(a.result.code, 200);
	assert_int_equal(a.result.oc, 20);
	assert_int_equal(a.result.retry_after_s, 0);
	assert_false(a.result.bad_retry_after);
	parse("404 Not Here", "", "", &a, 0);
	assert_int_equal(a.result.code, 404);
	assert_int_equal(a.result.oc, HEALTH_OC_ABSENT);
}

static void answer_retry_after(void **state)
{
	struct probe_answer a;

	(void)state;
	parse("503 Busy", "", "Retry-After: 30\r\n", &a, 0);
	assert_int_equal(a.result.code, 503);
	assert_int_equal(a.result.retry_after_s, 30);
	assert_false(a.result.bad_retry_after);
	parse("503 Busy", "", "retry-after:  18000 (lunch) ;duration=3600\r\n", &a, 0);
	assert_int_equal(a.result.retry_after_s, 18000);
	parse("503 Busy", "", "Retry-After: 4294967295\r\n", &a, 0);
	assert_int_equal(a.result.retry_after_s, 4294967295u);
	static const char *const bad[] = {
		"Retry-After: soon\r\n", "Retry-After: 4294967296\r\n", "Retry-After: 12345678901\r\n",
		"Retry-After: 5 (open\r\n", "Retry-After: 5 x\r\n", "Retry-After: -5\r\n",
		"Retry-After:\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		parse("503 Busy", "", bad[i], &a, 0);
		assert_int_equal(a.result.retry_after_s, 0);
		assert_true(a.result.bad_retry_after);
	}
	/* the first of two counts */
	parse("503 Busy", "", "Retry-After: 7\r\nRetry-After: 9\r\n", &a, 0);
	assert_int_equal(a.result.retry_after_s, 7);
}

static void answer_oc(void **state)
{
	static const struct {
		const char *via;
		int16_t oc;
	} cases[] = {
		{ ";oc=0", 0 },
		{ ";oc=100", 100 },
		{ ";OC = 5 ;oc-seq=1", 5 },
		{ ";x=\"a;oc=9\";oc=12", 12 },
		{ ";oc", HEALTH_OC_ABSENT },
		{ ";oca=5", HEALTH_OC_ABSENT },
		{ ";oc=101", HEALTH_OC_INVALID },
		{ ";oc=abc", HEALTH_OC_INVALID },
		{ ";oc=", HEALTH_OC_INVALID },
		{ ";oc=0100", HEALTH_OC_INVALID },
		{ ";oc=-1", HEALTH_OC_INVALID },
	};
	struct probe_answer a;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		parse("200 OK", cases[i].via, "", &a, 0);
		assert_int_equal(a.result.oc, cases[i].oc);
	}
}

static void answer_refused(void **state)
{
	static const char *const req = "OPTIONS sip:a SIP/2.0\r\n"
				       "Via: SIP/2.0/UDP 198.51.100.2:5060;branch=z9hG4bK-sph-0000002a-00000001-00000007\r\n"
				       "From: <sip:a>;tag=1\r\nTo: <sip:b>\r\n"
				       "Call-ID: sph-0000002a-00000001-00000007\r\nCSeq: 7 OPTIONS\r\n\r\n";
	char buf[1024];
	struct probe_answer a;
	size_t len;

	(void)state;
	assert_int_equal(probe_answer_parse((const uint8_t *)"hello", 5, &a), -EINVAL);
	assert_int_equal(a.status, PROBE_STATUS_NOT_SIP);
	assert_int_equal(probe_answer_parse((const uint8_t *)req, strlen(req), &a), -EINVAL);
	assert_int_equal(a.status, PROBE_STATUS_NOT_RESPONSE);
	len = answer_to(buf, sizeof(buf), "200 OK", "", "");
	memcpy(strstr(buf, "-sph-") + 5, "0000002A", 8); /* upper case: not what we send */
	assert_int_equal(probe_answer_parse((uint8_t *)buf, len, &a), -EINVAL);
	assert_int_equal(a.status, PROBE_STATUS_NOT_OURS);
	len = answer_to(buf, sizeof(buf), "200 OK", "", "");
	memcpy(strstr(buf, "-00000007\r"), "-00000008", 9); /* the Via's, first */
	assert_int_equal(probe_answer_parse((uint8_t *)buf, len, &a), -EINVAL);
	assert_int_equal(a.status, PROBE_STATUS_CALLID);
	len = answer_to(buf, sizeof(buf), "200 OK", "", "");
	memcpy(strstr(buf, "z9hG4bK-sph-"), "z9hG4bK-spx-", 12);
	assert_int_equal(probe_answer_parse((uint8_t *)buf, len, &a), -EINVAL);
	assert_int_equal(a.status, PROBE_STATUS_NOT_OURS);
	len = answer_to(buf, sizeof(buf), "200 OK", "", "");
	memcpy(strstr(buf, "Call-ID: sph-") + 13, "0000002b", 8);
	assert_int_equal(probe_answer_parse((uint8_t *)buf, len, &a), -EINVAL);
	assert_int_equal(a.status, PROBE_STATUS_CALLID);
	len = answer_to(buf, sizeof(buf), "200 OK", "", "");
	memcpy(strstr(buf, "CSeq: 7 ") + 8, "INVITE ", 7);
	assert_int_equal(probe_answer_parse((uint8_t *)buf, len, &a), -EINVAL);
	assert_int_equal(a.status, PROBE_STATUS_NOT_OPTIONS);
	assert_string_equal(probe_status_name(PROBE_STATUS_CALLID), "callid");
	assert_string_equal(probe_status_name(PROBE_STATUS__COUNT), "?");
}

/* a probe answered by answer_options() is matched to the node's probe */
static void round_trip(void **state)
{
	struct sip_endpoint c = ep("198.51.100.2", 5060), node = ep("198.51.100.21", 5060);
	const struct answer_status st = { 200, "OK", 0 };
	uint8_t probe[PROBE_MAX_BYTES], resp[1024];
	struct health_params p;
	struct health_node n;
	struct probe_answer a;
	struct probe_id id = { 0x2a, 3, 0 };
	size_t plen, rlen;

	(void)state;
	health_params_default(&p);
	health_node_init(&n, &p, 100, 0);
	assert_int_equal(health_probe_sent(&n, 0, &id.seq), 0);
	assert_int_equal(probe_build(&c, &node, &id, probe, sizeof(probe), &plen), 0);
	assert_int_equal(answer_options(probe, plen, &c, &st, resp, sizeof(resp), &rlen), 0);
	assert_int_equal(probe_answer_parse(resp, rlen, &a), 0);
	assert_int_equal(a.id.seq, 1);
	assert_true(probe_answer_matches(&a, 0x2a, 3, &n));
	assert_false(probe_answer_matches(&a, 0x2b, 3, &n)); /* an earlier run */
	assert_false(probe_answer_matches(&a, 0x2a, 4, &n));
	assert_int_equal(health_probe_result(&n, 5, &a.result), 0);
	assert_false(probe_answer_matches(&a, 0x2a, 3, &n)); /* answered already */
	assert_int_equal(n.counters[HEALTH_CNT_REPLIES_2XX], 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(probe_v4),
		cmocka_unit_test(probe_v6),
		cmocka_unit_test(answer_good),
		cmocka_unit_test(answer_retry_after),
		cmocka_unit_test(answer_oc),
		cmocka_unit_test(answer_refused),
		cmocka_unit_test(round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
