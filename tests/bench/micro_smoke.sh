#!/usr/bin/env bash
# Suite unit: bench/micro/run --smoke end to end (bench/README.md,
# docs/testing.md), so that the bench cannot rot: a few runs of a few
# thousand messages per stage, callgrind where the report's checks need
# it, the report written to a temporary directory, never into
# bench/results/ or bench/README.md. Asserted: the three files and the
# report's values (tests/netns/bench_smoke_check.py: every table has rows,
# every check a figure above 0). Never a timing.
#   micro_smoke.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
root=${1:?usage: micro_smoke.sh SOURCE_DIR BUILD_DIR}
build=${2:?usage: micro_smoke.sh SOURCE_DIR BUILD_DIR}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() {
	echo "FAIL: $*"
	exit 1
}
readme_before=$(sha256sum "$root/bench/README.md")
results_before=$(ls -l --time-style=+%s.%N "$root/bench/results" 2>/dev/null || true)

SIPHON_BUILD_DIR=$build "$root/bench/micro/run" --smoke --out "$work/report" ||
	fail "bench/micro/run --smoke exited $?"

for f in micro.md micro.png micro.json; do
	[[ -s $work/report/$f ]] || fail "no $f in the report directory"
done
[[ $(sha256sum "$root/bench/README.md") == "$readme_before" ]] || fail "the smoke run rewrote bench/README.md"
[[ $(ls -l --time-style=+%s.%N "$root/bench/results" 2>/dev/null || true) == "$results_before" ]] ||
	fail "the smoke run wrote into bench/results/"
/usr/bin/python3 "$root/tests/netns/bench_smoke_check.py" micro "$work/report/micro.json" ||
	fail "the report of bench/micro/run --smoke is not sane"
echo "bench-micro smoke ok"
