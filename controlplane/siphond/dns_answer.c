/* DNS answers to nodes (docs/dns.md "Node names"): the TTL of an SRV
 * answer (c-ares 1.18 parses the records but drops their TTLs) and the
 * canonical form of a name's addresses, so that the same answer in
 * another order gives the same nodes and the same tables. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dns_answer.h"

uint32_t dns_ttl_clamp(uint32_t ttl_s)
{
	return ttl_s < DNS_TTL_MIN_S ? DNS_TTL_MIN_S : ttl_s > DNS_TTL_MAX_S ? DNS_TTL_MAX_S : ttl_s;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Past the name at off: the offset after it, or 0 when it runs out of the
 * message or uses a reserved label type. A compression pointer ends it. */
static size_t skip_name(const uint8_t *msg, size_t len, size_t off)
{
	while (off < len) {
		uint8_t b = msg[off];

		if (b == 0)
			return off + 1;
		if ((b & 0xc0) == 0xc0)
			return off + 2 <= len ? off + 2 : 0;
		if (b & 0xc0)
			return 0;
		off += 1u + b;
	}
	return 0;
}

int dns_answer_min_ttl(const uint8_t *msg, size_t len, uint16_t type, uint32_t *ttl)
{
	size_t off = 12;
	unsigned qd, an;
	bool found = false;

	if (!msg || len < 12)
		return -EINVAL;
	qd = get16(msg + 4);
	an = get16(msg + 6);
	for (unsigned i = 0; i < qd; i++) {
		off = skip_name(msg, len, off);
		if (!off || off + 4 > len)
			return -EINVAL;
		off += 4;
	}
	for (unsigned i = 0; i < an; i++) {
		uint32_t t;

		off = skip_name(msg, len, off);
		if (!off || off + 10 > len)
			return -EINVAL;
		t = (uint32_t)msg[off + 4] << 24 | (uint32_t)msg[off + 5] << 16 |
		    (uint32_t)msg[off + 6] << 8 | msg[off + 7];
		if (t & 0x80000000u)
			t = 0;
		if (get16(msg + off) == type && get16(msg + off + 2) == 1 /* IN */ &&
		    (!found || t < *ttl)) {
			*ttl = t;
			found = true;
		}
		off += 10u + get16(msg + off + 8);
		if (off > len)
			return -EINVAL;
	}
	return found ? 0 : -ENOENT;
}

uint32_t dns_srv_weight(uint16_t weight)
{
	return weight ? weight : 1;
}

static int family_rank(int family)
{
	return family == AF_INET ? 0 : 1;
}

/* priority, then the address (IPv4 first), then the port */
static int by_place(const void *x, const void *y)
{
	const struct cfg_resolved *a = x, *b = y;
	int c;

	if (a->priority != b->priority)
		return a->priority < b->priority ? -1 : 1;
	if (family_rank(a->addr.family) != family_rank(b->addr.family))
		return family_rank(a->addr.family) - family_rank(b->addr.family);
	c = memcmp(a->addr.addr, b->addr.addr, sizeof(a->addr.addr));
	if (c)
		return c;
	return a->port < b->port ? -1 : a->port > b->port;
}

static bool same_place(const struct cfg_resolved *a, const struct cfg_resolved *b)
{
	return a->addr.family == b->addr.family && a->port == b->port &&
	       memcmp(a->addr.addr, b->addr.addr, sizeof(a->addr.addr)) == 0;
}

uint32_t dns_nodes_finish(struct cfg_resolved *r, uint32_t n, uint32_t max, uint32_t *dropped)
{
	uint32_t kept = 0;

	*dropped = 0;
	if (n == 0)
		return 0;
	for (uint32_t i = 0; i < n; i++) /* the same bytes, whatever the caller left there */
		if (r[i].addr.family == AF_INET)
			memset(r[i].addr.addr + 4, 0, sizeof(r[i].addr.addr) - 4);
	qsort(r, n, sizeof(*r), by_place);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t k;

		/* sorted by priority first: an earlier twin has the lowest one */
		for (k = 0; k < kept && !same_place(&r[k], &r[i]); k++)
			;
		if (k < kept) {
			if (r[k].priority == r[i].priority)
				r[k].weight = r[k].weight + r[i].weight > 65535 ? 65535
									: r[k].weight + r[i].weight;
			continue;
		}
		if (kept == max) {
			(*dropped)++;
			continue;
		}
		r[kept++] = r[i];
	}
	return kept;
}

bool dns_nodes_equal(const struct cfg_resolved *a, uint32_t na, const struct cfg_resolved *b,
		     uint32_t nb)
{
	if (na != nb)
		return false;
	for (uint32_t i = 0; i < na; i++)
		if (!same_place(&a[i], &b[i]) || a[i].priority != b[i].priority ||
		    a[i].weight != b[i].weight)
			return false;
	return true;
}
