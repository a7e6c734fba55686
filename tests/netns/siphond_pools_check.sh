#!/usr/bin/env bash
# Suite netns: pool management from siphonctl under load (docs/siphond.md
# "Pool management", docs/lab.md). siphond on the lab config (b1, b2, b3)
# with grace_s = 8, siphon --siphond (XDP); 1,250 SIPp calls of 2 s at
# 50/s; each node's link captured.
#   1. after 5 s `node drain core b1`: acked by siphon (the time is
#      printed); no INVITE reaches b1 from the ack on; the ACK and BYE of
#      the calls up on b1 still do (the drain's previous table);
#   2. after 10 s `node remove core b1` (drained: no call left on it);
#   3. after 17 s, the drain's grace period over, `node add core b1
#      ADDRESS` (back as a node of the RPC's): it takes new calls again;
#   4. at the end: 0 failed calls (SIPp's count and a 200 to every BYE),
#      every call's ACK and BYE at the node that took its INVITE; every
#      call that went wrong is printed with its node.
# Traffic in pool show (docs/siphond.md): the drained node's forwarded
# count (both lanes, from siphond's continuous totals) read at the drain's
# ack and once its rate came to 0 (before the removal, which waits for
# it): what it gained is at most the ACK and BYE (retransmissions
# included) that reached it on the wire since the drain began, and its
# total is exactly what reached it on the wire (messages to the VIP on its
# link: siphond's probes go to its own address).
# Then, without load: `node disable` / `node enable` / `node drain` to
# siphon's ack, and the RPC round trip of `pool show` (median of 50).
#   6. /metrics (127.0.0.1:9109 in sph-lb) scraped before and after a batch
#      of 100 calls: the node series moved by exactly what reached the
#      nodes on the wire: 100 INVITE, ACK and BYE (DSR: the nodes' answers
#      go to the caller, not through siphon; no response is forwarded).
# The add waits for the drain's grace period to end: a second change of
# the pool that moves slots within grace_s sends the dialogs of the calls
# begun in the first one's grace period on its moved slots by the table
# before it (docs/dispatch.md "Two changes within grace_s").
# IO=dpdk (siphond-pools-dpdk): siphon --io dpdk, a shorter run of the
# same steps (650 calls, grace_s = 4, the drain at 3 s, the removal at 6 s,
# the add at 9 s; not part 5, siphond's alone). lab.conf has the lab's
# static MACs; the node added (`node add` carries no MAC) gets its next hop
# from the kernel's neighbour table of sph-lb-core (docs/dpdk.md "Next
# hops"); at the end every siphon run gave its mbufs back.
# On failure (or KEEP=1) its files are kept in /tmp/siphond-pools.last.
set -euo pipefail
lab=$1
ctl=${2:?usage: siphond_pools_check.sh LAB SIPHONCTL}
here=$(dirname "$0")
# shellcheck source=tests/netns/netns_lib.sh
source "$here/netns_lib.sh"
keep=/tmp/siphond-pools.last
trap siphond_exit EXIT
trap 'exit 143' TERM INT # meson's timeout: still clean up
CALLS=1250 # at 50/s: 25 s of calls
GRACE=8    # s: longer than a call (2 s), shorter than the test
T_DRAIN=5 T_REMOVE=10 T_ADD=17 # s after the calls began
if [[ $IO == dpdk ]]; then CALLS=650 GRACE=4 T_DRAIN=3 T_REMOVE=6 T_ADD=9; fi # 13 s of calls
NODE=b1 NODE_ADDR=198.18.2.21

change() { # LABEL SIPHONCTL-ARGS...: the change, until siphon acks it; its JSON in $work/LABEL.json
	local label=$1
	shift
	$py "$here/rpc_timing.py" change "$sock" -- "$ctl" --socket "$sock" "$@" --json >"$work/$label.json" ||
		fail "$label: siphonctl $* failed or was not acked"
}
field() { jq_py "d['$2']" <"$work/$1.json"; } # LABEL KEY
scrape() { ip netns exec sph-lb curl -sf --max-time 5 http://127.0.0.1:9109/metrics | $py "$here/metrics_wire.py" scrape; }
rate_zero() { [[ $(node_field $NODE rate_pps) == 0.0 ]]; }
at() { # SECONDS: sleep until that long after t_start
	sleep "$(awk -v a="$t_start" -v s="$1" -v b="$(now)" 'BEGIN { d = a + s - b; print (d > 0 ? d : 0) }')"
}

"$lab" down >/dev/null 2>&1 || true
lab_up
conf=$run/lab.conf
sed -i "s/^balancer = {/balancer = {\n  grace_s   = $GRACE;/" "$conf"
grep -q "grace_s   = $GRACE;" "$conf" || fail "could not set grace_s in $conf"
"$ctl" check "$conf" >/dev/null || fail "$conf does not load"

"$lab" siphond start
"$lab" siphon start --siphond
wait_for 50 acked_ge 1 || fail "siphon did not ack generation 1"
echo "siphond runs generation $(running_gen), acked by siphon; grace_s = $GRACE"

for n in b1 b2 b3; do tcpdump_start $n "$work/$n.pcap"; done
t_start=$(now)
calls_bg pools $CALLS

echo "--- 1. drain $NODE under load"
at $T_DRAIN
change drain node drain core $NODE
t_drain=$(field drain start)
t_drain_ack=$(awk -v a="$t_drain" -v m="$(field drain ack_ms)" 'BEGIN { printf "%.6f", a + m / 1000 }')
[[ $(node_field $NODE state) == draining ]] || fail "$NODE is $(node_field $NODE state), not draining"
# the last snapshot of the generation before the drain came before the ack
fwd_ack=$(node_field $NODE forwarded)
echo "FIGURE drain: siphonctl node drain -> generation $(field drain generation) acked by siphon in $(field drain ack_ms) ms (the command $(field drain rpc_ms) ms; polled every 5 ms)"

echo "--- 2. remove $NODE (drained), once its traffic stopped"
at $T_REMOVE
wait_for 100 rate_zero || fail "$NODE's rate is $(node_field $NODE rate_pps) packets/s 20 s after the drain"
t_rate0=$(now)
fwd_rm=$(node_field $NODE forwarded)
echo "FIGURE drain traffic: $NODE forwarded $fwd_ack at the ack, $fwd_rm when its rate came to 0 ($(ms "$t_drain_ack" "$t_rate0") ms after the ack)"
change remove node remove core $NODE
t_remove=$(field remove start)
nodes=$("$ctl" --socket "$sock" pool show --json | jq_py "' '.join(n['name'] for n in d['pools'][0]['nodes'])")
[[ $nodes == "b2 b3" ]] || fail "pool core is '$nodes' after the removal"
echo "FIGURE remove: siphonctl node remove -> generation $(field remove generation) acked in $(field remove ack_ms) ms"

echo "--- 3. add $NODE again, the drain's grace period over"
at $T_ADD
change add node add core $NODE $NODE_ADDR
t_add=$(field add start)
t_add_ack=$(awk -v a="$t_add" -v m="$(field add ack_ms)" 'BEGIN { printf "%.6f", a + m / 1000 }')
changes=$(node_field $NODE changes)
[[ $changes == "['replaced']" ]] || fail "$NODE's changes are $changes, not ['replaced']"
echo "FIGURE add: siphonctl node add -> generation $(field add generation) acked in $(field add ack_ms) ms"

calls_wait pools may-fail # sorted out below
sleep 1 # the last BYEs' 200s
tcpdump_stop
sipp_failed=$(sed -n 's/^  vip .* calls: [0-9]* ok, \([0-9]*\) failed.*/\1/p' "$work/pools.out")
cp "$run/check/vip.msgs" "$work/caller.msgs"
wires=()
for n in b1 b2 b3; do
	$py "$here/sip_pcap.py" "$work/$n.pcap" >"$work/$n.wire"
	wires+=("$n=$work/$n.wire")
done
$py "$here/pools_calls.py" "$work/caller.msgs" $NODE "$t_drain" "$t_drain_ack" "$t_remove" \
	"$t_add" "$t_add_ack" "${wires[@]}" | tee "$work/calls.json"

echo "--- 4. the calls"
$py - "$work/calls.json" "$NODE" "$CALLS" "${sipp_failed:-unknown}" <<'PY' || fail "calls went wrong across the pool changes"
import json, sys
d = json.load(open(sys.argv[1]))
node, want, sipp_failed = sys.argv[2], int(sys.argv[3]), sys.argv[4]
inv = d["invites_at_node"]
print("FIGURE calls: %d (SIPp: %s failed); no 200 to the BYE: %d; ACK lost %d, BYE lost %d, at two "
      "nodes %d; broken by node %s" % (d["calls"], sipp_failed, d["failed"], d["ack_lost"],
                                       d["bye_lost"], d["split_calls"], d["broken_by_node"]))
print("FIGURE calls per node: %s" % d["calls_per_node"])
print("FIGURE INVITEs at %s: %d before the drain, %d between it and siphon's ack, %d drained or "
      "removed, %d between the add and its ack, %d after" % (
          node, inv["before_drain"], inv["drain_to_ack"], inv["drained_or_out"], inv["add_to_ack"],
          inv["after_add"]))
print("FIGURE drain: calls up on %s at the ack kept there %d of %d (%d ACK and BYE reached it after "
      "the ack)" % (node, d["calls_up_across_drain_kept"], d["calls_up_across_drain"],
                    d["indialog_at_node_after_drain_ack"]))
print("FIGURE remove/add: calls up on b2, b3 across the removal kept %d of %d, across the add %d of "
      "%d; calls %s took after the add kept %d of %d" % (
          d["calls_up_across_remove_on_others_kept"], d["calls_up_across_remove_on_others"],
          d["calls_up_across_add_on_others_kept"], d["calls_up_across_add_on_others"], node,
          d["calls_taken_after_add_kept"], d["calls_taken_after_add"]))
bad = []
def check(ok, what):
    if not ok:
        bad.append(what)
check(d["calls"] == want, "%d calls in the caller's log, not %d" % (d["calls"], want))
check(d["calls_not_at_any_node"] == 0, "%d calls reached no node" % d["calls_not_at_any_node"])
check(sipp_failed == "0", "SIPp counts %s failed calls" % sipp_failed)
check(d["failed"] == 0, "%d calls got no 200 to their BYE" % d["failed"])
check(d["ack_lost"] == 0 and d["bye_lost"] == 0 and d["split_calls"] == 0,
      "ACK or BYE away from the INVITE's node: %s" % d["broken_examples"])
check(inv["before_drain"] > 0, "%s took no call before the drain" % node)
check(inv["drained_or_out"] == 0, "%d INVITEs reached %s after the drain's ack" % (inv["drained_or_out"], node))
check(d["calls_up_across_drain"] > 0 and d["calls_up_across_drain_kept"] == d["calls_up_across_drain"],
      "calls up on %s across the drain: %d of %d kept" % (node, d["calls_up_across_drain_kept"],
                                                         d["calls_up_across_drain"]))
check(d["indialog_at_node_after_drain_ack"] > 0, "no ACK or BYE reached %s after the drain" % node)
for w in ("remove", "add"):
    up, kept = d["calls_up_across_%s_on_others" % w], d["calls_up_across_%s_on_others_kept" % w]
    check(up > 0 and kept == up, "calls up on b2, b3 across the %s: %d of %d kept" % (w, kept, up))
check(inv["after_add"] > 0 and d["calls_taken_after_add_kept"] == d["calls_taken_after_add"],
      "%s after the add: %d INVITEs, %d of %d calls kept" % (
          node, inv["after_add"], d["calls_taken_after_add_kept"], d["calls_taken_after_add"]))
for b in bad:
    print("FAIL: " + b)
sys.exit(1 if bad else 0)
PY

echo "--- 4b. $NODE's traffic in pool show against the wire"
vips=$(sed -n 's/^ *addresses *= *\[\(.*\)\];.*/\1/p' "$conf" | tr -d ' "')
$py "$here/metrics_wire.py" wire 0 "$t_remove" "$vips" "$NODE=$work/$NODE.wire" >"$work/w_all.json"
$py "$here/metrics_wire.py" wire "$t_drain" "$t_remove" "$vips" "$NODE=$work/$NODE.wire" >"$work/w_drain.json"
$py "$here/metrics_wire.py" wire "$t_drain_ack" "$t_remove" "$vips" "$NODE=$work/$NODE.wire" >"$work/w_ack.json"
$py - "$work" "$NODE" "$fwd_ack" "$fwd_rm" <<'PY' || fail "$NODE's forwarded count does not match the wire"
import json, sys
work, node, fwd_ack, fwd_rm = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
w = {k: json.load(open("%s/w_%s.json" % (work, k))) for k in ("all", "drain", "ack")}
wire_total = w["all"]["per_node"][node]
since_drain, since_ack = w["drain"]["indialog"][node], w["ack"]["indialog"][node]
gained = fwd_rm - fwd_ack
print("FIGURE drain traffic: %s gained %d after the ack; ACK+BYE on its wire since the drain began "
      "%d, since the ack %d; its total %d, on the wire %d" % (node, gained, since_drain, since_ack,
                                                              fwd_rm, wire_total))
bad = []
if fwd_rm != wire_total:
    bad.append("%s forwarded %d, %d reached it on the wire" % (node, fwd_rm, wire_total))
if not 0 <= gained <= since_drain:
    bad.append("%s gained %d after the ack, more than the %d ACK and BYE since the drain" % (
        node, gained, since_drain))
if w["drain"]["requests"].get("INVITE", 0) > w["all"]["requests"].get("INVITE", 0):
    bad.append("INVITEs counted twice")
for b in bad:
    print("FAIL: " + b)
sys.exit(1 if bad else 0)
PY

if [[ $IO == xdp ]]; then # siphond's own: the same with either siphon
echo "--- 5. without load: changes to siphon's ack, pool show's round trip"
change disable node disable core b3
echo "FIGURE disable: siphonctl node disable -> generation $(field disable generation) acked in $(field disable ack_ms) ms (the command $(field disable rpc_ms) ms)"
"$ctl" --socket "$sock" node enable core b3 >/dev/null || fail "node enable b3"
wait_for 30 is_state b3 active || fail "b3 not active 3 s after node enable"
change drain2 node drain core b2
echo "FIGURE drain (no load): siphonctl node drain -> generation $(field drain2 generation) acked in $(field drain2 ack_ms) ms (the command $(field drain2 rpc_ms) ms)"
$py "$here/rpc_timing.py" rtt "$sock" pool.show 50 >"$work/rtt.json"
t0=$(now)
for ((i = 0; i < 50; i++)); do "$ctl" --socket "$sock" pool show >/dev/null; done
per=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", (b - a) * 1000 / 50 }')
echo "FIGURE pool show: RPC round trip median $(field rtt median_ms) ms (min $(field rtt min_ms), max $(field rtt max_ms); 50 on one connection); siphonctl pool show $per ms a run (its start included)"
grep -c "by rpc" "$lb/siphond.log" | xargs -I{} echo "siphond logged {} changes by rpc"
fi

echo "--- 6. /metrics before and after a batch of calls"
BATCH=100
stable() { # the node series unchanged across a snapshot interval; the scrape in $work/before.json
	scrape >"$work/s1.json" && sleep 1.2 && scrape >"$work/s2.json" && cmp -s "$work/s1.json" "$work/s2.json"
}
wait_for 100 stable || fail "/metrics does not settle (is siphond serving 127.0.0.1:9109 in sph-lb?)"
cp "$work/s2.json" "$work/before.json"
for n in b1 b2 b3; do tcpdump_start $n "$work/batch-$n.pcap"; done
t_batch=$(now)
calls_bg batch $BATCH
calls_wait batch
sleep 1 # the last BYEs' 200s
tcpdump_stop
wait_for 100 stable || fail "/metrics does not settle after the batch"
cp "$work/s2.json" "$work/after.json"
bw=()
for n in b1 b2 b3; do
	$py "$here/sip_pcap.py" "$work/batch-$n.pcap" >"$work/batch-$n.wire"
	bw+=("$n=$work/batch-$n.wire")
done
$py "$here/metrics_wire.py" wire "$t_batch" 1e12 "$vips" "${bw[@]}" >"$work/batch-wire.json"
$py - "$work" "$BATCH" <<'PY' || fail "the node series did not move by what reached the nodes"
import json, sys
work, n = sys.argv[1], int(sys.argv[2])
b, a = (json.load(open("%s/%s.json" % (work, k))) for k in ("before", "after"))
w = json.load(open("%s/batch-wire.json" % work))
delta = lambda k: {x: a[k].get(x, 0) - b[k].get(x, 0) for x in set(a[k]) | set(b[k])
                   if a[k].get(x, 0) != b[k].get(x, 0)}
req, resp, fwd = delta("requests"), delta("responses"), delta("forwarded")
print("FIGURE /metrics over %d calls: requests %s, responses %s, forwarded per node %s; on the "
      "wire: requests %s, responses %d, per node %s" % (n, req, resp, fwd, w["requests"],
                                                       w["responses"], w["per_node"]))
bad = []
if req != {m: c for m, c in w["requests"].items() if c}:
    bad.append("requests moved by %s, the wire has %s" % (req, w["requests"]))
if resp or w["responses"]:
    bad.append("responses forwarded: /metrics %s, wire %d (DSR: none pass siphon)" % (resp, w["responses"]))
if fwd != {k: v for k, v in w["per_node"].items() if v}:
    bad.append("forwarded per node moved by %s, the wire has %s" % (fwd, w["per_node"]))
if w["requests"] == {"INVITE": n, "ACK": n, "BYE": n} and sum(fwd.values()) != 3 * n:
    bad.append("%d forwarded for %d calls, not %d" % (sum(fwd.values()), n, 3 * n))
for x in bad:
    print("FAIL: " + x)
sys.exit(1 if bad else 0)
PY
if [[ $IO == dpdk ]]; then
	"$lab" siphon stop # its exit summary: the mbufs
	mbufs_returned
fi
echo "siphond pool management under load: ok"
