// SPDX-License-Identifier: Apache-2.0
/* Load, attach, pin and take over the XDP program (xdp_load.h). */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "siphon/packet.h"
#include "siphon/json_write.h"
#include "siphon/siphon_xdp.h"
#include "siphon/siphon_tables.h"
#include "siphon.skel.h"
#include "xdp_load.h"
#include "siphon/gen_counters.h"
#include "xdp_tables.h"

#define PROG_NAME "siphon_xdp"

static const char *const reason_names[] = {
#define XDP_REASON(id, name, help) name,
#include "siphon/xdp_reasons.def"
#undef XDP_REASON
};

const char *xdp_reason_name(unsigned r)
{
	return r < XDP_REASON__COUNT ? reason_names[r] : "?";
}

/* libbpf and libxdp say a lot at INFO/DEBUG (and libxdp warns that its
 * dispatcher cannot load on this kernel): keep warnings, prefixed. */
static int print_warnings(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level != LIBBPF_WARN)
		return 0;
	fputs("siphon: bpf: ", stderr);
	return vfprintf(stderr, fmt, ap);
}

static int print_libxdp(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	if (level != LIBXDP_WARN)
		return 0;
	fputs("siphon: libxdp: ", stderr);
	return vfprintf(stderr, fmt, ap);
}

static int pin_dir_of(char *out, size_t len, const char *bpffs, const char *ifname, char *err,
		      size_t errlen)
{
	struct statfs fs;
	char sub[PATH_MAX];

	if (statfs(bpffs, &fs) || fs.f_type != BPF_FS_MAGIC) {
		snprintf(err, errlen, "--bpffs %s: not a bpffs mount (mount -t bpf bpf %s; inside "
			 "`ip netns exec` /sys/fs/bpf is gone: docs/afxdp.md)", bpffs, bpffs);
		return -ENOTDIR;
	}
	snprintf(sub, sizeof(sub), "%s/siphon", bpffs);
	if (snprintf(out, len, "%s/%s", sub, ifname) >= (int)len) {
		snprintf(err, errlen, "--bpffs %s: path too long", bpffs);
		return -ENAMETOOLONG;
	}
	if ((mkdir(sub, 0700) && errno != EEXIST) || (mkdir(out, 0700) && errno != EEXIST)) {
		int rc = -errno;
		snprintf(err, errlen, "%s: %s", out, strerror(errno));
		return rc;
	}
	return 0;
}

static uint32_t mode_flag(bool skb_mode)
{
	return skb_mode ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
}

/* A descriptor of program `id`: its pin from an earlier run when it is
 * that program (no CAP_SYS_ADMIN needed), else by id; its name in name. */
static int prog_fd(const char *pin_dir, uint32_t id, char *name, size_t len)
{
	struct bpf_prog_info info = { 0 };
	uint32_t ilen = sizeof(info);
	char path[PATH_MAX + 8];
	int fd;

	name[0] = 0;
	snprintf(path, sizeof(path), "%s/prog", pin_dir);
	fd = bpf_obj_get(path);
	if (fd >= 0 && (bpf_obj_get_info_by_fd(fd, &info, &ilen) || info.id != id)) {
		close(fd);
		fd = -1;
	}
	if (fd < 0)
		fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return -1;
	memset(&info, 0, sizeof(info));
	ilen = sizeof(info);
	if (!bpf_obj_get_info_by_fd(fd, &info, &ilen))
		snprintf(name, len, "%s", info.name);
	return fd;
}

static int attach(struct xdp_loader *l, const struct xdp_load_options *o, char *err, size_t errlen)
{
	int fd = bpf_program__fd(l->skel->progs.siphon_xdp), rc;
	uint32_t old_id = 0;
	char name[BPF_OBJ_NAME_LEN];

	rc = bpf_xdp_query_id(l->ifindex, (int)mode_flag(o->skb_mode), &old_id);
	if (rc && rc != -ENOENT) {
		snprintf(err, errlen, "%s: cannot read its XDP program: %s", o->ifname, strerror(-rc));
		return rc;
	}
	if (old_id) {
		/* siphon's own program from an earlier run: swapped atomically */
		LIBBPF_OPTS(bpf_xdp_attach_opts, ao);
		ao.old_prog_fd = prog_fd(l->pin_dir, old_id, name, sizeof(name));
		if (strcmp(name, PROG_NAME) != 0) {
			if (ao.old_prog_fd >= 0)
				close(ao.old_prog_fd);
			snprintf(err, errlen, "%s already runs XDP program %u (%s); siphon takes over "
				 "only its own (%s): detach it first (ip link set dev %s xdp off)",
				 o->ifname, old_id, name[0] ? name : "?", PROG_NAME, o->ifname);
			return -EBUSY;
		}
		if (ao.old_prog_fd < 0) {
			rc = -errno;
			snprintf(err, errlen, "%s: program %u: %s", o->ifname, old_id, strerror(errno));
			return rc;
		}
		rc = bpf_xdp_attach(l->ifindex, fd, XDP_FLAGS_REPLACE | mode_flag(o->skb_mode), &ao);
		close(ao.old_prog_fd);
		if (rc) {
			snprintf(err, errlen, "%s: replacing program %u: %s", o->ifname, old_id,
				 strerror(-rc));
			return rc;
		}
		l->replaced = true;
	} else {
		rc = bpf_xdp_attach(l->ifindex, fd, XDP_FLAGS_UPDATE_IF_NOEXIST | mode_flag(o->skb_mode),
				    NULL);
		if (rc) {
			snprintf(err, errlen, "%s: attaching in %s mode: %s%s", o->ifname,
				 o->skb_mode ? "skb" : "native", strerror(-rc),
				 rc == -ENOSPC ? " (the peer has more TX queues than this device has RX "
						 "queues: docs/lab.md)" :
				 rc == -EOPNOTSUPP && !o->skb_mode ? " (no native XDP: try --skb-mode)" : "");
			return rc;
		}
	}
	bpf_xdp_query_id(l->ifindex, (int)mode_flag(o->skb_mode), &l->prog_id);
	return 0;
}

/* One siphon per pin directory: a second one would swap its program in
 * and then find the sockets taken. The lock lives in /run/lock (bpffs
 * holds no plain files), named after the pin directory. */
static int lock_pin_dir(struct xdp_loader *l, char *err, size_t errlen)
{
	char path[PATH_MAX + 32], *c;
	int rc;

	snprintf(path, sizeof(path), "/run/lock/siphon%s.lock", l->pin_dir);
	for (c = path + strlen("/run/lock/"); *c; c++)
		if (*c == '/')
			*c = '_';
	l->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (l->lock_fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	if (flock(l->lock_fd, LOCK_EX | LOCK_NB)) {
		rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
		snprintf(err, errlen, "another siphon runs with %s (lock %s): stop it first",
			 l->pin_dir, path);
		close(l->lock_fd);
		l->lock_fd = -1;
		return rc;
	}
	return 0;
}

int xdp_loader_start(struct xdp_loader *l, const struct xdp_load_options *o,
		     const struct compiled_tables *t, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo);
	char path[PATH_MAX + 8];
	int rc;

	memset(l, 0, sizeof(*l));
	l->lock_fd = -1;
	libbpf_set_print(print_warnings);
	libxdp_set_print(print_libxdp);
	l->ifindex = (int)if_nametoindex(o->ifname);
	if (!l->ifindex) {
		snprintf(err, errlen, "--iface %s: no such interface here", o->ifname);
		return -ENODEV;
	}
	if (o->egress && strcmp(o->egress, o->ifname) != 0) {
		l->egress_ifindex = (int)if_nametoindex(o->egress);
		if (!l->egress_ifindex) {
			snprintf(err, errlen, "--egress %s: no such interface here", o->egress);
			return -ENODEV;
		}
	}
	rc = pin_dir_of(l->pin_dir, sizeof(l->pin_dir), o->bpffs, o->ifname, err, errlen);
	if (!rc)
		rc = lock_pin_dir(l, err, errlen);
	if (rc)
		return rc;
	oo.pin_root_path = l->pin_dir;
	l->skel = siphon_bpf__open_opts(&oo);
	if (!l->skel) {
		rc = -errno;
		snprintf(err, errlen, "opening the XDP program: %s", strerror(errno));
		return rc;
	}
	rc = xdp_tables_configure(l->skel, t, o->kernel_lane, err, errlen);
	if (rc)
		goto fail;
	rc = siphon_bpf__load(l->skel);
	if (rc) {
		snprintf(err, errlen, "loading the XDP program: %s%s", strerror(-rc),
			 rc == -EINVAL ? " (maps pinned by an older siphon with another layout? "
					 "siphon --detach removes them)" : "");
		goto fail;
	}
	/* the first generation's base, before its tables go in: an earlier
	 * siphon's program may be counting into the pinned maps already */
	rc = xdp_counters_next_base(l->skel, t, &l->first_half, &l->first_base, err, errlen);
	if (!rc)
		rc = xdp_tables_publish(l->skel, t, l->egress_ifindex, err, errlen);
	if (rc)
		goto fail;
	rc = attach(l, o, err, errlen);
	if (rc)
		goto fail;
	snprintf(path, sizeof(path), "%s/prog", l->pin_dir);
	unlink(path);
	if (bpf_program__pin(l->skel->progs.siphon_xdp, path))
		fprintf(stderr, "siphon: warning: cannot pin the program at %s: %s\n", path,
			strerror(errno));
	return 0;
fail:
	xdp_loader_close(l);
	return rc;
}

void xdp_loader_close(struct xdp_loader *l)
{
	siphon_bpf__destroy(l->skel); /* the attachment and the pins stay */
	l->skel = NULL;
	free(l->first_base);
	l->first_base = NULL;
	if (l->lock_fd >= 0)
		close(l->lock_fd);
	l->lock_fd = -1;
}

int xdp_detach(const char *ifname, const char *bpffs, bool skb_mode, char *err, size_t errlen)
{
	int ifindex = (int)if_nametoindex(ifname), rc;
	uint32_t id = 0;
	char dir[PATH_MAX], path[PATH_MAX + 300], name[BPF_OBJ_NAME_LEN];

	if (!ifindex) {
		snprintf(err, errlen, "--iface %s: no such interface here", ifname);
		return -ENODEV;
	}
	rc = pin_dir_of(dir, sizeof(dir), bpffs, ifname, err, errlen);
	if (rc)
		return rc;
	bpf_xdp_query_id(ifindex, (int)mode_flag(skb_mode), &id);
	if (id) {
		int fd = prog_fd(dir, id, name, sizeof(name));

		if (fd >= 0)
			close(fd);
		if (strcmp(name, PROG_NAME) != 0) {
			snprintf(err, errlen, "%s runs XDP program %u (%s), not siphon's: left alone",
				 ifname, id, name[0] ? name : "?");
			return -EBUSY;
		}
		rc = bpf_xdp_detach(ifindex, (int)mode_flag(skb_mode), NULL);
		if (rc) {
			snprintf(err, errlen, "%s: detaching: %s", ifname, strerror(-rc));
			return rc;
		}
	}
	/* every pin siphon made: the program and the maps pinned by name */
	{
		/* and maps earlier builds pinned that this one no longer has */
		static const char *const pins[] = { "prog", "fib_scratch" };
		struct bpf_map *m;
		struct siphon_bpf *s = siphon_bpf__open();

		for (size_t i = 0; i < sizeof(pins) / sizeof(pins[0]); i++) {
			snprintf(path, sizeof(path), "%s/%s", dir, pins[i]);
			unlink(path);
		}
		if (s) {
			bpf_object__for_each_map(m, s->obj) {
				snprintf(path, sizeof(path), "%s/%s", dir, bpf_map__name(m));
				unlink(path);
			}
			siphon_bpf__destroy(s);
		}
	}
	if (rmdir(dir) && errno != ENOENT) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s (pins siphon does not know of?)", dir, strerror(errno));
		return rc;
	}
	return 0;
}

/* Packet counts summed over CPUs of keys base+0..n-1 of a per-CPU counter
 * map into out, and over both table halves when half_stride is not 0 (keys
 * half_stride + base + i too); 0 where a key cannot be read (or fd is -1). */
static void percpu_sums(int fd, uint32_t base, uint32_t half_stride, unsigned n,
			struct siphon_xdp_counter *percpu, int ncpu, uint64_t *out)
{
	for (unsigned i = 0; i < n; i++) {
		out[i] = 0;
		for (uint32_t h = 0; h < (half_stride ? 2u : 1u); h++) {
			uint32_t key = h * half_stride + base + i;

			if (fd >= 0 && !bpf_map_lookup_elem(fd, &key, percpu))
				for (int c = 0; c < ncpu; c++)
					out[i] += percpu[c].packets;
		}
	}
}

static const char *status_name(unsigned i, const void *c) { (void)c; return pkt_status_name(i); }
static const char *reason_name(unsigned i, const void *c) { (void)c; return xdp_reason_name(i); }

static const char *nid_stat_name(unsigned i, const void *c)
{
	static const char *const names[SK_NID_STATS] = {
		[SK_NID_VIA] = "via_nid", [SK_NID_ROUTE] = "route_nid", [SK_NID_RURI] = "ruri_nid",
		[SK_NID_UNKNOWN] = "nid_unknown" };

	(void)c;
	return i < SK_NID_STATS ? names[i] : "?";
}

static const char *hop_stat_name(unsigned i, const void *c)
{
	(void)c;
	return i == SK_HOP_FIB_FALLBACK ? "fib_fallback" : "?";
}

static const char *node_name(unsigned i, const void *ctx)
{
	static __thread char num[16];
	const char *const *names = ctx;

	if (names)
		return names[i];
	snprintf(num, sizeof(num), "%u", i);
	return num;
}

void xdp_print_counters(FILE *f, const struct xdp_counter_fds *m, const char *const *node_names,
			unsigned n_nodes, unsigned n_rules)
{
	int ncpu = libbpf_num_possible_cpus(), first = 1;
	struct siphon_xdp_counter *percpu = ncpu > 0 ? calloc((size_t)ncpu, sizeof(*percpu)) : NULL;
	uint64_t sums[SK_MAX_NODES + SK_MAX_RULES + XDP_REASON__COUNT]; /* enough for any one map */

	if (!percpu) {
		fputs("{}", f);
		return;
	}
	n_nodes = n_nodes < SK_MAX_NODES ? n_nodes : SK_MAX_NODES;
	n_rules = n_rules < SK_MAX_RULES ? n_rules : SK_MAX_RULES;
	fputc('{', f);
	percpu_sums(m->counters, 0, 0, PKT_STATUS__COUNT, percpu, ncpu, sums);
	json_counter_map(f, "packet", &first, sums, PKT_STATUS__COUNT, status_name, NULL, false);
	percpu_sums(m->counters, SIPHON_XDP_REASON_INDEX(PKT_STATUS__COUNT, 0), 0, XDP_REASON__COUNT,
		    percpu, ncpu, sums);
	json_counter_map(f, "reasons", &first, sums, XDP_REASON__COUNT, reason_name, NULL, false);
	/* why packets went up, also while no socket took them */
	percpu_sums(m->up_why, 0, 0, XDP_REASON__COUNT, percpu, ncpu, sums);
	json_counter_map(f, "to_userspace_why", &first, sums, XDP_REASON__COUNT, reason_name, NULL,
			 true);
	/* forwarded in the kernel by a nid, and nids naming no node of the
	 * pool (nid_stats, both halves) */
	percpu_sums(m->nid, 0, SK_NID_STATS, SK_NID_STATS, percpu, ncpu, sums);
	json_counter_map(f, "dispatch", &first, sums, SK_NID_STATS, nid_stat_name, NULL, false);
	/* forwards that found no next hop in kt_nodes and asked bpf_fib_lookup() */
	percpu_sums(m->hop, 0, 0, SK_HOP_STATS, percpu, ncpu, sums);
	json_counter_map(f, "next_hop", &first, sums, SK_HOP_STATS, hop_stat_name, NULL, false);
	/* forwarded in the kernel, by node: all by name, or the busy ones by
	 * index; both table halves summed (every generation since the maps
	 * were pinned, by index) */
	percpu_sums(m->nodes, 0, SK_MAX_NODES, n_nodes, percpu, ncpu, sums);
	json_counter_map(f, "nodes", &first, sums, n_nodes, node_name, node_names, !node_names);
	percpu_sums(m->rules, 0, SK_MAX_RULES, n_rules, percpu, ncpu, sums);
	json_key(f, "rules", &first);
	fputc('[', f);
	for (unsigned i = 0; i < n_rules; i++)
		fprintf(f, "%s%llu", i ? "," : "", (unsigned long long)sums[i]);
	fputs("]}", f);
	free(percpu);
}

/* Key base+i of a per-CPU counter map summed over CPUs: packets, bytes. */
static void percpu_one(int fd, uint32_t key, struct siphon_xdp_counter *percpu, int ncpu,
		       uint64_t *packets, uint64_t *bytes)
{
	*packets = *bytes = 0;
	if (fd >= 0 && !bpf_map_lookup_elem(fd, &key, percpu))
		for (int c = 0; c < ncpu; c++) {
			*packets += percpu[c].packets;
			*bytes += percpu[c].bytes;
		}
}

/* The flag counters of table half `half` summed over CPUs into out[0..n). */
static void flag_sums(int fd, uint32_t half, unsigned n, int ncpu, uint64_t *out)
{
	struct siphon_xdp_flag_counts *percpu = calloc((size_t)ncpu, sizeof(*percpu));

	memset(out, 0, n * sizeof(*out));
	if (percpu && fd >= 0 && !bpf_map_lookup_elem(fd, &half, percpu))
		for (int c = 0; c < ncpu; c++)
			for (unsigned i = 0; i < n && i < SIPHON_XDP_FLAGS; i++)
				out[i] += percpu[c].set[i];
	free(percpu);
}

void xdp_counters_read_indexed(const struct xdp_counter_fds *m, const struct compiled_tables *t,
			       uint32_t half, uint64_t *out)
{
	int ncpu = libbpf_num_possible_cpus();
	struct siphon_xdp_counter *percpu = ncpu > 0 ? calloc((size_t)ncpu, sizeof(*percpu)) : NULL;
	unsigned n_nodes = t->n_nodes, n_rules = t->n_rules;
	uint64_t *pk = out, *by = out + n_nodes, *rl = by + n_nodes, *nm = rl + n_rules, x;
	unsigned nn = n_nodes < SK_MAX_NODES ? n_nodes : SK_MAX_NODES;
	unsigned nr = n_rules < SK_MAX_RULES ? n_rules : SK_MAX_RULES;
	uint32_t node0 = (half & 1) * SK_MAX_NODES, rule0 = (half & 1) * SK_MAX_RULES;

	memset(out, 0, XDP_KINDEX_LEN(t) * sizeof(*out));
	if (!percpu)
		return;
	for (unsigned i = 0; i < nn; i++) {
		percpu_one(m->nodes, node0 + i, percpu, ncpu, &pk[i], &by[i]);
		for (unsigned k = 0; k < 13; k++)
			percpu_one(m->node_msg, (node0 + i) * 13 + k, percpu, ncpu, &nm[i * 13 + k],
				   &x);
	}
	for (unsigned i = 0; i < nr; i++)
		percpu_one(m->rules, rule0 + i, percpu, ncpu, &rl[i], &x);
	flag_sums(m->flags, half & 1, t->n_flags, ncpu, nm + (size_t)n_nodes * 13);
	free(percpu);
}

uint64_t *xdp_counters_read_new(const struct xdp_counter_fds *m, const struct compiled_tables *t,
				uint32_t half)
{
	uint64_t *v = calloc(XDP_KINDEX_LEN(t) + 1, sizeof(*v));

	if (v)
		xdp_counters_read_indexed(m, t, half, v);
	return v;
}

int xdp_counters_next_base(const struct siphon_bpf *skel, const struct compiled_tables *t,
			   uint32_t *half, uint64_t **base, char *err, size_t errlen)
{
	struct xdp_counter_fds m;
	int h = xdp_tables_next_half(skel);

	if (h < 0) {
		snprintf(err, errlen, "generation: %s", strerror(-h));
		return h;
	}
	*half = (uint32_t)h;
	xdp_counter_fds_of(&m, skel);
	*base = xdp_counters_read_new(&m, t, *half);
	return 0;
}

/* The indexed kernel counters of v (XDP_KINDEX_LEN(t) values) into b. */
static void snap_indexed(struct gen_counters_builder *b, const struct compiled_tables *t,
			 const uint64_t *v)
{
	const uint64_t *pk = v, *by = v + t->n_nodes, *rl = by + t->n_nodes, *nm = rl + t->n_rules;
	const uint64_t *fl = nm + (size_t)t->n_nodes * 13;

	for (unsigned i = 0; i < t->n_nodes; i++) {
		gen_counters_add_indexed(b, GEN_COUNTER_KERNEL_NODE_PACKETS, i, pk[i]);
		gen_counters_add_indexed(b, GEN_COUNTER_KERNEL_NODE_BYTES, i, by[i]);
		for (unsigned k = 0; k < 13; k++)
			gen_counters_add_indexed(b, GEN_COUNTER_KERNEL_NODE_MSG, i * 13 + k,
						 nm[i * 13 + k]);
	}
	for (unsigned i = 0; i < t->n_rules; i++)
		gen_counters_add_indexed(b, GEN_COUNTER_KERNEL_RULE, i, rl[i]);
	for (unsigned i = 0; i < t->n_flags; i++)
		gen_counters_add_indexed(b, GEN_COUNTER_KERNEL_FLAG, i, fl[i]);
}

void xdp_counters_snap(struct gen_counters_builder *b, const struct xdp_counter_fds *m,
		       const struct compiled_tables *t, uint32_t half, const uint64_t *base,
		       const uint64_t *kernel)
{
	int ncpu = libbpf_num_possible_cpus();
	struct siphon_xdp_counter *percpu = ncpu > 0 ? calloc((size_t)ncpu, sizeof(*percpu)) : NULL;
	size_t n = XDP_KINDEX_LEN(t);
	uint64_t pk, by, *v = calloc(n + 1, sizeof(*v));

	if (!percpu || !v) {
		free(percpu);
		free(v);
		return;
	}
	for (unsigned i = 0; i < PKT_STATUS__COUNT; i++) {
		percpu_one(m->counters, i, percpu, ncpu, &pk, &by);
		gen_counters_add_named(b, "kernel_packet", pkt_status_name(i), pk);
	}
	for (unsigned i = 0; i < XDP_REASON__COUNT; i++) {
		percpu_one(m->counters, SIPHON_XDP_REASON_INDEX(PKT_STATUS__COUNT, i), percpu, ncpu,
			   &pk, &by);
		gen_counters_add_named(b, "kernel_reason", xdp_reason_name(i), pk);
		percpu_one(m->up_why, i, percpu, ncpu, &pk, &by);
		gen_counters_add_named(b, "kernel_up", xdp_reason_name(i), pk);
	}
	/* the kernel lane's forwards by nid (as the AF_XDP lane's dispatch
	 * group) and its nids naming no node of the pool (as its reason
	 * nid_unknown): both halves summed */
	for (unsigned k = 0; k < SK_NID_STATS; k++) {
		uint64_t sum = 0;

		for (uint32_t h = 0; h < 2; h++) {
			percpu_one(m->nid, h * SK_NID_STATS + k, percpu, ncpu, &pk, &by);
			sum += pk;
		}
		gen_counters_add_named(b, k == SK_NID_UNKNOWN ? "kernel_reason" : "kernel_dispatch",
				       nid_stat_name(k, NULL), sum);
	}
	/* kernel forwards whose next hop bpf_fib_lookup() was asked for */
	percpu_one(m->hop, SK_HOP_FIB_FALLBACK, percpu, ncpu, &pk, &by);
	gen_counters_add_named(b, "kernel_reason", hop_stat_name(SK_HOP_FIB_FALLBACK, NULL), pk);
	if (kernel)
		memcpy(v, kernel, n * sizeof(*v));
	else
		xdp_counters_read_indexed(m, t, half, v);
	for (size_t i = 0; base && i < n; i++)
		v[i] = v[i] > base[i] ? v[i] - base[i] : 0;
	snap_indexed(b, t, v);
	free(v);
	free(percpu);
}

void xdp_counter_fds_of(struct xdp_counter_fds *m, const struct siphon_bpf *skel)
{
	m->counters = bpf_map__fd(skel->maps.counters);
	m->up_why = bpf_map__fd(skel->maps.up_why);
	m->nodes = bpf_map__fd(skel->maps.node_stats);
	m->rules = bpf_map__fd(skel->maps.rule_stats);
	m->node_msg = bpf_map__fd(skel->maps.node_msg_stats);
	m->flags = bpf_map__fd(skel->maps.flag_stats);
	m->nid = bpf_map__fd(skel->maps.nid_stats);
	m->hop = bpf_map__fd(skel->maps.hop_stats);
}

int xdp_print_pinned_counters(FILE *f, const char *ifname, const char *bpffs, char *err,
			      size_t errlen)
{
	static const char *const names[] = { "counters", "up_why", "node_stats", "rule_stats",
					     "nid_stats", "hop_stats" };
	struct xdp_counter_fds m = { .node_msg = -1, .flags = -1 };
	int *fds[] = { &m.counters, &m.up_why, &m.nodes, &m.rules, &m.nid, &m.hop };
	char path[PATH_MAX + 16];
	int rc = 0;

	for (unsigned i = 0; i < 6; i++) {
		snprintf(path, sizeof(path), "%s/siphon/%s/%s", bpffs, ifname, names[i]);
		*fds[i] = bpf_obj_get(path);
		if (*fds[i] < 0 && i == 0) {
			rc = -errno;
			snprintf(err, errlen, "%s: %s (siphon --io xdp never ran on %s with --bpffs %s?)",
				 path, strerror(errno), ifname, bpffs);
			return rc;
		}
	}
	xdp_print_counters(f, &m, NULL, SK_MAX_NODES, 0);
	fputc('\n', f);
	for (unsigned i = 0; i < 6; i++)
		if (*fds[i] >= 0)
			close(*fds[i]);
	return 0;
}
