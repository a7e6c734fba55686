#!/usr/bin/python3
"""bench/churn/results.py RESULTS REPORT_JSON [GRACE_S]: bench/churn/run's
lanes (one JSON line each, from bench/churn/calls.py) as bench/report.py's
input: calls broken per change, siphon against Kamailio. "b3 out" is the
remove (with the drain before it, for siphon-drain), "b3 back" the add.
GRACE_S: siphon's grace_s in the run (default 8); the times between the
changes come from the lanes' own lines."""
import json
import sys
from pathlib import Path

NAMES = {"siphon": "siphon, node remove / add",
         "siphon-drain": "siphon, node drain, remove / add",
         "kamailio": "Kamailio dispatcher (hash over the set), reload"}
STEPS = {"b3 out": ("drain b3", "remove b3"), "b3 back": ("add b3",)}


def per_step(r, step, key="broken"):
    return sum(r["per_change"][c][key] for c in STEPS[step] if c in r["per_change"])


def spacing(rows, a, b):
    """whole seconds from change a to change b in the first lane that made both, or None"""
    for r in rows:
        t = r.get("changes", {})
        if a in t and b in t:
            return round(t[b] - t[a])
    return None


def main():
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    grace = int(sys.argv[3]) if len(sys.argv) > 3 else 8
    back = spacing(rows, "remove b3", "add b3")
    drain = spacing(rows, "drain b3", "remove b3")
    kam = next((r for r in rows if r["lane"] == "kamailio"), None)
    changes = [c for c in ("drain b3", "remove b3", "add b3", "no change")
               if any(c in r["per_change"] for r in rows)]
    checks = []
    for r in rows:
        for step in STEPS:
            c = {"what": "%s: calls broken, %s" % (NAMES[r["lane"]], step),
                 "value": per_step(r, step), "unit": "calls", "format": "d"}
            if kam and r is not kam:
                c.update(baseline=per_step(kam, step), baseline_name="Kamailio")
            checks.append(c)
    cols = [("lane", None), ("calls", "d"), ("broken", "d"), ("of them failed", "d"),
            ("of them ACK or BYE away from the INVITE's node", "d")]
    for label in changes:
        cols += [("%s: broken" % label, "d"), ("%s: calls up across it" % label, "d")]
    cols += [("INVITEs by node", None)]
    table_rows = []
    for r in rows:
        row = [NAMES[r["lane"]], r["calls"], r["broken"], r["failed"], r["ack_or_bye_elsewhere"]]
        for label in changes:
            pc = r["per_change"].get(label)
            row += [pc["broken"], pc["up_across"]] if pc else [None, None]
        row.append(", ".join("%s %d" % kv for kv in sorted(r["invites_by_node"].items())))
        table_rows.append(row)
    result = {
        "name": "churn",
        "title": "calls broken per pool change, siphon against Kamailio",
        "description": (f"b3 taken out of the pool and added back {back} s later under SIPp calls of 2 s at "
                        f"50/s. siphon (siphond, grace_s {grace}): `siphonctl node remove` / `node add`"
                        + (f", and `node drain` {drain} s before the remove" if drain is not None else "")
                        + "; Kamailio: dispatcher.list rewritten and "
                        "`kamcmd dispatcher.reload` (ds_select_dst algorithm 0, a hash of the Call-ID over "
                        "the set). Broken: the call failed (no 200 to its BYE), or its ACK or BYE reached "
                        "a node other than its INVITE's, or none reached that node; counted on the nodes' "
                        "wire and put on the last change before its BYE. SIPp answers a BYE it does not "
                        "know 200: the caller's own count misses these."),
        "checks": checks,
        "tables": [{"title": "b3 taken out, then added back, under 50 calls/s of 2 s calls",
                    "columns": [dict({"title": t}, **({"format": f} if f else {})) for t, f in cols],
                    "rows": table_rows}],
        "plots": [{"title": "calls broken per change", "ylabel": "calls", "categories": list(STEPS),
                   "series": [{"label": NAMES[r["lane"]], "values": [per_step(r, s) for s in STEPS]}
                              for r in rows]},
                  {"title": "calls up across the change", "ylabel": "calls", "categories": list(STEPS),
                   "series": [{"label": NAMES[r["lane"]],
                               "values": [r["per_change"][STEPS[s][-1]]["up_across"] for s in STEPS]}
                              for r in rows]}],
    }
    Path(sys.argv[2]).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
