/* The config keys (config_keys.h). The order within a section is the
 * order of the loader's "known: ..." lists. */
#include <errno.h>
#include <string.h>

#include "config.h"
#include "config_keys.h"
#include "health.h"
#include "siphon/maglev.h"
#include "siphon/optdoc.h"
#include "siphon/sip_scan.h"

#define INT(lo, hi, d) CK_INT, NULL, (d), (lo), (hi), 0
#define REQUIRED(type) type, NULL, 0, 0, 0, 1
#define OPTIONAL(type, def) type, def, 0, 0, 0, 0

static const struct config_key keys[] = {
	{ "", "balancer", OPTIONAL(CK_GROUP, "every key at its default"),
	  "The balancer's own addresses and the scanner's limits." },
	{ "", "flags", OPTIONAL(CK_LIST, "no flags"), "Named flags, bit 0 first: what rules test." },
	{ "", "pools", OPTIONAL(CK_LIST, "no pools"), "Pools of core nodes." },
	{ "", "route", REQUIRED(CK_LIST),
	  "The decision list: the first entry whose when holds decides; the last one is the "
	  "default rule." },

	{ "balancer", "addresses", OPTIONAL(CK_STRINGS, NULL),
	  "The balancer's own IPv4/IPv6 addresses (the VIPs), at most 32; a Request-URI host "
	  "equal to one sets to_self." },
	{ "balancer", "names", OPTIONAL(CK_STRINGS, NULL),
	  "Host names peers use for the balancer (letters, digits, '.', '-'), at most 32; "
	  "compared without regard to case for to_self." },
	{ "balancer", "control", OPTIONAL(CK_STRINGS, NULL),
	  "Where siphond's OPTIONS probes leave from, at most 32; a response whose top Via host "
	  "is one sets own_probe_answer." },
	{ "balancer", "max_bytes", INT(64, SIP_SCAN_MAX_INPUT, SIP_LIMIT_MSG_BYTES_DEFAULT),
	  "A framed message above this is dropped, reason too_big." },
	{ "balancer", "max_vias", INT(1, 1000, SIP_LIMIT_VIAS_DEFAULT),
	  "More Via values than this are dropped, reason too_many_vias." },
	{ "balancer", "hash_seed", OPTIONAL(CK_NUMBER, "0x5349504850484f4e"),
	  "Seed of the Call-ID hash (XXH64); every siphon of a cluster needs the same one (an L "
	  "suffix above 2^31-1)." },
	{ "balancer", "grace_s", INT(0, 86400, 180),
	  "How long the previous Maglev table keeps serving in-dialog requests, ACK, CANCEL and "
	  "responses after a pool change (siphond)." },
	{ "balancer", "mac", OPTIONAL(CK_STRING, NULL),
	  "Override of the balancer's own MAC, xx:xx:xx:xx:xx:xx; --io pcap needs it." },
	{ "balancer", "gateway_mac", OPTIONAL(CK_STRING, NULL),
	  "Override of the next hop toward clients, where nat's replies go." },
	{ "balancer", "ports", OPTIONAL(CK_INTS, "[5060]"),
	  "The SIP ports of addresses: 1 to 8 ports from 1 to 65535; other traffic passes to "
	  "the kernel." },
	{ "balancer", "dns_servers", OPTIONAL(CK_STRINGS, "the system's"),
	  "The DNS servers siphond asks for nodes given by name: 1 to 4 of ADDRESS, ADDRESS:PORT, "
	  "[IPv6]:PORT (port 53 by default)." },
	{ "balancer", "on_node_change", OPTIONAL(CK_STRING, NULL),
	  "An absolute path to an executable siphond runs on each node state change, with the "
	  "change in its environment; never waited for." },
	{ "balancer", "on_node_change_timeout_s", INT(1, 3600, 10),
	  "Only with on_node_change: a command still running after this long is killed." },
	{ "balancer", "on_node_change_max", INT(1, 64, 4),
	  "Only with on_node_change: commands running at once; a change beyond is dropped and "
	  "counted." },
	{ "balancer", "metrics", OPTIONAL(CK_STRING, "\"" CONFIG_METRICS_DEFAULT_ADDR ":9109\""),
	  "Where siphond serves Prometheus /metrics: \"ADDRESS:PORT\" (\"[IPv6]:PORT\"), or "
	  "\"off\"; a build without libmicrohttpd takes only \"off\"." },

	{ "flags[]", "name", REQUIRED(CK_STRING),
	  "The flag's name: a letter, then letters, digits, '_'; not and, or, not; unique." },
	{ "flags[]", "doc", OPTIONAL(CK_STRING, "\"\""), "Free text, shown by siphonctl flags." },
	{ "flags[]", "header", OPTIONAL(CK_STRING, NULL),
	  "The header present and match look at (required with them, refused otherwise)." },
	{ "flags[]", "caseless", OPTIONAL(CK_BOOL, "false"),
	  "match without regard to letter case (only with match)." },
#define FLAG_KIND(id, key, help) { "flags[]", key, OPTIONAL(CK_KIND, NULL), "Set when " help "." },
#include "siphon/flag_kinds.def"
#undef FLAG_KIND

	{ "pools[]", "name", REQUIRED(CK_STRING),
	  "What pool NAME in the route refers to: a letter, then letters, digits, '_', '-'; "
	  "unique." },
	{ "pools[]", "mode", OPTIONAL(CK_STRING, "\"dsr\""),
	  "How packets reach the nodes: dsr rewrites the MAC, nat the destination address and "
	  "port, encap tunnels (IPIP/GUE)." },
	{ "pools[]", "probe", OPTIONAL(CK_GROUP, "the defaults of its keys"),
	  "SIP OPTIONS health probes of the nodes, sent by siphond from a control address." },
	{ "pools[]", "nodes", REQUIRED(CK_LIST), "The core nodes, at most 4096." },
	{ "pools[]", "maglev_size", INT(3, MAGLEV_MAX_SIZE, MAGLEV_DEFAULT_SIZE),
	  "Slots of the pool's Maglev table: a prime; about 100 times the node count keeps "
	  "shares within 1%." },
	{ "pools[]", "encap_source", OPTIONAL(CK_STRINGS, NULL),
	  "encap only (and required there): the outer source address, one IPv4 and/or one IPv6." },
	{ "pools[]", "gue_port", INT(1, 65535, 0),
	  "encap only: GUE over UDP to this port instead of plain IPIP (default: none)." },
	{ "pools[]", "fallback", OPTIONAL(CK_STRING, NULL),
	  "Another pool that takes this pool's new calls while it has no live node (siphond); "
	  "no cycle." },
	{ "pools[]", "retry_after_s", INT(0, CONFIG_RETRY_AFTER_MAX_S, CONFIG_RETRY_AFTER_DEFAULT_S),
	  "The Retry-After of siphond's 503 to a new call while the pool has no live node and no "
	  "fallback with one; 0: no Retry-After." },

	{ "pools[].probe", "interval_ms", INT(50, 600000, HEALTH_INTERVAL_MS_DEFAULT),
	  "Time between probes of one node." },
	{ "pools[].probe", "timeout_ms", INT(50, 600000, HEALTH_TIMEOUT_MS_DEFAULT),
	  "A probe with no answer by then failed." },
	{ "pools[].probe", "down", INT(1, 100, HEALTH_DOWN_DEFAULT),
	  "Failed probes in a row that take a node out." },
	{ "pools[].probe", "up", INT(1, 100, HEALTH_UP_DEFAULT),
	  "Answered probes in a row that bring it back." },
	{ "pools[].probe", "codes", OPTIONAL(CK_STRINGS, "[\"2xx\"]"),
	  "The reply codes that count as an answer: 1 to 16 classes (\"2xx\") or codes (\"404\")." },
	{ "pools[].probe", "retry_after_max_s", INT(1, 86400, HEALTH_RETRY_AFTER_MAX_DEFAULT),
	  "A 503 with a longer Retry-After holds the node out this long only." },

	{ "pools[].nodes[]", "name", REQUIRED(CK_STRING),
	  "The node's name in logs, counters and the CLI; unique in the pool." },
	{ "pools[].nodes[]", "address", OPTIONAL(CK_STRING, NULL),
	  "Where the node listens: an IPv4 or IPv6 literal (required, unless host or srv)." },
	{ "pools[].nodes[]", "port", INT(1, 65535, 5060), "Its SIP port." },
	{ "pools[].nodes[]", "weight", INT(0, 65535, 100),
	  "Its share of new calls; 0 takes none." },
	{ "pools[].nodes[]", "id", OPTIONAL(CK_STRING, "its name"),
	  "The token in the nid that routes in-dialog requests back to it." },
	{ "pools[].nodes[]", "mac", OPTIONAL(CK_STRING, NULL),
	  "Override of the node's MAC (dsr), xx:xx:xx:xx:xx:xx." },
	{ "pools[].nodes[]", "host", OPTIONAL(CK_STRING, NULL),
	  "Instead of address: a DNS name siphond resolves (A/AAAA); each address becomes a node "
	  "NAME@ADDRESS with this entry's port and weight." },
	{ "pools[].nodes[]", "srv", OPTIONAL(CK_STRING, NULL),
	  "Instead of address: a SIP domain siphond resolves by _sip._udp SRV records, each "
	  "address a node with the record's port and weight." },
	{ "pools[].nodes[]", "family", OPTIONAL(CK_STRING, "\"any\""),
	  "With host or srv: which addresses a name gives: ipv4, ipv6 or any." },

	{ "route[]", "when", OPTIONAL(CK_STRING, "always"),
	  "An and/or/not expression over flags; the last entry has none." },
	{ "route[]", "then", REQUIRED(CK_STRING),
	  "The action: pool NAME, drop, pass, punt and the others of docs/config.md." },
};

#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

size_t config_keys(const struct config_key **out)
{
	*out = keys;
	return N_KEYS;
}

const struct config_key *config_key_find(const char *section, const char *key)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].key, key) == 0)
			return &keys[i];
	return NULL;
}

const char *config_key_type_name(enum config_key_type t)
{
	static const char *const names[] = {
		[CK_GROUP] = "group",    [CK_LIST] = "list",       [CK_STRING] = "string",
		[CK_STRINGS] = "string or list of strings",        [CK_INT] = "integer",
		[CK_INTS] = "array of integers", [CK_NUMBER] = "integer",
		[CK_BOOL] = "boolean",   [CK_KIND] = "flag kind",
	};

	return (unsigned)t < sizeof(names) / sizeof(names[0]) ? names[t] : "?";
}

static void key_man(FILE *f, const struct config_key *k)
{
	fputs(".TP\n.B ", f);
	roff_text(f, k->key);
	fprintf(f, "%s", config_key_type_name(k->type));
	if (k->type == CK_INT)
		fprintf(f, ", %lu to %lu", k->min, k->max);
	if (k->required)
		fputs(", required", f);
	else if (k->def)
		fputs(", default ", f), roff_inline(f, k->def);
	else if (k->type == CK_INT && k->dflt)
		fprintf(f, ", default %lu", k->dflt);
	fputs(".\n.br\n", f);
	roff_text(f, k->doc);
}

int config_keys_man(FILE *f)
{
	const char *section = NULL;

	roff_head(f, "SIPHON.CONF", 5, "siphon.conf", "the siphon load balancer's configuration");
	fputs(".SH SYNOPSIS\n.I /etc/siphon/siphon.conf\n"
	      ".SH DESCRIPTION\nThe config of siphon and siphond, in libconfig syntax: "
	      "key = value; groups { ... }, lists ( ... ), arrays [ ... ], strings in double "
	      "quotes, # comments, @include \"FILE\". Every error names the file, the line and "
	      "the key; an unknown key is refused. Check a config with siphonctl check FILE. "
	      "docs/config.md has the details and examples.\n",
	      f);
	for (size_t i = 0; i < N_KEYS; i++) {
		if (!section || strcmp(section, keys[i].section) != 0) {
			section = keys[i].section;
			fputs(*section ? ".SH \"KEYS OF " : ".SH \"TOP-LEVEL KEYS", f);
			for (const char *s = section; *s; s++)
				fputc(*s >= 'a' && *s <= 'z' ? *s - 'a' + 'A' : *s, f);
			fputs("\"\n", f);
			if (strcmp(section, "flags[]") == 0)
				fputs("Each flag has a name and exactly one kind key: source, method, "
				      "to_self, own_probe_answer, in_dialog, transport, present, match or "
				      "expr.\n",
				      f);
		}
		key_man(f, &keys[i]);
	}
	fputs(".SH FILES\n.TP\n.I /etc/siphon/siphon.conf\nThe config siphond and siphon@.service "
	      "read.\n.SH SEE ALSO\n.BR siphon (8),\n.BR siphond (8),\n.BR siphonctl (8)\n",
	      f);
	return ferror(f) ? -EIO : 0;
}
