/* The punt sockets and counters, shared by punt.c (the loop's side),
 * punt_sock.c (sockets, receive, send) and punt_json.c (state). */
#ifndef SIPHON_PUNT_SOCK_H
#define SIPHON_PUNT_SOCK_H

#include <sys/socket.h>
#include <sys/types.h>

#include "punt.h"
#include "siphon/limits.h"
#include "siphon/tables.h"
#include "siphond.h"

#define PUNT_MAX_SOCKETS (TABLES_MAX_SELF * 8) /* addresses x ports */
#define PUNT_WHY_MAX     48
_Static_assert(PUNT_MAX_SOCKETS == PUNT_POLL_MAX, "siphond.h sizes the poll array");

struct punt_sock {
	int fd;            /* -1 when it could not be made or bound */
	int err;           /* that errno, else 0 */
	struct self_addr addr;
	uint16_t port;
	char name[64];     /* ADDR:PORT, [ADDR]:PORT for IPv6 */
};

struct punt_why {
	const char *name;
	uint64_t count;
};

struct punt_code {
	uint64_t n[600]; /* 100..699 */
};

struct punt_counters {
	uint64_t received, stun, no_live_node, probe_answers, send_failed,
		bind_failed, read_failed, tables_failed, bad_total;
	struct punt_code options, replies;
	unsigned n_unanswered, n_bad;
	struct punt_why unanswered[PUNT_WHY_MAX], bad[PUNT_WHY_MAX];
};

struct punt {
	struct classifier cls;
	bool cls_ok;
	uint32_t retry_after_s[TABLES_MAX_POOLS]; /* each pool's, from the running config */
	unsigned n_socks;
	struct punt_sock socks[PUNT_MAX_SOCKETS];
	struct punt_counters c;
	uint8_t rbuf[65536];           /* a UDP payload is at most 65,507 bytes */
	uint8_t abuf[PUNT_ANSWER_CAP];
};

/* Makes the sockets match t's addresses x ports: sockets that stay are
 * kept, others closed, new ones opened (failures logged and counted). */
void punt_sockets_sync(struct punt *p, const struct compiled_tables *t);
void punt_sockets_close(struct punt *p);
struct punt_sock *punt_sock_by_fd(struct punt *p, int fd);
/* One datagram: its length (flags has MSG_TRUNC when it was longer than
 * cap), pm filled from the source and the destination it was sent to;
 * -1 with errno. */
ssize_t punt_recv(struct punt_sock *s, uint8_t *buf, size_t cap, struct sockaddr_storage *from,
		  struct packet_meta *pm, int *flags);
/* buf to `to`, from pm->dst (the address the request was sent to). 0 or -1
 * with errno. */
int punt_send(const struct punt_sock *s, const uint8_t *buf, size_t len,
	      const struct sockaddr_storage *to, const struct packet_meta *pm);

#endif
