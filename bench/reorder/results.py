#!/usr/bin/python3
"""bench/reorder/results.py RESULTS REPORT_JSON: bench/reorder/run's lanes
(one JSON line each, from bench/reorder/order.py) as bench/report.py's
input: calls whose messages the balancer delivered out of order, per
10,000 calls, siphon against Kamailio."""
import json
import sys
from pathlib import Path

NAMES = {"kernel": "siphon, kernel lane (2 queues)", "afxdp": "siphon, AF_XDP lane (2 queues)",
         "kamailio": "Kamailio, 2 workers", "kamailio-4": "Kamailio, 4 workers"}


def main():
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    by = {r["lane"]: r for r in rows}
    kam = by.get("kamailio")
    checks = []
    for r in rows:
        c = {"what": NAMES[r["lane"]] + ": calls reordered per 10,000",
             "value": r["reordered_per_10k"], "unit": "calls", "format": ".1f"}
        if kam and not r["lane"].startswith("kamailio"):
            c.update(baseline=kam["reordered_per_10k"], baseline_name="Kamailio, 2 workers")
        checks.append(c)
    cols = [("lane", None), ("messages sent", "d"), ("received", "d"), ("lost", "d"),
            ("capture dropped", "d"), ("calls seen", "d"), ("calls incomplete", "d"),
            ("calls reordered", "d"), ("per 10,000 calls", ".1f"), ("inversions", "d"),
            ("calls split over nodes", "d")]
    table_rows = [[NAMES[r["lane"]], r["sent"], r["received"], r["lost"], r["capture_dropped"],
                   r["calls_seen"], r["calls_incomplete"], r["reordered_calls"], r["reordered_per_10k"],
                   r["inversions"], r["split_calls"]] for r in rows]
    result = {
        "name": "reorder",
        "title": "messages of one call delivered out of order, siphon against Kamailio",
        "description": ("Each call's INVITE, ACK and BYE (rising CSeq) sent back to back from one socket "
                        "through the balancer (bench-blast-send); the core switch's port toward the "
                        "balancer captured in arrival order, the nodes' ports down (nothing answers). "
                        "A call is reordered when its messages arrived in another order than sent; "
                        "per 10,000 of the calls seen at the switch. siphon's target is 0 (docs/design.md: packets "
                        "of one flow are never reordered), Kamailio's workers read one socket. One sending socket is one flow: the veth puts it on "
                        "one of siphon's 2 queues, so this run does not spread a call over siphon's queues."),
        "checks": checks,
        "tables": [{"title": "bursts of INVITE, ACK, BYE through the balancer",
                    "columns": [dict({"title": t}, **({"format": f} if f else {})) for t, f in cols],
                    "rows": table_rows}],
        "plots": [{"title": "calls reordered per 10,000", "ylabel": "calls",
                   "categories": [NAMES[r["lane"]] for r in rows],
                   "series": [{"label": "reordered", "values": [r["reordered_per_10k"] for r in rows]}]}],
    }
    Path(sys.argv[2]).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
