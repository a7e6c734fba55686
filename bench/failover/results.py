#!/usr/bin/python3
"""bench/failover/results.py RESULTS REPORT_JSON: bench/failover/run's lanes
(one JSON line each: the kill's and the detection's times, the calls
sorted out by tests/netns/failover_calls.py, the caller's message log and
b1's wire) as bench/report.py's input.

Per lane: the time from the kill to the last new call (the first INVITE of
a Call-ID) that reached b1, INVITEs (retransmissions included) that reached
it after the kill, the balancer's detection, the calls that failed (no 200
to their BYE) and the calls up on b1 at the kill (their BYE goes to a live
node whose SIPp answers any BYE 200: they end "well" here, and would be
lost with a real core node)."""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "netns"))
from sipp_calls import wire_requests  # noqa: E402

NAMES = {"siphon": "siphon, probes every 200 ms (the lab's)",
         "siphon-1s": "siphon, probes every 1 s (as Kamailio)",
         "kamailio": "Kamailio dispatcher, probes every 1 s"}


def lane_figures(r):
    first = {}  # Call-ID -> its first INVITE at b1
    after = []
    for t, method, cid in wire_requests(r["wire"]):
        if method != "INVITE":
            continue
        first.setdefault(cid, t)
        if t >= r["t_kill"]:
            after.append(t)
    new_after = sorted(t for t in first.values() if t >= r["t_kill"])
    c = r["calls"]
    return {
        "lane": r["lane"],
        "last_new_call_ms": (new_after[-1] - r["t_kill"]) * 1000 if new_after else 0.0,
        "new_calls_after_kill": len(new_after),
        "invites_after_kill": len(after),
        "last_invite_ms": (after[-1] - r["t_kill"]) * 1000 if after else 0.0,
        "detected_ms": (r["t_detected"] - r["t_kill"]) * 1000,
        "out_ms": (r["t_out"] - r["t_kill"]) * 1000,
        "why": r["why"],
        "calls": c["calls"],
        "failed": c["failed"],
        "failed_sent_after_kill": c["failed_sent_to_it_before_out"],
        "failed_elsewhere": c["failed_elsewhere"],
        "up_at_kill": c["calls_up_on_dead_node_at_kill"],
    }


def main():
    rows = [lane_figures(json.loads(line)) for line in open(sys.argv[1]) if line.strip()]
    by = {r["lane"]: r for r in rows}
    kam = by.get("kamailio")
    checks = []
    for r in rows:
        if r["lane"] == "kamailio":
            continue
        base = {"baseline": kam["last_new_call_ms"], "baseline_name": "Kamailio"} if kam else {}
        checks.append(dict({"what": NAMES[r["lane"]] + ": kill to the last new call at the dead node",
                            "value": r["last_new_call_ms"], "unit": "ms", "format": ".0f"}, **base))
    for r in rows:
        checks.append({"what": NAMES[r["lane"]] + ": failed calls", "value": r["failed"],
                       "unit": "calls", "format": "d"})
    cols = ["lane", "kill to last new call at b1 (ms)", "new calls at b1 after the kill",
            "INVITEs at b1 after the kill", "kill to b1 out (ms)", "how it was seen",
            "kill to the table without b1 in use, as polled (ms; an upper bound)", "calls", "failed", "failed, sent to b1 after the kill",
            "failed elsewhere", "up on b1 at the kill"]
    fmt = [None, ".0f", "d", "d", ".0f", None, ".0f", "d", "d", "d", "d", "d"]
    table = {"title": "b1's SIPp killed (SIGKILL) under 50 calls/s of 2 s calls",
             "columns": [dict({"title": t}, **({"format": f} if f else {})) for t, f in zip(cols, fmt)],
             "rows": [[NAMES[r["lane"]], r["last_new_call_ms"], r["new_calls_after_kill"],
                       r["invites_after_kill"], r["detected_ms"], r["why"], r["out_ms"], r["calls"],
                       r["failed"], r["failed_sent_after_kill"], r["failed_elsewhere"], r["up_at_kill"]]
                      for r in rows]}
    cats = [{"siphon": "siphon 200 ms", "siphon-1s": "siphon 1 s", "kamailio": "Kamailio 1 s"}[r["lane"]]
            for r in rows]
    result = {
        "name": "failover",
        "title": "a core node killed under load, siphon against Kamailio",
        "description": ("b1's SIPp killed with SIGKILL (its host stays up: ICMP port unreachable) under "
                        "SIPp calls of 2 s at 50/s; siphond and Kamailio's dispatcher probing with OPTIONS. "
                        "Kamailio's ds_ping_interval is in whole seconds: its 1 s is set against siphon at "
                        "the lab's 200 ms and at 1 s (timeout 200 ms, down/ds_probing_threshold 3, "
                        "up/ds_inactive_threshold 2). A new call is the first INVITE of a Call-ID on b1's "
                        "wire; failed: no 200 to the call's BYE. Calls up on b1 at the kill end well here "
                        "(SIPp on b2/b3 answers any BYE 200); with a real core node they are lost."),
        "checks": checks,
        "tables": [table],
        "plots": [{"title": "kill to the last new call at the dead node", "ylabel": "ms", "categories": cats,
                   "series": [{"label": "last new call", "values": [r["last_new_call_ms"] for r in rows]},
                              {"label": "node out", "values": [r["detected_ms"] for r in rows]}]},
                  {"title": "calls", "ylabel": "calls", "categories": cats,
                   "series": [{"label": "failed", "values": [r["failed"] for r in rows]},
                              {"label": "new calls at the dead node", "values": [r["new_calls_after_kill"] for r in rows]}]}],
    }
    Path(sys.argv[2]).write_text(json.dumps(result, indent=1) + "\n")
    for r in rows:
        print(json.dumps(r), file=sys.stderr)


if __name__ == "__main__":
    main()
