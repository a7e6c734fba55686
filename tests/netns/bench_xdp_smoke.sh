#!/usr/bin/env bash
# Suite netns: bench/xdp/run --smoke end to end (bench/README.md,
# docs/bench-xdp.md), so that the bench cannot rot: one round of 1 s for
# each lane (trivial redirect, siphon's in-kernel lane, trivial AF_XDP
# forwarder, siphon's AF_XDP lane) with whichever generator this kernel
# allows; its report written to a temporary directory, never into
# bench/results/ or bench/README.md. Asserted: the three files, a row per
# lane with a rate above 0 at the sink and at the generator, the generator
# named in every row and in the description, both ratios given, nothing
# of the lab left behind. Never a timing.
set -euo pipefail
lab=$1
build=${2:?usage: bench_xdp_smoke.sh LAB BUILD_DIR}
# shellcheck source=tests/netns/netns_lib.sh
source "$(dirname "$0")/netns_lib.sh"
root=$(cd "$(dirname "$lab")/.." && pwd)
"$lab" down >/dev/null 2>&1 || true
readme_before=$(sha256sum "$root/bench/README.md")
results_before=$(ls -l --time-style=+%s.%N "$root/bench/results" 2>/dev/null || true)

SIPHON_BUILD_DIR=$build "$root/bench/xdp/run" --smoke --out "$work/report" ||
	fail "bench/xdp/run --smoke exited $?"

for f in xdp.md xdp.png xdp.json; do
	[[ -s $work/report/$f ]] || fail "no $f in the report directory"
done
[[ $(sha256sum "$root/bench/README.md") == "$readme_before" ]] || fail "the smoke run rewrote bench/README.md"
[[ $(ls -l --time-style=+%s.%N "$root/bench/results" 2>/dev/null || true) == "$results_before" ]] ||
	fail "the smoke run wrote into bench/results/"
$py - "$work/report/xdp.json" <<'PY' || fail "the report's table is not sane"
import json, sys
r = json.load(open(sys.argv[1]))
rows = r["tables"][0]["rows"]
lanes = {name: (mpps, gen, generator) for name, mpps, _rounds, gen, generator in rows}
want = ["trivial redirect (XDP, DEVMAP)", "siphon in-kernel lane",
        "trivial AF_XDP forwarder", "siphon AF_XDP lane"]
assert sorted(lanes) == sorted(want), f"lanes: {sorted(lanes)}"
for name, (mpps, gen, generator) in lanes.items():
    assert mpps and mpps > 0, f"{name}: {mpps} Mpps at the sink"
    assert gen and gen > 0, f"{name}: the generator sent {gen} Mpps"
    assert generator in ("live", "packet"), f"{name}: generator {generator!r}"
generators = {g for _, _, g in lanes.values()}
assert len(generators) == 1, f"one generator per run, not {generators}"
assert "Generator: " in r["description"], "the description does not name the generator"
for c in r["checks"]:
    assert c["value"] > 0 and c["baseline"] > 0, c
print("lanes:", ", ".join(f"{n} {m:.3f} Mpps" for n, (m, _, _) in lanes.items()),
      "; generator:", generators.pop())
PY
left=$( (ip netns list; ip -o link) | grep -c 'sph-' || true)
[[ $left == 0 ]] || fail "the bench left $left sph- objects behind (it brought the lab up: down again)"
echo "bench-xdp smoke ok"
