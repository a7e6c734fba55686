#!/usr/bin/python3
"""Suite netns: a flood of spoofed first fragments with legitimate
fragmented INVITEs in the middle of it (tests/netns/frag_flood_check.sh,
docs/fragments.md), sent from sph-caller on a raw socket (AF_PACKET): the
caller's IP stack never sees them, so nothing reassembles them before
siphon's XDP program.

  frag_flood.py IFACE SRC_MAC DST_MAC CALLER4 VIP4 REPORT.json
                [--pps N] [--seconds S] [--first N] [--reasm N] [--pcap FILE]

The flood: --pps first fragments a second for --seconds (bounded: pps x
seconds frames), each an IPv4 first fragment (MF set, offset 0) of a UDP
datagram to VIP:5060 whose SIP header block does not end in it, so siphon
must hold it for reassembly, and its later fragments never come. The first
30 % come from four heavy sources in turn (198.19.200.1-4: each reaches
its per-source bound), the rest each from a source of its own
(198.19.0.0/17: they fill the table).

The legitimate INVITEs (from CALLER4, spread over the flood): --first
INVITEs whose header block is all in the first fragment (decided at once),
and --reasm INVITEs whose Call-ID comes after 1,600 bytes of headers, so
they must be reassembled; each about 3.6 KB, three fragments of at most
1,500 bytes of IP, 3 ms apart. Call-IDs fragflood-first-N and
fragflood-reasm-N; the report names them.

--pcap FILE writes the same frames, 500 us apart, to FILE instead of
sending them (to check them with siphon --io pcap)."""
import argparse
import json
import socket
import struct
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from packets import eth, ip4, udp4  # noqa: E402

MF = 0x2000
IP_DATA_MAX = 1480  # the lab's MTU (1500) less the IPv4 header: a multiple of 8
HEAVY = ["198.19.200.%d" % i for i in range(1, 5)]


def fragments(src, dst, ident, udp):
    """The IPv4 fragments of one UDP datagram (header included), in order."""
    out, off = [], 0
    while off < len(udp):
        chunk = udp[off:off + IP_DATA_MAX]
        more = MF if off + len(chunk) < len(udp) else 0
        out.append(ip4(src, dst, 17, chunk, ident=ident, flags=more | (off // 8)))
        off += len(chunk)
    return out


def sdp(n_bytes, tag):
    lines = ["v=0", "o=alice 2890844526 2890844526 IN IP4 198.18.1.2", "s=fragflood %s" % tag,
             "c=IN IP4 198.18.1.2", "t=0 0", "m=audio 49170 RTP/AVP 0 8 101",
             "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000", "a=rtpmap:101 telephone-event/8000"]
    body = "\r\n".join(lines) + "\r\n"
    i = 0
    while len(body) < n_bytes:
        body += "a=x-fill:%04d %s\r\n" % (i, "0123456789abcdef" * 4)
        i += 1
    return body.encode()


def invite(caller, vip, callid, n, filler_bytes, body_bytes):
    """An INVITE; filler_bytes of X-Fill headers come before the Call-ID."""
    body = sdp(body_bytes, callid)
    head = ["INVITE sip:bob@lab.siphon.test SIP/2.0",
            "Via: SIP/2.0/UDP %s:5070;branch=z9hG4bK-ff-%d" % (caller, n),
            "Max-Forwards: 70", "From: <sip:alice@%s>;tag=ff%d" % (caller, n),
            "To: <sip:bob@lab.siphon.test>"]
    i = 0
    while sum(len(h) + 2 for h in head[5:]) < filler_bytes:
        head.append("X-Fill-%02d: %s" % (i, "abcdefghijklmnopqrstuvwxyz0123456789" * 2))
        i += 1
    head += ["Call-ID: %s@%s" % (callid, caller), "CSeq: 1 INVITE",
             "Contact: <sip:alice@%s:5070>" % caller, "Content-Type: application/sdp",
             "Content-Length: %d" % len(body)]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def flood_fragment(k, heavy, vip):
    """Flood frame k: a first fragment of 256 bytes of IP data whose header
    block goes on past it (the datagram claims 1,400 bytes). The first
    `heavy` frames come from the heavy sources in turn."""
    if k < heavy:
        src_text, ident = HEAVY[k % 4], (k // 4) & 0xFFFF
    else:
        n = (k * 7919) % 32768  # a bijection on 0..32767: each its own source
        src_text, ident = "198.19.%d.%d" % (n >> 8, n & 0xFF), (k * 40503) & 0xFFFF
    src = socket.inet_aton(src_text)
    text = ("INVITE sip:flood@198.18.0.10 SIP/2.0\r\n"
            "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK-fl-%d\r\n"
            "From: <sip:x@%s>;tag=fl%d\r\nTo: <sip:y@198.18.0.10>\r\nX-Pad: " % (src_text, k, src_text, k))
    payload = (text + "p" * (1392 - len(text))).encode()
    udp = udp4(src, vip, 5060, 5060, payload)
    return ip4(src, vip, 17, udp[:256], ident=ident, flags=MF)


def schedule(args, caller, vip):
    """(time, kind, ip packet) in sending order; kind 'flood' or 'legit'."""
    total = int(args.pps * args.seconds)
    heavy = int(total * 0.3)
    ev = [(k / args.pps, "flood", flood_fragment(k, heavy, vip)) for k in range(total)]
    n_legit = args.first + args.reasm
    names = {"first": [], "reasm": []}
    for i in range(n_legit):
        # one in three must be reassembled (while there are some to send)
        kind = "reasm" if (i % 3 == 2 and len(names["reasm"]) < args.reasm) or \
            len(names["first"]) >= args.first else "first"
        callid = "fragflood-%s-%d" % (kind, len(names[kind]))
        names[kind].append(callid)
        if kind == "first":
            msg = invite(args.caller, args.vip, callid, i, 0, 3200)
        else:
            msg = invite(args.caller, args.vip, callid, i, 1600, 1600)
        frags = fragments(caller, vip, 0x4000 + i, udp4(caller, vip, 5070, 5060, msg))
        assert len(frags) == 3, (callid, len(msg))
        t0 = 1.0 + i * (args.seconds - 1.5) / max(n_legit - 1, 1)
        ev += [(t0 + 0.003 * j, "legit", f) for j, f in enumerate(frags)]
    ev.sort(key=lambda e: e[0])
    return ev, names, total


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for a in ("iface", "src_mac", "dst_mac", "caller", "vip", "report"):
        ap.add_argument(a)
    ap.add_argument("--pps", type=int, default=2000)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--first", type=int, default=20)
    ap.add_argument("--reasm", type=int, default=10)
    ap.add_argument("--pcap")
    args = ap.parse_args()
    if not (1 <= args.pps <= 20000 and 1 <= args.seconds <= 30):
        raise SystemExit("bounded: --pps 1..20000, --seconds 1..30")
    caller, vip = socket.inet_aton(args.caller), socket.inet_aton(args.vip)
    dst_mac, src_mac = (bytes.fromhex(m.replace(":", "")) for m in (args.dst_mac, args.src_mac))
    ev, names, total = schedule(args, caller, vip)
    frames = [eth(dst_mac, src_mac, p) for _, _, p in ev]
    report = {"flood": total, "legit_frames": 3 * (args.first + args.reasm), "first": names["first"],
              "reasm": names["reasm"], "frames": len(frames)}
    if args.pcap:
        from packets import write_pcap
        write_pcap(Path(args.pcap), frames, step_us=500)
    else:
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        s.bind((args.iface, 0))
        start = time.monotonic()
        i, flood_t = 0, []
        while i < len(ev):
            now = time.monotonic() - start
            while i < len(ev) and ev[i][0] <= now:  # everything due, then a short sleep
                s.send(frames[i])
                if ev[i][1] == "flood":
                    flood_t.append(time.monotonic() - start)
                i += 1
            if i < len(ev):
                time.sleep(min(0.002, max(0.0, ev[i][0] - (time.monotonic() - start))))
        span = flood_t[-1] - flood_t[0] if len(flood_t) > 1 else 0.0
        report.update({"seconds": round(time.monotonic() - start, 3),
                       "flood_pps": round((len(flood_t) - 1) / span) if span else 0})
    Path(args.report).write_text(json.dumps(report))
    print("sent %d frames: %d flood first fragments%s, %d legitimate INVITEs (%d header block in the "
          "first fragment, %d to reassemble), 3 fragments each" %
          (len(frames), total, " at %d pps" % report["flood_pps"] if "flood_pps" in report else "",
           len(names["first"]) + len(names["reasm"]), len(names["first"]), len(names["reasm"])))


if __name__ == "__main__":
    main()
