// SPDX-License-Identifier: Apache-2.0
/* The tables into the XDP program's rodata and maps (xdp_tables.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "siphon_xdp.h"
#include "siphon.skel.h"
#include "xdp_tables.h"

int xdp_tables_configure(struct siphon_bpf *skel, const struct compiled_tables *t,
			 bool kernel_lane, char *err, size_t errlen)
{
	uint32_t n4 = 0, n6 = 0;

	(void)kernel_lane;
	for (uint32_t i = 0; i < t->n_self_addrs; i++) {
		const struct self_addr *a = &t->self_addrs[i];

		if (a->family == AF_INET) {
			if (n4 == SIPHON_XDP_MAX_VIPS)
				goto too_many;
			memcpy(&skel->rodata->vip4[n4++], a->addr, 4);
		} else {
			if (n6 == SIPHON_XDP_MAX_VIPS)
				goto too_many;
			memcpy(skel->rodata->vip6[n6++], a->addr, 16);
		}
	}
	if (t->n_ports > SIPHON_XDP_MAX_PORTS) {
		snprintf(err, errlen, "%u SIP ports; the XDP program takes %d", t->n_ports,
			 SIPHON_XDP_MAX_PORTS);
		return -E2BIG;
	}
	skel->rodata->vip4_count = n4;
	skel->rodata->vip6_count = n6;
	for (uint32_t i = 0; i < t->n_ports; i++)
		skel->rodata->vip_ports[i] = t->ports[i];
	skel->rodata->vip_port_count = t->n_ports;
	skel->rodata->hash_seed = t->hash_seed;
	return 0;
too_many:
	snprintf(err, errlen, "more than %d balancer addresses of one family; the XDP program takes %d",
		 SIPHON_XDP_MAX_VIPS, SIPHON_XDP_MAX_VIPS);
	return -E2BIG;
}

int xdp_tables_publish(struct siphon_bpf *skel, const struct compiled_tables *t,
		       int egress_ifindex, char *err, size_t errlen)
{
	(void)skel, (void)t, (void)egress_ifindex, (void)err, (void)errlen;
	return 0; /* no table maps yet: the kernel lane comes with them */
}
