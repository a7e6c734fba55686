/* bench-blast-send: the SIP messages of a pcap, sent over UDP at a fixed
 * rate, bounded by count and time (bench/blast/run, docs/bench-blast.md).
 *
 *   bench-blast-send --pcap FILE --rate N --count N [--seconds S] [--dst ADDR]
 *                    [--port P] [--src ADDR] [--batch B] [--cpu C]
 *
 * Takes the UDP payloads of FILE (Ethernet/IPv4 records: bench/blast/mix.py)
 * as one round of the mix and sends round after round from a UDP socket
 * (default 198.18.1.2:5060, the lab's caller) to ADDR:P (default the VIP,
 * 198.18.0.10:5060) with sendmmsg(), B messages a call (default 32), paced
 * to N a second. Every run of 16 '@' in a message gets the round number in
 * hex, so each round's Call-IDs are new. Stops after N messages or S
 * seconds (default 60), whichever comes first, and prints one JSON line:
 * sent, send errors, the seconds it took, the rate reached and its own
 * CPU time (user + system, which carries the softirq work its sends set
 * off in the kernel). */
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../xdp/bench_tool.h"

#define MARK_LEN 16
#define MAX_MSGS 64   /* messages in one round of the mix */
#define MAX_MARKS 8   /* marks in one message */
#define MAX_BATCH 256
#define MSG_MAX 2048

struct tmpl {
	unsigned char data[MSG_MAX];
	size_t len;
	unsigned int marks[MAX_MARKS], n_marks;
};

struct options {
	const char *pcap, *dst, *src;
	unsigned long long rate, count, seconds, port, batch;
	int cpu;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: bench-blast-send --pcap FILE --rate N --count N [--seconds S] [--dst ADDR]\n"
		   "                        [--port P] [--src ADDR] [--batch B] [--cpu C]\n"
		   "  the UDP payloads of FILE, round after round, N a second, to ADDR:P\n"
		   "  (default %s:%d) from %s:%d; stops after N messages or S seconds (60).\n",
		LAB_VIP4, LAB_SIP_PORT, LAB_CALLER4, LAB_SIP_PORT);
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "pcap", required_argument, NULL, 'p' },  { "rate", required_argument, NULL, 'r' },
		{ "count", required_argument, NULL, 'n' }, { "seconds", required_argument, NULL, 's' },
		{ "dst", required_argument, NULL, 'd' },   { "port", required_argument, NULL, 'P' },
		{ "src", required_argument, NULL, 'S' },   { "batch", required_argument, NULL, 'b' },
		{ "cpu", required_argument, NULL, 'c' },   { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long long cpu;
	int c, err = 0;

	*o = (struct options){ .dst = LAB_VIP4, .src = LAB_CALLER4, .port = LAB_SIP_PORT,
			       .seconds = 60, .batch = 32, .cpu = -1 };
	while (!err && (c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p': o->pcap = optarg; break;
		case 'r': err = tool_parse_u64("--rate", optarg, 1, 10000000, &o->rate); break;
		case 'n': err = tool_parse_u64("--count", optarg, 1, 1000000000, &o->count); break;
		case 's': err = tool_parse_u64("--seconds", optarg, 1, BENCH_MAX_SECONDS, &o->seconds); break;
		case 'd': o->dst = optarg; break;
		case 'P': err = tool_parse_u64("--port", optarg, 1, 65535, &o->port); break;
		case 'S': o->src = optarg; break;
		case 'b': err = tool_parse_u64("--batch", optarg, 1, MAX_BATCH, &o->batch); break;
		case 'c':
			err = tool_parse_u64("--cpu", optarg, 0, CPU_SETSIZE - 1, &cpu);
			o->cpu = (int)cpu;
			break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -EINVAL;
		}
	}
	if (!err && optind < argc) {
		fprintf(stderr, "bench-blast-send: unexpected argument '%s'\n", argv[optind]);
		err = -EINVAL;
	}
	if (!err && (!o->pcap || !o->rate || !o->count)) {
		fprintf(stderr, "bench-blast-send: --pcap, --rate and --count are required\n");
		err = -EINVAL;
	}
	return err;
}

/* The UDP payload of an Ethernet/IPv4 record, or NULL. */
static const unsigned char *udp_payload(const unsigned char *p, size_t caplen, size_t *len)
{
	size_t ihl, udp_len;

	if (caplen < 14 + 20 + 8 || p[12] != 0x08 || p[13] != 0x00 || (p[14] >> 4) != 4 || p[23] != 17)
		return NULL;
	ihl = (size_t)(p[14] & 0x0f) * 4;
	if (ihl < 20 || caplen < 14 + ihl + 8)
		return NULL;
	udp_len = (size_t)p[14 + ihl + 4] << 8 | p[14 + ihl + 5];
	if (udp_len < 8 || 14 + ihl + udp_len > caplen)
		return NULL;
	*len = udp_len - 8;
	return p + 14 + ihl + 8;
}

/* The messages of FILE (a classic little-endian pcap, as tests/packets.py
 * writes it; read by hand: libpcap's bpf.h and libbpf's clash) into t[];
 * their number, or -errno with a message. */
static int load_mix(const char *path, struct tmpl *t)
{
	static unsigned char rec[65536];
	unsigned char gh[24], rh[16];
	const unsigned char *msg;
	FILE *f = fopen(path, "rb");
	int n = 0, err = 0;
	uint32_t caplen;
	size_t len;

	if (!f) {
		fprintf(stderr, "--pcap: %s: %s\n", path, strerror(errno));
		return -ENOENT;
	}
	if (fread(gh, 1, sizeof(gh), f) != sizeof(gh) || memcmp(gh, "\xd4\xc3\xb2\xa1", 4) != 0 ||
	    gh[20] != 1 /* LINKTYPE_ETHERNET */) {
		fprintf(stderr, "--pcap: %s: not a little-endian Ethernet pcap\n", path);
		err = -EINVAL;
	}
	while (!err && fread(rh, 1, sizeof(rh), f) == sizeof(rh)) {
		caplen = (uint32_t)rh[8] | (uint32_t)rh[9] << 8 | (uint32_t)rh[10] << 16 | (uint32_t)rh[11] << 24;
		msg = NULL;
		if (caplen <= sizeof(rec) && fread(rec, 1, caplen, f) == caplen)
			msg = udp_payload(rec, caplen, &len);
		if (!msg || len > MSG_MAX || n == MAX_MSGS) {
			fprintf(stderr, "--pcap: %s: record %d is not a UDP/IPv4 frame of at most %d bytes "
					"(or more than %d records)\n", path, n + 1, MSG_MAX, MAX_MSGS);
			err = -EINVAL;
			break;
		}
		memcpy(t[n].data, msg, len);
		t[n].len = len;
		t[n].n_marks = 0;
		for (size_t i = 0; i + MARK_LEN <= len && t[n].n_marks < MAX_MARKS; i++) {
			if (memcmp(msg + i, "@@@@@@@@@@@@@@@@", MARK_LEN) == 0) {
				t[n].marks[t[n].n_marks++] = (unsigned int)i;
				i += MARK_LEN - 1;
			}
		}
		n++;
	}
	fclose(f);
	if (!err && !n) {
		fprintf(stderr, "--pcap: %s has no record\n", path);
		err = -EINVAL;
	}
	return err ? err : n;
}

static int open_socket(const struct options *o, struct sockaddr_in *dst)
{
	struct sockaddr_in src = { .sin_family = AF_INET, .sin_port = htons((uint16_t)o->port) };
	int fd, one = 1, sndbuf = 4 << 20;

	*dst = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons((uint16_t)o->port) };
	if (inet_pton(AF_INET, o->dst, &dst->sin_addr) != 1 || inet_pton(AF_INET, o->src, &src.sin_addr) != 1) {
		fprintf(stderr, "--dst, --src: '%s', '%s': not both IPv4 addresses\n", o->dst, o->src);
		return -EINVAL;
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	if (bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0) {
		int err = -errno;

		fprintf(stderr, "bind %s:%llu: %s\n", o->src, o->port, strerror(-err));
		close(fd);
		return err;
	}
	return fd;
}

static void write_round(unsigned char *buf, const struct tmpl *t, unsigned long long round)
{
	char hex[MARK_LEN + 1];

	memcpy(buf, t->data, t->len);
	snprintf(hex, sizeof(hex), "%016llx", round);
	for (unsigned int m = 0; m < t->n_marks; m++)
		memcpy(buf + t->marks[m], hex, MARK_LEN);
}

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static struct tmpl mix[MAX_MSGS];
static unsigned char bufs[MAX_BATCH][MSG_MAX];

int main(int argc, char **argv)
{
	struct mmsghdr mm[MAX_BATCH];
	struct iovec iov[MAX_BATCH];
	struct sockaddr_in dst;
	struct options o;
	unsigned long long next = 0, sent = 0, errors = 0; /* next: the schedule's position */
	double t0, deadline, now, cpu0;
	int n_mix, fd, n;

	if (parse_args(argc, argv, &o))
		return 2;
	n_mix = load_mix(o.pcap, mix);
	if (n_mix < 0)
		return 1;
	if (o.cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(o.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			fprintf(stderr, "--cpu %d: %s (not pinned)\n", o.cpu, strerror(errno));
	}
	fd = open_socket(&o, &dst);
	if (fd < 0) {
		fprintf(stderr, "bench-blast-send: socket: %s\n", strerror(-fd));
		return 1;
	}
	for (unsigned int i = 0; i < MAX_BATCH; i++) {
		iov[i].iov_base = bufs[i];
		mm[i].msg_hdr = (struct msghdr){ .msg_name = &dst, .msg_namelen = sizeof(dst),
						 .msg_iov = &iov[i], .msg_iovlen = 1 };
	}
	cpu0 = cpu_seconds();
	t0 = tool_now();
	deadline = t0 + (double)o.seconds;
	for (now = t0; next < o.count && now < deadline; now = tool_now()) {
		/* how far behind the schedule next = rate x elapsed we are */
		unsigned long long due = (unsigned long long)((now - t0) * (double)o.rate);
		unsigned long long todo = due > next ? due - next : 0;

		if (todo > o.count - next)
			todo = o.count - next;
		if (!todo) {
			/* ahead: sleep until the next batch is due */
			struct timespec ts = { 0, (long)(1e9 * (double)o.batch / (double)o.rate) };

			if (ts.tv_nsec > 1000000)
				ts.tv_nsec = 1000000;
			nanosleep(&ts, NULL);
			continue;
		}
		if (todo > o.batch)
			todo = o.batch;
		for (unsigned int i = 0; i < todo; i++) {
			unsigned long long k = next + i;
			const struct tmpl *t = &mix[k % (unsigned int)n_mix];

			write_round(bufs[i], t, k / (unsigned int)n_mix);
			iov[i].iov_len = t->len;
		}
		n = sendmmsg(fd, mm, (unsigned int)todo, 0);
		if (n > 0) {
			sent += (unsigned long long)n;
			next += (unsigned long long)n;
		} else {
			errors++;
			next++; /* the message that failed is lost: the schedule goes on */
		}
	}
	now = tool_now();
	printf("{\"event\":\"end\",\"sent\":%llu,\"errors\":%llu,\"seconds\":%.4f,\"rate\":%.1f,"
	       "\"cpu_s\":%.4f,\"mix\":%d}\n",
	       sent, errors, now - t0, (double)sent / (now - t0), cpu_seconds() - cpu0, n_mix);
	close(fd);
	return 0;
}
