/* Writes the seed corpus of fuzz_blob.c: real blobs of a few small configs
 * (small Maglev tables keep them a few KB), each twice: with selector byte
 * 1 (the harness seals it again after a mutation) and 0 (as is).
 * Usage: blob-seeds DIR (tests/fuzz/corpus/blob). Not a test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blob_write.h"
#include "config.h"

static const char *const configs[] = {
	/* every flag kind, two pools, v4 and v6 prefixes, patterns, expr flags */
	"balancer = { addresses = [\"198.51.100.10\", \"2001:db8:10::10\"];\n"
	"  names = [\"lb.example.com\"]; control = [\"198.51.100.2\"]; hash_seed = 0x5eed; };\n"
	"flags = (\n"
	"  { name = \"INSIDE\"; source = [\"198.51.100.0/24\", \"2001:db8:5::/48\"]; },\n"
	"  { name = \"CARRIER\"; source = [\"192.0.2.0/25\"]; },\n"
	"  { name = \"OPTIONS\"; method = \"OPTIONS\"; },\n"
	"  { name = \"TO_SELF\"; to_self = true; },\n"
	"  { name = \"PROBE\"; own_probe_answer = true; },\n"
	"  { name = \"DIALOG\"; in_dialog = true; },\n"
	"  { name = \"TLS\"; transport = [\"TLS\"]; },\n"
	"  { name = \"UA\"; header = \"User-Agent\"; caseless = true; match = \"scanner\"; },\n"
	"  { name = \"ESNET\"; header = \"Resource-Priority\"; match = \"esnet\\\\.[0-9]\"; },\n"
	"  { name = \"ROUTE\"; header = \"Route\"; present = true; },\n"
	"  { name = \"BAD\"; expr = \"UA and not INSIDE\"; }\n"
	");\n"
	"pools = (\n"
	"  { name = \"core\"; maglev_size = 31; nodes = ( { name = \"b1\"; address = \"198.51.100.21\"; },\n"
	"      { name = \"b2\"; address = \"198.51.100.22\"; weight = 50; } ); },\n"
	"  { name = \"nat\"; mode = \"nat\"; maglev_size = 13; nodes = (\n"
	"      { name = \"a2\"; address = \"2001:db8:10::31\"; port = 5070; } ); }\n"
	");\n"
	"route = (\n"
	"  { when = \"BAD\"; then = \"drop\"; },\n"
	"  { when = \"PROBE\"; then = \"punt\"; },\n"
	"  { when = \"OPTIONS and not INSIDE\"; then = \"rate-limit 10/s\"; },\n"
	"  { when = \"OPTIONS and TO_SELF\"; then = \"reply 200 \\\"OK\\\"\"; },\n"
	"  { when = \"CARRIER or ESNET or (ROUTE and DIALOG) or TLS\"; then = \"pool nat\"; },\n"
	"  { then = \"pool core\"; }\n"
	");\n",
	/* encap, no patterns */
	"balancer = { addresses = [\"198.51.100.10\"]; mac = \"02:00:00:00:00:0a\"; };\n"
	"flags = ( { name = \"ENC\"; source = [\"203.0.113.128/25\"]; } );\n"
	"pools = ( { name = \"encap\"; mode = \"encap\"; encap_source = [\"198.51.100.2\"];\n"
	"  maglev_size = 7; nodes = ( { name = \"e1\"; address = \"198.51.100.41\"; },\n"
	"  { name = \"e2\"; address = \"198.51.100.42\"; id = \"b1\"; } ); } );\n"
	"route = ( { when = \"ENC\"; then = \"drop\"; }, { then = \"pool encap\"; } );\n",
	/* nothing but a rule */
	"route = ({ then = \"drop\"; });\n",
};

static int put(const char *dir, unsigned n, unsigned char sel, const void *blob, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/seed-%u-%u", dir, n, sel);
	f = fopen(path, "wb");
	if (!f || fputc(sel, f) == EOF || fwrite(blob, 1, len, f) != len || fclose(f)) {
		perror(path);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static uint16_t previous[31];
	int failed = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	for (unsigned i = 0; i < sizeof(configs) / sizeof(configs[0]); i++) {
		struct siphon_config *cfg;
		struct config_error err;
		void *blob;
		size_t len;

		if (config_load_text("seed.conf", configs[i], &cfg, &err)) {
			fprintf(stderr, "config %u: %s\n", i, err.text);
			return 1;
		}
		if (i == 0) { /* a previous table in its grace period, a node down */
			struct pool_table *p = &cfg->tables.pools[0];
			for (unsigned k = 0; k < 31; k++)
				previous[k] = (uint16_t)(k % 3 == 2 ? 0xffff : k % 2);
			p->previous = (struct maglev_table){ 31, previous };
			p->previous_until = 100;
			cfg->nodes[0].up = false;
		}
		if (tables_blob_build(&cfg->tables, 1000 + i, &blob, &len))
			return 1;
		failed |= put(argv[1], i, 1, blob, len) | put(argv[1], i, 0, blob, len);
		free(blob);
		config_free(cfg);
	}
	return failed;
}
