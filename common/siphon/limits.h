/* What each lane of the fast path can take, in one place: the config
 * loader, the pipeline (AF_XDP, pcap), the XDP program and `siphonctl
 * check` all read these. No includes and no libc: compiled for -target bpf
 * too. kernel_lane_fits() (common/lane_limits.c) checks a table set against
 * the kernel lane's; the loader refuses what the pipeline cannot take.
 * The SK_ sizes may be overridden with -D when building bpf/ (#ifndef). */
#ifndef SIPHON_LIMITS_H
#define SIPHON_LIMITS_H

/* ---- the pipeline (and so every config that loads) ---- */
#define TABLES_MAX_METHODS  32  /* method names that flags name */
#define TABLES_MAX_SELF     32  /* balancer addresses, names, control addresses */
#define TABLES_MAX_PATTERNS 512 /* header-value patterns in the Hyperscan database */
#define TABLES_MAX_TERMS    4096
#define TABLES_MAX_RULES    1024
#define TABLES_MAX_POOLS    64
#define TABLES_MAX_NODES    65534 /* all pools: the node index holds node + 1 in 16 bits */
#define DECISION_MAX_RATE_LIMITS 8 /* rate-limit rules in a route (each message may pass them all) */

/* ---- the XDP kernel lane (bpf/siphon.bpf.c); beyond these, --io xdp refuses the config ---- */
#define SIPHON_XDP_MAX_VIPS   8   /* VIP addresses per family, rodata */
#define SIPHON_XDP_MAX_PORTS  8   /* VIP ports, rodata */
#ifndef SK_MAX_POOLS
#define SK_MAX_POOLS      4     /* pools per generation */
#endif
#ifndef SK_MAGLEV_MAX
#define SK_MAGLEV_MAX     65537 /* Maglev slots per pool */
#endif
#ifndef SK_MAX_NODES
#define SK_MAX_NODES      256   /* nodes per generation (all pools) */
#endif
#ifndef SK_MAX_RULE_TERMS
#define SK_MAX_RULE_TERMS 512   /* DNF terms of the route */
#endif
#ifndef SK_MAX_RULES
#define SK_MAX_RULES      256
#endif
#ifndef SK_MAX_EXPR_TERMS
#define SK_MAX_EXPR_TERMS 256   /* DNF terms of the derived (expr) flags */
#endif
#ifndef SK_MAX_NAMES
#define SK_MAX_NAMES      1024  /* header names + method names, both halves */
#endif
#ifndef SK_MAX_PREFIXES
#define SK_MAX_PREFIXES   16384 /* LPM entries per family, both halves */
#endif
#define SK_NAME_MAX       32    /* header / method names the kernel can look up */
#define SK_EXTRA_MAX      16    /* SIP_EXTRA_MAX */
#define SK_SCAN_MAX       2048  /* UDP payload bytes the kernel scans; longer go up */
#define SK_CALLID_MAX     256   /* SIPHON_XDP_HASH_MAX */

#endif
