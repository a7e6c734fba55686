/* The summary's "next_hops" member (next_hops_print.h). */
#include <stdatomic.h>

#include "siphon/json_write.h"
#include "next_hops_print.h"

void print_next_hops(FILE *f, const struct neigh_ctl *nc, const struct compiled_tables *t,
		     int *first)
{
	static const char *const state[] = { "no_neighbour", "ok", "no_route" };
	int inner = 1, nf = 1;

	json_key(f, "next_hops", first);
	if (!nc) {
		fputs("null", f);
		return;
	}
	fputc('{', f);
	for (unsigned k = 0; k < neigh_counter_count(); k++) {
		json_key(f, neigh_counter_name(k), &inner);
		fprintf(f, "%llu", (unsigned long long)neigh_counter(nc, k));
	}
	json_key(f, "generation", &inner);
	fprintf(f, "%u", atomic_load(&nc->hops.generation));
	json_key(f, "nodes", &inner);
	fputc('{', f);
	for (uint32_t i = 0; i < t->n_nodes && i < nc->hops.n_nodes; i++) {
		const struct pool_node *pn = &t->nodes[i];
		uint8_t m[6];
		unsigned st = next_hop_unpack(atomic_load(&nc->hops.node[i]), m);
		char v[64];

		if (pn->has_mac)
			snprintf(v, sizeof(v), "config %02x:%02x:%02x:%02x:%02x:%02x", pn->mac[0],
				 pn->mac[1], pn->mac[2], pn->mac[3], pn->mac[4], pn->mac[5]);
		else if (st == NEXT_HOP_OK)
			snprintf(v, sizeof(v), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3],
				 m[4], m[5]);
		else
			snprintf(v, sizeof(v), "%s", st < 3 ? state[st] : "?");
		json_key(f, pn->id, &nf);
		json_write_str(f, v);
	}
	fputs("}}", f);
}
