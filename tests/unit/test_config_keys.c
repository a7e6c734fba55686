/* config_keys.c against the loader: every integer key loads at its default,
 * its min and its max and is refused one outside, naming the key and the
 * range; every section refuses an unknown key and lists exactly the
 * table's keys; every key of the table is one the loader takes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "config_keys.h"

/* A config with one place per section for the key under test. */
static const char template[] =
	"balancer = { addresses = [\"192.0.2.1\"]; control = [\"192.0.2.1\"]; %s };\n"
	"flags = ( { name = \"f\"; method = \"INVITE\"; %s } );\n"
	"pools = ( { name = \"core\"; %s probe = { %s };\n"
	"            nodes = ( { name = \"a\"; address = \"192.0.2.10\"; %s } ); } );\n"
	"route = ( { %s then = \"pool core\"; } );\n";

static const char *const sections[] = { "balancer", "flags[]", "pools[]", "pools[].probe",
					 "pools[].nodes[]", "route[]" };
#define N_SECTIONS (sizeof(sections) / sizeof(sections[0]))

/* Loads the template with `setting` in `section`: 0, or the loader's error in err. */
static int load_with(const char *section, const char *setting, struct config_error *err)
{
	const char *at[N_SECTIONS];
	char text[2048];
	struct siphon_config *cfg;
	int rc;

	for (size_t i = 0; i < N_SECTIONS; i++)
		at[i] = strcmp(sections[i], section) == 0 ? setting : "";
	snprintf(text, sizeof(text), template, at[0], at[1], at[2], at[3], at[4], at[5]);
	rc = config_load_text("t.conf", text, &cfg, err);
	if (!rc)
		config_free(cfg);
	return rc;
}

/* What a key needs beside it to load at all. */
static const char *companion(const struct config_key *k)
{
	if (strcmp(k->key, "gue_port") == 0)
		return "mode = \"encap\"; encap_source = \"192.0.2.1\"; ";
	if (strncmp(k->key, "on_node_change_", 15) == 0)
		return "on_node_change = \"/bin/true\"; ";
	return "";
}

static void expect_ok(const struct config_key *k, unsigned long v)
{
	char setting[160];
	struct config_error err;

	snprintf(setting, sizeof(setting), "%s%s = %luL;", companion(k), k->key, v);
	if (load_with(k->section, setting, &err))
		fail_msg("%s %s = %lu: %s", k->section, k->key, v, err.text);
}

static void expect_refused(const struct config_key *k, long long v)
{
	char setting[160], want[128];
	struct config_error err;

	snprintf(setting, sizeof(setting), "%s%s = %lldL;", companion(k), k->key, v);
	snprintf(want, sizeof(want), "%s: %lld is out of range (%lu to %lu)", k->key, v, k->min,
		 k->max);
	assert_int_not_equal(load_with(k->section, setting, &err), 0);
	if (!strstr(err.text, want))
		fail_msg("%s %s = %lld: '%s' has no '%s'", k->section, k->key, v, err.text, want);
}

static void test_integer_keys(void **state)
{
	const struct config_key *keys;
	size_t n = config_keys(&keys), ints = 0;

	(void)state;
	assert_int_equal(load_with("", "", &(struct config_error){ 0 }), 0);
	for (size_t i = 0; i < n; i++) {
		const struct config_key *k = &keys[i];

		if (k->type != CK_INT)
			continue;
		ints++;
		assert_true(k->min <= k->max);
		if (k->dflt) /* 0: none (gue_port) */
			expect_ok(k, k->dflt);
		/* maglev_size takes primes only: 3 and the max are primes */
		expect_ok(k, k->min);
		expect_ok(k, k->max);
		expect_refused(k, (long long)k->min - 1);
		expect_refused(k, (long long)k->max + 1);
	}
	assert_int_equal(ints, 15);
}

/* An unknown key in each section: refused, and the known ones listed are the table's. */
static void test_sections_list_the_table(void **state)
{
	const struct config_key *keys;
	size_t n = config_keys(&keys);

	(void)state;
	for (size_t s = 0; s < N_SECTIONS; s++) {
		char want[512] = "unknown key 'bogus' (known: ";
		struct config_error err;
		bool first = true;

		for (size_t i = 0; i < n; i++)
			if (strcmp(keys[i].section, sections[s]) == 0) {
				snprintf(want + strlen(want), sizeof(want) - strlen(want), "%s%s",
					 first ? "" : ", ", keys[i].key);
				first = false;
			}
		strcat(want, ")");
		assert_int_not_equal(load_with(sections[s], "bogus = 1;", &err), 0);
		if (!strstr(err.text, want))
			fail_msg("%s: '%s' has no '%s'", sections[s], err.text, want);
	}
}

/* Every key of the table is known to the loader: setting it is never
 * "unknown key" (its value may be refused for other reasons). */
static void test_every_key_is_known(void **state)
{
	const struct config_key *keys;
	size_t n = config_keys(&keys);

	(void)state;
	for (size_t i = 0; i < n; i++) {
		char setting[128];
		struct config_error err = { 0 };

		if (!*keys[i].section || strcmp(keys[i].key, "name") == 0 ||
		    strcmp(keys[i].key, "then") == 0 || strcmp(keys[i].key, "address") == 0 ||
		    strcmp(keys[i].key, "nodes") == 0 || strcmp(keys[i].key, "probe") == 0 ||
		    strcmp(keys[i].key, "method") == 0)
			continue; /* the template sets these already */
		snprintf(setting, sizeof(setting), "%s = 1;", keys[i].key);
		load_with(keys[i].section, setting, &err);
		if (strstr(err.text, "unknown key"))
			fail_msg("%s %s: %s", keys[i].section, keys[i].key, err.text);
	}
}

static void test_man_page(void **state)
{
	const struct config_key *keys;
	size_t n = config_keys(&keys), len;
	char *text;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	assert_int_equal(config_keys_man(f), 0);
	fclose(f);
	for (size_t i = 0; i < n; i++) {
		char want[96];

		snprintf(want, sizeof(want), ".B %s\n", keys[i].key);
		assert_non_null(strstr(text, want));
	}
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_integer_keys),
		cmocka_unit_test(test_sections_list_the_table),
		cmocka_unit_test(test_every_key_is_known),
		cmocka_unit_test(test_man_page),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
