/* STUN binding success (controlplane/answer/answer_stun.c, docs/answers.md):
 * exact bytes for IPv4 and IPv6 sources, malformed requests refused. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "answer.h"

/* a binding request: no attributes, transaction id b0..bb */
static const uint8_t REQ[20] = {
	0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42,
	0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb,
};

static struct sip_endpoint ep(const char *ip, uint16_t port)
{
	struct sip_endpoint e = { .port = port };

	e.ip.family = strchr(ip, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(e.ip.family, ip, e.ip.addr), 1);
	return e;
}

static void v4(void **state)
{
	static const uint8_t want[32] = {
		0x01, 0x01, 0x00, 0x0c, 0x21, 0x12, 0xa4, 0x42, 0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5,
		0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb, /* XOR-MAPPED-ADDRESS, family 1 */
		0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
	};
	struct sip_endpoint src = ep("192.0.2.1", 32853);
	uint8_t out[STUN_ANSWER_MAX];
	size_t len = 0;

	(void)state;
	assert_int_equal(answer_stun(REQ, sizeof(REQ), &src, out, sizeof(out), &len), 0);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(out, want, sizeof(want));
	assert_int_equal(answer_stun(REQ, sizeof(REQ), &src, out, 31, &len), -ENOSPC);
	assert_int_equal(answer_stun(REQ, sizeof(REQ), &src, out, 32, &len), 0);
}

static void v6(void **state)
{
	static const uint8_t want[44] = {
		0x01, 0x01, 0x00, 0x18, 0x21, 0x12, 0xa4, 0x42, 0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5,
		0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb, /* XOR-MAPPED-ADDRESS, family 2 */
		0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa, 0xa2, 0x85,
		0xe4, 0xcb, 0xb4, 0xa4, 0x94, 0x84, 0xfc, 0xec, 0xdc, 0xcc,
	};
	struct sip_endpoint src = ep("2001:db8:1234:5678:11:2233:4455:6677", 32853);
	uint8_t out[STUN_ANSWER_MAX];
	size_t len = 0;

	(void)state;
	assert_int_equal(answer_stun(REQ, sizeof(REQ), &src, out, sizeof(out), &len), 0);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(out, want, sizeof(want));
	assert_int_equal(answer_stun(REQ, sizeof(REQ), &src, out, 43, &len), -ENOSPC);
}

/* attributes are walked and left alone */
static void with_attributes(void **state)
{
	uint8_t req[40], out[STUN_ANSWER_MAX];
	struct sip_endpoint src = ep("192.0.2.1", 32853);
	size_t len;

	(void)state;
	memcpy(req, REQ, 20);
	req[3] = 20;
	/* SOFTWARE, 5 bytes padded to 8; FINGERPRINT-shaped, 4 bytes */
	memcpy(req + 20, "\x80\x22\x00\x05siphn\0\0\0\x80\x28\x00\x04\x01\x02\x03\x04", 20);
	assert_int_equal(answer_stun(req, sizeof(req), &src, out, sizeof(out), &len), 0);
	assert_int_equal(len, 32);
	assert_memory_equal(out + 8, REQ + 8, 12);
	/* the last attribute says 5 bytes: padded to 8 it runs past the end */
	req[35] = 0x05;
	assert_int_equal(answer_stun(req, sizeof(req), &src, out, sizeof(out), &len), -EINVAL);
	/* a SOFTWARE of 10 bytes padded to 12 fills the message exactly */
	memcpy(req + 20, "\x80\x22\x00\x0a" "siphon-lb\0\0", 16);
	req[3] = 16;
	assert_int_equal(answer_stun(req, 36, &src, out, sizeof(out), &len), 0);
	/* 8 bytes of SOFTWARE, then a header whose 4 bytes of value are missing */
	memcpy(req + 20, "\x80\x22\x00\x08" "siphonlb" "\x80\x28\x00\x04", 16);
	assert_int_equal(answer_stun(req, 36, &src, out, sizeof(out), &len), -EINVAL);
}

static void malformed(void **state)
{
	struct sip_endpoint src = ep("192.0.2.1", 1);
	uint8_t req[24], out[STUN_ANSWER_MAX];
	size_t len;

	(void)state;
	assert_int_equal(answer_stun(REQ, 19, &src, out, sizeof(out), &len), -EINVAL);
	assert_int_equal(answer_stun(REQ, 0, &src, out, sizeof(out), &len), -EINVAL);
	memcpy(req, REQ, 20);
	req[7] = 0x43; /* the cookie */
	assert_int_equal(answer_stun(req, 20, &src, out, sizeof(out), &len), -EINVAL);
	memcpy(req, REQ, 20);
	req[1] = 0x11; /* not a binding request (an indication) */
	assert_int_equal(answer_stun(req, 20, &src, out, sizeof(out), &len), -EINVAL);
	memcpy(req, REQ, 20);
	req[0] = 0x01; /* a binding success, not a request */
	req[1] = 0x01;
	assert_int_equal(answer_stun(req, 20, &src, out, sizeof(out), &len), -EINVAL);
	memcpy(req, REQ, 20);
	memset(req + 20, 0, 4);
	assert_int_equal(answer_stun(req, 24, &src, out, sizeof(out), &len), -EINVAL); /* length 0 */
	req[3] = 4;
	assert_int_equal(answer_stun(req, 24, &src, out, sizeof(out), &len), 0); /* attr 0, length 0 */
	req[3] = 2; /* not a multiple of 4 */
	assert_int_equal(answer_stun(req, 22, &src, out, sizeof(out), &len), -EINVAL);
	src.ip.family = 0;
	assert_int_equal(answer_stun(REQ, 20, &src, out, sizeof(out), &len), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(v4),
		cmocka_unit_test(v6),
		cmocka_unit_test(with_attributes),
		cmocka_unit_test(malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
