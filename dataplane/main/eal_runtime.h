/* What DPDK's EAL leaves on disk: its runtime directory
 * (/var/run/dpdk/PREFIX as root, else $XDG_RUNTIME_DIR/dpdk/PREFIX or
 * /tmp/dpdk/PREFIX) with its config and memory maps (empty with
 * --in-memory), kept after rte_eal_cleanup() and after a failed
 * rte_eal_init(). siphon removes the
 * directory it made, and never one that was there before it started: it
 * may be another DPDK process's. Plain C: no DPDK header. */
#ifndef SIPHON_EAL_RUNTIME_H
#define SIPHON_EAL_RUNTIME_H

#include <stdbool.h>

struct eal_runtime {
	char dir[512];
	bool existed;   /* there before EAL started: not ours to remove */
};

/* Before rte_eal_init: where EAL will put its runtime directory for these
 * arguments (--file-prefix), and whether it is there now. */
void eal_runtime_note(struct eal_runtime *rt, int argc, char *const *argv);

/* Whether EAL would leave its hugepage files (PREFIXmap_N in the hugetlbfs
 * mount) behind at exit, keeping the memory from everyone: it keeps them
 * for secondary processes, which siphon has none of. True unless argv has
 * --no-huge, --in-memory or --huge-unlink[=...]. */
bool eal_keeps_hugepage_files(int argc, char *const *argv);

/* After rte_eal_cleanup (or a failed rte_eal_init): removes the directory
 * and its files when siphon's EAL made it, then the dpdk/ folder above it
 * if that is empty. */
void eal_runtime_remove(const struct eal_runtime *rt);

#endif
