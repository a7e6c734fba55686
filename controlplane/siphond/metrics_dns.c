/* The nodes given by name in /metrics (docs/metrics.md, docs/dns.md):
 * per name, how often it was resolved and failed, how many nodes its last
 * good answer holds and whether it is failing now (the last answer kept). */
#include "dns.h"
#include "metrics.h"

static void name_labels(struct mbuf *b, const struct dns_entry *e)
{
	mbuf_printf(b, "{pool=\"");
	mbuf_label(b, e->pool);
	mbuf_printf(b, "\",name=\"");
	mbuf_label(b, e->spec.name);
	mbuf_printf(b, "\",query=\"");
	mbuf_label(b, e->query);
	mbuf_printf(b, "\"}");
}

static uint64_t v_resolutions(const struct dns_entry *e) { return e->resolutions; }
static uint64_t v_failures(const struct dns_entry *e) { return e->failures; }
static uint64_t v_changes(const struct dns_entry *e) { return e->changes; }
static uint64_t v_nodes(const struct dns_entry *e) { return e->n_nodes; }
static uint64_t v_failing(const struct dns_entry *e) { return e->failing; }

void metrics_dns(struct mbuf *b, const struct dns *dns)
{
	static const struct {
		const char *name, *type, *help;
		uint64_t (*value)(const struct dns_entry *);
	} fams[] = {
		{ "siphon_dns_resolutions_total", "counter",
		  "Answers received for the node name (each resolution, its TTL run out).",
		  v_resolutions },
		{ "siphon_dns_failures_total", "counter",
		  "Resolutions of the node name that failed (the last good answer kept).",
		  v_failures },
		{ "siphon_dns_changes_total", "counter",
		  "Answers that changed the name's nodes (each a new generation).", v_changes },
		{ "siphon_dns_nodes", "gauge", "Nodes the name's last good answer holds.",
		  v_nodes },
		{ "siphon_dns_failing", "gauge",
		  "1 while the name's last resolution failed (its last good answer is kept).",
		  v_failing },
	};

	if (!dns)
		return;
	for (size_t k = 0; k < sizeof(fams) / sizeof(fams[0]); k++) {
		metrics_family(b, fams[k].name, fams[k].type, fams[k].help);
		for (unsigned i = 0; i < CONFIG_MAX_NAMES; i++) {
			const struct dns_entry *e = &dns->e[i];

			if (!e->used)
				continue;
			mbuf_printf(b, "%s", fams[k].name);
			name_labels(b, e);
			mbuf_printf(b, " %llu\n", (unsigned long long)fams[k].value(e));
		}
	}
}
