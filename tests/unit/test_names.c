/* The named enums (X-macro .def lists) are complete and consistent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "siphon/names.h"

static void reasons_named_once(void **state)
{
	(void)state;
	for (unsigned i = 0; i < SIP_REASON__COUNT; i++) {
		const char *n = sip_reason_name(i);
		assert_true(strlen(n) > 0);
		assert_true(strlen(sip_reason_help(i)) > 0);
		assert_int_equal(sip_reason_from_name(n), (int)i);
		for (const char *p = n; *p; p++) /* names are lower_snake_case */
			assert_true((*p >= 'a' && *p <= 'z') || *p == '_');
	}
	assert_int_equal(sip_reason_from_name("no-such-reason"), -1);
	assert_string_equal(sip_reason_name(SIP_REASON__COUNT), "?");
}

static void reason_verdicts(void **state)
{
	(void)state;
	assert_int_equal(sip_reason_verdict(SIP_REASON_OK), SIP_VERDICT_FORWARD);
	assert_int_equal(sip_reason_verdict(SIP_REASON_STUN_BINDING), SIP_VERDICT_PUNT);
	assert_int_equal(sip_reason_verdict(SIP_REASON_RULE_POOL), SIP_VERDICT_FORWARD);
	assert_int_equal(sip_reason_verdict(SIP_REASON_RULE_PUNT), SIP_VERDICT_PUNT);
	assert_int_equal(sip_reason_verdict(SIP_REASON_RULE_REPLY), SIP_VERDICT_REPLY);
	assert_int_equal(sip_reason_verdict(SIP_REASON_NO_LIVE_NODE), SIP_VERDICT_PUNT);
	/* every scanner reason but ok and stun_binding drops */
	for (unsigned i = 0; i < SIP_REASON_RULE_POOL; i++)
		if (i != SIP_REASON_OK && i != SIP_REASON_STUN_BINDING)
			assert_int_equal(sip_reason_verdict(i), SIP_VERDICT_DROP);
	assert_int_equal(sip_reason_verdict(9999), SIP_VERDICT_DROP);
}

static void verdicts_and_methods(void **state)
{
	(void)state;
	assert_string_equal(sip_verdict_name(SIP_VERDICT_FORWARD), "forward");
	assert_string_equal(sip_verdict_name(SIP_VERDICT_DROP), "drop");
	assert_string_equal(sip_verdict_name(SIP_VERDICT_PUNT), "punt");
	assert_int_equal(sip_verdict_from_name("punt"), SIP_VERDICT_PUNT);
	assert_string_equal(sip_method_name(SIP_METHOD_INVITE), "INVITE");
	assert_string_equal(sip_header_name(SIP_HDR_CALL_ID), "Call-ID");
	assert_int_equal(sip_header_compact(SIP_HDR_CALL_ID), 'i');
	assert_int_equal(sip_header_compact(SIP_HDR_CSEQ), 0);
	assert_int_equal(sip_method_from_name("OPTIONS"), SIP_METHOD_OPTIONS);
	assert_int_equal(sip_method_from_name("options"), -1); /* methods are case-sensitive */
	assert_int_equal(sip_method_from_name(""), -1);
	assert_int_equal(action_from_keyword("rate-limit"), ACTION_RATE_LIMIT);
	assert_false(action_is_terminal(ACTION_RATE_LIMIT));
	assert_true(action_is_terminal(ACTION_POOL));
	assert_int_equal(transport_from_name("tls"), TRANSPORT_TLS);
	assert_int_equal(transport_from_name("QUIC"), -1);
	assert_string_equal(flag_kind_key(FLAG_KIND_HEADER_MATCH), "match");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reasons_named_once),
		cmocka_unit_test(reason_verdicts),
		cmocka_unit_test(verdicts_and_methods),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
