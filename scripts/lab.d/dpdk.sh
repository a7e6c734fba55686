# shellcheck shell=bash
# scripts/lab: the balancer in DPDK mode (`up --io dpdk`, docs/lab.md "DPDK
# mode", docs/dpdk.md). siphon --io dpdk reads and writes the caller-side
# veth sph-lb-c through net_af_packet and sends forwarded frames out of
# sph-lb-core (--egress: net_af_packet1, which it only sends on; the kernel
# keeps that link: siphond's probes and the nodes' answers). The balancer's
# caller-side addresses live on the exception interface sph-lb-x, a TAP
# siphon attaches to (persistent: the addresses outlive a siphon restart).
# Sourced by scripts/lab (RUN, NS_LB, nsx, start_bg, wait_ready).

IF_LB_X=sph-lb-x # in sph-lb: siphon's exception interface, with sph-lb-c's MAC

tc_drop_obj() { # compiles a tc program that drops every frame, prints its path
	local dir=$RUN/xdp
	mkdir -p "$dir"
	cat >"$dir/lab_tc_drop.c" <<'C'
/* scripts/lab --io dpdk: on sph-lb-c's tc ingress, after the packet taps
 * (net_af_packet has its copy), so that the kernel does not handle the
 * frames siphon handles. No headers needed. */
__attribute__((section("tc"), used)) int lab_tc_drop(void *skb) { return 2; /* TC_ACT_SHOT */ }
char _license[] __attribute__((section("license"), used)) = "GPL";
C
	clang -O2 -target bpf -c "$dir/lab_tc_drop.c" -o "$dir/lab_tc_drop.o"
	echo "$dir/lab_tc_drop.o"
}

dpdk_caller_side() { # up --io dpdk: sph-lb-c to DPDK, its addresses to sph-lb-x
	local obj
	ip -n "$NS_LB" tuntap add dev "$IF_LB_X" mode tap
	ip -n "$NS_LB" link set dev "$IF_LB_X" address "$MAC_LB" up
	ip -n "$NS_LB" addr del "$LB_IN4/24" dev "$IF_LB_IN"
	ip -n "$NS_LB" addr del "$LB_IN6/64" dev "$IF_LB_IN"
	ip -n "$NS_LB" addr add "$LB_IN4/24" dev "$IF_LB_X"
	ip -n "$NS_LB" addr add "$LB_IN6/64" dev "$IF_LB_X" nodad
	# the kernel neither sends on sph-lb-c (no address, no IPv6) nor
	# handles what it receives (dropped at tc ingress, after the taps)
	nsx "$NS_LB" sysctl -qw "net.ipv6.conf.$IF_LB_IN.disable_ipv6=1"
	obj=$(tc_drop_obj)
	nsx "$NS_LB" tc qdisc add dev "$IF_LB_IN" clsact
	nsx "$NS_LB" tc filter add dev "$IF_LB_IN" ingress bpf da obj "$obj" sec tc
}

dpdk_siphon_start() { # TABLES-AND-SIPHON-ARGS...: siphon --io dpdk in sph-lb
	local bin=$BUILD_DIR/dataplane/main/siphon
	"$bin" --help | grep -q -- '--io dpdk' || die "$bin has no --io dpdk (built without libdpdk-dev?)"
	# no system hugepages (--no-huge, a pool that fits -m); one lcore
	start_bg siphon "$NS_LB" "$bin" --io dpdk --egress net_af_packet1 --exception-iface "$IF_LB_X" "$@" -- \
		-l "${SIPHON_LAB_DPDK_LCORES:-0}" -n 1 --no-huge -m 256 --no-pci \
		--file-prefix "siphon-lab" \
		--vdev "net_af_packet0,iface=$IF_LB_IN" --vdev "net_af_packet1,iface=$IF_LB_CORE"
	wait_ready siphon siphon_pid "$SIPHON_DIR/siphon.log" '^siphon: dpdk on' 20
}
