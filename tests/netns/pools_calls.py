#!/usr/bin/env python3
"""The calls of the pool-management test, sorted out
(tests/netns/siphond_pools_check.sh). Reads the caller's SIPp message log;
the node drained, removed and added again; the times of the drain, of
siphon's ack of it, of the removal, of the add and of its ack; each node's
wire (sip_pcap.py lines, NODE=FILE). Prints one JSON object."""
import json
import sys

from sipp_calls import caller_calls, wire_requests

caller_msgs, node = sys.argv[1], sys.argv[2]
t_drain, t_drain_ack, t_remove, t_add, t_add_ack = (float(x) for x in sys.argv[3:8])
wires = dict(a.split("=", 1) for a in sys.argv[8:])

calls = caller_calls(caller_msgs)
seen = {}  # Call-ID -> method -> [(time, node)] on the wire
invites_at_node = []  # every INVITE that reached `node`, retransmissions too
for n, path in wires.items():
    for t, method, cid in wire_requests(path):
        if n == node and method == "INVITE":
            invites_at_node.append(t)
        if cid in calls:
            seen.setdefault(cid, {}).setdefault(method, []).append((t, n))


def first(cid, method):
    got = seen.get(cid, {}).get(method)
    return min(got) if got else None


def nodes_of(cid, method):
    return {n for _, n in seen.get(cid, {}).get(method, [])}


owner = {c: first(c, "INVITE")[1] for c in calls if first(c, "INVITE")}
failed = sorted(c for c, v in calls.items() if not v["ok"])
ack_lost = sorted(c for c in owner if owner[c] not in nodes_of(c, "ACK"))
bye_lost = sorted(c for c in owner if owner[c] not in nodes_of(c, "BYE"))
split = sorted(c for c in owner
               if any(nodes_of(c, m) - {owner[c]} for m in ("INVITE", "ACK", "BYE")))
broken = sorted(set(failed) | set(ack_lost) | set(bye_lost) | set(split))


def kept(cids):
    return [c for c in cids if c not in broken]


def up_across(cids, t0, t1):  # INVITE sent before t0, BYE after t1
    return [c for c in cids if calls[c]["invite"] is not None and calls[c]["invite"] < t0
            and calls[c]["bye"] is not None and calls[c]["bye"] >= t1]


on_node = [c for c in owner if owner[c] == node]
others = [c for c in owner if owner[c] != node]
spans = {"before_drain": (0, t_drain), "drain_to_ack": (t_drain, t_drain_ack),
         "drained_or_out": (t_drain_ack, t_add), "add_to_ack": (t_add, t_add_ack),
         "after_add": (t_add_ack, float("inf"))}
by_owner = {}
for c in broken:
    by_owner[owner.get(c, "none")] = by_owner.get(owner.get(c, "none"), 0) + 1
across_drain = up_across(on_node, t_drain_ack, t_drain_ack)
print(json.dumps({
    "calls": len(calls),
    "failed": len(failed),  # no 200 to the BYE
    "calls_not_at_any_node": sum(1 for c in calls if c not in owner),
    "ack_lost": len(ack_lost),
    "bye_lost": len(bye_lost),
    "split_calls": len(split),
    "broken_by_node": by_owner,
    "broken_examples": [
        {"call_id": c, "failed": c in failed, "invite_at": owner.get(c),
         "invite": calls[c]["invite"], "ack_at": sorted(nodes_of(c, "ACK")),
         "bye_at": sorted(nodes_of(c, "BYE"))} for c in broken[:5]],
    # every INVITE at the node, by span (retransmissions too)
    "invites_at_node": {k: sum(1 for t in invites_at_node if a <= t < b)
                        for k, (a, b) in spans.items()},
    "calls_per_node": {n: sum(1 for c in owner if owner[c] == n) for n in sorted(wires)},
    # on the node and up when siphon acked the drain: their ACK and BYE
    # must still reach it (no nid in SIPp's calls: the previous table)
    "calls_up_across_drain": len(across_drain),
    "calls_up_across_drain_kept": len(kept(across_drain)),
    "indialog_at_node_after_drain_ack": sum(
        1 for c in on_node if first(c, "INVITE")[0] < t_drain_ack
        for m in ("ACK", "BYE") for t, n in seen[c].get(m, []) if n == node and t >= t_drain_ack),
    "calls_up_across_remove_on_others": len(up_across(others, t_remove, t_remove)),
    "calls_up_across_remove_on_others_kept": len(kept(up_across(others, t_remove, t_remove))),
    "calls_up_across_add_on_others": len(up_across(others, t_add, t_add_ack)),
    "calls_up_across_add_on_others_kept": len(kept(up_across(others, t_add, t_add_ack))),
    "calls_taken_after_add": sum(1 for c in on_node if first(c, "INVITE")[0] >= t_add),
    "calls_taken_after_add_kept": len(kept([c for c in on_node if first(c, "INVITE")[0] >= t_add])),
}))
