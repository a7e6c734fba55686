#!/usr/bin/python3
"""bench/xdp/live.py: bench/xdp/live's figures (docs/xdp.md "Fifth pass").

  live.py facts PINNED_MAP
      the siphon_xdp program using that pinned map (bpftool): JIT bytes,
      translated bytes, its maps (the verified
      instructions: bench-testrun prints them), as one JSON object
  live.py row LANE ROUND PREFIX
      one JSON line from PREFIX.check (`scripts/lab check --vip`),
      PREFIX.before and PREFIX.after (bench/blast/sample.py): the attached
      program's runs and ns per run less BPF_STATS_NS
  live.py report ROWS FACTS RATE SECONDS
      the summary on stderr and one result for bench/report.py on stdout"""
import json
import os
import re
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "blast"))
from results import BPF_STATS_NS  # noqa: E402  bench/blast/results.py

CHECK_LINE = re.compile(r"(\d+) calls: (\d+) ok, (\d+) failed")
LANES = {"trivial": "trivial redirect (bench-trivial-redirect)", "kernel": "siphon kernel lane"}
BUDGET_NS = 1000  # issue 11: per packet at 1,000 calls/s


def bpftool(*args):
    return json.loads(subprocess.run(["bpftool", "-j", *args], capture_output=True, text=True,
                                     check=True).stdout)


def facts(pinned):
    map_id = bpftool("map", "show", "pinned", pinned)["id"]
    prog = next(p for p in bpftool("prog", "show")
                if p.get("name") == "siphon_xdp" and map_id in p.get("map_ids", []))
    names = sorted(bpftool("map", "show", "id", str(m))["name"] for m in prog["map_ids"])
    print(json.dumps({"id": prog["id"], "jited_bytes": prog.get("bytes_jited"),
                      "xlated_bytes": prog.get("bytes_xlated"),
                      "maps": names}))


def row(lane, rnd, pre):
    m = CHECK_LINE.search(open(pre + ".check").read())
    calls, ok, failed = (int(m[1]), int(m[2]), int(m[3])) if m else (0, 0, 0)
    b, a = (json.loads(open(pre + s).read()) for s in (".before", ".after"))
    cnt = a["bpf_cnt"] - b["bpf_cnt"]
    ns = a["bpf_ns"] - b["bpf_ns"]
    per = ns / cnt - BPF_STATS_NS if cnt else None
    print(json.dumps({"lane": lane, "round": int(rnd), "calls": calls, "ok": ok, "failed": failed,
                      "runs": cnt, "run_ns": ns, "ns_per_packet": per}))


def summary(values):
    values = [v for v in values if v is not None]
    if not values:
        return None, None, None
    return statistics.median(values), min(values), max(values)


def report(rows_path, facts_path, rate, seconds):
    rows = [json.loads(line) for line in open(rows_path) if line.strip()]
    f = json.load(open(facts_path)) if os.path.getsize(facts_path) else {}
    by = {lane: summary([x["ns_per_packet"] for x in rows if x["lane"] == lane]) for lane in LANES}
    table = []
    for lane, name in LANES.items():
        med, lo, hi = by[lane]
        xs = [x for x in rows if x["lane"] == lane]
        table.append([name, sum(x["ok"] for x in xs), sum(x["failed"] for x in xs),
                      sum(x["runs"] for x in xs) // max(1, len(xs)), med, lo, hi])
        print(f"{name}: {fmt(med)} ns/packet (min {fmt(lo)}, max {fmt(hi)}) over {len(xs)} rounds",
              file=sys.stderr)
    k, t = by["kernel"][0], by["trivial"][0]
    print(f"siphon_xdp: {f.get('jited_bytes')} JIT bytes, {f.get('xlated_bytes')} translated, "
          f"{len(f.get('maps', []))} maps", file=sys.stderr)
    checks = [{"what": f"kernel lane, XDP ns per packet at {rate} calls/s", "value": k, "unit": "ns",
               "format": ".0f", "baseline": t, "baseline_name": "trivial redirect",
               "target": BUDGET_NS, "target_op": "<=", "target_on": "value"},
              {"what": "siphon_xdp JIT code", "value": f.get("jited_bytes"), "unit": "bytes", "format": "d"},
              {"what": "siphon_xdp maps", "value": len(f.get("maps", [])) or None, "unit": "", "format": "d"}]
    result = {
        "name": "xdp-live",
        "title": f"The kernel lane's XDP program under live SIPp calls at {rate} calls/s",
        "description": (
            f"SIPp calls (scenarios/uac.xml) from sph-caller to the VIP at {rate} calls/s for {seconds} s a "
            "round, the lanes in turn each round: bench-trivial-redirect (every frame to b1) and siphon "
            "--io xdp with the kernel lane on (bench/blast/siphon.conf, DSR). ns per packet: run_time_ns / "
            f"run_cnt of the program attached to sph-lb-c, less the {BPF_STATS_NS} ns bpf_stats adds a "
            "run (held on by a BPF_ENABLE_STATS fd): siphon_xdp itself, attached natively. Its maps: "
            + ", ".join(f.get("maps", []))),
        "checks": checks,
        "tables": [{"title": "Per lane, over the rounds",
                    "columns": [{"title": "lane"}, {"title": "calls ok", "format": "d"},
                                {"title": "calls failed", "format": "d"},
                                {"title": "packets a round", "format": "d"},
                                {"title": "ns/packet median", "format": ".0f"},
                                {"title": "min", "format": ".0f"}, {"title": "max", "format": ".0f"}],
                    "rows": table}],
        "plots": [{"title": "XDP ns per packet (median of the rounds)", "ylabel": "ns per packet",
                   "categories": list(LANES.values()), "series": [{"label": f"{rate} calls/s",
                                                                   "values": [by[x][0] for x in LANES]}],
                   "targets": [None, BUDGET_NS], "target_label": "budget"}],
    }
    print(json.dumps(result, indent=1))


def fmt(v):
    return "-" if v is None else f"{v:.0f}"


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "facts":
        facts(sys.argv[2])
    elif len(sys.argv) == 5 and sys.argv[1] == "row":
        row(*sys.argv[2:])
    elif len(sys.argv) == 6 and sys.argv[1] == "report":
        report(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
