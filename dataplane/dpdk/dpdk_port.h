/* The DPDK side of siphon --io dpdk that is not per packet (docs/dpdk.md):
 * the mbuf pool and the ports. Every port EAL probed gets one RX/TX queue
 * pair per worker, no offloads (the pipeline reads and writes the frame
 * as it was on the wire), RSS over IP/UDP/TCP when there is more than one
 * queue and the port has it: the Call-ID hash, not the queue, chooses the
 * node, so any spread is correct. */
#ifndef SIPHON_DPDK_PORT_H
#define SIPHON_DPDK_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct rte_mempool;

#define DPDK_MAX_PORTS 8
#define DPDK_RX_DESC   1024
#define DPDK_TX_DESC   1024

/* A port's own counters, taken as it stops (closed, it has none), and
 * for a live summary while it runs (dpdk_ports_take_stats). */
#define DPDK_PORT_STATS(X)                                                         \
	X(ipackets, "frames the port received")                                     \
	X(opackets, "frames the port sent")                                         \
	X(imissed, "frames the port dropped: its receive queue was full")            \
	X(ierrors, "frames received in error")                                      \
	X(oerrors, "frames the port failed to send")                                \
	X(rx_nombuf, "frames the port could not receive: no free mbuf")

struct dpdk_port_stats {
#define X(id, help) uint64_t id;
	DPDK_PORT_STATS(X)
#undef X
};

struct dpdk_ports {
	uint16_t n;                   /* ports in use */
	uint16_t id[DPDK_MAX_PORTS];  /* their DPDK port ids */
	bool started[DPDK_MAX_PORTS];
	char name[DPDK_MAX_PORTS][64]; /* as EAL knows them, e.g. net_pcap0 */
	struct dpdk_port_stats stats[DPDK_MAX_PORTS];
	uint16_t queues;              /* RX/TX queue pairs on each: one per worker */
	/* -1: a forwarded frame leaves by the port it came in on. Else the
	 * index of the port all forwarded frames leave by (--egress), which
	 * siphon only sends on: what it receives is the kernel's (the lab's
	 * net_af_packet on the core link). */
	int egress;
	struct rte_mempool *pool;
	unsigned pool_size;
	/* The mbufs net_af_xdp ports put on their fill rings at start. DPDK
	 * 22.11's net_af_xdp never gives those back: closed, it deletes the
	 * AF_XDP socket with them on the ring (the kernel's). They are the
	 * PMD's, not a leak of siphon's (docs/dpdk.md "Stopping"). */
	unsigned kept_by_pmd;
};

/* The mbuf pool and every probed port configured with `queues` queue
 * pairs and started. 0 or -errno with a one-line message in err (no port,
 * too few queues on a port, no memory for the pool); what was opened is
 * closed again by dpdk_ports_close. */
int dpdk_ports_open(struct dpdk_ports *p, uint16_t queues, char *err, size_t errlen);

/* The index of the port EAL calls `name`, or -1. */
int dpdk_ports_find(const struct dpdk_ports *p, const char *name);

/* The kernel interface under port i when its PMD runs over a socket of
 * one (net_af_packet, net_af_xdp: the vdev's iface=), into out: the kernel
 * keeps its routes and neighbours. 0, or -ENOENT (another PMD). */
int dpdk_port_kernel_iface(const struct dpdk_ports *p, unsigned i, char *out, size_t len);

/* Takes each port's counters (p->stats), stops and closes it (a net_pcap
 * port then completes its output capture) and frees the pool. Returns the
 * pool's mbufs still in use once the ports gave theirs back, less those a
 * PMD keeps by design (p->kept_by_pmd): 0, or a leak. */
unsigned dpdk_ports_close(struct dpdk_ports *p);

/* While the ports run (--stats-interval): each started port's counters
 * now, into p->stats; and the pool's mbufs in use now (in the queues, the
 * workers' batches and the per-lcore caches). Any thread. */
void dpdk_ports_take_stats(struct dpdk_ports *p);
unsigned dpdk_ports_mbufs_in_use(const struct dpdk_ports *p);

/* The ports and their counters as a JSON array member "ports" on f. */
void dpdk_ports_print(FILE *f, const struct dpdk_ports *p, int *first);

#endif
