/* What a datagram tells about a probe (probe.h): which probe it answers,
 * its code, Retry-After and the top Via's oc. Every read stays inside the
 * spans sip_scan() found. */
#include <errno.h>
#include <string.h>

#include "probe.h"
#include "siphon/sip_scan.h"

/* Retry-After is the one header the scanner records for us. */
static const struct sip_extra_set answer_headers = {
	.count = 1,
	.hdr = { { .lname = "retry-after", .len = 11, .compact = 0 } },
};

static bool is_lws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static int hex_digit(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1; /* we write lower case: anything else is not ours */
}

/* 8 lower-case hex digits */
static bool parse_hex32(const uint8_t *p, uint32_t *v)
{
	uint32_t x = 0;

	for (int i = 0; i < 8; i++) {
		int d = hex_digit(p[i]);
		if (d < 0)
			return false;
		x = x << 4 | (uint32_t)d;
	}
	*v = x;
	return true;
}

/* "I-N-S" of 26 bytes */
static bool parse_ident(const uint8_t *p, struct probe_id *id)
{
	return parse_hex32(p, &id->instance) && p[8] == '-' && parse_hex32(p + 9, &id->node) &&
	       p[17] == '-' && parse_hex32(p + 18, &id->seq);
}

/* Retry-After = delta-seconds [ comment ] *( SEMI retry-param ) */
static bool parse_retry_after(const uint8_t *p, const uint8_t *end, uint32_t *seconds)
{
	const uint8_t *d = p;
	uint64_t v = 0;

	while (p < end && is_digit(*p) && p - d < 11)
		v = v * 10 + (unsigned)(*p++ - '0');
	if (p == d || p - d > 10 || v > UINT32_MAX)
		return false;
	while (p < end && is_lws(*p))
		p++;
	if (p < end && *p == '(') { /* a comment: it must close */
		const uint8_t *close = memchr(p, ')', (size_t)(end - p));
		if (!close)
			return false;
		p = close + 1;
		while (p < end && is_lws(*p))
			p++;
	}
	if (p < end && *p != ';')
		return false;
	*seconds = (uint32_t)v;
	return true;
}

/* The oc value of one parameter [p, end) named oc. */
static int16_t oc_value(const uint8_t *p, const uint8_t *end)
{
	const uint8_t *eq = memchr(p, '=', (size_t)(end - p)), *v, *ve = end;
	unsigned x = 0;

	if (!eq)
		return HEALTH_OC_ABSENT; /* "oc" alone: a request's announcement */
	v = eq + 1;
	while (v < ve && is_lws(*v))
		v++;
	while (ve > v && is_lws(ve[-1]))
		ve--;
	if (ve == v || ve - v > 3)
		return HEALTH_OC_INVALID;
	for (const uint8_t *q = v; q < ve; q++) {
		if (!is_digit(*q))
			return HEALTH_OC_INVALID;
		x = x * 10 + (unsigned)(*q - '0');
	}
	return x <= 100 ? (int16_t)x : HEALTH_OC_INVALID;
}

/* The first oc in ";a=b;oc=20;c" [p, end), quoted values skipped. */
static int16_t find_oc(const uint8_t *p, const uint8_t *end)
{
	while (p < end) {
		const uint8_t *start, *name, *name_end;
		bool quoted = false;

		if (*p == ';')
			p++;
		start = p;
		for (; p < end && (quoted || *p != ';'); p++) {
			if (*p == '"')
				quoted = !quoted;
			else if (*p == '\\' && quoted && p + 1 < end)
				p++;
		}
		name = start;
		while (name < p && is_lws(*name))
			name++;
		name_end = name;
		while (name_end < p && *name_end != '=' && !is_lws(*name_end))
			name_end++;
		if (sip_eq_nocase(name, (size_t)(name_end - name), "oc"))
			return oc_value(name_end, p);
	}
	return HEALTH_OC_ABSENT;
}

static int fail(struct probe_answer *a, enum probe_status s)
{
	a->status = s;
	return -EINVAL;
}

int probe_answer_parse(const uint8_t *buf, size_t len, struct probe_answer *a)
{
	struct sip_msg msg;
	const uint8_t *branch, *callid;

	memset(a, 0, sizeof(*a));
	a->result.kind = HEALTH_RESULT_REPLY;
	a->result.oc = HEALTH_OC_ABSENT;
	if (sip_scan(buf, len, NULL, &answer_headers, &msg) != SIP_VERDICT_FORWARD)
		return fail(a, PROBE_STATUS_NOT_SIP);
	if (msg.is_request)
		return fail(a, PROBE_STATUS_NOT_RESPONSE);
	branch = buf + msg.via.branch.off;
	if (msg.via.branch.len != PROBE_BRANCH_LEN ||
	    memcmp(branch, PROBE_BRANCH_PREFIX, sizeof(PROBE_BRANCH_PREFIX) - 1) != 0 ||
	    !parse_ident(branch + sizeof(PROBE_BRANCH_PREFIX) - 1, &a->id))
		return fail(a, PROBE_STATUS_NOT_OURS);
	callid = buf + msg.call_id.off;
	if (msg.call_id.len != PROBE_CALLID_LEN ||
	    memcmp(callid, PROBE_CALLID_PREFIX, sizeof(PROBE_CALLID_PREFIX) - 1) != 0 ||
	    memcmp(callid + sizeof(PROBE_CALLID_PREFIX) - 1,
		   branch + sizeof(PROBE_BRANCH_PREFIX) - 1, 26) != 0)
		return fail(a, PROBE_STATUS_CALLID);
	if (msg.cseq_method != SIP_METHOD_OPTIONS)
		return fail(a, PROBE_STATUS_NOT_OPTIONS);

	a->result.code = msg.status;
	if (msg.extra_count[0]) {
		const uint8_t *v = buf + msg.extra[0].off;
		if (!parse_retry_after(v, v + msg.extra[0].len, &a->result.retry_after_s)) {
			a->result.retry_after_s = 0;
			a->result.bad_retry_after = true;
		}
	}
	if (msg.via.params.len)
		a->result.oc = find_oc(buf + msg.via.params.off,
				       buf + msg.via.params.off + msg.via.params.len);
	a->status = PROBE_STATUS_OK;
	return 0;
}

bool probe_answer_matches(const struct probe_answer *a, uint32_t instance, uint32_t node,
			  const struct health_node *n)
{
	return a->status == PROBE_STATUS_OK && a->id.instance == instance && a->id.node == node &&
	       n->outstanding && a->id.seq == n->seq;
}
