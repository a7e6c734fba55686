#!/usr/bin/env bash
# Suite netns: siphond and siphon --siphond together in the lab, siphon
# --io xdp or, with IO=dpdk, --io dpdk (siphond-failover-dpdk); on failure
# (or KEEP=1) its files are kept in /tmp/siphond-failover[-dpdk].last
# (docs/siphond.md "Figures", docs/lab.md). SIPp calls of 2 s at 50/s.
#   1. siphond killed (SIGKILL) under load: 0 failed calls; started again:
#      the same generation (number and bytes), nothing new sent to siphon,
#      0 failed calls.
#   2. one core node's SIPp killed under load: `inactive` within interval x
#      down (+ one interval), the other nodes untouched; no INVITE reaches it
#      on the wire once siphon acked the table without it; every failed call
#      had its INVITE on that node; restarted: `active` after `up` answers,
#      and it takes new calls.
#   3. reload to ack: `siphonctl reload` until siphon acks, three times.
#   4. siphon started while siphond is down: from the persisted generation.
set -euo pipefail
lab=$1
ctl=${2:?usage: siphond_failover_check.sh LAB SIPHONCTL}
here=$(dirname "$0")
# shellcheck source=tests/netns/netns_lib.sh
source "$here/netns_lib.sh"
# the lab config's probe (scripts/lab lab_conf): interval, timeout, down, up
IV=200 TO=200 DOWN=3 UP=2
keep=/tmp/siphond-failover$io_tag.last # on failure (or KEEP=1): the files looked at
trap siphond_exit EXIT
trap 'exit 143' TERM INT # meson's timeout: still clean up

"$lab" down >/dev/null 2>&1 || true
lab_up
"$lab" siphond start
"$lab" siphon start --siphond
wait_for 50 acked_ge 1 || fail "siphon did not ack generation 1"

echo "--- 1. siphond killed under load, and started again"
calls_bg kill-siphond 500 # 10 s of calls
sleep 3
gen=$(running_gen)
sum=$(sha256sum <"$state/generation.blob")
"$lab" siphond kill
sleep 3 # calls go on with siphond dead
"$lab" siphond start
grep -q "^siphond: generation $gen kept: " "$lb/siphond.log" || fail "siphond did not keep generation $gen"
[[ $(running_gen) == "$gen" && $(sha256sum <"$state/generation.blob") == "$sum" ]] ||
	fail "generation $gen changed across the restart"
wait_for 100 grep -q "attached, runs generation $gen: current" "$lb/siphond.log" ||
	fail "siphon did not re-attach with generation $gen"
grep -q "generation $gen sent" "$lb/siphond.log" && fail "siphond sent generation $gen again"
echo "siphond restarted: generation $gen kept (same bytes), siphon re-attached running it"
calls_wait kill-siphond
"$lab" check --vip --calls 200 --rate 50 --length 2000 | grep -E '^  vip|^check:|^      ' ||
	fail "calls failed after siphond came back"

echo "--- 2. b1's SIPp killed under load, and started again"
gen0=$(running_gen)
declare -A changes
for n in b2 b3; do changes[$n]=$(node_field $n state_changes); done
tcpdump_start b1 "$work/b1.pcap"
calls_bg kill-node 1000 # 20 s of calls
sleep 5
"$lab" node kill b1 2>&1 | tee "$work/kill.out"
t_kill=$(sed -n 's/.* at \([0-9.]*\);.*/\1/p' "$work/kill.out")
wait_for 20 is_state b1 inactive || fail "b1 not inactive 2 s after the kill"
t_det=$(node_field b1 last_change)
why=$(node_field b1 why)
det=$(ms "$t_kill" "$t_det")
bound=$((IV * DOWN + IV))
echo "FIGURE detection: b1 inactive ($why) $det ms after its SIPp was killed (bound $IV ms x $DOWN + $IV ms = $bound ms)"
((det <= bound)) || fail "detection took $det ms > $bound ms"
# a killed SIPp on a live host: ICMP port unreachable answers the next probe,
# due within one interval (+ 100 ms for the loop, the ICMP and the poll)
[[ $why != icmp_unreachable ]] || ((det <= IV + 100)) || fail "ICMP detection took $det ms > one interval"
# the table without b1 is a new generation: siphon's ack of it is the moment
# from which no new call may reach b1 (before it, one may: it then fails over
# on its INVITE retransmission, or counts below)
out_gen=$(running_gen)
((out_gen > gen0)) || fail "no generation published for b1 inactive"
wait_for 20 acked_ge "$out_gen" || fail "siphon did not ack generation $out_gen"
t_out=$(now)
echo "FIGURE out: generation $out_gen (b1 out) acked by siphon $(ms "$t_kill" "$t_out") ms after the kill (as seen by polling)"
# dead for 8 s: longer than a call up on it can last (2 s + the caller's 5 s
# receive timeout), or a restarted SIPp answers its BYE and saves it
sleep 8
t_restart=$(now)
"$lab" node start b1
wait_for 30 is_state b1 active || fail "b1 not active 3 s after its restart"
t_act=$(node_field b1 last_change)
rec=$(ms "$t_restart" "$t_act")
# up answers one interval apart, plus the SIPp start and a probe in flight
echo "FIGURE recovery: b1 active $rec ms after its SIPp was started again ($UP answers, interval $IV ms)"
((rec <= (UP + 1) * IV + TO + 500)) || fail "recovery took $rec ms"
calls_wait kill-node may-fail # failures are sorted out below
sleep 1
tcpdump_stop
$py "$here/sip_pcap.py" "$work/b1.pcap" >"$work/b1.wire"
cp "$run/check/vip.msgs" "$work/caller.msgs"
$py "$here/failover_calls.py" "$work/caller.msgs" "$work/b1.wire" \
	"$t_kill" "$t_out" "$t_restart" "$t_act" | tee "$work/calls.json"
$py - "$work/calls.json" <<'PY' || fail "calls went wrong around the kill"
import json, sys
d = json.load(open(sys.argv[1]))
print("FIGURE failed calls: %(failed)d of %(calls)d; %(failed_up_on_dead_node)d were up on b1 "
      "when it died (of %(calls_up_on_dead_node_at_kill)d up there), %(failed_sent_to_it_before_out)d "
      "were sent to it before siphon had the table without it, %(failed_taken_by_it_after_return)d "
      "were taken by b1 after its return (of %(calls_taken_by_it_after_return)d), "
      "%(failed_elsewhere)d elsewhere" % d)
# A call up on b1 when it died is lost with b1 (SIPp at b2/b3 answers any
# BYE 200, so it may even end "well"); a call sent to b1 before siphon had
# the table without it may fail. Nothing else: the calls b1 takes after its
# return keep their ACK and BYE there (the grace register,
# docs/dispatch.md "Calls begun during the grace period").
assert d["calls"] == 1000, d
assert d["failed_elsewhere"] == 0, "failed calls that never reached b1: %s" % d
assert d["failed_taken_by_it_after_return"] == 0, "calls b1 took after its return failed: %s" % d
assert d["invites_to_it_while_out"] == 0, "INVITEs reached b1 while it was out: %s" % d
assert d["invites_to_it_after_active"] > 0, "b1 took no new call once active: %s" % d
PY
for n in b2 b3; do
	[[ $(node_field $n state_changes) == "${changes[$n]}" && $(node_field $n state) == active ]] ||
		fail "$n changed state while b1 was dead"
done
echo "b2, b3 stayed active throughout"

echo "--- 2b. b2's probe answerer frozen (SIGSTOP): no ICMP, probes time out"
# the host and its socket live, nothing answers: the bound case of detection
p2=$(ps -o pid= --ppid "$(<"$run/sph-b2/sipp-node4.pid")" | xargs)
[[ -n $p2 ]] || fail "no SIPp for b2's node address"
t_stop=$(now)
kill -STOP "$p2"
wait_for 20 is_state b2 inactive || { kill -CONT "$p2"; fail "b2 not inactive 2 s after SIGSTOP"; }
t_det=$(node_field b2 last_change)
kill -CONT "$p2"
det=$(ms "$t_stop" "$t_det")
echo "FIGURE detection: b2 inactive ($(node_field b2 why)) $det ms after its SIPp was stopped (bound $bound ms; $DOWN timeouts of $TO ms)"
((det <= bound + TO)) || fail "detection took $det ms > $bound ms + one timeout"
((det >= (DOWN - 1) * IV)) || fail "b2 out after $det ms: fewer than $DOWN probes failed"
wait_for 30 is_state b2 active || fail "b2 not active again 3 s after SIGCONT"

echo "--- 3. reload until siphon acks"
conf=$run/lab.conf
cp "$conf" "$work/lab.conf.orig"
for i in 1 2 3; do
	if ((i % 2)); then
		sed 's/^flags = (/flags = (\n  { name = "RELOAD_TEST"; method = "PUBLISH"; },/' "$work/lab.conf.orig" >"$conf"
	else
		cp "$work/lab.conf.orig" "$conf"
	fi
	t0=$(now)
	"$ctl" --socket "$sock" reload >/dev/null
	g=$(running_gen)
	wait_for 50 acked_ge "$g" || fail "siphon did not ack generation $g"
	echo "FIGURE reload: siphonctl reload -> generation $g acked by siphon in $(ms "$t0" "$(now)") ms (polled every 20 ms)"
done

echo "--- 4. siphon started while siphond is down"
g=$(running_gen)
"$lab" siphond stop
"$lab" siphon restart --siphond
grep -q "starting from generation $g" "$lb/siphon.log" || fail "siphon did not start from generation $g"
"$lab" check --vip --calls 200 --rate 50 --length 1000 | grep -E '^  vip|^check:|^      ' ||
	fail "calls failed from the persisted generation"
"$lab" siphon stop
mbufs_returned
echo "siphond failover: ok"
