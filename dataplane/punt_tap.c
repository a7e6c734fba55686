// SPDX-License-Identifier: Apache-2.0
/* The TAP device back into the kernel stack (punt_tap.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#include <linux/if.h>
#include <linux/if_arp.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "punt_tap.h"

static bool tap_has_mac(int s, const char *name, const uint8_t *mac)
{
	struct ifreq hw = { 0 };

	snprintf(hw.ifr_name, sizeof(hw.ifr_name), "%s", name);
	return ioctl(s, SIOCGIFHWADDR, &hw) == 0 && memcmp(hw.ifr_hwaddr.sa_data, mac, 6) == 0;
}

int punt_tap_open(struct punt_tap *p, const char *name, const uint8_t *mac, char *err,
		  size_t errlen)
{
	struct ifreq ifr;
	int s, rc;

	memset(p, 0, sizeof(*p));
	p->fd = -1;
	if (strlen(name) >= IFNAMSIZ) {
		snprintf(err, errlen, "'%s': an interface name has at most %d characters",
			 name, IFNAMSIZ - 1);
		return -EINVAL;
	}
	p->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (p->fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "/dev/net/tun: %s", strerror(errno));
		return rc;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(p->fd, TUNSETIFF, &ifr) < 0) {
		rc = -errno;
		snprintf(err, errlen, "TAP %s: %s", name, strerror(errno));
		goto fail;
	}
	snprintf(p->name, sizeof(p->name), "%s", ifr.ifr_name);
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
		rc = -errno;
		snprintf(err, errlen, "TAP %s: %s", name, strerror(errno));
		if (s >= 0)
			close(s);
		goto fail;
	}
	/* before it is up: no frame leaves with another MAC. Only when it
	 * differs: a new MAC makes the kernel flush the interface's neighbour
	 * table, which a persistent TAP keeps across siphon restarts then */
	if (mac && !tap_has_mac(s, name, mac)) {
		struct ifreq hw = ifr;

		hw.ifr_hwaddr.sa_family = ARPHRD_ETHER;
		memcpy(hw.ifr_hwaddr.sa_data, mac, 6);
		if (ioctl(s, SIOCSIFHWADDR, &hw) < 0) {
			rc = -errno;
			snprintf(err, errlen, "TAP %s: cannot give it the MAC: %s", name, strerror(errno));
			close(s);
			goto fail;
		}
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) {
		rc = -errno;
		snprintf(err, errlen, "TAP %s: cannot bring it up: %s", name, strerror(errno));
		close(s);
		goto fail;
	}
	if (ioctl(s, SIOCGIFHWADDR, &ifr) < 0) {
		rc = -errno;
		snprintf(err, errlen, "TAP %s: its MAC: %s", name, strerror(errno));
		close(s);
		goto fail;
	}
	memcpy(p->mac, ifr.ifr_hwaddr.sa_data, 6);
	close(s);
	return 0;
fail:
	close(p->fd);
	p->fd = -1;
	return rc;
}

void punt_tap_close(struct punt_tap *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

int punt_tap_write(const struct punt_tap *p, uint8_t *frame, size_t len)
{
	if (len < 14)
		return -EINVAL;
	memcpy(frame, p->mac, 6);
	return punt_tap_give(p, frame, len);
}

int punt_tap_give(const struct punt_tap *p, const uint8_t *frame, size_t len)
{
	if (write(p->fd, frame, len) != (ssize_t)len)
		return -errno;
	return 0;
}

ssize_t punt_tap_read(const struct punt_tap *p, uint8_t *buf, size_t cap)
{
	/* the TAP returns a frame's whole length, also when it copied less */
	ssize_t n = read(p->fd, buf, cap);

	if (n < 0)
		return errno == EAGAIN ? 0 : -errno;
	return (size_t)n > cap ? -EMSGSIZE : n;
}
