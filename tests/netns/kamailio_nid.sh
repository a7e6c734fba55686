#!/usr/bin/env bash
# Suite netns: node-id pinning through real Kamailio core nodes (issue 9).
#   1. `scripts/lab up --kamailio` starts three Kamailio 5.6 proxies whose
#      configs contain the nid lines of docs/dispatch.md (each with its own
#      node id, the lab config's), and they log no error.
#   2. 300 IPv4 and 100 IPv6 calls through siphon (caller -> VIP -> node ->
#      far end), the caller following the route set: 0 failed; every
#      message of a call on one node; siphon dispatched the far end's
#      responses by the Via nid (via_nid, in the AF_XDP lane: lab.conf's
#      own_probe_answer rule sends responses up) and the caller's ACK and
#      BYE by the Route nid in the kernel lane (its route_nid, issues 11
#      and 14), as many as the nodes received, and never by the hash; the
#      INVITEs took the kernel lane's Maglev; nothing went up for a nid.
set -euo pipefail
lab=$1
doc=${2:?usage: kamailio_nid.sh LAB DISPATCH.md}
# shellcheck source=tests/netns/netns_lib.sh
source "$(dirname "$0")/netns_lib.sh"
calls4=300 calls6=100

"$lab" down >/dev/null 2>&1 || true
"$lab" up --kamailio

# --- 1. the doc's snippet runs on every node ------------------------------
for n in b1 b2 b3; do
	$py - "$doc" "$run/sph-$n/kamailio.cfg" "$n" <<'PY' || fail "$n's kamailio.cfg lacks the lines of docs/dispatch.md"
import re, sys
doc, cfg, node = open(sys.argv[1]).read(), open(sys.argv[2]).read(), sys.argv[3]
# the indented block under the Kamailio heading
block = doc.split("### Kamailio (5.6) on core node `b1`", 1)[1]
block = re.search(r"\n\n((?:    .*\n|\n)+)", block).group(1)
def code(text):  # stripped lines, trailing comments off, "..." out
    out = []
    for l in text.splitlines():
        l = l.strip()
        if not l.startswith("#"):
            l = re.sub(r"\s+#.*$", "", l)
        if l and l != "...":
            out.append(l)
    return out
want = [l.replace("b1", node) for l in code(block)]
have = code(cfg)
i = 0
for l in have:
    if i < len(want) and l == want[i]:
        i += 1
assert i == len(want), "missing, in order: %r" % want[i]
assert all((";nid=%s" % o in cfg) == (o == node) for o in ("b1", "b2", "b3")), "another node's nid"
print("%s: the %d lines of docs/dispatch.md, with nid=%s" % (node, len(want), node))
PY
	grep -q 'name = "'"$n"'"' "$run/lab.conf" || fail "node $n is not in the lab's siphon config"
	if grep -E 'ERROR|CRITICAL' "$run/sph-$n/kamailio.log"; then fail "$n: Kamailio logged errors"; fi
done

# --- 2. calls through siphon, pinned by nid ----------------------------------
"$lab" siphon start
"$lab" siphon counters >"$work/k0.json"
since=$(date +%s.%N)
"$lab" check --vip --routes --calls "$calls4" --rate 100
"$lab" check --vip --ipv6 --routes --calls "$calls6" --rate 100
"$lab" siphon counters >"$work/k1.json"
"$lab" calls --since "$since" >"$work/calls.json"
cat "$work/calls.json"
"$lab" siphon stop
$py - "$work/calls.json" "$work/k0.json" "$work/k1.json" "$run/sph-lb/siphon-summary.json" \
	$((calls4 + calls6)) <<'PY' || fail "nid pinning through Kamailio"
import json, sys
calls, k0, k1, summary = (json.load(open(p)) for p in sys.argv[1:5])
want = int(sys.argv[5])
inv, got = calls["invites_by_node"], calls["received"]
# every call reached one node, and only one
assert sum(inv.values()) == want and sorted(inv) == ["b1", "b2", "b3"], inv
for node, share in calls["share_by_node"].items():
    assert abs(share - 1 / 3) <= 0.1, "%s has %.1f%% of the calls" % (node, share * 100)
assert calls["split_calls"] == 0, "calls on two nodes: %s" % calls["split_examples"]
assert got["ACK"] >= want and got["BYE"] >= want and got["response"] >= 3 * want, got
d = summary["pipeline"]["dispatch"]
# 180 and 200 of the INVITE, 200 of the BYE: by the Via nid, each one the nodes got
assert d["via_nid"] == got["response"], (d, got)
assert d["route_nid"] == d["maglev"] == d["grace"] == d["ruri_nid"] == d["none"] == 0, d
k = {g: {n: k1[g][n] - k0[g].get(n, 0) for n in k1[g]}
     for g in ("reasons", "to_userspace_why", "dispatch")}
# ACK and BYE: by the Route nid in the kernel lane; the INVITEs: its Maglev
kd = k["dispatch"]
assert kd["route_nid"] == got["ACK"] + got["BYE"], (kd, got)
assert kd["via_nid"] == kd["ruri_nid"] == kd["nid_unknown"] == 0, kd
assert k["reasons"]["kernel_forward"] == got["INVITE"] + kd["route_nid"], (k["reasons"], got)
assert k["to_userspace_why"].get("to_userspace_nid", 0) == 0, k
print("pinned by nid: via_nid %d (AF_XDP lane), route_nid %d (kernel lane); Maglev (kernel "
      "lane) %d INVITEs; by node %s"
      % (d["via_nid"], kd["route_nid"], k["reasons"]["kernel_forward"] - kd["route_nid"], inv))
PY

"$lab" down
left=$( (ip netns list; ip -o link) | grep -c 'sph-' || true)
[[ $left == 0 ]] || fail "lab down left $left sph- objects behind"
trap - EXIT
rm -rf "$work"
echo "kamailio nid ok"
