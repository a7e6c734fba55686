#!/usr/bin/python3
"""Suite netns: frames the balancer must count or hand to the kernel,
sent from sph-caller on a raw socket (AF_PACKET), every one addressed
to siphon's interface (docs/testing.md, tests/netns/siphon_check.sh).

  send_frames.py IFACE SRC_MAC DST_MAC SRC4 VIP4 KIND COUNT

KIND: bad_ip_header | truncated_udp | not_sip | scanner_net_options |
      udp_other_port. Addresses are the lab's (198.18.0.0/15)."""
import socket
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from packets import eth, ip4, udp4  # noqa: E402


def options(src, vip, n):
    return ("OPTIONS sip:%s:5060 SIP/2.0\r\n"
            "Via: SIP/2.0/UDP %s:5070;branch=z9hG4bK-scan-%d\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:100@%s>;tag=scan%d\r\n"
            "To: <sip:100@%s>\r\n"
            "Call-ID: scan-%d@%s\r\n"
            "CSeq: 1 OPTIONS\r\n"
            "Content-Length: 0\r\n\r\n" % (vip, src, n, src, n, vip, n, src)).encode()


def frame(kind, src_text, vip_text, n):
    src, vip = socket.inet_aton(src_text), socket.inet_aton(vip_text)
    if kind == "bad_ip_header":  # IHL 3: shorter than an IPv4 header
        return ip4(src, vip, 17, udp4(src, vip, 5070, 5060, b"x" * 20), ihl=3)
    if kind == "truncated_udp":  # IP says 60 bytes more than there are
        p = udp4(src, vip, 5070, 5060, options(src_text, vip_text, n))
        return ip4(src, vip, 17, p, total=20 + len(p) + 60)
    if kind == "not_sip":
        return ip4(src, vip, 17, udp4(src, vip, 5070, 5060, b"HELLO %d\r\n\r\n" % n))
    if kind == "scanner_net_options":
        return ip4(src, vip, 17, udp4(src, vip, 5070, 5060, options(src_text, vip_text, n)))
    if kind == "udp_other_port":
        return ip4(src, vip, 17, udp4(src, vip, 5070, 9, b"discard me"))
    raise SystemExit("unknown kind " + kind)


def main():
    if len(sys.argv) != 8:
        raise SystemExit(__doc__)
    iface, smac, dmac, src, vip, kind, count = sys.argv[1:]
    dst_mac, src_mac = (bytes.fromhex(m.replace(":", "")) for m in (dmac, smac))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    for n in range(int(count)):
        s.send(eth(dst_mac, src_mac, frame(kind, src, vip, n)))


if __name__ == "__main__":
    main()
