/* A pool's retry_after_s (docs/config.md "pools"): loaded or refused with
 * its line and why, and carried by siphond's 503 for that pool when it has
 * no live node (controlplane/siphond/punt_answer.c, docs/answers.md). */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "config.h"
#include "punt.h"

/* Every node at weight 0: no pool has a live node. Line numbers matter. */
static const char CONF_FMT[] =
	"balancer = { addresses = [\"198.51.100.10\"]; };\n"                        /* 1 */
	"flags = ( { name = \"MSG\"; method = \"MESSAGE\"; },\n"                     /* 2 */
	"          { name = \"SUB\"; method = \"SUBSCRIBE\"; } );\n"                 /* 3 */
	"pools = (\n"                                                               /* 4 */
	"  { name = \"a\"; retry_after_s = %s;\n"                                    /* 5 */
	"    nodes = ( { name = \"n1\"; address = \"198.51.100.21\"; weight = 0; } ); },\n"
	"  { name = \"b\";\n"                                                        /* 7 */
	"    nodes = ( { name = \"n2\"; address = \"198.51.100.22\"; weight = 0; } ); },\n"
	"  { name = \"c\"; retry_after_s = 0;\n"                                     /* 9 */
	"    nodes = ( { name = \"n3\"; address = \"198.51.100.23\"; weight = 0; } ); }\n"
	");\n"
	"route = ( { when = \"MSG\"; then = \"pool b\"; },\n"
	"          { when = \"SUB\"; then = \"pool c\"; },\n"
	"          { then = \"pool a\"; } );\n";

/* CONF_FMT with pool a's retry_after_s = a. */
static struct siphon_config *load(const char *a)
{
	char text[2048];
	struct config_error err;
	struct siphon_config *cfg = NULL;

	snprintf(text, sizeof(text), CONF_FMT, a);
	if (config_load_text("test.conf", text, &cfg, &err))
		fail_msg("config did not load: %s", err.text);
	return cfg;
}

static void config_values(void **state)
{
	struct siphon_config *cfg = load("7");

	(void)state;
	assert_int_equal(cfg->n_pools, 3);
	assert_int_equal(cfg->pools[0].retry_after_s, 7);
	assert_int_equal(cfg->pools[0].retry_after_line, 5);
	assert_int_equal(cfg->pools[1].retry_after_s, CONFIG_RETRY_AFTER_DEFAULT_S);
	assert_int_equal(cfg->pools[1].retry_after_line, 0); /* left at its default */
	assert_int_equal(cfg->pools[2].retry_after_s, 0);
	assert_int_equal(cfg->pools[2].retry_after_line, 9);
	config_free(cfg);
}

static void config_refused(void **state)
{
	static const struct {
		const char *value, *want;
	} bad[] = {
		{ "86401", "test.conf:2: pool a: retry_after_s: 86401 is out of range (0 to 86400)" },
		{ "-1", "test.conf:2: pool a: retry_after_s: -1 is out of range (0 to 86400)" },
		{ "\"30\"", "test.conf:2: pool a: retry_after_s: expected a whole number from 0 to 86400" },
		{ "1.5", "test.conf:2: pool a: retry_after_s: expected a whole number from 0 to 86400" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[512];
		struct config_error err;
		struct siphon_config *cfg = NULL;

		snprintf(text, sizeof(text),
			 "route = ( { then = \"pool a\"; } );\n"
			 "pools = ( { name = \"a\"; retry_after_s = %s;\n"
			 "            nodes = ( { name = \"n1\"; address = \"198.51.100.21\"; } ); } );\n",
			 bad[i].value);
		assert_int_not_equal(config_load_text("test.conf", text, &cfg, &err), 0);
		if (!strstr(err.text, bad[i].want))
			fail_msg("retry_after_s = %s: got '%s', want '%s'", bad[i].value, err.text,
				 bad[i].want);
	}
}

/* The answer to METHOD (an initial request) from 198.51.100.5:5070. */
static const char *answer(const struct siphon_config *cfg, const char *method)
{
	static uint8_t out[PUNT_ANSWER_CAP + 1];
	uint32_t retry[TABLES_MAX_POOLS] = { 0 };
	struct packet_meta pm = { .family = AF_INET, .transport = TRANSPORT_UDP, .sport = 5070,
				  .dport = 5060 };
	struct classifier cls;
	struct punt_result r;
	char req[512];
	int n = snprintf(req, sizeof(req),
			 "%s sip:bob@198.51.100.10 SIP/2.0\r\n"
			 "Via: SIP/2.0/UDP 198.51.100.5:5070;branch=z9hG4bK-r1\r\n"
			 "Max-Forwards: 70\r\n"
			 "From: <sip:alice@example.com>;tag=a1\r\n"
			 "To: <sip:bob@example.com>\r\n"
			 "Call-ID: ra-%s@h\r\n"
			 "CSeq: 1 %s\r\n"
			 "Content-Length: 0\r\n\r\n",
			 method, method, method);

	inet_pton(AF_INET, "198.51.100.5", pm.src);
	inet_pton(AF_INET, "198.51.100.10", pm.dst);
	for (uint32_t i = 0; i < cfg->n_pools; i++)
		retry[i] = cfg->pools[i].retry_after_s; /* as punt.c fills it */
	assert_int_equal(classifier_init(&cls, &cfg->tables), 0);
	punt_answer(&cls, 1000, (const uint8_t *)req, (size_t)n, &pm, retry, out, PUNT_ANSWER_CAP,
		    &r);
	classifier_free(&cls);
	assert_int_equal(r.outcome, PUNT_ANSWERED_503);
	assert_int_equal(r.code, 503);
	out[r.len] = '\0';
	assert_non_null(strstr((const char *)out, "SIP/2.0 503 Service Unavailable\r\n"));
	return (const char *)out;
}

static void answer_carries_the_pool_value(void **state)
{
	struct siphon_config *cfg = load("7");

	(void)state;
	assert_non_null(strstr(answer(cfg, "INVITE"), "\r\nRetry-After: 7\r\nContent-Length: 0\r\n"));
	assert_non_null(strstr(answer(cfg, "MESSAGE"), "\r\nRetry-After: 30\r\n")); /* default */
	assert_null(strstr(answer(cfg, "SUBSCRIBE"), "Retry-After")); /* 0: none */
	config_free(cfg);
}

/* The largest value is written whole. */
static void answer_largest_value(void **state)
{
	struct siphon_config *cfg = load("86400");

	(void)state;
	assert_non_null(strstr(answer(cfg, "INVITE"), "\r\nRetry-After: 86400\r\n"));
	config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(config_values),
		cmocka_unit_test(config_refused),
		cmocka_unit_test(answer_carries_the_pool_value),
		cmocka_unit_test(answer_largest_value),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
