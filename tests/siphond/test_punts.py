"""siphond answers punted messages (docs/answers.md "In siphond"), on the
wire, as root in a private network namespace (no lab): the balancer's
addresses and a few client addresses on lo, siphond with edge.conf's
route, UDP clients bound to addresses inside and outside TRUSTED."""
import ctypes
import json
import os
import re
import signal
import socket
import struct
import subprocess

import pytest
from waiting import wait_for

SIPHOND = os.environ["SIPHOND"]
SIPHONCTL = os.environ["SIPHONCTL"]
SOURCE = os.environ["SIPHON_SOURCE"]

VIP4, VIP6 = "198.51.100.10", "2001:db8:10::10"
IN4, OUT4 = "198.51.100.5", "203.0.113.7"       # inside / outside INTERNALLY_SOURCED
IN6, OUT6 = "2001:db8:5::7", "2001:db8:99::7"
NODE4 = "198.51.100.21"                          # core node b1
CLONE_NEWNET = 0x40000000
EDGE = open(os.path.join(SOURCE, "docs/examples/edge.conf")).read()

if os.geteuid() != 0:
    pytest.skip("needs root (a private network namespace)", allow_module_level=True)


def setup_module():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        pytest.skip("unshare(CLONE_NEWNET): errno %d" % ctypes.get_errno())
    cmds = [["ip", "link", "set", "lo", "up"]]
    cmds += [["ip", "addr", "add", a + "/32", "dev", "lo"] for a in (VIP4, IN4, OUT4, NODE4)]
    cmds += [["ip", "addr", "add", a + "/128", "dev", "lo", "nodad"] for a in (VIP6, IN6, OUT6)]
    for c in cmds:
        subprocess.run(c, check=True)


class Daemon:
    def __init__(self, tmp, text):
        self.tmp = tmp
        self.conf = tmp / "siphon.conf"
        self.conf.write_text(text)
        self.sock = str(tmp / "siphond.sock")
        self.log_path = tmp / "siphond.log"
        self.logf = open(self.log_path, "a")
        self.proc = subprocess.Popen([SIPHOND, "--config", str(self.conf), "--socket", self.sock,
                                      "--state-dir", str(tmp / "state")], stderr=self.logf)
        wait_for(lambda: "listening on " + self.sock in self.log()
                 or self.proc.poll() is not None)
        assert self.proc.poll() is None, self.log()

    def log(self):
        return self.log_path.read_text()

    def ctl(self, *args):
        return subprocess.run([SIPHONCTL, "--socket", self.sock] + list(args),
                              capture_output=True, text=True, timeout=30)

    def punts(self):
        r = self.ctl("state", "--json")
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)["punts"]

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(timeout=20) == 0, self.log()
        self.logf.close()


@pytest.fixture
def daemon(tmp_path):
    d = Daemon(tmp_path, EDGE)
    yield d
    if d.proc.poll() is None:
        d.stop()


def client(src, port=0):
    fam = socket.AF_INET6 if ":" in src else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((src, port))
    s.settimeout(2.0)
    return s


def exchange(src, dst, payload, sport=0, port=5060):
    """Sends payload from src to dst:port; (answer, the answer's source)."""
    s = client(src, sport)
    s.sendto(payload, (dst, port))
    try:
        data, frm = s.recvfrom(65536)
    finally:
        s.close()
    return data, frm[:2]


def nothing_back(src, dst, payload, port=5060, wait=0.5):
    s = client(src)
    s.settimeout(wait)
    s.sendto(payload, (dst, port))
    try:
        data = s.recv(65536)
    except socket.timeout:
        data = None
    s.close()
    assert data is None, data


def options(src, sport, vip, cid="opt1@h", via_host=None, ruri=None):
    host = "[%s]" % src if ":" in src else src
    return ("OPTIONS sip:%s SIP/2.0\r\n"
            "Via: SIP/2.0/UDP %s:%d;rport;branch=z9hG4bK-o1\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:ping@%s>;tag=p1\r\n"
            "To: <sip:%s>\r\n"
            "Call-ID: %s\r\n"
            "CSeq: 7 OPTIONS\r\n"
            "Content-Length: 0\r\n\r\n" % (ruri or ("[%s]" % vip if ":" in vip else vip),
                                          via_host or host, sport, host,
                                          "[%s]" % vip if ":" in vip else vip, cid)).encode()


def expected_options(code_reason, src, sport, vip, cid="opt1@h"):
    host = "[%s]" % src if ":" in src else src
    v = "[%s]" % vip if ":" in vip else vip
    return ("SIP/2.0 %s\r\n"
            "Via: SIP/2.0/UDP %s:%d;rport=%d;branch=z9hG4bK-o1;received=%s\r\n"
            "From: <sip:ping@%s>;tag=p1\r\n"
            "To: <sip:%s>;tag=TAG\r\n"
            "Call-ID: %s\r\n"
            "CSeq: 7 OPTIONS\r\n"
            "Content-Length: 0\r\n\r\n" % (code_reason, host, sport, sport, src, host, v,
                                          cid)).encode()


def check_answer(got, want):
    """Byte for byte, but for the To tag: 16 hex digits (its value is
    test_answer_sip's business), the same for a retransmission."""
    m = re.search(rb";tag=([0-9a-f]{16})\r\n", got)
    assert m, got
    assert got == want.replace(b"TAG", m.group(1)), got
    return m.group(1)


@pytest.mark.parametrize("src,vip,code", [(IN4, VIP4, "200 OK"), (OUT4, VIP4, "503 Options Reply"),
                                          (IN6, VIP6, "200 OK"), (OUT6, VIP6, "503 Options Reply")])
def test_options_to_the_vip(daemon, src, vip, code):
    req = options(src, 5062, vip)
    got, frm = exchange(src, vip, req, sport=5062)
    assert frm == (vip, 5060)  # the answer leaves from the address it was sent to
    tag = check_answer(got, expected_options(code, src, 5062, vip))
    again, _ = exchange(src, vip, req, sport=5062)
    assert again == got and tag in again
    p = daemon.punts()
    assert p["answered_options"] == {code[:3]: 2}
    assert p["received"] == 2 and p["bad"] == {} and p["unanswered"] == {}
    assert p["send_failed"] == 0 and p["bind_failed"] == 0
    assert sorted(s["socket"] for s in p["sockets"]) == ["198.51.100.10:5060",
                                                          "[2001:db8:10::10]:5060"]
    assert all(s["bound"] and s["error"] == "" for s in p["sockets"])


def stun_request(txid):
    return struct.pack(">HHI", 1, 0, 0x2112A442) + txid


@pytest.mark.parametrize("src,vip", [(OUT4, VIP4), (OUT6, VIP6)])
def test_stun_binding(daemon, src, vip):
    txid = bytes(range(1, 13))
    got, frm = exchange(src, vip, stun_request(txid), sport=40000)
    assert frm == (vip, 5060)
    cookie = struct.pack(">I", 0x2112A442)
    if ":" in src:
        key = cookie + txid
        addr = bytes(a ^ b for a, b in zip(socket.inet_pton(socket.AF_INET6, src), key))
        attr = struct.pack(">HHBBH", 0x20, 20, 0, 2, 40000 ^ 0x2112) + addr
    else:
        addr = bytes(a ^ b for a, b in zip(socket.inet_aton(src), cookie))
        attr = struct.pack(">HHBBH", 0x20, 8, 0, 1, 40000 ^ 0x2112) + addr
    assert got == struct.pack(">HH", 0x0101, len(attr)) + cookie + txid + attr
    assert daemon.punts()["answered_stun"] == 1


def invite(src, cid, to_tag="", method="INVITE"):
    return ("%s sip:bob@example.com SIP/2.0\r\n"
            "Via: SIP/2.0/UDP %s:5070;branch=z9hG4bK-i1\r\n"
            "From: <sip:alice@example.com>;tag=a1\r\n"
            "To: <sip:bob@example.com>%s\r\n"
            "Call-ID: %s\r\n"
            "CSeq: 1 %s\r\n"
            "Content-Length: 0\r\n\r\n" % (method, src, to_tag, cid, method)).encode()


def test_no_live_node(tmp_path):
    text = EDGE.replace("weight = 100;", "weight = 0;").replace("weight = 50;", "weight = 0;")
    d = Daemon(tmp_path, text)
    try:
        got, frm = exchange(IN4, VIP4, invite(IN4, "nl1@h"), sport=5070)
        assert frm == (VIP4, 5060)
        check_answer(got, ("SIP/2.0 503 Service Unavailable\r\n"
                           "Via: SIP/2.0/UDP 198.51.100.5:5070;branch=z9hG4bK-i1\r\n"
                           "From: <sip:alice@example.com>;tag=a1\r\n"
                           "To: <sip:bob@example.com>;tag=TAG\r\n"
                           "Call-ID: nl1@h\r\n"
                           "CSeq: 1 INVITE\r\n"
                           "Retry-After: 30\r\n"
                           "Content-Length: 0\r\n\r\n").encode())
        nothing_back(IN4, VIP4, invite(IN4, "nl1@h", method="ACK"))
        nothing_back(IN4, VIP4, invite(IN4, "nl2@h", to_tag=";tag=x9"))
        p = d.punts()
        assert p["answered_503"] == 1
        assert p["unanswered"] == {"ack": 1, "in_dialog": 1}
        assert p["received"] == 3
    finally:
        d.stop()


def test_no_live_node_retry_after_s(tmp_path):
    """The pool's retry_after_s is the 503's Retry-After (0: none). A reload
    that changes only it publishes nothing (the tables are the same) and
    still changes the answer."""
    text = EDGE.replace("weight = 100;", "weight = 0;").replace("weight = 50;", "weight = 0;")
    core = '{ name = "core"; mode = "dsr";'
    assert core in text
    d = Daemon(tmp_path, text.replace(core, core + " retry_after_s = 9;"))
    try:
        got, _ = exchange(IN4, VIP4, invite(IN4, "ra1@h"), sport=5070)
        assert got.startswith(b"SIP/2.0 503 Service Unavailable\r\n"), got
        assert b"\r\nRetry-After: 9\r\nContent-Length: 0\r\n\r\n" in got, got
        for value, want in (("0", None), ("86400", b"\r\nRetry-After: 86400\r\n")):
            d.conf.write_text(text.replace(core, core + " retry_after_s = %s;" % value))
            r = d.ctl("reload", "--json")
            assert r.returncode == 0, r.stderr + d.log()
            assert json.loads(r.stdout)["unchanged"] is True, r.stdout
            got, _ = exchange(IN4, VIP4, invite(IN4, "ra-%s@h" % value), sport=5070)
            assert got.startswith(b"SIP/2.0 503 Service Unavailable\r\n"), got
            if want:
                assert want in got, got
            else:
                assert b"Retry-After" not in got, got
        show = json.loads(d.ctl("pool", "show", "--json").stdout)
        assert [p["retry_after_s"] for p in show["pools"]] == [86400, 30]
        assert d.punts()["answered_503"] == 3
    finally:
        d.stop()


def test_junk_and_unanswered(daemon):
    nothing_back(OUT4, VIP4, b"\x00\x01junk that is neither SIP nor STUN")
    nothing_back(OUT4, VIP4, b"")
    # a response from a node whose Via names no control address: the
    # route sends it to a pool; siphond has nothing to say to it
    resp = (b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.99:5060;branch=z9hG4bK-r\r\n"
            b"From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\nCall-ID: r1@h\r\n"
            b"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
    s = client(NODE4, 5060)
    s.sendto(resp, (VIP4, 5060))
    # the answer to one of siphond's own probes (top Via: a control address,
    # from a node): handed to the health loop, never answered
    s.sendto(resp.replace(b"192.0.2.99", b"198.51.100.2"), (VIP4, 5060))
    s.settimeout(0.5)
    with pytest.raises(socket.timeout):
        s.recv(100)
    s.close()
    p = daemon.punts()
    assert p["bad"] == {"not_sip": 1, "empty": 1}
    assert p["unanswered"] == {"rule_pool": 1}
    # handed to the health loop (which counts it as no answer to a probe of its own)
    assert p["probe_answers"] == 1 and "probe_answers_dropped" not in p
    assert p["received"] == 4
    assert daemon.proc.poll() is None
    table = daemon.ctl("state").stdout
    assert ("punts       4 received: 0 answered, 1 unanswered, 2 bad, 0 send failures; "
            "2 of 2 sockets bound\n") in table, table
    got, _ = exchange(IN4, VIP4, options(IN4, 5062, VIP4), sport=5062)
    assert got.startswith(b"SIP/2.0 200 OK\r\n")


def test_reload_changes_the_code(daemon):
    got, _ = exchange(IN4, VIP4, options(IN4, 5062, VIP4), sport=5062)
    assert got.startswith(b"SIP/2.0 200 OK\r\n")
    daemon.conf.write_text(EDGE.replace('reply 200 \\"OK\\"', 'reply 202 \\"Fine Here\\"')
                           .replace("grace_s = 180;", "grace_s = 180; ports = [5060, 5080];"))
    r = daemon.ctl("reload")
    assert r.returncode == 0, r.stderr + daemon.log()
    for port in (5060, 5080):
        got, frm = exchange(IN4, VIP4, options(IN4, 5062, VIP4, cid="rl%d@h" % port),
                            sport=5062, port=port)
        assert frm == (VIP4, port)
        check_answer(got, expected_options("202 Fine Here", IN4, 5062, VIP4,
                                           cid="rl%d@h" % port))
    p = daemon.punts()
    assert p["answered_options"] == {"200": 1, "202": 2}
    assert len(p["sockets"]) == 4
    assert "punts: listening on UDP 198.51.100.10:5080" in daemon.log()


def test_bind_failure_is_counted(tmp_path):
    taken = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    taken.bind((VIP4, 5060))
    try:
        d = Daemon(tmp_path, EDGE)
        p = d.punts()
        assert p["bind_failed"] == 1
        bad = [s for s in p["sockets"] if s["socket"] == "198.51.100.10:5060"]
        assert bad == [{"socket": "198.51.100.10:5060", "bound": False,
                        "error": "Address already in use"}]
        assert "punts: cannot listen on UDP 198.51.100.10:5060: Address already in use" in d.log()
        got, frm = exchange(IN6, VIP6, options(IN6, 5062, VIP6), sport=5062)
        assert got.startswith(b"SIP/2.0 200 OK\r\n")
        d.stop()
    finally:
        taken.close()
