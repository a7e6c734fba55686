"""siphon --io pcap and the records of a capture: every link type siphon
reads (Ethernet, raw IP, Linux cooked v1/v2 from `tcpdump -i any`) gives the
same frames out, and a record that cannot be a frame (longer than a frame
can be, caplen above len, cut inside its link header) is refused, counted
under "capture" and reported in one line while the other records go on.
Runs in suite unit too, so build-fuzz runs it with siphon built with ASan +
UBSan: any write past the frame buffer fails the run there."""
import ipaddress
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from packets import (LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, LINKTYPE_RAW,  # noqa: E402
                     SYNTH_DST, eth, ip4, ip6, read_pcap, read_pcap_records, sll, sll2, udp4,
                     udp6, write_pcap)

SIPHON = os.environ["SIPHON"]
CONF = Path(__file__).parent / "dp.conf"

BAL_MAC = bytes.fromhex("02000000000a")
CLIENT_MAC = bytes.fromhex("020000000099")
PEER_MAC = bytes.fromhex("525400123456")
VIP4 = ipaddress.ip_address("198.51.100.10").packed
VIP6 = ipaddress.ip_address("2001:db8:10::10").packed
SRC4 = ipaddress.ip_address("192.0.2.7").packed
SRC6 = ipaddress.ip_address("2001:db8:99::7").packed
FRAME_MAX = 65535 + 14 + 8  # an IP packet of 65535 bytes behind two VLAN tags


def mac(n):
    return bytes.fromhex("0200000000%02x" % n)


def response(callid, nid):
    """A 200 OK with a node id in its Via: dsr to that node, no hashing."""
    return (f"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK-{callid};nid={nid}\r\n"
            f"From: <sip:a@example.com>;tag=f1\r\nTo: <sip:b@example.com>;tag=t9\r\n"
            f"Call-ID: {callid}@192.0.2.7\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n").encode()


def ip4_sip(callid, nid="d1"):
    return ip4(SRC4, VIP4, 17, udp4(SRC4, VIP4, 5062, 5060, response(callid, nid)))


def ip6_sip(callid, nid="d2"):
    return ip6(SRC6, VIP6, 17, udp6(SRC6, VIP6, 5062, 5060, response(callid, nid)))


def stun4():
    stun = bytes.fromhex("00010000" "2112a442") + bytes(12)
    return ip4(SRC4, VIP4, 17, udp4(SRC4, VIP4, 5062, 5060, stun))


def siphon(tmp_path, records, name="run", **pcap):
    src = tmp_path / f"{name}-in.pcap"
    write_pcap(src, records, **pcap)
    out, punt = tmp_path / f"{name}-out.pcap", tmp_path / f"{name}-punt.pcap"
    p = subprocess.run([SIPHON, "--io", "pcap", "--config", CONF, "--in", src, "--out", out,
                        "--punt", punt], capture_output=True, text=False, timeout=120)
    stderr = p.stderr.decode(errors="replace")
    assert "Sanitizer" not in stderr and "runtime error" not in stderr, stderr
    return p.returncode, stderr, p.stdout, out, punt


def counters(stdout):
    return json.loads(stdout)


# --- records that cannot be frames ------------------------------------------

def test_oversize_record_is_refused_counted_and_the_others_go_on(tmp_path):
    good1 = eth(BAL_MAC, CLIENT_MAC, ip4_sip("a1"))
    good2 = eth(BAL_MAC, CLIENT_MAC, ip4_sip("a2", "d2"))
    # a capture taken with GRO on: one 200,000-byte "frame" (snaplen 262144,
    # tcpdump's default, so libpcap hands it over whole)
    giant = eth(BAL_MAC, CLIENT_MAC, b"\x45" + bytes(200000 - 15))
    rc, err, stdout, out, _ = siphon(tmp_path, [good1, giant, good2], snaplen=262144)
    assert rc == 0, err
    c = counters(stdout)
    assert c["capture"] == {"records": 3, "oversize": 1, "caplen_over_len": 0,
                            "link_truncated": 0, "snapped": 0}
    assert c["packets"] == 2 and c["outcomes"]["forward"] == 2
    assert read_pcap(out) == [mac(0x21) + BAL_MAC + good1[12:], mac(0x22) + BAL_MAC + good2[12:]]
    assert err.splitlines() == [
        f"siphon: --in {tmp_path}/run-in.pcap: 1 record longer than a frame can be "
        f"({FRAME_MAX} bytes) skipped, counted capture.oversize (first: record 2, 200000 bytes)"]


def test_the_longest_frame_is_taken_one_byte_more_is_not(tmp_path):
    arp = b"\x08\x06"
    longest = BAL_MAC + CLIENT_MAC + arp + bytes(FRAME_MAX - 14)
    rc, err, stdout, _, punt = siphon(tmp_path, [longest, longest + b"\0", longest + bytes(9)],
                                      snaplen=262144)
    assert rc == 0, err
    c = counters(stdout)
    assert c["capture"]["oversize"] == 2 and c["capture"]["records"] == 3
    assert c["packets"] == 1 and c["packet"]["not_ip"] == 1
    assert read_pcap(punt) == [longest]  # passed to the kernel untouched
    assert "2 records longer than a frame can be" in err
    assert f"(first: record 2, {FRAME_MAX + 1} bytes)" in err


def test_caplen_above_len_is_refused_snapped_records_go_on(tmp_path):
    good = eth(BAL_MAC, CLIENT_MAC, ip4_sip("b1"))
    cut = eth(BAL_MAC, CLIENT_MAC, ip4_sip("b2"))
    records = [
        (good, len(good) - 10),   # more captured than the packet had: broken
        (cut[:40], len(cut)),     # snapped at 40 bytes: processed, truncated
        (cut[:30], len(cut)),     # snapped before the IP addresses
        good,
    ]
    rc, err, stdout, out, punt = siphon(tmp_path, records)
    assert rc == 0, err
    c = counters(stdout)
    assert c["capture"] == {"records": 4, "oversize": 0, "caplen_over_len": 1,
                            "link_truncated": 0, "snapped": 2}
    assert c["packets"] == 3 and c["packet"]["truncated"] == 2 and c["packet"]["ok"] == 1
    assert read_pcap(out) == [mac(0x21) + BAL_MAC + good[12:]]
    # snapped to the VIP: dropped, as the fast path drops a truncated packet
    # to a VIP; snapped before the addresses: the kernel's, as captured, its
    # length kept
    _, punted = read_pcap_records(punt)
    assert punted == [(30, len(cut), cut[:30])]
    assert err.splitlines() == [
        f"siphon: --in {tmp_path}/run-in.pcap: 1 record with more bytes captured than the "
        f"packet had skipped, counted capture.caplen_over_len (first: record 1)"]


def test_a_cooked_record_cut_inside_its_header(tmp_path):
    good = sll(ip4_sip("c1"))
    rc, err, stdout, out, _ = siphon(tmp_path, [good[:10], good, b""], linktype=LINKTYPE_LINUX_SLL)
    assert rc == 0, err
    c = counters(stdout)
    assert c["capture"]["link_truncated"] == 2 and c["capture"]["records"] == 3
    assert c["packets"] == 1
    assert len(read_pcap(out)) == 1
    assert "2 records cut inside the link-layer header skipped, counted " \
           "capture.link_truncated (first: record 1)" in err


def test_a_capture_cut_in_the_middle_of_a_record(tmp_path):
    good = eth(BAL_MAC, CLIENT_MAC, ip4_sip("d1"))
    src = tmp_path / "cut.pcap"
    write_pcap(src, [good, good])
    src.write_bytes(src.read_bytes()[:-20])
    p = subprocess.run([SIPHON, "--io", "pcap", "--config", CONF, "--in", src, "--out",
                        tmp_path / "o.pcap"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 1
    assert f"siphon: --in {src}: truncated dump file" in p.stderr
    c = json.loads(p.stdout)  # the summary of what was read
    assert c["capture"]["records"] == 1 and c["packets"] == 1


# --- link types -------------------------------------------------------------

@pytest.mark.parametrize("linktype, cook", [
    (LINKTYPE_LINUX_SLL, sll), (LINKTYPE_LINUX_SLL2, sll2)])
def test_tcpdump_any_captures(tmp_path, linktype, cook):
    """tcpdump -i any: the same frames out as from the Ethernet capture."""
    packets = [(ip4_sip("e1"), 0x0800), (ip6_sip("e2"), 0x86DD), (stun4(), 0x0800)]
    as_eth = [eth(BAL_MAC, CLIENT_MAC, p, t) for p, t in packets]
    rc, err, stdout, out, punt = siphon(tmp_path, [cook(p, t, PEER_MAC) for p, t in packets],
                                        linktype=linktype)
    assert rc == 0, err
    assert err == ""
    c = counters(stdout)
    assert c["capture"] == {"records": 3, "oversize": 0, "caplen_over_len": 0,
                            "link_truncated": 0, "snapped": 0}
    assert c["packet"]["ok"] == 3
    assert c["outcomes"] == {"forward": 2, "drop": 0, "punt": 1, "pass": 0, "hold": 0}
    # dsr: node and balancer MACs, the IP packet byte for byte
    assert read_pcap(out) == [mac(0x21) + BAL_MAC + as_eth[0][12:],
                              mac(0x22) + BAL_MAC + as_eth[1][12:]]
    # punts go to an Ethernet pcap: synthesised destination, the cooked
    # header's address as source, the packet's length adjusted
    linkt, punted = read_pcap_records(punt)
    assert linkt == 1
    frame = SYNTH_DST + PEER_MAC + b"\x08\x00" + stun4()
    assert punted == [(len(frame), len(frame), frame)]

    ref = siphon(tmp_path, as_eth, "eth")
    assert read_pcap(ref[3]) == read_pcap(out)
    assert counters(ref[2])["outcomes"] == c["outcomes"]


def test_raw_ip_capture(tmp_path):
    rc, err, stdout, out, _ = siphon(tmp_path, [ip4_sip("f1"), ip6_sip("f2")], linktype=LINKTYPE_RAW)
    assert rc == 0, err
    assert counters(stdout)["outcomes"]["forward"] == 2
    assert read_pcap(out) == [mac(0x21) + BAL_MAC + b"\x08\x00" + ip4_sip("f1"),
                              mac(0x22) + BAL_MAC + b"\x86\xdd" + ip6_sip("f2")]


def test_unsupported_link_type(tmp_path):
    rc, err, stdout, out, _ = siphon(tmp_path, [bytes(40)], linktype=105)
    assert rc == 1
    assert err.strip() == (f"siphon: --in {tmp_path}/run-in.pcap: link type IEEE802_11 is not "
                           "supported (Ethernet, raw IP, Linux cooked v1 and v2)")
    assert stdout == b""
