/* The RPC method table and the handling of one request line: JSON in,
 * JSON out, with jansson. No sockets here (rpc_server.h); the protocol is
 * docs/rpc.md. */
#ifndef SIPHON_RPC_H
#define SIPHON_RPC_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define RPC_DEFAULT_SOCKET "/run/siphon/siphond.sock"
#define RPC_LINE_MAX (64 * 1024)    /* a request line, without its '\n' */
#define RPC_REPLY_MAX (1024 * 1024) /* a reply line; larger is an "internal" error */
#define RPC_METHODS_MAX 64
#define RPC_MESSAGE_MAX 512

enum rpc_code {
#define RPC_ERROR(id, code, doc) RPC_E_##id,
#include "rpc_errors.def"
#undef RPC_ERROR
	RPC_E_COUNT
};

/* "parse_error", ...; NULL out of range. */
const char *rpc_code_name(enum rpc_code code);

/* What went wrong, counted by kind. The daemon shows them (rpc_counters_json). */
struct rpc_counters {
	uint64_t requests;              /* lines handled (each got one reply) */
	uint64_t ok;                    /* replies with a result */
	uint64_t errors[RPC_E_COUNT];   /* replies with an error, by code */
	uint64_t accepted;              /* connections accepted, busy ones too */
	uint64_t closed_mid_request;    /* a client gone with part of a line sent */
	uint64_t write_failed;          /* a client gone before its replies were written */
	uint64_t accept_failed;         /* accept() failed (other than EAGAIN) */
	uint64_t read_failed;           /* read() failed (other than EAGAIN) */
	uint64_t handed_over;           /* connections handed to a method's take() */
};

/* {"requests": N, "ok": N, "errors": {"parse_error": N, ...}, ...}; NULL on ENOMEM. */
json_t *rpc_counters_json(const struct rpc_counters *c);

/* Types a parameter can be declared with. */
enum rpc_type { RPC_STRING, RPC_INTEGER, RPC_BOOLEAN, RPC_OBJECT, RPC_ARRAY, RPC_ANY };

/* "string", "integer", ... */
const char *rpc_type_name(enum rpc_type t);

/* A declared parameter; the dispatcher checks it before the handler runs.
 * An integer may have a range: `{ "weight", RPC_INTEGER, true, "...", RPC_RANGE(0, 65535) }`
 * (a max of RPC_NO_MAX: at least min). */
struct rpc_param {
	const char *name;
	enum rpc_type type;
	bool required;
	const char *doc;
	bool ranged;
	json_int_t min, max;
};

#define RPC_RANGE(lo, hi) true, (lo), (hi)
#define RPC_NO_MAX LLONG_MAX

struct rpc_error {
	enum rpc_code code;
	char message[RPC_MESSAGE_MAX];
};

/* Sets err and returns -ENOENT for NOT_FOUND, -ENOMEM for INTERNAL,
 * -EINVAL otherwise: `return rpc_fail(err, RPC_E_NOT_FOUND, "no pool '%s'", p);` */
int rpc_fail(struct rpc_error *err, enum rpc_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A method. params has been checked against the declaration: an object
 * (empty when the request had none) whose members are all declared, of
 * their types, the required ones present. Returns 0 with *result a new
 * reference (json_null() when there is nothing to say), or -errno with
 * err set by rpc_fail(); a -errno without it is reported as "internal". */
typedef int (*rpc_handler_fn)(const json_t *params, void *ctx, json_t **result,
			      struct rpc_error *err);

/* A method that takes the connection over (fastpath.attach): once its
 * success reply is written, the server stops serving the connection and
 * hands the socket to take(): fd (non-blocking) is the callee's to close
 * from then on; rest holds what the client sent after the request line;
 * params is the request's, as the handler saw them. A -errno return
 * (nothing kept) makes the server close fd.
 * A refused request (an error reply, bad params too) hands nothing over:
 * take() is called with fd -1, params (NULL when not an object) and rest
 * the error reply line, for the callee to log and count, and the server
 * closes the connection once the reply is written (whoever asked for a
 * channel does not speak RPC after it). */
typedef int (*rpc_take_fn)(void *ctx, int fd, const json_t *params, const void *rest,
			   size_t rest_len);

struct rpc_method {
	const char *name;
	rpc_handler_fn handler;
	const struct rpc_param *params; /* ends with { NULL }; NULL: takes none */
	const char *doc;
	rpc_take_fn take; /* NULL for an ordinary method */
};

/* Every method the server answers, in the order added. Several arrays,
 * each with the context its handlers get: the built-ins (rpc_builtin_add)
 * and the daemon's own. */
struct rpc_table {
	struct rpc_entry {
		const struct rpc_method *method;
		void *ctx;
	} entry[RPC_METHODS_MAX];
	size_t n;
};

void rpc_table_init(struct rpc_table *t);
/* Adds n methods. -EEXIST when a name is already there, -ENOSPC past
 * RPC_METHODS_MAX, -EINVAL for a method with no name or handler; nothing
 * is added then. */
int rpc_table_add(struct rpc_table *t, const struct rpc_method *methods, size_t n, void *ctx);
const struct rpc_entry *rpc_table_find(const struct rpc_table *t, const char *name);

/* A method's description: {"name", "doc", "params": [{"name", "type", "required", "doc"}]},
 * a ranged parameter with "min" and "max" too (no "max" for RPC_NO_MAX). */
json_t *rpc_method_json(const struct rpc_method *m);

/* help, version and ping (rpc_builtin.c); help's context is t itself. */
int rpc_builtin_add(struct rpc_table *t);

/* Handles one request line (without its '\n'; a trailing '\r' is
 * ignored) and returns its reply: one line of JSON without '\n', to
 * free(). NULL only when out of memory. Counts into c. */
char *rpc_handle_line(const struct rpc_table *t, const char *line, size_t len,
		      struct rpc_counters *c);

/* rpc_handle_line, and when the line called a method with `take`: *taken
 * its entry, *params a new reference to its params (json_decref it; NULL
 * when they are not an object) and *ok whether it succeeded; else NULL,
 * NULL, false. */
char *rpc_handle_line_take(const struct rpc_table *t, const char *line, size_t len,
			   struct rpc_counters *c, const struct rpc_entry **taken, json_t **params,
			   bool *ok);

/* The reply to a line that is not handled (too long, busy): id null. */
char *rpc_error_line(enum rpc_code code, const char *message, struct rpc_counters *c);

/* What to send when even the reply could not be made. */
#define RPC_OOM_LINE "{\"id\":null,\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}"

#endif
