/* The RPC client: one request, one reply line, within a timeout
 * (docs/rpc.md). siphonctl's half of the RPC layer. */
#ifndef SIPHON_RPC_CLIENT_H
#define SIPHON_RPC_CLIENT_H

#include <stddef.h>

#include <jansson.h>

#define RPC_CLIENT_TIMEOUT_MS 5000

/* Connects to the server at path (blocking at most timeout_ms). Returns the
 * fd, or -errno with err set: -ENOENT or -ECONNREFUSED when nothing
 * listens there ("siphond is not running at PATH: ..."). */
int rpc_client_connect(const char *path, int timeout_ms, char *err, size_t errlen);

/* Sends {"method", "params" (when not NULL), "id"} on fd and reads one
 * reply line, within timeout_ms. 0 with *reply (to json_decref) an object
 * with "id" and either "result" or "error" {"code", "message"} (the error
 * replies of a server that refuses a line carry "id": null); or -errno
 * with err set: -ETIMEDOUT, -EPROTO (not one line of JSON of that shape,
 * or the connection closed first), or what send/recv said. */
int rpc_client_request(int fd, const char *method, json_t *params, json_int_t id,
		       int timeout_ms, json_t **reply, char *err, size_t errlen);

/* Connect, one request with id 1, close. */
int rpc_call(const char *path, const char *method, json_t *params, int timeout_ms,
	     json_t **reply, char *err, size_t errlen);

#endif
