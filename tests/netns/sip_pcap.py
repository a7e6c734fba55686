#!/usr/bin/env python3
"""SIP over UDP in a pcap (Ethernet, IPv4 or IPv6), one JSON line a message:
time, source, destination, first line, Call-ID. For the failover test:
what reached a core node on the wire, also after its SIPp died."""
import json
import socket
import struct
import sys


def frames(path):
    with open(path, "rb") as f:
        head = f.read(24)
        if len(head) < 24:
            return
        magic = struct.unpack("<I", head[:4])[0]
        endian, nano = {0xA1B2C3D4: ("<", False), 0xA1B23C4D: ("<", True),
                        0xD4C3B2A1: (">", False), 0x4D3CB2A1: (">", True)}[magic]
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                return
            sec, frac, incl, _ = struct.unpack(endian + "IIII", rec)
            data = f.read(incl)
            yield sec + frac / (1e9 if nano else 1e6), data


def udp_payload(frame):
    etype, off = struct.unpack("!H", frame[12:14])[0], 14
    if etype == 0x8100:  # one VLAN tag
        etype, off = struct.unpack("!H", frame[16:18])[0], 18
    if etype == 0x0800:
        ihl = (frame[off] & 0x0F) * 4
        if frame[off + 9] != 17:
            return None
        src, dst = socket.inet_ntop(socket.AF_INET, frame[off + 12:off + 16]), \
            socket.inet_ntop(socket.AF_INET, frame[off + 16:off + 20])
        off += ihl
    elif etype == 0x86DD:
        if frame[off + 6] != 17:  # no extension headers in the lab
            return None
        src, dst = socket.inet_ntop(socket.AF_INET6, frame[off + 8:off + 24]), \
            socket.inet_ntop(socket.AF_INET6, frame[off + 24:off + 40])
        off += 40
    else:
        return None
    sport, dport = struct.unpack("!HH", frame[off:off + 4])
    return src, sport, dst, dport, frame[off + 8:]


def main():
    for t, frame in frames(sys.argv[1]):
        u = udp_payload(frame)
        if not u:
            continue
        src, sport, dst, dport, body = u
        text = body.decode("utf-8", "replace")
        first, _, rest = text.partition("\r\n")
        cid = ""
        for line in rest.split("\r\n"):
            name, _, value = line.partition(":")
            if name.strip().lower() in ("call-id", "i"):
                cid = value.strip()
                break
            if not line:
                break
        print(json.dumps({"t": t, "src": "%s:%d" % (src, sport), "dst": "%s:%d" % (dst, dport),
                          "first": first, "call_id": cid}))


if __name__ == "__main__":
    main()
