/* Kamailio's dispatcher.list to a siphon config (siphonctl
 * import-dispatcher, docs/migrating.md). Pure: text in; the config text,
 * what was not carried over and the pools written out. No I/O. */
#ifndef SIPHON_DISPATCHER_IMPORT_H
#define SIPHON_DISPATCHER_IMPORT_H

#include <stdbool.h>
#include <stddef.h>

#define DSI_TEXT_MAX 320

/* Something of the input the config does not carry: its line and what. */
struct dsi_note {
	int line;
	unsigned seq; /* the order found in, so that sorting by line is stable */
	char text[DSI_TEXT_MAX];
};

/* A pool written: dispatcher set `set`, named "set<set>". */
struct dsi_pool {
	long set;
	unsigned n_nodes;
	bool probe;
	int first_line;
};

struct dsi_result {
	char *config; /* the config text (malloc'd); NULL when refused */
	char error[DSI_TEXT_MAX + 256]; /* "NAME:LINE: what" when refused */
	struct dsi_note *notes; /* in line order */
	size_t n_notes;
	struct dsi_pool *pools; /* in set order */
	size_t n_pools;
};

/* name stands for the input in messages; control (an IP literal, or NULL)
 * becomes balancer.control. 0, or -EINVAL (r->error says why) or -ENOMEM.
 * The notes are filled either way. Free r with dsi_result_free(). */
int dsi_import(const char *name, const char *text, size_t len, const char *control,
	       struct dsi_result *r);
void dsi_result_free(struct dsi_result *r);

#endif
