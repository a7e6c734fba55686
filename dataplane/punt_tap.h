/* The fast path's way back into the kernel stack, in the modes where a
 * frame has left it: the AF_XDP lane (docs/afxdp.md "Punts") and DPDK's
 * exception path (docs/dpdk.md "Exception path").
 *
 * An XDP program can still say XDP_PASS; a frame that reached user space
 * cannot. Frames the pipeline punts (OPTIONS to the balancer, replies to
 * its own probes) or passes are written to a TAP device in the balancer's
 * namespace, so the stack receives them as if they had arrived on the
 * wire; in DPDK mode what the kernel sends on the TAP is read back and
 * sent out of the DPDK port. One write() or read() per frame: this is the
 * control plane's traffic, not the forwarding rate. */
#ifndef SIPHON_PUNT_TAP_H
#define SIPHON_PUNT_TAP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct punt_tap {
	int fd;
	uint8_t mac[6];
	char name[16];
};

/* Creates (or attaches to: an operator's persistent TAP keeps its
 * addresses across restarts) the TAP device `name`, gives it `mac` when
 * not NULL, and brings it up. Non-blocking. 0 or -errno with a message
 * in err. */
int punt_tap_open(struct punt_tap *p, const char *name, const uint8_t *mac, char *err,
		  size_t errlen);
void punt_tap_close(struct punt_tap *p);

/* Gives the frame to the kernel stack (its destination MAC becomes the
 * TAP's: --io xdp, where the TAP's MAC is not the wire's). 0 or -errno
 * (-EAGAIN: the TAP's queue is full). */
int punt_tap_write(const struct punt_tap *p, uint8_t *frame, size_t len);

/* Gives the frame to the kernel stack as it is (DPDK: the TAP carries the
 * port's MAC). 0 or -errno. */
int punt_tap_give(const struct punt_tap *p, const uint8_t *frame, size_t len);

/* One frame the kernel sent on the TAP into buf: its length, 0 when there
 * is none, -EMSGSIZE when it was longer than cap (dropped), else -errno. */
ssize_t punt_tap_read(const struct punt_tap *p, uint8_t *buf, size_t cap);

#endif
