/* Captured records as Ethernet frames (siphon/link_frame.h). */
#include <string.h>

#include "siphon/bytes.h"
#include "siphon/link_frame.h"

/* What a link type puts before the network-layer bytes. */
struct link_kind {
	size_t hlen;  /* link header bytes replaced by the Ethernet header */
	bool cooked;  /* a Linux cooked header (SLL, SLL2) */
	bool raw;     /* raw IP: no link header at all */
};

static bool kind_of(uint32_t linktype, struct link_kind *k)
{
	memset(k, 0, sizeof(*k));
	switch (linktype) {
	case LINK_DLT_EN10MB:
		return true;
	case LINK_DLT_RAW:
	case LINK_DLT_RAW_OPENBSD:
	case LINK_DLT_RAW_FILE:
	case LINK_DLT_IPV4:
	case LINK_DLT_IPV6:
		k->raw = true;
		return true;
	case LINK_DLT_LINUX_SLL:
		k->hlen = LINK_SLL_HLEN;
		k->cooked = true;
		return true;
	case LINK_DLT_LINUX_SLL2:
		k->hlen = LINK_SLL2_HLEN;
		k->cooked = true;
		return true;
	default:
		return false;
	}
}

bool link_frame_supported(uint32_t linktype)
{
	struct link_kind k;

	return kind_of(linktype, &k);
}

int link_frame_delta(uint32_t linktype)
{
	struct link_kind k;

	if (!kind_of(linktype, &k) || (!k.cooked && !k.raw))
		return 0;
	return LINK_ETH_HLEN - (int)k.hlen;
}

static uint16_t raw_ethertype(uint32_t linktype, uint8_t first)
{
	if (linktype == LINK_DLT_IPV4)
		return 0x0800;
	if (linktype == LINK_DLT_IPV6)
		return 0x86DD;
	switch (first >> 4) {
	case 4: return 0x0800;
	case 6: return 0x86DD;
	default: return 0x0000; /* pkt_parse(): not_ip */
	}
}

enum link_frame_status link_frame(uint32_t linktype, const uint8_t *rec, size_t len,
				  uint8_t *out, size_t cap, size_t *out_len)
{
	static const uint8_t dst[6] = LINK_FRAME_DST, src_default[6] = LINK_FRAME_SRC;
	uint8_t src[6];
	struct link_kind k;
	uint16_t type;
	size_t body, flen;

	if (!kind_of(linktype, &k))
		return LINK_FRAME_UNSUPPORTED;
	if (!k.cooked && !k.raw) { /* Ethernet */
		if (len > cap)
			return LINK_FRAME_NO_ROOM;
		if (out != rec)
			memmove(out, rec, len);
		*out_len = len;
		return LINK_FRAME_OK;
	}
	if (len < k.hlen || (k.raw && len == 0))
		return LINK_FRAME_TRUNCATED;
	body = len - k.hlen;
	flen = LINK_ETH_HLEN + body;
	if (flen > cap)
		return LINK_FRAME_NO_ROOM;

	/* every header field is read before the first byte of out is written
	 * (out may be rec) */
	memcpy(src, src_default, 6);
	if (linktype == LINK_DLT_LINUX_SLL) {
		/* type(2) ARPHRD(2) addr len(2) addr(8) protocol(2) */
		type = rd16(rec + 14);
		if (rec[4] == 0 && rec[5] == 6)
			memcpy(src, rec + 6, 6);
	} else if (linktype == LINK_DLT_LINUX_SLL2) {
		/* protocol(2) reserved(2) ifindex(4) ARPHRD(2) type(1) addr len(1) addr(8) */
		type = rd16(rec);
		if (rec[11] == 6)
			memcpy(src, rec + 12, 6);
	} else {
		type = raw_ethertype(linktype, rec[0]);
	}
	memmove(out + LINK_ETH_HLEN, rec + k.hlen, body);
	memcpy(out, dst, 6);
	memcpy(out + 6, src, 6);
	wr16(out + 12, type);
	*out_len = flen;
	return LINK_FRAME_OK;
}

static const char *const status_names[] = {
#define LINK_FRAME_STATUS(id, name, help) [LINK_FRAME_##id] = name,
#include "siphon/link_frame_status.def"
#undef LINK_FRAME_STATUS
};

static const char *const status_help[] = {
#define LINK_FRAME_STATUS(id, name, help) [LINK_FRAME_##id] = help,
#include "siphon/link_frame_status.def"
#undef LINK_FRAME_STATUS
};

const char *link_frame_status_name(unsigned s)
{
	return s < LINK_FRAME__COUNT ? status_names[s] : "?";
}

const char *link_frame_status_help(unsigned s)
{
	return s < LINK_FRAME__COUNT ? status_help[s] : "?";
}
