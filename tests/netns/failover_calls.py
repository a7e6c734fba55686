#!/usr/bin/env python3
"""The calls of the kill-a-node test, sorted out (tests/netns/siphond_failover_check.sh).
Reads the caller's SIPp message log (-trace_shortmsg: date, time, epoch,
direction, Call-ID, CSeq, first line) and the dead node's wire (sip_pcap.py
lines), and the times: the kill, the table without the node acknowledged by
siphon, the restart, the node active again. Prints one JSON object."""
import json
import sys

from sipp_calls import caller_calls, wire_requests

caller_msgs, node_wire = sys.argv[1], sys.argv[2]
t_kill, t_out, t_restart, t_active = (float(x) for x in sys.argv[3:7])

calls = caller_calls(caller_msgs)
node_invites = {}  # Call-ID -> times INVITEs reached the dead node
for t, method, cid in wire_requests(node_wire):
    if method == "INVITE":
        node_invites.setdefault(cid, []).append(t)

failed = sorted(c for c, v in calls.items() if not v["ok"])
first = {c: min(ts) for c, ts in node_invites.items()}
up_at_kill = [c for c in failed if c in first and first[c] < t_kill]
before_out = [c for c in failed if c in first and t_kill <= first[c] < t_out]
after_return = [c for c in failed if c in first and first[c] >= t_restart]
elsewhere = [c for c in failed if c not in up_at_kill + before_out + after_return]
all_invites = sorted(t for ts in node_invites.values() for t in ts)
print(json.dumps({
    "calls": len(calls),
    # failed: no 200 to the BYE (SIPp's own count takes a retransmitted 200
    # to the INVITE for it)
    "failed": len(failed),
    "failed_up_on_dead_node": len(up_at_kill),
    "failed_sent_to_it_before_out": len(before_out),
    "failed_taken_by_it_after_return": len(after_return),
    "failed_elsewhere": len(elsewhere),
    "failed_elsewhere_examples": elsewhere[:5],
    # set up there before the kill and not yet ended by then
    "calls_up_on_dead_node_at_kill": sum(
        1 for c, t in first.items() if t < t_kill and c in calls and
        (calls[c]["ended"] is None or calls[c]["ended"] > t_kill)),
    "calls_taken_by_it_after_return": sum(1 for c, t in first.items() if t >= t_restart),
    "invites_to_it_kill_to_out": sum(1 for t in all_invites if t_kill <= t < t_out),
    "invites_to_it_while_out": sum(1 for t in all_invites if t_out <= t < t_restart),
    "invites_to_it_after_active": sum(1 for t in all_invites if t >= t_active),
}))
