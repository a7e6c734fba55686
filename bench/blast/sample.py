#!/usr/bin/python3
"""bench/blast/sample.py NS IF...: one JSON line, the balancer's CPU so far
(docs/bench-blast.md "How CPU is counted"):

  ticks     utime + stime of every process in network namespace NS, from
            /proc/PID/stat (clock ticks; what the issue asks for)
  sched_ns  the same processes' run time from /proc/PID/task/*/schedstat
            (ns, not tick-sampled: the cross-check)
  bpf_ns, bpf_cnt
            run_time_ns and run_cnt of the XDP programs attached to the
            interfaces IF... of NS (bpftool; bench-bpf-stats holds the
            statistics on)
bench/blast/run takes one before and one after each rate and subtracts."""
import json
import os
import subprocess
import sys
import time


def ns_pids(ns):
    out = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def proc_cpu(pids):
    ticks = sched = 0
    for pid in pids:
        try:
            stat = open(f"/proc/{pid}/stat").read()
            fields = stat[stat.rindex(")") + 2:].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
            for tid in os.listdir(f"/proc/{pid}/task"):
                sched += int(open(f"/proc/{pid}/task/{tid}/schedstat").read().split()[0])
        except (OSError, ValueError):
            pass  # gone in between
    return ticks, sched


def xdp_prog_ids(ns, ifaces):
    ids = []
    for ifname in ifaces:
        out = subprocess.run(["ip", "-j", "-n", ns, "-d", "link", "show", "dev", ifname],
                             capture_output=True, text=True)
        try:
            prog = json.loads(out.stdout)[0].get("xdp", {}).get("prog", {})
        except (ValueError, IndexError):
            continue
        if prog.get("id"):
            ids.append(prog["id"])
    return ids


def bpf_stats(ids):
    run_ns = run_cnt = 0
    for i in ids:
        out = subprocess.run(["bpftool", "-j", "prog", "show", "id", str(i)], capture_output=True, text=True)
        try:
            info = json.loads(out.stdout)
        except ValueError:
            continue
        run_ns += info.get("run_time_ns", 0)
        run_cnt += info.get("run_cnt", 0)
    return run_ns, run_cnt


def main():
    ns, ifaces = sys.argv[1], sys.argv[2:]
    t = time.monotonic()
    ticks, sched = proc_cpu(ns_pids(ns))
    ids = xdp_prog_ids(ns, ifaces)
    run_ns, run_cnt = bpf_stats(ids)
    print(json.dumps({"t": t, "ticks": ticks, "hz": os.sysconf("SC_CLK_TCK"), "sched_ns": sched,
                      "bpf_ns": run_ns, "bpf_cnt": run_cnt, "progs": ids}))


if __name__ == "__main__":
    main()
