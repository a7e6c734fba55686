/* The scanner's recorded fields and its parameters, one behaviour a test. */
#include <ctype.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "siphon/sip_scan.h"

static const char *text;
static struct sip_msg msg;

static enum sip_reason scan_with(const char *t, const struct sip_limits *lim,
				 const struct sip_extra_set *extra)
{
	text = t;
	sip_scan((const uint8_t *)t, strlen(t), lim, extra, &msg);
	return msg.reason;
}

static enum sip_reason scan(const char *t)
{
	return scan_with(t, NULL, NULL);
}

#define assert_span(span, want)                                               \
	do {                                                                      \
		assert_int_equal((span).len, strlen(want));                           \
		assert_memory_equal(text + (span).off, want, strlen(want));           \
	} while (0)

static const char invite[] =
	"INVITE sip:+15551230001@198.51.100.10 SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK-77a1;rport\r\n"
	"Max-Forwards: 70\r\n"
	"From: \"Alice \\\"A\\\"\" <sip:alice@192.0.2.7>;tag=f00d\r\n"
	"To: <sip:+15551230001@198.51.100.10>\r\n"
	"Call-ID: 3848276298220188511@192.0.2.7\r\n"
	"CSeq: 314159 INVITE\r\n"
	"Contact: <sip:alice@192.0.2.7:5062>\r\n"
	"User-Agent: test-ua/1.0\r\n"
	"Content-Length: 4\r\n"
	"\r\n"
	"v=0\n";

static void request_fields(void **state)
{
	(void)state;
	assert_int_equal(scan(invite), SIP_REASON_OK);
	assert_int_equal(msg.verdict, SIP_VERDICT_FORWARD);
	assert_true(msg.is_request);
	assert_int_equal(msg.method, SIP_METHOD_INVITE);
	assert_span(msg.method_name, "INVITE");
	assert_span(msg.ruri, "sip:+15551230001@198.51.100.10");
	assert_span(msg.version, "SIP/2.0");
	assert_span(msg.call_id, "3848276298220188511@192.0.2.7");
	assert_span(msg.via.transport, "UDP");
	assert_span(msg.via.host, "192.0.2.7");
	assert_span(msg.via.port, "5062");
	assert_span(msg.via.branch, "z9hG4bK-77a1");
	assert_span(msg.via.params, ";branch=z9hG4bK-77a1;rport");
	assert_int_equal(msg.via_count, 1);
	assert_span(msg.from.display, "Alice \\\"A\\\"");
	assert_span(msg.from.uri, "sip:alice@192.0.2.7");
	assert_span(msg.from.tag, "f00d");
	assert_span(msg.to.uri, "sip:+15551230001@198.51.100.10");
	assert_int_equal(msg.to.tag.len, 0);
	assert_false(sip_in_dialog(&msg));
	assert_int_equal(msg.cseq, 314159);
	assert_int_equal(msg.cseq_method, SIP_METHOD_INVITE);
	assert_int_equal(msg.max_forwards, 70);
	assert_span(msg.user_agent, "test-ua/1.0");
	assert_true(msg.has_content_length);
	assert_int_equal(msg.content_length, 4);
	assert_int_equal(msg.hdr_len, strlen(invite) - 4);
	assert_int_equal(msg.msg_len, strlen(invite));
}

static void response_fields(void **state)
{
	(void)state;
	assert_int_equal(scan("SIP/2.0 180 Ringing Now\r\n"
			      "v: SIP/2.0/TCP [2001:db8::7]:5070;branch=z9hG4bKx\r\n"
			      "f: <sip:a@example.com>;tag=1\r\n"
			      "t: sip:b@example.com;tag=2\r\n"
			      "i: abc\r\n"
			      "CSeq: 7 INVITE\r\n"
			      "l: 0\r\n\r\n"),
			 SIP_REASON_OK);
	assert_false(msg.is_request);
	assert_int_equal(msg.status, 180);
	assert_span(msg.reason_phrase, "Ringing Now");
	assert_span(msg.via.transport, "TCP");
	assert_span(msg.via.host, "[2001:db8::7]");
	assert_span(msg.via.port, "5070");
	assert_span(msg.to.uri, "sip:b@example.com");
	assert_span(msg.to.tag, "2");
	assert_true(sip_in_dialog(&msg));
	assert_span(msg.call_id, "abc");
}

static void names_any_case_compact_and_spaces(void **state)
{
	(void)state;
	assert_int_equal(scan("OPTIONS sip:198.51.100.10 SIP/2.0\r\n"
			      "VIA   : SIP/2.0/UDP 192.0.2.1\r\n"
			      "fRoM\t: <sip:x@example.com>;TAG=q\r\n"
			      "T:<sip:198.51.100.10>\r\n"
			      "cAlL-iD :\r\n  folded@example.com  \r\n"
			      "cseq: 1 OPTIONS\r\n\r\n"),
			 SIP_REASON_OK);
	assert_span(msg.call_id, "folded@example.com");
	assert_span(msg.from.tag, "q");
	assert_span(msg.via.host, "192.0.2.1");
	assert_int_equal(msg.via.port.len, 0);
}

static void via_values_counted_across_headers(void **state)
{
	(void)state;
	assert_int_equal(scan("BYE sip:b@example.com SIP/2.0\r\n"
			      "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa;x=\"q,uoted\", SIP/2.0/UDP "
			      "192.0.2.2;branch=z9hG4bKb\r\n"
			      "Via: SIP/2.0/UDP\r\n 192.0.2.3;branch=z9hG4bKc\r\n"
			      "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>;tag=2\r\n"
			      "Call-ID: c1\r\nCSeq: 2 BYE\r\n"
			      "Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\r\n"
			      "Route: <sip:p3.example.com;lr>\r\n\r\n"),
			 SIP_REASON_OK);
	assert_int_equal(msg.via_count, 3);
	assert_span(msg.via.branch, "z9hG4bKa");
	assert_span(msg.via.params, ";branch=z9hG4bKa;x=\"q,uoted\"");
	assert_span(msg.route, "<sip:p1.example.com;lr>");
	assert_int_equal(msg.hdr_count[SIP_HDR_ROUTE], 2);
}

static void route_comma_inside_uri(void **state)
{
	(void)state;
	assert_int_equal(scan("ACK sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n"
			      "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>;tag=2\r\n"
			      "Call-ID: c1\r\nCSeq: 1 ACK\r\n"
			      "Route: <sip:a,b@p1.example.com;lr>,<sip:p2.example.com>\r\n\r\n"),
			 SIP_REASON_OK);
	assert_span(msg.route, "<sip:a,b@p1.example.com;lr>");
}

static const char options_tpl[] = "OPTIONS sip:198.51.100.10 SIP/2.0\r\n"
				  "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n"
				  "Via: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bK2\r\n"
				  "From: <sip:ping@192.0.2.1>;tag=9\r\n"
				  "To: <sip:198.51.100.10>\r\n"
				  "Call-ID: opt-1\r\n"
				  "CSeq: 10 OPTIONS\r\n"
				  "m: <sip:ping@192.0.2.1>\r\n"
				  "X-Carrier:  gold \r\n"
				  "Contact: <sip:other@192.0.2.1>\r\n"
				  "Content-Length: 0\r\n\r\n";

static void limits_are_parameters(void **state)
{
	struct sip_limits lim = SIP_LIMITS_DEFAULT;

	(void)state;
	assert_int_equal(scan_with(options_tpl, &lim, NULL), SIP_REASON_OK);
	lim.max_msg_bytes = (uint32_t)strlen(options_tpl) - 1;
	assert_int_equal(scan_with(options_tpl, &lim, NULL), SIP_REASON_TOO_BIG);
	lim.max_msg_bytes = (uint32_t)strlen(options_tpl);
	assert_int_equal(scan_with(options_tpl, &lim, NULL), SIP_REASON_OK);
	lim.max_vias = 1;
	assert_int_equal(scan_with(options_tpl, &lim, NULL), SIP_REASON_TOO_MANY_VIAS);
	lim.max_vias = 2;
	assert_int_equal(scan_with(options_tpl, &lim, NULL), SIP_REASON_OK);
}

static void extra_headers(void **state)
{
	struct sip_extra_set set = { 0 };

	(void)state;
	assert_int_equal(sip_extra_add(&set, "Contact"), 0);
	assert_int_equal(sip_extra_add(&set, "x-carrier"), 1);
	assert_int_equal(sip_extra_add(&set, "s"), 2); /* Subject by compact name */
	assert_int_equal(sip_extra_add(&set, "m"), -EEXIST);
	assert_int_equal(sip_extra_add(&set, "Bad Name"), -EINVAL);
	assert_int_equal(sip_extra_add(&set, ""), -EINVAL);
	assert_int_equal(scan_with(options_tpl, NULL, &set), SIP_REASON_OK);
	assert_int_equal(msg.extra_count[0], 2);
	assert_span(msg.extra[0], "<sip:ping@192.0.2.1>");
	assert_int_equal(msg.extra_count[1], 1);
	assert_span(msg.extra[1], "gold");
	assert_int_equal(msg.extra_count[2], 0);
}

static void extra_set_is_bounded(void **state)
{
	struct sip_extra_set set = { 0 };
	char name[80];

	(void)state;
	for (int i = 0; i < SIP_EXTRA_MAX; i++) {
		snprintf(name, sizeof(name), "X-H%d", i);
		assert_int_equal(sip_extra_add(&set, name), i);
	}
	assert_int_equal(sip_extra_add(&set, "X-One-Too-Many"), -ENOSPC);
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	assert_int_equal(sip_extra_add(&set, name), -EINVAL);
}

/* The per-line lookup agrees with sip_headers.def in every letter case. */
static void parsed_header_lookup_matches_def(void **state)
{
	char name[32];

	(void)state;
	for (unsigned id = 0; id < SIP_HDR__COUNT; id++) {
		int want = id < SIP_HDR_PARSED_COUNT ? (int)id : -1;
		const char *n = sip_header_name(id);
		size_t len = strlen(n);
		for (int variant = 0; variant < 3; variant++) {
			for (size_t i = 0; i <= len; i++)
				name[i] = variant == 0 ? n[i] : variant == 1 ? (char)tolower(n[i]) : (char)toupper(n[i]);
			assert_int_equal(sip_parsed_header_lookup((const uint8_t *)name, (unsigned)len), want);
		}
		if (sip_header_compact(id)) {
			name[0] = sip_header_compact(id);
			assert_int_equal(sip_parsed_header_lookup((const uint8_t *)name, 1), want);
			name[0] = (char)toupper(name[0]);
			assert_int_equal(sip_parsed_header_lookup((const uint8_t *)name, 1), want);
		}
	}
	assert_int_equal(sip_parsed_header_lookup((const uint8_t *)"Call_ID", 7), -1);
	assert_int_equal(sip_parsed_header_lookup((const uint8_t *)"Call-IDs", 8), -1);
	assert_int_equal(sip_parsed_header_lookup((const uint8_t *)"Call-Info", 9), -1);
}

static void unknown_method_forwarded(void **state)
{
	(void)state;
	assert_int_equal(scan("FOO.bar sip:x@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n"
			      "From: <sip:a@example.com>;tag=1\r\nTo: <sip:x@example.com>\r\n"
			      "Call-ID: u\r\nCSeq: 1 FOO.bar\r\nMax-Forwards: 99999999999\r\n\r\n"),
			 SIP_REASON_OK);
	assert_int_equal(msg.method, SIP_METHOD_OTHER);
	assert_int_equal(msg.max_forwards, -1);
	assert_int_equal(msg.msg_len, strlen(text));
}

/* The first rule that applies wins (docs/scanner.md). */
static void rule_precedence(void **state)
{
	struct sip_limits tiny = { 50, 70 };

	(void)state;
	/* no Call-ID (rule 3) before a bad Content-Length (rule 4) */
	assert_int_equal(scan("BYE sip:x SIP/2.0\r\nContent-Length: -1\r\n\r\n"),
			 SIP_REASON_CALLID_MISSING);
	/* framing (rule 4) before size (rule 5) before sanity (rule 6) */
	assert_int_equal(scan_with("BYE sip:x SIP/2.0\r\ni: a\r\nl: 1\r\n\r\n", &tiny, NULL),
			 SIP_REASON_CLEN_TOO_LARGE);
	assert_int_equal(scan_with("BYE sip:x SIP/2.0\r\ni: a\r\nl: 30\r\n\r\n"
				   "012345678901234567890123456789",
				   &tiny, NULL),
			 SIP_REASON_TOO_BIG);
	assert_int_equal(scan("BYE sip:x SIP/2.0\r\ni: a\r\n\r\n"), SIP_REASON_NO_VIA);
	/* an empty Via is no Via (found by the fuzzer) */
	assert_int_equal(scan("BYE sip:x SIP/2.0\r\nVia:\r\nv: ,\r\nf: <sip:a@b>\r\nt: <sip:x>\r\n"
			      "i: a\r\nCSeq: 1 BYE\r\n\r\n"),
			 SIP_REASON_NO_VIA);
	/* the top Via is the first value, after empty ones */
	assert_int_equal(scan("BYE sip:x SIP/2.0\r\nVia:\r\nv: , SIP/2.0/UDP h2;branch=z9hG4bK2, x\r\n"
			      "f: <sip:a@b>\r\nt: <sip:x>\r\ni: a\r\nCSeq: 1 BYE\r\n\r\n"),
			 SIP_REASON_OK);
	assert_int_equal(msg.via_count, 2);
	assert_span(msg.via.host, "h2");
	/* the first bad line decides */
	assert_int_equal(scan("BYE sip:x SIP/2.0\r\nno colon\r\nbad\rline\r\n\r\n"),
			 SIP_REASON_BAD_HEADER_LINE);
}

static void framing(void **state)
{
	static const char head[] = "MESSAGE sip:x@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n"
				   "From: <sip:a@example.com>;tag=1\r\nTo: <sip:x@example.com>\r\n"
				   "Call-ID: m\r\nCSeq: 1 MESSAGE\r\n";
	char buf[512];

	(void)state;
	snprintf(buf, sizeof(buf), "%sContent-Length: 3\r\n\r\nhello", head);
	assert_int_equal(scan(buf), SIP_REASON_OK);
	assert_int_equal(msg.msg_len, strlen(buf) - 2);
	snprintf(buf, sizeof(buf), "%s\r\nhello", head);
	assert_int_equal(scan(buf), SIP_REASON_OK);
	assert_int_equal(msg.msg_len, strlen(buf));
	assert_false(msg.has_content_length);
	snprintf(buf, sizeof(buf), "%sContent-Length: 6\r\n\r\nhello", head);
	assert_int_equal(scan(buf), SIP_REASON_CLEN_TOO_LARGE);
	snprintf(buf, sizeof(buf), "%sContent-Length: 0123456789\r\n\r\nhello", head);
	assert_int_equal(scan(buf), SIP_REASON_CLEN_INVALID);
	snprintf(buf, sizeof(buf), "%sContent-Length: 5\r\nl: 5\r\n\r\nhello", head);
	assert_int_equal(scan(buf), SIP_REASON_CLEN_REPEATED);
}

static void line_endings(void **state)
{
	(void)state;
	assert_int_equal(scan("BYE sip:x SIP/2.0\nVia: SIP/2.0/UDP h\nFrom: <sip:a@e>;tag=1\n"
			      "To: <sip:x@e>\ni: lf-only\nCSeq: 3 BYE\n\n"),
			 SIP_REASON_OK);
	assert_int_equal(msg.hdr_len, strlen(text));
	assert_int_equal(scan("BYE sip:x SIP/2.0\r\nVia: SIP/2.0/UDP h\rX: y\r\n\r\n"),
			 SIP_REASON_BAD_LINE_END);
	assert_int_equal(scan("BYE sip:x SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n"),
			 SIP_REASON_NO_HEADER_END);
	assert_int_equal(scan("BYE sip:x SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n\r"),
			 SIP_REASON_NO_HEADER_END);
	assert_int_equal(scan("BYE sip:x SIP/2.0\r\n folded-first: x\r\n\r\n"),
			 SIP_REASON_BAD_HEADER_LINE);
}

static void start_lines(void **state)
{
	(void)state;
	assert_int_equal(scan("SIP/2.0 99 Low\r\n\r\n"), SIP_REASON_BAD_START_LINE);
	assert_int_equal(scan("SIP/2.0 700 High\r\n\r\n"), SIP_REASON_BAD_START_LINE);
	assert_int_equal(scan("SIP/2.0 2000 Long\r\n\r\n"), SIP_REASON_BAD_START_LINE);
	assert_int_equal(scan("SIP/3.0 200 OK\r\n\r\n"), SIP_REASON_BAD_VERSION);
	assert_int_equal(scan("sip/2.0 200\r\n\r\n"), SIP_REASON_CALLID_MISSING);
	assert_int_equal(scan("INVITE sip:x SIP/2.1\r\n\r\n"), SIP_REASON_BAD_VERSION);
	assert_int_equal(scan("INVITE sip:x SIP/2.0x\r\n\r\n"), SIP_REASON_BAD_START_LINE);
	assert_int_equal(scan("INVITE <sip:x> SIP/2.0\r\n\r\n"), SIP_REASON_BAD_START_LINE);
	assert_int_equal(scan("INVITE  sip:x SIP/2.0\r\n\r\n"), SIP_REASON_BAD_START_LINE);
	assert_int_equal(scan("INVITE sip:x SIP/2.0 \r\n\r\n"), SIP_REASON_BAD_START_LINE);
	assert_int_equal(scan("INVITE 1sip:x SIP/2.0\r\n\r\n"), SIP_REASON_BAD_START_LINE);
	assert_int_equal(scan("INV\x01TE sip:x SIP/2.0\r\n\r\n"), SIP_REASON_BAD_START_LINE);
	assert_int_equal(scan("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"), SIP_REASON_NOT_SIP);
	assert_int_equal(scan("HTTP/1.1 200 OK\r\n\r\n"), SIP_REASON_NOT_SIP);
}

static void not_sip_family(void **state)
{
	static const uint8_t stun[20] = { 0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42,
					  1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
	uint8_t bad[20];

	(void)state;
	sip_scan(stun, 0, NULL, NULL, &msg);
	assert_int_equal(msg.reason, SIP_REASON_EMPTY);
	sip_scan(stun, sizeof(stun), NULL, NULL, &msg);
	assert_int_equal(msg.reason, SIP_REASON_STUN_BINDING);
	assert_int_equal(msg.verdict, SIP_VERDICT_PUNT);
	memcpy(bad, stun, sizeof(bad));
	bad[3] = 4; /* says 4 attribute bytes, has none */
	sip_scan(bad, sizeof(bad), NULL, NULL, &msg);
	assert_int_equal(msg.reason, SIP_REASON_NOT_SIP);
	memcpy(bad, stun, sizeof(bad));
	bad[4] = 0; /* no magic cookie */
	sip_scan(bad, sizeof(bad), NULL, NULL, &msg);
	assert_int_equal(msg.reason, SIP_REASON_NOT_SIP);
	assert_int_equal(scan("\r\n\r\n"), SIP_REASON_KEEPALIVE);
	assert_int_equal(scan("\r\n"), SIP_REASON_KEEPALIVE);
	assert_int_equal(scan(" \t"), SIP_REASON_KEEPALIVE);
}

static void input_above_udp_max(void **state)
{
	static uint8_t big[SIP_SCAN_MAX_INPUT + 1];

	(void)state;
	memset(big, 'A', sizeof(big));
	sip_scan(big, sizeof(big), NULL, NULL, &msg);
	assert_int_equal(msg.reason, SIP_REASON_TOO_BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(request_fields),
		cmocka_unit_test(response_fields),
		cmocka_unit_test(names_any_case_compact_and_spaces),
		cmocka_unit_test(via_values_counted_across_headers),
		cmocka_unit_test(route_comma_inside_uri),
		cmocka_unit_test(limits_are_parameters),
		cmocka_unit_test(extra_headers),
		cmocka_unit_test(extra_set_is_bounded),
		cmocka_unit_test(parsed_header_lookup_matches_def),
		cmocka_unit_test(unknown_method_forwarded),
		cmocka_unit_test(rule_precedence),
		cmocka_unit_test(framing),
		cmocka_unit_test(line_endings),
		cmocka_unit_test(start_lines),
		cmocka_unit_test(not_sip_family),
		cmocka_unit_test(input_above_udp_max),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
