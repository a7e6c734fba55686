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

#include "cli.h"
#include "json_write.h"
#include "siphon/pkt_udp.h"
#include "siphon/sip_scan.h"

#define MAX_FILE_BYTES (16u << 20)

enum format { FORMAT_JSON, FORMAT_TABLE };

struct explain {
	enum format format;
	struct sip_limits limits;
	unsigned long messages, skipped;
	bool table_header_done;
};

/* Where a message came from: a file name, or a packet of a capture. */
struct origin {
	const char *file;
	unsigned long packet; /* 1-based; 0 for a file */
	const struct pkt_udp *udp;
};

static void format_addr(char *buf, size_t size, int family, const uint8_t *addr, uint16_t port)
{
	char ip[INET6_ADDRSTRLEN];

	inet_ntop(family, addr, ip, sizeof(ip));
	snprintf(buf, size, family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, port);
}

static void print_json(const struct origin *o, const uint8_t *buf, size_t len,
		       const struct sip_msg *msg)
{
	int first = 1;
	char addr[64];

	putchar('{');
	if (o->packet) {
		json_key(stdout, "packet", &first);
		printf("%lu", o->packet);
		format_addr(addr, sizeof(addr), o->udp->family, o->udp->src, o->udp->sport);
		json_key(stdout, "src", &first);
		json_write_str(stdout, addr);
		format_addr(addr, sizeof(addr), o->udp->family, o->udp->dst, o->udp->dport);
		json_key(stdout, "dst", &first);
		json_write_str(stdout, addr);
	} else {
		json_key(stdout, "file", &first);
		json_write_str(stdout, o->file);
	}
	json_key(stdout, "verdict", &first);
	json_write_str(stdout, sip_verdict_name(msg->verdict));
	json_key(stdout, "reason", &first);
	json_write_str(stdout, sip_reason_name(msg->reason));
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
	if (msg->verdict == SIP_VERDICT_FORWARD) {
		json_key(stdout, "forward_bytes", &first);
		printf("%u", msg->msg_len);
	}
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

static void print_table_row(struct explain *ex, const struct origin *o, const uint8_t *buf,
			    const struct sip_msg *msg)
{
	char name[64], start[16];

	if (!ex->table_header_done) {
		printf("%-28s %-8s %-16s %-10s %-40s %s\n", "MESSAGE", "VERDICT", "REASON", "START",
		       "CALL-ID", "DIALOG");
		ex->table_header_done = true;
	}
	if (o->packet)
		snprintf(name, sizeof(name), "packet %lu", o->packet);
	else
		snprintf(name, sizeof(name), "%s", strrchr(o->file, '/') ? strrchr(o->file, '/') + 1 : o->file);
	if (!msg->parsed)
		snprintf(start, sizeof(start), "-");
	else if (!msg->is_request)
		snprintf(start, sizeof(start), "%u", msg->status);
	else
		snprintf(start, sizeof(start), "%.*s", (int)msg->method_name.len,
			 (const char *)buf + msg->method_name.off);
	printf("%-28.28s %-8s %-16s %-10.10s ", name, sip_verdict_name(msg->verdict),
	       sip_reason_name(msg->reason), start);
	if (msg->parsed && msg->hdr_count[SIP_HDR_CALL_ID])
		print_cell(buf + msg->call_id.off, msg->call_id.len, 38);
	else
		print_cell((const uint8_t *)"-", 1, 38);
	puts(!msg->parsed ? "-" : sip_in_dialog(msg) ? "yes" : "no");
}

static void explain_one(struct explain *ex, const struct origin *o, const uint8_t *buf, size_t len)
{
	struct sip_msg msg;

	sip_scan(buf, len, &ex->limits, NULL, &msg);
	ex->messages++;
	if (ex->format == FORMAT_JSON)
		print_json(o, buf, len, &msg);
	else
		print_table_row(ex, o, buf, &msg);
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

static int explain_pcap(struct explain *ex, const char *path)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *hdr;
	const u_char *data;
	unsigned long index = 0;
	pcap_t *p = pcap_open_offline(path, errbuf);
	int link, rc;

	if (!p) {
		cli_error("explain", "--pcap %s: %s", path, errbuf);
		return CLI_FAILED;
	}
	link = pcap_datalink(p);
	if (link != DLT_EN10MB && link != DLT_RAW && link != DLT_IPV4 && link != DLT_IPV6) {
		cli_error("explain", "--pcap %s: link type %s is not supported (Ethernet or raw IP)",
			  path, pcap_datalink_val_to_name(link));
		pcap_close(p);
		return CLI_FAILED;
	}
	while ((rc = pcap_next_ex(p, &hdr, &data)) == 1) {
		struct pkt_udp udp;
		enum pkt_udp_status st;
		struct origin o = { .file = path, .packet = ++index, .udp = &udp };

		st = link == DLT_EN10MB ? pkt_udp_from_eth(data, hdr->caplen, &udp)
					: pkt_udp_from_ip(data, hdr->caplen, &udp);
		if (st != PKT_UDP_OK) {
			note_skipped(ex, index, pkt_udp_status_name(st));
			continue;
		}
		explain_one(ex, &o, data + udp.payload_off, udp.payload_len);
	}
	if (rc == -1)
		cli_error("explain", "--pcap %s: packet %lu: %s", path, index + 1, pcap_geterr(p));
	pcap_close(p);
	return rc == -1 ? CLI_FAILED : CLI_OK;
}

int cmd_explain(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "max-bytes", required_argument, NULL, 'b' },
		{ "max-vias", required_argument, NULL, 'v' },
		{ "pcap", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct explain ex = { .format = FORMAT_JSON, .limits = SIP_LIMITS_DEFAULT };
	const char *pcap_path = NULL;
	unsigned long v;
	int c, rc = CLI_OK;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
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
			break;
		case 'v':
			if (cli_parse_uint("explain", "--max-vias", optarg, 1, 1000, &v))
				return CLI_USAGE;
			ex.limits.max_vias = (uint16_t)v;
			break;
		case 'p':
			pcap_path = optarg;
			break;
		case 'h':
			printf("usage: siphonctl explain [--format json|table] [--max-bytes N] "
			       "[--max-vias N] (--pcap FILE | FILE...)\n");
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
	if (pcap_path) {
		rc = explain_pcap(&ex, pcap_path);
	} else {
		for (int i = optind; i < argc; i++) {
			struct origin o = { .file = argv[i] };
			uint8_t *buf = NULL;
			size_t len = 0;
			int err = read_file(argv[i], &buf, &len);
			if (err) {
				cli_error("explain", "%s: %s", argv[i], strerror(-err));
				rc = CLI_FAILED;
				continue;
			}
			explain_one(&ex, &o, buf, len);
			free(buf);
		}
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
