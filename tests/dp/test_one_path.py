"""One decision path: `siphonctl explain --pcap` and `siphon --io pcap` run
the same capture (every corpus message from several sources, over UDP and
TCP, IPv4 and IPv6, to the VIPs and elsewhere, plus the example calls) and
must agree packet by packet: what explain forwards leaves siphon in the
same order toward the node explain named, what explain punts or passes
reaches the kernel side untouched, and the reasons add up the same."""
import collections
import ipaddress
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from packets import eth, ip4, ip6, read_pcap, tcp, udp4, udp6, write_pcap  # noqa: E402

SIPHON = os.environ["SIPHON"]
SIPHONCTL = os.environ["SIPHONCTL"]
ROOT = Path(__file__).resolve().parents[2]
EDGE = ROOT / "docs" / "examples" / "edge.conf"
CORPUS = ROOT / "tests" / "corpus"

LB_MAC, CLIENT_MAC = bytes.fromhex("02000000000a"), bytes.fromhex("020000000099")
NODE_MAC = {"b1": 0x21, "b2": 0x22, "b3-small": 0x23, "a1": 0x31, "a2": 0x32}
VIP4, VIP6 = ipaddress.ip_address("198.51.100.10").packed, ipaddress.ip_address("2001:db8:10::10").packed
ELSEWHERE4 = ipaddress.ip_address("198.51.100.99").packed

# carrier A (a nat pool), our own network, an outsider, carrier B over IPv6
SOURCES4 = ["192.0.2.7", "198.51.100.50", "203.0.113.20"]
SOURCES6 = ["2001:db8:b::7", "2001:db8:5::9"]


def a(text):
    return ipaddress.ip_address(text).packed


def frames_for(payload, n):
    """One message as the fast path may meet it."""
    out = []
    for s in SOURCES4:
        out.append(eth(LB_MAC, CLIENT_MAC, ip4(a(s), VIP4, 17, udp4(a(s), VIP4, 5062, 5060, payload))))
        out.append(eth(LB_MAC, CLIENT_MAC, ip4(a(s), VIP4, 6, tcp(a(s), VIP4, 40000 + n, 5060, payload))))
    for s in SOURCES6:
        out.append(eth(LB_MAC, CLIENT_MAC, ip6(a(s), VIP6, 17, udp6(a(s), VIP6, 5062, 5060, payload)),
                       0x86DD))
    s = SOURCES4[2]
    out.append(eth(LB_MAC, CLIENT_MAC, ip4(a(s), ELSEWHERE4, 17, udp4(a(s), ELSEWHERE4, 5062, 5060, payload))))
    return out


def capture(tmp_path):
    frames = []
    for n, f in enumerate(sorted(CORPUS.glob("*.sip"))):
        frames += frames_for(f.read_bytes(), n)
    for s in SOURCES4:  # connections opening: no SIP yet, the source decides
        frames.append(eth(LB_MAC, CLIENT_MAC, ip4(a(s), VIP4, 6, tcp(a(s), VIP4, 39999, 5060, b"", 0x02))))
    frames += read_pcap(ROOT / "docs" / "examples" / "calls.pcap")
    path = tmp_path / "in.pcap"
    write_pcap(path, frames, step_us=1000000)  # a second apart: no bucket runs dry
    return path, frames


def dead_pool_conf(tmp_path):
    """edge.conf with carrier A's pool out of nodes (all weights 0)."""
    text = EDGE.read_text()
    for n in ("31", "32"):
        old = f'mac = "02:00:00:00:00:{n}"; }}'
        assert old in text
        text = text.replace(old, f'mac = "02:00:00:00:00:{n}"; weight = 0; }}')
    conf = tmp_path / "dead.conf"
    conf.write_text(text)
    return conf


@pytest.mark.parametrize("dead_pool", [False, True])
def test_explain_and_the_pipeline_decide_alike(tmp_path, dead_pool):
    conf = dead_pool_conf(tmp_path) if dead_pool else EDGE
    path, frames = capture(tmp_path)
    ex = subprocess.run([SIPHONCTL, "explain", "--config", conf, "--pcap", path],
                        capture_output=True, timeout=120)
    assert ex.returncode == 0, ex.stderr.decode()
    said = [json.loads(line) for line in ex.stdout.splitlines()]
    assert len(said) == len(frames) and not any("skipped" in o for o in said)
    out, punt = tmp_path / "out.pcap", tmp_path / "punt.pcap"
    p = subprocess.run([SIPHON, "--io", "pcap", "--config", conf, "--in", path, "--out", out,
                        "--punt", punt], capture_output=True, timeout=120)
    assert p.returncode == 0, p.stderr.decode()
    summary = json.loads(p.stdout)
    sent, kernel = read_pcap(out), read_pcap(punt)

    fwd = [(i, o) for i, o in enumerate(said) if o["verdict"] == "forward"]
    assert len(sent) == len(fwd)
    for (i, o), frame in zip(fwd, sent):
        assert frame[:6] == bytes([2, 0, 0, 0, 0, NODE_MAC[o["node"]["id"]]]), (i, o)
    up = [frames[i] for i, o in enumerate(said) if o["verdict"] in ("punt", "reply", "pass")]
    assert kernel == up

    # every decided message is counted by the reason explain gives
    reasons = collections.Counter(o["reason"] for o in said if o["reason"] != "not_for_us")
    counted = {k: v for k, v in summary["reasons"].items() if v}
    assert counted == dict(reasons)
    assert summary["packet_reasons"]["not_for_us"] == sum(o["reason"] == "not_for_us" for o in said)
    # the capture exercises every kind of decision
    kinds = {o["verdict"] for o in said}
    assert kinds == {"forward", "drop", "reply", "pass"} | ({"punt"} & kinds)
    assert any(o.get("transport") == "TCP" and o["verdict"] == "drop" for o in said)
    assert any(o.get("transport") == "TCP" and o["verdict"] == "forward" for o in said)
    assert (reasons["no_live_node"] > 0) == dead_pool


def fragments4(src, dst, segment, ident, size):
    """IPv4 fragments of one UDP datagram (header included)."""
    frames, off = [], 0
    while off < len(segment):
        part = segment[off:off + size]
        flags = (0x2000 if off + len(part) < len(segment) else 0) | (off // 8)
        frames.append(eth(LB_MAC, CLIENT_MAC, ip4(src, dst, 17, part, ident=ident, flags=flags)))
        off += len(part)
    return frames


def test_a_first_fragment_is_decided_alike(tmp_path):
    """A first fragment that holds the header block: explain decides it,
    siphon sends every fragment of the datagram to that node. One whose
    header block runs on: explain says it waits for reassembly."""
    body = b"".join(b"a=x-filler-%04d:%s\r\n" % (i, b"z" * 40) for i in range(60))
    head = (b"INVITE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bK-f1\r\n"
            b"From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n"
            b"Call-ID: frag-%d@192.0.2.7\r\nCSeq: 1 INVITE\r\nContent-Length: %d\r\n\r\n")
    src = a("192.0.2.7")
    frames = []
    for n in range(20):
        msg = head % (n, len(body)) + body
        frames += fragments4(src, VIP4, udp4(src, VIP4, 5062, 5060, msg), 0x100 + n, 1480)
    late = (b"X-Pad: " + b"p" * 1500 + b"\r\n")  # pushes the Call-ID past the first fragment
    msg = head.replace(b"Call-ID", late + b"Call-ID") % (99, len(body)) + body
    late_frames = fragments4(src, VIP4, udp4(src, VIP4, 5062, 5060, msg), 0x999, 1480)
    frames += late_frames
    path = tmp_path / "frags.pcap"
    write_pcap(path, frames, step_us=1000)
    ex = subprocess.run([SIPHONCTL, "explain", "--config", EDGE, "--pcap", path],
                        capture_output=True, timeout=60)
    said = [json.loads(line) for line in ex.stdout.splitlines()]
    assert len(said) == len(frames)
    firsts = [o for o in said if "verdict" in o]
    assert len(firsts) == 20 and all(o["verdict"] == "forward" for o in firsts)
    assert said[-len(late_frames)]["skipped"].startswith("fragment: the header block is not all in it")
    out = tmp_path / "out.pcap"
    p = subprocess.run([SIPHON, "--io", "pcap", "--config", EDGE, "--in", path, "--out", out,
                        "--punt", tmp_path / "punt.pcap"], capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr.decode()
    sent = read_pcap(out)
    assert len(sent) == len(frames)
    per_datagram = (len(frames) - len(late_frames)) // 20
    for n, o in enumerate(firsts):  # every fragment of datagram n to explain's node
        for frame in sent[n * per_datagram:(n + 1) * per_datagram]:
            assert frame[:6] == bytes([2, 0, 0, 0, 0, NODE_MAC[o["node"]["id"]]])
