/* The XDP program (bpf/siphon.bpf.c) under BPF_PROG_TEST_RUN: verdicts,
 * counters, parse parity with pkt_parse(), and XXH64 parity with
 * callid_hash() (docs/xdp.md "Tests").
 *
 * Every frame is built here from the RFC layouts (Ethernet, 802.1Q/802.1ad,
 * RFC 791, 8200, 768, 793). For every frame and every prefix of it, the
 * program's status (read back from the status counter that moved) must be
 * pkt_parse()'s, and its action and reason must be what the XDP mode split
 * gives that status (expect() below). No AF_XDP socket is bound under
 * test-run, so traffic for the AF_XDP lane ends as XDP_PASS, pass_no_xsk.
 *
 * Exits 77 (skipped) when not root or when the bpf() syscall is refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "bpf_test.h"
#include "siphon/packet.h"
#include "siphon/maglev.h"
#include "siphon/siphon_xdp.h"
#include "siphon.skel.h"

#define N_COUNTERS  (PKT_STATUS__COUNT + XDP_REASON__COUNT)
#define SIP_PORT    5060
#define HASH_SEED   0x5eed5eed12345678ULL
#define FRAME_MAX   512
#define ETH_MIN     14 /* test-run refuses shorter frames */

static const uint8_t vip4[4] = {198, 51, 100, 10};
static const uint8_t other4[4] = {198, 51, 100, 99};
static const uint8_t client4[4] = {192, 0, 2, 7};
static const uint8_t vip6[16] = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x10, [15] = 0x10};
static const uint8_t other6[16] = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x10, [15] = 0x99};
static const uint8_t client6[16] = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x05, [15] = 0x07};

static const char *const reason_names[] = {
#define XDP_REASON(id, name, help) [XDP_REASON_##id] = name,
#include "siphon/xdp_reasons.def"
#undef XDP_REASON
};

static struct siphon_bpf *skel;
static int ncpus;
static unsigned long frames_run;

struct frame {
	uint8_t b[FRAME_MAX];
	size_t len;
};

/* ---- frame building ---- */

/* the frames' MACs: to 02:00:00:00:00:01 from 02:00:00:00:00:02 */
static const uint8_t macs[12] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2};

static size_t mk_udp(uint8_t *o, unsigned dport, const void *payload, size_t plen)
{
	put16(o, 5062);
	put16(o + 2, dport);
	put16(o + 4, (unsigned)(8 + plen));
	put16(o + 6, 0x5a5a); /* not verified by either parser; 0 is udp_zero_checksum's case */
	memcpy(o + 8, payload, plen);
	return 8 + plen;
}

static size_t mk_tcp(uint8_t *o, unsigned dport, unsigned doff_words, const void *payload, size_t plen)
{
	size_t hlen = doff_words * 4;

	memset(o, 0, hlen);
	put16(o, 40000);
	put16(o + 2, dport);
	o[12] = (uint8_t)(doff_words << 4);
	o[13] = 0x18; /* PSH ACK */
	put16(o + 14, 65535);
	for (size_t i = 20; i < hlen; i++)
		o[i] = 1; /* NOP options */
	memcpy(o + hlen, payload, plen);
	return hlen + plen;
}

/* IPv4: opt_words 32-bit words of options (NOP), frag the flags/offset field. */
static void mk_v4(struct frame *fr, int vlans, const uint8_t dst[4], unsigned proto,
		  unsigned opt_words, unsigned frag, const uint8_t *l4, size_t l4len)
{
	uint8_t *ip;
	size_t ihl = 20 + opt_words * 4;

	fr->len = put_eth(fr->b, macs, vlans, PKT_ETHERTYPE_IPV4);
	ip = fr->b + fr->len;
	memset(ip, 0, ihl);
	ip[0] = (uint8_t)(0x40 | (ihl / 4));
	put16(ip + 2, (unsigned)(ihl + l4len));
	put16(ip + 4, 0x1234);
	put16(ip + 6, frag);
	ip[8] = 64;
	ip[9] = (uint8_t)proto;
	memcpy(ip + 12, client4, 4);
	memcpy(ip + 16, dst, 4);
	for (size_t i = 20; i < ihl; i++)
		ip[i] = 1;
	memcpy(ip + ihl, l4, l4len);
	fr->len += ihl + l4len;
}

/* IPv6: exts is a prebuilt extension header chain whose first header is nh0
 * (the caller sets each header's next-header byte); last_nh names the L4. */
static void mk_v6(struct frame *fr, int vlans, const uint8_t dst[16], unsigned nh0,
		  const uint8_t *exts, size_t extlen, const uint8_t *l4, size_t l4len)
{
	uint8_t *ip;

	fr->len = put_eth(fr->b, macs, vlans, PKT_ETHERTYPE_IPV6);
	ip = fr->b + fr->len;
	memset(ip, 0, 40);
	ip[0] = 0x60;
	put16(ip + 4, (unsigned)(extlen + l4len));
	ip[6] = (uint8_t)nh0;
	ip[7] = 64;
	memcpy(ip + 8, client6, 16);
	memcpy(ip + 24, dst, 16);
	memcpy(ip + 40, exts, extlen);
	memcpy(ip + 40 + extlen, l4, l4len);
	fr->len += 40 + extlen + l4len;
}

static const char sip[] = "OPTIONS sip:b1@198.51.100.10 SIP/2.0\r\nCall-ID: a84b4c76e66710\r\n\r\n";

/* ---- running the program ---- */

static void read_counters(uint64_t pkts[N_COUNTERS], uint64_t bytes[N_COUNTERS])
{
	int fd = bpf_map__fd(skel->maps.counters);
	struct siphon_xdp_counter *v = calloc((size_t)ncpus, sizeof(*v));

	assert_non_null(v);
	for (uint32_t k = 0; k < N_COUNTERS; k++) {
		pkts[k] = bytes[k] = 0;
		assert_int_equal(bpf_map_lookup_elem(fd, &k, v), 0);
		for (int c = 0; c < ncpus; c++) {
			pkts[k] += v[c].packets;
			bytes[k] += v[c].bytes;
		}
	}
	free(v);
}

static int test_run(struct bpf_program *prog, const uint8_t *f, size_t len)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f, .data_size_in = (uint32_t)len, .repeat = 1);

	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(prog), &o), 0);
	frames_run++;
	return (int)o.retval;
}

struct verdict {
	int action;
	unsigned status;
	unsigned reason;
};

/* Runs siphon_xdp over one frame; the status and reason are read back from
 * the counters, of which exactly one of each must have moved by one. */
static struct verdict run_xdp(const uint8_t *f, size_t len)
{
	uint64_t p0[N_COUNTERS], b0[N_COUNTERS], p1[N_COUNTERS], b1[N_COUNTERS];
	struct verdict v = {.status = ~0u, .reason = ~0u};
	int moved = 0;

	read_counters(p0, b0);
	v.action = test_run(skel->progs.siphon_xdp, f, len);
	read_counters(p1, b1);
	for (unsigned k = 0; k < N_COUNTERS; k++) {
		if (p1[k] == p0[k])
			continue;
		assert_int_equal(p1[k] - p0[k], 1);
		assert_int_equal(b1[k] - b0[k], len);
		moved++;
		if (k < PKT_STATUS__COUNT)
			v.status = k;
		else
			v.reason = k - PKT_STATUS__COUNT;
	}
	assert_int_equal(moved, 2);
	assert_true(v.status < PKT_STATUS__COUNT);
	assert_true(v.reason < XDP_REASON__COUNT);
	return v;
}

/* The XDP mode split for a frame, from pkt_parse() and the frame bytes: the
 * oracle the program is held to. */
static struct verdict expect(const uint8_t *f, size_t len)
{
	struct pkt_layout l;
	struct verdict v = {.action = XDP_PASS};
	unsigned type = 0;
	size_t hdr = 0;
	bool vip = false;

	v.status = pkt_parse(f, len, &l);
	if (l.l3_off) {
		type = (unsigned)f[l.ethertype_off] << 8 | f[l.ethertype_off + 1];
		hdr = type == PKT_ETHERTYPE_IPV4 ? 20 : type == PKT_ETHERTYPE_IPV6 ? 40 : 0;
	}
	if (!hdr || len < l.l3_off + hdr) {
		v.reason = XDP_REASON_PASS_NOT_IP;
		return v;
	}
	if (type == PKT_ETHERTYPE_IPV4)
		vip = memcmp(f + l.l3_off + 16, vip4, 4) == 0;
	else
		vip = memcmp(f + l.l3_off + 24, vip6, 16) == 0;
	if (!vip) {
		v.reason = XDP_REASON_PASS_NOT_FOR_US;
		return v;
	}
	switch (v.status) {
	case PKT_STATUS_OK:
		if ((f[l.l4_off + 2] << 8 | f[l.l4_off + 3]) != SIP_PORT) {
			v.reason = XDP_REASON_PASS_NOT_FOR_US;
			break;
		}
		/* fall through */
	case PKT_STATUS_FRAGMENT:
		v.reason = XDP_REASON_PASS_NO_XSK; /* no socket under test-run */
		break;
	case PKT_STATUS_NOT_UDP_TCP:
		v.reason = XDP_REASON_PASS_NOT_UDP_TCP;
		break;
	case PKT_STATUS_IPV6_ROUTING:
		v.reason = XDP_REASON_PASS_NOT_FOR_US;
		break;
	default:
		v.reason = XDP_REASON_DROP_MALFORMED;
		v.action = XDP_DROP;
		break;
	}
	return v;
}

static void check_same(const char *name, size_t len, struct verdict got, struct verdict want)
{
	if (got.status != want.status || got.reason != want.reason || got.action != want.action)
		fail_msg("%s, %zu bytes: XDP %s/%s/action %d, expected %s/%s/action %d", name, len,
			 pkt_status_name(got.status), reason_names[got.reason], got.action,
			 pkt_status_name(want.status), reason_names[want.reason], want.action);
}

/* A whole frame: the named verdict, then every prefix agrees with the oracle. */
static void check_frame(const char *name, const struct frame *fr, unsigned status, unsigned reason,
			int action)
{
	struct verdict want = {.action = action, .status = status, .reason = reason};
	struct pkt_layout l;

	check_same(name, fr->len, expect(fr->b, fr->len), want);
	check_same(name, fr->len, run_xdp(fr->b, fr->len), want);
	for (size_t n = 0; n < fr->len; n++) {
		if (n < ETH_MIN) {
			assert_int_equal(pkt_parse(fr->b, n, &l), PKT_STATUS_TRUNCATED);
			continue;
		}
		check_same(name, n, run_xdp(fr->b, n), expect(fr->b, n));
	}
}

/* ---- tests ---- */

static void ipv4_vlans_and_options(void **state)
{
	uint8_t l4[FRAME_MAX];
	size_t n = mk_udp(l4, SIP_PORT, sip, sizeof(sip) - 1);
	struct frame fr;

	(void)state;
	for (int vlans = 0; vlans <= 2; vlans++) {
		mk_v4(&fr, vlans, vip4, PKT_PROTO_UDP, 0, 0x4000, l4, n);
		check_frame("v4 udp vip:5060", &fr, PKT_STATUS_OK, XDP_REASON_PASS_NO_XSK, XDP_PASS);
		mk_v4(&fr, vlans, vip4, PKT_PROTO_UDP, 3, 0, l4, n);
		check_frame("v4 options udp vip:5060", &fr, PKT_STATUS_OK, XDP_REASON_PASS_NO_XSK, XDP_PASS);
	}
	/* Ethernet padding after the IP packet is not part of it */
	mk_v4(&fr, 0, vip4, PKT_PROTO_UDP, 0, 0, l4, n);
	memset(fr.b + fr.len, 0, 16);
	fr.len += 16;
	check_frame("v4 padded", &fr, PKT_STATUS_OK, XDP_REASON_PASS_NO_XSK, XDP_PASS);
	/* three tags */
	fr.len = put_eth(fr.b, macs, 2, PKT_ETHERTYPE_VLAN);
	put16(fr.b + fr.len, 7);
	put16(fr.b + fr.len + 2, PKT_ETHERTYPE_IPV4);
	fr.len += 4;
	memset(fr.b + fr.len, 0x45, 40);
	fr.len += 40;
	check_frame("three vlan tags", &fr, PKT_STATUS_VLAN_TOO_DEEP, XDP_REASON_PASS_NOT_IP, XDP_PASS);
}

static void ipv4_not_for_us_and_tcp(void **state)
{
	uint8_t l4[FRAME_MAX];
	size_t n;
	struct frame fr;

	(void)state;
	n = mk_udp(l4, 5080, sip, sizeof(sip) - 1);
	mk_v4(&fr, 0, vip4, PKT_PROTO_UDP, 0, 0, l4, n);
	check_frame("v4 udp vip:5080", &fr, PKT_STATUS_OK, XDP_REASON_PASS_NOT_FOR_US, XDP_PASS);
	n = mk_udp(l4, SIP_PORT, sip, sizeof(sip) - 1);
	mk_v4(&fr, 1, other4, PKT_PROTO_UDP, 0, 0, l4, n);
	check_frame("v4 udp other:5060", &fr, PKT_STATUS_OK, XDP_REASON_PASS_NOT_FOR_US, XDP_PASS);
	n = mk_tcp(l4, SIP_PORT, 8, sip, sizeof(sip) - 1);
	mk_v4(&fr, 0, vip4, PKT_PROTO_TCP, 0, 0x4000, l4, n);
	check_frame("v4 tcp vip:5060", &fr, PKT_STATUS_OK, XDP_REASON_PASS_NO_XSK, XDP_PASS);
	/* ICMP echo to the VIP: the kernel stack answers */
	memset(l4, 0, 16);
	l4[0] = 8;
	mk_v4(&fr, 0, vip4, 1, 0, 0, l4, 16);
	check_frame("v4 icmp vip", &fr, PKT_STATUS_NOT_UDP_TCP, XDP_REASON_PASS_NOT_UDP_TCP, XDP_PASS);
	/* a non-first fragment goes to the AF_XDP lane for reassembly */
	mk_v4(&fr, 0, vip4, PKT_PROTO_UDP, 0, 0x0002 /* offset 16 */, (const uint8_t *)sip, 24);
	check_frame("v4 fragment", &fr, PKT_STATUS_FRAGMENT, XDP_REASON_PASS_NO_XSK, XDP_PASS);
}

static void ipv4_malformed_to_vip(void **state)
{
	uint8_t l4[FRAME_MAX];
	size_t n = mk_udp(l4, SIP_PORT, sip, sizeof(sip) - 1);
	struct frame fr;

	(void)state;
	mk_v4(&fr, 0, vip4, PKT_PROTO_UDP, 0, 0, l4, n);
	put16(fr.b + PKT_ETH_HLEN + 20 + 4, (unsigned)n - 1); /* UDP length */
	check_frame("v4 bad udp length", &fr, PKT_STATUS_BAD_L4_HEADER, XDP_REASON_DROP_MALFORMED, XDP_DROP);
	mk_v4(&fr, 0, vip4, PKT_PROTO_UDP, 0, 0, l4, n);
	fr.b[PKT_ETH_HLEN] = 0x44; /* IHL 4 */
	check_frame("v4 ihl 4", &fr, PKT_STATUS_BAD_IP_HEADER, XDP_REASON_DROP_MALFORMED, XDP_DROP);
	mk_v4(&fr, 0, other4, PKT_PROTO_UDP, 0, 0, l4, n);
	fr.b[PKT_ETH_HLEN] = 0x44;
	check_frame("v4 ihl 4 other", &fr, PKT_STATUS_BAD_IP_HEADER, XDP_REASON_PASS_NOT_FOR_US, XDP_PASS);
	/* a non-last fragment whose data is not a multiple of 8 */
	mk_v4(&fr, 0, vip4, PKT_PROTO_UDP, 0, 0x2000, l4, n);
	check_frame("v4 bad fragment", &fr, PKT_STATUS_BAD_FRAGMENT, XDP_REASON_DROP_MALFORMED, XDP_DROP);
}

static void ipv6_and_extension_headers(void **state)
{
	uint8_t l4[FRAME_MAX], ext[128];
	size_t n = mk_udp(l4, SIP_PORT, sip, sizeof(sip) - 1);
	struct frame fr;

	(void)state;
	mk_v6(&fr, 0, vip6, PKT_PROTO_UDP, NULL, 0, l4, n);
	check_frame("v6 udp vip:5060", &fr, PKT_STATUS_OK, XDP_REASON_PASS_NO_XSK, XDP_PASS);
	mk_v6(&fr, 2, other6, PKT_PROTO_UDP, NULL, 0, l4, n);
	check_frame("v6 udp other:5060", &fr, PKT_STATUS_OK, XDP_REASON_PASS_NOT_FOR_US, XDP_PASS);

	/* hop-by-hop (8) -> dest options (16) -> routing, segments left 0 (8)
	 * -> atomic fragment (8) -> UDP */
	memset(ext, 0, sizeof(ext));
	ext[0] = 60;
	ext[8] = 43, ext[9] = 1;
	ext[24] = 44, ext[25] = 0, ext[26] = 4, ext[27] = 0;
	ext[32] = PKT_PROTO_UDP, put16(ext + 34, 0), ext[39] = 9;
	mk_v6(&fr, 1, vip6, 0, ext, 40, l4, n);
	check_frame("v6 ext chain", &fr, PKT_STATUS_OK, XDP_REASON_PASS_NO_XSK, XDP_PASS);
	/* the same with segments left 1: in transit */
	ext[27] = 1;
	mk_v6(&fr, 0, vip6, 0, ext, 40, l4, n);
	check_frame("v6 routing", &fr, PKT_STATUS_IPV6_ROUTING, XDP_REASON_PASS_NOT_FOR_US, XDP_PASS);
	/* hop-by-hop after dest options */
	memset(ext, 0, sizeof(ext));
	ext[0] = 0;
	ext[8] = PKT_PROTO_UDP;
	mk_v6(&fr, 0, vip6, 60, ext, 16, l4, n);
	check_frame("v6 late hop-by-hop", &fr, PKT_STATUS_BAD_IP_HEADER, XDP_REASON_DROP_MALFORMED, XDP_DROP);
	/* nine dest options headers: one more than the walk */
	memset(ext, 0, sizeof(ext));
	for (int i = 0; i < 9; i++)
		ext[i * 8] = i < 8 ? 60 : PKT_PROTO_UDP;
	mk_v6(&fr, 0, vip6, 60, ext, 72, l4, n);
	check_frame("v6 ext too deep", &fr, PKT_STATUS_IPV6_EXT_TOO_DEEP, XDP_REASON_DROP_MALFORMED, XDP_DROP);
	/* a first fragment: the UDP length is the whole datagram's */
	memset(ext, 0, sizeof(ext));
	ext[0] = PKT_PROTO_UDP, put16(ext + 2, 1), ext[7] = 7;
	put16(l4 + 4, (unsigned)n + 800);
	mk_v6(&fr, 0, vip6, 44, ext, 8, l4, 64);
	check_frame("v6 first fragment", &fr, PKT_STATUS_OK, XDP_REASON_PASS_NO_XSK, XDP_PASS);
	/* TCP */
	n = mk_tcp(l4, SIP_PORT, 5, sip, sizeof(sip) - 1);
	mk_v6(&fr, 0, vip6, PKT_PROTO_TCP, NULL, 0, l4, n);
	check_frame("v6 tcp vip:5060", &fr, PKT_STATUS_OK, XDP_REASON_PASS_NO_XSK, XDP_PASS);
}

/* UDP checksum 0: "none" over IPv4, invalid over IPv6 (RFC 8200), where
 * both lanes drop it to a VIP (counted udp6_zero_checksum, drop_malformed)
 * and pass it when it is not for us, as the pipeline does. */
static void udp_zero_checksum(void **state)
{
	uint8_t l4[FRAME_MAX], ext[16];
	size_t n = mk_udp(l4, SIP_PORT, sip, sizeof(sip) - 1);
	struct frame fr;

	(void)state;
	put16(l4 + 6, 0);
	mk_v4(&fr, 0, vip4, PKT_PROTO_UDP, 0, 0, l4, n);
	check_frame("v4 udp checksum 0", &fr, PKT_STATUS_OK, XDP_REASON_PASS_NO_XSK, XDP_PASS);
	mk_v6(&fr, 0, vip6, PKT_PROTO_UDP, NULL, 0, l4, n);
	check_frame("v6 udp checksum 0", &fr, PKT_STATUS_UDP6_ZERO_CHECKSUM, XDP_REASON_DROP_MALFORMED,
		    XDP_DROP);
	mk_v6(&fr, 1, vip6, PKT_PROTO_UDP, NULL, 0, l4, n);
	check_frame("v6 vlan udp checksum 0", &fr, PKT_STATUS_UDP6_ZERO_CHECKSUM,
		    XDP_REASON_DROP_MALFORMED, XDP_DROP);
	mk_v6(&fr, 0, other6, PKT_PROTO_UDP, NULL, 0, l4, n);
	check_frame("v6 udp checksum 0 other", &fr, PKT_STATUS_UDP6_ZERO_CHECKSUM,
		    XDP_REASON_PASS_NOT_FOR_US, XDP_PASS);
	/* to a VIP address but another port: dropped all the same, as the
	 * pipeline drops every bad L4 header to a VIP address */
	put16(l4 + 2, SIP_PORT + 1);
	mk_v6(&fr, 0, vip6, PKT_PROTO_UDP, NULL, 0, l4, n);
	check_frame("v6 udp checksum 0 other port", &fr, PKT_STATUS_UDP6_ZERO_CHECKSUM,
		    XDP_REASON_DROP_MALFORMED, XDP_DROP);
	put16(l4 + 2, SIP_PORT);
	/* a first fragment carries the checksum: dropped too */
	memset(ext, 0, sizeof(ext));
	ext[0] = PKT_PROTO_UDP, put16(ext + 2, 1), ext[7] = 7;
	put16(l4 + 4, (unsigned)n + 800);
	mk_v6(&fr, 0, vip6, 44, ext, 8, l4, 64);
	check_frame("v6 first fragment checksum 0", &fr, PKT_STATUS_UDP6_ZERO_CHECKSUM,
		    XDP_REASON_DROP_MALFORMED, XDP_DROP);
	/* any other value is not checked (the node verifies it) */
	put16(l4 + 4, (unsigned)n);
	put16(l4 + 6, 0xffff);
	mk_v6(&fr, 0, vip6, PKT_PROTO_UDP, NULL, 0, l4, n);
	check_frame("v6 udp checksum ffff", &fr, PKT_STATUS_OK, XDP_REASON_PASS_NO_XSK, XDP_PASS);
}

static void not_ip(void **state)
{
	struct frame fr;

	(void)state;
	fr.len = put_eth(fr.b, macs, 0, 0x0806);
	memset(fr.b + fr.len, 0, 28);
	put16(fr.b + fr.len, 1);              /* Ethernet */
	put16(fr.b + fr.len + 2, 0x0800);     /* IPv4 */
	fr.b[fr.len + 4] = 6, fr.b[fr.len + 5] = 4;
	put16(fr.b + fr.len + 6, 1);          /* request */
	memcpy(fr.b + fr.len + 24, vip4, 4);  /* who has the VIP */
	fr.len += 28;
	check_frame("arp", &fr, PKT_STATUS_NOT_IP, XDP_REASON_PASS_NOT_IP, XDP_PASS);
	/* EtherType IPv4, IPv6 inside */
	mk_v6(&fr, 0, vip6, PKT_PROTO_UDP, NULL, 0, (const uint8_t *)"\0\0\0\0\0\x08\0\0", 8);
	put16(fr.b + 12, PKT_ETHERTYPE_IPV4);
	check_frame("v6 in v4 ethertype", &fr, PKT_STATUS_BAD_IP_HEADER, XDP_REASON_PASS_NOT_FOR_US, XDP_PASS);
}

/* XXH64 in the kernel equals callid_hash() for 1,000 random Call-IDs of
 * 1-200 bytes, and reads at most SIPHON_XDP_HASH_MAX bytes. */
static void hash_parity(void **state)
{
	int out_fd = bpf_map__fd(skel->maps.hash_out);
	uint8_t id[FRAME_MAX], l4[FRAME_MAX];
	uint32_t zero = 0;
	struct frame fr;
	uint64_t h;

	(void)state;
	srandom(5060);
	for (int i = 0; i < 1000 + 2; i++) {
		size_t len = i < 1000 ? 1 + (size_t)random() % 200 : i == 1000 ? 256 : 300;

		for (size_t k = 0; k < len; k++)
			id[k] = (uint8_t)(0x21 + random() % 94);
		mk_v4(&fr, i % 3, vip4, PKT_PROTO_UDP, 0, 0, l4, mk_udp(l4, SIP_PORT, id, len));
		assert_int_equal(test_run(skel->progs.xdp_hash_test, fr.b, fr.len), XDP_PASS);
		assert_int_equal(bpf_map_lookup_elem(out_fd, &zero, &h), 0);
		if (h != callid_hash(id, len > SIPHON_XDP_HASH_MAX ? SIPHON_XDP_HASH_MAX : len, HASH_SEED))
			fail_msg("Call-ID of %zu bytes: XDP %016llx, callid_hash %016llx", len,
				 (unsigned long long)h,
				 (unsigned long long)callid_hash(id, len, HASH_SEED));
	}
	/* an empty payload */
	mk_v4(&fr, 0, vip4, PKT_PROTO_UDP, 0, 0, l4, mk_udp(l4, SIP_PORT, id, 0));
	assert_int_equal(test_run(skel->progs.xdp_hash_test, fr.b, fr.len), XDP_PASS);
	assert_int_equal(bpf_map_lookup_elem(out_fd, &zero, &h), 0);
	assert_true(h == callid_hash(id, 0, HASH_SEED));
}

static int setup(void **state)
{
	struct in6_addr a6;
	int err;

	(void)state;
	ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0)
		return -1;
	skel = siphon_bpf__open();
	if (!skel)
		return -1;
	/* the maps are pinned by name (docs/xdp.md): no pins from a test */
	{
		struct bpf_map *m;

		bpf_object__for_each_map(m, skel->obj)
			if (bpf_map__set_pin_path(m, NULL))
				return -1;
	}
	memcpy(&skel->rodata->vip4[0], vip4, 4);
	skel->rodata->vip4_count = 1;
	if (inet_pton(AF_INET6, "2001:db8:10::10", &a6) != 1 || memcmp(&a6, vip6, 16) != 0)
		return -1;
	memcpy(skel->rodata->vip6[0], vip6, 16);
	skel->rodata->vip6_count = 1;
	skel->rodata->vip_ports[0] = SIP_PORT;
	skel->rodata->vip_port_count = 1;
	skel->rodata->hash_seed = HASH_SEED;
	err = siphon_bpf__load(skel);
	if (err) {
		fprintf(stderr, "loading the XDP program: %s\n", strerror(-err));
		return -1;
	}
	return 0;
}

static void print_verified(struct bpf_program *prog)
{
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) == 0)
		printf("# %s: %u instructions, %u verified\n", bpf_program__name(prog),
		       info.xlated_prog_len / 8, info.verified_insns);
}

static int teardown(void **state)
{
	(void)state;
	printf("# %lu test-runs\n", frames_run);
	print_verified(skel->progs.siphon_xdp);
	print_verified(skel->progs.xdp_hash_test);
	siphon_bpf__destroy(skel);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ipv4_vlans_and_options),
		cmocka_unit_test(ipv4_not_for_us_and_tcp),
		cmocka_unit_test(ipv4_malformed_to_vip),
		cmocka_unit_test(ipv6_and_extension_headers),
		cmocka_unit_test(udp_zero_checksum),
		cmocka_unit_test(not_ip),
		cmocka_unit_test(hash_parity),
	};

	if (!bpf_usable())
		return 77;
	return cmocka_run_group_tests(tests, setup, teardown);
}
