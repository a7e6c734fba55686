/* siphonctl explain: scan messages and say what siphon does with each. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <time.h>

#include "cli.h"
#include "config.h"
#include "siphon/decide.h"
#include "siphon/frame.h"
#include "siphon/json_write.h"
#include "siphon/link_frame.h"
#include "siphon/sip_scan.h"

#define MAX_FILE_BYTES (16u << 20)

enum format { FORMAT_JSON, FORMAT_TABLE };

struct explain {
	enum format format;
	struct sip_limits limits;
	unsigned long messages, skipped;
	bool table_header_done;
	int name_width; /* the MESSAGE column: wider for a capture's addresses */
	struct siphon_config *cfg; /* with --config: flags and rules too */
	struct classifier cls;
	struct packet_meta meta; /* for FILE inputs: --source, --transport */
	/* --pcap with a config: the capture's grace register, as siphon keeps
	 * one (a capture's dialog follows its INVITE); NULL: one message */
	struct grace_calls *grace_calls;
};

/* Where a message came from: a file name, or a packet of a capture. */
struct origin {
	const char *file;
	unsigned long packet; /* 1-based; 0 for a file */
	const struct packet_meta *pm; /* a packet's addresses and ports */
};

static void format_addr(char *buf, size_t size, int family, const uint8_t *addr, uint16_t port)
{
	char ip[INET6_ADDRSTRLEN];

	inet_ntop(family, addr, ip, sizeof(ip));
	snprintf(buf, size, family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, port);
}

static void print_rule_fields(const struct explain *ex, const struct msg_decision *oc, int *first)
{
	const struct siphon_config *cfg = ex->cfg;
	const struct rule_action *a;
	bool comma = false;

	json_key(stdout, "flags", first);
	putchar('[');
	for (unsigned i = 0; oc->classified && i < cfg->n_flags; i++)
		if (flagset_has(&oc->flags, i)) {
			if (comma)
				putchar(',');
			json_write_str(stdout, cfg->flags[i].name);
			comma = true;
		}
	putchar(']');
	json_key(stdout, "rule", first);
	if (oc->rule < 0) {
		fputs("null", stdout);
		json_key(stdout, "action", first);
		fputs("null", stdout);
		json_key(stdout, "pool", first);
		fputs("null", stdout);
		return;
	}
	a = &cfg->tables.actions[oc->rule];
	printf("{\"line\":%d,\"text\":", cfg->rules[oc->rule].line);
	json_write_str(stdout, cfg->rules[oc->rule].text);
	putchar('}');
	json_key(stdout, "action", first);
	json_write_str(stdout, action_keyword(a->kind));
	json_key(stdout, "pool", first);
	if (a->kind == ACTION_POOL)
		json_write_str(stdout, cfg->tables.pool_names[a->pool]);
	else
		fputs("null", stdout);
	if (a->kind == ACTION_POOL) {
		json_key(stdout, "node", first);
		if (oc->node.node < 0) {
			fputs("null", stdout);
		} else {
			const struct pool_node *n = &cfg->tables.nodes[oc->node.node];
			char addr[64];
			format_addr(addr, sizeof(addr), n->addr.family, n->addr.addr, n->port);
			putchar('{');
			fputs("\"id\":", stdout);
			json_write_str(stdout, n->id);
			fputs(",\"address\":", stdout);
			json_write_str(stdout, addr);
			putchar('}');
		}
		json_key(stdout, "dispatch", first);
		json_write_str(stdout, dispatch_by_name(oc->node.by));
		if (oc->node.nid_unknown) {
			json_key(stdout, "nid_unknown", first);
			fputs("true", stdout);
		}
		if (oc->node.grace_noted || oc->node.grace_full) {
			json_key(stdout, oc->node.grace_noted ? "grace_noted" : "grace_full", first);
			fputs("true", stdout);
		}
		if (oc->stream_rule_ignored) {
			json_key(stdout, "tcp_rule_ignored", first);
			fputs("true", stdout);
		}
	}
	if (a->kind == ACTION_REPLY) {
		json_key(stdout, "reply", first);
		printf("{\"code\":%u,\"reason\":", a->reply_code);
		json_write_str(stdout, a->reply_reason);
		putchar('}');
	}
	if (oc->n_rate_limits) {
		json_key(stdout, "rate_limits", first);
		putchar('[');
		for (unsigned i = 0; i < oc->n_rate_limits; i++)
			printf("%s%d", i ? "," : "", cfg->rules[oc->rate_limits[i]].line);
		putchar(']');
	}
}

static void print_origin(const struct origin *o, int *first)
{
	char addr[64];

	if (!o->packet) {
		json_key(stdout, "file", first);
		json_write_str(stdout, o->file);
		return;
	}
	json_key(stdout, "packet", first);
	printf("%lu", o->packet);
	if (!o->pm)
		return;
	format_addr(addr, sizeof(addr), o->pm->family, o->pm->src, o->pm->sport);
	json_key(stdout, "src", first);
	json_write_str(stdout, addr);
	format_addr(addr, sizeof(addr), o->pm->family, o->pm->dst, o->pm->dport);
	json_key(stdout, "dst", first);
	json_write_str(stdout, addr);
	if (o->pm->transport != TRANSPORT_UDP) {
		json_key(stdout, "transport", first);
		json_write_str(stdout, transport_name(o->pm->transport));
	}
}

static void print_json(const struct explain *ex, const struct origin *o, const uint8_t *buf,
		       size_t len, const struct msg_decision *oc)
{
	const struct sip_msg *msg = &oc->msg;
	int first = 1;

	putchar('{');
	print_origin(o, &first);
	json_key(stdout, "verdict", &first);
	json_write_str(stdout, sip_verdict_name(oc->verdict));
	json_key(stdout, "reason", &first);
	json_write_str(stdout, sip_reason_name(oc->reason));
	if (msg->parsed && !msg->is_request) {
		json_key(stdout, "status", &first);
		printf("%u", msg->status);
	} else {
		json_key(stdout, "method", &first);
		if (msg->parsed)
			json_write_bytes(stdout, buf + msg->method_name.off, msg->method_name.len);
		else
			fputs("null", stdout);
	}
	json_key(stdout, "call_id", &first);
	if (msg->parsed && msg->hdr_count[SIP_HDR_CALL_ID])
		json_write_bytes(stdout, buf + msg->call_id.off, msg->call_id.len);
	else
		fputs("null", stdout);
	json_key(stdout, "in_dialog", &first);
	fputs(msg->parsed ? (sip_in_dialog(msg) ? "true" : "false") : "null", stdout);
	json_key(stdout, "bytes", &first);
	printf("%zu", len);
	if (oc->verdict == SIP_VERDICT_FORWARD) {
		json_key(stdout, "forward_bytes", &first);
		printf("%u", ex->cfg ? oc->fwd_len : msg->msg_len);
	}
	if (ex->cfg)
		print_rule_fields(ex, oc, &first);
	puts("}");
}

/* A table cell: printable ASCII as is, anything else as '.', cut to width. */
static void print_cell(const uint8_t *p, size_t len, int width)
{
	int n = 0;

	for (size_t i = 0; i < len && n < width; i++, n++)
		putchar(p[i] >= 0x20 && p[i] < 0x7F ? p[i] : '.');
	if (len > (size_t)width)
		fputs("~", stdout), n++;
	printf("%*s", width + 2 - n, "");
}

/* A file's base name, or "N SRC>DST" for a packet of a capture. */
static void origin_name(const struct origin *o, char *name, size_t size)
{
	char src[64], dst[64];

	if (!o->packet) {
		snprintf(name, size, "%s", strrchr(o->file, '/') ? strrchr(o->file, '/') + 1 : o->file);
	} else if (!o->pm) {
		snprintf(name, size, "%lu", o->packet);
	} else {
		format_addr(src, sizeof(src), o->pm->family, o->pm->src, o->pm->sport);
		format_addr(dst, sizeof(dst), o->pm->family, o->pm->dst, o->pm->dport);
		snprintf(name, size, "%lu %s>%s", o->packet, src, dst);
	}
}

static void print_table_row(struct explain *ex, const struct origin *o, const uint8_t *buf,
			    const struct msg_decision *oc)
{
	const struct sip_msg *msg = &oc->msg;
	char name[160], start[16];

	if (!ex->table_header_done) {
		printf("%-*s %-8s %-16s %-10s %-40s %-6s%s\n", ex->name_width, "MESSAGE", "VERDICT",
		       "REASON", "START", "CALL-ID", "DIALOG", ex->cfg ? " NODE       RULE" : "");
		ex->table_header_done = true;
	}
	origin_name(o, name, sizeof(name));
	if (!msg->parsed)
		snprintf(start, sizeof(start), "-");
	else if (!msg->is_request)
		snprintf(start, sizeof(start), "%u", msg->status);
	else
		snprintf(start, sizeof(start), "%.*s", (int)msg->method_name.len,
			 (const char *)buf + msg->method_name.off);
	printf("%-*.*s %-8s %-16s %-10.10s ", ex->name_width, ex->name_width, name,
	       sip_verdict_name(oc->verdict), sip_reason_name(oc->reason), start);
	if (msg->parsed && msg->hdr_count[SIP_HDR_CALL_ID])
		print_cell(buf + msg->call_id.off, msg->call_id.len, 38);
	else
		print_cell((const uint8_t *)"-", 1, 38);
	printf("%-6s", !msg->parsed ? "-" : sip_in_dialog(msg) ? "yes" : "no");
	if (ex->cfg && oc->node.node >= 0)
		printf(" %-10s", ex->cfg->tables.nodes[oc->node.node].id);
	else if (ex->cfg)
		printf(" %-10s", "-");
	if (ex->cfg && oc->rule >= 0)
		printf(" %d: %s", ex->cfg->rules[oc->rule].line, ex->cfg->rules[oc->rule].text);
	putchar('\n');
}

static uint64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void report(struct explain *ex, const struct origin *o, const uint8_t *buf, size_t len,
		   const struct msg_decision *oc)
{
	ex->messages++;
	if (ex->format == FORMAT_JSON)
		print_json(ex, o, buf, len, oc);
	else
		print_table_row(ex, o, buf, oc);
}

/* With a config, the decision is decide_message()'s, the fast path's own;
 * without one, the scanner's verdict alone. False, with nothing said, for
 * a first fragment whose header block is not all in it. */
static bool explain_one(struct explain *ex, const struct origin *o, const struct packet_meta *pm,
			const uint8_t *buf, size_t len)
{
	struct msg_decision oc = { .rule = -1, .pool = -1, .node = { .node = -1 } };

	if (ex->cfg) {
		const uint64_t now_ms = monotonic_ms();
		const struct decide_ctx ctx = { &ex->cls, NULL, now_ms / 1000, now_ms,
						ex->grace_calls };
		decide_message(&ctx, buf, len, pm, &oc);
		if (oc.incomplete)
			return false;
	} else {
		sip_scan(buf, len, &ex->limits, NULL, &oc.msg);
		oc.verdict = oc.msg.verdict;
		oc.reason = oc.msg.reason;
		oc.fwd_len = oc.msg.msg_len;
	}
	report(ex, o, buf, len, &oc);
	return true;
}

/* A packet the fast path decides before any SIP is read: passed to the
 * kernel, a nat reply, or dropped by the packet parser's status. */
static void explain_frame_verdict(struct explain *ex, const struct origin *o, const char *verdict,
				  const char *reason)
{
	int first = 1;
	char name[160];

	ex->messages++;
	if (ex->format == FORMAT_JSON) {
		putchar('{');
		print_origin(o, &first);
		json_key(stdout, "verdict", &first);
		json_write_str(stdout, verdict);
		json_key(stdout, "reason", &first);
		json_write_str(stdout, reason);
		puts("}");
		return;
	}
	if (!ex->table_header_done) {
		printf("%-*s %-8s %-16s\n", ex->name_width, "MESSAGE", "VERDICT", "REASON");
		ex->table_header_done = true;
	}
	origin_name(o, name, sizeof(name));
	printf("%-*.*s %-8s %-16s\n", ex->name_width, ex->name_width, name, verdict, reason);
}

static int read_file(const char *path, uint8_t **out, size_t *out_len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;
	int err = 0;

	if (!f)
		return -errno;
	for (;;) {
		size_t n;
		if (len == cap) {
			uint8_t *nb;
			if (cap >= MAX_FILE_BYTES) {
				err = -EFBIG;
				break;
			}
			cap = cap ? cap * 2 : 65536;
			nb = realloc(buf, cap);
			if (!nb) {
				err = -ENOMEM;
				break;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0) {
			if (ferror(f))
				err = -EIO;
			break;
		}
	}
	fclose(f);
	if (err) {
		free(buf);
		return err;
	}
	*out = buf;
	*out_len = len;
	return 0;
}

static void note_skipped(struct explain *ex, unsigned long packet, const char *why)
{
	ex->skipped++;
	if (ex->format == FORMAT_JSON)
		printf("{\"packet\":%lu,\"skipped\":\"%s\"}\n", packet, why);
	else
		printf("packet %-21lu skipped: %s\n", packet, why);
}

/* One packet of a capture, as the fast path sees it (docs/architecture.md
 * "One decision path"): frame_kind() first, then decide_message(). */
static void explain_packet(struct explain *ex, unsigned long index, const uint8_t *frame,
			   size_t len)
{
	struct pkt_layout l;
	enum pkt_status st = pkt_parse(frame, len, &l);
	struct packet_meta pm;
	struct origin o = { .packet = index };
	enum frame_kind kind;

	if (st == PKT_STATUS_NOT_IP || l.family == 0) {
		if (ex->cfg)
			explain_frame_verdict(ex, &o, "pass", frame_kind_name(FRAME_NOT_FOR_US));
		else
			note_skipped(ex, index, pkt_status_name(st));
		return;
	}
	frame_packet_meta(frame, &l, &pm);
	o.pm = &pm;
	kind = ex->cfg ? frame_kind(&ex->cfg->tables, frame, st, &l)
		       : st == PKT_STATUS_OK && !l.is_fragment ? FRAME_MESSAGE
		       : st == PKT_STATUS_OK || st == PKT_STATUS_FRAGMENT ? FRAME_FRAGMENT : FRAME_BAD;
	switch (kind) {
	case FRAME_MESSAGE:
		explain_one(ex, &o, &pm, frame + l.payload_off, l.payload_len);
		break;
	case FRAME_NOT_FOR_US:
		explain_frame_verdict(ex, &o, "pass", frame_kind_name(kind));
		break;
	case FRAME_NAT_REPLY:
		explain_frame_verdict(ex, &o, "forward", frame_kind_name(kind));
		break;
	case FRAME_FRAGMENT:
		/* a first fragment with the whole header block decides its
		 * datagram at once, as in the fast path; the rest wait */
		pm.datagram_len = (uint32_t)(l.l4_len - 8u);
		if (ex->cfg && l.first_fragment && l.l4_proto == PKT_PROTO_UDP &&
		    explain_one(ex, &o, &pm, frame + l.payload_off, l.payload_len))
			break;
		note_skipped(ex, index, l.first_fragment ? "fragment: the header block is not all in "
			     "it (decided once reassembled)" : "fragment: follows its first fragment");
		break;
	default:
		if (ex->cfg)
			explain_frame_verdict(ex, &o, "drop", pkt_status_name(st));
		else
			note_skipped(ex, index, pkt_status_name(st));
		break;
	}
}

static int explain_pcap(struct explain *ex, const char *path)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *hdr;
	const u_char *data;
	unsigned long index = 0;
	pcap_t *p = pcap_open_offline(path, errbuf);
	static uint8_t frame[65535 + PKT_ETH_HLEN + 8];
	size_t len;
	int link, rc;

	if (!p) {
		cli_error("explain", "--pcap %s: %s", path, errbuf);
		return CLI_FAILED;
	}
	link = pcap_datalink(p);
	if (!link_frame_supported((uint32_t)link)) {
		cli_error("explain", "--pcap %s: link type %s is not supported (Ethernet, raw IP, "
			  "Linux cooked v1/v2)", path, pcap_datalink_val_to_name(link));
		pcap_close(p);
		return CLI_FAILED;
	}
	ex->name_width = 50;
	if (ex->cfg && !(ex->grace_calls = grace_calls_new(GRACE_CALLS_BITS_DEFAULT))) {
		cli_error("explain", "out of memory for the grace register");
		pcap_close(p);
		return CLI_FAILED;
	}
	while ((rc = pcap_next_ex(p, &hdr, &data)) == 1) {
		enum link_frame_status st = link_frame((uint32_t)link, data, hdr->caplen, frame,
						       sizeof(frame), &len);
		++index;
		if (st != LINK_FRAME_OK) {
			note_skipped(ex, index, link_frame_status_name(st));
			continue;
		}
		explain_packet(ex, index, frame, len);
	}
	if (rc == -1)
		cli_error("explain", "--pcap %s: packet %lu: %s", path, index + 1, pcap_geterr(p));
	pcap_close(p);
	grace_calls_free(ex->grace_calls);
	ex->grace_calls = NULL;
	return rc == -1 ? CLI_FAILED : CLI_OK;
}

/* Loads --config for explain; the limits from the command line win. */
static int load_config(struct explain *ex, const char *path, bool bytes_set, bool vias_set)
{
	struct config_error err;
	int rc = config_load(path, &ex->cfg, &err);

	if (rc) {
		cli_error("explain", "%s", err.text);
		return CLI_FAILED;
	}
	rc = classifier_init(&ex->cls, &ex->cfg->tables);
	if (rc) {
		cli_error("explain", "%s: the pattern database does not load: %s", path, strerror(-rc));
		return CLI_FAILED;
	}
	/* the limits of the command line win over the config's */
	if (bytes_set)
		ex->cfg->tables.limits.max_msg_bytes = ex->limits.max_msg_bytes;
	if (vias_set)
		ex->cfg->tables.limits.max_vias = ex->limits.max_vias;
	return CLI_OK;
}

static int parse_source(const char *arg, struct packet_meta *pm)
{
	if (inet_pton(AF_INET, arg, pm->src) == 1)
		pm->family = AF_INET;
	else if (inet_pton(AF_INET6, arg, pm->src) == 1)
		pm->family = AF_INET6;
	else
		return -EINVAL;
	return 0;
}

static int explain_inputs(struct explain *ex, const char *pcap_path, int n, char **files)
{
	int rc = CLI_OK;

	if (pcap_path)
		return explain_pcap(ex, pcap_path);
	for (int i = 0; i < n; i++) {
		struct origin o = { .file = files[i] };
		uint8_t *buf = NULL;
		size_t len = 0;
		int err = read_file(files[i], &buf, &len);
		if (err) {
			cli_error("explain", "%s: %s", files[i], strerror(-err));
			rc = CLI_FAILED;
			continue;
		}
		explain_one(ex, &o, &ex->meta, buf, len);
		free(buf);
	}
	return rc;
}

int cmd_explain(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "format", required_argument, NULL, 'f' },
		{ "max-bytes", required_argument, NULL, 'b' },
		{ "max-vias", required_argument, NULL, 'v' },
		{ "pcap", required_argument, NULL, 'p' },
		{ "source", required_argument, NULL, 's' },
		{ "transport", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct explain ex = { .format = FORMAT_JSON, .limits = SIP_LIMITS_DEFAULT, .name_width = 28,
			      .meta = { .transport = TRANSPORT_UDP } };
	const char *pcap_path = NULL, *config_path = NULL;
	bool bytes_set = false, vias_set = false, source_set = false;
	unsigned long v;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config_path = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "json") == 0) {
				ex.format = FORMAT_JSON;
			} else if (strcmp(optarg, "table") == 0) {
				ex.format = FORMAT_TABLE;
			} else {
				cli_error("explain", "--format '%s': expected json or table", optarg);
				return CLI_USAGE;
			}
			break;
		case 'b':
			if (cli_parse_uint("explain", "--max-bytes", optarg, 1, SIP_SCAN_MAX_INPUT, &v))
				return CLI_USAGE;
			ex.limits.max_msg_bytes = (uint32_t)v;
			bytes_set = true;
			break;
		case 'v':
			if (cli_parse_uint("explain", "--max-vias", optarg, 1, 1000, &v))
				return CLI_USAGE;
			ex.limits.max_vias = (uint16_t)v;
			vias_set = true;
			break;
		case 'p':
			pcap_path = optarg;
			break;
		case 's':
			if (parse_source(optarg, &ex.meta)) {
				cli_error("explain", "--source '%s': expected an IPv4 or IPv6 address", optarg);
				return CLI_USAGE;
			}
			source_set = true;
			break;
		case 't':
			rc = transport_from_name(optarg);
			if (rc < 0) {
				cli_error("explain", "--transport '%s': expected udp, tcp, tls, sctp, ws or wss",
					  optarg);
				return CLI_USAGE;
			}
			ex.meta.transport = (enum transport)rc;
			break;
		case 'h':
			printf("usage: siphonctl explain %s\n", EXPLAIN_USAGE);
			return CLI_OK;
		default:
			return CLI_USAGE; /* getopt printed the reason */
		}
	}
	if (!pcap_path && optind >= argc) {
		cli_error("explain", "no input: give FILE... or --pcap FILE");
		return CLI_USAGE;
	}
	if (pcap_path && optind < argc) {
		cli_error("explain", "give either --pcap FILE or FILE..., not both");
		return CLI_USAGE;
	}
	if (pcap_path && source_set) {
		cli_error("explain", "--source is for FILE inputs; a capture has its own addresses");
		return CLI_USAGE;
	}
	if (config_path && (rc = load_config(&ex, config_path, bytes_set, vias_set)) != CLI_OK) {
		config_free(ex.cfg);
		return rc;
	}
	rc = explain_inputs(&ex, pcap_path, argc - optind, argv + optind);
	if (ex.cfg) {
		classifier_free(&ex.cls);
		config_free(ex.cfg);
	}
	fflush(stdout);
	if (ferror(stdout)) {
		cli_error("explain", "writing the output failed");
		return CLI_FAILED;
	}
	return rc;
}

int cmd_reasons(int argc, char **argv)
{
	bool json = true;

	if (argc == 3 && strcmp(argv[1], "--format") == 0 && strcmp(argv[2], "table") == 0) {
		json = false;
	} else if (argc != 1 &&
		   !(argc == 3 && strcmp(argv[1], "--format") == 0 && strcmp(argv[2], "json") == 0)) {
		cli_error("reasons", "usage: siphonctl reasons [--format json|table]");
		return CLI_USAGE;
	}
	for (unsigned r = 0; r < SIP_REASON__COUNT; r++) {
		const char *verdict = sip_verdict_name(sip_reason_verdict(r));
		if (json) {
			int first = 1;
			putchar('{');
			json_key(stdout, "reason", &first);
			json_write_str(stdout, sip_reason_name(r));
			json_key(stdout, "verdict", &first);
			json_write_str(stdout, verdict);
			json_key(stdout, "doc", &first);
			json_write_str(stdout, sip_reason_help(r));
			puts("}");
		} else {
			printf("%-16s %-8s %s\n", sip_reason_name(r), verdict, sip_reason_help(r));
		}
	}
	return CLI_OK;
}
