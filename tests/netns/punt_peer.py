#!/usr/bin/python3
"""Suite netns: both ends of the punt check (tests/netns/siphon_check.sh).

  punt_peer.py answer VIP SECONDS   in sph-lb: stands in for siphond on
      VIP:5060, answers every datagram with "SIP/2.0 200 punted", and exits
      after SECONDS
  punt_peer.py ask VIP SOURCE       in sph-caller: one OPTIONS to the
      balancer itself; prints the answer's first line (or nothing)"""
import socket
import sys
import time


def answer(vip, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((vip, 5060))
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        s.settimeout(max(0.1, end - time.monotonic()))
        try:
            data, peer = s.recvfrom(65535)
        except socket.timeout:
            continue
        s.sendto(b"SIP/2.0 200 punted\r\nContent-Length: 0\r\n\r\n", peer)


def ask(vip, source):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((source, 0))
    port = s.getsockname()[1]
    msg = ("OPTIONS sip:%s:5060 SIP/2.0\r\n"
           "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-punt-%d\r\n"
           "Max-Forwards: 70\r\n"
           "From: <sip:probe@%s>;tag=p%d\r\n"
           "To: <sip:%s>\r\n"
           "Call-ID: punt-%d@%s\r\n"
           "CSeq: 1 OPTIONS\r\n"
           "Content-Length: 0\r\n\r\n" % (vip, source, port, port, source, port, vip, port, source))
    s.settimeout(2)
    for _ in range(3):
        s.sendto(msg.encode(), (vip, 5060))
        try:
            print(s.recv(65535).decode(errors="replace").split("\r\n", 1)[0])
            return
        except OSError:
            continue


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "answer":
        answer(sys.argv[2], float(sys.argv[3]))
    elif len(sys.argv) == 4 and sys.argv[1] == "ask":
        ask(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit(__doc__)
