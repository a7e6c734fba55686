/* siphon --io dpdk when the DPDK part is not built (dataplane/dpdk/meson.build). */
#include <stdio.h>

#include "siphon_main.h"

int run_dpdk(const struct options *o, const struct siphon_config *cfg,
	     const struct compiled_tables *tables, struct gen_receiver *r, struct gen_generation *g)
{
	(void)o, (void)cfg, (void)tables;
	if (r)
		gen_receiver_close(r);
	gen_generation_free(g);
	fprintf(stderr, "siphon: --io dpdk is not built here: it needs DPDK (libdpdk-dev, found "
			"by pkg-config) at build time (scripts/setup installs it)\n");
	return 1;
}
