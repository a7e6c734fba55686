# shellcheck shell=bash
# scripts/lab: `node kill|start bN` (docs/lab.md): a core node's SIP server
# dies and comes back, for the failover tests. Sourced by scripts/lab.

node_kill() { # NODE: SIGKILL to each SIPp of the node (not their `timeout`)
	local ns=sph-$1 f pid child killed=0 at
	at=$(date +%s.%N)
	for f in "$RUN/$ns"/sipp-*.pid; do
		[[ -s $f ]] || continue
		pid=$(<"$f")
		child=$(ps -o pid= --ppid "$pid" 2>/dev/null | xargs || true)
		[[ -n $child ]] || continue
		kill -KILL "$child" 2>/dev/null && killed=$((killed + 1))
	done
	((killed)) || die "$ns: no SIPp runs"
	log "$ns: $killed SIPp killed (SIGKILL) at $at; the host stays up (ICMP port unreachable)"
}

node_start() { # NODE: its SIPp again; earlier message logs kept as sipp-*.N.msgs
	local n=$1 ns=sph-$1 f what run a i
	for f in "$RUN/$ns"/sipp-*.pid; do
		[[ -s $f ]] && kill -0 "$(<"$f")" 2>/dev/null && die "$ns: $(basename "$f" .pid) still runs: scripts/lab node kill $n"
	done
	run=$(($(cat "$RUN/$ns/sipp.runs" 2>/dev/null || echo 1) + 1))
	echo "$run" >"$RUN/$ns/sipp.runs"
	for what in node4 vip4 node6 vip6; do
		# SIPp truncates its message log at start: keep the old one for `calls`
		[[ -f $RUN/$ns/sipp-$what.msgs ]] && mv "$RUN/$ns/sipp-$what.msgs" "$RUN/$ns/sipp-$what.$((run - 1)).msgs"
		rm -f "$RUN/$ns/sipp-$what.pid"
	done
	start_node_sipp "$n"
	local up
	for ((i = 0; i < 100; i++)); do
		up=1
		for a in "$(node4 "$n")" "$VIP4" "$(node6 "$n")" "$VIP6"; do
			listening "$ns" "$a" || up=0
		done
		((up)) && { log "$ns: SIPp runs again (4 UAS)"; return 0; }
		sleep 0.1
	done
	die "$ns: SIPp does not listen after 10 s"
}

cmd_node() {
	(($# == 2)) || usage
	local what=$1 n=$2
	[[ " ${NODES[*]} " == *" $n "* ]] || die "node: b1, b2 or b3"
	need_root node
	lock -s
	lab_is_up || die "the lab is not up: scripts/lab up"
	[[ $(env_get SIPHON_LAB_CORE) == sipp ]] || die "node kill|start: SIPp core nodes only"
	case $what in
	kill) node_kill "$n" ;;
	start) node_start "$n" ;;
	*) usage ;;
	esac
}
