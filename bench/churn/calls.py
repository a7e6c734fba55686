#!/usr/bin/python3
"""bench/churn/calls.py LANE CALLER_MSGS "LABEL=EPOCH"... -- NODE=WIRE...:
the calls of one bench/churn/run lane, sorted out; one JSON line.

A call is broken when it failed (no 200 to its BYE: the caller's SIPp
message log) or when an ACK or BYE of it reached a node other than the one
its first INVITE reached, or none reached that node (the nodes' wire,
tests/netns/sip_pcap.py lines). Each broken call is put on the last change
(LABEL at EPOCH) before its last BYE on the wire (or, with none, before
the last message the caller sent); a call is "up across" a change when its
first INVITE came before it and its last BYE after."""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "netns"))
from sipp_calls import caller_calls, wire_requests  # noqa: E402


def main():
    args = sys.argv[1:]
    sep = args.index("--")
    lane, msgs, changes = args[0], args[1], [a.rsplit("=", 1) for a in args[2:sep]]
    changes = [(label, float(t)) for label, t in changes]
    wires = dict(a.split("=", 1) for a in args[sep + 1:])
    calls = caller_calls(msgs)
    seen = {}  # Call-ID -> method -> [(time, node)]
    for node, path in sorted(wires.items()):
        for t, method, cid in wire_requests(path):
            if cid in calls:
                seen.setdefault(cid, {}).setdefault(method, []).append((t, node))
    per_change = {label: {"broken": 0, "up_across": 0, "failed": 0, "wrong_node": 0} for label, _ in changes}
    per_change["no change"] = {"broken": 0, "up_across": 0, "failed": 0, "wrong_node": 0}
    broken, failed, wrong, examples = 0, 0, 0, []
    for cid, c in calls.items():
        s = seen.get(cid, {})
        inv = min(s["INVITE"]) if s.get("INVITE") else None
        dialog = s.get("ACK", []) + s.get("BYE", [])
        at_wrong = inv is not None and any(n != inv[1] for _, n in dialog)
        missing = inv is None or not any(n == inv[1] for _, n in s.get("ACK", [])) or \
            not any(n == inv[1] for _, n in s.get("BYE", []))
        end = max(s["BYE"])[0] if s.get("BYE") else (c["bye"] or c["invite"] or 0)
        start = inv[0] if inv else (c["invite"] or 0)
        for label, t in changes:
            if start < t <= end:
                per_change[label]["up_across"] += 1
        if not (not c["ok"] or at_wrong or missing):
            continue
        label = ([lb for lb, t in changes if t <= end] or ["no change"])[-1]
        per_change[label]["broken"] += 1
        broken += 1
        if not c["ok"]:
            per_change[label]["failed"] += 1
            failed += 1
        if at_wrong or missing:
            per_change[label]["wrong_node"] += 1
            wrong += 1
        if len(examples) < 5:
            examples.append({"call_id": cid, "invite": inv, "ack": s.get("ACK"), "bye": s.get("BYE"),
                             "ok": c["ok"]})
    invites = {}
    for cid, s in seen.items():
        if s.get("INVITE"):
            n = min(s["INVITE"])[1]
            invites[n] = invites.get(n, 0) + 1
    print(json.dumps({"lane": lane, "calls": len(calls), "broken": broken, "failed": failed,
                      "ack_or_bye_elsewhere": wrong, "per_change": per_change,
                      "changes": dict(changes), "invites_by_node": invites,
                      "not_at_any_node": sum(1 for c in calls if not seen.get(c, {}).get("INVITE")),
                      "broken_examples": examples}))


if __name__ == "__main__":
    main()
