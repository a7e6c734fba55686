# Shared by the benches that run Kamailio as the balancer in sph-lb
# (bench/blast/run, bench/sipp/run): one of bench/kamailio/'s configs,
# with Debian's default memory allocator or the tuned one. Source after
# bench/lab.sh (NS_LB, PIDS, log).
# shellcheck shell=bash

# kamailio_start CFG OUT CHILDREN CPU ALLOC [SHM_MB]: bench/kamailio/CFG.cfg with
# CHILDREN workers, pinned to CPU, its config and log in OUT, the pid in
# PIDS; ALLOC: tuned (TLSF for pkg and shm, shm_force_alloc=yes, as the
# config says) or default (Debian's: no -x/-X, the shm_force_alloc line
# taken out); SHM_MB of shared memory (64: stateless forwarding keeps
# nothing there; tm keeps every transaction until its wait timer).
# 1 if it is not listening on the VIP within 10 s.
kamailio_start() {
	local cfg=$1 out=$2 children=$3 cpu=$4 alloc=$5 shm=${6:-64} dir alloc_opt=() i
	dir=$(realpath "$(dirname "${BASH_SOURCE[0]}")")
	local drop='/^shm_force_alloc=/d'
	if [[ $alloc == tuned ]]; then drop='' alloc_opt=(-x tlsf -X tlsf); fi
	sed -e "s|BENCH_CHILDREN|$children|" -e "s|BENCH_DS_LIST|$dir/dispatcher.list|" ${drop:+-e "$drop"} \
		"$dir/$cfg.cfg" >"$out/kamailio.cfg"
	mkdir -p "$out/kamailio-run"
	ip netns exec "$NS_LB" timeout 3600 taskset -c "$cpu" kamailio -f "$out/kamailio.cfg" -DD -E "${alloc_opt[@]}" \
		-m "$shm" -M 8 -Y "$out/kamailio-run" -P "$out/kamailio-run/kamailio.pid" \
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
