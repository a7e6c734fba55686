/* The RPC server: a Unix stream socket, non-blocking, driven by the
 * caller's poll() loop; no threads. Requests are handled by the method
 * table (rpc.h); the protocol is docs/rpc.md.
 *
 *     struct pollfd fds[RPC_SERVER_FDS_MAX];
 *     for (;;) {
 *             size_t n = rpc_server_poll_fds(srv, fds, RPC_SERVER_FDS_MAX);
 *             // ... add the daemon's own fds after fds[n] ...
 *             poll(fds, n, timeout);
 *             rpc_server_handle(srv, fds, n);
 *     }
 */
#ifndef SIPHON_RPC_SERVER_H
#define SIPHON_RPC_SERVER_H

#include <poll.h>
#include <stddef.h>

#include "rpc.h"

#define RPC_MAX_CLIENTS 16
#define RPC_MAX_CLIENTS_LIMIT 256
#define RPC_SERVER_FDS_MAX (RPC_MAX_CLIENTS + 1) /* enough for the default limits */

struct rpc_server_opts {
	unsigned max_clients; /* 0: RPC_MAX_CLIENTS (at most RPC_MAX_CLIENTS_LIMIT); more are answered "busy" */
	size_t max_line;      /* 0: RPC_LINE_MAX; a longer line is answered "too_long" */
};

struct rpc_server;

/* Listens on path: its parent directories are created (0755), the socket
 * gets mode 0600; a socket file nobody listens on (a dead server's) is
 * replaced, a live one is refused (-EADDRINUSE), so is a file that is not
 * a socket (-EEXIST). t must outlive the server; opts may be NULL.
 * 0, or -errno with err (errlen bytes) saying why. */
int rpc_server_open(struct rpc_server **out, const char *path, const struct rpc_table *t,
		    const struct rpc_server_opts *opts, char *err, size_t errlen);

/* Closes every client and the socket, and removes the socket file if it
 * is still the one this server made. NULL is fine. */
void rpc_server_close(struct rpc_server *s);

/* The listening socket. */
int rpc_server_fd(const struct rpc_server *s);

/* Fills fds (room for n) with the listening socket, then every client,
 * each with the events it waits for; returns how many. max_clients + 1
 * entries always suffice. */
size_t rpc_server_poll_fds(const struct rpc_server *s, struct pollfd *fds, size_t n);

/* Serves what poll() reported in fds: accepts, reads, answers, writes,
 * closes. Entries of fds that are not the server's are skipped, so the
 * daemon may pass its whole array. Returns how many entries it served. */
size_t rpc_server_handle(struct rpc_server *s, const struct pollfd *fds, size_t n);

/* poll() and rpc_server_handle() for a caller with nothing else to wait
 * for (tests, the test server): 0 (also on EINTR and timeout) or -errno. */
int rpc_server_run_once(struct rpc_server *s, int timeout_ms);

const struct rpc_counters *rpc_server_counters(const struct rpc_server *s);
unsigned rpc_server_clients(const struct rpc_server *s);

/* rpc_socket.c: the listening socket alone, as rpc_server_open makes it.
 * Returns the fd, or -errno with err set. */
int rpc_listen(const char *path, char *err, size_t errlen);

#endif
