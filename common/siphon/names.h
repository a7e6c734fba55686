/* Named enums shared by every part of siphon, generated from the .def
 * X-macro lists beside this file. Pure C: the BPF program includes it too. */
#ifndef SIPHON_NAMES_H
#define SIPHON_NAMES_H

#include <stdbool.h>

enum sip_verdict {
#define SIP_VERDICT(id, name, help) SIP_VERDICT_##id,
#include "sip_verdicts.def"
#undef SIP_VERDICT
	SIP_VERDICT__COUNT
};

enum sip_reason {
#define SIP_REASON(id, verdict, name, help) SIP_REASON_##id,
#include "sip_reasons.def"
#undef SIP_REASON
	SIP_REASON__COUNT
};

enum sip_method {
#define SIP_METHOD(id, name) SIP_METHOD_##id,
#include "sip_methods.def"
#undef SIP_METHOD
	SIP_METHOD__COUNT
};

enum sip_header {
#define SIP_HEADER(id, name, compact) SIP_HDR_##id,
#include "sip_headers.def"
#undef SIP_HEADER
	SIP_HDR__COUNT
};

enum flag_kind {
#define FLAG_KIND(id, key, help) FLAG_KIND_##id,
#include "flag_kinds.def"
#undef FLAG_KIND
	FLAG_KIND__COUNT
};

enum action_kind {
#define ACTION(id, key, terminal, help) ACTION_##id,
#include "actions.def"
#undef ACTION
	ACTION__COUNT
};

enum transport {
#define TRANSPORT(id, name) TRANSPORT_##id,
#include "transports.def"
#undef TRANSPORT
	TRANSPORT__COUNT
};

enum dispatch_by {
#define DISPATCH_BY(id, name, help) DISPATCH_BY_##id,
#include "dispatch_by.def"
#undef DISPATCH_BY
	DISPATCH_BY__COUNT
};

#ifndef __bpf__
/* Name tables (common/names.c). Out-of-range values give "?". */
const char *sip_verdict_name(unsigned v);
const char *sip_verdict_help(unsigned v);
const char *sip_reason_name(unsigned r);
const char *sip_reason_help(unsigned r);
enum sip_verdict sip_reason_verdict(unsigned r);
const char *sip_method_name(unsigned m);
const char *sip_header_name(unsigned h);
char sip_header_compact(unsigned h);
const char *flag_kind_key(unsigned k);
const char *flag_kind_help(unsigned k);
const char *action_keyword(unsigned a);
const char *action_help(unsigned a);
bool action_is_terminal(unsigned a);
const char *transport_name(unsigned t);
const char *dispatch_by_name(unsigned d);
/* Returns the enum value for a name, or -1 when it is unknown. */
int sip_reason_from_name(const char *name);
int sip_verdict_from_name(const char *name);
int sip_method_from_name(const char *name); /* 0 (OTHER) is never returned */
int action_from_keyword(const char *keyword);
int transport_from_name(const char *name); /* any letter case */
#endif

#endif
