#!/usr/bin/python3
"""bench/reorder/order.py LANE WIRE SENT: the calls of one bench/reorder/run
lane as the core segment received them (WIRE: tests/netns/sip_pcap.py
lines, capture order), against the order they were sent in (INVITE, ACK,
BYE: bench/reorder/burst.py); SENT, the messages the sender sent. One
JSON line: calls seen, calls whose messages arrived out of order (and per
10,000 calls), messages lost, calls split over two nodes."""
import json
import sys

from burst import ORDER


def main():
    lane, wire, sent = sys.argv[1], sys.argv[2], int(sys.argv[3])
    calls = {}  # Call-ID -> [(method, destination)] in arrival order
    for line in open(wire):
        m = json.loads(line)
        method = m["first"].split(" ", 1)[0]
        if method in ORDER:
            calls.setdefault(m["call_id"], []).append((ORDER.index(method), m["dst"]))
    reordered = swapped = split = 0
    for msgs in calls.values():
        idx = [i for i, _ in msgs]
        if idx != sorted(idx):
            reordered += 1
            swapped += sum(1 for a, b in zip(idx, idx[1:]) if a > b)
        if len({d for _, d in msgs}) > 1:
            split += 1
    expected_calls = sent // len(ORDER)
    received = sum(len(v) for v in calls.values())
    print(json.dumps({"lane": lane, "sent": sent, "calls_sent": expected_calls, "received": received,
                      "lost": sent - received, "calls_seen": len(calls),
                      "calls_incomplete": sum(1 for v in calls.values() if len(v) < len(ORDER)),
                      "reordered_calls": reordered, "inversions": swapped, "split_calls": split,
                      "reordered_per_10k": 1e4 * reordered / len(calls) if calls else None}))


if __name__ == "__main__":
    main()
