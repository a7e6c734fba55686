"""bench/xdp/results.py RESULTS HAVE_SIPHON REPORT_JSON GENERATOR [LIVE_ERROR]:
bench/xdp/run's summary (medians over the rounds, each lane's ratio to its
trivial baseline against its target) on stdout, and the same as one result
for bench/report.py in REPORT_JSON. RESULTS: one JSON line per lane and
round. GENERATOR: the one the run used (live, packet), named in the
summary, the report's description and its table; LIVE_ERROR: why live
frames were not used, if they were not."""
import json
import statistics
import sys

rows = [json.loads(line) for line in open(sys.argv[1])]
have_siphon = sys.argv[2] == "1"
GENERATORS = {"live": "live frames (XDP_TX of BPF_PROG_TEST_RUN)",
              "packet": "AF_PACKET TX ring"}
generator = GENERATORS.get(sys.argv[4], sys.argv[4])
live_error = sys.argv[5] if len(sys.argv) > 5 else ""
if sys.argv[4] == "packet" and live_error:
    generator += f" (live frames refused here: {live_error})"
# what the AF_PACKET generator changes in reading the figures
PACKET_CAVEAT = ("With the AF_PACKET generator the in-kernel chain carries its ~2 µs a frame and the "
                 "AF_XDP lanes run near its rate: compare the per-frame costs; the AF_XDP ratio is an "
                 "upper bound (docs/bench-xdp.md \"Generators\").")
NAMES = {"redirect": "trivial redirect (XDP, DEVMAP)",
         "kernel": "siphon in-kernel lane",
         "afxdp-trivial": "trivial AF_XDP forwarder",
         "afxdp": "siphon AF_XDP lane"}
# siphon lane, its baseline, the target ratio (docs/bench-xdp.md, issue 5),
# the summary line's words, the lane's and the baseline's short names
PAIRS = [("kernel", "redirect", 0.9, "in-kernel lane / trivial redirect", "in-kernel",
          "trivial redirect"),
         ("afxdp", "afxdp-trivial", 0.8, "AF_XDP lane / trivial AF_XDP   ", "AF_XDP",
          "trivial AF_XDP")]


def median(xs):
    return statistics.median(xs) if xs else None


def lanes_table():
    """prints the lanes and returns their medians and the report's rows"""
    med, table = {}, []
    print(f"generator: {generator}")
    print(f"{'lane':<32} {'median Mpps':>11} {'rounds (Mpps at the sink)':<34} {'gen Mpps':>8}")
    for lane, title in NAMES.items():
        rs = [x for x in rows if x["lane"] == lane]
        if not rs:
            continue
        med[lane] = median([x["mpps"] for x in rs if x["ok"]])
        gen = median([x["gen_mpps"] for x in rs if x.get("gen_mpps")])
        shown = " ".join(f"{x['mpps']:.3f}" if x["ok"] else "FAILED" for x in rs)
        print(f"{title:<32} {med[lane] if med[lane] is not None else float('nan'):>11.3f} "
              f"{shown:<34} {gen if gen is not None else float('nan'):>8.3f}")
        table.append([title, med[lane], shown, gen, sys.argv[4]])
    return med, table


def ratio_line(med, a, b, target, what):
    if not have_siphon:
        print(f"{what}: siphon --io xdp not built yet: no ratio")
    elif med.get(a) is None or not med.get(b):
        print(f"{what}: no figure (a lane failed or was not run)")
    else:
        q, extra = med[a] / med[b], extra_us(med, a, b)
        above = f"; {extra:.2f} µs a frame above the baseline" if extra is not None else ""
        print(f"{what}: {q:.2f}x (target >= {target}x): {'met' if q >= target else 'NOT met'}{above}")


def extra_us(med, a, b):
    """what lane a costs a frame above its baseline b, in µs: the chain's
    fixed costs (generator, sink) cancel out, whatever the generator"""
    return 1 / med[a] - 1 / med[b] if med.get(a) and med.get(b) else None


def cost_rows(med):
    return [[f"{label} lane - {base_name}", 1 / med[a], 1 / med[b], extra_us(med, a, b)]
            for a, b, _, _, label, base_name in PAIRS if med.get(a) and med.get(b)]


def notes():
    if sys.argv[4] == "packet":
        print("note: " + PACKET_CAVEAT)
    for x in rows:
        sx = x.get("siphon") or {}
        if x["lane"] == "kernel" and sx.get("kernel_forward") == 0 and sx.get("to_userspace"):
            print(f"note: kernel round {x['round']}: siphon's XDP program forwarded nothing in the kernel "
                  f"({sx['to_userspace']} frames to AF_XDP): this siphon has no in-kernel lane yet")
    for x in rows:
        if x["ok"] and x.get("other_pps", 0) > 0:
            print(f"note: {x['lane']} round {x['round']}: {x['other_pps']:.0f} pps at the sink not to a node MAC")


def report(med, table):
    rounds = max((x["round"] for x in rows), default=0)
    failed = sum(not x["ok"] for x in rows)
    failures = (f" {failed} of {len(rows)} measurements FAILED (the run's stderr says why): "
                "no figure for those lanes." if failed else "")
    return {
        "name": "xdp",
        "title": "the XDP lanes against their trivial baselines",
        "description": ("Frames per second (millions) of the SIP mix that reached the core segment "
                        "addressed to a node, siphon's in-kernel and AF_XDP lanes against trivial "
                        "programs doing the least of the same job, one run on the namespace lab, "
                        f"{rounds} round(s), medians over the rounds (docs/bench-xdp.md). "
                        f"Generator: {generator}.{failures}"
                        + (" " + PACKET_CAVEAT if sys.argv[4] == "packet" else "")),
        "checks": [{"what": f"siphon {label} lane", "value": med.get(a), "unit": "Mpps",
                    "format": ".3f", "baseline": med.get(b), "baseline_name": base_name,
                    "target": target, "target_op": ">=", "target_on": "ratio"}
                   for a, b, target, _, label, base_name in PAIRS],
        "tables": [{"title": "Lanes (Mpps at the sink; gen: what the generator sent)",
                    "columns": [{"title": "lane"}, {"title": "median Mpps", "format": ".3f"},
                                {"title": "rounds"}, {"title": "gen Mpps", "format": ".3f"},
                                {"title": "generator"}],
                    "rows": table},
                   {"title": "Per frame (µs: 1 / Mpps), the lane above its baseline",
                    "columns": [{"title": "lane - baseline"}, {"title": "lane µs", "format": ".3f"},
                                {"title": "baseline µs", "format": ".3f"},
                                {"title": "above the baseline, µs", "format": ".3f"}],
                    "rows": cost_rows(med)}],
        "plots": [{"title": "Mpps at the sink, median over rounds", "ylabel": "Mpps",
                   "categories": [label for *_, label, _ in PAIRS],
                   "series": [{"label": "trivial baseline", "values": [med.get(b) for _, b, *_ in PAIRS]},
                              {"label": "siphon", "values": [med.get(a) for a, *_ in PAIRS]}],
                   "targets": [target * med[b] if med.get(b) else None for _, b, target, *_ in PAIRS],
                   "target_label": "target (ratio x baseline)"}],
    }


med, table = lanes_table()
for a, b, target, what, *_ in PAIRS:
    ratio_line(med, a, b, target, what)
notes()
with open(sys.argv[3], "w") as f:
    json.dump(report(med, table), f, indent=1)
