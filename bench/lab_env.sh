# Shared by the benches that run on the namespace lab (bench/xdp/run,
# bench/blast/run; docs/lab.md): its names, the sink port's XDP program,
# waiting for a tool's line, stopping what a bench started, the nodes'
# MACs pinned in sph-lb's neighbour table.
# Source after bench/lib.sh; a bench keeps the pids it starts in PIDS.
# shellcheck shell=bash

# shellcheck disable=SC2034 # used by the benches that source this
LAB=$SIPHON_ROOT/scripts/lab
RUN=${SIPHON_LAB_RUN:-/run/siphon-lab}
# shellcheck disable=SC2034
NS_CALLER=sph-caller NS_LB=sph-lb NS_SW=sph-sw
# shellcheck disable=SC2034
IF_IN=sph-lb-c IF_CORE=sph-lb-core IF_SINK=sph-sw-lb
PIDS=()
# shellcheck disable=SC2034
NODE_IPS=(198.18.2.21 198.18.2.22 198.18.2.23) # the lab's b1..b3 (docs/lab.md)
NODE_MACS=(02:00:00:18:02:21 02:00:00:18:02:22 02:00:00:18:02:23)
neigh_set=0

pin_node_neighbours() { # the nodes' MACs fixed in sph-lb (when nothing answers ARP: a sink, ports down)
	local i
	for i in "${!NODE_IPS[@]}"; do
		ip -n "$NS_LB" neigh replace "${NODE_IPS[$i]}" lladdr "${NODE_MACS[$i]}" dev "$IF_CORE" nud permanent
	done
	neigh_set=1
}

unpin_node_neighbours() { # undoes pin_node_neighbours, if it ran
	local ip
	((neigh_set)) || return 0
	for ip in "${NODE_IPS[@]}"; do ip -n "$NS_LB" neigh del "$ip" dev "$IF_CORE" 2>/dev/null || true; done
	neigh_set=0
}

xdp_prog_name() { # NS IF: the name of the XDP program attached, or nothing
	local id
	id=$(ip -n "$1" -d link show dev "$2" 2>/dev/null | grep -o 'prog/xdp id [0-9]*' | awk '{ print $3 }')
	[[ -n $id ]] && bpftool prog show id "$id" 2>/dev/null | sed -n 's/.* name \([^ ]*\) .*/\1/p'
	return 0
}

restore_sink_port() { # the lab's XDP_PASS back on sph-sw-lb, whatever happened
	local name
	name=$(xdp_prog_name "$NS_SW" "$IF_SINK")
	[[ $name == lab_pass ]] && return 0
	ip -n "$NS_SW" link set dev "$IF_SINK" xdpdrv obj "$RUN/xdp/lab_pass.o" sec xdp ||
		log "warning: could not put lab_pass back on $NS_SW/$IF_SINK"
}

wait_line() { # FILE PATTERN SECONDS PID: until FILE has PATTERN; 1 if PID died or time ran out
	local i
	for ((i = 0; i < $3 * 20; i++)); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		kill -0 "$4" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

stop_all() { # every process this run started, by pid
	local pid
	for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	PIDS=()
}

# --- the balancer under test in sph-lb (bench/blast/run, bench/sipp/run) ---
LAB_BROUGHT_UP=0 BALANCER_SIPHON="" BPF_STATS_PID="" # what lab_bench_cleanup undoes

lab_bench_up() { # the lab up if it is down (and down again at the end), sph-lb free of a balancer
	if ! "$LAB" status >/dev/null 2>&1; then
		log "the lab is not up: scripts/lab up (and down again at the end)"
		LAB_BROUGHT_UP=1
		"$LAB" up >&2
	fi
	[[ -z $(ip netns pids "$NS_LB") ]] ||
		die "processes run in $NS_LB ($(ip netns pids "$NS_LB" | xargs)): is a siphon running? stop it first"
	[[ -z $(xdp_prog_name "$NS_LB" "$IF_IN") ]] ||
		die "$NS_LB/$IF_IN has an XDP program attached: scripts/lab siphon detach first"
}

bpf_stats_hold() { # TOOL OUT: bench-bpf-stats holds the BPF statistics on, in the background
	"$1" --seconds 3600 >"$2/bpf-stats" 2>&1 &
	BPF_STATS_PID=$!
	wait_line "$2/bpf-stats" '"ready"' 5 "$BPF_STATS_PID" || die "bench-bpf-stats: $(cat "$2/bpf-stats")"
}

siphon_lane_start() { # LANE CONFIG CPU [SIPHON-ARGS...]: siphon --io xdp in sph-lb, kernel lane on (kernel) or off (afxdp)
	local lane_opt=(--kernel-lane on)
	[[ $1 == afxdp ]] && lane_opt=(--kernel-lane off)
	BALANCER_SIPHON=$1
	# the lab's config first, CONFIG after it: siphon takes the last
	# --config. One queue, its worker on CPU.
	"$LAB" siphon start --config "$2" --queues 1 --cpu "$3" "${lane_opt[@]}" "${@:4}" >&2
}

balancer_stop() { # OUT: whatever a lane started in sph-lb; siphon's summary kept as OUT/LANE.summary.json
	stop_all
	[[ -n $BALANCER_SIPHON ]] || return 0
	"$LAB" siphon stop >&2 || true
	cp "$RUN/$NS_LB/siphon-summary.json" "$1/$BALANCER_SIPHON.summary.json" 2>/dev/null || true
	"$LAB" siphon detach >&2 || true
	BALANCER_SIPHON=""
}

lab_bench_cleanup() { # OUT: the balancer stopped, the statistics let go, the lab as found
	balancer_stop "$1"
	if [[ -n $BPF_STATS_PID ]]; then kill -TERM "$BPF_STATS_PID" 2>/dev/null || true; fi
	if [[ -f $RUN/env ]]; then "$LAB" mode kernel >/dev/null 2>&1 || true; fi
	if ((LAB_BROUGHT_UP)); then "$LAB" down >&2 || true; fi
}
