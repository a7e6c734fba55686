/* The method table as people read it: `siphonctl help rpc` (from the
 * running siphond's `help`) and siphond(8) (from siphond's own table).
 * Both take the `help` method's "methods" array, so they never differ. */
#ifndef SIPHON_RPC_DOC_H
#define SIPHON_RPC_DOC_H

#include <stdio.h>

#include <jansson.h>

/* "name (string, required; 0 to 65535): doc" into buf. */
void rpc_doc_param(const json_t *param, char *buf, size_t size);
/* Each method's name indented by two spaces, its doc and params by more. */
void rpc_doc_text(FILE *f, const json_t *methods);
/* .TP entries for a man page's METHODS section. */
void rpc_doc_man(FILE *f, const json_t *methods);

#endif
