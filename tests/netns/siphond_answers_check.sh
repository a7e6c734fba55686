#!/usr/bin/env bash
# Suite netns: siphond's answers on the wire, through siphon --io xdp
# --siphond (or, IO=dpdk: --io dpdk and its exception path;
# siphond-answers-dpdk), in the lab with its own config (tests/netns/answers_lab.conf,
# `scripts/lab up --config`; docs/answers.md "Tests", docs/lab.md). What the
# caller's UDP socket receives is checked by tests/netns/answers_peer.py.
#   1. OPTIONS to the VIP from an inside source (INTERNALLY_SOURCED) and
#      from outside: the rules' 200 and 503, Via/From/Call-ID/CSeq copied, a
#      To tag, from the VIP; IPv4 and IPv6.
#   2. STUN binding requests: success, the transaction id, XOR-MAPPED-ADDRESS
#      the sender's address and port.
#   3. core's nodes disabled: new calls go to spare (its fallback), counted
#      at the nodes (their SIPp message logs).
#   4. spare's node disabled too: an INVITE gets 503 with core's
#      retry_after_s as Retry-After (the pool the rule names).
#   5. spare back, then one node of core: new calls go to core again.
# On failure (or KEEP=1) its files are kept in /tmp/siphond-answers[-dpdk].last.
set -euo pipefail
lab=$1
ctl=${2:?usage: siphond_answers_check.sh LAB SIPHONCTL}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/netns/netns_lib.sh
source "$here/netns_lib.sh"
conf=$here/answers_lab.conf
keep=/tmp/siphond-answers$io_tag.last
VIP4=198.18.0.10 VIP6=2001:db8:18::10
IN4=198.18.1.3 IN6=2001:db8:18:1::3    # INTERNALLY_SOURCED in the config
OUT4=198.18.1.2 OUT6=2001:db8:18:1::2  # the caller's own addresses: outside
CALLS=20
retry_after() { sed -n "s/.*name = \"$1\";.*retry_after_s = \([0-9]*\);.*/\1/p" "$conf"; }
RA_CORE=$(retry_after core) RA_SPARE=$(retry_after spare)
[[ -n $RA_CORE && -n $RA_SPARE && $RA_CORE != "$RA_SPARE" ]] || fail "$conf: no distinct retry_after_s for core and spare"

trap siphond_exit EXIT
trap 'exit 143' TERM INT # meson's timeout: still clean up

peer() { # KIND ARGS...: one request; "KIND N" (options: options_CODE) in sent.txt, N the times it was sent
	local out rc=0 kind=$1
	[[ $1 == options ]] && kind=options_$4
	out=$(ip netns exec sph-caller timeout 20 "$py" "$here/answers_peer.py" "$@") || rc=$?
	echo "$out"
	((rc == 0)) || return "$rc"
	echo "$kind $(sed -n 's/^sent \([0-9]\) time(s)$/\1/p' <<<"$out")" >>"$work/sent.txt"
}
ctl_json() { "$ctl" --socket "$sock" "$@" --json; }
live() { ctl_json pool show | jq_py "[p['live'] for p in d['pools'] if p['name'] == '$1'][0]"; }
synced() { # siphon acked the running generation, whose pools have these live nodes
	local g
	g=$(running_gen)
	(($(acked) >= g)) && [[ $(live core) == "$1" && $(live spare) == "$2" ]]
}
wait_synced() { # CORE_LIVE SPARE_LIVE WHAT
	wait_for 50 synced "$1" "$2" ||
		fail "$3: not core $1 live, spare $2 live, acked by siphon within 5 s (core $(live core), spare $(live spare), generation $(running_gen), acked $(acked))"
	echo "$3: core $1 live, spare $2 live; generation $(running_gen) acked by siphon"
}
node_set() { # enable|disable POOL NODE
	"$ctl" --socket "$sock" node "$1" "$2" "$3" || fail "node $1 $2 $3"
}

"$lab" down >/dev/null 2>&1 || true
lab_up --config "$(lab_conf_for_io "$conf")"
# the inside sources, on the caller's link (the balancer reaches them on-link)
ip -n sph-caller addr add "$IN4/32" dev sph-c-lb
ip -n sph-caller addr add "$IN6/128" dev sph-c-lb nodad
"$lab" siphond start
"$lab" siphon start --siphond
wait_synced 2 1 "start"

echo "--- 1. OPTIONS to the VIP, from inside and from outside"
peer options "$IN4" "$VIP4" 200 "Lab Inside OK" || fail "OPTIONS from inside (IPv4)"
peer options "$IN6" "$VIP6" 200 "Lab Inside OK" || fail "OPTIONS from inside (IPv6)"
peer options "$OUT4" "$VIP4" 503 "Lab Outsiders Not Served" || fail "OPTIONS from outside (IPv4)"
peer options "$OUT6" "$VIP6" 503 "Lab Outsiders Not Served" || fail "OPTIONS from outside (IPv6)"

echo "--- 2. STUN binding requests to the VIP"
peer stun "$OUT4" "$VIP4" || fail "STUN (IPv4)"
peer stun "$OUT6" "$VIP6" || fail "STUN (IPv6)"

echo "--- 3. core's nodes disabled: spare (its fallback) takes the new calls"
calls_to "core-up" + + 0
node_set disable core b1
node_set disable core b2
wait_synced 0 1 "core disabled"
calls_to "fallback" 0 0 "$CALLS"

echo "--- 4. spare's node disabled too: 503 with core's Retry-After"
node_set disable spare b3
wait_synced 0 0 "every node disabled"
peer invite "$OUT4" "$VIP4" "$RA_CORE" || fail "INVITE with no live node (IPv4)"
peer invite "$OUT6" "$VIP6" "$RA_CORE" || fail "INVITE with no live node (IPv6)"

echo "--- 5. spare back, then core's b1: core takes the new calls again"
node_set enable spare b3
wait_synced 0 1 "spare enabled"
node_set enable core b1
wait_synced 1 1 "core/b1 enabled"
calls_to "core-back" "$CALLS" 0 0

echo "--- siphond's counters"
ctl_json state | jq_py "d['punts']" | tee "$work/punts.txt"
ctl_json state | "$py" -c '
import collections, json, sys
p = json.load(sys.stdin)["punts"]
sent = collections.Counter()
for line in open(sys.argv[1]):
    kind, n = line.split()
    sent[kind] += int(n)
print("sent: %s" % dict(sent))
# exactly what the peer sent (a request sent again after a lost answer is
# answered again)
o = p["answered_options"]
assert o == {"200": sent["options_200"], "503": sent["options_503"]}, (p, sent)
assert p["answered_stun"] == sent["stun"] and p["answered_503"] == sent["invite"], (p, sent)
assert p["received"] == sum(sent.values()), (p, sent)
assert p["send_failed"] == 0 and p["bad"] == {}, p
' "$work/sent.txt" || fail "siphond's punt counters are not the answers seen on the wire"
"$lab" siphon stop # its summary, written at exit: what the fast path did with them
"$py" - "$lb/siphon-summary.json" "$work/sent.txt" <<'PY' || fail "siphon did not punt the requests siphond answered"
import collections, json, sys
s = json.load(open(sys.argv[1]))
sent = collections.Counter()
for line in open(sys.argv[2]):
    kind, n = line.split()
    sent[kind.split("_")[0]] += int(n)
if s["io"] == "xdp":  # punted through the TAP (--punt-tap)
    k, r, punted = s["kernel"]["reasons"], s["pipeline"]["reasons"], s["xsk"]["punt_tap"]
else:  # dpdk: punted, each given to the kernel on the exception interface
    k, r, punted = {}, s["reasons"], s["outcomes"]["punt"]
    assert s["dpdk"]["to_kernel_dropped"] == 0, s["dpdk"]
print("siphon: kernel lane to the AF_XDP lane: flags %d, scan %d, no_node %d; pipeline: "
      "rule_reply %d, stun_binding %d, no_live_node %d; punted to the kernel %d" % (
          k.get("to_userspace_flags", 0), k.get("to_userspace_scan", 0),
          k.get("to_userspace_no_node", 0), r.get("rule_reply", 0), r.get("stun_binding", 0),
          r.get("no_live_node", 0), punted))
# the XDP program (or the DPDK port) sent them up, the pipeline decided them
# and punted them to the kernel, where siphond answered: each request as
# often as it was sent
assert r.get("rule_reply", 0) == sent["options"] and r.get("stun_binding", 0) == sent["stun"], (r, sent)
assert r.get("no_live_node", 0) == sent["invite"], (r, sent)
assert punted == sum(sent.values()), (punted, sent)
PY
echo "siphond answers: ok"
