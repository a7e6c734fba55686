/* Fuzz harness over the packet layer (docs/packets.md): pkt_parse() and
 * every rewrite on a copy with spare room. Input: 2 bytes (big-endian) of
 * how much to cut from the UDP payload, then an Ethernet frame. Besides "no
 * crash, no sanitizer report" it checks (abort() on a breach):
 *   - a layout that stays inside the frame and adds up, the same twice;
 *   - a rewrite either fails with a documented -errno and leaves the frame
 *     as it was, or gives a frame that parses again like the input did, with
 *     the node's MAC / address / port, the payload's first msg_len bytes, and
 *     valid checksums wherever the input's were valid (the IPv4 header, the
 *     UDP / TCP checksum, GUE's outer UDP over IPv6; an IPv6 UDP zero
 *     checksum becomes a valid one once the packet is changed);
 *   - encap carries exactly the dsr result's IP packet;
 *   - with no spare room encap is -ENOSPC. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz_check.h"

#include "checksum.h"
#include "siphon/packet.h"
#include "rewrite.h"


#define GUE_PORT  6080
#define NODE_PORT 5080
#define VIP_PORT  5060

static const uint8_t MAC_NODE[6] = { 2, 0, 0, 0, 0, 0x0b }, MAC_SRC[6] = { 2, 0, 0, 0, 0, 0x0a };

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static struct pool_node node4 = { .addr = { AF_INET, { 198, 51, 100, 21 } }, .port = NODE_PORT };
static struct pool_node node6 = {
	.addr = { AF_INET6, { 0x20, 0x01, 0x0d, 0xb8, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x21 } },
	.port = NODE_PORT,
};
static const struct self_addr src4 = { AF_INET, { 198, 18, 0, 1 } };
static const struct self_addr src6 = { AF_INET6, { 0x20, 0x01, 0x0d, 0xb8, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 } };
static const struct self_addr vip4 = { AF_INET, { 203, 0, 113, 10 } };
static const struct self_addr vip6 = { AF_INET6, { 0x20, 0x01, 0x0d, 0xb8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10 } };

static struct rewrite_target target(enum pool_mode mode, int family, uint16_t gue_port)
{
	struct rewrite_target t = { .mode = mode, .gue_port = gue_port };

	t.node = family == AF_INET ? &node4 : &node6;
	t.encap_src = family == AF_INET ? src4 : src6;
	memcpy(t.node_mac, MAC_NODE, 6);
	memcpy(t.src_mac, MAC_SRC, 6);
	return t;
}

static size_t alen(int family)
{
	return family == AF_INET ? 4 : 16;
}

static const uint8_t *addr(const uint8_t *f, const struct pkt_layout *l, bool dst)
{
	return f + l->l3_off + (l->family == AF_INET ? 12 : 8) + (dst ? alen(l->family) : 0);
}

static void check_layout(const struct pkt_layout *l, enum pkt_status st, size_t len)
{
	const size_t end = (size_t)l->l3_off + l->l3_len;

	CHECK(end <= len && end <= UINT16_MAX);
	CHECK(l->l3_off == l->ethertype_off + 2 && l->vlan_tags <= PKT_VLAN_MAX);
	CHECK(l->family == AF_INET || l->family == AF_INET6);
	CHECK(l->l4_off == l->l3_off + l->l3_hlen && l->l4_off <= end);
	CHECK((size_t)l->payload_off + l->payload_len == end);
	CHECK(l->first_fragment == (l->is_fragment && l->frag_off == 0));
	if (st == PKT_STATUS_FRAGMENT) {
		CHECK(l->is_fragment && !l->first_fragment && l->payload_off == l->l4_off);
		return;
	}
	CHECK(l->l4_proto == PKT_PROTO_UDP || l->l4_proto == PKT_PROTO_TCP);
	CHECK(l->payload_off >= l->l4_off + (l->l4_proto == PKT_PROTO_UDP ? 8 : 20));
	if (l->l4_proto == PKT_PROTO_UDP && !l->is_fragment)
		CHECK(l->l4_len == end - l->l4_off);
}

/* The IPv4 header and, for a whole datagram, the L4 checksum are valid
 * (*l4_zero: a UDP checksum field of 0). */
static bool ip_ok(const uint8_t *f, const struct pkt_layout *l)
{
	return l->family != AF_INET || csum_ipv4_header_ok(f + l->l3_off, l->l3_hlen);
}

static bool l4_ok(const uint8_t *f, const struct pkt_layout *l, enum pkt_status st, bool *l4_zero)
{
	const size_t end = (size_t)l->l3_off + l->l3_len;

	*l4_zero = false;
	if (st != PKT_STATUS_OK || l->is_fragment)
		return false;
	*l4_zero = l->l4_proto == PKT_PROTO_UDP && rd16(f + l->l4_off + 6) == 0;
	return csum_l4_ok(l->family, addr(f, l, false), addr(f, l, true), l->l4_proto,
			  f + l->l4_off, end - l->l4_off);
}

/* The IP packet an encap frame carries; NULL when it is none. */
static const uint8_t *decapsulated(const uint8_t *f, size_t len, size_t *n)
{
	struct pkt_layout o;
	enum pkt_status st = pkt_parse(f, len, &o);
	size_t off;

	if (st == PKT_STATUS_NOT_UDP_TCP && (o.l4_proto == 4 || o.l4_proto == 41)) {
		off = o.l4_off;
	} else if (st == PKT_STATUS_OK && o.l4_proto == PKT_PROTO_UDP &&
		   rd16(f + o.l4_off + 2) == GUE_PORT && o.payload_len >= 4) {
		const uint8_t *gue = f + o.payload_off;
		const size_t end = (size_t)o.l3_off + o.l3_len;
		CHECK(gue[0] == 0 && rd16(gue + 2) == 0 && (gue[1] == 4 || gue[1] == 41));
		CHECK(o.family == AF_INET ? rd16(f + o.l4_off + 6) == 0
					  : csum_l4_ok(AF_INET6, addr(f, &o, false), addr(f, &o, true),
						       PKT_PROTO_UDP, f + o.l4_off, end - o.l4_off));
		off = o.payload_off + 4u;
	} else {
		return NULL;
	}
	CHECK(ip_ok(f, &o)); /* the outer header is ours: always valid */
	*n = (size_t)o.l3_off + o.l3_len - off;
	return f + off;
}

struct input {
	const uint8_t *frame;
	size_t len;
	struct pkt_layout l;
	enum pkt_status st;
	uint16_t msg_len;
	bool cut, ip_valid, l4_valid, l4_zero;
};

/* One rewrite_forward on a heap copy of exactly len + spare bytes; returns
 * its result, the copy in *out (to free) and its length in *out_len. */
static int forward(const struct input *in, const struct rewrite_target *t, size_t spare,
		   uint8_t **out, size_t *out_len)
{
	uint8_t *b = malloc(in->len + spare + 1);
	size_t len = in->len;
	int rc;

	CHECK(b);
	memcpy(b, in->frame, in->len);
	rc = rewrite_forward(b, &len, in->len + spare, &in->l, in->msg_len, t);
	if (rc != 0) {
		CHECK(rc == -EINVAL || rc == -EAFNOSUPPORT || rc == -ENOSPC || rc == -EMSGSIZE);
		CHECK(len == in->len && memcmp(b, in->frame, in->len) == 0);
	} else {
		CHECK(len <= in->len + spare);
		CHECK(memcmp(b, MAC_NODE, 6) == 0 && memcmp(b + 6, MAC_SRC, 6) == 0);
	}
	*out = b;
	*out_len = len;
	return rc;
}

/* A dsr / nat output (or the inner packet of an encap) parses like the
 * input and keeps what must stay. */
static void check_same_shape(const struct input *in, const uint8_t *f, size_t len,
			     struct pkt_layout *o, bool changed)
{
	bool zero;
	enum pkt_status st = pkt_parse(f, len, o);

	CHECK(st == in->st);
	check_layout(o, st, len);
	CHECK(o->family == in->l.family && o->l4_proto == in->l.l4_proto);
	CHECK((size_t)o->l3_off + o->l3_len == len);
	CHECK(o->payload_len == (in->cut ? in->msg_len : in->l.payload_len));
	CHECK(memcmp(f + o->payload_off, in->frame + in->l.payload_off, o->payload_len) == 0);
	if (in->ip_valid)
		CHECK(ip_ok(f, o));
	if (st != PKT_STATUS_OK || o->is_fragment)
		return;
	if (in->l4_valid && !(in->l4_zero && in->l.family == AF_INET6)) {
		CHECK(l4_ok(f, o, st, &zero));
		if (in->l4_zero)
			CHECK(zero); /* IPv4 without a checksum stays without */
	}
	if (changed && in->l4_zero && in->l.family == AF_INET6)
		CHECK(l4_ok(f, o, st, &zero) && !zero);
}

static void run_forward(const struct input *in)
{
	const struct rewrite_target dsr = target(POOL_MODE_DSR, in->l.family, 0);
	uint8_t *ref, *out;
	size_t ref_len, len;
	struct pkt_layout o;
	int ref_rc, rc;

	/* dsr: the reference */
	ref_rc = forward(in, &dsr, 0, &ref, &ref_len);
	/* the only rewrite a parsed frame refuses: a cut of TCP or a fragment */
	CHECK(ref_rc == (in->cut && (in->l.l4_proto == PKT_PROTO_TCP || in->l.is_fragment) ? -EINVAL : 0));
	if (ref_rc == 0) {
		check_same_shape(in, ref, ref_len, &o, in->cut);
		CHECK(memcmp(ref + 12, in->frame + 12, in->l.l3_off - 12u) == 0);
		CHECK(memcmp(addr(ref, &o, false), addr(in->frame, &in->l, false),
			     2 * alen(in->l.family)) == 0);
	}

	/* nat, to a node of either family */
	for (int f = 0; f < 2; f++) {
		const struct rewrite_target t = target(POOL_MODE_NAT, f ? AF_INET6 : AF_INET, 0);
		rc = forward(in, &t, 0, &out, &len);
		if (ref_rc != 0)
			CHECK(rc == ref_rc);
		else
			CHECK(rc == (t.node->addr.family != in->l.family ? -EAFNOSUPPORT : 0));
		if (rc == 0) {
			CHECK(ref_rc == 0 && len == ref_len);
			check_same_shape(in, out, len, &o, true);
			CHECK(memcmp(addr(out, &o, true), t.node->addr.addr, alen(o.family)) == 0);
			CHECK(memcmp(addr(out, &o, false), addr(in->frame, &in->l, false),
				     alen(o.family)) == 0);
			if (in->st == PKT_STATUS_OK)
				CHECK(rd16(out + o.l4_off + 2) == NODE_PORT);
		}
		free(out);
	}

	/* encap: either family, IPIP / GUE; the inner packet is dsr's */
	for (int f = 0; f < 2; f++)
		for (int g = 0; g < 2; g++) {
			const struct rewrite_target t =
				target(POOL_MODE_ENCAP, f ? AF_INET6 : AF_INET, g ? GUE_PORT : 0);
			const size_t hlen = (f ? 40 : 20) + (g ? 12 : 0);
			const uint8_t *inner;
			size_t n;

			/* no spare room: enough only when padding or a cut made some */
			rc = forward(in, &t, 0, &out, &len);
			if (ref_rc != 0)
				CHECK(rc == ref_rc);
			else if (ref_len + hlen > in->len)
				CHECK(rc == -ENOSPC);
			else
				CHECK(rc == 0 || rc == -EMSGSIZE);
			free(out);
			rc = forward(in, &t, REWRITE_ENCAP_MAX, &out, &len);
			if (ref_rc != 0)
				CHECK(rc == ref_rc);
			if (rc == 0 && len <= UINT16_MAX) {
				inner = decapsulated(out, len, &n);
				CHECK(inner != NULL);
				CHECK(n == ref_len - in->l.l3_off);
				CHECK(memcmp(inner, ref + in->l.l3_off, n) == 0);
			}
			CHECK(rc == 0 || rc == -EMSGSIZE || ref_rc != 0);
			free(out);
		}
	free(ref);
}

static void run_reply(const struct input *in)
{
	for (int f = 0; f < 2; f++) {
		const struct self_addr *vip = f ? &vip6 : &vip4;
		uint8_t *b = malloc(in->len + 1);
		struct pkt_layout o;
		struct input same = *in;
		int rc;

		CHECK(b);
		memcpy(b, in->frame, in->len);
		rc = rewrite_reply_source(b, in->len, &in->l, vip, VIP_PORT);
		CHECK(rc == (vip->family != in->l.family ? -EAFNOSUPPORT : 0));
		if (rc != 0) {
			CHECK(memcmp(b, in->frame, in->len) == 0);
		} else {
			same.cut = false;
			check_same_shape(&same, b, (size_t)in->l.l3_off + in->l.l3_len, &o, true);
			CHECK(memcmp(addr(b, &o, false), vip->addr, alen(o.family)) == 0);
			if (in->st == PKT_STATUS_OK)
				CHECK(rd16(b + o.l4_off) == VIP_PORT);
		}
		free(b);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in;
	struct pkt_layout again;
	uint16_t cut;

	if (size < 2)
		return 0;
	cut = rd16(data);
	memset(&in, 0, sizeof(in));
	in.frame = data + 2;
	in.len = size - 2;
	in.st = pkt_parse(in.frame, in.len, &in.l);
	CHECK((unsigned)in.st < PKT_STATUS__COUNT);
	CHECK(pkt_parse(in.frame, in.len, &again) == in.st && memcmp(&again, &in.l, sizeof(again)) == 0);
	if (in.st != PKT_STATUS_OK && in.st != PKT_STATUS_FRAGMENT)
		return 0;
	check_layout(&in.l, in.st, in.len);

	in.msg_len = in.l.payload_len;
	if (in.st == PKT_STATUS_OK && cut) {
		in.msg_len = (uint16_t)(in.l.payload_len - cut % (in.l.payload_len + 1u));
		in.cut = in.msg_len < in.l.payload_len;
	}
	in.ip_valid = ip_ok(in.frame, &in.l);
	in.l4_valid = l4_ok(in.frame, &in.l, in.st, &in.l4_zero);
	run_forward(&in);
	if (!in.cut)
		run_reply(&in);
	return 0;
}
