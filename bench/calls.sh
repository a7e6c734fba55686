# Shared by the benches that put SIPp calls through a balancer on the lab
# and look at what reached the core nodes (bench/failover, bench/churn):
# the lab with SIPp nodes brought up if down, the two balancers (siphon
# --io xdp with siphond, Kamailio's dispatcher: bench/kamailio/balancer.sh),
# the nodes' wire. The load, the waits, siphond's state and the captures
# are the netns tests' own (tests/netns/netns_lib.sh: calls_bg, calls_wait,
# wait_for, node_field, tcpdump_start, ...).
# Source after bench/lib.sh, bench/lab_env.sh and bench/kamailio/balancer.sh,
# then call bench_start (it replaces the tests' EXIT trap) and define
# bench_cleanup to call calls_cleanup.
# shellcheck shell=bash

lab=$LAB
# shellcheck source=tests/netns/netns_lib.sh
source "$SIPHON_ROOT/tests/netns/netns_lib.sh"
# shellcheck disable=SC2034 # used by netns_lib.sh's helpers
ctl=$BUILD_DIR/controlplane/cli/siphonctl
NETNS_TESTS=$SIPHON_ROOT/tests/netns
calls_brought_up=0 calls_lane="" calls_conf_saved=""

calls_lab_up() { # the lab with SIPp core nodes, up if down (and down again at the end)
	[[ -x $ctl ]] || die "$ctl is not built: scripts/setup"
	if ! "$LAB" status >/dev/null 2>&1; then
		log "the lab is not up: scripts/lab up (and down again at the end)"
		"$LAB" up >&2
		calls_brought_up=1
	fi
	[[ $(sed -n 's/^SIPHON_LAB_CORE=//p' "$RUN/env") == sipp ]] ||
		die "the lab runs Kamailio core nodes: scripts/lab down, then this bench brings it up"
	[[ -z $(ip netns pids "$NS_LB") ]] ||
		die "processes run in $NS_LB ($(ip netns pids "$NS_LB" | xargs)): stop them first"
	calls_conf_saved=$work/lab.conf.orig
	cp "$RUN/lab.conf" "$calls_conf_saved"
}

calls_conf_restore() { [[ -n $calls_conf_saved ]] && cp "$calls_conf_saved" "$RUN/lab.conf"; }

# lane_start_siphon: siphond on $RUN/lab.conf (fresh state) and siphon
# --siphond, kernel lane on; returns once siphon acked a generation with
# every node active
lane_start_siphon() {
	calls_lane=siphon
	rm -rf "$state"
	"$LAB" siphond start >&2
	"$LAB" siphon start --siphond >&2
	wait_for 50 acked_ge 1 || die "siphon did not ack generation 1"
	local n
	for n in b1 b2 b3; do wait_for 50 is_state "$n" active || die "$n not active under siphond"; done
}

# lane_start_kamailio DIR ARGS...: kamailio_balancer_start with the calls'
# parts (WITH_CALLS) over b1..b3; returns once it listens
lane_start_kamailio() {
	local dir=$1
	shift
	calls_lane=kamailio
	mkdir -p "$dir"
	kamailio_dispatcher_list "$dir/dispatcher.list" 198.18.2.21 198.18.2.22 198.18.2.23
	kamailio_balancer_start "$dir" 2 1 "$dir/dispatcher.list" -A WITH_CALLS "$@" ||
		die "Kamailio did not start: $dir/kamailio.log"
}

kamailio_node_flags() { # DIR ADDRESS: the dispatcher's flags for that node (AP active, IP inactive...)
	kamailio_ctl "$1" dispatcher.list 2>/dev/null |
		awk -v uri="sip:$2:5060" '$1 == "URI:" { on = ($2 == uri) } on && $1 == "FLAGS:" { print $2; exit }'
}

lane_stop() { # whatever the lane started in sph-lb
	stop_all
	if [[ $calls_lane == siphon ]]; then
		"$LAB" siphon stop >&2 || true
		"$LAB" siphond stop >&2 || true
		"$LAB" siphon detach >&2 || true
	fi
	calls_lane=""
}

wire_of() { # PCAP WIRE: the SIP messages of a capture, one JSON line each (tests/netns/sip_pcap.py)
	$py "$NETNS_TESTS/sip_pcap.py" "$1" >"$2"
}

calls_cleanup() { # from the bench's bench_cleanup
	[[ -n $check_pid ]] && kill "$check_pid" 2>/dev/null
	tcpdump_stop
	lane_stop
	calls_conf_restore
	if ((calls_brought_up)); then "$LAB" down >&2 || true; fi
	rm -rf "$work"
}
