/* Captured records of each link type as Ethernet frames (common/link_frame.c):
 * exact bytes out, the statuses, nothing written past the buffer or on a
 * refusal, and the result parses as the same packet (pkt_parse()). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "siphon/link_frame.h"
#include "siphon/packet.h"

static const uint8_t SYN_DST[6] = { 0x02, 0, 0, 0, 0, 0x00 };
static const uint8_t SYN_SRC[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t PEER_MAC[8] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x77, 0x88 }; /* 8: a cooked header holds up to 8 */

/* IPv4 / UDP 192.0.2.7:5062 -> 198.51.100.10:5060, 4 payload bytes "SIP!" */
static const uint8_t IP4[] = {
	0x45, 0, 0, 32, 0, 1, 0, 0, 64, 17, 0, 0, 192, 0, 2, 7, 198, 51, 100, 10,
	0x13, 0xc6, 0x13, 0xc4, 0, 12, 0x12, 0x34, 'S', 'I', 'P', '!',
};
/* IPv6 / UDP 2001:db8::7 -> 2001:db8:10::10, 4 payload bytes */
static const uint8_t IP6[] = {
	0x60, 0, 0, 0, 0, 12, 17, 64,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7,
	0x20, 0x01, 0x0d, 0xb8, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
	0x13, 0xc6, 0x13, 0xc4, 0, 12, 0x12, 0x34, 'S', 'I', 'P', '!',
};

static size_t sll(uint8_t *rec, uint16_t proto, const uint8_t *addr, uint16_t alen,
		  const uint8_t *ip, size_t iplen)
{
	memset(rec, 0, LINK_SLL_HLEN);
	rec[1] = 0;    /* packet type: to us */
	rec[3] = 1;    /* ARPHRD_ETHER */
	rec[5] = (uint8_t)alen;
	memcpy(rec + 6, addr, alen > 8 ? 8 : alen);
	rec[14] = (uint8_t)(proto >> 8), rec[15] = (uint8_t)proto;
	memcpy(rec + LINK_SLL_HLEN, ip, iplen);
	return LINK_SLL_HLEN + iplen;
}

static size_t sll2(uint8_t *rec, uint16_t proto, const uint8_t *addr, uint8_t alen,
		   const uint8_t *ip, size_t iplen)
{
	memset(rec, 0, LINK_SLL2_HLEN);
	rec[0] = (uint8_t)(proto >> 8), rec[1] = (uint8_t)proto;
	rec[7] = 3;    /* ifindex 3 */
	rec[9] = 1;    /* ARPHRD_ETHER */
	rec[10] = 4;   /* outgoing */
	rec[11] = alen;
	memcpy(rec + 12, addr, alen > 8 ? 8 : alen);
	memcpy(rec + LINK_SLL2_HLEN, ip, iplen);
	return LINK_SLL2_HLEN + iplen;
}

/* out must be [dst][src][type][ip] exactly, and nothing after it touched */
static void expect_frame(const uint8_t *out, size_t len, const uint8_t *dst, const uint8_t *src,
			 uint16_t type, const uint8_t *ip, size_t iplen)
{
	assert_int_equal(len, 14 + iplen);
	assert_memory_equal(out, dst, 6);
	assert_memory_equal(out + 6, src, 6);
	assert_int_equal(out[12], type >> 8);
	assert_int_equal(out[13], type & 0xff);
	assert_memory_equal(out + 14, ip, iplen);
	assert_int_equal(out[len], 0xAA); /* the canary after the frame */
}

static void parses_as_udp(const uint8_t *frame, size_t len, int family, uint16_t l4_off)
{
	struct pkt_layout l;

	assert_int_equal(pkt_parse(frame, len, &l), PKT_STATUS_OK);
	assert_int_equal(l.family, family);
	assert_int_equal(l.l4_off, l4_off);
	assert_int_equal(l.payload_len, 4);
	assert_memory_equal(frame + l.payload_off, "SIP!", 4);
}

/* a cooked record through link_frame into out (128 bytes, canaried): an
 * Ethernet frame to SYN_DST from src; its length */
static size_t cooked_frame(uint32_t dlt, const uint8_t *rec, size_t len, uint8_t *out,
			   const uint8_t *src, uint16_t type, const uint8_t *ip, size_t iplen)
{
	size_t n;

	memset(out, 0xAA, 128);
	assert_int_equal(link_frame(dlt, rec, len, out, 128, &n), LINK_FRAME_OK);
	expect_frame(out, n, SYN_DST, src, type, ip, iplen);
	return n;
}

static void ethernet_is_copied(void **state)
{
	uint8_t rec[64], out[128];
	size_t n;

	(void)state;
	memcpy(rec, PEER_MAC, 6);
	memcpy(rec + 6, SYN_SRC, 6);
	rec[12] = 0x08, rec[13] = 0x00;
	memcpy(rec + 14, IP4, sizeof(IP4));
	memset(out, 0xAA, sizeof(out));
	assert_int_equal(link_frame(LINK_DLT_EN10MB, rec, 14 + sizeof(IP4), out, sizeof(out), &n),
			 LINK_FRAME_OK);
	expect_frame(out, n, PEER_MAC, SYN_SRC, 0x0800, IP4, sizeof(IP4));
	assert_int_equal(link_frame_delta(LINK_DLT_EN10MB), 0);
}

static void sll_v4_and_v6(void **state)
{
	uint8_t rec[128], out[128];
	size_t n, len;

	(void)state;
	len = sll(rec, 0x0800, PEER_MAC, 6, IP4, sizeof(IP4));
	n = cooked_frame(LINK_DLT_LINUX_SLL, rec, len, out, PEER_MAC, 0x0800, IP4, sizeof(IP4));
	assert_int_equal(n, len - 2);
	parses_as_udp(out, n, AF_INET, 34);

	len = sll(rec, 0x86DD, PEER_MAC, 6, IP6, sizeof(IP6));
	n = cooked_frame(LINK_DLT_LINUX_SLL, rec, len, out, PEER_MAC, 0x86DD, IP6, sizeof(IP6));
	parses_as_udp(out, n, AF_INET6, 54);
	assert_int_equal(link_frame_delta(LINK_DLT_LINUX_SLL), -2);
}

static void sll2_v4_and_v6(void **state)
{
	uint8_t rec[128], out[128];
	size_t n, len;

	(void)state;
	len = sll2(rec, 0x0800, PEER_MAC, 6, IP4, sizeof(IP4));
	n = cooked_frame(LINK_DLT_LINUX_SLL2, rec, len, out, PEER_MAC, 0x0800, IP4, sizeof(IP4));
	assert_int_equal(n, len - 6);
	parses_as_udp(out, n, AF_INET, 34);

	len = sll2(rec, 0x86DD, PEER_MAC, 6, IP6, sizeof(IP6));
	n = cooked_frame(LINK_DLT_LINUX_SLL2, rec, len, out, PEER_MAC, 0x86DD, IP6, sizeof(IP6));
	parses_as_udp(out, n, AF_INET6, 54);
	assert_int_equal(link_frame_delta(LINK_DLT_LINUX_SLL2), -6);
}

/* an address that is not 6 bytes (loopback: 0; IPoIB: 20) is not a MAC */
static void cooked_without_a_mac(void **state)
{
	uint8_t rec[128], out[128];
	size_t len;

	(void)state;
	len = sll(rec, 0x0800, PEER_MAC, 0, IP4, sizeof(IP4));
	cooked_frame(LINK_DLT_LINUX_SLL, rec, len, out, SYN_SRC, 0x0800, IP4, sizeof(IP4));

	len = sll2(rec, 0x86DD, PEER_MAC, 8, IP6, sizeof(IP6));
	cooked_frame(LINK_DLT_LINUX_SLL2, rec, len, out, SYN_SRC, 0x86DD, IP6, sizeof(IP6));
}

/* libpcap puts a stripped VLAN tag back after the cooked header: protocol
 * 0x8100, TCI, inner protocol. It stays a tag. */
static void cooked_vlan_stays_a_tag(void **state)
{
	uint8_t ip[4 + sizeof(IP4)], rec[128], out[128];
	struct pkt_layout l;
	size_t n, len;

	(void)state;
	ip[0] = 0x00, ip[1] = 100, ip[2] = 0x08, ip[3] = 0x00;
	memcpy(ip + 4, IP4, sizeof(IP4));
	len = sll(rec, 0x8100, PEER_MAC, 6, ip, sizeof(ip));
	assert_int_equal(link_frame(LINK_DLT_LINUX_SLL, rec, len, out, sizeof(out), &n), LINK_FRAME_OK);
	assert_int_equal(out[12], 0x81);
	assert_int_equal(pkt_parse(out, n, &l), PKT_STATUS_OK);
	assert_int_equal(l.vlan_tags, 1);
	assert_int_equal(l.l3_off, 18);
}

static void raw_ip_types(void **state)
{
	static const uint32_t raw[] = { LINK_DLT_RAW, LINK_DLT_RAW_OPENBSD, LINK_DLT_RAW_FILE };
	uint8_t out[128];
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(raw) / sizeof(raw[0]); i++) {
		memset(out, 0xAA, sizeof(out));
		assert_int_equal(link_frame(raw[i], IP4, sizeof(IP4), out, sizeof(out), &n), LINK_FRAME_OK);
		expect_frame(out, n, SYN_DST, SYN_SRC, 0x0800, IP4, sizeof(IP4));
		memset(out, 0xAA, sizeof(out));
		assert_int_equal(link_frame(raw[i], IP6, sizeof(IP6), out, sizeof(out), &n), LINK_FRAME_OK);
		expect_frame(out, n, SYN_DST, SYN_SRC, 0x86DD, IP6, sizeof(IP6));
		assert_int_equal(link_frame_delta(raw[i]), 14);
	}
	memset(out, 0xAA, sizeof(out));
	assert_int_equal(link_frame(LINK_DLT_IPV4, IP4, sizeof(IP4), out, sizeof(out), &n), LINK_FRAME_OK);
	expect_frame(out, n, SYN_DST, SYN_SRC, 0x0800, IP4, sizeof(IP4));
	parses_as_udp(out, n, AF_INET, 34);
	memset(out, 0xAA, sizeof(out));
	assert_int_equal(link_frame(LINK_DLT_IPV6, IP6, sizeof(IP6), out, sizeof(out), &n), LINK_FRAME_OK);
	expect_frame(out, n, SYN_DST, SYN_SRC, 0x86DD, IP6, sizeof(IP6));
	parses_as_udp(out, n, AF_INET6, 54);
}

/* neither 4 nor 6: EtherType 0, and pkt_parse() says not_ip */
static void raw_other_version_is_not_ip(void **state)
{
	uint8_t rec[sizeof(IP4)], out[128];
	struct pkt_layout l;
	size_t n;

	(void)state;
	memcpy(rec, IP4, sizeof(IP4));
	rec[0] = 0x55;
	assert_int_equal(link_frame(LINK_DLT_RAW, rec, sizeof(rec), out, sizeof(out), &n), LINK_FRAME_OK);
	assert_int_equal(out[12], 0);
	assert_int_equal(out[13], 0);
	assert_int_equal(pkt_parse(out, n, &l), PKT_STATUS_NOT_IP);
}

static void refusals_write_nothing(void **state)
{
	uint8_t rec[128], out[128];
	size_t n = 12345, len;

	(void)state;
	memset(out, 0xAA, sizeof(out));
	/* unsupported: 802.11 (105), Linux cooked v3 does not exist, 0 is NULL/loopback */
	assert_int_equal(link_frame(105, IP4, sizeof(IP4), out, sizeof(out), &n), LINK_FRAME_UNSUPPORTED);
	assert_int_equal(link_frame(0, IP4, sizeof(IP4), out, sizeof(out), &n), LINK_FRAME_UNSUPPORTED);
	assert_false(link_frame_supported(105));
	assert_true(link_frame_supported(LINK_DLT_LINUX_SLL2));
	assert_int_equal(link_frame_delta(105), 0);
	/* a record that ends inside its cooked header */
	len = sll(rec, 0x0800, PEER_MAC, 6, IP4, sizeof(IP4));
	assert_int_equal(link_frame(LINK_DLT_LINUX_SLL, rec, LINK_SLL_HLEN - 1, out, sizeof(out), &n),
			 LINK_FRAME_TRUNCATED);
	assert_int_equal(link_frame(LINK_DLT_LINUX_SLL2, rec, LINK_SLL2_HLEN - 1, out, sizeof(out), &n),
			 LINK_FRAME_TRUNCATED);
	assert_int_equal(link_frame(LINK_DLT_RAW, rec, 0, out, sizeof(out), &n), LINK_FRAME_TRUNCATED);
	/* a cooked header alone is an empty frame: 14 bytes, pkt_parse() says truncated */
	assert_int_equal(link_frame(LINK_DLT_LINUX_SLL, rec, LINK_SLL_HLEN, out, sizeof(out), &n),
			 LINK_FRAME_OK);
	assert_int_equal(n, 14);
	memset(out, 0xAA, sizeof(out));
	n = 12345;
	/* no room: one byte short, for every kind */
	assert_int_equal(link_frame(LINK_DLT_LINUX_SLL, rec, len, out, len - 3, &n), LINK_FRAME_NO_ROOM);
	assert_int_equal(link_frame(LINK_DLT_RAW, IP4, sizeof(IP4), out, sizeof(IP4) + 13, &n),
			 LINK_FRAME_NO_ROOM);
	assert_int_equal(link_frame(LINK_DLT_EN10MB, rec, 100, out, 99, &n), LINK_FRAME_NO_ROOM);
	for (size_t i = 0; i < sizeof(out); i++)
		assert_int_equal(out[i], 0xAA);
	assert_int_equal(n, 12345);
	/* exactly enough room */
	assert_int_equal(link_frame(LINK_DLT_LINUX_SLL, rec, len, out, len - 2, &n), LINK_FRAME_OK);
	assert_int_equal(n, len - 2);
	assert_string_equal(link_frame_status_name(LINK_FRAME_NO_ROOM), "no_room");
	assert_string_equal(link_frame_status_name(LINK_FRAME__COUNT), "?");
}

/* out == rec: converted in place, both directions (shorter and longer) */
static void in_place(void **state)
{
	uint8_t buf[128];
	size_t n, len;

	(void)state;
	len = sll2(buf, 0x0800, PEER_MAC, 6, IP4, sizeof(IP4));
	memset(buf + len, 0xAA, sizeof(buf) - len);
	assert_int_equal(link_frame(LINK_DLT_LINUX_SLL2, buf, len, buf, sizeof(buf), &n), LINK_FRAME_OK);
	assert_memory_equal(buf, SYN_DST, 6);
	assert_memory_equal(buf + 6, PEER_MAC, 6);
	assert_memory_equal(buf + 14, IP4, sizeof(IP4));
	assert_int_equal(n, 14 + sizeof(IP4));

	len = sll(buf, 0x86DD, PEER_MAC, 6, IP6, sizeof(IP6));
	assert_int_equal(link_frame(LINK_DLT_LINUX_SLL, buf, len, buf, sizeof(buf), &n), LINK_FRAME_OK);
	assert_memory_equal(buf + 6, PEER_MAC, 6);
	assert_memory_equal(buf + 14, IP6, sizeof(IP6));

	memcpy(buf, IP6, sizeof(IP6));
	memset(buf + sizeof(IP6), 0xAA, sizeof(buf) - sizeof(IP6));
	assert_int_equal(link_frame(LINK_DLT_RAW, buf, sizeof(IP6), buf, sizeof(buf), &n), LINK_FRAME_OK);
	expect_frame(buf, n, SYN_DST, SYN_SRC, 0x86DD, IP6, sizeof(IP6));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ethernet_is_copied),
		cmocka_unit_test(sll_v4_and_v6),
		cmocka_unit_test(sll2_v4_and_v6),
		cmocka_unit_test(cooked_without_a_mac),
		cmocka_unit_test(cooked_vlan_stays_a_tag),
		cmocka_unit_test(raw_ip_types),
		cmocka_unit_test(raw_other_version_is_not_ip),
		cmocka_unit_test(refusals_write_nothing),
		cmocka_unit_test(in_place),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
