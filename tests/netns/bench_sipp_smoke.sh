#!/usr/bin/env bash
# Suite netns: bench/sipp/run --smoke end to end (bench/README.md,
# docs/bench-sipp.md), so that the bench cannot rot: a few calls a second
# for a few seconds through plain routing, siphon's kernel lane and (if
# installed) Kamailio; its report written to a temporary directory, never
# into bench/results/ or bench/README.md. Asserted: the three files, a row
# per configuration at the low rate with every call ok and none failed, a
# balancer CPU per call (above 0 for siphon's kernel lane). Never a timing.
set -euo pipefail
lab=$1
build=${2:?usage: bench_sipp_smoke.sh LAB BUILD_DIR}
# shellcheck source=tests/netns/netns_lib.sh
source "$(dirname "$0")/netns_lib.sh"
root=$(cd "$(dirname "$lab")/.." && pwd)
"$lab" down >/dev/null 2>&1 || true
readme_before=$(sha256sum "$root/bench/README.md")
results_before=$(ls -l --time-style=+%s.%N "$root/bench/results" 2>/dev/null || true)

SIPHON_BUILD_DIR=$build "$root/bench/sipp/run" --smoke --out "$work/report" ||
	fail "bench/sipp/run --smoke exited $?"

for f in sipp.md sipp.png sipp.json; do
	[[ -s $work/report/$f ]] || fail "no $f in the report directory"
done
[[ $(sha256sum "$root/bench/README.md") == "$readme_before" ]] || fail "the smoke run rewrote bench/README.md"
[[ $(ls -l --time-style=+%s.%N "$root/bench/results" 2>/dev/null || true) == "$results_before" ]] ||
	fail "the smoke run wrote into bench/results/"
$py - "$work/report/sipp.json" <<'PY' || fail "the report's table is not sane"
import json, sys
r = json.load(open(sys.argv[1]))
rows = r["tables"][0]["rows"]
seen = {}
for name, rate, calls, ok, failed, reached, bal_us, *_ in rows:
    seen.setdefault(name, []).append(rate)
    assert rate > 0 and calls > 0 and reached > 0, (name, rate, calls, reached)
    if rate == min(x[1] for x in rows):
        assert ok == calls and failed == 0, f"{name} at {rate}/s: {ok} ok, {failed} failed of {calls}"
        # process time is tick-sampled (4 ms): a few calls may cost 0 ticks;
        # the kernel lane's XDP program is counted in ns by bpf_stats
        assert bal_us is not None and bal_us >= 0, f"{name}: no balancer CPU per call"
        assert name != "siphon kernel lane" or bal_us > 0, f"{name}: no XDP run time per call"
assert any(n.startswith("plain") for n in seen) and "siphon kernel lane" in seen, seen
print("configurations:", ", ".join(f"{n} {v}" for n, v in seen.items()))
PY
left=$( (ip netns list; ip -o link) | grep -c 'sph-' || true)
[[ $left == 0 ]] || fail "the bench left $left sph- objects behind (it brought the lab up: down again)"
echo "bench-sipp smoke ok"
