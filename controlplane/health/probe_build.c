/* The OPTIONS probe (probe.h). */
#include <errno.h>
#include <sys/socket.h>

#include "probe.h"

static const char *const status_names[] = {
#define PROBE_STATUS(id, name, help) [PROBE_STATUS_##id] = name,
#include "probe_status.def"
#undef PROBE_STATUS
};

const char *probe_status_name(unsigned s)
{
	return s < PROBE_STATUS__COUNT ? status_names[s] : "?";
}

static bool known_family(const struct sip_endpoint *e)
{
	return e->ip.family == AF_INET || e->ip.family == AF_INET6;
}

/* I-N-S, the part branch and Call-ID share */
static void put_ident(struct sip_out *o, const struct probe_id *id)
{
	sip_out_hex32(o, id->instance);
	sip_out_put(o, "-", 1);
	sip_out_hex32(o, id->node);
	sip_out_put(o, "-", 1);
	sip_out_hex32(o, id->seq);
}

int probe_build(const struct sip_endpoint *control, const struct sip_endpoint *node,
		const struct probe_id *id, uint8_t *out, size_t cap, size_t *out_len)
{
	struct sip_out o;

	if (!known_family(control) || !known_family(node))
		return -EINVAL;
	sip_out_init(&o, out, cap);
	sip_out_str(&o, "OPTIONS sip:");
	sip_out_hostport(&o, node);
	sip_out_str(&o, " SIP/2.0\r\nVia: SIP/2.0/UDP ");
	sip_out_hostport(&o, control);
	sip_out_str(&o, ";branch=" PROBE_BRANCH_PREFIX);
	put_ident(&o, id);
	/* RFC 7339 5.1: announcing oc is what lets the node answer with oc=P */
	sip_out_str(&o, ";oc;oc-algo=\"loss\"\r\nMax-Forwards: 70\r\nFrom: <sip:siphon@");
	sip_out_ip(&o, &control->ip, true);
	sip_out_str(&o, ">;tag=sph-");
	sip_out_hex32(&o, id->instance);
	sip_out_str(&o, "\r\nTo: <sip:");
	sip_out_hostport(&o, node);
	sip_out_str(&o, ">\r\nCall-ID: " PROBE_CALLID_PREFIX);
	put_ident(&o, id);
	sip_out_str(&o, "\r\nCSeq: ");
	sip_out_uint(&o, id->seq & 0x7fffffffu); /* the scanner's CSeq bound */
	sip_out_str(&o, " OPTIONS\r\nContent-Length: 0\r\n\r\n");
	return sip_out_finish(&o, out_len);
}
