/* Fuzz harness over the dispatcher.list importer (siphonctl
 * import-dispatcher, docs/migrating.md). Besides "no crash, no leak", it
 * checks what the importer promises (abort() on a breach): a refused list
 * says why as "NAME:..." and writes nothing; an accepted one gives a
 * config that siphon's own loader takes, with one pool per pool reported,
 * and notes in line order within the input's lines. The first byte picks
 * whether --control is given. */
#include <errno.h>
#include <string.h>

#include "fuzz_check.h"

#include "config.h"
#include "dispatcher_import.h"

#define NAME "fuzz.list"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *control = size && (data[0] & 1) ? "198.51.100.2" : NULL;
	struct siphon_config *cfg = NULL;
	struct config_error err;
	struct dsi_result r;
	size_t lines = 1;
	int rc;

	if (size) /* the first byte is the switch, not the text */
		data++, size--;
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	rc = dsi_import(NAME, (const char *)data, size, control, &r);
	for (size_t i = 0; i < r.n_notes; i++) {
		CHECK(r.notes[i].line >= 1 && (size_t)r.notes[i].line <= lines);
		CHECK(i == 0 || r.notes[i - 1].line <= r.notes[i].line);
		CHECK(memchr(r.notes[i].text, 0, sizeof(r.notes[i].text)) && r.notes[i].text[0]);
	}
	if (rc) {
		CHECK(rc == -EINVAL || rc == -ENOMEM);
		CHECK(!r.config && r.n_pools == 0);
		CHECK(strncmp(r.error, NAME ":", strlen(NAME ":")) == 0 &&
		      strlen(r.error) > strlen(NAME ": "));
		dsi_result_free(&r);
		return 0;
	}
	CHECK(r.config && r.n_pools >= 1 && r.n_pools <= TABLES_MAX_POOLS);
	rc = config_load_text("fuzz.conf", r.config, &cfg, &err);
	CHECK(rc == 0);
	CHECK(cfg->n_pools == r.n_pools && cfg->n_rules == 1);
	CHECK(!control == (cfg->tables.n_control_addrs == 0));
	for (size_t i = 0; i < r.n_pools; i++) {
		CHECK(cfg->pools[i].n_nodes == r.pools[i].n_nodes);
		CHECK((cfg->pools[i].probe_line != 0) == r.pools[i].probe);
		CHECK(i == 0 || r.pools[i - 1].set < r.pools[i].set);
	}
	config_free(cfg);
	dsi_result_free(&r);
	return 0;
}
