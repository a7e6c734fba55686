#!/usr/bin/python3
"""bench/sipp/results.py: bench/sipp/run's figures (docs/bench-sipp.md).

  results.py row CONFIG RATE CALLS PREFIX
      one JSON line on stdout from one rate's files: PREFIX.check (the
      output of `scripts/lab check --vip`), PREFIX.times (bash `times` of
      that check: its children's CPU, the UAC's SIPp included), PREFIX.csv
      (the UAC's -trace_stat file: CallRate(C), the rate it placed calls at),
      PREFIX.before and PREFIX.after (bench/sipp/sample.py)
  results.py report RESULTS REPORT_JSON [DIR]
      the summary on stdout and one result for bench/report.py

CPU per successful call:
  balancer  every process in sph-lb (utime+stime) plus its XDP programs'
            run_time_ns less BPF_STATS_NS per run
  lab       every process of the lab's namespaces (balancer, core nodes'
            SIPp), the UAC's SIPp and the balancer's XDP programs; "above
            routing" subtracts the routing configuration at the same rate"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "blast"))
from results import BPF_STATS_NS, each_row, fmt, lab_above_routing, siphon_split, split_table  # noqa: E402  bench/blast/results.py

NAMES = {"routing": "plain kernel routing (SIPp alone, no balancer)",
         "kernel": "siphon kernel lane",
         "afxdp": "siphon AF_XDP lane",
         "dpdk": "siphon --io dpdk",
         "kamailio-default": "Kamailio stateless, Debian's allocator",
         "kamailio": "Kamailio stateless, tuned",
         "kamailio-tm": "Kamailio tm-stateful + failover, tuned"}
GOALS = {"kernel": 50, "afxdp": 10, "dpdk": 10}  # issue 14: Kamailio tuned / siphon, balancer CPU per call
REACHED = 0.9  # a rate counts only if SIPp placed the calls at this share of it
CHECK_LINE = re.compile(r"(\d+) calls: (\d+) ok, (\d+) failed \(sipp exit (\d+), ([\d.]+) s\)")


def seconds(text):
    """bash `times` x.y: '1m2.345s' -> 62.345"""
    m = re.fullmatch(r"(\d+)m([\d.]+)s", text)
    return int(m[1]) * 60 + float(m[2])


def sipp_call_rate(path):
    """CallRate(C) of the last line of a SIPp -trace_stat file, or None"""
    try:
        lines = [line.rstrip("\n").split(";") for line in open(path) if line.strip()]
        return float(lines[-1][lines[0].index("CallRate(C)")])
    except (OSError, ValueError, IndexError):
        return None


def worker_row(b, a):
    """siphon's AF_XDP worker threads per message they received (xsk rx):
    CPU (schedstat run time, softirqs run in its context included),
    wake-ups (voluntary context switches) and TX kicks (sendto); {} when
    no worker ran through the rate"""
    if not b or not a or a.get("rx") is None or b.get("rx") is None or a["rx"] <= b["rx"]:
        return {}
    msgs = a["rx"] - b["rx"]
    d = lambda k: (a[k] - b[k]) if a.get(k) is not None and b.get(k) is not None else None
    return {"worker_msgs": msgs, "worker_us_msg": d("run_ns") / msgs / 1e3,
            "worker_wakeups_msg": d("wakeups") / msgs, "worker_preempted_msg": d("preempted") / msgs,
            "worker_kicks_msg": d("tx_kicks") / msgs if d("tx_kicks") is not None else None}


def row(config, rate, calls, pre):
    m = CHECK_LINE.search(open(pre + ".check").read())
    calls_n, ok, failed, rc, elapsed = (int(m[1]), int(m[2]), int(m[3]), int(m[4]), float(m[5])) if m \
        else (calls, 0, calls, -1, 0.0)
    times = open(pre + ".times").read().split("\n")[1].split()  # the children's user, system
    uac_s = seconds(times[0]) + seconds(times[1])
    b, a = (json.loads(open(pre + s).read()) for s in (".before", ".after"))
    hz = a["hz"]
    bpf_ns = a["bpf_ns"] - b["bpf_ns"]
    bpf_cnt = a["bpf_cnt"] - b["bpf_cnt"]
    bpf_s = max(0, bpf_ns - BPF_STATS_NS * bpf_cnt) / 1e9
    lb_s = (a["lb_ticks"] - b["lb_ticks"]) / hz
    lab_s = (a["lab_ticks"] - b["lab_ticks"]) / hz + bpf_s + uac_s
    reached = sipp_call_rate(pre + ".csv")  # SIPp's clock: without its start and exit
    if reached is None:
        reached = calls_n / elapsed if elapsed else 0.0
    per = (lambda s: s / ok * 1e6) if ok else (lambda s: None)
    x = {"config": config, "rate": rate, "calls": calls_n, "ok": ok, "failed": failed, "sipp_exit": rc,
         "seconds": elapsed, "reached": reached, "lb_proc_s": lb_s,
         "lb_sched_s": (a["lb_sched_ns"] - b["lb_sched_ns"]) / 1e9, "bpf_ns": bpf_ns, "bpf_cnt": bpf_cnt,
         "uac_s": uac_s, "lab_s": lab_s, "balancer_us": per(lb_s + bpf_s), "bpf_us": per(bpf_s),
         "lab_us": per(lab_s), "lb_udp_drops": a.get("lb_udp_drops", 0) - b.get("lb_udp_drops", 0),
         "lab_udp_drops": a.get("lab_udp_drops", 0) - b.get("lab_udp_drops", 0)}
    x.update(worker_row(b.get("worker"), a.get("worker")))
    x["clean"] = rc == 0 and failed == 0 and ok == calls_n and reached >= REACHED * rate
    print(json.dumps(x))


def analyse(rows):
    by = {(x["config"], x["rate"]): x for x in rows}
    for x in rows:
        x["lab_above_us"] = lab_above_routing(by, x, x["config"])
        k = by.get(("kamailio", x["rate"]))
        x["kamailio_ratio"] = (k["balancer_us"] / x["balancer_us"]
                               if k and x["config"] != "routing" and k["balancer_us"] and x["balancer_us"]
                               else None)
    return by


def best_rate(rows, config):
    ok = [x["rate"] for x in rows if x["config"] == config and x["clean"]]
    return max(ok) if ok else None


def headline(by, rates, config):
    """Kamailio tuned's balancer CPU per call / the configuration's, at the
    highest rate both ran clean (else the lowest rate both ran)"""
    both = [r for r in rates if (config, r) in by and ("kamailio", r) in by]
    ok = [r for r in both if by[(config, r)]["clean"] and by[("kamailio", r)]["clean"]]
    rate = max(ok) if ok else (min(both) if both else None)
    if rate is None:
        return None, None, None
    k, s = by[("kamailio", rate)]["balancer_us"], by[(config, rate)]["balancer_us"]
    return (k / s if k and s else None), rate, (k, s)


def report(results, report_json, folder):
    rows = [json.loads(line) for line in open(results) if line.strip()]
    by = analyse(rows)
    rates = sorted({x["rate"] for x in rows})
    configs = [c for c in NAMES if any(x["config"] == c for x in rows)]

    table = []
    print(f"{'configuration':<48} {'rate':>5} {'calls':>6} {'ok':>6} {'failed':>6} {'reached':>7} "
          f"{'bal µs/call':>11} {'(XDP)':>7} {'lab µs/call':>11} {'above rt':>8} {'K÷':>6}")
    for c, r, x in each_row(by, configs, rates):
        print(f"{NAMES[c]:<48} {r:>5} {x['calls']:>6} {x['ok']:>6} {x['failed']:>6} {x['reached']:>7.0f} "
              f"{fmt(x['balancer_us'], '.1f'):>11} {fmt(x['bpf_us'], '.2f'):>7} {fmt(x['lab_us'], '.1f'):>11} "
              f"{fmt(x['lab_above_us'], '.1f'):>8} {fmt(x['kamailio_ratio'], '.1f'):>6} "
              f"{x['lb_udp_drops']:>4}/{x['lab_udp_drops']:<4}")
        table.append([NAMES[c], r, x["calls"], x["ok"], x["failed"], x["reached"], x["balancer_us"],
                      x["bpf_us"], x["lb_proc_s"], x["lab_us"], x["lab_above_us"], x["kamailio_ratio"],
                      x["lb_udp_drops"], x["lab_udp_drops"]])

    workers = [[NAMES[x["config"]], x["rate"], x["worker_msgs"], x["worker_us_msg"], x["worker_wakeups_msg"],
                x["worker_kicks_msg"], x["worker_preempted_msg"]] for c in configs for r in rates
               for x in [by.get((c, r))] if x and x.get("worker_msgs")]
    for w in workers:
        print(f"{w[0]} {w[1]}/s: AF_XDP worker {w[3]:.2f} µs per message ({w[2]} messages), "
              f"{w[4]:.2f} wake-ups, {fmt(w[5], '.2f')} TX kicks, {w[6]:.3f} preemptions per message")

    checks = []
    for c in ("kernel", "afxdp", "dpdk", "kamailio-default", "kamailio-tm"):
        if c not in configs:
            continue
        q, rate, pair = headline(by, rates, c)
        goal = GOALS.get(c)
        if q is not None:
            print(f"Kamailio tuned / {NAMES[c]} at {rate}/s: {pair[0]:.1f} / {pair[1]:.2f} µs = {q:.1f}x"
                  + (f" (goal >= {goal}x): {'met' if q >= goal else 'NOT met'}" if goal else ""))
        check = {"what": f"{NAMES[c]}, balancer CPU per call" + (f" at {rate}/s" if rate else ""),
                 "value": pair[1] if pair else None, "unit": "µs", "format": ".1f",
                 "baseline": pair[0] if pair else None, "baseline_name": "Kamailio tuned"}
        if goal:
            check.update({"target": 1 / goal, "target_op": "<=", "target_on": "ratio"})
        checks.append(check)
    for c in configs:
        best = best_rate(rows, c)
        print(f"{NAMES[c]}: highest rate with 0 failed calls: {best or 'none'}")
        checks.append({"what": f"{NAMES[c]}, highest rate with 0 failed calls", "value": best,
                       "unit": "calls/s", "format": "d"})

    cats = [f"{r}/s" for r in rates]
    # every configuration in both panels, so that each keeps its colour (routing has no balancer)
    series = lambda key: [{"label": NAMES[c], "values": [by[(c, r)][key] if (c, r) in by and c != "routing"
                                                         or key == "failed" and (c, r) in by else None
                                                         for r in rates]} for c in configs]
    result = {
        "name": "sipp",
        "title": "SIPp calls through the balancer: highest rate with 0 failed calls and CPU per call, "
                 "siphon against Kamailio",
        "description": (
            "SIPp UAC (scenarios/uac.xml: INVITE with SDP, ACK, BYE) from sph-caller to the VIP through "
            "the balancer in sph-lb to the lab's three SIPp UAS nodes (scenarios/uas.xml; siphon in DSR, "
            "the nodes answer the caller directly; Kamailio relays the answers), the rate stepped up, "
            "each rate `rate x seconds` calls (`scripts/lab check --vip`); a configuration stops at its "
            "first rate with a failed call. Balancer CPU per successful call: every process in sph-lb "
            f"(utime+stime) plus its XDP programs' bpf_stats less {BPF_STATS_NS} ns a run. Lab CPU: "
            "every process in the lab's namespaces, the UAC's SIPp and the balancer's XDP programs; "
            "'above routing' subtracts the routing configuration (no balancer: the kernel routes the "
            "VIP to b1, SIPp alone) at the same rate. 'Kamailio ÷' is Kamailio tuned's balancer CPU per "
            "call over the row's. Goal (issue 14): Kamailio tuned ≥ 50x siphon's kernel lane, ≥ 10x its "
            "AF_XDP and DPDK lanes. UDP drops: RcvbufErrors of the balancer's namespace and of the whole lab "
            "(a full socket buffer) during the rate (docs/bench-sipp.md)."),
        "checks": checks,
        "tables": [{"title": "Per configuration and rate (CPU in µs per successful call)",
                    "columns": [{"title": "configuration"}, {"title": "calls/s asked", "format": "d"},
                                {"title": "calls", "format": "d"}, {"title": "ok", "format": "d"},
                                {"title": "failed", "format": "d"},
                                {"title": "calls/s reached", "format": ".0f"},
                                {"title": "balancer µs/call", "format": ".1f"},
                                {"title": "of which XDP µs/call", "format": ".2f"},
                                {"title": "balancer processes s", "format": ".2f"},
                                {"title": "lab µs/call", "format": ".1f"},
                                {"title": "lab above routing µs/call", "format": ".1f"},
                                {"title": "Kamailio tuned ÷", "format": ".1f"},
                                {"title": "UDP drops, balancer", "format": "d"},
                                {"title": "UDP drops, lab", "format": "d"}],
                    "rows": table},
                   split_table("whole configuration", siphon_split(folder, configs))]
        + ([{"title": "siphon's AF_XDP worker per message it received (schedstat run time, its context's "
                      "softirqs included; wake-ups are voluntary context switches; docs/afxdp.md)",
             "columns": [{"title": "configuration"}, {"title": "calls/s asked", "format": "d"},
                         {"title": "messages", "format": "d"}, {"title": "worker µs/message", "format": ".2f"},
                         {"title": "wake-ups/message", "format": ".2f"},
                         {"title": "TX kicks/message", "format": ".2f"},
                         {"title": "preemptions/message", "format": ".3f"}],
             "rows": workers}] if workers else []),
        "plots": [{"title": "balancer CPU per call (log scale)", "ylabel": "µs per call", "categories": cats,
                   "series": series("balancer_us"),
                   "log": True},
                  {"title": "failed calls (a configuration stops at its first)", "ylabel": "calls",
                   "categories": cats, "series": series("failed")}],
    }
    with open(report_json, "w") as f:
        json.dump(result, f, indent=1)


def main():
    if len(sys.argv) == 6 and sys.argv[1] == "row":
        row(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    elif len(sys.argv) in (4, 5) and sys.argv[1] == "report":
        report(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
