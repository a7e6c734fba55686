/* Fuzz harness over what siphond makes of DNS answers
 * (controlplane/siphond/dns_answer.c, docs/dns.md); abort() on a breach.
 *
 * The input is a DNS message: the TTL reader must never read past it and
 * give a TTL only when it says so. The same bytes, cut into records
 * (address, port, priority, weight), are an answer: made canonical, it is
 * sorted, without twins, within max, and the same when made again. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz_check.h"

#include "dns_answer.h"

#define REC 24 /* input bytes per record: family bit, 16 address bytes, port, priority, weight */

static int rank(const struct cfg_resolved *r)
{
	return r->addr.family == AF_INET ? 0 : 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg_resolved r[64], again[64];
	uint32_t ttl = 7, n = 0, kept, dropped, max;
	int rc;

	for (uint16_t type = 0; type < 64; type += 33) {
		rc = dns_answer_min_ttl(data, size, type, &ttl);
		CHECK(rc == 0 || rc == -EINVAL || rc == -ENOENT);
		CHECK(rc == 0 || size >= 12 || rc == -EINVAL);
		if (rc == 0)
			CHECK(ttl < 0x80000000u);
		CHECK(dns_ttl_clamp(ttl) >= DNS_TTL_MIN_S && dns_ttl_clamp(ttl) <= DNS_TTL_MAX_S);
	}
	for (size_t off = 0; off + REC <= size && n < 64; off += REC, n++) {
		const uint8_t *p = data + off;

		memset(&r[n], 0, sizeof(r[n]));
		r[n].addr.family = p[0] & 1 ? AF_INET6 : AF_INET;
		memcpy(r[n].addr.addr, p + 1, 16);
		r[n].port = (uint16_t)(p[17] << 8 | p[18]);
		r[n].priority = p[19] & 3; /* few priorities: twins across them */
		r[n].weight = dns_srv_weight((uint16_t)(p[20] << 8 | p[21]));
	}
	max = size ? data[0] % 40 : 0;
	kept = dns_nodes_finish(r, n, max, &dropped);
	CHECK(kept <= max && kept <= n && kept + dropped <= n);
	for (uint32_t i = 0; i < kept; i++) {
		CHECK(r[i].weight >= 1 && r[i].weight <= 65535);
		if (r[i].addr.family == AF_INET)
			for (int b = 4; b < 16; b++)
				CHECK(r[i].addr.addr[b] == 0);
		for (uint32_t k = 0; k < i; k++)
			CHECK(r[k].addr.family != r[i].addr.family || r[k].port != r[i].port ||
			      memcmp(r[k].addr.addr, r[i].addr.addr, 16) != 0);
		if (i)
			CHECK(r[i - 1].priority < r[i].priority ||
			      (r[i - 1].priority == r[i].priority && rank(&r[i - 1]) <= rank(&r[i])));
	}
	memcpy(again, r, kept * sizeof(*r));
	CHECK(dns_nodes_finish(again, kept, max, &dropped) == kept && dropped == 0);
	CHECK(dns_nodes_equal(again, kept, r, kept));
	return 0;
}
