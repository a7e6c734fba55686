/* Named enums shared by every part of siphon, generated from the .def
 * X-macro lists beside this file. Pure C: the BPF program includes it too. */
#ifndef SIPHON_NAMES_H
#define SIPHON_NAMES_H

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
/* Returns the enum value for a name, or -1 when it is unknown. */
int sip_reason_from_name(const char *name);
int sip_verdict_from_name(const char *name);
#endif

#endif
