#!/usr/bin/env bash
# Suite netns: SIPp calls through `siphon --io xdp` in the lab (issue 5).
#   1. 5,000 SIPp calls caller -> VIP -> three SIPp UAS: 0 failed, each
#      node 33% +- 5% of the INVITEs, every message of a call on one node
#      (the nodes' SIPp message logs).
#   2. Bad and foreign frames: malformed IP dropped and counted in the
#      kernel by status, a source-prefix drop rule decided in the kernel,
#      not-SIP dropped by the scanner with its reason, UDP to another port
#      and ICMP to the VIP reach the kernel stack (ping answers).
#   3. siphon restarted under load: 0 failed calls.
#   4. OPTIONS to the balancer itself reach the kernel stack (a stand-in
#      for siphond answers) from the kernel lane and from the AF_XDP lane;
#      2,000 calls through the AF_XDP lane alone (kernel lane off).
#   5. The AF_XDP accounting: no UMEM frame lost or refused, every frame
#      sent was completed.
#   6. 600 calls through the AF_XDP lane with --coalesce-us: the worker
#      gathered the frames in sleeps between batches.
# The lab config has no MAC (scripts/lab): every next hop comes from the
# kernel; 1b and 4 change a node's MAC and require the calls to follow it,
# through the kernel lane and through the AF_XDP lane.
# IO=dpdk (siphon-dpdk): part 2 through siphon --io dpdk (siphon_frames_dpdk
# below), the parts that have a DPDK counterpart elsewhere left out: the
# calls, the even split and the restart are dpdk-lab's; the kernel lane, the
# neighbour table's MACs and the UMEM census are XDP's own (DPDK has no
# kernel lane, takes its MACs from the config, and its mbufs are checked at
# exit instead).
set -euo pipefail
lab=$1
siphon=${2:?usage: siphon_check.sh LAB SIPHON}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/netns/netns_lib.sh
source "$(dirname "$0")/netns_lib.sh"

send() { # KIND COUNT [SRC]
	ip netns exec sph-caller $py "$here/send_frames.py" sph-c-lb 02:00:00:18:01:02 \
		02:00:00:18:00:01 "${3:-198.18.1.2}" 198.18.0.10 "$1" "$2"
}
bad_and_foreign_frames() { # part 2's frames: 10 of each kind, 3 pings answered by the kernel
	send bad_ip_header 10
	send truncated_udp 10
	send udp_other_port 10
	send not_sip 10
	send scanner_net_options 10 198.18.9.9
	ip netns exec sph-caller ping -c 3 -i 0.2 -W 2 198.18.0.10 >/dev/null ||
		fail "ping to the VIP: the kernel stack did not answer (non-SIP traffic must reach it)"
}

siphon_frames_dpdk() { # part 2 in DPDK mode: the pipeline's counters, exactly
	"$lab" down >/dev/null 2>&1 || true
	lab_up
	"$lab" siphon start
	sleep 1.2 # the live summary (every second)
	"$lab" siphon stats >"$work/s0.json"
	bad_and_foreign_frames
	"$lab" siphon stop # the exit summary: every frame counted
	$py - "$work/s0.json" "$run/sph-lb/siphon-summary.json" <<'PY' || fail "the pipeline's counters"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
def delta(*path):
    x, y = a, b
    for k in path:
        x, y = x[k], y[k]
    return y - x
# malformed frames to the VIP dropped and counted by status (as the XDP
# program drops them); not-SIP dropped by the scanner, the scanner
# network's OPTIONS by the route; nothing forwarded or punted
exact = [
    (("packet", "bad_ip_header"), 10), (("packet", "truncated"), 10),
    (("reasons", "not_sip"), 10), (("reasons", "rule_drop"), 10),
    (("outcomes", "drop"), 40), (("outcomes", "forward"), 0), (("outcomes", "punt"), 0),
]
for path, want in exact:
    assert delta(*path) == want, "%s moved by %d, want %d" % (".".join(path), delta(*path), want)
# passed to the kernel: UDP to another port, the pings (and ARP, ND)
passed = delta("outcomes", "pass")
assert delta("packet", "not_udp_tcp") >= 3 and passed >= 13, (delta("packet", "not_udp_tcp"), passed)
assert delta("dpdk", "to_kernel") == passed and b["dpdk"]["to_kernel_dropped"] == 0, b["dpdk"]
assert b["mbufs"]["in_use_at_exit"] == 0, b["mbufs"]
print("pipeline: 10 not-SIP dropped by the scanner, 10 by the SCANNER_NET route, 20 malformed "
      "dropped, counted by status; %d passed to the kernel (to_kernel %d, the pings answered); mbufs %s"
      % (passed, delta("dpdk", "to_kernel"), b["mbufs"]))
PY
	mbufs_returned
	"$lab" down
	echo "siphon lab (DPDK, bad and foreign frames) ok"
	exit 0
}
[[ $IO == dpdk ]] && siphon_frames_dpdk

"$lab" down >/dev/null 2>&1 || true
"$lab" up
"$lab" siphon start

# --- 1. 5,000 calls ------------------------------------------------------
counters() { "$lab" siphon counters; }
counters >"$work/k_calls0.json"
since=$(date +%s.%N)
"$lab" check --vip --calls 5000 --rate 250
counters >"$work/k_calls1.json"
$py - "$work/k_calls0.json" "$work/k_calls1.json" <<'PY' || fail "the kernel lane did not carry the calls"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
d = {k: b["reasons"][k] - a["reasons"][k] for k in b["reasons"]}
# INVITE, ACK and BYE of every call, decided and forwarded in the kernel
assert d["kernel_forward"] >= 15000, "kernel_forward moved by %d: %s" % (d["kernel_forward"], d)
assert d["pass_no_xsk"] == 0, d
# the next hops came from kt_nodes (the next-hop thread writes them), not
# from bpf_fib_lookup(): at most a few forwards before a node resolved
fb = b["next_hop"]["fib_fallback"] - a["next_hop"]["fib_fallback"]
assert fb * 100 <= d["kernel_forward"], "fib_fallback moved by %d of %d forwards" % (fb, d["kernel_forward"])
print("kernel lane: %d forwarded (%d asked bpf_fib_lookup()), %d to user space"
      % (d["kernel_forward"], fb, d["to_userspace"]))
PY
"$lab" calls --since "$since" >"$work/calls.json"
cat "$work/calls.json"
calls_evenly_split "$work/calls.json" 5000 "kernel lane"

# --- 1b. a node's MAC changes (NIC swap, VRRP failover) ------------------
# The lab config has no MAC: siphon's next hops are the kernel's. b1 gets a
# new MAC and the balancer's neighbour entry follows it (`ip neigh replace`
# stands in for the gratuitous ARP); a frame to the old MAC would not reach
# b1, so every call must go through with the new one.
node_new_mac() { # NODE MAC
	ip -n "sph-$1" link set "sph-$1-sw" address "$2"
	ip -n sph-lb neigh replace "198.18.2.$((20 + ${1#b}))" lladdr "$2" dev sph-lb-core nud reachable
}
node_new_mac b1 02:00:00:18:02:41
counters >"$work/k_mac0.json"
since=$(date +%s.%N)
"$lab" check --vip --calls 600 --rate 200
counters >"$work/k_mac1.json"
"$lab" calls --since "$since" >"$work/calls_mac.json"
$py - "$work/calls_mac.json" 600 "$work/k_mac0.json" "$work/k_mac1.json" <<'PY' || fail "after b1's MAC changed (kernel lane)"
import json, sys
d, want = json.load(open(sys.argv[1])), int(sys.argv[2])
a, b = (json.load(open(p)) for p in sys.argv[3:5])
inv = d["invites_by_node"]
assert sum(inv.values()) == want and sorted(inv) == ["b1", "b2", "b3"], inv
# the new MAC reached kt_nodes through the neighbour event, not the lookup
fb = b["next_hop"]["fib_fallback"] - a["next_hop"]["fib_fallback"]
fw = b["reasons"]["kernel_forward"] - a["reasons"]["kernel_forward"]
assert fw >= 3 * want and fb * 100 <= fw, "fib_fallback %d of %d forwards" % (fb, fw)
print("b1's new MAC followed by the kernel lane (from kt_nodes, %d lookups): %s" % (fb, inv))
PY

# the live summary (every second while running)
sleep 1.5
"$lab" siphon stats | $py -c '
import json, sys
d = json.load(sys.stdin)
assert d["running"] is True and d["queues"] >= 1 and "pipeline" in d, d
print("live summary: running, %d queues, kernel_forward %d" % (d["queues"], d["kernel"]["reasons"]["kernel_forward"]))' ||
	fail "scripts/lab siphon stats"

# a second siphon on the same interface is refused before it touches anything
if ip netns exec sph-lb "$siphon" --io xdp --iface sph-lb-c \
	--config "$run/lab.conf" --bpffs "$run/bpffs" --seconds 1 2>"$work/second.err"; then
	fail "a second siphon on sph-lb-c started"
fi
grep -q "another siphon runs" "$work/second.err" || fail "second siphon: $(cat "$work/second.err")"
echo "a second siphon is refused: $(cat "$work/second.err")"

# --- 2. bad and foreign frames -------------------------------------------
counters >"$work/k0.json"
bad_and_foreign_frames
sleep 0.5
counters >"$work/k1.json"
$py - "$work/k0.json" "$work/k1.json" <<'PY' || fail "kernel counters"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
def delta(group, name):
    return b[group][name] - a[group][name]
checks = [
    ("packet", "bad_ip_header", 10), ("packet", "truncated", 10),
    ("reasons", "drop_malformed", 20), ("reasons", "pass_not_for_us", 10),
    ("reasons", "pass_not_udp_tcp", 3),
]
for group, name, want in checks:
    assert delta(group, name) >= want, "%s.%s moved by %d, want %d" % (group, name, delta(group, name), want)
# the scanner network's OPTIONS: dropped by the route in the kernel
assert delta("reasons", "kernel_drop_rule") >= 10, "kernel_drop_rule moved by %d" % delta("reasons", "kernel_drop_rule")
print("kernel counters ok: %s" % {k: b["reasons"][k] - a["reasons"][k] for k in b["reasons"] if b["reasons"][k] != a["reasons"][k]})
PY

# --- 3. restart under load -----------------------------------------------
since=$(date +%s.%N)
"$lab" check --vip --calls 3000 --rate 200 >"$work/restart.out" 2>&1 &
load=$!
sleep 5
"$lab" siphon restart
wait "$load" || { cat "$work/restart.out"; fail "calls failed across the restart"; }
cat "$work/restart.out"
"$lab" calls --since "$since" >"$work/calls2.json"
$py - "$work/calls2.json" <<'PY' || fail "call affinity across the restart"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["split_calls"] == 0, "calls on two nodes: %s" % d["split_examples"]
print("restart ok: %d calls, none split" % d["calls"])
PY

# --- 4. punts reach the kernel stack: by XDP_PASS or through the TAP --------
ip netns exec sph-lb timeout 60 $py "$here/punt_peer.py" answer 198.18.0.10 40 &
peer=$!
sleep 0.5
for lane in on off; do
	[[ $lane == off ]] && "$lab" siphon restart --kernel-lane off
	got=$(ip netns exec sph-caller $py "$here/punt_peer.py" ask 198.18.0.10 198.18.1.2)
	[[ $got == "SIP/2.0 200 punted" ]] ||
		fail "OPTIONS to the balancer (kernel lane $lane): answer '$got', want the stand-in siphond's"
	echo "kernel lane $lane: OPTIONS to the balancer punted and answered"
done
kill "$peer" 2>/dev/null || true

# the same calls through the AF_XDP lane alone (the kernel lane is off now)
since=$(date +%s.%N)
"$lab" check --vip --calls 2000 --rate 250
"$lab" calls --since "$since" >"$work/calls3.json"
calls_evenly_split "$work/calls3.json" 2000 "AF_XDP lane"

# the AF_XDP lane follows a MAC change too (its neighbour table over netlink)
node_new_mac b2 02:00:00:18:02:42
since=$(date +%s.%N)
"$lab" check --vip --calls 600 --rate 200
"$lab" calls --since "$since" >"$work/calls_mac2.json"
$py - "$work/calls_mac2.json" 600 <<'PY' || fail "after b2's MAC changed (AF_XDP lane)"
import json, sys
d, want = json.load(open(sys.argv[1])), int(sys.argv[2])
inv = d["invites_by_node"]
assert sum(inv.values()) == want and sorted(inv) == ["b1", "b2", "b3"], inv
print("b2's new MAC followed by the AF_XDP lane: %s" % inv)
PY
"$lab" siphon stats | $py -c '
import json, sys
n = json.load(sys.stdin)["next_hops"]
assert n["nodes"]["b2"] == "02:00:00:18:02:42" and n["nodes"]["b1"] == "02:00:00:18:02:41", n
print("next hops: %s" % n)' || fail "next_hops in the summary"

# --- 5. AF_XDP accounting --------------------------------------------------
"$lab" siphon stop
$py - "$run"/sph-lb/siphon-summary.json <<'PY' || fail "punt through the TAP"
import json, sys
x = json.load(open(sys.argv[1]))["xsk"]
assert x["punt_tap"] >= 1 and x["punt_tap_failed"] == 0 and x["punt_no_tap"] == 0, x
print("AF_XDP lane punts through the TAP: %d" % x["punt_tap"])
PY
$py - "$run"/sph-lb/siphon-summary.json <<'PY' || fail "AF_XDP lane counters"
import json, sys
d = json.load(open(sys.argv[1]))
p = d["pipeline"]
assert p["outcomes"]["forward"] >= 6000, p["outcomes"]  # INVITE, ACK, BYE of 2,000 calls
assert sum(p["nodes"].values()) == p["outcomes"]["forward"], p["nodes"]
print("AF_XDP lane forwarded %d, by node %s" % (p["outcomes"]["forward"], p["nodes"]))
PY
for s in "$run"/sph-lb/siphon-summary.*.json; do
	$py - "$s" <<'PY' || fail "UMEM accounting in $s"
import json, sys
d = json.load(open(sys.argv[1]))
u, x, p = d["umem"], d["xsk"], d["pipeline"]
assert d["running"] is False, "not the final summary"
# the free stack holds exactly the frames marked free: none lost, none twice
assert u["free"] == u["free_stack"], u
assert u["refused_rx"] == u["refused_completion"] == u["bad_addr"] == u["refused_release"] == 0, u
assert u["worker"] == 0 and u["kernel_tx"] == 0, "frames still held at exit: %s" % u
assert x["tx"] == x["tx_completed"], x
assert x["rx"] == p["packets"], (x["rx"], p["packets"])
assert x["polls"] >= 1, x
print("%s: rx %d, forwarded %d, UMEM ok" % (sys.argv[1].rsplit("/", 1)[1], x["rx"], x["tx"]))
PY
done
$py - "$run"/sph-lb/siphon-summary.1.json <<'PY' || fail "scanner reasons"
import json, sys
d = json.load(open(sys.argv[1]))
r = d["pipeline"]["reasons"]
assert r["not_sip"] >= 10, "not_sip: %s (the kernel lane sends what it is unsure of up)" % r["not_sip"]
print("not-SIP dropped by the scanner: %d" % r["not_sip"])
PY

# --- 6. --coalesce-us: the worker sleeps between batches while calls come --
"$lab" siphon start --kernel-lane off --coalesce-us 500
"$lab" check --vip --calls 600 --rate 200
"$lab" siphon stop
$py - "$run"/sph-lb/siphon-summary.json <<'PY' || fail "--coalesce-us"
import json, sys
d = json.load(open(sys.argv[1]))
x, u = d["xsk"], d["umem"]
# 600 calls at 200/s, 1,800 frames: the worker slept between the batches
# while they came (a poll() only after a sleep that brought nothing)
assert x["coalesce_sleeps"] >= 100 and x["rx"] >= 1800, x
assert x["tx"] == x["tx_completed"], x
assert u["free"] == u["free_stack"] and u["worker"] == u["kernel_tx"] == 0, u
print("--coalesce-us 500: %d sleeps, %d polls for %d frames" % (x["coalesce_sleeps"], x["polls"], x["rx"]))
PY

"$lab" down
left=$( (ip netns list; ip -o link) | grep -c 'sph-' || true)
[[ $left == 0 ]] || fail "lab down left $left sph- objects behind"
trap - EXIT
rm -rf "$work"
echo "siphon lab ok"
