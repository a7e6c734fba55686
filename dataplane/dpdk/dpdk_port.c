/* The mbuf pool and the ports of siphon --io dpdk (dpdk_port.h). */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <rte_devargs.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "siphon/json_write.h"
#include "dpdk_port.h"
#include "dpdk_worker.h"

#define POOL_CACHE 256

_Static_assert(sizeof(((struct dpdk_ports *)0)->name[0]) >= RTE_ETH_NAME_MAX_LEN,
	       "a port name as EAL writes it");

/* Enough mbufs that no ring, cache or transmit batch can starve the
 * others: every RX and TX descriptor of every queue, every lcore's cache
 * and batches, and room for the fragments a worker releases at once.
 * Rounded to 2^k - 1, the size the pool's ring holds best. */
static unsigned pool_size(const struct dpdk_ports *p)
{
	unsigned n = (unsigned)p->n * p->queues * (DPDK_RX_DESC + DPDK_TX_DESC) +
		     rte_lcore_count() * (POOL_CACHE + p->n * DPDK_BURST) + 1024;
	unsigned size = 1;

	while (size - 1 < n)
		size <<= 1;
	return size - 1;
}

static int port_start(struct dpdk_ports *p, unsigned i, char *err, size_t errlen)
{
	const uint16_t port = p->id[i];
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	uint16_t rxd = DPDK_RX_DESC, txd = DPDK_TX_DESC;
	const char *name = p->name[i];
	int rc;

	memset(&conf, 0, sizeof(conf));
	rc = rte_eth_dev_info_get(port, &info);
	if (rc) {
		snprintf(err, errlen, "port %u (%s): no device information: %s", port, name,
			 rte_strerror(-rc));
		return rc;
	}
	if (info.max_rx_queues < p->queues || info.max_tx_queues < p->queues) {
		snprintf(err, errlen, "port %u (%s) has %u receive and %u transmit queues, %u worker "
			 "lcores need %u of each: give EAL fewer lcores (-l), or the port more queues",
			 port, name, info.max_rx_queues, info.max_tx_queues, p->queues, p->queues);
		return -EINVAL;
	}
	if (p->queues > 1 && info.flow_type_rss_offloads) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP | RTE_ETH_RSS_TCP) &
						   info.flow_type_rss_offloads;
	}
	/* what the PMD posts to its receive rings from the pool (below) */
	unsigned posted = rte_mempool_in_use_count(p->pool);

	rc = rte_eth_dev_configure(port, p->queues, p->queues, &conf);
	if (!rc)
		rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &rxd, &txd);
	for (uint16_t q = 0; !rc && q < p->queues; q++) {
		rc = rte_eth_rx_queue_setup(port, q, rxd, (unsigned)rte_eth_dev_socket_id(port), NULL,
					    p->pool);
		if (!rc)
			rc = rte_eth_tx_queue_setup(port, q, txd, (unsigned)rte_eth_dev_socket_id(port),
						    NULL);
	}
	if (!rc) {
		rte_eth_promiscuous_enable(port); /* best effort: not every PMD has it */
		rc = rte_eth_dev_start(port);
	}
	if (rc) {
		snprintf(err, errlen, "port %u (%s) does not start: %s", port, name, rte_strerror(-rc));
		return rc;
	}
	p->started[i] = true;
	if (strcmp(info.driver_name, "net_af_xdp") == 0) /* its fill rings: dpdk_port.h */
		p->kept_by_pmd += rte_mempool_in_use_count(p->pool) - posted;
	return 0;
}

int dpdk_ports_open(struct dpdk_ports *p, uint16_t queues, char *err, size_t errlen)
{
	uint16_t port;

	memset(p, 0, sizeof(*p));
	p->queues = queues;
	p->egress = -1;
	RTE_ETH_FOREACH_DEV(port) {
		if (p->n == DPDK_MAX_PORTS) {
			snprintf(err, errlen, "more than %d ports: give EAL fewer (--vdev, -a)",
				 DPDK_MAX_PORTS);
			return -E2BIG;
		}
		if (rte_eth_dev_get_name_by_port(port, p->name[p->n]))
			snprintf(p->name[p->n], sizeof(p->name[0]), "port%u", port);
		p->id[p->n++] = port;
	}
	if (!p->n) {
		snprintf(err, errlen, "no DPDK port came up: EAL's lines above name a device that "
			 "failed; else give one in the EAL arguments, e.g. --vdev "
			 "net_pcap0,rx_pcap=IN.pcap,tx_pcap=OUT.pcap (docs/dpdk.md)");
		return -ENODEV;
	}
	p->pool_size = pool_size(p);
	p->pool = rte_pktmbuf_pool_create("siphon_mbufs", p->pool_size, POOL_CACHE, 0,
					  RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (!p->pool) {
		snprintf(err, errlen, "no memory for %u mbufs: %s (give EAL more: -m, or hugepages)",
			 p->pool_size, rte_strerror(rte_errno));
		return -ENOMEM;
	}
	for (unsigned i = 0; i < p->n; i++) {
		int rc = port_start(p, i, err, errlen);

		if (rc)
			return rc;
	}
	return 0;
}

int dpdk_ports_find(const struct dpdk_ports *p, const char *name)
{
	for (unsigned i = 0; i < p->n; i++)
		if (strcmp(p->name[i], name) == 0)
			return (int)i;
	return -1;
}

/* The value of key `iface` in a vdev's arguments ("iface=X,queue_count=1"). */
static int iface_arg(const char *args, char *out, size_t len)
{
	for (const char *a = args; a && *a;) {
		size_t n = strcspn(a, ",");

		if (n > 6 && strncmp(a, "iface=", 6) == 0 && n - 6 < len) {
			memcpy(out, a + 6, n - 6);
			out[n - 6] = 0;
			return 0;
		}
		a += n + (a[n] == ',');
	}
	return -ENOENT;
}

int dpdk_port_kernel_iface(const struct dpdk_ports *p, unsigned i, char *out, size_t len)
{
	struct rte_eth_dev_info info;
	const struct rte_devargs *da;

	if (i >= p->n || rte_eth_dev_info_get(p->id[i], &info) || !info.device || !info.driver_name)
		return -ENOENT;
	/* PMDs over a socket of a kernel interface, which the kernel keeps */
	if (strcmp(info.driver_name, "net_af_packet") != 0 && strcmp(info.driver_name, "net_af_xdp") != 0)
		return -ENOENT;
	da = rte_dev_devargs(info.device);
	return da ? iface_arg(da->args, out, len) : -ENOENT;
}

static void take_stats(struct dpdk_ports *p, unsigned i)
{
	struct rte_eth_stats s;
	struct dpdk_port_stats *d = &p->stats[i];

	if (rte_eth_stats_get(p->id[i], &s))
		return;
#define X(id, help) d->id = s.id;
	DPDK_PORT_STATS(X)
#undef X
}

void dpdk_ports_take_stats(struct dpdk_ports *p)
{
	for (unsigned i = 0; i < p->n; i++)
		if (p->started[i])
			take_stats(p, i);
}

unsigned dpdk_ports_mbufs_in_use(const struct dpdk_ports *p)
{
	return p->pool ? rte_mempool_in_use_count(p->pool) : 0;
}

unsigned dpdk_ports_close(struct dpdk_ports *p)
{
	unsigned in_use;

	for (unsigned i = 0; i < p->n; i++) {
		if (p->started[i]) {
			/* an empty send: a PMD that frees sent mbufs once the
			 * device is done with them (net_af_xdp: on its next
			 * send) frees the last ones now */
			for (uint16_t q = 0; q < p->queues; q++)
				rte_eth_tx_burst(p->id[i], q, NULL, 0);
			take_stats(p, i);
			rte_eth_dev_stop(p->id[i]);
		}
		rte_eth_dev_close(p->id[i]); /* its queues give their mbufs back */
		p->started[i] = false;
	}
	in_use = p->pool ? rte_mempool_in_use_count(p->pool) : 0;
	rte_mempool_free(p->pool);
	p->pool = NULL;
	return in_use > p->kept_by_pmd ? in_use - p->kept_by_pmd : 0;
}

void dpdk_ports_print(FILE *f, const struct dpdk_ports *p, int *first)
{
	static const char *const names[] = {
#define X(id, help) #id,
		DPDK_PORT_STATS(X)
#undef X
	};

	json_key(f, "ports", first);
	fputc('[', f);
	for (unsigned i = 0; i < p->n; i++) {
		const uint64_t *v = &p->stats[i].ipackets;
		int inner = 1;

		fputs(i ? ",{" : "{", f);
		json_key(f, "port", &inner);
		fprintf(f, "%u", p->id[i]);
		json_key(f, "name", &inner);
		json_write_str(f, p->name[i]);
		for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
			json_key(f, names[k], &inner);
			fprintf(f, "%" PRIu64, v[k]);
		}
		fputc('}', f);
	}
	fputc(']', f);
}
