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
