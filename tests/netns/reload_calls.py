#!/usr/bin/env python3
"""The calls of the reload-under-load test, sorted out
(tests/netns/siphond_reload_check.sh). Reads the caller's SIPp message log;
the node the reload adds; the times of the reload, of siphon's ack of it
and of the rejected reload; the node each Call-ID's INVITE gets from the
table before the reload and from the one after (files of "CALL-ID NODE"
lines, from `siphonctl explain --config`); each node's wire (sip_pcap.py
lines, NODE=FILE). Prints one JSON object."""
import json
import sys

from sipp_calls import caller_calls, wire_requests

caller_msgs, new = sys.argv[1], sys.argv[2]
t_reload, t_ack, t_invalid = (float(x) for x in sys.argv[3:6])


def owners(path):
    with open(path) as f:
        return dict(line.split() for line in f if line.strip())


old_table, new_table = owners(sys.argv[6]), owners(sys.argv[7])
wires = dict(a.split("=", 1) for a in sys.argv[8:])

calls = caller_calls(caller_msgs)
# Call-ID -> method -> [(time, node)], what the nodes received on the wire
seen = {}
for node, path in wires.items():
    for t, method, cid in wire_requests(path):
        if cid in calls:
            seen.setdefault(cid, {}).setdefault(method, []).append((t, node))


def first(cid, method):
    """(time, node) of the first METHOD of the call at a node, or None"""
    got = seen.get(cid, {}).get(method)
    return min(got) if got else None


def nodes_of(cid, method):
    return {n for _, n in seen.get(cid, {}).get(method, [])}


def span(t):
    return "before" if t < t_reload else "reload_to_ack" if t < t_ack else "after"


invites = {n: {"before": 0, "reload_to_ack": 0, "after": 0, "after_invalid": 0}
           for n in sorted(wires)}
owner = {}  # Call-ID -> the node its first INVITE reached
for cid in calls:
    f = first(cid, "INVITE")
    if f:
        owner[cid] = f[1]
        invites[f[1]][span(f[0])] += 1
        if f[0] >= t_invalid:  # a part of "after"
            invites[f[1]]["after_invalid"] += 1

failed = sorted(c for c, v in calls.items() if not v["ok"])
ack_lost = sorted(c for c in owner if owner[c] not in nodes_of(c, "ACK"))
bye_lost = sorted(c for c in owner if owner[c] not in nodes_of(c, "BYE"))
# an ACK or BYE (or an INVITE retransmission) at a node that is not the owner
split = sorted(c for c in owner
               if any(nodes_of(c, m) - {owner[c]} for m in ("INVITE", "ACK", "BYE")))
broken = sorted(set(failed) | set(ack_lost) | set(bye_lost) | set(split))


def kept(cids):  # every message of the call at its INVITE's node
    return [c for c in cids if c in owner and c not in broken]


def up_across(cids, t0, t1):  # the caller sent the INVITE before t0, the BYE after t1
    return [c for c in cids if calls[c]["invite"] is not None and calls[c]["invite"] < t0
            and calls[c]["bye"] is not None and calls[c]["bye"] >= t1]


def followed_previous(c):
    """Set up after the reload at the node the new table names, its ACK and
    BYE at the one the table before the reload names: the in-dialog
    requests of a call without nid, dispatched by the previous table kept
    for grace_s (docs/siphond.md "Figures")."""
    f, was = first(c, "INVITE"), old_table.get(c)
    indialog = nodes_of(c, "ACK") | nodes_of(c, "BYE")
    return (f is not None and f[0] >= t_reload and f[1] == new_table.get(c)
            and was not in (None, f[1]) and indialog == {was})


old = [c for c in owner if owner[c] != new]
new_calls = [c for c in owner if owner[c] == new]
across = up_across(old, t_reload, t_ack)
across_invalid_old = up_across(old, t_invalid, t_invalid)
across_invalid_new = up_across(new_calls, t_invalid, t_invalid)
# calls set up after the ack on a slot the reload moved between two old nodes
moved_between_old = [c for c in old if first(c, "INVITE")[0] >= t_ack
                     and old_table.get(c) not in (None, new_table.get(c))]
# the INVITEs where the tables say (siphonctl explain on the same configs)
set_up_before = [c for c in owner if first(c, "INVITE")[0] < t_reload]
set_up_after = [c for c in owner if first(c, "INVITE")[0] >= t_ack]
prev_new = [c for c in broken if followed_previous(c) and owner[c] == new]
prev_old = [c for c in broken if followed_previous(c) and owner[c] != new]
other = [c for c in broken if not followed_previous(c)]


def where(cids, method):  # the nodes the METHOD of these calls reached
    out = {}
    for c in cids:
        for n in sorted(nodes_of(c, method)) or ["none"]:
            out[n] = out.get(n, 0) + 1
    return dict(sorted(out.items()))


print(json.dumps({
    "calls": len(calls),
    # failed: no 200 to the BYE (SIPp's own count takes a retransmitted 200
    # to the INVITE for one too)
    "failed": len(failed),
    "invites_by_node": invites,
    "calls_not_at_any_node": sum(1 for c in calls if c not in owner),
    "invites_before_reload": len(set_up_before),
    "invites_before_reload_as_table": sum(owner[c] == old_table.get(c) for c in set_up_before),
    "invites_after_ack": len(set_up_after),
    "invites_after_ack_as_table": sum(owner[c] == new_table.get(c) for c in set_up_after),
    "ack_lost": len(ack_lost),
    "bye_lost": len(bye_lost),
    "split_calls": len(split),
    "old_node_calls": len(old),
    "old_node_calls_kept": len(kept(old)),
    "calls_up_across_reload": len(across),
    "calls_up_across_reload_kept": len(kept(across)),
    # up across the rejected reload, on the old nodes and on the new one
    "calls_up_across_invalid_old": len(across_invalid_old),
    "calls_up_across_invalid_old_kept": len(kept(across_invalid_old)),
    "calls_up_across_invalid_new": len(across_invalid_new),
    "calls_up_across_invalid_new_kept": len(kept(across_invalid_new)),
    "new_node_calls": len(new_calls),
    "new_node_calls_kept": len(kept(new_calls)),
    "calls_moved_between_old_nodes": len(moved_between_old),
    # every call with anything wrong (failed, ACK or BYE lost, at two nodes)
    "broken": len(broken),
    "broken_failed": len([c for c in broken if c in failed]),
    # ... set up on the new node, ACK and BYE at the slot's owner before the reload
    "broken_previous_table_new_node": len(prev_new),
    "broken_previous_table_new_node_ack_at": where(prev_new, "ACK"),
    "broken_previous_table_new_node_bye_at": where(prev_new, "BYE"),
    # ... the same on a slot Maglev moved between two old nodes
    "broken_previous_table_old_nodes": len(prev_old),
    "broken_previous_table_old_nodes_examples": [
        {"call_id": c, "invite_at": owner[c], "ack_bye_at": old_table[c]} for c in prev_old[:5]],
    # ... anything else
    "broken_other": len(other),
    "broken_other_examples": [
        {"call_id": c, "failed": c in failed, "invite_at": owner.get(c),
         "ack_at": sorted(nodes_of(c, "ACK")), "bye_at": sorted(nodes_of(c, "BYE")),
         "table_before": old_table.get(c), "table_after": new_table.get(c)} for c in other[:5]],
}))
