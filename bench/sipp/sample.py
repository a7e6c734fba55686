#!/usr/bin/python3
"""bench/sipp/sample.py [--summary SUMMARY] LB_NS IF... -- NS...: one JSON line, the CPU of the
lab so far, with bench/blast/sample.py's counters (docs/bench-sipp.md "How
CPU is counted"):

  lb_ticks, lb_sched_ns   every process in the balancer's namespace LB_NS
  bpf_ns, bpf_cnt         the XDP programs on its interfaces IF...
  lab_ticks, lab_sched_ns every process in LB_NS and in the other NS...
                          (the core nodes' SIPp, a caller's long-lived tools)
  worker                  siphon's AF_XDP worker threads (named siphon-xsk*)
                          in LB_NS: run_ns and timeslices (schedstat),
                          wakeups (voluntary context switches), preempted
                          (involuntary ones), and from siphon's live summary
                          (SUMMARY, rewritten every second) xsk rx, tx and
                          tx_kicks; absent when no worker runs
  lb_udp_drops, lab_udp_drops
                          UDP RcvbufErrors (/proc/net/snmp) in LB_NS, and
                          in LB_NS and NS...: datagrams a full socket
                          buffer dropped
bench/sipp/run takes one before and one after each rate and subtracts."""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "blast"))
import sample  # noqa: E402  bench/blast/sample.py


def udp_drops(ns):
    out = subprocess.run(["ip", "netns", "exec", ns, "cat", "/proc/net/snmp"], capture_output=True, text=True)
    udp = [line.split() for line in out.stdout.splitlines() if line.startswith("Udp:")]
    try:
        return int(udp[1][udp[0].index("RcvbufErrors")])
    except (IndexError, ValueError):
        return 0


def xsk_workers(pids, summary):
    """the AF_XDP workers' CPU and wake-ups, and their counters so far"""
    w = {"threads": 0, "run_ns": 0, "timeslices": 0, "wakeups": 0, "preempted": 0}
    for pid in pids:
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            task = f"/proc/{pid}/task/{tid}"
            try:
                if not open(f"{task}/comm").read().startswith("siphon-xsk"):
                    continue
                sched = open(f"{task}/schedstat").read().split()
                status = dict(line.split(":\t", 1) for line in open(f"{task}/status").read().splitlines()
                              if ":\t" in line)
            except (OSError, ValueError):
                continue  # gone in between
            w["threads"] += 1
            w["run_ns"] += int(sched[0])
            w["timeslices"] += int(sched[2])
            w["wakeups"] += int(status["voluntary_ctxt_switches"])
            w["preempted"] += int(status["nonvoluntary_ctxt_switches"])
    if not w["threads"]:
        return None
    try:
        xsk = json.load(open(summary))["xsk"] if summary else {}
    except (OSError, ValueError, KeyError):
        xsk = {}
    w.update({k: xsk.get(k) for k in ("rx", "tx", "tx_kicks")})
    return w


def main():
    args = sys.argv[1:]
    summary = None
    if args[:1] == ["--summary"]:
        summary, args = args[1], args[2:]
    cut = args.index("--") if "--" in args else len(args)
    lb, ifaces, others = args[0], args[1:cut], args[cut + 1:]
    t = time.monotonic()
    lb_pids = sample.ns_pids(lb)
    lb_ticks, lb_sched = sample.proc_cpu(lb_pids)
    other_ticks, other_sched = sample.proc_cpu([p for ns in others for p in sample.ns_pids(ns)])
    run_ns, run_cnt = sample.bpf_stats(sample.xdp_prog_ids(lb, ifaces))
    print(json.dumps({"t": t, "hz": os.sysconf("SC_CLK_TCK"), "lb_ticks": lb_ticks, "lb_sched_ns": lb_sched,
                      "lab_ticks": lb_ticks + other_ticks, "lab_sched_ns": lb_sched + other_sched,
                      "bpf_ns": run_ns, "bpf_cnt": run_cnt, "lb_udp_drops": udp_drops(lb),
                      "lab_udp_drops": sum(udp_drops(ns) for ns in [lb] + others),
                      "worker": xsk_workers(lb_pids, summary)}))


if __name__ == "__main__":
    main()
