/* What each lane of the fast path makes of a config: the limits of the XDP
 * kernel lane, and rule by rule whether the kernel decides it or hands the
 * message to the AF_XDP lane (docs/config.md "Which rules the kernel
 * decides"). The kernel evaluates the route in three values; this walks the
 * same facts statically. */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "siphon/lane_limits.h"

/* Why the kernel may not know a flag, as bits. */
enum {
	UNSURE_MATCH = 1,    /* a Hyperscan match, when its header is present */
	UNSURE_TO_SELF = 2,  /* to_self of a request */
	UNSURE_PROBE = 4,    /* own_probe_answer of a response */
};

/* The flags a flag depends on, itself included (expr flags expanded). */
static void depends(const struct siphon_config *cfg, unsigned flag, struct flagset *out)
{
	if (flagset_has(out, flag))
		return;
	flagset_set(out, flag);
	if (cfg->flags[flag].kind != FLAG_KIND_EXPR)
		return;
	for (uint32_t i = 0; i < cfg->tables.n_expr_terms; i++) {
		const struct dnf_term *t = &cfg->tables.expr_terms[i];
		if (t->target != flag)
			continue;
		for (unsigned f = 0; f < flag; f++) /* operands are defined before */
			if (flagset_has(&t->must, f) || flagset_has(&t->must_not, f))
				depends(cfg, f, out);
	}
}

static unsigned unsure_of(const struct siphon_config *cfg, const struct flagset *flags,
			  char *headers, size_t size)
{
	const struct compiled_tables *t = &cfg->tables;
	unsigned why = 0;
	size_t used = 0;

	headers[0] = 0;
	for (unsigned f = 0; f < cfg->n_flags; f++) {
		if (!flagset_has(flags, f))
			continue;
		if (cfg->flags[f].kind == FLAG_KIND_TO_SELF)
			why |= UNSURE_TO_SELF;
		if (cfg->flags[f].kind == FLAG_KIND_OWN_PROBE_ANSWER)
			why |= UNSURE_PROBE;
		if (cfg->flags[f].kind != FLAG_KIND_HEADER_MATCH)
			continue;
		why |= UNSURE_MATCH;
		for (uint32_t p = 0; p < t->n_patterns; p++) {
			const char *h = t->headers.hdr[t->patterns[p].header].lname;
			if (t->patterns[p].flag == f && !strstr(headers, h) && used + strlen(h) + 3 < size)
				used += (size_t)snprintf(headers + used, size - used, "%s%s",
							 used ? " or " : "", h);
		}
	}
	return why;
}

static void describe_rule(const struct siphon_config *cfg, uint32_t r, FILE *out)
{
	const struct compiled_tables *t = &cfg->tables;
	const struct rule_action *a = &t->actions[r];
	struct flagset flags = { { 0 } };
	char headers[256], when[512] = "";
	unsigned why;

	for (uint32_t i = 0; i < t->n_rule_terms; i++)
		for (unsigned f = 0; t->rule_terms[i].target == r && f < cfg->n_flags; f++)
			if (flagset_has(&t->rule_terms[i].must, f) ||
			    flagset_has(&t->rule_terms[i].must_not, f))
				depends(cfg, f, &flags);
	why = unsure_of(cfg, &flags, headers, sizeof(headers));
	if (why & UNSURE_MATCH)
		snprintf(when, sizeof(when), "a message with %s", headers);
	if (why & UNSURE_TO_SELF)
		snprintf(when + strlen(when), sizeof(when) - strlen(when), "%sa request (to_self)",
			 when[0] ? ", " : "");
	if (why & UNSURE_PROBE)
		snprintf(when + strlen(when), sizeof(when) - strlen(when),
			 "%sa response (own_probe_answer)", when[0] ? ", " : "");
	fprintf(out, "  line %d: ", cfg->rules[r].line);
	if (a->kind == ACTION_RATE_LIMIT)
		fputs("AF_XDP lane for every message it may hold for (the token buckets are "
		      "there)\n", out);
	else if (a->kind == ACTION_POOL && t->pools[a->pool].mode != POOL_MODE_DSR)
		fprintf(out, "AF_XDP lane (pool %s is not dsr: the kernel rewrites dsr only)\n",
			t->pool_names[a->pool]);
	else if (!why)
		fputs("decided in the kernel\n", out);
	else
		fprintf(out, "in the kernel, except %s: AF_XDP lane, and so is every rule below "
			"it for that message\n", when);
}

void config_describe_lanes(const struct siphon_config *cfg, FILE *out)
{
	char err[256];

	fprintf(out, "lanes: the pipeline (--io pcap, AF_XDP, --io dpdk) takes this config; "
		"--io dpdk gives what it punts or passes to the kernel on its exception "
		"interface (--exception-iface, docs/dpdk.md)\n");
	if (kernel_lane_fits(&cfg->tables, err, sizeof(err)) != 0) {
		fprintf(out, "lanes: --io xdp refuses it: %s\n", err);
		return;
	}
	fprintf(out, "lanes: the XDP kernel lane takes it (at most %d pools, %d nodes, %d rules, "
		"%d route terms, %d VIPs per family); rule by rule:\n",
		SK_MAX_POOLS, SK_MAX_NODES, SK_MAX_RULES, SK_MAX_RULE_TERMS, SIPHON_XDP_MAX_VIPS);
	for (uint32_t r = 0; r < cfg->n_rules; r++)
		describe_rule(cfg, r, out);
}
