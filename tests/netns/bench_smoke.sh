#!/usr/bin/env bash
# Suite netns: bench/BENCH/run --smoke end to end for sipp, xdp, blast,
# failover, churn and reorder (bench/README.md, docs/testing.md), so that
# the benches cannot rot: a few hundred calls or messages through siphon
# and its baselines (Kamailio if installed; xdp: the trivial programs), the
# report written to a temporary directory, never
# into bench/results/ or bench/README.md. Asserted: the three files, the
# lab left down, and the values of the report's JSON
# (tests/netns/bench_smoke_check.py). Never a timing.
#   bench_smoke.sh BENCH LAB BUILD_DIR
set -euo pipefail
bench=${1:?usage: bench_smoke.sh BENCH LAB BUILD_DIR}
lab=${2:?usage: bench_smoke.sh BENCH LAB BUILD_DIR}
build=${3:?usage: bench_smoke.sh BENCH LAB BUILD_DIR}
# shellcheck source=tests/netns/netns_lib.sh
source "$(dirname "$0")/netns_lib.sh"
root=$(cd "$(dirname "$lab")/.." && pwd)
"$lab" down >/dev/null 2>&1 || true
readme_before=$(sha256sum "$root/bench/README.md")
results_before=$(ls -l --time-style=+%s.%N "$root/bench/results" 2>/dev/null || true)

SIPHON_BUILD_DIR=$build "$root/bench/$bench/run" --smoke --out "$work/report" ||
	fail "bench/$bench/run --smoke exited $?"

for f in "$bench.md" "$bench.png" "$bench.json"; do
	[[ -s $work/report/$f ]] || fail "no $f in the report directory"
done
[[ $(sha256sum "$root/bench/README.md") == "$readme_before" ]] || fail "the smoke run rewrote bench/README.md"
[[ $(ls -l --time-style=+%s.%N "$root/bench/results" 2>/dev/null || true) == "$results_before" ]] ||
	fail "the smoke run wrote into bench/results/"
$py "$(dirname "$0")/bench_smoke_check.py" "$bench" "$work/report/$bench.json" ||
	fail "the report of bench/$bench/run --smoke is not sane"
left=$( (ip netns list; ip -o link) | grep -c 'sph-' || true)
[[ $left == 0 ]] || fail "the bench left $left sph- objects behind (it brought the lab up: down again)"
echo "bench-$bench smoke ok"
