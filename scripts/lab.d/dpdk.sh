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

lcore_count() { # LCORES (EAL's -l: 0,2 or 0-3): how many
	local part a b n=0
	for part in ${1//,/ }; do
		[[ $part =~ ^([0-9]+)(-([0-9]+))?$ ]] || return 1
		a=${BASH_REMATCH[1]} b=${BASH_REMATCH[3]:-${BASH_REMATCH[1]}}
		((b >= a)) || return 1
		n=$((n + b - a + 1))
	done
	((n > 0)) && echo "$n"
}

dpdk_siphon_start() { # TABLES-AND-SIPHON-ARGS...: siphon --io dpdk in sph-lb
	local bin=$BUILD_DIR/dataplane/main/siphon
	"$bin" --help | grep -q -- '--io dpdk' || die "$bin has no --io dpdk (built without libdpdk-dev?)"
	local lcores=${SIPHON_LAB_DPDK_LCORES:-0} n
	n=$(lcore_count "$lcores") || die "SIPHON_LAB_DPDK_LCORES=$lcores: lcores as EAL's -l takes them (0,1 or 0-1)"
	# port 0 through AF_XDP: DPDK's net_af_packet asks the kernel to
	# reassemble IP fragments before its socket gets them
	# (PACKET_FANOUT_FLAG_DEFRAG, fixed in 22.11), so siphon would never see
	# a fragment and a reassembled datagram over its 2 KiB frames arrives cut
	# short. One queue per lcore on sph-lb-c and its peer (veth delivers on
	# the receive queue of the peer's transmit queue, and XDP wants as many
	# of the one as of the other): a queue without an AF_XDP socket would
	# pass its frames to the kernel, which drops them (tc).
	local ns ifc ns_if
	for ns_if in "$NS_CALLER:$IF_CALLER" "$NS_LB:$IF_LB_IN" "$NS_CALLER:$IF_CALLER"; do
		ns=${ns_if%%:*} ifc=${ns_if#*:}
		# (each side as far as the other allows: the second pass finishes)
		nsx "$ns" ethtool -L "$ifc" rx "$n" tx "$n" 2>/dev/null || true
	done
	for ns_if in "$NS_CALLER:$IF_CALLER" "$NS_LB:$IF_LB_IN"; do
		ns=${ns_if%%:*} ifc=${ns_if#*:}
		[[ $(nsx "$ns" ethtool -l "$ifc" | awk '/^RX:/ { v = $2 } END { print v }') == "$n" ]] ||
			die "could not give $ifc $n queues for $n lcores (ethtool -L)"
	done
	# no system hugepages (--no-huge, a pool that fits -m); one lcore
	start_bg siphon "$NS_LB" "$bin" --io dpdk --egress net_af_packet1 --exception-iface "$IF_LB_X" "$@" -- \
		-l "$lcores" -n 1 --no-huge -m 256 --no-pci \
		--file-prefix "siphon-lab" \
		--vdev "net_af_xdp0,iface=$IF_LB_IN,queue_count=$n" --vdev "net_af_packet1,iface=$IF_LB_CORE"
	wait_ready siphon siphon_pid "$SIPHON_DIR/siphon.log" '^siphon: dpdk on' 20
}
