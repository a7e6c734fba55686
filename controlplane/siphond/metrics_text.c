/* The Prometheus text exposition of /metrics (format 0.0.4): siphond's
 * generation, node health and probes, punt answers, and each attached
 * fast path's last counters snapshot, one family after the other, every
 * family's HELP and TYPE once (docs/metrics.md lists them all). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "siphon/node_msg.h"

void mbuf_init(struct mbuf *b, size_t max)
{
	*b = (struct mbuf){ .max = max };
}

void mbuf_free(struct mbuf *b)
{
	free(b->p);
	*b = (struct mbuf){ 0 };
}

void mbuf_printf(struct mbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->over)
		return;
	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0 || b->len + (size_t)n + 1 > b->max) {
			b->over = true;
			return;
		}
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap ? b->cap * 2 : 65536;
		char *p;

		while (cap < b->len + (size_t)n + 1)
			cap *= 2;
		if (!(p = realloc(b->p, cap))) {
			b->over = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
}

void mbuf_label(struct mbuf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			mbuf_printf(b, "\\%c", *s);
		else if (*s == '\n')
			mbuf_printf(b, "\\n");
		else
			mbuf_printf(b, "%c", *s);
	}
}

void metrics_family(struct mbuf *b, const char *name, const char *type, const char *help)
{
	mbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void node_labels(struct mbuf *b, const char *pool, const char *node)
{
	mbuf_printf(b, "pool=\"");
	mbuf_label(b, pool);
	mbuf_printf(b, "\",node=\"");
	mbuf_label(b, node);
	mbuf_printf(b, "\"");
}

static void generation(struct mbuf *b, const struct metrics_src *s)
{
	metrics_family(b, "siphon_generation", "gauge", "The table generation siphond runs and publishes.");
	mbuf_printf(b, "siphon_generation %llu\n", (unsigned long long)s->generation);
	metrics_family(b, "siphon_generation_age_seconds", "gauge",
	       "Seconds since the running generation was built.");
	mbuf_printf(b, "siphon_generation_age_seconds %.0f\n", s->generation_age_s);
	metrics_family(b, "siphon_generation_bytes", "gauge", "The running generation's table blob, in bytes.");
	mbuf_printf(b, "siphon_generation_bytes %zu\n", s->generation_bytes);
	if (s->dc) {
		metrics_family(b, "siphon_reloads_total", "counter",
		       "Reloads by outcome: published (a new generation), unchanged (the same "
		       "tables), rejected (the config did not load), failed (not persisted).");
		mbuf_printf(b, "siphon_reloads_total{outcome=\"published\"} %llu\n",
			    (unsigned long long)(s->dc->reloads - s->dc->reloads_unchanged));
		mbuf_printf(b, "siphon_reloads_total{outcome=\"unchanged\"} %llu\n",
			    (unsigned long long)s->dc->reloads_unchanged);
		mbuf_printf(b, "siphon_reloads_total{outcome=\"rejected\"} %llu\n",
			    (unsigned long long)s->dc->reloads_rejected);
		mbuf_printf(b, "siphon_reloads_total{outcome=\"failed\"} %llu\n",
			    (unsigned long long)s->dc->persist_failed);
	}
}

/* One line per node of the health set: f picks the value. */
typedef void (*node_line_fn)(struct mbuf *b, const char *metric, const struct hl_pool *p,
			     uint32_t i);

static void per_node(struct mbuf *b, const struct metrics_src *s, const char *metric,
		     node_line_fn f)
{
	for (uint32_t q = 0; q < s->health->n_pools; q++) {
		const struct hl_pool *p = &s->health->pools[q];

		for (uint32_t i = 0; i < p->cp->n_nodes; i++)
			f(b, metric, p, i);
	}
}

static void start(struct mbuf *b, const char *metric, const struct hl_pool *p, uint32_t i)
{
	mbuf_printf(b, "%s{", metric);
	node_labels(b, p->cp->name, p->cp->nodes[i].name);
}

static void l_up(struct mbuf *b, const char *m, const struct hl_pool *p, uint32_t i)
{
	const struct health_node *n = &p->nodes[i];

	start(b, m, p, i);
	mbuf_printf(b, ",state=\"%s\"} %d\n", health_state_name(n->state),
		    health_effective_weight(n) > 0);
}

static void l_weight(struct mbuf *b, const char *m, const struct hl_pool *p, uint32_t i)
{
	start(b, m, p, i);
	mbuf_printf(b, "} %u\n", health_effective_weight(&p->nodes[i]));
}

static void l_changes(struct mbuf *b, const char *m, const struct hl_pool *p, uint32_t i)
{
	start(b, m, p, i);
	mbuf_printf(b, "} %llu\n",
		    (unsigned long long)p->nodes[i].counters[HEALTH_CNT_STATE_CHANGES]);
}

static void l_sent(struct mbuf *b, const char *m, const struct hl_pool *p, uint32_t i)
{
	start(b, m, p, i);
	mbuf_printf(b, "} %llu\n", (unsigned long long)p->nodes[i].counters[HEALTH_CNT_PROBES_SENT]);
}

static void l_replies(struct mbuf *b, const char *m, const struct hl_pool *p, uint32_t i)
{
	for (unsigned c = 1; c <= 6; c++) {
		start(b, m, p, i);
		mbuf_printf(b, ",class=\"%uxx\"} %llu\n", c,
			    (unsigned long long)p->nodes[i].counters[HEALTH_CNT_REPLIES_1XX + c - 1]);
	}
}

static void l_failures(struct mbuf *b, const char *m, const struct hl_pool *p, uint32_t i)
{
	start(b, m, p, i);
	mbuf_printf(b, ",result=\"timeout\"} %llu\n",
		    (unsigned long long)p->nodes[i].counters[HEALTH_CNT_TIMEOUTS]);
	start(b, m, p, i);
	mbuf_printf(b, ",result=\"icmp_unreachable\"} %llu\n",
		    (unsigned long long)p->nodes[i].counters[HEALTH_CNT_ICMP]);
}

static void l_rtt(struct mbuf *b, const char *m, const struct hl_pool *p, uint32_t i)
{
	const struct health_node *n = &p->nodes[i];

	start(b, "siphon_probe_rtt_seconds_sum", p, i);
	mbuf_printf(b, "} %.6f\n", (double)n->rtt_sum_us / 1e6);
	start(b, "siphon_probe_rtt_seconds_count", p, i);
	mbuf_printf(b, "} %llu\n", (unsigned long long)n->rtt_count);
	(void)m;
}

static void l_last_rtt(struct mbuf *b, const char *m, const struct hl_pool *p, uint32_t i)
{
	start(b, m, p, i);
	mbuf_printf(b, "} %.6f\n", (double)p->nodes[i].rtt_last_us / 1e6);
}

static void health(struct mbuf *b, const struct metrics_src *s)
{
	static const struct {
		const char *name, *type, *help;
		node_line_fn f;
	} fams[] = {
		{ "siphon_node_up", "gauge", "1 when the node takes new calls, else 0; state: active, "
		  "trying, inactive, disabled.", l_up },
		{ "siphon_node_effective_weight", "gauge", "The node's Maglev weight now (its weight "
		  "lowered by oc; 0 out of service).", l_weight },
		{ "siphon_node_state_changes_total", "counter", "Changes of the node's state.", l_changes },
		{ "siphon_probe_sent_total", "counter", "OPTIONS probes sent to the node.", l_sent },
		{ "siphon_probe_replies_total", "counter", "Answers to the probes by class.", l_replies },
		{ "siphon_probe_failures_total", "counter", "Probes that failed without an answer: "
		  "timeout, or ICMP port unreachable.", l_failures },
		{ "siphon_probe_rtt_seconds", "summary", "Round trip of the probes the node answered "
		  "with a final response.", l_rtt },
		{ "siphon_probe_last_rtt_seconds", "gauge", "Round trip of the last answered probe.",
		  l_last_rtt },
	};

	if (!s->health)
		return;
	for (size_t k = 0; k < sizeof(fams) / sizeof(fams[0]); k++) {
		metrics_family(b, fams[k].name, fams[k].type, fams[k].help);
		per_node(b, s, fams[k].name, fams[k].f);
	}
}

static void codes(struct mbuf *b, const char *answer, const struct punt_code *c)
{
	for (unsigned i = 0; i < 600; i++)
		if (c->n[i])
			mbuf_printf(b, "siphon_punts_answered_total{answer=\"%s\",code=\"%u\"} %llu\n",
				    answer, i + 100, (unsigned long long)c->n[i]);
}

static void whys(struct mbuf *b, const char *metric, const struct punt_why *w, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		mbuf_printf(b, "%s{why=\"", metric);
		mbuf_label(b, w[i].name);
		mbuf_printf(b, "\"} %llu\n", (unsigned long long)w[i].count);
	}
}

static void punts(struct mbuf *b, const struct metrics_src *s)
{
	const struct punt_counters *c = s->punts;

	if (!c)
		return;
	metrics_family(b, "siphon_punts_received_total", "counter",
	       "Datagrams read on the punt sockets (the balancer's addresses).");
	mbuf_printf(b, "siphon_punts_received_total %llu\n", (unsigned long long)c->received);
	metrics_family(b, "siphon_punts_answered_total", "counter",
	       "Punted messages siphond answered: by answer (options, reply: a reply rule; "
	       "no_live_node: 503; stun) and SIP code.");
	codes(b, "options", &c->options);
	codes(b, "reply", &c->replies);
	mbuf_printf(b, "siphon_punts_answered_total{answer=\"no_live_node\",code=\"503\"} %llu\n",
		    (unsigned long long)c->no_live_node);
	mbuf_printf(b, "siphon_punts_answered_total{answer=\"stun\"} %llu\n",
		    (unsigned long long)c->stun);
	metrics_family(b, "siphon_punts_unanswered_total", "counter",
	       "Punted messages decided and left unanswered, by why.");
	whys(b, "siphon_punts_unanswered_total", c->unanswered, c->n_unanswered);
	metrics_family(b, "siphon_punts_bad_total", "counter",
	       "Punted datagrams siphond could not answer, by why.");
	whys(b, "siphon_punts_bad_total", c->bad, c->n_bad);
	metrics_family(b, "siphon_punts_send_failed_total", "counter", "Answers that could not be sent.");
	mbuf_printf(b, "siphon_punts_send_failed_total %llu\n", (unsigned long long)c->send_failed);
}

static void fp_label(struct mbuf *b, const struct fp_view *v)
{
	mbuf_printf(b, "fastpath=\"");
	mbuf_label(b, v->s->name);
	mbuf_printf(b, "\"");
}

static void fastpaths(struct mbuf *b, const struct metrics_src *s, const struct fp_view *v)
{
	metrics_family(b, "siphon_fastpath_attached", "gauge",
	       "1 while the fast path is attached; 0: it detached, its last snapshot is still "
	       "shown (until one of its name attaches again).");
	for (size_t i = 0; i < s->n_fp; i++) {
		mbuf_printf(b, "siphon_fastpath_attached{");
		fp_label(b, &v[i]);
		mbuf_printf(b, "} %d\n", v[i].s->attached);
	}
	metrics_family(b, "siphon_fastpath_generation", "gauge",
	       "The generation each fast path last acknowledged.");
	for (size_t i = 0; i < s->n_fp; i++) {
		mbuf_printf(b, "siphon_fastpath_generation{");
		fp_label(b, &v[i]);
		mbuf_printf(b, "} %llu\n", (unsigned long long)v[i].s->acked);
	}
	metrics_family(b, "siphon_fastpath_counters_generation", "gauge",
	       "The generation the fast path's last counters snapshot counts against (the "
	       "flag, rule and node series are shown only while it is the running one).");
	for (size_t i = 0; i < s->n_fp; i++) {
		if (!v[i].h)
			continue;
		mbuf_printf(b, "siphon_fastpath_counters_generation{");
		fp_label(b, &v[i]);
		mbuf_printf(b, "} %llu\n", (unsigned long long)v[i].h->generation);
	}
	metrics_family(b, "siphon_fastpath_counters_age_seconds", "gauge",
	       "Seconds since the fast path's last counters snapshot arrived.");
	for (size_t i = 0; i < s->n_fp; i++) {
		if (!v[i].h)
			continue;
		mbuf_printf(b, "siphon_fastpath_counters_age_seconds{");
		fp_label(b, &v[i]);
		mbuf_printf(b, "} %.3f\n", v[i].s->age_s);
	}
	if (s->pub) {
		metrics_family(b, "siphon_fastpath_snapshots_total", "counter",
		       "Counters snapshots from fast paths: received, refused (malformed, or indices "
		       "beyond their generation: logged, not kept).");
		mbuf_printf(b, "siphon_fastpath_snapshots_total{result=\"received\"} %llu\n",
			    (unsigned long long)s->pub->counters);
		mbuf_printf(b, "siphon_fastpath_snapshots_total{result=\"refused\"} %llu\n",
			    (unsigned long long)s->pub->counters_refused);
	}
}

/* Named counters: group -> family; a row without help goes on the
 * family of the row before. Other groups: siphon_fastpath_counter_total. */
static const struct named_family {
	const char *group, *metric, *label, *lane, *help;
} named_families[] = {
	{ "packets", "siphon_packets_total", "kind", "afxdp",
	  "Packets the AF_XDP lane took in (in), TCP segments among them (tcp)." },
	{ "bytes", "siphon_bytes_total", "direction", "afxdp",
	  "Bytes the AF_XDP lane took in and sent out." },
	{ "outcome", "siphon_outcome_packets_total", "outcome", "afxdp",
	  "What became of the AF_XDP lane's packets: forward, drop, punt, pass, hold." },
	{ "reason", "siphon_reason_packets_total", "reason", "afxdp",
	  "Packets by reason (siphonctl reasons; the kernel lane's own in docs/xdp.md)." },
	{ "kernel_reason", NULL, "reason", "kernel", NULL },
	{ "packet", "siphon_parse_packets_total", "status", "afxdp",
	  "Packets by what the frame parser made of them." },
	{ "kernel_packet", NULL, "status", "kernel", NULL },
	{ "kernel_up", "siphon_kernel_up_packets_total", "reason", "kernel",
	  "Packets the kernel lane sent up to the AF_XDP lane, by why." },
	{ "dispatch", "siphon_dispatch_packets_total", "by", "afxdp",
	  "Forwarded messages by how their node was chosen." },
	{ "kernel_dispatch", NULL, "by", "kernel", NULL },
	{ "fragments", "siphon_fragments_total", "result", "afxdp",
	  "IP fragments by what the fragment table did with them." },
};
#define N_NAMED_FAMILIES (sizeof(named_families) / sizeof(named_families[0]))

static const struct named_family *family_of(const char *name)
{
	size_t g = strcspn(name, ".");

	for (size_t k = 0; k < N_NAMED_FAMILIES; k++)
		if (strlen(named_families[k].group) == g &&
		    memcmp(named_families[k].group, name, g) == 0)
			return &named_families[k];
	return NULL;
}

static void named_rows(struct mbuf *b, const struct metrics_src *s, const struct fp_view *v,
		       const struct named_family *f, const char *metric)
{
	size_t g = strlen(f->group);

	for (size_t i = 0; i < s->n_fp; i++)
		for (uint32_t k = 0; v[i].h && k < v[i].h->n_named; k++) {
			const char *n = v[i].named[k].name;

			if (strncmp(n, f->group, g) != 0 || n[g] != '.')
				continue;
			mbuf_printf(b, "%s{", metric);
			fp_label(b, &v[i]);
			mbuf_printf(b, ",lane=\"%s\",%s=\"%s\"} %llu\n", f->lane, f->label, n + g + 1,
				    (unsigned long long)v[i].named[k].value);
		}
}

static void named(struct mbuf *b, const struct metrics_src *s, const struct fp_view *v)
{
	const char *metric = NULL;

	for (size_t k = 0; k < N_NAMED_FAMILIES; k++) {
		const struct named_family *f = &named_families[k];

		if (f->metric) {
			metric = f->metric;
			metrics_family(b, metric, "counter", f->help);
		}
		named_rows(b, s, v, f, metric);
	}
	metrics_family(b, "siphon_fastpath_counter_total", "counter",
	       "The fast path's other counters by group (xsk, channel, swap, ratelimit, ...) and "
	       "name, as its summary shows them.");
	for (size_t i = 0; i < s->n_fp; i++)
		for (uint32_t k = 0; v[i].h && k < v[i].h->n_named; k++) {
			const char *n = v[i].named[k].name;
			size_t g = strcspn(n, ".");

			if (family_of(n))
				continue;
			mbuf_printf(b, "siphon_fastpath_counter_total{");
			fp_label(b, &v[i]);
			mbuf_printf(b, ",group=\"%.*s\",counter=\"%s\"} %llu\n", (int)g, n, n + g + 1,
				    (unsigned long long)v[i].named[k].value);
		}
}

static const char *lane_of(unsigned kind)
{
	switch (kind) {
	case GEN_COUNTER_KERNEL_RULE:
	case GEN_COUNTER_KERNEL_NODE_PACKETS:
	case GEN_COUNTER_KERNEL_NODE_BYTES:
	case GEN_COUNTER_KERNEL_NODE_MSG:
	case GEN_COUNTER_KERNEL_FLAG:
		return "kernel";
	default:
		return "afxdp";
	}
}

static void entry_fp(struct mbuf *b, const struct ctot_entry *e)
{
	mbuf_printf(b, "fastpath=\"");
	mbuf_label(b, e->fp);
	mbuf_printf(b, "\"");
}

/* The series of kinds k1 and k2 (0: none) from the totals: node or rule. */
static void total_series(struct mbuf *b, const struct ctot_entry *const *e, size_t n,
			 const char *metric, unsigned k1, unsigned k2)
{
	for (size_t i = 0; i < n; i++) {
		if (e[i]->kind != k1 && e[i]->kind != k2)
			continue;
		mbuf_printf(b, "%s{", metric);
		entry_fp(b, e[i]);
		if (k1 == GEN_COUNTER_FLAG) {
			mbuf_printf(b, ",lane=\"%s\",flag=\"", lane_of(e[i]->kind));
			mbuf_label(b, e[i]->a);
			mbuf_printf(b, "\"");
		} else if (k1 == GEN_COUNTER_RULE) {
			mbuf_printf(b, ",lane=\"%s\",rule=\"", lane_of(e[i]->kind));
			mbuf_label(b, e[i]->a);
			mbuf_printf(b, "\"");
		} else {
			mbuf_printf(b, ",lane=\"%s\",", lane_of(e[i]->kind));
			node_labels(b, e[i]->a, e[i]->b);
		}
		mbuf_printf(b, "} %llu\n", (unsigned long long)e[i]->total);
	}
}

/* Pools: the runs of one (fast path, kind, pool) in the sorted totals. */
static void pool_totals(struct mbuf *b, const struct ctot_entry *const *e, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t j = i;
		uint64_t sum = 0;

		if (e[i]->kind != GEN_COUNTER_NODE_PACKETS &&
		    e[i]->kind != GEN_COUNTER_KERNEL_NODE_PACKETS) {
			i++;
			continue;
		}
		for (; j < n && e[j]->kind == e[i]->kind && !strcmp(e[j]->fp, e[i]->fp) &&
		       !strcmp(e[j]->a, e[i]->a); j++)
			sum += e[j]->total;
		mbuf_printf(b, "siphon_pool_forwarded_packets_total{");
		entry_fp(b, e[i]);
		mbuf_printf(b, ",lane=\"%s\",pool=\"", lane_of(e[i]->kind));
		mbuf_label(b, e[i]->a);
		mbuf_printf(b, "\"} %llu\n", (unsigned long long)sum);
		i = j;
	}
}

static int by_node_msg(const void *x, const void *y)
{
	const struct ctot_entry *a = *(const struct ctot_entry *const *)x;
	const struct ctot_entry *b = *(const struct ctot_entry *const *)y;
	int c;

	if ((c = strcmp(a->a, b->a)) || (c = strcmp(a->b, b->b)))
		return c;
	if (a->sub != b->sub)
		return a->sub < b->sub ? -1 : 1;
	return a->kind < b->kind ? -1 : a->kind > b->kind;
}

/* Per node x method / class, every fast path summed. */
static void node_msg_totals(struct mbuf *b, const struct ctot_entry *const *e, size_t n)
{
	const struct ctot_entry **m = calloc(n + 1, sizeof(*m));
	size_t k = 0;

	if (!m) {
		b->over = true;
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (e[i]->kind == GEN_COUNTER_NODE_MSG || e[i]->kind == GEN_COUNTER_KERNEL_NODE_MSG)
			m[k++] = e[i];
	qsort(m, k, sizeof(*m), by_node_msg);
	for (int resp = 0; resp < 2; resp++) {
		const char *metric = resp ? "siphon_node_responses_total" : "siphon_node_requests_total";

		metrics_family(b, metric, "counter",
		       resp ? "Responses forwarded to the node by class (1xx-6xx), every fast path "
			      "summed; continuous across generations." :
			      "Requests forwarded to the node by method (INVITE, ACK, BYE, CANCEL, "
			      "OPTIONS, REGISTER, other), every fast path summed; continuous across "
			      "generations.");
		for (size_t i = 0; i < k;) {
			size_t j = i;
			uint64_t sum = 0;
			bool req;
			const char *slot = node_msg_slot_name(m[i]->sub, &req);

			for (; j < k && !by_node_msg(&m[i], &m[j]); j++)
				sum += m[j]->total;
			if (req == !resp) {
				mbuf_printf(b, "%s{", metric);
				node_labels(b, m[i]->a, m[i]->b);
				mbuf_printf(b, ",%s=\"%s\",lane=\"%s\"} %llu\n", resp ? "class" : "method",
					    slot, lane_of(m[i]->kind), (unsigned long long)sum);
			}
			i = j;
		}
	}
	free(m);
}

static void indexed(struct mbuf *b, const struct metrics_src *s)
{
	const struct ctot_entry *const *e = NULL;
	size_t n = s->tot ? ctotals_sorted(s->tot, &e) : 0;

	metrics_family(b, "siphon_flag_set_total", "counter",
	       "Messages classified with the flag set, among those where it was computed: by the "
	       "AF_XDP lane, or by the kernel lane where it took the verdict itself (what it sends "
	       "up is counted by the AF_XDP lane); continuous across generations.");
	total_series(b, e, n, "siphon_flag_set_total", GEN_COUNTER_FLAG, GEN_COUNTER_KERNEL_FLAG);
	metrics_family(b, "siphon_rule_matches_total", "counter",
	       "Messages each rule decided (or metered: rate-limit), by the rule's key (a hash of "
	       "its text: siphon_rule_info); continuous across generations.");
	total_series(b, e, n, "siphon_rule_matches_total", GEN_COUNTER_RULE,
		     GEN_COUNTER_KERNEL_RULE);
	metrics_family(b, "siphon_rule_info", "gauge",
	       "The running generation's rules: key, line in the config (1).");
	for (uint32_t i = 0; s->cfg && i < s->cfg->n_rules; i++) {
		char key[CTOT_RULE_KEY_MAX];

		rule_key(s->cfg, i, key);
		mbuf_printf(b, "siphon_rule_info{rule=\"%s\",line=\"%d\"} 1\n", key,
			    s->cfg->rules[i].line);
	}
	metrics_family(b, "siphon_node_forwarded_packets_total", "counter",
	       "Packets forwarded to the node; continuous across generations (a node removed "
	       "keeps its total until siphond restarts).");
	total_series(b, e, n, "siphon_node_forwarded_packets_total", GEN_COUNTER_NODE_PACKETS,
		     GEN_COUNTER_KERNEL_NODE_PACKETS);
	metrics_family(b, "siphon_node_forwarded_bytes_total", "counter",
	       "Bytes the kernel lane forwarded to the node (the AF_XDP lane counts packets only).");
	total_series(b, e, n, "siphon_node_forwarded_bytes_total", GEN_COUNTER_KERNEL_NODE_BYTES,
		     GEN_COUNTER_KERNEL_NODE_BYTES);
	metrics_family(b, "siphon_pool_forwarded_packets_total", "counter",
	       "Packets forwarded to the pool's nodes (the sum of its nodes).");
	pool_totals(b, e, n);
	node_msg_totals(b, e, n);
}

int metrics_render(const struct metrics_src *s, struct mbuf *b)
{
	struct fp_view *v = calloc(s->n_fp + 1, sizeof(*v));
	int rc = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_fp && !rc; i++)
		rc = fp_view_open(&v[i], &s->fp[i], s);
	if (!rc) {
		generation(b, s);
		health(b, s);
		punts(b, s);
		fastpaths(b, s, v);
		named(b, s, v);
		indexed(b, s);
		metrics_dns(b, s->dns);
		metrics_family(b, "siphon_metrics_scrapes_total", "counter",
		       "/metrics requests answered before this one.");
		mbuf_printf(b, "siphon_metrics_scrapes_total %llu\n", (unsigned long long)s->scrapes);
		if (b->over) /* over METRICS_MAX_BYTES, or out of memory */
			rc = -EFBIG;
	}
	for (size_t i = 0; i < s->n_fp; i++)
		fp_view_close(&v[i]);
	free(v);
	return rc;
}
