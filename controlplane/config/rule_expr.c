/* Flag expressions: a small recursive-descent parser and a conversion to
 * disjunctive normal form.
 *
 *   expr   = and *( "or" and )
 *   and    = unary *( "and" unary )
 *   unary  = "not" unary / "(" expr ")" / FLAG
 *
 * Keywords are lower case; flag names are letters, digits and '_'. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rule_expr.h"

#define MAX_NODES 256
#define MAX_DEPTH 64

enum node_type { NODE_FLAG, NODE_NOT, NODE_AND, NODE_OR };

struct node {
	enum node_type type;
	int bit;         /* NODE_FLAG */
	int left, right; /* children; NOT uses left */
};

struct parser {
	const char *text, *p;
	expr_lookup_fn lookup;
	void *ctx;
	struct node nodes[MAX_NODES];
	int n_nodes;
	char *error;
	size_t error_size;
};

struct term_list {
	unsigned n;
	struct dnf_term t[EXPR_MAX_TERMS];
};

static int fail(struct parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct parser *ps, const char *fmt, ...)
{
	va_list ap;

	if (ps->error[0] == 0) {
		va_start(ap, fmt);
		vsnprintf(ps->error, ps->error_size, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static void skip_space(struct parser *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')
		ps->p++;
}

/* The next word (flag name or keyword) without consuming it; its length. */
static size_t peek_word(struct parser *ps)
{
	size_t n = 0;

	skip_space(ps);
	while (is_name_char(ps->p[n]))
		n++;
	return n;
}

static bool take_keyword(struct parser *ps, const char *kw)
{
	size_t n = peek_word(ps);

	if (n != strlen(kw) || strncmp(ps->p, kw, n) != 0)
		return false;
	ps->p += n;
	return true;
}

static int new_node(struct parser *ps, enum node_type type, int left, int right, int bit)
{
	if (ps->n_nodes == MAX_NODES)
		return fail(ps, "expression too long (more than %d parts)", MAX_NODES);
	ps->nodes[ps->n_nodes] = (struct node){ type, bit, left, right };
	return ps->n_nodes++;
}

static int parse_or(struct parser *ps, int depth);

static int parse_unary(struct parser *ps, int depth)
{
	size_t n;
	int child, bit;

	if (depth > MAX_DEPTH)
		return fail(ps, "expression nested too deeply (more than %d levels)", MAX_DEPTH);
	if (take_keyword(ps, "not")) {
		child = parse_unary(ps, depth + 1);
		return child < 0 ? child : new_node(ps, NODE_NOT, child, -1, 0);
	}
	skip_space(ps);
	if (*ps->p == '(') {
		ps->p++;
		child = parse_or(ps, depth + 1);
		if (child < 0)
			return child;
		skip_space(ps);
		if (*ps->p != ')')
			return fail(ps, "missing ')' at column %d", (int)(ps->p - ps->text) + 1);
		ps->p++;
		return child;
	}
	n = peek_word(ps);
	if (n == 0) {
		if (*ps->p == 0)
			return fail(ps, "expression ends where a flag name was expected");
		return fail(ps, "unexpected '%c' at column %d", *ps->p, (int)(ps->p - ps->text) + 1);
	}
	if ((n == 3 && (!strncmp(ps->p, "and", 3) || !strncmp(ps->p, "not", 3))) ||
	    (n == 2 && !strncmp(ps->p, "or", 2)))
		return fail(ps, "'%.*s' at column %d where a flag name was expected", (int)n, ps->p,
			    (int)(ps->p - ps->text) + 1);
	bit = ps->lookup(ps->ctx, ps->p, n);
	if (bit < 0)
		return fail(ps, "unknown flag '%.*s'", (int)n, ps->p);
	ps->p += n;
	return new_node(ps, NODE_FLAG, -1, -1, bit);
}

static int parse_and(struct parser *ps, int depth)
{
	int left = parse_unary(ps, depth);

	while (left >= 0 && take_keyword(ps, "and")) {
		int right = parse_unary(ps, depth);
		left = right < 0 ? right : new_node(ps, NODE_AND, left, right, 0);
	}
	return left;
}

static int parse_or(struct parser *ps, int depth)
{
	int left = parse_and(ps, depth);

	while (left >= 0 && take_keyword(ps, "or")) {
		int right = parse_and(ps, depth);
		left = right < 0 ? right : new_node(ps, NODE_OR, left, right, 0);
	}
	return left;
}

static bool term_contradicts(const struct dnf_term *t)
{
	for (unsigned i = 0; i < FLAGSET_WORDS; i++)
		if (t->must.w[i] & t->must_not.w[i])
			return true;
	return false;
}

static int add_term(struct parser *ps, struct term_list *out, const struct dnf_term *t)
{
	if (term_contradicts(t))
		return 0; /* A and not A: this term never holds */
	for (unsigned i = 0; i < out->n; i++)
		if (flagset_equal(&out->t[i].must, &t->must) &&
		    flagset_equal(&out->t[i].must_not, &t->must_not))
			return 0;
	if (out->n == EXPR_MAX_TERMS)
		return fail(ps, "expression expands to more than %d and-terms; simplify it or "
				"split it into derived flags", EXPR_MAX_TERMS);
	out->t[out->n++] = *t;
	return 0;
}

/* DNF of a node, with negations pushed down to the flags (De Morgan). */
static int to_dnf(struct parser *ps, int idx, bool neg, struct term_list *out)
{
	const struct node *nd = &ps->nodes[idx];
	struct term_list *a = NULL, *b = NULL;
	bool product;
	int err = 0;

	out->n = 0;
	if (nd->type == NODE_FLAG) {
		struct dnf_term t = { 0 };
		flagset_set(neg ? &t.must_not : &t.must, (unsigned)nd->bit);
		return add_term(ps, out, &t);
	}
	if (nd->type == NODE_NOT)
		return to_dnf(ps, nd->left, !neg, out);

	/* and, or negated or: a product of the two sides; else a union */
	product = (nd->type == NODE_AND) != neg;
	a = malloc(sizeof(*a));
	b = malloc(sizeof(*b));
	if (!a || !b) {
		err = fail(ps, "out of memory");
		goto out;
	}
	err = to_dnf(ps, nd->left, neg, a);
	if (!err)
		err = to_dnf(ps, nd->right, neg, b);
	for (unsigned i = 0; !err && i < a->n; i++) {
		if (!product) {
			err = add_term(ps, out, &a->t[i]);
			continue;
		}
		for (unsigned j = 0; !err && j < b->n; j++) {
			struct dnf_term t = a->t[i];
			flagset_or(&t.must, &b->t[j].must);
			flagset_or(&t.must_not, &b->t[j].must_not);
			err = add_term(ps, out, &t);
		}
	}
	for (unsigned j = 0; !err && !product && j < b->n; j++)
		err = add_term(ps, out, &b->t[j]);
out:
	free(a);
	free(b);
	return err;
}

int expr_compile(const char *text, expr_lookup_fn lookup, void *ctx, struct expr_result *res)
{
	struct parser *ps = calloc(1, sizeof(*ps));
	struct term_list *terms = NULL;
	int root, err;

	memset(res, 0, sizeof(*res));
	if (!ps) {
		snprintf(res->error, sizeof(res->error), "out of memory");
		return -ENOMEM;
	}
	*ps = (struct parser){ .text = text, .p = text, .lookup = lookup, .ctx = ctx,
			       .error = res->error, .error_size = sizeof(res->error) };
	root = parse_or(ps, 0);
	err = root < 0 ? root : 0;
	skip_space(ps);
	if (!err && *ps->p) {
		size_t n = peek_word(ps); /* quote the next word, or the next character */
		err = fail(ps, "unexpected '%.*s' at column %d", n ? (int)(n > 40 ? 40 : n) : 1, ps->p,
			   (int)(ps->p - text) + 1);
	}
	if (!err) {
		terms = malloc(sizeof(*terms));
		err = terms ? to_dnf(ps, root, false, terms) : fail(ps, "out of memory");
	}
	if (!err && terms->n == 0)
		err = fail(ps, "the condition can never be true (it needs a flag both set and unset)");
	if (!err) {
		res->n_terms = terms->n;
		memcpy(res->terms, terms->t, terms->n * sizeof(terms->t[0]));
	}
	free(terms);
	free(ps);
	return err;
}
