#!/usr/bin/env bash
# Suite netns: siphon --io xdp --siphond with a stand-in publisher
# (tests/dp/gen_publisher.c; docs/generations.md). The kernel lane is off,
# so every call goes through the AF_XDP workers and their generation swap.
# IO=dpdk (siphond-gen-dpdk): the same with siphon --io dpdk, its lcore
# workers and their swap (docs/dpdk.md "Generations from siphond").
#   1. generation 1 at start, generation 2 (the lab config plus a flag: every
#      table rebuilt) published in the middle of 1,500 calls: 0 failed, both
#      ACKed 0, every worker adopted 2.
#   2. the publisher killed: siphon forwards on (600 calls, 0 failed).
#   3. a publisher started again with generation 3: siphon re-attaches with
#      generation 2 (within the 5 s back-off bound), takes 3, 600 calls ok;
#      stopped right after them, siphon's last COUNTERS snapshot carries
#      what its exit summary says (nothing of the last second is lost).
#   4. cold start: siphon started while nothing listens, from generation.blob
#      in --state-dir: 600 calls, 0 failed.
set -euo pipefail
lab=$1
siphon=${2:?usage: siphond_gen_check.sh LAB SIPHON PUBLISHER}
pub=${3:?usage: siphond_gen_check.sh LAB SIPHON PUBLISHER}
# shellcheck source=tests/netns/netns_lib.sh
source "$(dirname "$0")/netns_lib.sh"
sock=$work/siphond.sock
state=$work/state
mkdir -p "$state"
logs=$run/sph-lb

"$lab" down >/dev/null 2>&1 || true
lab_up
# every call through the workers and their generation swap
workers_only=()
[[ $IO == xdp ]] && workers_only=(--kernel-lane off)
conf1=$run/lab.conf
conf2=$work/lab2.conf
sed 's/^flags = (/flags = (\n  { name = "UNUSED_GEN2"; method = "PUBLISH"; },/' "$conf1" >"$conf2"
grep -q UNUSED_GEN2 "$conf2" || fail "could not derive the second config"

pub_pid=
start_pub() { # OUT ARGS...
	local out=$1
	shift
	"$pub" --socket "$sock" "$@" >"$out" &
	pub_pid=$!
	for _ in $(seq 50); do grep -q listening "$out" 2>/dev/null && return 0; sleep 0.1; done
	fail "the publisher did not listen"
}
wait_pub() { # the publisher exits once its client closed the channel
	for _ in $(seq 100); do kill -0 "$pub_pid" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$pub_pid" 2>/dev/null && fail "the publisher still waits: siphon did not close"
	wait "$pub_pid" || true
	pub_pid=
}
stop_pub() {
	if [[ -n $pub_pid ]]; then
		kill "$pub_pid" 2>/dev/null || true
		wait "$pub_pid" 2>/dev/null || true
	fi
	pub_pid=
}
on_exit() {
	local rc=$?
	stop_pub
	if ((rc)); then # what siphon said
		echo "--- siphon's log:"
		tail -n 30 "$logs"/siphon*.log 2>/dev/null || true
	fi
	cleanup
}
trap on_exit EXIT

# --- 1. a swap under load ------------------------------------------------
start_pub "$work/pub1.out" --config "$conf1" --generation 1 \
	--then-config "$conf2" --then-generation 2 --then-after-ms 4000
"$lab" siphon start --siphond "$sock" --state-dir "$state" "${workers_only[@]}"
"$lab" check --vip --calls 1500 --rate 250 || fail "calls failed across the swap"
cat "$work/pub1.out"
$py - "$work/pub1.out" <<'PY' || fail "the generations were not both acknowledged"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
acks = [(e["generation"], e["status"]) for e in ev if e["event"] == "ack"]
assert acks == [(1, 0), (2, 0)], acks
PY
sleep 1.5 # the next summary
$py - "$logs/siphon-summary.json" <<'PY' || fail "the workers did not run generation 2"
import json, sys
s = json.load(open(sys.argv[1]))
g = s["generation"]
assert g["running"] == 2 and g["connected"] and g["applied"] == 2, g  # 1 at start, then 2
assert g["swap_grace_timeouts"] == 0 and g["refused"] == 0 and g["swapped"] == 1, g
# generations adopted by the AF_XDP workers (one per queue) or the lcores
adopted, workers = (s["xsk"]["generations"], s["queues"]) if "xsk" in s else \
    (s["dpdk"]["generations"], s["lcores"])
assert adopted >= workers, (adopted, workers)
print("generation 2 runs: %s; generations adopted by the workers %d" % (g, adopted))
PY

echo "--- 2. siphond goes away"
# --- 2. the publisher goes away ------------------------------------------
stop_pub
"$lab" check --vip --calls 600 --rate 200 || fail "calls failed with siphond gone"
grep -q "siphond closed the connection; generation 2 runs on" "$logs/siphon.log" ||
	fail "no log line for siphond going away"

echo "--- 3. siphond comes back"
# --- 3. it comes back ----------------------------------------------------
start_pub "$work/pub3.out" --config "$conf1" --generation 3
for _ in $(seq 70); do grep -q '"generation":3' "$work/pub3.out" && break; sleep 0.1; done
cat "$work/pub3.out"
$py - "$work/pub3.out" <<'PY' || fail "no re-attach with generation 2, or 3 not taken"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
att = [e for e in ev if e["event"] == "attach"]
assert att and att[0]["line"]["params"]["generation"] == 2, att
acks = [(e["generation"], e["status"]) for e in ev if e["event"] == "ack"]
assert acks == [(3, 0)], acks
PY
"$lab" check --vip --calls 600 --rate 200 || fail "calls failed after re-attaching"
"$lab" siphon stop
wait_pub
$py - "$work/pub3.out" "$logs/siphon-summary.json" <<'PY' || fail "the exit snapshot is not the exit summary"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
snaps = [e for e in ev if e["event"] == "counters"]
assert snaps and ev[-1] is snaps[-1], ev[-3:]
s = json.load(open(sys.argv[2]))
last, p = snaps[-1], s.get("pipeline", s)  # --io dpdk: the pipeline's members at the top
got = (last["generation"], last["named"]["packets.in"], last["named"]["outcome.forward"])
want = (3, p["packets"], p["outcomes"]["forward"])
assert got == want, (got, want)
print("exit snapshot %d (generation, packets, forwarded): %s, as the summary" % (last["seq"], got))
PY

echo "--- 4. cold start"
# --- 4. cold start from the state directory ------------------------------
"$pub" --write-state "$state" --config "$conf2" --generation 7
"$lab" siphon start --siphond "$sock" --state-dir "$state" "${workers_only[@]}"
grep -q "starting from generation 7" "$logs/siphon.log" || fail "not started from generation.blob"
"$lab" check --vip --calls 600 --rate 200 || fail "calls failed from the persisted generation"
"$lab" siphon stop
mbufs_returned
echo "siphond generations: ok"
