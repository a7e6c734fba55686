#!/usr/bin/python3
"""bench/churn/results.py RESULTS REPORT_JSON: bench/churn/run's lanes (one
JSON line each, from bench/churn/calls.py) as bench/report.py's input:
calls broken per change, siphon against Kamailio."""
import json
import sys
from pathlib import Path

NAMES = {"siphon": "siphon (Maglev, previous table, grace register)",
         "kamailio": "Kamailio dispatcher (hash over the set)"}


def main():
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    by = {r["lane"]: r for r in rows}
    changes = list(rows[0]["changes"]) if rows else []
    kam = by.get("kamailio")
    checks = []
    for label in changes:
        for r in rows:
            if r["lane"] == "kamailio":
                continue
            c = {"what": "siphon: calls broken by the change '%s'" % label,
                 "value": r["per_change"][label]["broken"], "unit": "calls", "format": "d"}
            if kam:
                c.update(baseline=kam["per_change"][label]["broken"], baseline_name="Kamailio")
            checks.append(c)
    if kam:
        for label in changes:
            checks.append({"what": "Kamailio: calls broken by the change '%s'" % label,
                           "value": kam["per_change"][label]["broken"], "unit": "calls", "format": "d"})
    cols = [("lane", None), ("calls", "d"), ("broken", "d"), ("of them failed", "d"),
            ("of them ACK or BYE away from the INVITE's node", "d")]
    for label in changes + ["no change"]:
        cols += [("%s: broken" % label, "d"), ("%s: calls up across it" % label, "d")]
    cols += [("INVITEs by node", None)]
    table_rows = []
    for r in rows:
        row = [NAMES[r["lane"]], r["calls"], r["broken"], r["failed"], r["ack_or_bye_elsewhere"]]
        for label in changes + ["no change"]:
            row += [r["per_change"][label]["broken"], r["per_change"][label]["up_across"]]
        row.append(", ".join("%s %d" % kv for kv in sorted(r["invites_by_node"].items())))
        table_rows.append(row)
    result = {
        "name": "churn",
        "title": "calls broken per pool change, siphon against Kamailio",
        "description": ("b3 removed from the pool and added back 10 s later under SIPp calls of 2 s at "
                        "50/s. siphon: `siphonctl node remove` / `node add` (siphond, grace_s 8); Kamailio: "
                        "dispatcher.list rewritten and `kamcmd dispatcher.reload` (ds_select_dst algorithm "
                        "0, a hash of the Call-ID over the set). Broken: the call failed (no 200 to its "
                        "BYE), or its ACK or BYE reached a node other than its INVITE's, or none reached "
                        "that node; counted on the nodes' wire and put on the last change before its BYE. "
                        "SIPp answers a BYE it does not know 200: the caller's own count misses most."),
        "checks": checks,
        "tables": [{"title": "b3 removed, then added back, under 50 calls/s of 2 s calls",
                    "columns": [dict({"title": t}, **({"format": f} if f else {})) for t, f in cols],
                    "rows": table_rows}],
        "plots": [{"title": "calls broken per change", "ylabel": "calls", "categories": changes,
                   "series": [{"label": r["lane"], "values": [r["per_change"][c]["broken"] for c in changes]}
                              for r in rows]},
                  {"title": "calls up across each change", "ylabel": "calls", "categories": changes,
                   "series": [{"label": r["lane"], "values": [r["per_change"][c]["up_across"] for c in changes]}
                              for r in rows]}],
    }
    Path(sys.argv[2]).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
