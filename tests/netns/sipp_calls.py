"""Shared by the siphond checks' call sorters (failover_calls.py,
reload_calls.py): the calls of the caller's SIPp message log, and the SIP
requests a core node received on the wire."""
import json


def caller_calls(path):
    """The caller's SIPp message log (-trace_shortmsg: date, time, epoch,
    direction, Call-ID, CSeq, first line), by Call-ID: "invite", the time
    its first INVITE was sent; "bye", its first BYE; "ok", whether a 200
    to its BYE came back; "ended", the time it did. A call failed when "ok"
    is false (SIPp's own count takes a retransmitted 200 to the INVITE for
    a failure too)."""
    calls = {}
    with open(path, errors="replace") as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) < 7:
                continue
            try:
                t = float(p[2])
            except ValueError:
                continue
            c = calls.setdefault(p[4], {"invite": None, "bye": None, "ok": False, "ended": None})
            for m in ("INVITE", "BYE"):
                if p[3] == "S" and p[-1].startswith(m + " ") and c[m.lower()] is None:
                    c[m.lower()] = t
            if p[3] == "R" and p[-1].startswith("SIP/2.0 200") and p[5].endswith("BYE"):
                c["ok"], c["ended"] = True, t
    return calls


def wire_requests(path):
    """The SIP requests in a node's wire file (sip_pcap.py lines), in
    order: (time, method, Call-ID). Responses are left out."""
    out = []
    with open(path) as f:
        for line in f:
            m = json.loads(line)
            if m["first"].startswith("SIP/"):
                continue
            out.append((m["t"], m["first"].split(" ", 1)[0], m["call_id"]))
    return out
