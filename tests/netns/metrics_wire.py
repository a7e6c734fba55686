#!/usr/bin/env python3
"""For siphond_pools_check.sh: siphond's /metrics against the wire.

  metrics_wire.py scrape < METRICS_TEXT
      the node series summed: {"forwarded": {node: n}, "requests": {method: n},
      "responses": {class: n}} (every fast path, pool and lane)
  metrics_wire.py wire FROM TO VIP[,VIP...] NODE=FILE...
      what siphon forwarded to each node in [FROM, TO) by its capture (the
      JSON lines of sip_pcap.py): messages to a VIP on the node's link (DSR:
      siphon rewrites the MACs only; siphond's probes go to the node's own
      address). {"per_node": {node: n}, "requests": {method: n},
      "responses": n, "indialog": {node: ACK+BYE}}
"""
import json
import re
import sys

METHODS = ("INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER")
SERIES = re.compile(r'^(siphon_node_(?:forwarded_packets|requests|responses)_total)\{([^}]*)\} (\S+)$')


def labels(text):
    return dict(re.findall(r'([a-z_]+)="((?:[^"\\]|\\.)*)"', text))


def scrape():
    out = {"forwarded": {}, "requests": {}, "responses": {}}
    for line in sys.stdin:
        m = SERIES.match(line.strip())
        if not m:
            continue
        name, lab, value = m.group(1), labels(m.group(2)), int(float(m.group(3)))
        if name.endswith("forwarded_packets_total"):
            key, d = lab["node"], out["forwarded"]
        elif name.endswith("requests_total"):
            key, d = lab["method"], out["requests"]
        else:
            key, d = lab["class"], out["responses"]
        d[key] = d.get(key, 0) + value
    print(json.dumps(out, sort_keys=True))


def wire(t_from, t_to, vips, files):
    out = {"per_node": {}, "requests": {}, "responses": 0, "indialog": {}}
    for spec in files:
        node, path = spec.split("=", 1)
        out["per_node"][node] = 0
        out["indialog"][node] = 0
        for line in open(path):
            m = json.loads(line)
            if not (t_from <= m["t"] < t_to) or m["dst"].rsplit(":", 1)[0] not in vips:
                continue
            out["per_node"][node] += 1
            first = m["first"]
            if first.startswith("SIP/2.0 "):
                out["responses"] += 1
                continue
            method = first.split(" ", 1)[0]
            method = method if method in METHODS else "other"
            out["requests"][method] = out["requests"].get(method, 0) + 1
            if method in ("ACK", "BYE"):
                out["indialog"][node] += 1
    print(json.dumps(out, sort_keys=True))


def main():
    if sys.argv[1] == "scrape":
        scrape()
    else:
        wire(float(sys.argv[2]), float(sys.argv[3]),
             set(v.strip("[]") for v in sys.argv[4].split(",")), sys.argv[5:])


if __name__ == "__main__":
    main()
