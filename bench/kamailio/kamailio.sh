# Shared by the benches that run Kamailio as the balancer in sph-lb
# (bench/blast, bench/sipp, and through bench/kamailio/balancer.sh
# bench/failover, bench/churn, bench/reorder): one of bench/kamailio/'s configs,
# with Debian's default memory allocator or the tuned one. Source after
# bench/lab_env.sh (NS_LB, PIDS, log).
# shellcheck shell=bash

# kamailio_start CFG OUT CHILDREN CPU ALLOC [SHM_MB [LIST [NAME=VALUE | -A DEFINE]...]]:
# bench/kamailio/CFG.cfg with CHILDREN workers, pinned to CPU, its config
# and log in OUT, the pid in PIDS; ALLOC: tuned (TLSF for pkg and shm,
# shm_force_alloc=yes, as the config says) or default (Debian's: no -x/-X,
# the shm_force_alloc line taken out); SHM_MB of shared memory (64:
# stateless forwarding keeps nothing there; tm keeps every transaction
# until its wait timer); LIST the dispatcher list (bench/kamailio/
# dispatcher.list); each NAME=VALUE replaces BENCH_NAME in the config, each
# -A DEFINE turns on a part of it. 1 if it is not listening on the VIP
# within 10 s.
kamailio_start() {
	local cfg=$1 out=$2 children=$3 cpu=$4 alloc=$5 shm=${6:-64} dir alloc_opt=() subst=() defines=() i
	dir=$(realpath "$(dirname "${BASH_SOURCE[0]}")")
	local list=${7:-$dir/dispatcher.list}
	shift $(($# < 7 ? $# : 7))
	while (($#)); do
		if [[ $1 == -A ]]; then defines+=(-A "$2"); shift 2; continue; fi
		subst+=(-e "s|BENCH_${1%%=*}\\b|${1#*=}|g")
		shift
	done
	local drop='/^shm_force_alloc=/d'
	if [[ $alloc == tuned ]]; then drop='' alloc_opt=(-x tlsf -X tlsf); fi
	mkdir -p "$out/kamailio-run"
	sed -e "s|BENCH_CHILDREN|$children|" -e "s|BENCH_DS_LIST|$list|" \
		-e "s|BENCH_CTL|$out/kamailio-run/ctl.sock|" ${drop:+-e "$drop"} "${subst[@]}" \
		"$dir/$cfg.cfg" >"$out/kamailio.cfg"
	ip netns exec "$NS_LB" timeout 3600 taskset -c "$cpu" kamailio -f "$out/kamailio.cfg" -DD -E "${alloc_opt[@]}" \
		-m "$shm" -M 8 -Y "$out/kamailio-run" -P "$out/kamailio-run/kamailio.pid" "${defines[@]}" \
		>"$out/kamailio.log" 2>&1 &
	PIDS+=($!)
	for ((i = 0; i < 100; i++)); do
		ip netns exec "$NS_LB" ss -Hlun | grep -q '198.18.0.10:5060' && return 0
		kill -0 "${PIDS[-1]}" 2>/dev/null || break
		sleep 0.1
	done
	log "kamailio did not start: $(tail -c 600 "$out/kamailio.log")"
	return 1
}
