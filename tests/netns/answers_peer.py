#!/usr/bin/python3
"""Suite netns: the sender of tests/netns/siphond_answers_check.sh, run in
the caller's namespace. One request from SRC (an ephemeral port) to
VIP:5060 over a plain UDP socket, up to 3 tries of 1 s; the answer is
read from that socket and checked. Prints how many times it sent the
request ("sent N time(s)") and what it saw; exits 1 with
"FAIL: ..." when the answer is not the one docs/answers.md describes.

  answers_peer.py options SRC VIP CODE REASON   OPTIONS to the balancer itself
  answers_peer.py stun SRC VIP                  a STUN binding request
  answers_peer.py invite SRC VIP RETRY_AFTER    an INVITE: 503, Retry-After (or "none")"""
import os
import re
import socket
import struct
import sys

COOKIE = 0x2112A442


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def host(a):
    return "[%s]" % a if ":" in a else a


def same_addr(a, b):
    fam = socket.AF_INET6 if ":" in a else socket.AF_INET
    try:
        return socket.inet_pton(fam, a) == socket.inet_pton(fam, b)
    except OSError:
        return False


def exchange(src, vip, payload):
    """(answer bytes, its source (addr, port), our port)."""
    fam = socket.AF_INET6 if ":" in src else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((src, 0))
    port = s.getsockname()[1]
    s.settimeout(1.0)
    data = payload(port) if callable(payload) else payload
    for tries in range(1, 4):
        s.sendto(data, (vip, 5060))
        try:
            got, frm = s.recvfrom(65536)
            print("sent %d time(s)" % tries)  # the check counts siphond's answers by it
            return got, frm[:2], port
        except socket.timeout:
            continue
    fail("no answer from %s:5060 to %s:%d after 3 tries" % (host(vip), host(src), port))


def check_source(frm, vip):
    if not same_addr(frm[0], vip) or frm[1] != 5060:
        fail("the answer came from %s:%d, not the VIP %s:5060" % (host(frm[0]), frm[1], host(vip)))


def parse_sip(got):
    """(status code, reason, [(name, value)]) of a response with no body."""
    text = got.decode("utf-8", "replace")
    head, sep, body = text.partition("\r\n\r\n")
    if not sep or body:
        fail("not a SIP response with an empty body: %r" % text)
    lines = head.split("\r\n")
    m = re.match(r"SIP/2\.0 (\d{3}) (.*)$", lines[0])
    if not m:
        fail("bad status line: %r" % lines[0])
    hdrs = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        hdrs.append((name.strip(), value.strip()))
    return int(m.group(1)), m.group(2), hdrs


def values(hdrs, name):
    return [v for n, v in hdrs if n.lower() == name.lower()]


def check_copied(req_hdrs, hdrs):
    """Via (every one, in order), From, Call-ID, CSeq copied; To with a tag."""
    for name in ("Via", "From", "Call-ID", "CSeq"):
        if values(hdrs, name) != values(req_hdrs, name):
            fail("%s: %r, the request had %r" % (name, values(hdrs, name), values(req_hdrs, name)))
    to = values(hdrs, "To")
    m = re.fullmatch(re.escape(values(req_hdrs, "To")[0]) + r";tag=([0-9a-f]{16})", to[0] if to else "")
    if len(to) != 1 or not m:
        fail("To: %r, want the request's %r with ;tag= and 16 hex digits" % (to, values(req_hdrs, "To")))
    return m.group(1)


def request(method, src, vip, port, cid, ruri):
    """The request's header list and bytes: two Vias, the top one our own
    address and port (so it is copied as it is: no received, no rport)."""
    h = [("Via", "SIP/2.0/UDP %s:%d;branch=z9hG4bK-ans-%d" % (host(src), port, port)),
         ("Via", "SIP/2.0/UDP 198.18.1.99:5060;branch=z9hG4bK-earlier"),
         ("Max-Forwards", "70"),
         ("From", "<sip:tester@%s>;tag=f%d" % (host(src), port)),
         ("To", "<%s>" % ruri),
         ("Call-ID", cid),
         ("CSeq", "%d %s" % (port % 1000 + 1, method)),
         ("Content-Length", "0")]
    text = "%s %s SIP/2.0\r\n" % (method, ruri) + "".join("%s: %s\r\n" % x for x in h) + "\r\n"
    return h, text.encode()


def options(src, vip, code, reason):
    built = {}

    def payload(port):
        built["h"], data = request("OPTIONS", src, vip, port, "ans-opt-%d@%s" % (port, host(src)),
                                   "sip:%s:5060" % host(vip))
        return data
    got, frm, port = exchange(src, vip, payload)
    c, r, hdrs = parse_sip(got)
    print("OPTIONS %s:%d -> %s:5060: '%d %s' from %s:%d; %s" % (
        host(src), port, host(vip), c, r, host(frm[0]), frm[1],
        "; ".join("%s: %s" % x for x in hdrs)))
    check_source(frm, vip)
    if (c, r) != (int(code), reason):
        fail("status '%d %s', want '%s %s'" % (c, r, code, reason))
    tag = check_copied(built["h"], hdrs)
    if values(hdrs, "Retry-After") or values(hdrs, "Content-Length") != ["0"]:
        fail("headers beyond the copied ones: %r" % hdrs)
    print("  ok: %s %s, To tag %s, Via x2, From, Call-ID, CSeq copied, from the VIP" % (code, reason, tag))


def invite(src, vip, retry_after):
    built = {}

    def payload(port):
        built["h"], data = request("INVITE", src, vip, port, "ans-inv-%d@%s" % (port, host(src)),
                                   "sip:bob@%s" % host(vip))
        return data
    got, frm, port = exchange(src, vip, payload)
    c, r, hdrs = parse_sip(got)
    print("INVITE %s:%d -> %s:5060: '%d %s' from %s:%d; Retry-After %s" % (
        host(src), port, host(vip), c, r, host(frm[0]), frm[1],
        values(hdrs, "Retry-After") or "none"))
    check_source(frm, vip)
    if (c, r) != (503, "Service Unavailable"):
        fail("status '%d %s', want '503 Service Unavailable'" % (c, r))
    check_copied(built["h"], hdrs)
    want = [] if retry_after == "none" else [retry_after]
    if values(hdrs, "Retry-After") != want:
        fail("Retry-After %r, want %r" % (values(hdrs, "Retry-After"), want))
    print("  ok: 503 Service Unavailable, Retry-After %s" % retry_after)


def stun(src, vip):
    txid = os.urandom(12)
    soft = b"siphon-test"  # one attribute (SOFTWARE), padded to 4
    attr = struct.pack(">HH", 0x8022, len(soft)) + soft + b"\0" * (-len(soft) % 4)
    req = struct.pack(">HHI", 0x0001, len(attr), COOKIE) + txid + attr
    got, frm, port = exchange(src, vip, req)
    if len(got) < 20:
        fail("a STUN answer of %d bytes" % len(got))
    typ, length, cookie = struct.unpack(">HHI", got[:8])
    mapped = None
    off = 20
    while off + 4 <= len(got):
        at, al = struct.unpack(">HH", got[off:off + 4])
        val = got[off + 4:off + 4 + al]
        if at == 0x0020 and len(val) >= 8:
            fam, xport = val[1], struct.unpack(">H", val[2:4])[0] ^ (COOKIE >> 16)
            key = struct.pack(">I", COOKIE) + (txid if fam == 2 else b"")
            raw = bytes(a ^ b for a, b in zip(val[4:], key))
            mapped = (socket.inet_ntop(socket.AF_INET6 if fam == 2 else socket.AF_INET, raw), xport)
        off += 4 + al + (-al % 4)
    print("STUN %s:%d -> %s:5060: type 0x%04x, %d bytes, transaction id %s, "
          "XOR-MAPPED-ADDRESS %s, from %s:%d" % (
              host(src), port, host(vip), typ, len(got),
              "same" if got[8:20] == txid else got[8:20].hex(),
              "%s:%d" % (host(mapped[0]), mapped[1]) if mapped else "none", host(frm[0]), frm[1]))
    check_source(frm, vip)
    if typ != 0x0101 or cookie != COOKIE or length != len(got) - 20:
        fail("not a binding success: type 0x%04x, cookie 0x%08x, length %d" % (typ, cookie, length))
    if got[8:20] != txid:
        fail("transaction id %s, sent %s" % (got[8:20].hex(), txid.hex()))
    if not mapped or not same_addr(mapped[0], src) or mapped[1] != port:
        fail("XOR-MAPPED-ADDRESS %r, want %s:%d" % (mapped, host(src), port))
    print("  ok: binding success, XOR-MAPPED-ADDRESS = the sender %s:%d" % (host(src), port))


if __name__ == "__main__":
    a = sys.argv[1:]
    if len(a) == 5 and a[0] == "options":
        options(*a[1:])
    elif len(a) == 3 and a[0] == "stun":
        stun(*a[1:])
    elif len(a) == 4 and a[0] == "invite":
        invite(*a[1:])
    else:
        raise SystemExit(__doc__)
