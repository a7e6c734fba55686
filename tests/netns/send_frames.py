#!/usr/bin/python3
"""Suite netns: frames the balancer must count or hand to the kernel,
sent from sph-caller on a raw socket (AF_PACKET), every one addressed
to siphon's interface (docs/testing.md, tests/netns/siphon_check.sh).

  send_frames.py IFACE SRC_MAC DST_MAC SRC4 VIP4 KIND COUNT

KIND: bad_ip_header | truncated_udp | not_sip | scanner_net_options |
      udp_other_port. Addresses are the lab's (198.18.0.0/15)."""
import socket
import struct
import sys


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, proto, payload, ihl=5, total=None):
    total = 20 + len(payload) if total is None else total
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, total, 1, 0, 64, proto, 0,
                      socket.inet_aton(src), socket.inet_aton(dst))
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload


def udp(src, dst, sport, dport, body):
    length = 8 + len(body)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 17, length)
    hdr = struct.pack("!HHHH", sport, dport, length, 0)
    c = csum(pseudo + hdr + body) or 0xFFFF
    return struct.pack("!HHHH", sport, dport, length, c) + body


def options(src, vip, n):
    return ("OPTIONS sip:%s:5060 SIP/2.0\r\n"
            "Via: SIP/2.0/UDP %s:5070;branch=z9hG4bK-scan-%d\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:100@%s>;tag=scan%d\r\n"
            "To: <sip:100@%s>\r\n"
            "Call-ID: scan-%d@%s\r\n"
            "CSeq: 1 OPTIONS\r\n"
            "Content-Length: 0\r\n\r\n" % (vip, src, n, src, n, vip, n, src)).encode()


def frame(kind, src, vip, n):
    if kind == "bad_ip_header":  # IHL 3: shorter than an IPv4 header
        return ipv4(src, vip, 17, udp(src, vip, 5070, 5060, b"x" * 20), ihl=3)
    if kind == "truncated_udp":  # IP says 60 bytes more than there are
        p = udp(src, vip, 5070, 5060, options(src, vip, n))
        return ipv4(src, vip, 17, p, total=20 + len(p) + 60)
    if kind == "not_sip":
        return ipv4(src, vip, 17, udp(src, vip, 5070, 5060, b"HELLO %d\r\n\r\n" % n))
    if kind == "scanner_net_options":
        return ipv4(src, vip, 17, udp(src, vip, 5070, 5060, options(src, vip, n)))
    if kind == "udp_other_port":
        return ipv4(src, vip, 17, udp(src, vip, 5070, 9, b"discard me"))
    raise SystemExit("unknown kind " + kind)


def main():
    if len(sys.argv) != 8:
        raise SystemExit(__doc__)
    iface, smac, dmac, src, vip, kind, count = sys.argv[1:]
    eth = bytes.fromhex(dmac.replace(":", "")) + bytes.fromhex(smac.replace(":", "")) + b"\x08\x00"
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    for n in range(int(count)):
        s.send(eth + frame(kind, src, vip, n))


if __name__ == "__main__":
    main()
