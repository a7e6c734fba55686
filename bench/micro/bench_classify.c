/* Micro-benchmark of classify + decide on top of the scanner, and of
 * compiling a config.
 *
 *   bench-classify classify CONFIG SOURCE-ADDR FILE [--runs R] [--iters N]
 *       ns per message for scan alone and for scan + classify + decide
 *   bench-classify compile N_PREFIXES N_PATTERNS [--runs R]
 *       ms to load and compile a generated config of that size
 *   bench-classify mix CONFIG SOURCE-ADDR FILE,FILE,... [--runs R] [--iters N] [--callgrind]
 *       over a mix of messages, ns per message of classify + decide with
 *       every flag (classify_decide_full) and with the flags the route
 *       needs (classify_decide_lazy), and the Hyperscan calls per message;
 *       --callgrind runs each --iters messages once, for
 *       valgrind --tool=callgrind --toggle-collect=classify_decide_full
 *       (or _lazy) */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "siphon/classify.h"
#include "config.h"

static volatile unsigned sink;

__attribute__((noinline)) unsigned classify_decide_full(const struct classifier *cls,
							const uint8_t *buf, const struct sip_msg *msg,
							const struct packet_meta *pm);
static unsigned long spared; /* scans the literal pre-check made unnecessary */

__attribute__((noinline)) unsigned classify_decide_lazy(const struct classifier *cls,
							const uint8_t *buf, const struct sip_msg *msg,
							const struct packet_meta *pm, unsigned *scans);

__attribute__((noinline)) unsigned classify_decide_full(const struct classifier *cls,
							const uint8_t *buf, const struct sip_msg *msg,
							const struct packet_meta *pm)
{
	struct flagset flags;
	struct decision d;

	classify(cls, buf, msg, pm, &flags);
	decide(cls->tables, &flags, &d);
	return (unsigned)d.rule;
}

__attribute__((noinline)) unsigned classify_decide_lazy(const struct classifier *cls,
							const uint8_t *buf, const struct sip_msg *msg,
							const struct packet_meta *pm, unsigned *scans)
{
	struct flag_eval e;
	struct decision d;

	flag_eval_init(&e, cls, buf, msg, pm);
	decide_lazy(&e, &d);
	*scans += e.hs_scans - e.hs_spared; /* Hyperscan calls made */
	spared += e.hs_spared;
	return (unsigned)d.rule;
}

#define MIX_MAX 256

static int bench_mix(const char *config, const char *source, char *files, unsigned runs,
		     unsigned long iters, bool callgrind)
{
	static uint8_t *bufs[MIX_MAX];
	static struct sip_msg msgs[MIX_MAX];
	struct config_error err;
	struct siphon_config *cfg;
	struct classifier cls;
	struct packet_meta pm = { .transport = TRANSPORT_UDP };
	double full_ns[1000], lazy_ns[1000];
	unsigned n = 0, scans = 0, full_scans = 0;

	if (config_load(config, &cfg, &err)) {
		fprintf(stderr, "%s\n", err.text);
		return 2;
	}
	if (classifier_init(&cls, &cfg->tables))
		return 2;
	pm.family = strchr(source, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(pm.family, source, pm.src) != 1)
		return 2;
	for (char *f = strtok(files, ","); f && n < MIX_MAX; f = strtok(NULL, ",")) {
		size_t len;
		bufs[n] = bench_slurp(f, &len);
		/* only what the scanner forwards reaches classify */
		if (classifier_scan(&cls, bufs[n], len, &msgs[n]) == SIP_VERDICT_FORWARD)
			n++;
		else
			free(bufs[n]);
	}
	if (!n)
		return 2;
	spared = 0;
	for (unsigned i = 0; i < n; i++) {
		unsigned s = 0;
		classify_decide_lazy(&cls, bufs[i], &msgs[i], &pm, &s);
		scans += s;
		for (unsigned h = 0; h < cfg->tables.headers.count; h++)
			full_scans += msgs[i].extra_count[h] && (cls.pattern_headers & (1u << h));
	}
	const double spared_per_msg = (double)spared / n;
	if (callgrind) {
		unsigned acc = 0, s = 0;
		for (unsigned long k = 0; k < iters; k++)
			acc += classify_decide_full(&cls, bufs[k % n], &msgs[k % n], &pm);
		for (unsigned long k = 0; k < iters; k++)
			acc += classify_decide_lazy(&cls, bufs[k % n], &msgs[k % n], &pm, &s);
		sink = acc;
		return 0;
	}
	for (unsigned r = 0; r < runs; r++) {
		unsigned acc = 0, s = 0;
		double t0 = bench_now_ns();
		for (unsigned long k = 0; k < iters; k++)
			acc += classify_decide_full(&cls, bufs[k % n], &msgs[k % n], &pm);
		full_ns[r] = (bench_now_ns() - t0) / (double)iters;
		t0 = bench_now_ns();
		for (unsigned long k = 0; k < iters; k++)
			acc += classify_decide_lazy(&cls, bufs[k % n], &msgs[k % n], &pm, &s);
		lazy_ns[r] = (bench_now_ns() - t0) / (double)iters;
		sink = acc;
	}
	printf("{\"config\":\"%s\",\"source\":\"%s\",\"messages\":%u,\"runs\":%u,\"iters\":%lu,"
	       "\"full_ns\":%.1f,\"lazy_ns\":%.1f,\"full_hs_per_msg\":%.2f,\"lazy_hs_per_msg\":%.2f,"
	       "\"lazy_prechecked_per_msg\":%.2f}\n",
	       config, source, n, runs, iters, bench_median(full_ns, runs), bench_median(lazy_ns, runs),
	       (double)full_scans / n, (double)scans / n, spared_per_msg);
	classifier_free(&cls);
	config_free(cfg);
	return 0;
}





static int bench_classify(const char *config, const char *source, const char *file, unsigned runs,
			  unsigned long iters)
{
	struct config_error err;
	struct siphon_config *cfg;
	struct classifier cls;
	struct packet_meta pm = { .transport = TRANSPORT_UDP };
	double scan_ns[1000], full_ns[1000];
	size_t len;
	uint8_t *buf = bench_slurp(file, &len);

	if (config_load(config, &cfg, &err)) {
		fprintf(stderr, "%s\n", err.text);
		return 2;
	}
	if (classifier_init(&cls, &cfg->tables))
		return 2;
	pm.family = strchr(source, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(pm.family, source, pm.src) != 1) {
		fprintf(stderr, "bad source address %s\n", source);
		return 2;
	}
	for (unsigned r = 0; r < runs; r++) {
		struct sip_msg msg;
		struct flagset flags;
		struct decision d;
		unsigned acc = 0;
		double t0 = bench_now_ns();

		for (unsigned long i = 0; i < iters; i++) {
			classifier_scan(&cls, buf, len, &msg);
			acc += msg.reason;
		}
		scan_ns[r] = (bench_now_ns() - t0) / (double)iters;
		t0 = bench_now_ns();
		for (unsigned long i = 0; i < iters; i++) {
			classifier_scan(&cls, buf, len, &msg);
			classify(&cls, buf, &msg, &pm, &flags);
			decide(&cfg->tables, &flags, &d);
			acc += (unsigned)d.rule;
		}
		full_ns[r] = (bench_now_ns() - t0) / (double)iters;
		sink = acc;
	}
	double scan = bench_median(scan_ns, runs), full = bench_median(full_ns, runs);
	printf("{\"file\":\"%s\",\"runs\":%u,\"iters\":%lu,\"scan_ns\":%.1f,"
	       "\"scan_classify_decide_ns\":%.1f,\"classify_decide_ns\":%.1f}\n",
	       file, runs, iters, scan, full, full - scan);
	classifier_free(&cls);
	config_free(cfg);
	free(buf);
	return 0;
}

/* A config with n_prefixes IPv4 /24 prefixes over 20 flags and n_patterns
 * User-Agent / X-Carrier patterns, each its own flag. */
static char *generate_config(unsigned n_prefixes, unsigned n_patterns)
{
	size_t cap = 256 + (size_t)n_prefixes * 24 + (size_t)n_patterns * 160;
	char *text = malloc(cap);
	size_t n = 0;

	n += (size_t)snprintf(text + n, cap - n, "flags = (\n");
	for (unsigned f = 0; f < 20; f++) {
		n += (size_t)snprintf(text + n, cap - n, "{ name = \"NET%u\"; source = [", f);
		for (unsigned p = f; p < n_prefixes; p += 20)
			n += (size_t)snprintf(text + n, cap - n, "%s\"198.%u.%u.0/24\"", p == f ? "" : ",",
					      18 + (p >> 16 & 1), p >> 8 & 255 ? (p >> 8) & 255 : 0);
		n += (size_t)snprintf(text + n, cap - n, "]; },\n");
	}
	for (unsigned k = 0; k < n_patterns; k++)
		n += (size_t)snprintf(text + n, cap - n,
				      "{ name = \"PAT%u\"; header = \"%s\"; caseless = true; "
				      "match = \"agent-%u/[0-9]+\\\\.[0-9]+|tool%u\"; },\n",
				      k, k % 2 ? "User-Agent" : "X-Carrier", k, k);
	n += (size_t)snprintf(text + n, cap - n, "{ name = \"LAST\"; in_dialog = true; }\n);\n"
			      "pools = ({ name = \"core\"; nodes = ({ name = \"b1\"; address = "
			      "\"198.51.100.21\"; }); });\nroute = ({ when = \"NET0 and PAT0\"; then = "
			      "\"drop\"; }, { then = \"pool core\"; });\n");
	return text;
}

static int bench_compile(unsigned n_prefixes, unsigned n_patterns, unsigned runs)
{
	char *text = generate_config(n_prefixes, n_patterns);
	double ms[1000];

	for (unsigned r = 0; r < runs; r++) {
		struct config_error err;
		struct siphon_config *cfg;
		double t0 = bench_now_ns();
		if (config_load_text("generated", text, &cfg, &err)) {
			fprintf(stderr, "%s\n", err.text);
			return 2;
		}
		ms[r] = (bench_now_ns() - t0) / 1e6;
		config_free(cfg);
	}
	double mid = bench_median(ms, runs); /* sorts ms */
	printf("{\"prefixes\":%u,\"patterns\":%u,\"runs\":%u,\"compile_ms_median\":%.2f,"
	       "\"min\":%.2f,\"max\":%.2f}\n", n_prefixes, n_patterns, runs, mid, ms[0],
	       ms[runs - 1]);
	free(text);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned runs = 15;
	unsigned long iters = 200000;
	bool callgrind = false;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--callgrind") == 0)
			callgrind = true;
	for (int i = 1; i + 1 < argc; i++) {
		if (strcmp(argv[i], "--runs") == 0)
			runs = (unsigned)strtoul(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--iters") == 0)
			iters = strtoul(argv[i + 1], NULL, 10);
	}
	if (runs == 0 || runs > 1000 || iters == 0)
		return 2;
	if (argc >= 5 && strcmp(argv[1], "classify") == 0)
		return bench_classify(argv[2], argv[3], argv[4], runs, iters);
	if (argc >= 5 && strcmp(argv[1], "mix") == 0)
		return bench_mix(argv[2], argv[3], argv[4], runs, iters, callgrind);
	if (argc >= 4 && strcmp(argv[1], "compile") == 0)
		return bench_compile((unsigned)strtoul(argv[2], NULL, 10),
				     (unsigned)strtoul(argv[3], NULL, 10), runs < 50 ? runs : 50);
	fprintf(stderr, "usage: bench-classify classify CONFIG SOURCE FILE [--runs R] [--iters N]\n"
			"       bench-classify compile N_PREFIXES N_PATTERNS [--runs R]\n"
			"       bench-classify mix CONFIG SOURCE FILE,FILE,... [--runs R] [--iters N] [--callgrind]\n");
	return 2;
}
