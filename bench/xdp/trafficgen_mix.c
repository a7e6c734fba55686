/* bench-trafficgen's SIP mix (docs/bench-xdp.md "Mix"): what a carrier's
 * ingress sees from a peer, INVITE with SDP, ACK and BYE of the same call,
 * OPTIONS and REGISTER, each call with its own Call-ID, from the caller
 * 198.18.1.2:5060 to the VIP 198.18.0.10:5060, as Ethernet frames. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bench_tool.h"
#include "trafficgen.h"

/* "@" x BENCH_MARK_LEN: where the call number goes. */
#define MARK "@@@@@@@@@@@@@@@@"
#define CALLER "198.18.1.2"
#define VIA "Via: SIP/2.0/UDP " CALLER ":5060;rport;branch=z9hG4bK"
#define FROM "From: \"Bench Caller\" <sip:+13125550123@" CALLER ";user=phone>;tag=" MARK "\r\n"
#define TO_USER "<sip:+12025550100@198.18.0.10;user=phone>"
#define CALL_ID "Call-ID: " MARK "@" CALLER "\r\n"

/* The SIP text of a template up to "Content-Length: "; the length and the
 * body are added by sip_text(). */
static const struct mix_kind {
	const char *name, *head, *body;
} kinds[T__COUNT] = {
	[T_INVITE] = { "INVITE",
		"INVITE sip:+12025550100@198.18.0.10:5060;user=phone SIP/2.0\r\n"
		VIA "i" MARK "\r\n"
		"Max-Forwards: 70\r\n" FROM
		"To: " TO_USER "\r\n" CALL_ID
		"CSeq: 1 INVITE\r\n"
		"Contact: <sip:+13125550123@" CALLER ":5060;transport=udp>\r\n"
		"Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, PRACK, UPDATE, INFO, REFER, NOTIFY\r\n"
		"Supported: 100rel, timer, replaces\r\n"
		"Session-Expires: 1800;refresher=uac\r\n"
		"User-Agent: siphon-bench/1\r\n"
		"Content-Type: application/sdp\r\n"
		"Content-Length: ",
		"v=0\r\n"
		"o=- 3724394400 3724394400 IN IP4 " CALLER "\r\n"
		"s=-\r\n"
		"c=IN IP4 " CALLER "\r\n"
		"t=0 0\r\n"
		"m=audio 49170 RTP/AVP 0 8 9 101\r\n"
		"a=rtpmap:0 PCMU/8000\r\n"
		"a=rtpmap:8 PCMA/8000\r\n"
		"a=rtpmap:9 G722/8000\r\n"
		"a=rtpmap:101 telephone-event/8000\r\n"
		"a=fmtp:101 0-16\r\n"
		"a=ptime:20\r\n"
		"a=sendrecv\r\n" },
	[T_ACK] = { "ACK",
		"ACK sip:+12025550100@198.18.0.10:5060;user=phone SIP/2.0\r\n"
		VIA "a" MARK "\r\n"
		"Max-Forwards: 70\r\n" FROM
		"To: " TO_USER ";tag=core-as7f3\r\n" CALL_ID
		"CSeq: 1 ACK\r\n"
		"Content-Length: ", "" },
	[T_BYE] = { "BYE",
		"BYE sip:+12025550100@198.18.0.10:5060;user=phone SIP/2.0\r\n"
		VIA "b" MARK "\r\n"
		"Max-Forwards: 70\r\n" FROM
		"To: " TO_USER ";tag=core-as7f3\r\n" CALL_ID
		"CSeq: 2 BYE\r\n"
		"Reason: Q.850;cause=16;text=\"Normal call clearing\"\r\n"
		"User-Agent: siphon-bench/1\r\n"
		"Content-Length: ", "" },
	/* Not to the balancer itself (that one siphon answers): a keepalive
	 * toward a core user, forwarded like the rest. */
	[T_OPTIONS] = { "OPTIONS",
		"OPTIONS sip:keepalive@core.siphon.test SIP/2.0\r\n"
		VIA "o" MARK "\r\n"
		"Max-Forwards: 70\r\n"
		"From: <sip:monitor@" CALLER ">;tag=" MARK "\r\n"
		"To: <sip:keepalive@core.siphon.test>\r\n" CALL_ID
		"CSeq: 1 OPTIONS\r\n"
		"Accept: application/sdp\r\n"
		"User-Agent: siphon-bench/1\r\n"
		"Content-Length: ", "" },
	[T_REGISTER] = { "REGISTER",
		"REGISTER sip:core.siphon.test SIP/2.0\r\n"
		VIA "r" MARK "\r\n"
		"Max-Forwards: 70\r\n"
		"From: <sip:+13125550123@core.siphon.test>;tag=" MARK "\r\n"
		"To: <sip:+13125550123@core.siphon.test>\r\n" CALL_ID
		"CSeq: 42 REGISTER\r\n"
		"Contact: <sip:+13125550123@" CALLER ":5060>;expires=600\r\n"
		"Authorization: Digest username=\"+13125550123\", realm=\"core.siphon.test\", "
		"nonce=\"c2lwaG9uLWJlbmNo\", uri=\"sip:core.siphon.test\", "
		"response=\"0123456789abcdef0123456789abcdef\", algorithm=MD5\r\n"
		"User-Agent: siphon-bench/1\r\n"
		"Content-Length: ", "" },
};

/* One round: four calls (INVITE, ACK, BYE, interleaved), two OPTIONS and
 * two REGISTERs; call numbers 0..7 of the round. */
const struct bench_slot mix[MIX_LEN] = {
	{ T_INVITE, 0 }, { T_INVITE, 1 }, { T_ACK, 0 },      { T_OPTIONS, 4 },
	{ T_INVITE, 2 }, { T_ACK, 1 },    { T_BYE, 0 },      { T_REGISTER, 6 },
	{ T_INVITE, 3 }, { T_ACK, 2 },    { T_BYE, 1 },      { T_OPTIONS, 5 },
	{ T_ACK, 3 },    { T_BYE, 2 },    { T_REGISTER, 7 }, { T_BYE, 3 },
};
_Static_assert(MIX_LEN <= BENCH_SCHED_MAX, "the mix fits the schedule");
_Static_assert(T__COUNT <= BENCH_TMPL_COUNT, "the templates fit the map");

static uint16_t ip_csum(const uint8_t *p, size_t len)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Ethernet + IPv4 + UDP (checksum 0: none, valid for IPv4) + the SIP text;
 * the marks found in the text. 0 or -E2BIG. */
static int build_tmpl(const struct mix_kind *k, struct bench_tmpl *t)
{
	static const uint8_t dmac[6] = { 0x02, 0, 0, 0x18, 0x00, 0x01 }; /* LAB_MAC_LB */
	static const uint8_t smac[6] = { 0x02, 0, 0, 0x18, 0x01, 0x02 }; /* LAB_MAC_CALLER */
	char sip[BENCH_TMPL_MAX];
	uint8_t *f = t->data, *ip = f + 14, *udp = ip + 20;
	struct in_addr src, dst;
	int n;

	n = snprintf(sip, sizeof(sip), "%s%zu\r\n\r\n%s", k->head, strlen(k->body), k->body);
	if (n < 0 || (size_t)n + 42 > BENCH_TMPL_MAX)
		return -E2BIG;
	memset(t, 0, sizeof(*t));
	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	f[12] = 0x08, f[13] = 0x00;
	inet_pton(AF_INET, LAB_CALLER4, &src);
	inet_pton(AF_INET, LAB_VIP4, &dst);
	ip[0] = 0x45;
	ip[2] = (uint8_t)((20 + 8 + n) >> 8), ip[3] = (uint8_t)(20 + 8 + n);
	ip[6] = 0x40; /* DF */
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, &src, 4);
	memcpy(ip + 16, &dst, 4);
	uint16_t c = ip_csum(ip, 20);
	ip[10] = (uint8_t)(c >> 8), ip[11] = (uint8_t)c;
	udp[0] = LAB_SIP_PORT >> 8, udp[1] = LAB_SIP_PORT & 0xff;
	udp[2] = LAB_SIP_PORT >> 8, udp[3] = LAB_SIP_PORT & 0xff;
	udp[4] = (uint8_t)((8 + n) >> 8), udp[5] = (uint8_t)(8 + n);
	memcpy(udp + 8, sip, (size_t)n);
	t->len = (unsigned int)(42 + n);
	for (const char *p = sip; (p = strstr(p, MARK)); p += BENCH_MARK_LEN) {
		if (t->n_marks == BENCH_MARKS)
			return -E2BIG;
		t->marks[t->n_marks++] = (unsigned short)(42 + (p - sip));
	}
	return 0;
}

/* As trafficgen.bpf.c does: the call number in hex at every mark. No
 * snprintf: the AF_PACKET sender does this for every frame. */
void mix_apply_marks(uint8_t *frame, const struct bench_tmpl *t, uint64_t call)
{
	static const char digit[16] = "0123456789abcdef";
	char hex[BENCH_MARK_LEN];

	for (int i = BENCH_MARK_LEN - 1; i >= 0; i--, call >>= 4)
		hex[i] = digit[call & 15];
	for (unsigned int i = 0; i < t->n_marks; i++)
		memcpy(frame + t->marks[i], hex, BENCH_MARK_LEN);
}

int mix_write_pcap(const char *path, const struct bench_tmpl *tmpl)
{
	const uint32_t ghdr[6] = { 0xa1b2c3d4, 2 | 4u << 16, 0, 0, 65535, 1 /* Ethernet */ };
	FILE *f = fopen(path, "wb");
	uint8_t frame[BENCH_TMPL_MAX];
	int err = 0;

	if (!f) {
		err = -errno;
		fprintf(stderr, "--pcap: %s: %s\n", path, strerror(errno));
		return err;
	}
	fwrite(ghdr, sizeof(ghdr), 1, f);
	for (unsigned int n = 0; n < 2 * MIX_LEN; n++) {
		const struct bench_tmpl *t = &tmpl[mix[n % MIX_LEN].tmpl];
		uint32_t rec[4] = { 1700000000, n * 1000, t->len, t->len };

		memcpy(frame, t->data, t->len);
		mix_apply_marks(frame, t, mix_call(n, 0));
		fwrite(rec, sizeof(rec), 1, f);
		fwrite(frame, t->len, 1, f);
	}
	if (fclose(f)) {
		err = -errno;
		fprintf(stderr, "--pcap: %s: %s\n", path, strerror(errno));
	}
	return err;
}

int mix_build(struct bench_tmpl *tmpl, unsigned int *max_len)
{
	*max_len = 0;
	for (int i = 0; i < T__COUNT; i++) {
		if (build_tmpl(&kinds[i], &tmpl[i])) {
			fprintf(stderr, "bench-trafficgen: template %s is too big\n", kinds[i].name);
			return -E2BIG;
		}
		if (tmpl[i].len > *max_len)
			*max_len = tmpl[i].len;
	}
	return 0;
}
