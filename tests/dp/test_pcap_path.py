"""siphon --io pcap: frames in, exact frames out, for every forwarding mode.

The expected output of each frame is computed here, independently of the C
code (headers rebuilt and every checksum recomputed from scratch), and the
node is made known by a node id in the message where the pool has more than
one node."""
import ipaddress
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from packets import csum, eth, ip4, ip6, read_pcap, tcp, udp4, udp6, write_pcap  # noqa: E402

SIPHON = os.environ["SIPHON"]
HERE = Path(__file__).parent
CONF = HERE / "dp.conf"

BAL_MAC = bytes.fromhex("02000000000a")
CLIENT_MAC = bytes.fromhex("020000000099")
VIP4 = ipaddress.ip_address("198.51.100.10").packed
VIP6 = ipaddress.ip_address("2001:db8:10::10").packed


def mac(n):
    return bytes.fromhex("0200000000%02x" % n)


def v4_sip(payload, src, sport=5062, dst=VIP4, dport=5060, vlan=None):
    s = ipaddress.ip_address(src).packed
    return eth(BAL_MAC, CLIENT_MAC, ip4(s, dst, 17, udp4(s, dst, sport, dport, payload)), vlan=vlan)


def v6_sip(payload, src, sport=5062):
    s = ipaddress.ip_address(src).packed
    return eth(BAL_MAC, CLIENT_MAC, ip6(s, VIP6, 17, udp6(s, VIP6, sport, 5060, payload)), 0x86DD)


def sip(start, callid, to_tag="", extra="", body=b""):
    head = (f"{start}\r\nVia: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK-{callid}{extra}\r\n"
            f"From: <sip:a@example.com>;tag=f1\r\nTo: <sip:b@example.com>{to_tag}\r\n"
            f"Call-ID: {callid}@192.0.2.7\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n")
    return head.encode() + b"Content-Length: %d\r\n\r\n" % len(body) + body


INVITE = "INVITE sip:b@example.com SIP/2.0"


def run(tmp_path, frames, name="run"):
    src = tmp_path / f"{name}-in.pcap"
    write_pcap(src, frames)
    out, punt = tmp_path / f"{name}-out.pcap", tmp_path / f"{name}-punt.pcap"
    p = subprocess.run([SIPHON, "--io", "pcap", "--config", CONF, "--in", src, "--out", out,
                        "--punt", punt], capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr.decode()
    return read_pcap(out), read_pcap(punt), json.loads(p.stdout)


def test_dsr_response_by_via_nid_exact_bytes(tmp_path):
    msg = sip("SIP/2.0 200 OK", "r1", ";tag=t9", ";nid=d2")
    frame = v4_sip(msg, "192.0.2.7")
    out, punt, c = run(tmp_path, [frame])
    assert punt == []
    # dsr: only the MACs change
    assert out == [mac(0x22) + BAL_MAC + frame[12:]]
    assert c["dispatch"]["via_nid"] == 1 and c["nodes"]["d2"] == 1


def test_dsr_with_a_vlan_tag(tmp_path):
    msg = sip("SIP/2.0 180 Ringing", "r2", ";tag=t9", ";nid=d1")
    frame = v4_sip(msg, "192.0.2.7", vlan=100)
    out, _, _ = run(tmp_path, [frame])
    assert out == [mac(0x21) + BAL_MAC + frame[12:]]


def test_dsr_initial_request_goes_to_a_pool_node(tmp_path):
    frame = v4_sip(sip(INVITE, "i1"), "192.0.2.7")
    out, _, c = run(tmp_path, [frame])
    assert len(out) == 1 and out[0][:6] in (mac(0x21), mac(0x22)) and out[0][12:] == frame[12:]
    assert c["dispatch"]["maglev"] == 1


def test_nat_ipv4_exact_bytes(tmp_path):
    msg = sip(INVITE, "n1")
    frame = v4_sip(msg, "203.0.113.9")
    node = ipaddress.ip_address("198.51.100.31").packed
    src = ipaddress.ip_address("203.0.113.9").packed
    want = eth(mac(0x31), BAL_MAC, ip4(src, node, 17, udp4(src, node, 5062, 5080, msg)))
    out, _, c = run(tmp_path, [frame])
    assert out == [want]
    assert c["nodes"]["n1"] == 1


def test_nat_cuts_the_datagram_to_content_length(tmp_path):
    msg = sip(INVITE, "n2", body=b"v=0\r\n")
    trailing = b"second message or garbage"
    frame = v4_sip(msg + trailing, "203.0.113.9")
    node = ipaddress.ip_address("198.51.100.31").packed
    src = ipaddress.ip_address("203.0.113.9").packed
    want = eth(mac(0x31), BAL_MAC, ip4(src, node, 17, udp4(src, node, 5062, 5080, msg)))
    out, _, _ = run(tmp_path, [frame])
    assert out == [want]


def test_nat_ipv6_exact_bytes(tmp_path):
    msg = sip(INVITE, "n6")
    frame = v6_sip(msg, "2001:db8:77::5")
    node = ipaddress.ip_address("2001:db8:10::31").packed
    src = ipaddress.ip_address("2001:db8:77::5").packed
    want = eth(mac(0x36), BAL_MAC, ip6(src, node, 17, udp6(src, node, 5062, 5070, msg)), 0x86DD)
    out, _, _ = run(tmp_path, [frame])
    assert out == [want]


def test_encap_ipip_exact_bytes(tmp_path):
    msg = sip(INVITE, "e1")
    frame = v4_sip(msg, "203.0.113.200")
    inner = frame[14:]
    outer_src = ipaddress.ip_address("198.51.100.2").packed
    node = ipaddress.ip_address("198.51.100.41").packed
    want = eth(mac(0x41), BAL_MAC, ip4(outer_src, node, 4, inner, ident=0, flags=0x4000))
    out, _, _ = run(tmp_path, [frame])
    assert out == [want]


def test_drops_punts_and_passes(tmp_path):
    stun = struct.pack("!HHI", 1, 0, 0x2112A442) + bytes(12)
    scanner = sip("OPTIONS sip:198.51.100.10 SIP/2.0", "s1").replace(
        b"Max-Forwards: 70\r\n", b"Max-Forwards: 70\r\nUser-Agent: friendly-scanner\r\n").replace(
        b"CSeq: 1 INVITE", b"CSeq: 1 OPTIONS")
    arp = b"\xff" * 6 + CLIENT_MAC + b"\x08\x06" + bytes(28)
    frames = [
        v4_sip(stun, "192.0.2.7"),                         # punt: STUN binding
        v4_sip(b"\x16\x03\x01 binary", "192.0.2.7"),       # drop: not_sip
        v4_sip(scanner, "192.0.2.7"),                      # drop: rule (scanner)
        v4_sip(sip(INVITE, "x1"), "192.0.2.7", dst=ipaddress.ip_address("198.51.100.99").packed),
        v4_sip(sip(INVITE, "x2"), "192.0.2.7", dport=5099),  # pass: not a SIP port
        arp,                                                # pass: not IP
        v4_sip(sip(INVITE, "x3"), "192.0.2.7")[:40],        # drop: truncated, to the VIP
        v4_sip(sip(INVITE, "x4"), "192.0.2.7")[:30],        # pass: truncated before the addresses
    ]
    out, punt, c = run(tmp_path, frames)
    assert out == []
    # the kernel gets punted and passed frames untouched, in order
    assert punt == [frames[0], frames[3], frames[4], frames[5], frames[7]]
    # malformed to the VIP is dropped, as the XDP program drops it; a frame
    # too short to say where it goes is the kernel's; both counted by status
    assert c["outcomes"] == {"forward": 0, "drop": 3, "punt": 1, "pass": 4, "hold": 0}
    assert c["reasons"]["stun_binding"] == 1 and c["reasons"]["not_sip"] == 1
    assert c["reasons"]["rule_drop"] == 1 and c["flags"]["SCANNER"] == 1
    assert c["packet"]["truncated"] == 2 and c["packet"]["not_ip"] == 1
    assert c["packet_reasons"]["not_for_us"] == 4
    assert c["packets"] == len(frames)


def test_udp_checksum_zero(tmp_path):
    """0 is "no checksum" over IPv4, invalid over IPv6 (RFC 8200): the node
    would drop it, so siphon drops and counts it instead of forwarding."""
    msg = sip("SIP/2.0 200 OK", "z1", ";tag=t9", ";nid=d1")
    v4 = v4_sip(msg, "192.0.2.7")
    v4 = v4[:14 + 20 + 6] + b"\0\0" + v4[14 + 20 + 8:]
    v6 = v6_sip(msg, "2001:db8:99::7")
    v6_zero = v6[:14 + 40 + 6] + b"\0\0" + v6[14 + 40 + 8:]
    out, punt, c = run(tmp_path, [v4, v6_zero, v6])
    assert punt == []
    assert out == [mac(0x21) + BAL_MAC + v4[12:], mac(0x21) + BAL_MAC + v6[12:]]
    assert c["packet"]["udp6_zero_checksum"] == 1 and c["packet"]["ok"] == 2
    assert c["outcomes"] == {"forward": 2, "drop": 1, "punt": 0, "pass": 0, "hold": 0}


def test_same_input_same_output(tmp_path):
    frames = [v4_sip(sip(INVITE, f"d{i}"), "192.0.2.7", sport=5000 + i) for i in range(200)]
    frames += [v6_sip(sip(INVITE, "six"), "2001:db8:77::9")]
    a = run(tmp_path, frames, "a")
    b = run(tmp_path, frames, "b")
    assert a == b
    assert (tmp_path / "a-out.pcap").read_bytes() == (tmp_path / "b-out.pcap").read_bytes()
    assert len(a[0]) == 201


def tcp4(src, sport, flags=0x02, payload=b""):
    s = ipaddress.ip_address(src).packed
    return eth(BAL_MAC, CLIENT_MAC, ip4(s, VIP4, 6, tcp(s, VIP4, sport, 5060, payload, flags)))


def test_tcp_is_steered_by_its_5_tuple(tmp_path):
    """Every segment of a connection, SYN or SIP, lands on one node of the
    pool the source chose; 50 connections use both nodes."""
    conns = [tcp4("192.0.2.7", 40000 + i) for i in range(50)]
    frames = conns + [tcp4("192.0.2.7", 40000 + i, 0x18, sip(INVITE, f"t{i}")) for i in range(50)]
    out, punt, c = run(tmp_path, frames)
    assert punt == [] and len(out) == 100 and c["tcp"] == 100
    for i in range(50):
        # dsr: only the MACs change, and both segments of a connection go to one node
        assert out[i][12:] == frames[i][12:] and out[i + 50][12:] == frames[i + 50][12:]
        assert out[i][:6] == out[i + 50][:6] and out[i][:6] in (mac(0x21), mac(0x22))
    assert {o[:6] for o in out} == {mac(0x21), mac(0x22)}  # 50 connections use both nodes
    assert c["reasons"]["rule_pool"] == 100 and c["dispatch"]["maglev"] == 100


def test_tcp_goes_through_the_route(tmp_path):
    """Source rules and the route's pool apply to TCP as to UDP: a blocked
    network's SYN and SIP are dropped, a scanner's SIP is dropped, a nat
    source's connection goes to the nat pool."""
    scanner = sip(INVITE, "s1").replace(
        b"Max-Forwards: 70\r\n", b"Max-Forwards: 70\r\nUser-Agent: friendly-scanner\r\n")
    frames = [
        tcp4("192.0.2.201", 41000),                                # blocked: SYN
        tcp4("192.0.2.201", 41000, 0x18, sip(INVITE, "b1")),      # blocked: SIP
        tcp4("192.0.2.7", 41001, 0x18, scanner),                   # scanner UA: dropped
        tcp4("192.0.2.7", 41001, 0x18, b"o: 0\r\n\r\nv=0\r\n"),     # no header block: source decides
        tcp4("203.0.113.9", 41002),                                # VIA_NAT: the nat pool
        tcp4("203.0.113.9", 41002, 0x18, sip(INVITE, "n1")),
    ]
    out, punt, c = run(tmp_path, frames)
    assert punt == [] and len(out) == 3 and c["tcp"] == 6
    assert c["outcomes"]["drop"] == 3 and c["reasons"]["rule_drop"] == 3
    assert c["flags"]["BLOCKED"] == 2 and c["flags"]["SCANNER"] == 1
    assert out[0][:6] in (mac(0x21), mac(0x22)) and out[0][12:] == frames[3][12:]
    # nat: the node's address and port, the same node for both segments
    n1 = ipaddress.ip_address("198.51.100.31").packed
    for o in out[1:]:
        assert o[:6] == mac(0x31) and o[14 + 16:14 + 20] == n1
        assert struct.unpack("!H", o[14 + 20 + 2:14 + 20 + 4])[0] == 5080


def test_tcp_message_for_another_pool_stays_on_its_connection(tmp_path):
    """The pool of a connection comes from its source; a message in it that
    a rule sends to another pool (PRIORITY: encap) stays on the
    connection's node, counted; over UDP the same message goes to encap."""
    msg = sip(INVITE, "x1").replace(b"Max-Forwards: 70\r\n",
                                    b"Max-Forwards: 70\r\nResource-Priority: esnet.1\r\n")
    frames = [tcp4("203.0.113.9", 42000), tcp4("203.0.113.9", 42000, 0x18, msg),
              v4_sip(msg, "203.0.113.9")]
    out, punt, c = run(tmp_path, frames)
    assert punt == [] and len(out) == 3
    assert out[0][:6] == mac(0x31) and out[1][:6] == mac(0x31)  # the connection's nat node
    assert out[2][:6] == mac(0x41)                              # UDP: the encap pool
    assert c["packet_reasons"]["tcp_rule_ignored"] == 1 and c["flags"]["PRIORITY"] == 2


def test_nat_reply_gets_the_vip_as_source(tmp_path):
    """The return path of nat, without a flow table: from the node's address
    and port to a client, the source becomes the VIP and the SIP port."""
    msg = sip("SIP/2.0 200 OK", "nr1", ";tag=t1")
    node = ipaddress.ip_address("198.51.100.31").packed
    client = ipaddress.ip_address("203.0.113.9").packed
    frame = eth(BAL_MAC, mac(0x31), ip4(node, client, 17, udp4(node, client, 5080, 5062, msg)))
    want = eth(mac(0x01), BAL_MAC, ip4(VIP4, client, 17, udp4(VIP4, client, 5060, 5062, msg)))
    out, punt, c = run(tmp_path, [frame])
    assert out == [want] and punt == []
    assert c["packet_reasons"]["nat_reply"] == 1


def test_rate_limit_per_source(tmp_path):
    """rate-limit 1/s burst 2 on REGISTER: a source gets two, then waits; another
    source has its own bucket. Frames are 1 ms apart."""
    def register(src, n):
        m = sip("REGISTER sip:example.com SIP/2.0", f"reg-{src}-{n}").replace(
            b"CSeq: 1 INVITE", b"CSeq: 1 REGISTER")
        return v4_sip(m, src, sport=6000 + n)
    frames = [register("192.0.2.7", n) for n in range(5)] + [register("192.0.2.8", 9)]
    out, punt, c = run(tmp_path, frames)
    assert len(out) == 3 and punt == []
    assert c["reasons"]["rate_limited"] == 3
    # BLOCKED, SCANNER, then the rate-limit rule: all six reached it
    assert [r["count"] for r in c["rules"] if r["line"]][:3] == [0, 0, 6]


def big_invite(callid):
    sdp = b"".join(b"a=x-filler-%04d:%s\r\n" % (i, b"z" * 40) for i in range(50))
    return sip(INVITE, callid, body=b"v=0\r\n" + sdp)


def fragments4(src, dst, udp_segment, ident=0x4242, size=1480):
    """IPv4 fragments of one UDP datagram (header included), data cut at 8-byte multiples."""
    frames, off = [], 0
    while off < len(udp_segment):
        part = udp_segment[off:off + size]
        more = off + len(part) < len(udp_segment)
        flags = (0x2000 if more else 0) | (off // 8)
        frames.append(eth(BAL_MAC, CLIENT_MAC, ip4(src, dst, 17, part, ident=ident, flags=flags)))
        off += len(part)
    return frames


def nat_fragment_case(callid):
    """The client's fragments and the ones siphon must send: the datagram
    rewritten to n1 as a whole (new checksum), then fragmented the same way."""
    msg = big_invite(callid)
    src = ipaddress.ip_address("203.0.113.9").packed
    node = ipaddress.ip_address("198.51.100.31").packed
    sent = fragments4(src, VIP4, udp4(src, VIP4, 5062, 5060, msg))
    want = [mac(0x31) + BAL_MAC + f[12:] for f in fragments4(src, node, udp4(src, node, 5062, 5080, msg))]
    assert len(sent) == 3
    return sent, want


@pytest.mark.parametrize("order", [[0, 1, 2], [2, 1, 0], [1, 2, 0], [1, 0, 2]])
def test_fragments_follow_the_first_fragments_decision(tmp_path, order):
    """The Call-ID is in the first fragment: it is decided and forwarded at
    once; later fragments that came before it are held and go out before it,
    in the order they came; those after it follow the decision."""
    sent, want = nat_fragment_case("frag-%d%d%d" % tuple(order))
    out, punt, c = run(tmp_path, [sent[i] for i in order])
    assert out == [want[i] for i in order] and punt == []
    before = order.index(0)  # a first fragment that completes the datagram: reassembled
    assert c["fragments"]["decided_first"] == (before < 2) and c["fragments"]["complete"] == (before == 2)
    assert c["fragments"]["held"] == before and c["fragments"]["decided"] == 2 - before
    assert c["nodes"]["n1"] == 3


def test_duplicate_fragments(tmp_path):
    sent, want = nat_fragment_case("frag-dup")
    # a held duplicate is ignored; after the decision, one follows it
    out, _, c = run(tmp_path, [sent[1], sent[1], sent[0], sent[2], sent[0], sent[1]])
    assert out == [want[1], want[0], want[2], want[0], want[1]]
    assert c["fragments"]["duplicate"] == 1 and c["fragments"]["decided"] == 3


def test_overlapping_fragments_drop_the_datagram(tmp_path):
    sent, _ = nat_fragment_case("frag-overlap")
    bad = bytearray(sent[1])
    bad[14 + 20 + 5] ^= 0xFF  # same extent, other bytes
    # held before the first fragment: the datagram is dropped (after a
    # decision at the first fragment, later fragments are not compared)
    out, punt, c = run(tmp_path, [bytes(bad), sent[1], sent[0], sent[2]])
    assert out == [] and punt == []
    assert c["fragments"]["overlap"] == 3


def test_a_missing_fragment_times_out(tmp_path):
    sent, _ = nat_fragment_case("frag-missing")
    out, punt, c = run(tmp_path, [sent[1], sent[2]])  # the first never comes
    assert out == [] and punt == []
    assert c["packet_reasons"]["fragment_timeout"] == 1
    assert c["fragments"]["partial_timeout"] == 1


@pytest.mark.parametrize("args, message", [
    ([], "--io"),
    (["--io", "dpdk"], "--io dpdk needs --config FILE (standalone) or --siphond PATH"),
    (["--io", "pcap"], "needs --config"),
    (["--io", "pcap", "--config", "/nonexistent.conf", "--in", "x", "--out", "y"],
     "/nonexistent.conf"),
])
def test_bad_arguments(args, message):
    p = subprocess.run([SIPHON, *args], capture_output=True, timeout=30)
    assert p.returncode != 0
    assert message in p.stderr.decode()
