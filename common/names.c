/* Name tables generated from the .def lists; see siphon/names.h. */
#include <string.h>
#include <strings.h>

#include "siphon/names.h"

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

static const char *const verdict_names[] = {
#define SIP_VERDICT(id, name, help) [SIP_VERDICT_##id] = name,
#include "siphon/sip_verdicts.def"
#undef SIP_VERDICT
};
static const char *const verdict_helps[] = {
#define SIP_VERDICT(id, name, help) [SIP_VERDICT_##id] = help,
#include "siphon/sip_verdicts.def"
#undef SIP_VERDICT
};
static const char *const reason_names[] = {
#define SIP_REASON(id, verdict, name, help) [SIP_REASON_##id] = name,
#include "siphon/sip_reasons.def"
#undef SIP_REASON
};
static const char *const reason_helps[] = {
#define SIP_REASON(id, verdict, name, help) [SIP_REASON_##id] = help,
#include "siphon/sip_reasons.def"
#undef SIP_REASON
};
static const unsigned char reason_verdicts[] = {
#define SIP_REASON(id, verdict, name, help) [SIP_REASON_##id] = SIP_VERDICT_##verdict,
#include "siphon/sip_reasons.def"
#undef SIP_REASON
};
static const char *const method_names[] = {
#define SIP_METHOD(id, name) [SIP_METHOD_##id] = name,
#include "siphon/sip_methods.def"
#undef SIP_METHOD
};
static const char *const header_names[] = {
#define SIP_HEADER(id, name, compact) [SIP_HDR_##id] = name,
#include "siphon/sip_headers.def"
#undef SIP_HEADER
};
static const char header_compacts[] = {
#define SIP_HEADER(id, name, compact) [SIP_HDR_##id] = compact,
#include "siphon/sip_headers.def"
#undef SIP_HEADER
};

static const char *const flag_kind_keys[] = {
#define FLAG_KIND(id, key, help) [FLAG_KIND_##id] = key,
#include "siphon/flag_kinds.def"
#undef FLAG_KIND
};
static const char *const flag_kind_helps[] = {
#define FLAG_KIND(id, key, help) [FLAG_KIND_##id] = help,
#include "siphon/flag_kinds.def"
#undef FLAG_KIND
};
static const char *const action_keywords[] = {
#define ACTION(id, key, terminal, help) [ACTION_##id] = key,
#include "siphon/actions.def"
#undef ACTION
};
static const char *const action_helps[] = {
#define ACTION(id, key, terminal, help) [ACTION_##id] = help,
#include "siphon/actions.def"
#undef ACTION
};
static const bool action_terminals[] = {
#define ACTION(id, key, terminal, help) [ACTION_##id] = terminal,
#include "siphon/actions.def"
#undef ACTION
};
static const char *const transport_names[] = {
#define TRANSPORT(id, name) [TRANSPORT_##id] = name,
#include "siphon/transports.def"
#undef TRANSPORT
};

static const char *const dispatch_by_names[] = {
#define DISPATCH_BY(id, name, help) [DISPATCH_BY_##id] = name,
#include "siphon/dispatch_by.def"
#undef DISPATCH_BY
};

_Static_assert(COUNT_OF(dispatch_by_names) == DISPATCH_BY__COUNT, "dispatch table");
_Static_assert(COUNT_OF(flag_kind_keys) == FLAG_KIND__COUNT, "flag kind table");
_Static_assert(COUNT_OF(action_keywords) == ACTION__COUNT, "action table");
_Static_assert(COUNT_OF(transport_names) == TRANSPORT__COUNT, "transport table");
_Static_assert(COUNT_OF(verdict_names) == SIP_VERDICT__COUNT, "verdict table");
_Static_assert(COUNT_OF(reason_names) == SIP_REASON__COUNT, "reason table");
_Static_assert(COUNT_OF(method_names) == SIP_METHOD__COUNT, "method table");
_Static_assert(COUNT_OF(header_names) == SIP_HDR__COUNT, "header table");

#define LOOKUP(table, i) ((i) < COUNT_OF(table) ? (table)[i] : "?")

const char *sip_verdict_name(unsigned v) { return LOOKUP(verdict_names, v); }
const char *sip_verdict_help(unsigned v) { return LOOKUP(verdict_helps, v); }
const char *sip_reason_name(unsigned r) { return LOOKUP(reason_names, r); }
const char *sip_reason_help(unsigned r) { return LOOKUP(reason_helps, r); }
const char *sip_method_name(unsigned m) { return LOOKUP(method_names, m); }
const char *sip_header_name(unsigned h) { return LOOKUP(header_names, h); }

const char *flag_kind_key(unsigned k) { return LOOKUP(flag_kind_keys, k); }
const char *flag_kind_help(unsigned k) { return LOOKUP(flag_kind_helps, k); }
const char *action_keyword(unsigned a) { return LOOKUP(action_keywords, a); }
const char *action_help(unsigned a) { return LOOKUP(action_helps, a); }
const char *transport_name(unsigned t) { return LOOKUP(transport_names, t); }
const char *dispatch_by_name(unsigned d) { return LOOKUP(dispatch_by_names, d); }

bool action_is_terminal(unsigned a)
{
	return a < COUNT_OF(action_terminals) && action_terminals[a];
}

enum sip_verdict sip_reason_verdict(unsigned r)
{
	return r < COUNT_OF(reason_verdicts) ? (enum sip_verdict)reason_verdicts[r]
					     : SIP_VERDICT_DROP;
}

char sip_header_compact(unsigned h)
{
	return h < COUNT_OF(header_compacts) ? header_compacts[h] : 0;
}

static int index_of(const char *const *table, unsigned n, const char *name)
{
	for (unsigned i = 0; i < n; i++)
		if (strcmp(table[i], name) == 0)
			return (int)i;
	return -1;
}

int sip_reason_from_name(const char *name)
{
	return index_of(reason_names, COUNT_OF(reason_names), name);
}

int sip_verdict_from_name(const char *name)
{
	return index_of(verdict_names, COUNT_OF(verdict_names), name);
}

int sip_method_from_name(const char *name)
{
	int m = index_of(method_names, COUNT_OF(method_names), name);
	return m > 0 ? m : -1;
}

int action_from_keyword(const char *keyword)
{
	return index_of(action_keywords, COUNT_OF(action_keywords), keyword);
}

int transport_from_name(const char *name)
{
	for (unsigned i = 0; i < COUNT_OF(transport_names); i++)
		if (strcasecmp(transport_names[i], name) == 0)
			return (int)i;
	return -1;
}
