# Shared by the netns checks: root or skip (77, counted so), a work
# directory, the lab taken down on any exit, fail() with a message; and
# the siphond checks' helpers (below): siphond's state, waits, calls in the
# background, captures (the nodes' links or any), the files of a failed run
# kept, and a batch of calls with the nodes that took them (calls_to: set
# CALLS).
# shellcheck shell=bash
# Set `lab` before sourcing. IO=xdp|dpdk in the environment (default xdp):
# the io mode the tests run in both bring the lab up in (lab_up), the
# second registered as NAME-dpdk (tests/meson.build).
if [[ $(id -u) != 0 ]]; then
	echo "needs root (network namespaces)"
	exit 77 # skipped, and counted so
fi
py=/usr/bin/python3
run=/run/siphon-lab
work=$(mktemp -d)
cleanup() {
	"$lab" down >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	exit 1
}
IO=${IO:-xdp}
[[ $IO == xdp || $IO == dpdk ]] || fail "IO=$IO: xdp or dpdk"
io_tag=${IO#xdp}
io_tag=${io_tag:+-$io_tag} # "" or "-dpdk": in the names of what a failed run keeps
# shellcheck disable=SC2120 # UP-ARGS are optional
lab_up() { "$lab" up --io "$IO" "$@"; } # [UP-ARGS...]: the lab for siphon --io $IO

lab_conf_for_io() { # CONF: prints the config `lab_up --config` takes: CONF itself for
	# --io xdp; for --io dpdk, which has no neighbour table, a copy in $work with the
	# lab's static MACs (the balancer's, and each node's after its 198.18.2.2N address)
	[[ $IO == dpdk ]] || { echo "$1"; return; }
	sed -e '0,/^  addresses = /s//  mac       = "02:00:00:18:00:01";\n&/' \
		-e 's/\(address = "198\.18\.2\.2\([1-9]\)";\)/\1 mac = "02:00:00:18:02:2\2";/' \
		"$1" >"$work/$(basename "$1")"
	echo "$work/$(basename "$1")"
}

calls_evenly_split() { # CALLS.JSON N [LABEL]: `lab calls` saw N INVITEs, each node 33% +- 5%,
	# every call on one node
	"$py" - "$1" "$2" "${3:-calls}" <<'PY' || fail "${3:-calls}: not evenly split, one node each"
import json, sys
d, want, label = json.load(open(sys.argv[1])), int(sys.argv[2]), sys.argv[3]
inv = d["invites_by_node"]
assert sum(inv.values()) == want, "INVITEs at the nodes: %s, want %d" % (inv, want)
assert sorted(inv) == ["b1", "b2", "b3"], inv
for node, share in d["share_by_node"].items():
    assert abs(share - 1 / 3) <= 0.05, "%s has %.1f%% of the calls" % (node, share * 100)
assert d["split_calls"] == 0, "calls on two nodes: %s" % d["split_examples"]
print("%s evenly split: %s" % (label, d["share_by_node"]))
PY
}

mbufs_returned() { # IO=dpdk: every siphon run of this lab gave its mbufs back (exit summaries)
	[[ $IO == dpdk ]] || return 0
	local f
	for f in "$run"/sph-lb/siphon-summary.*.json; do
		"$py" - "$f" <<'PY' || fail "$f: mbufs not given back, or not an exit summary"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["running"] is False and s["mbufs"]["in_use_at_exit"] == 0, (s["running"], s["mbufs"])
print("%s: every mbuf given back (pool %d)" % (sys.argv[1].rsplit("/", 1)[1], s["mbufs"]["pool"]))
PY
	done
}

# --- siphond and siphon --siphond in the lab (siphond_*_check.sh) --------
# Set ctl (siphonctl) and keep (where a failed run's files go) too, and
# `trap siphond_exit EXIT`.
lb=$run/sph-lb
sock=$lb/siphond.sock
state=$lb/siphond-state
check_pid='' tcpdump_pids=()

siphond_exit() { # EXIT trap: stop what runs; a failed run (or KEEP=1) keeps its files in $keep
	local rc=$? pid
	[[ -n $check_pid ]] && kill "$check_pid" 2>/dev/null
	for pid in "${tcpdump_pids[@]}"; do kill -KILL "$pid" 2>/dev/null; done
	if ((rc)); then
		echo "--- siphond's log:"; tail -n 30 "$lb"/siphond*.log 2>/dev/null || true
		echo "--- siphon's log:"; tail -n 15 "$lb"/siphon.log 2>/dev/null || true
	fi
	if ((rc)) || [[ -n ${KEEP:-} ]]; then # the evidence: wire, message logs
		rm -rf "$keep"
		mkdir -p "$keep"
		cp -r "$work"/. "$run/check" "$run"/sph-b? "$lb" "$keep"/ 2>/dev/null || true
		echo "kept in $keep"
	fi
	cleanup
}

now() { date +%s.%N; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%d", (b - a) * 1000 }'; } # FROM TO
jq_py() { $py -c "import json, sys; d = json.load(sys.stdin); print($1)"; } # EXPR on stdin's d
node_field() { # NODE FIELD: from pool show --json
	"$ctl" --socket "$sock" pool show --json |
		jq_py "[n for n in d['pools'][0]['nodes'] if n['name'] == '$1'][0]['$2']"
}
acked() { "$ctl" --socket "$sock" state --json | jq_py "min([f['generation'] for f in d['fast_paths']] or [0])"; }
running_gen() { "$ctl" --socket "$sock" state --json | jq_py "d['generation']"; }
wait_for() { # TENTHS CMD...: until CMD succeeds, at most TENTHS x 0.1 s (0.02 s steps)
	local n=$(($1 * 5))
	shift
	for ((; n > 0; n--)); do "$@" && return 0; sleep 0.02; done
	return 1
}
is_state() { [[ $(node_field "$1" state) == "$2" ]]; }
acked_ge() { (($(acked) >= $1)); }
calls_bg() { # LABEL CALLS: a check in the background, 2 s calls at 50/s
	"$lab" check --vip --calls "$2" --rate 50 --length 2000 >"$work/$1.out" 2>&1 &
	check_pid=$!
}
calls_wait() { # LABEL [may-fail]: its result; 0 failed or the test fails
	local rc=0
	wait "$check_pid" || rc=$?
	check_pid=
	grep -E '^  vip|^check:|^      ' "$work/$1.out"
	((rc == 0)) || [[ ${2:-} == may-fail ]] || fail "$1: calls failed"
}
tcpdump_start() { # NODE FILE: a capture of the SIP on NODE's link, in the background, until tcpdump_stop
	tcpdump_on "sph-$1" "sph-$1-sw" "$2" udp port 5060
}
tcpdump_on() { # NS IF FILE FILTER...: a capture in the background, until tcpdump_stop
	local ns=$1 ifc=$2 file=$3
	shift 3
	# (not in a subshell: $! must be tcpdump itself, which TERM flushes)
	ip netns exec "$ns" tcpdump -U -n -i "$ifc" -w "$file" "$@" 2>"$work/tcpdump-$ifc.log" &
	tcpdump_pids+=($!)
	wait_for 50 grep -q 'listening on' "$work/tcpdump-$ifc.log" || fail "tcpdump on $ifc did not start"
}
tcpdump_stop() { # TERM to every capture (each flushes its file), and wait for them
	local pid
	for pid in "${tcpdump_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${tcpdump_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	tcpdump_pids=()
}

calls_to() { # LABEL B1 B2 B3: $CALLS calls through the VIP at $CALLS/s, then which node got
	# the INVITEs (the nodes' SIPp message logs): each "+" (some), "0" or a number (exactly)
	local label=$1 since out
	since=$(date +%s.%N)
	"$lab" check --vip --calls "$CALLS" --rate "$CALLS" >"$work/$label.check" 2>&1 ||
		{ cat "$work/$label.check"; fail "$label: calls failed"; }
	sleep 1 # the nodes' SIPp message logs
	out=$("$lab" calls --since "$since")
	echo "$out" >"$work/$label.calls"
	echo "$label: $(grep -E '^check:' "$work/$label.check"); at the nodes: $out"
	"$py" - "$out" "$CALLS" "$2" "$3" "$4" <<'PY' || fail "$label: the INVITEs reached the wrong nodes"
import json, sys
d, calls = json.loads(sys.argv[1]), int(sys.argv[2])
by = d["invites_by_node"]
want = dict(zip(("b1", "b2", "b3"), sys.argv[3:6]))
total = sum(by.values())
assert total == calls, "%d INVITEs at the nodes, %d calls made" % (total, calls)
for n, w in want.items():
    got = by.get(n, 0)
    # "+": some, "0": none, a number: exactly
    assert (got > 0) if w == "+" else got == int(w), "%s got %d INVITEs, want %s" % (n, got, w)
assert d["split_calls"] == 0, d
PY
}
