/* The AF_XDP lane's way back into the kernel stack (docs/afxdp.md "Punts").
 *
 * An XDP program can still say XDP_PASS; a frame that reached user space
 * cannot. Frames the pipeline punts (OPTIONS to the balancer, replies to
 * its own probes) or passes are written to a TAP device in the balancer's
 * namespace, addressed to the TAP's MAC, so the stack receives them as if
 * they had arrived on the wire. One write() per punted frame: punts are
 * the control plane's traffic, not the forwarding rate. */
#ifndef SIPHON_PUNT_TAP_H
#define SIPHON_PUNT_TAP_H

#include <stddef.h>
#include <stdint.h>

struct punt_tap {
	int fd;
	uint8_t mac[6];
	char name[16];
};

/* Creates (or attaches to) the TAP device `name` and brings it up.
 * 0 or -errno with a message in err. */
int punt_tap_open(struct punt_tap *p, const char *name, char *err, size_t errlen);
void punt_tap_close(struct punt_tap *p);

/* Gives the frame to the kernel stack (its destination MAC becomes the
 * TAP's). 0 or -errno (-EAGAIN: the TAP's queue is full). */
int punt_tap_write(const struct punt_tap *p, uint8_t *frame, size_t len);

#endif
