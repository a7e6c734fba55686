/* What the BPF tests (test_xdp.c, parity_lanes.c) share: whether this
 * process may use bpf(), big-endian 16-bit fields and an Ethernet header
 * with 0-2 VLAN tags. */
#ifndef SIPHON_TESTS_BPF_BPF_TEST_H
#define SIPHON_TESTS_BPF_BPF_TEST_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "siphon/packet.h"
#include "siphon/siphon_tables.h"

static inline void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Destination and source MAC (macs, 12 bytes), vlans tags (the outer one
 * 802.1ad when stacked, then 802.1Q; VLAN ids 100, 101), type; returns
 * the header's length. */
static inline size_t put_eth(uint8_t *b, const uint8_t macs[12], int vlans, unsigned type)
{
	size_t off = 12;

	memcpy(b, macs, 12);
	for (int i = 0; i < vlans; i++) {
		put16(b + off, i == 0 && vlans > 1 ? PKT_ETHERTYPE_QINQ : PKT_ETHERTYPE_VLAN);
		put16(b + off + 2, 100u + (unsigned)i);
		off += 4;
	}
	put16(b + off, type);
	return off + 2;
}

/* The table half the program reads now (the `generation` map's): the
 * kernel lane's per-node, per-rule and per-flag counters of the running
 * tables are in that half (docs/xdp.md "Maps"). */
static inline uint32_t active_half(int generation_fd)
{
	struct sk_gen g = { 0, 0 };
	uint32_t zero = 0;

	if (bpf_map_lookup_elem(generation_fd, &zero, &g))
		return 0;
	return g.active & 1;
}

/* false (said on stderr) when this process may not use bpf(): not root,
 * or the syscall refused; the tests exit 77 then. */
static inline bool bpf_usable(void)
{
	int fd;

	if (geteuid() != 0) {
		fprintf(stderr, "skipped: needs root for BPF_PROG_TEST_RUN\n");
		return false;
	}
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "probe", 4, 4, 1, NULL);
	if (fd < 0) {
		fprintf(stderr, "skipped: bpf() refused: %s\n", strerror(errno));
		return false;
	}
	close(fd);
	return true;
}

#endif
