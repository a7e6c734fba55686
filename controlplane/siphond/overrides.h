/* The pool changes made over the RPC (docs/siphond.md "Pool management"):
 * nodes added, removed, weighted, drained, disabled. They are applied over
 * the config file's text as an edit of its parsed tree (config_load_edited),
 * persisted in STATE_DIR/overrides.json and re-applied at start, until a
 * reload drops them. One entry per pool and node name. */
#ifndef SIPHON_OVERRIDES_H
#define SIPHON_OVERRIDES_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "config.h"

#define OVR_FILE "overrides.json"
#define OVR_MAX  8192 /* entries: more nodes than a config may have */

struct ovr_node {
	char pool[TABLES_NAME_MAX], node[TABLES_NAME_MAX];
	bool removed;  /* the config file's node of this name is out */
	bool added;    /* a node added over the RPC: address, port, id */
	char address[INET6_ADDRSTRLEN];
	uint16_t port;
	char id[TABLES_NAME_MAX];
	bool weighted; /* weight set over the RPC (an added node: always) */
	uint32_t weight;
	bool drained, disabled;
	/* the config file's node of this name, found by each edit */
	bool in_config;
	uint32_t config_weight;
};

struct overrides {
	uint32_t n, cap;
	struct ovr_node *v;
};

void ovr_free(struct overrides *o);
int ovr_copy(struct overrides *dst, const struct overrides *src); /* 0 or -ENOMEM */
struct ovr_node *ovr_find(const struct overrides *o, const char *pool, const char *node);
/* The entry of pool/node, made empty at the end when there is none; NULL
 * when OVR_MAX are taken or out of memory. */
struct ovr_node *ovr_get(struct overrides *o, const char *pool, const char *node);
/* Drops the entries that no longer change anything. */
void ovr_tidy(struct overrides *o);

/* config_edit_fn: ctx is a struct overrides (its in_config and
 * config_weight are filled in). An entry that does not fit the file (a
 * pool or node it names is not there, or an added node's name is) fails
 * with the reason. */
int ovr_edit(struct config_t *tree, void *ctx, char *err, size_t errlen);

/* STATE_DIR/overrides.json. Load: 0 (no file: o empty), -EINVAL (corrupt)
 * or -ESTALE (made for another config file or another text of it) with err.
 * Save: atomic (temp file, fsync, rename, fsync of the directory); no
 * entry removes the file. text is the config file's as loaded. */
int ovr_load(const char *dir, const char *config, const char *text, struct overrides *o,
	     char *err, size_t errlen);
int ovr_save(const char *dir, const struct overrides *o, const char *config, const char *text,
	     char *err, size_t errlen);
/* A refused file is kept aside as overrides.json.refused. */
void ovr_set_aside(const char *dir);

/* ["core/b4 added", "core/b1 weight 50", "core/b1 draining", ...] */
json_t *ovr_list_json(const struct overrides *o);
/* The same joined with ", " into buf ("none" when empty). */
void ovr_describe(const struct overrides *o, char *buf, size_t size);

#endif
