#!/usr/bin/env bash
# Suite netns: every SIPp scenario of scenarios/ (scenarios/README.md) at a
# small count through siphon --io xdp --siphond in the lab, so none can rot.
# The core nodes run scenarios/uas.xml (scripts/lab up). Each run is
# `scripts/lab check --vip --scenario NAME`: bounded in calls, rate and
# time; SIPp's own count must be N successful, 0 failed. Asserted per
# scenario, from the nodes' SIPp message logs (`scripts/lab calls`), siphon's
# XDP counters (`scripts/lab siphon counters`), its summary and siphond's
# punt counters:
#   uac            IPv4: INVITE, ACK, BYE each N at the nodes, no call split
#   uac            IPv6 (2001:db8:18::10): the same
#   uac-reinvite-info  INVITE 2N, ACK 2N, INFO N, BYE N, no call split (the
#                  re-INVITE and the INFO at the node of the first INVITE)
#   uac-register   REGISTER N at the nodes, no call split
#   uac-options    to the VIP: siphond answered exactly N with 200 (rule
#                  `OPTIONS and TO_SELF`), no OPTIONS of the caller at a node
#   uac-large-sdp  IPv4 and IPv6: INVITE, ACK, BYE each N; every INVITE in
#                  k >= 2 fragments, all sent up by the kernel lane (k x N)
#                  and decided at the first fragment (decided_first N)
#   scanner        from the lab's scanner network 198.18.9.9: all 4N
#                  requests dropped in the kernel by the source rule
#                  (kernel_drop_rule +4N), nothing answered, nothing at a
#                  node; from the caller's own address (the lab config has
#                  no User-Agent rule): its 2N OPTIONS answered 200 by
#                  siphond, its 2N REGISTERs at the nodes.
# IO=dpdk (sipp-scenarios-dpdk): the scenarios whose path differs in DPDK
# mode (uac over IPv4 and IPv6, OPTIONS answered through the exception
# path, fragments, the scanner's drops; not uac-reinvite-info and
# uac-register) through siphon --io dpdk --siphond at N = 5; what XDP counts in the kernel lane is asserted on its
# DPDK counterpart in siphon's live summary: the fragments the pipeline
# received (packet.fragment, the later ones, and the first ones decided
# at once: k x N) instead of those the kernel lane sent
# up, and the scanner network's requests dropped by the route in the
# pipeline (rule_drop +4N) instead of kernel_drop_rule; the OPTIONS reach
# siphond through the exception path; every siphon run gave its mbufs back.
# On failure (or KEEP=1) its files are kept in /tmp/sipp-scenarios.last.
set -euo pipefail
lab=$1
ctl=${2:?usage: sipp_scenarios_check.sh LAB SIPHONCTL}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/netns/netns_lib.sh
source "$here/netns_lib.sh"
keep=/tmp/sipp-scenarios.last
trap siphond_exit EXIT
trap 'exit 143' TERM INT # meson's timeout: still clean up
N=10     # calls per scenario
RATE=10  # calls a second
[[ $IO == dpdk ]] && N=5 # (every path again, in half the time)
t0=$SECONDS

punts_200() { # siphond's OPTIONS answered 200 so far
	"$ctl" --socket "$sock" state --json | jq_py "d['punts']['answered_options'].get('200', 0)"
}
xdp_reason() { # FILE NAME: a reason counter of a `siphon counters` file
	jq_py "d['reasons']['$2']" <"$1"
}
# the pipeline's counters in the live summary: under "pipeline" in XDP mode,
# at the top in DPDK mode
pipe='' && [[ $IO == xdp ]] && pipe="['pipeline']"
lane="sent up by the kernel lane" where="in the kernel"
[[ $IO == dpdk ]] && lane="received by the pipeline" where="by the pipeline"
summary_frag() { # NAME: the live summary's fragments.NAME
	"$lab" siphon stats | jq_py "d${pipe}['fragments']['$1']"
}
kernel_counters() { # FILE: XDP: the kernel lane's counters (`siphon counters`);
	# DPDK (no kernel lane): the live summary, once it is rewritten
	if [[ $IO == xdp ]]; then "$lab" siphon counters >"$1"; else sleep 1.2; "$lab" siphon stats >"$1"; fi
}
# the kernel lane's counter NAME moved from FILE0 to FILE1, or in DPDK mode
# its counterpart in the pipeline: the fragments received, the drops by rule
moved() { # NAME FILE0 FILE1
	local c=$1
	if [[ $IO == dpdk ]]; then
		case $1 in
		# the later fragments (packet.fragment) and the first ones (decided at once)
		to_userspace_fragment) echo $(($(moved "packet']['fragment" "$2" "$3") + $(moved "fragments']['decided_first" "$2" "$3"))); return ;;
		kernel_drop_rule) c="reasons']['rule_drop" ;;
		esac
		echo $(($(jq_py "d['$c']" <"$3") - $(jq_py "d['$c']" <"$2")))
	else
		echo $(($(xdp_reason "$3" "$c") - $(xdp_reason "$2" "$c")))
	fi
}

# run LABEL SCENARIO [CHECK-ARGS...]: N calls of SCENARIO to the VIP;
# N ok and 0 failed, or the test fails. Leaves $since for at_nodes.
run() {
	local label=$1 scen=$2
	shift 2
	since=$(now)
	"$lab" check --vip --scenario "$scen" --calls "$N" --rate "$RATE" "$@" >"$work/$label.check" 2>&1 ||
		{ cat "$work/$label.check"; fail "$label: calls failed"; }
	grep -E '^  vip' "$work/$label.check" | sed "s/^  vip /  $label:/"
	grep -q " $N calls: $N ok, 0 failed " "$work/$label.check" || fail "$label: not $N ok, 0 failed"
}

# at_nodes LABEL METHOD=COUNT...: the requests the nodes received since the
# last run, by method (OPTIONS left out: siphond probes the nodes), exactly
# these, and no call's messages on two nodes
at_nodes() {
	local label=$1
	shift
	sleep 1 # the nodes' SIPp message logs
	"$lab" calls --since "$since" >"$work/$label.calls"
	"$py" - "$work/$label.calls" "$label" "$@" <<'PY' || fail "$1: at the nodes"
import json, sys
d, label = json.load(open(sys.argv[1])), sys.argv[2]
want = {k: int(v) for k, v in (a.split("=") for a in sys.argv[3:])}
got = {k: v for k, v in d["received"].items() if k not in ("OPTIONS", "response")}
assert got == want, "%s: the nodes received %s, want %s" % (label, got, want)
assert d["split_calls"] == 0, "%s: calls on two nodes: %s" % (label, d["split_examples"])
print("  %s: at the nodes %s, INVITEs by node %s, no call split" % (label, got, d["invites_by_node"]))
PY
}

"$lab" down >/dev/null 2>&1 || true
lab_up
"$lab" siphond start
"$lab" siphon start --siphond
wait_for 50 acked_ge "$(running_gen)" || fail "siphon did not take siphond's generation within 5 s"

echo "--- basic call with SDP (uac.xml), IPv4 and IPv6"
run uac uac
at_nodes uac INVITE=$N ACK=$N BYE=$N
run uac-ipv6 uac --ipv6
at_nodes uac-ipv6 INVITE=$N ACK=$N BYE=$N

# (DPDK mode: left out; in-dialog requests and REGISTER take uac's path
# through the pipeline, which is the same code in both modes)
if [[ $IO == xdp ]]; then
	echo "--- re-INVITE (hold) and INFO (DTMF) in the dialog (uac-reinvite-info.xml)"
	run reinvite-info uac-reinvite-info
	at_nodes reinvite-info INVITE=$((2 * N)) ACK=$((2 * N)) INFO=$N BYE=$N

	echo "--- REGISTER (uac-register.xml)"
	run register uac-register
	at_nodes register REGISTER=$N
fi

echo "--- OPTIONS keep-alive to the VIP (uac-options.xml): siphond answers"
a0=$(punts_200)
run options uac-options
a1=$(punts_200)
((a1 - a0 == N)) || fail "options: siphond answered $((a1 - a0)) OPTIONS with 200, want $N"
at_nodes options # none of them reached a node
echo "  options: siphond answered $((a1 - a0)) with 200"

echo "--- WebRTC-size INVITE, IP fragments (uac-large-sdp.xml), IPv4 and IPv6"
for v in 4 6; do
	args=()
	((v == 6)) && args=(--ipv6)
	kernel_counters "$work/frag$v.k0"
	[[ $IO == xdp ]] && sleep 1.2 # the live summary is rewritten every second (DPDK: it was)
	f0=$(summary_frag decided_first)
	run "large-sdp-ipv$v" uac-large-sdp "${args[@]}"
	kernel_counters "$work/frag$v.k1"
	at_nodes "large-sdp-ipv$v" INVITE=$N ACK=$N BYE=$N
	sleep 1.2
	f1=$(summary_frag decided_first)
	up=$(moved to_userspace_fragment "$work/frag$v.k0" "$work/frag$v.k1")
	((up >= 2 * N && up % N == 0)) ||
		fail "large-sdp-ipv$v: $lane $up fragments, want k x $N (k >= 2 fragments an INVITE)"
	((f1 - f0 == N)) || fail "large-sdp-ipv$v: $((f1 - f0)) datagrams decided at their first fragment, want $N"
	echo "  large-sdp-ipv$v: $((up / N)) fragments an INVITE, $up $lane, $((f1 - f0)) decided at the first fragment"
done

echo "--- scanner burst (scanner.xml): OPTIONS and REGISTER with and without User-Agent"
kernel_counters "$work/scan.k0"
a0=$(punts_200)
run scanner-net scanner --from 198.18.9.9
kernel_counters "$work/scan.k1"
at_nodes scanner-net # nothing reached a node
a1=$(punts_200)
dropped=$(moved kernel_drop_rule "$work/scan.k0" "$work/scan.k1")
((dropped == 4 * N)) || fail "scanner-net: kernel_drop_rule moved by $dropped, want $((4 * N))"
((a1 == a0)) || fail "scanner-net: siphond answered $((a1 - a0)) of the scanner's OPTIONS"
echo "  scanner-net: all $dropped requests dropped $where (rule SCANNER_NET), none answered"
run scanner-caller scanner
a2=$(punts_200)
kernel_counters "$work/scan.k2"
at_nodes scanner-caller REGISTER=$((2 * N))
((a2 - a1 == 2 * N)) || fail "scanner-caller: siphond answered $((a2 - a1)) OPTIONS with 200, want $((2 * N))"
dropped=$(moved kernel_drop_rule "$work/scan.k1" "$work/scan.k2")
((dropped == 0)) || fail "scanner-caller: kernel_drop_rule moved by $dropped, want 0"
echo "  scanner-caller: no User-Agent rule in the lab config: $((a2 - a1)) OPTIONS answered 200, the REGISTERs forwarded"

"$lab" siphon stop
mbufs_returned
echo "sipp scenarios ok ($((SECONDS - t0)) s)"
