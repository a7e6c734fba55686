/* SIP responses built from a request (answer.h, docs/answers.md). The
 * request is scanned by sip_scan() first: every span read here is one it
 * found inside the header block. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "answer.h"
#include "siphon/maglev.h"
#include "siphon/sip_scan.h"

/* Any fixed seed: the tag only has to be the same for the same request. */
#define TO_TAG_SEED 0x746f2d746167ull

struct span_p {
	const uint8_t *a, *b;
};

static bool is_lws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static struct span_p trim(const uint8_t *a, const uint8_t *b)
{
	while (a < b && is_lws(*a))
		a++;
	while (b > a && is_lws(b[-1]))
		b--;
	return (struct span_p){ a, b };
}

void answer_to_tag(const uint8_t *call_id, size_t call_id_len, const uint8_t *from_tag,
		   size_t from_tag_len, char tag[17])
{
	static const char hex[] = "0123456789abcdef";
	uint64_t h = callid_hash(call_id, call_id_len, TO_TAG_SEED);

	h = callid_hash(from_tag, from_tag_len, h);
	for (int i = 15; i >= 0; i--, h >>= 4)
		tag[i] = hex[h & 15];
	tag[16] = '\0';
}

/* ---- header fields of the block ---------------------------------------- */

struct field_iter {
	const uint8_t *p, *end; /* the next line; the end of the header block */
};

/* The next header field: its name and its value up to the end of its last
 * continuation line. False at the empty line or the end. */
static bool next_field(struct field_iter *it, struct span_p *name, struct span_p *value)
{
	for (;;) {
		const uint8_t *line = it->p, *le, *colon;

		if (line >= it->end)
			return false;
		le = memchr(line, '\n', (size_t)(it->end - line));
		le = le ? le : it->end;
		if (le == line || (le - line == 1 && *line == '\r'))
			return false; /* the empty line */
		it->p = le < it->end ? le + 1 : it->end;
		/* continuation lines join the value */
		while (it->p < it->end && (*it->p == ' ' || *it->p == '\t')) {
			const uint8_t *n = memchr(it->p, '\n', (size_t)(it->end - it->p));
			le = n ? n : it->end;
			it->p = le < it->end ? le + 1 : it->end;
		}
		colon = memchr(line, ':', (size_t)(le - line));
		if (!colon)
			continue; /* the scanner refuses such lines; skip all the same */
		*name = trim(line, colon);
		*value = trim(colon + 1, le);
		return true;
	}
}

/* ---- the top Via --------------------------------------------------------- */

/* One parameter of ";a;b=c" [*p, end): its trimmed text and name. */
static bool next_param(const uint8_t **p, const uint8_t *end, struct span_p *param,
		       struct span_p *name)
{
	const uint8_t *q = *p, *start, *n;
	bool quoted = false;

	while (q < end && (*q == ';' || is_lws(*q)))
		q++;
	if (q >= end)
		return false;
	start = q;
	for (; q < end && (quoted || *q != ';'); q++) {
		if (*q == '"')
			quoted = !quoted;
		else if (*q == '\\' && quoted && q + 1 < end)
			q++;
	}
	*p = q;
	*param = trim(start, q);
	n = param->a;
	while (n < param->b && *n != '=' && !is_lws(*n))
		n++;
	*name = (struct span_p){ param->a, n };
	return true;
}

/* rport with no value: "rport" or "rport=" */
static bool empty_rport(const struct span_p *param, const struct span_p *name)
{
	struct span_p v = trim(name->b, param->b);

	if (!sip_eq_nocase(name->a, (size_t)(name->b - name->a), "rport"))
		return false;
	if (v.a < v.b && *v.a == '=')
		v = trim(v.a + 1, v.b);
	return v.a == v.b;
}

static bool same_host(const uint8_t *host, size_t n, const struct self_addr *src)
{
	struct self_addr h;

	if (!sip_parse_ip(host, n, &h) || h.family != src->family)
		return false; /* a name is never the source address */
	return memcmp(h.addr, src->addr, src->family == AF_INET ? 4 : 16) == 0;
}

/* The top Via [top] with received= and rport= as RFC 3261 18.2.1 and
 * RFC 3581 4 ask. */
static void put_top_via(struct sip_out *o, const uint8_t *req, const struct sip_msg *msg,
			const struct sip_endpoint *src)
{
	const uint8_t *top = req + msg->via.value.off, *top_end = top + msg->via.value.len;
	const uint8_t *params = msg->via.params.len ? req + msg->via.params.off : top_end, *p;
	struct span_p param, name;
	bool rport = false, received;

	for (p = params; next_param(&p, top_end, &param, &name);)
		rport = rport || empty_rport(&param, &name);
	received = rport || !same_host(req + msg->via.host.off, msg->via.host.len, &src->ip);

	sip_out_value(o, top, (size_t)(trim(top, params).b - top));
	for (p = params; next_param(&p, top_end, &param, &name);) {
		if (received && sip_eq_nocase(name.a, (size_t)(name.b - name.a), "received"))
			continue; /* ours replaces it */
		sip_out_put(o, ";", 1);
		if (empty_rport(&param, &name)) {
			sip_out_str(o, "rport=");
			sip_out_uint(o, src->port);
		} else {
			sip_out_value(o, param.a, (size_t)(param.b - param.a));
		}
	}
	if (received) {
		sip_out_str(o, ";received=");
		sip_out_ip(o, &src->ip, false); /* RFC 3261 25.1: IPv6address, no brackets */
	}
}

/* Every Via field, in order: values as they are but the top one. */
static void put_vias(struct sip_out *o, const uint8_t *req, const struct sip_msg *msg,
		     const struct sip_endpoint *src)
{
	const uint8_t *top = req + msg->via.value.off, *top_end = top + msg->via.value.len;
	struct field_iter it = { req, req + msg->hdr_len };
	struct span_p name, value;
	bool top_done = false;

	/* skip the start line */
	it.p = memchr(req, '\n', msg->hdr_len);
	it.p = it.p ? it.p + 1 : it.end;
	while (next_field(&it, &name, &value)) {
		const uint8_t *q;

		if (sip_parsed_header_lookup(name.a, (unsigned)(name.b - name.a)) != SIP_HDR_VIA)
			continue;
		if (!top_done && top >= value.a && top_end <= value.b) {
			top_done = true;
			sip_out_str(o, "Via: ");
			put_top_via(o, req, msg, src);
			sip_out_value(o, top_end, (size_t)(value.b - top_end)); /* ", more" */
			sip_out_str(o, "\r\n");
			continue;
		}
		for (q = value.a; q < value.b && (*q == ',' || is_lws(*q)); q++)
			;
		if (q == value.b || !top_done)
			continue; /* empty, or an empty one before the top value */
		sip_out_str(o, "Via: ");
		sip_out_value(o, value.a, (size_t)(value.b - value.a));
		sip_out_str(o, "\r\n");
	}
	if (!top_done)
		o->full = true; /* cannot happen after a forward verdict; refuse all the same */
}

/* ---- the response -------------------------------------------------------- */

static bool good_reason(const char *r)
{
	size_t n = 0;

	for (; r[n] && n <= ANSWER_REASON_MAX; n++)
		if ((uint8_t)r[n] < 0x20 || (uint8_t)r[n] == 0x7F)
			return false;
	return n <= ANSWER_REASON_MAX;
}

static void put_span(struct sip_out *o, const uint8_t *req, struct sip_span s)
{
	sip_out_value(o, req + s.off, s.len);
}

/* The answer is scanned once before it goes: odd bytes copied from the
 * request (a To whose parameters swallow the tag, say) must not make an
 * answer the caller's own scanner would drop or misread. */
static int checked(const struct sip_out *o, uint16_t code, uint16_t via_count, size_t *out_len)
{
	struct sip_msg msg;
	size_t len;
	int err = sip_out_finish(o, &len);

	if (err)
		return err;
	if (sip_scan(o->buf, len, NULL, NULL, &msg) != SIP_VERDICT_FORWARD || msg.is_request ||
	    msg.status != code || (code != 100 && msg.to.tag.len == 0) ||
	    msg.via_count != via_count) /* a rewritten top Via must not split in two */
		return -EINVAL;
	*out_len = len;
	return 0;
}

int answer_request(const uint8_t *req, size_t len, const struct sip_endpoint *src,
		   const struct answer_status *st, uint8_t *out, size_t cap, size_t *out_len)
{
	const char *reason = st->reason ? st->reason : "";
	struct sip_msg msg;
	struct sip_out o;
	char tag[17];

	if (st->code < 100 || st->code > 699 || !good_reason(reason))
		return -EINVAL;
	if (src->ip.family != AF_INET && src->ip.family != AF_INET6)
		return -EINVAL;
	if (sip_scan(req, len, NULL, NULL, &msg) != SIP_VERDICT_FORWARD || !msg.is_request ||
	    msg.via.host.len == 0)
		return -EINVAL;
	if (msg.method == SIP_METHOD_ACK)
		return -ENOMSG;
	if (msg.from.uri.len == 0 || msg.to.uri.len == 0)
		return -EINVAL; /* an unclosed < or quote: nothing sound to copy */
	/* what the scanner takes back: the answer must scan as well */
	sip_out_init(&o, out, cap < SIP_LIMIT_MSG_BYTES_DEFAULT ? cap : SIP_LIMIT_MSG_BYTES_DEFAULT);
	sip_out_str(&o, "SIP/2.0 ");
	sip_out_uint(&o, st->code);
	sip_out_put(&o, " ", 1);
	sip_out_str(&o, reason);
	sip_out_str(&o, "\r\n");
	put_vias(&o, req, &msg, src);
	sip_out_str(&o, "From: ");
	put_span(&o, req, msg.from.value);
	sip_out_str(&o, "\r\nTo: ");
	put_span(&o, req, msg.to.value);
	if (msg.to.tag.len == 0 && st->code != 100) { /* RFC 3261 8.2.6.2 */
		answer_to_tag(req + msg.call_id.off, msg.call_id.len, req + msg.from.tag.off,
			      msg.from.tag.len, tag);
		sip_out_str(&o, ";tag=");
		sip_out_str(&o, tag);
	}
	sip_out_str(&o, "\r\nCall-ID: ");
	put_span(&o, req, msg.call_id);
	sip_out_str(&o, "\r\nCSeq: ");
	sip_out_uint(&o, msg.cseq);
	sip_out_put(&o, " ", 1);
	put_span(&o, req, msg.cseq_method_name);
	sip_out_str(&o, "\r\n");
	if (st->retry_after_s) {
		sip_out_str(&o, "Retry-After: ");
		sip_out_uint(&o, st->retry_after_s);
		sip_out_str(&o, "\r\n");
	}
	sip_out_str(&o, "Content-Length: 0\r\n\r\n");
	return checked(&o, st->code, msg.via_count, out_len);
}

int answer_options(const uint8_t *req, size_t len, const struct sip_endpoint *src,
		   const struct answer_status *st, uint8_t *out, size_t cap, size_t *out_len)
{
	struct sip_msg msg;

	if (sip_scan(req, len, NULL, NULL, &msg) != SIP_VERDICT_FORWARD || !msg.is_request ||
	    msg.method != SIP_METHOD_OPTIONS)
		return -EINVAL;
	return answer_request(req, len, src, st, out, cap, out_len);
}

int answer_no_live_node(const uint8_t *req, size_t len, const struct sip_endpoint *src,
			uint32_t retry_after_s, uint8_t *out, size_t cap, size_t *out_len)
{
	const struct answer_status st = { 503, "Service Unavailable", retry_after_s };
	struct sip_msg msg;

	if (sip_scan(req, len, NULL, NULL, &msg) != SIP_VERDICT_FORWARD || !msg.is_request)
		return -EINVAL;
	if (msg.method == SIP_METHOD_ACK)
		return -ENOMSG;
	if (sip_in_dialog(&msg))
		return -EINVAL;
	return answer_request(req, len, src, &st, out, cap, out_len);
}
