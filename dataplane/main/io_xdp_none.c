/* siphon --io xdp when the XDP part is not built (bpf/meson.build). */
#include <stdio.h>

#include "siphon_main.h"

static int not_built(void)
{
	fprintf(stderr, "siphon: --io xdp is not built here: it needs clang, bpftool, libbpf and "
			"libxdp at build time (scripts/setup installs them)\n");
	return 1;
}

int run_xdp(const struct options *o, const struct siphon_config *cfg,
	    const struct compiled_tables *tables, struct gen_receiver *r, struct gen_generation *g)
{
	(void)o, (void)cfg, (void)tables;
	if (r)
		gen_receiver_close(r);
	gen_generation_free(g);
	return not_built();
}

int run_xdp_admin(const struct options *o)
{
	(void)o;
	return not_built();
}
