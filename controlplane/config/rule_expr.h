/* Flag expressions: `A and (B or not C)` over flag names, compiled into
 * disjunctive normal form (an OR of AND-terms) so that the fast path only
 * compares bit masks. */
#ifndef SIPHON_RULE_EXPR_H
#define SIPHON_RULE_EXPR_H

#include <stddef.h>

#include "siphon/tables.h"

#define EXPR_MAX_TERMS 64 /* terms one expression may expand to */

/* Looks a flag name up; returns its bit or -1. */
typedef int (*expr_lookup_fn)(void *ctx, const char *name, size_t len);

struct expr_result {
	unsigned n_terms;
	struct dnf_term terms[EXPR_MAX_TERMS]; /* target left 0 */
	char error[256];                       /* when the parse fails */
};

/* Parses and compiles `text`. Returns 0, or -EINVAL with res->error set
 * (an unknown flag, a syntax error with its position, too many terms, or
 * a condition that can never hold). */
int expr_compile(const char *text, expr_lookup_fn lookup, void *ctx, struct expr_result *res);

#endif
