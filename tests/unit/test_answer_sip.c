/* SIP answers to punted requests (controlplane/answer/answer_sip.c,
 * docs/answers.md): exact bytes out for bytes in, each scanned back. */
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
#include "siphon/sip_scan.h"

static struct sip_endpoint ep(const char *ip, uint16_t port)
{
	struct sip_endpoint e = { .port = port };

	e.ip.family = strchr(ip, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(e.ip.family, ip, e.ip.addr), 1);
	return e;
}

static const struct answer_status OK200 = { 200, "OK", 0 };

/* want with "@TAG@" standing for answer_to_tag() of the request */
static void expect_answer(const char *req, const struct sip_endpoint *src,
			  const struct answer_status *st, const char *want)
{
	uint8_t out[2048];
	char expected[2048], tag[17];
	struct sip_msg in, msg;
	const char *at;
	size_t len = 0;

	assert_int_equal(sip_scan((const uint8_t *)req, strlen(req), NULL, NULL, &in),
			 SIP_VERDICT_FORWARD);
	answer_to_tag((const uint8_t *)req + in.call_id.off, in.call_id.len,
		      (const uint8_t *)req + in.from.tag.off, in.from.tag.len, tag);
	at = strstr(want, "@TAG@");
	if (at)
		snprintf(expected, sizeof(expected), "%.*s%s%s", (int)(at - want), want, tag, at + 5);
	else
		snprintf(expected, sizeof(expected), "%s", want);

	assert_int_equal(answer_request((const uint8_t *)req, strlen(req), src, st, out,
					sizeof(out), &len), 0);
	out[len] = '\0';
	assert_string_equal((char *)out, expected);
	/* it scans as a response with the request's Call-ID, CSeq and Vias */
	assert_int_equal(sip_scan(out, len, NULL, NULL, &msg), SIP_VERDICT_FORWARD);
	assert_false(msg.is_request);
	assert_int_equal(msg.status, st->code);
	assert_int_equal(msg.call_id.len, in.call_id.len);
	assert_memory_equal(out + msg.call_id.off, req + in.call_id.off, in.call_id.len);
	assert_int_equal(msg.cseq, in.cseq);
	assert_int_equal(msg.via_count, in.via_count);
	assert_int_equal(msg.to.tag.len, in.to.tag.len ? in.to.tag.len : (st->code == 100 ? 0 : 16));
	/* every smaller buffer is refused */
	for (size_t cap = 0; cap < len; cap++)
		assert_int_equal(answer_request((const uint8_t *)req, strlen(req), src, st, out,
						cap, &len), -ENOSPC);
}

/* several Via headers (one with two values), compact forms, To without tag */
static void compact_forms_and_vias(void **state)
{
	const char *req = "OPTIONS sip:198.51.100.10 SIP/2.0\r\n"
			  "v: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-a1\r\n"
			  "Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bK-p2, SIP/2.0/TCP 192.0.2.99:5070;branch=z9hG4bK-p3\r\n"
			  "Max-Forwards: 70\r\n"
			  "f: \"Alice\" <sip:alice@example.com>;tag=1928301774\r\n"
			  "t: <sip:198.51.100.10>\r\n"
			  "i: a84b4c76e66710@pc33.example.com\r\n"
			  "CSeq: 63104 OPTIONS\r\n"
			  "l: 0\r\n"
			  "\r\n";
	struct sip_endpoint src = ep("192.0.2.10", 5060);

	(void)state;
	expect_answer(req, &src, &OK200,
		      "SIP/2.0 200 OK\r\n"
		      "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-a1\r\n"
		      "Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bK-p2, SIP/2.0/TCP 192.0.2.99:5070;branch=z9hG4bK-p3\r\n"
		      "From: \"Alice\" <sip:alice@example.com>;tag=1928301774\r\n"
		      "To: <sip:198.51.100.10>;tag=@TAG@\r\n"
		      "Call-ID: a84b4c76e66710@pc33.example.com\r\n"
		      "CSeq: 63104 OPTIONS\r\n"
		      "Content-Length: 0\r\n"
		      "\r\n");
	/* answer_options takes it too */
	{
		uint8_t out[1024];
		size_t len;
		assert_int_equal(answer_options((const uint8_t *)req, strlen(req), &src, &OK200, out,
						sizeof(out), &len), 0);
	}
}

/* the tag is a function of Call-ID and From tag: pinned */
static void to_tag_stable(void **state)
{
	char a[17], b[17], c[17];

	(void)state;
	answer_to_tag((const uint8_t *)"c1@h", 4, (const uint8_t *)"x", 1, a);
	answer_to_tag((const uint8_t *)"c1@h", 4, (const uint8_t *)"x", 1, b);
	answer_to_tag((const uint8_t *)"c1@h", 4, (const uint8_t *)"y", 1, c);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_int_equal(strlen(a), 16);
	assert_int_equal(strspn(a, "0123456789abcdef"), 16);
}

/* a source other than sent-by, an empty rport, a To with a tag, two values in the top header */
static void received_rport(void **state)
{
	const char *req = "OPTIONS sip:lb.example.com SIP/2.0\r\n"
			  "Via: SIP/2.0/UDP 10.0.0.5:5060;rport;branch=z9hG4bK-x1 , SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-x0\r\n"
			  "From: <sip:bob@example.com>;tag=b1\r\n"
			  "To: <sip:lb.example.com>;tag=already\r\n"
			  "Call-ID: c2@h\r\n"
			  "CSeq: 2 OPTIONS\r\n"
			  "\r\n";
	struct sip_endpoint src = ep("203.0.113.7", 40000);

	(void)state;
	expect_answer(req, &src, &OK200,
		      "SIP/2.0 200 OK\r\n"
		      "Via: SIP/2.0/UDP 10.0.0.5:5060;rport=40000;branch=z9hG4bK-x1;received=203.0.113.7 , SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-x0\r\n"
		      "From: <sip:bob@example.com>;tag=b1\r\n"
		      "To: <sip:lb.example.com>;tag=already\r\n"
		      "Call-ID: c2@h\r\n"
		      "CSeq: 2 OPTIONS\r\n"
		      "Content-Length: 0\r\n"
		      "\r\n");
}

static void via_variants(void **state)
{
	static const struct {
		const char *via, *src, *want;
		uint16_t port;
	} cases[] = {
		/* RFC 3581: an empty rport asks for received even from the sent-by host;
		 * a received the sender wrote is replaced */
		{ "SIP/2.0/UDP 192.0.2.10:5060;received=1.1.1.1;rport=;branch=z9hG4bK-r",
		  "192.0.2.10", "SIP/2.0/UDP 192.0.2.10:5060;rport=5061;branch=z9hG4bK-r;received=192.0.2.10", 5061 },
		/* an rport with a value is kept; the same host: nothing added */
		{ "SIP/2.0/UDP 192.0.2.10:5060;rport=1234;branch=z9hG4bK-k",
		  "192.0.2.10", "SIP/2.0/UDP 192.0.2.10:5060;rport=1234;branch=z9hG4bK-k", 5060 },
		/* a host name is never the source */
		{ "SIP/2.0/TCP pc33.example.com;branch=z9hG4bK-n",
		  "192.0.2.10", "SIP/2.0/TCP pc33.example.com;branch=z9hG4bK-n;received=192.0.2.10", 5060 },
		/* IPv6: received without brackets; the same address written otherwise */
		{ "SIP/2.0/UDP [2001:db8::5]:5060;branch=z9hG4bK-6",
		  "2001:db8::9", "SIP/2.0/UDP [2001:db8::5]:5060;branch=z9hG4bK-6;received=2001:db8::9", 5062 },
		{ "SIP/2.0/UDP [2001:DB8:0::5]:5060;branch=z9hG4bK-6",
		  "2001:db8::5", "SIP/2.0/UDP [2001:DB8:0::5]:5060;branch=z9hG4bK-6", 5062 },
		{ "SIP/2.0/UDP [2001:db8::5];rport;branch=z9hG4bK-6",
		  "2001:db8::5", "SIP/2.0/UDP [2001:db8::5];rport=5062;branch=z9hG4bK-6;received=2001:db8::5", 5062 },
		/* an IPv4 sent-by, an IPv6 source */
		{ "SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-m",
		  "2001:db8::5", "SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-m;received=2001:db8::5", 5062 },
		/* a folded top Via, quoted parameter values with ';' inside */
		{ "SIP/2.0/UDP 192.0.2.10\r\n  ;branch=z9hG4bK-f ; x=\"a;b\"",
		  "192.0.2.10", "SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-f;x=\"a;b\"", 5060 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char req[1024], want[1024];
		struct sip_endpoint src = ep(cases[i].src, cases[i].port);

		snprintf(req, sizeof(req),
			 "OPTIONS sip:lb SIP/2.0\r\nVia: %s\r\nFrom: <sip:a@b>;tag=1\r\n"
			 "To: <sip:lb>;tag=2\r\nCall-ID: v%zu\r\nCSeq: 1 OPTIONS\r\n\r\n",
			 cases[i].via, i);
		snprintf(want, sizeof(want),
			 "SIP/2.0 200 OK\r\nVia: %s\r\nFrom: <sip:a@b>;tag=1\r\n"
			 "To: <sip:lb>;tag=2\r\nCall-ID: v%zu\r\nCSeq: 1 OPTIONS\r\n"
			 "Content-Length: 0\r\n\r\n",
			 cases[i].want, i);
		expect_answer(req, &src, &OK200, want);
	}
}

/* Via headers around other headers, one folded, kept in order */
static void via_order_folded(void **state)
{
	const char *req = "OPTIONS sip:lb SIP/2.0\r\n"
			  "Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-1\r\n"
			  "From: <sip:a@b>;tag=1\r\n"
			  "VIA : SIP/2.0/UDP 192.0.2.20\r\n\t;branch=z9hG4bK-2\r\n"
			  "To: sip:lb\r\n"
			  "v:SIP/2.0/UDP 192.0.2.30;branch=z9hG4bK-3\r\n"
			  "Call-ID: o1\r\n"
			  "CSeq: 9 OPTIONS\r\n"
			  "\r\n";
	struct sip_endpoint src = ep("192.0.2.10", 5060);
	const struct answer_status st = { 480, "Temporarily Unavailable", 0 };

	(void)state;
	expect_answer(req, &src, &st,
		      "SIP/2.0 480 Temporarily Unavailable\r\n"
		      "Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-1\r\n"
		      "Via: SIP/2.0/UDP 192.0.2.20  \t;branch=z9hG4bK-2\r\n"
		      "Via: SIP/2.0/UDP 192.0.2.30;branch=z9hG4bK-3\r\n"
		      "From: <sip:a@b>;tag=1\r\n"
		      "To: sip:lb;tag=@TAG@\r\n"
		      "Call-ID: o1\r\n"
		      "CSeq: 9 OPTIONS\r\n"
		      "Content-Length: 0\r\n"
		      "\r\n");
}

static const char INVITE[] = "INVITE sip:+15551234@lb SIP/2.0\r\n"
			     "Via: SIP/2.0/UDP [2001:db8::7]:5060;branch=z9hG4bK-inv\r\n"
			     "From: <sip:a@b>;tag=9\r\n"
			     "To: <sip:+15551234@lb>\r\n"
			     "Call-ID: inv1@b\r\n"
			     "CSeq: 1 INVITE\r\n"
			     "Content-Type: application/sdp\r\n"
			     "Content-Length: 5\r\n"
			     "\r\n"
			     "v=0\r\n";

/* 503 + Retry-After to an initial request when the pool has no live node */
static void no_live_node(void **state)
{
	struct sip_endpoint src = ep("2001:db8::7", 5060);
	const struct answer_status st = { 503, "Service Unavailable", 30 };
	uint8_t out[1024], out2[1024];
	size_t len, len2;
	char buf[1024];

	(void)state;
	expect_answer(INVITE, &src, &st,
		      "SIP/2.0 503 Service Unavailable\r\n"
		      "Via: SIP/2.0/UDP [2001:db8::7]:5060;branch=z9hG4bK-inv\r\n"
		      "From: <sip:a@b>;tag=9\r\n"
		      "To: <sip:+15551234@lb>;tag=@TAG@\r\n"
		      "Call-ID: inv1@b\r\n"
		      "CSeq: 1 INVITE\r\n"
		      "Retry-After: 30\r\n"
		      "Content-Length: 0\r\n"
		      "\r\n");
	assert_int_equal(answer_no_live_node((const uint8_t *)INVITE, strlen(INVITE), &src, 30, out,
					     sizeof(out), &len), 0);
	assert_int_equal(answer_request((const uint8_t *)INVITE, strlen(INVITE), &src, &st, out2,
					sizeof(out2), &len2), 0);
	assert_int_equal(len, len2);
	assert_memory_equal(out, out2, len);
	/* in dialog: not this answer */
	snprintf(buf, sizeof(buf), "INVITE sip:b@lb SIP/2.0\r\nVia: SIP/2.0/UDP [2001:db8::7];branch=z9hG4bK-re\r\n"
		 "From: <sip:a@b>;tag=9\r\nTo: <sip:b@lb>;tag=x\r\nCall-ID: inv1@b\r\nCSeq: 2 INVITE\r\n\r\n");
	assert_int_equal(answer_no_live_node((const uint8_t *)buf, strlen(buf), &src, 30, out,
					     sizeof(out), &len), -EINVAL);
}

static void refused(void **state)
{
	const char *ack = "ACK sip:lb SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-a\r\n"
			  "From: <sip:a@b>;tag=1\r\nTo: <sip:lb>\r\nCall-ID: a1\r\nCSeq: 1 ACK\r\n\r\n";
	const char *resp = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-a\r\n"
			   "From: <sip:a@b>;tag=1\r\nTo: <sip:lb>\r\nCall-ID: a1\r\nCSeq: 1 OPTIONS\r\n\r\n";
	const char *novia = "OPTIONS sip:lb SIP/2.0\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:lb>\r\n"
			    "Call-ID: a1\r\nCSeq: 1 OPTIONS\r\n\r\n";
	struct sip_endpoint src = ep("192.0.2.1", 5060), bad = src;
	char reason[ANSWER_REASON_MAX + 2];
	struct answer_status st = OK200;
	uint8_t out[1024];
	size_t len;

	(void)state;
#define ANSWER(req, st_) answer_request((const uint8_t *)(req), strlen(req), &src, (st_), out, sizeof(out), &len)
	assert_int_equal(ANSWER(ack, &st), -ENOMSG);
	assert_int_equal(answer_no_live_node((const uint8_t *)ack, strlen(ack), &src, 5, out,
					     sizeof(out), &len), -ENOMSG);
	assert_int_equal(ANSWER(resp, &st), -EINVAL);
	assert_int_equal(ANSWER(novia, &st), -EINVAL);
	assert_int_equal(ANSWER("", &st), -EINVAL);
	assert_int_equal(answer_options((const uint8_t *)INVITE, strlen(INVITE), &src, &st, out,
					sizeof(out), &len), -EINVAL);
	st.code = 99;
	assert_int_equal(ANSWER(INVITE, &st), -EINVAL);
	st.code = 700;
	assert_int_equal(ANSWER(INVITE, &st), -EINVAL);
	st.code = 200;
	st.reason = "OK\r\nX: y";
	assert_int_equal(ANSWER(INVITE, &st), -EINVAL);
	memset(reason, 'a', sizeof(reason) - 1);
	reason[sizeof(reason) - 1] = '\0';
	st.reason = reason;
	assert_int_equal(ANSWER(INVITE, &st), -EINVAL);
	reason[ANSWER_REASON_MAX] = '\0'; /* the longest allowed */
	assert_int_equal(ANSWER(INVITE, &st), 0);
	st.reason = NULL; /* an empty phrase */
	assert_int_equal(ANSWER(INVITE, &st), 0);
	assert_memory_equal(out, "SIP/2.0 200 \r\n", 14);
	bad.ip.family = 0;
	assert_int_equal(answer_request((const uint8_t *)INVITE, strlen(INVITE), &bad, &OK200, out,
					sizeof(out), &len), -EINVAL);
#undef ANSWER
}

/* 100 Trying adds no To tag (RFC 3261 8.2.6.2 allows leaving it out) */
static void trying_no_tag(void **state)
{
	struct sip_endpoint src = ep("2001:db8::7", 5060);
	const struct answer_status st = { 100, "Trying", 0 };

	(void)state;
	expect_answer(INVITE, &src, &st,
		      "SIP/2.0 100 Trying\r\n"
		      "Via: SIP/2.0/UDP [2001:db8::7]:5060;branch=z9hG4bK-inv\r\n"
		      "From: <sip:a@b>;tag=9\r\n"
		      "To: <sip:+15551234@lb>\r\n"
		      "Call-ID: inv1@b\r\n"
		      "CSeq: 1 INVITE\r\n"
		      "Content-Length: 0\r\n"
		      "\r\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(compact_forms_and_vias),
		cmocka_unit_test(to_tag_stable),
		cmocka_unit_test(received_rport),
		cmocka_unit_test(via_variants),
		cmocka_unit_test(via_order_folded),
		cmocka_unit_test(no_live_node),
		cmocka_unit_test(refused),
		cmocka_unit_test(trying_no_tag),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
