#!/usr/bin/env bash
# Suite netns: bench/dpdk/run --smoke end to end (bench/README.md,
# docs/dpdk.md "Figures"), so that the bench cannot rot: a memory row
# (net_pcap; net_null is the same path in the bench, left out for time) and
# both veth rows (net_af_packet, net_af_xdp over the bench's own veth pairs)
# once for 1 s, siphon and dpdk-testpmd; its report written to a temporary
# directory, never into bench/results/ or bench/README.md. Asserted: the
# three files, a row per vdev with every rate above 0 (the bench asserts
# that too), every mbuf back in siphon's pool on every row (net_af_xdp's fill
# rings are counted apart as kept_by_pmd), and
# nothing left behind: no namespace, no EAL runtime
# directory. Never a timing.
set -euo pipefail
build=${1:?usage: bench_dpdk_smoke.sh BUILD_DIR}
root=$(cd "$(dirname "$0")/../.." && pwd)
py=/usr/bin/python3
fail() { echo "FAIL: $*" >&2; exit 1; }
work=$(mktemp -d /tmp/bench-dpdk-smoke.XXXXXX)
trap 'rm -rf "$work"' EXIT
command -v dpdk-testpmd >/dev/null || { echo "no dpdk-testpmd (scripts/setup)"; exit 77; }
readme_before=$(sha256sum "$root/bench/README.md")
results_before=$(ls -l --time-style=+%s.%N "$root/bench/results")

"$root/bench/dpdk/run" --smoke --vdevs pcap-sip,af_packet,af_xdp --build "$build" --out "$work/report" ||
	fail "bench/dpdk/run --smoke exited $?"

for f in dpdk.md dpdk.png dpdk.json; do
	[[ -s $work/report/$f ]] || fail "no $f in the report directory"
done
[[ $(sha256sum "$root/bench/README.md") == "$readme_before" ]] || fail "the smoke run rewrote bench/README.md"
[[ $(ls -l --time-style=+%s.%N "$root/bench/results") == "$results_before" ]] ||
	fail "the smoke run wrote into bench/results/"
$py - "$work/report/dpdk.json" <<'PY' || fail "the report's table is not sane"
import json, sys
r = json.load(open(sys.argv[1]))
rows = {row[0]: row for row in r["tables"][0]["rows"]}
assert sorted(rows) == sorted(["pcap-sip", "af_packet", "af_xdp"]), rows
for name, (_, _, sent, tp, sp, fwd, _, mbufs_out, ratio) in rows.items():
    assert mbufs_out == 0, (name, mbufs_out)
    assert float(tp.split()[0]) > 0 and float(sp.split()[0]) > 0, (name, tp, sp)
    assert ratio and ratio > 0, (name, ratio)
    assert float(fwd.split()[0]) > 0, (name, fwd)
    if name.startswith("af_"):
        assert all(float(s.split()[0]) > 0 for s in sent.split(" / ")), (name, sent)
print("rows:", ", ".join(f"{n} {row[-1]:.2f}" for n, row in rows.items()))
PY
ip netns list | grep -q '^dpdkb-' && fail "the bench left its namespace behind"
left=$(compgen -G '/var/run/dpdk/dpdkb-*' || true)
[[ -z $left ]] || fail "the bench left EAL runtime directories behind: $left"
echo "bench-dpdk smoke ok"
