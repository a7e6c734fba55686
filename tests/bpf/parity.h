/* tests/bpf/test-parity's shared scaffolding (test_parity.c says what the
 * test does): the frames it builds, running one frame through both lanes
 * (BPF_PROG_TEST_RUN and pipeline_process()) and the parity rule, the
 * corpus and capture readers, switching to the lab-like config, and the
 * setup and teardown of the cmocka group. parity_lanes.c defines these,
 * test_parity.c holds the fixed-frame cases, parity_mutate.c the
 * mutation round and parity_nid.c the node-id cases. */
#ifndef SIPHON_TESTS_BPF_PARITY_H
#define SIPHON_TESTS_BPF_PARITY_H


#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <cmocka.h>

/* linux/bpf.h has its own struct bpf_insn */
#define PCAP_DONT_INCLUDE_PCAP_BPF_H
#include <pcap/pcap.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "config.h"
#include "pipeline.h"
#include "siphon/names.h"
#include "siphon/siphon_tables.h"
#include "siphon/siphon_xdp.h"
#include "siphon.skel.h"
#include "xdp_tables.h"

#define N_COUNTERS (PKT_STATUS__COUNT + XDP_REASON__COUNT)
#define FRAME_MAX  3400 /* test-run takes a page minus head- and tailroom */
#define BUF_MAX    4096

/* The command line (main()) and the lanes both run: parity.conf's, or
 * lab.conf's between lab_enter() and lab_leave(). */
extern const char *config_path, *corpus_dir, *lab_config_path, *pcap_path;
extern struct siphon_config *cfg;
extern struct siphon_bpf *skel;
extern struct pipeline_worker worker;
extern const char *const reason_names[];

/* Sources: the variants run the first SRC__COUNT; SRC_LAB_SCANNER is in
 * lab.conf's dropped prefix (SCANNER_NET, IPv4 only). */
enum source { SRC_PLAIN, SRC_INTERNAL, SRC_BLOCKED, SRC__COUNT, SRC_LAB_SCANNER = SRC__COUNT };

/* what both lanes did with one frame */
struct result {
	int action;          /* the XDP program's return */
	unsigned reason;     /* enum xdp_reason */
	unsigned why;        /* up_why reason, or ~0u */
	int knode;           /* node counted by the kernel, or -1 */
	int kmsg;            /* node x message slot counted by the kernel (node*13+slot), or -1 */
	struct flagset kflags; /* flags the kernel counted (active half, one each) */
	struct flagset pflags; /* flags the pipeline counted */
	uint8_t out[BUF_MAX];
	uint32_t out_len;
	enum pipeline_outcome outcome;
	int preason;         /* the scanner's reason (sip_reason_name()), or -1 */
	int pnode;           /* node counted by the pipeline, or -1 */
	int pmsg;            /* node x message slot counted by the pipeline, or -1 */
	uint8_t pout[BUF_MAX];
	size_t pout_len;
};

/* tallies (parity_teardown() prints them) */
extern unsigned long n_frames, n_kernel[XDP_REASON__COUNT], n_why[XDP_REASON__COUNT];

/* the last frame's result (check_variants() leaves it there) */
extern struct result res;

/* The lab-like config (tests/bpf/lab.conf) in place of parity.conf: its
 * tables published into a skeleton of their own, a worker of its own;
 * lab_leave() puts parity.conf's back. */
struct saved_lanes {
	struct siphon_config *cfg;
	struct siphon_bpf *skel;
	struct pipeline_worker worker;
};

size_t mk_frame(uint8_t *b, int family, int vlans, enum source src, const uint8_t *pl,
		size_t plen, size_t pad);
void run_both(const uint8_t *f, size_t len, struct result *r);
bool kernel_decided(unsigned reason);
const char *parity_break(const struct result *r, char *msg, size_t cap);
unsigned check_parity(const char *name, const uint8_t *f, size_t len, struct result *r);
unsigned check_variants(const char *name, const uint8_t *pl, size_t plen,
			unsigned *reasons_plain);
uint8_t *corpus_read(const char *name, size_t *len);
size_t capture_request(const uint8_t *d, size_t caplen, int *v6);
void lab_enter(struct saved_lanes *sv);
void lab_leave(struct saved_lanes *sv);
int parity_setup(void **state);
void nid_stats_read(uint64_t out[SK_NID_STATS]);
int parity_teardown(void **state);

/* parity_mutate.c */
void mutation_round(void **state);

/* parity_nid.c */
void nid_dispatch(void **state);

#endif
