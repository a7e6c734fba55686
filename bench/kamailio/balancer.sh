# Kamailio's dispatcher as the lab's balancer (bench/kamailio/stateless.cfg)
# in sph-lb, for the benches that measure siphon against it (bench/blast,
# bench/failover, bench/churn, bench/reorder): its config, its start and
# readiness, its dispatcher list, kamcmd on its control socket.
# Source after bench/lib.sh and bench/lab.sh (LAB, NS_LB, PIDS, log).
# shellcheck shell=bash

KAMAILIO_DIR=$SIPHON_ROOT/bench/kamailio
KAMAILIO_CORE_SOCKET=udp:198.18.2.1:5060 # its address on the core segment (WITH_CALLS)

# kamailio_dispatcher_list FILE NODE_ADDRESS...: dispatcher set 1 over
# those nodes, each sent to (and probed) from the core address
kamailio_dispatcher_list() {
	local file=$1 a
	shift
	{
		echo "# written by bench/kamailio/balancer.sh: setid destination flags priority attrs"
		for a; do echo "1 sip:$a:5060 0 0 socket=$KAMAILIO_CORE_SOCKET"; done
	} >"$file.tmp"
	mv "$file.tmp" "$file"
}

# kamailio_balancer_start DIR CHILDREN CPU LIST [NAME=VALUE | -A DEFINE]...:
# Kamailio (tuned: TLSF, shm_force_alloc) in sph-lb on the VIP, its files in
# DIR, its pid in PIDS; each NAME=VALUE replaces BENCH_NAME in the config,
# each -A DEFINE turns on a part of it. 1 if it did not come up in 10 s.
kamailio_balancer_start() {
	local dir=$1 children=$2 cpu=$3 list=$4 subst=() defines=() i
	shift 4
	while (($#)); do
		if [[ $1 == -A ]]; then defines+=(-A "$2"); shift 2; continue; fi
		subst+=(-e "s|BENCH_${1%%=*}\\b|${1#*=}|g")
		shift
	done
	"$LAB" mode siphon >&2 # the VIP on sph-lb, where Kamailio listens
	mkdir -p "$dir/kamailio-run"
	sed -e "s|BENCH_CHILDREN|$children|" -e "s|BENCH_DS_LIST|$list|" -e "s|BENCH_CTL|$dir/kamailio-run/ctl.sock|" \
		"${subst[@]}" "$KAMAILIO_DIR/stateless.cfg" >"$dir/kamailio.cfg"
	ip netns exec "$NS_LB" timeout 3600 taskset -c "$cpu" kamailio -f "$dir/kamailio.cfg" -DD -E -x tlsf -X tlsf \
		-m 64 -M 8 -Y "$dir/kamailio-run" -P "$dir/kamailio-run/kamailio.pid" "${defines[@]}" \
		>"$dir/kamailio.log" 2>&1 &
	PIDS+=($!)
	for ((i = 0; i < 100; i++)); do
		ip netns exec "$NS_LB" ss -Hlun | grep -q '198.18.0.10:5060' && return 0
		kill -0 "${PIDS[-1]}" 2>/dev/null || break
		sleep 0.1
	done
	log "kamailio did not start: $(tail -c 600 "$dir/kamailio.log")"
	return 1
}

kamailio_ctl() { # DIR CMD...: kamcmd on the control socket of the Kamailio started in DIR (WITH_CALLS)
	local dir=$1
	shift
	ip netns exec "$NS_LB" kamcmd -s "unix:$dir/kamailio-run/ctl.sock" "$@"
}
