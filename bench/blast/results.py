"""bench/blast/results.py RESULTS REPORT_JSON [DIR]: bench/blast/run's
summary on stdout (per lane and rate: forwarded, lost, CPU per message; the
highest rate without loss; the headline ratios; where siphon's XDP program
sent the messages, from DIR/LANE.summary.json) and the same as one result
for bench/report.py in REPORT_JSON. RESULTS: one JSON line per lane and rate.

CPU per forwarded message (docs/bench-blast.md "How CPU is counted"):
  balancer  its processes' utime+stime (every process in sph-lb) plus its
            XDP programs' run_time_ns less BPF_STATS_NS per run
  lab       the sender's CPU (which carries the softirq work, the XDP
            program included) plus the balancer's processes, less the
            same for plain kernel routing at that rate"""
import json
import sys
from pathlib import Path

BPF_STATS_NS = 75  # what bpf_stats add to each run here (docs/bench-blast.md, "balancer µs/msg")
NAMES = {"routing": "plain kernel routing (no balancer)",
         "kernel": "siphon kernel lane",
         "afxdp": "siphon AF_XDP lane",
         "kamailio": "Kamailio stateless dispatcher, tuned"}
GOAL_KERNEL = 40  # issue 14 "blast": Kamailio tuned / siphon's kernel lane
GOAL_AFXDP = 10   # issue 14: the AF_XDP lane


def per_msg_us(x):
    """the balancer's and the lab's CPU per forwarded message (µs), or None"""
    n = x["forwarded"]
    if not n:
        return None, None
    bpf_s = max(0, x["bpf_ns"] - BPF_STATS_NS * x["bpf_cnt"]) / 1e9
    balancer = (x["proc_s"] + bpf_s) / n * 1e6
    lab = ((x["sender_cpu_s"] or 0) + x["proc_s"]) / n * 1e6
    return balancer, lab


def analyse(rows):
    by = {}
    for x in rows:
        x["lost"] = (x["sent"] or 0) - x["forwarded"]
        x["offered"] = (x["sent"] or 0) / x["send_seconds"] if x.get("send_seconds") else 0
        x["balancer_us"], x["lab_us"] = per_msg_us(x)
        by[(x["lane"], x["rate"])] = x
    for x in rows:
        x["lab_above_us"] = lab_above_routing(by, x, x["lane"])
    return by


def lab_above_routing(by, x, name):
    """x's lab CPU above plain routing's at the same rate (by: {(name,
    rate): row}), None for routing itself or where either is missing"""
    base = by.get(("routing", x["rate"]))
    if name == "routing" or not base or x["lab_us"] is None or base["lab_us"] is None:
        return None
    return x["lab_us"] - base["lab_us"]


def each_row(by, names, rates):
    """(name, rate, row) for every name and rate that ran, names first"""
    for name in names:
        for rate in rates:
            if (name, rate) in by:
                yield name, rate, by[(name, rate)]


OFFERED = 0.95  # a rate counts only if the sender reached this share of it


def clean(x):
    """forwarded without loss at (nearly) the rate asked for"""
    return bool(x["sent"]) and x["lost"] <= 0 and x["offered"] >= OFFERED * x["rate"]


def best_rate(rows, lane):
    ok = [x["rate"] for x in rows if x["lane"] == lane and clean(x)]
    return max(ok) if ok else None


def headline(by, rates, lane):
    """Kamailio's balancer CPU per message / the lane's, at the highest rate
    both forwarded without loss (else the lowest rate measured by both)"""
    both = [r for r in rates if (lane, r) in by and ("kamailio", r) in by]
    ok = [r for r in both if clean(by[(lane, r)]) and clean(by[("kamailio", r)])]
    rate = max(ok) if ok else (min(both) if both else None)
    if rate is None:
        return None, None, None
    k, s = by[("kamailio", rate)]["balancer_us"], by[(lane, rate)]["balancer_us"]
    return (k / s if k and s else None), rate, (k, s)


def split_table(per, rows):
    """The report table of siphon_split()'s rows (per: "whole lane", ...)"""
    return {"title": f"Where siphon's XDP program sent the frames (siphon's summary, {per})",
            "columns": [{"title": "lane"}, {"title": "forwarded in the kernel", "format": "d"},
                        {"title": "to AF_XDP", "format": "d"}, {"title": "why (siphon's reasons)"},
                        {"title": "AF_XDP rx", "format": "d"}, {"title": "AF_XDP tx", "format": "d"}],
            "rows": rows}


def siphon_split(folder, lanes):
    """per siphon lane: frames its XDP program forwarded itself, sent up to
    AF_XDP, and the AF_XDP workers' tx (siphon's summary over the lane)"""
    rows = []
    for lane in ("kernel", "afxdp"):
        if lane not in lanes or not folder:
            continue
        try:
            summ = json.loads((Path(folder) / f"{lane}.summary.json").read_text())
        except (OSError, ValueError):
            continue
        reasons = summ.get("kernel", {}).get("reasons", {})
        xsk = summ.get("xsk", {})
        up = {k: v for k, v in reasons.items() if k.startswith("to_userspace") and v}
        why = ", ".join(f"{k} {v}" for k, v in up.items()) or "none"
        rows.append([NAMES[lane], reasons.get("kernel_forward"), sum(up.values()), why,
                     xsk.get("rx"), xsk.get("tx")])
        print(f"{NAMES[lane]}: XDP program forwarded {reasons.get('kernel_forward')}, "
              f"sent up to AF_XDP {sum(up.values())} ({why}); AF_XDP rx {xsk.get('rx')}, tx {xsk.get('tx')}")
    return rows


def fmt(v, spec=".2f"):
    return "—" if v is None else format(v, spec)


def main():
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    by = analyse(rows)
    rates = sorted({x["rate"] for x in rows})
    lanes = [lane for lane in NAMES if any(x["lane"] == lane for x in rows)]

    table = []
    print(f"{'lane':<38} {'rate/s':>8} {'sent/s':>8} {'sent':>8} {'fwd':>8} {'lost':>7} "
          f"{'bal µs/msg':>10} {'(bpf µs)':>8} {'lab µs/msg':>10} {'above rt':>8}")
    for lane, rate, x in each_row(by, lanes, rates):
        bpf_us = (max(0, x["bpf_ns"] - BPF_STATS_NS * x["bpf_cnt"]) / 1e3 / x["forwarded"]
                  if x["forwarded"] and x["bpf_cnt"] else None)
        print(f"{NAMES[lane]:<38} {rate:>8} {x['offered']:>8.0f} {x['sent'] or 0:>8} {x['forwarded']:>8} {x['lost']:>7} "
              f"{fmt(x['balancer_us']):>10} {fmt(bpf_us):>8} {fmt(x['lab_us']):>10} "
              f"{fmt(x['lab_above_us']):>8}")
        table.append([NAMES[lane], rate, x["offered"], x["sent"], x["forwarded"], x["lost"],
                      x["balancer_us"], bpf_us, x["proc_s"], x["lab_us"], x["lab_above_us"]])

    ratios = {}
    for lane, goal in (("kernel", GOAL_KERNEL), ("afxdp", GOAL_AFXDP)):
        q, rate, pair = headline(by, rates, lane)
        ratios[lane] = (q, rate, pair, goal)
        if q is None:
            print(f"Kamailio / {NAMES[lane]}: no figure")
        else:
            print(f"Kamailio / {NAMES[lane]} at {rate}/s: {pair[0]:.2f} / {pair[1]:.3f} µs = {q:.1f}x "
                  f"(goal >= {goal}x): {'met' if q >= goal else 'NOT met'}")
    for lane in lanes:
        print(f"{NAMES[lane]}: highest rate without loss: {best_rate(rows, lane) or 'none'}")

    checks = []
    for lane in ("kernel", "afxdp"):
        q, rate, pair, goal = ratios[lane]
        checks.append({"what": f"{NAMES[lane]}, balancer CPU per message"
                               + (f" at {rate}/s" if rate else ""),
                       "value": pair[1] if pair else None, "unit": "µs", "format": ".3f",
                       "baseline": pair[0] if pair else None, "baseline_name": "Kamailio tuned",
                       "target": 1 / goal, "target_op": "<=", "target_on": "ratio"})
    q, rate, pair, goal = ratios["kernel"]
    if rate and ("kernel", rate) in by:
        x = by[("kernel", rate)]
        xdp_us = (max(0, x["bpf_ns"] - BPF_STATS_NS * x["bpf_cnt"]) / 1e3 / x["forwarded"]
                  if x["forwarded"] else None)
        # what the kernel lane would cost with nothing going up to AF_XDP
        checks.append({"what": f"{NAMES['kernel']}, its XDP program alone, at {rate}/s",
                       "value": xdp_us, "unit": "µs", "format": ".3f",
                       "baseline": pair[0] if pair else None, "baseline_name": "Kamailio tuned",
                       "target": 1 / goal, "target_op": "<=", "target_on": "ratio"})
        if xdp_us and pair and pair[0]:
            print(f"Kamailio / {NAMES['kernel']}'s XDP program alone at {rate}/s: "
                  f"{pair[0]:.2f} / {xdp_us:.3f} µs = {pair[0] / xdp_us:.1f}x")
    for lane in lanes:
        checks.append({"what": f"{NAMES[lane]}, highest rate without loss", "value": best_rate(rows, lane),
                       "unit": "msg/s", "format": "d"})

    split = siphon_split(sys.argv[3] if len(sys.argv) > 3 else None, lanes)
    shown = [lane for lane in lanes if lane != "routing"]
    result = {
        "name": "blast",
        "title": "SIP messages forwarded without loss and CPU per message, siphon against Kamailio",
        "description": (
            "Pre-built SIP messages (bench/blast/mix.py: INVITE with SDP, ACK, BYE, 200 OK with SDP, "
            "OPTIONS; distinct Call-IDs) sent by bench-blast-send from sph-caller to the VIP at each "
            "rate; bench-sink counts at the core switch what reached a node. Balancer CPU per "
            "forwarded message: its processes' utime+stime plus its XDP programs' bpf_stats less "
            f"{BPF_STATS_NS} ns a run. Lab CPU: the sender (which carries the softirq work, the XDP "
            "program included) plus the balancer's processes; 'above routing' subtracts plain kernel "
            "routing at the same rate. A rate is forwarded without loss when the sink counted every "
            f"message sent and the sender reached {OFFERED:.0%} of the rate. The ratio checks are siphon's CPU per message over Kamailio's "
            f"(goal: Kamailio ≥ {GOAL_KERNEL}x the kernel lane, ≥ {GOAL_AFXDP}x the AF_XDP lane), at the "
            "highest rate both forwarded without loss (docs/bench-blast.md)."),
        "checks": checks,
        "tables": [{"title": "Per lane and rate (CPU in µs per forwarded message)",
                    "columns": [{"title": "lane"}, {"title": "msg/s asked", "format": "d"},
                                {"title": "msg/s sent", "format": ".0f"},
                                {"title": "sent", "format": "d"}, {"title": "forwarded", "format": "d"},
                                {"title": "lost", "format": "d"},
                                {"title": "balancer µs/msg", "format": ".3f"},
                                {"title": "of which XDP µs/msg", "format": ".3f"},
                                {"title": "balancer processes s", "format": ".2f"},
                                {"title": "lab µs/msg", "format": ".2f"},
                                {"title": "lab above routing µs/msg", "format": ".2f"}],
                    "rows": table},
                   split_table("whole lane", split)],
        "plots": [{"title": "balancer CPU per forwarded message", "ylabel": "µs per message",
                   "categories": [f"{r // 1000}k/s" for r in rates],
                   "series": [{"label": NAMES[lane],
                               "values": [by[(lane, r)]["balancer_us"] if (lane, r) in by else None
                                          for r in rates]} for lane in shown] or
                   [{"label": "none", "values": [None] * len(rates)}]},
                  {"title": "messages lost", "ylabel": "messages",
                   "categories": [f"{r // 1000}k/s" for r in rates],
                   "series": [{"label": NAMES[lane],
                               "values": [by[(lane, r)]["lost"] if (lane, r) in by else None
                                          for r in rates]} for lane in lanes]}],
    }
    with open(sys.argv[2], "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
