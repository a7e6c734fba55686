# Kamailio's dispatcher as the lab's balancer (bench/kamailio/stateless.cfg)
# in sph-lb, for the benches that measure siphon against it (bench/blast,
# bench/failover, bench/churn, bench/reorder): its config, its start and
# readiness, its dispatcher list, kamcmd on its control socket.
# Source after bench/lib.sh and bench/lab_env.sh (LAB, NS_LB, PIDS, log).
# shellcheck shell=bash

# shellcheck source=bench/kamailio/kamailio.sh
source "$(dirname "${BASH_SOURCE[0]}")/kamailio.sh"

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
# DIR (kamailio_start, bench/kamailio/kamailio.sh). 1 if it did not come up.
kamailio_balancer_start() {
	local dir=$1 children=$2 cpu=$3 list=$4
	shift 4
	"$LAB" mode siphon >&2 # the VIP on sph-lb, where Kamailio listens
	mkdir -p "$dir"
	kamailio_start stateless "$dir" "$children" "$cpu" tuned 64 "$list" "$@"
}

kamailio_ctl() { # DIR CMD...: kamcmd on the control socket of the Kamailio started in DIR (WITH_CALLS)
	local dir=$1
	shift
	ip netns exec "$NS_LB" kamcmd -s "unix:$dir/kamailio-run/ctl.sock" "$@"
}
