/* Finding the UDP payload in Ethernet / VLAN / IPv4 / IPv6 frames. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "siphon/pkt_udp.h"

static uint8_t frame[256];

/* Ethernet + optional VLAN tags; returns the offset of the L3 header. */
static size_t eth(uint16_t type, int vlans)
{
	size_t off = 12;

	memset(frame, 0, sizeof(frame));
	for (int i = 0; i < vlans; i++) {
		frame[off] = i == 0 && vlans == 2 ? 0x88 : 0x81;
		frame[off + 1] = i == 0 && vlans == 2 ? 0xA8 : 0x00;
		off += 4;
	}
	frame[off] = (uint8_t)(type >> 8);
	frame[off + 1] = (uint8_t)type;
	return off + 2;
}

static void udp(size_t off, uint16_t sport, uint16_t dport, uint16_t payload)
{
	uint16_t len = (uint16_t)(8 + payload);
	frame[off] = (uint8_t)(sport >> 8), frame[off + 1] = (uint8_t)sport;
	frame[off + 2] = (uint8_t)(dport >> 8), frame[off + 3] = (uint8_t)dport;
	frame[off + 4] = (uint8_t)(len >> 8), frame[off + 5] = (uint8_t)len;
}

static size_t ipv4(size_t off, uint8_t proto, size_t opt_bytes, uint16_t l4_len, uint16_t frag)
{
	size_t ihl = 20 + opt_bytes;
	uint16_t total = (uint16_t)(ihl + l4_len);
	frame[off] = (uint8_t)(0x40 | (ihl / 4));
	frame[off + 2] = (uint8_t)(total >> 8), frame[off + 3] = (uint8_t)total;
	frame[off + 6] = (uint8_t)(frag >> 8), frame[off + 7] = (uint8_t)frag;
	frame[off + 9] = proto;
	memcpy(frame + off + 12, "\xc0\x00\x02\x07", 4);
	memcpy(frame + off + 16, "\xc6\x33\x64\x0a", 4);
	return off + ihl;
}

static void ipv4_plain_and_with_options(void **state)
{
	struct pkt_udp u;
	size_t l3, l4;

	(void)state;
	l3 = eth(0x0800, 0);
	l4 = ipv4(l3, 17, 0, 8 + 5, 0);
	udp(l4, 5062, 5060, 5);
	assert_int_equal(pkt_udp_from_eth(frame, l4 + 13, &u), PKT_UDP_OK);
	assert_int_equal(u.family, AF_INET);
	assert_int_equal(u.sport, 5062);
	assert_int_equal(u.dport, 5060);
	assert_int_equal(u.payload_off, l4 + 8);
	assert_int_equal(u.payload_len, 5);
	assert_memory_equal(u.src, "\xc0\x00\x02\x07", 4);

	l4 = ipv4(l3, 17, 8, 8 + 5, 0);
	udp(l4, 1, 2, 5);
	assert_int_equal(pkt_udp_from_eth(frame, l4 + 13, &u), PKT_UDP_OK);
	assert_int_equal(u.payload_off, l3 + 28 + 8);
	assert_int_equal(pkt_udp_from_eth(frame, l4 + 12, &u), PKT_UDP_TRUNCATED);
}

static void vlan_tags(void **state)
{
	struct pkt_udp u;

	(void)state;
	for (int vlans = 1; vlans <= 2; vlans++) {
		size_t l3 = eth(0x0800, vlans), l4 = ipv4(l3, 17, 0, 8, 0);
		udp(l4, 1, 5060, 0);
		assert_int_equal(pkt_udp_from_eth(frame, l4 + 8, &u), PKT_UDP_OK);
		assert_int_equal(u.payload_off, 14 + 4 * (size_t)vlans + 20 + 8);
	}
}

static void fragments_and_other_protocols(void **state)
{
	struct pkt_udp u;
	size_t l3 = eth(0x0800, 0), l4;

	(void)state;
	l4 = ipv4(l3, 17, 0, 16, 0x2000); /* MF */
	assert_int_equal(pkt_udp_from_eth(frame, l4 + 16, &u), PKT_UDP_FRAGMENT);
	l4 = ipv4(l3, 17, 0, 16, 0x0001); /* offset 8 */
	assert_int_equal(pkt_udp_from_eth(frame, l4 + 16, &u), PKT_UDP_FRAGMENT);
	l4 = ipv4(l3, 6, 0, 20, 0x4000); /* TCP, DF */
	assert_int_equal(pkt_udp_from_eth(frame, l4 + 20, &u), PKT_UDP_NOT_UDP);
	eth(0x0806, 0); /* ARP */
	assert_int_equal(pkt_udp_from_eth(frame, 42, &u), PKT_UDP_NOT_IP);
	assert_int_equal(pkt_udp_from_eth(frame, 10, &u), PKT_UDP_TRUNCATED);
}

static void ipv6_with_extension_headers(void **state)
{
	struct pkt_udp u;
	size_t l3 = eth(0x86DD, 0), off;

	(void)state;
	frame[l3] = 0x60;
	frame[l3 + 6] = 0; /* hop-by-hop */
	frame[l3 + 8] = 0x20, frame[l3 + 9] = 0x01, frame[l3 + 10] = 0x0d, frame[l3 + 11] = 0xb8;
	off = l3 + 40;
	frame[off] = 60, frame[off + 1] = 0; /* hop-by-hop, 8 bytes, next dest-opts */
	frame[off + 8] = 44, frame[off + 9] = 1; /* dest-opts, 16 bytes, next fragment */
	frame[off + 24] = 17;                    /* fragment header: atomic (offset 0, M 0) */
	udp(off + 32, 5060, 5061, 4);
	frame[l3 + 4] = 0, frame[l3 + 5] = 32 + 8 + 4;
	assert_int_equal(pkt_udp_from_eth(frame, off + 44, &u), PKT_UDP_OK);
	assert_int_equal(u.family, AF_INET6);
	assert_int_equal(u.payload_off, off + 40);
	assert_int_equal(u.payload_len, 4);
	assert_memory_equal(u.src, "\x20\x01\x0d\xb8", 4);
	frame[off + 24 + 3] = 1; /* M flag: a real fragment */
	assert_int_equal(pkt_udp_from_eth(frame, off + 44, &u), PKT_UDP_FRAGMENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ipv4_plain_and_with_options),
		cmocka_unit_test(vlan_tags),
		cmocka_unit_test(fragments_and_other_protocols),
		cmocka_unit_test(ipv6_with_extension_headers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
