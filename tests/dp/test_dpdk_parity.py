"""siphon --io dpdk against --io pcap (docs/dpdk.md): the same capture,
replayed by --io pcap and received by --io dpdk through DPDK's net_pcap
(rx_pcap=IN, tx_pcap=OUT), gives the same forwarded frames, byte for byte
and in order, and the same pipeline counters. DPDK runs without system
hugepages (--no-huge, a small pool) under a file prefix of its own, and
leaves no mbuf in use and nothing in EAL's runtime directory (suite dp,
registered when DPDK is built)."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from packets import read_pcap, read_pcap_records, write_pcap  # noqa: E402
import test_one_path  # noqa: E402  (its corpus capture)
import test_pcap_path  # noqa: E402  (its frames for every forwarding mode)
import test_siphond_gen  # noqa: E402  (its stand-in siphond and generations)

SIPHON = os.environ["SIPHON"]
ROOT = Path(__file__).resolve().parents[2]
RUNTIME = Path("/var/run/dpdk") if os.getuid() == 0 else None


def eal_args(tmp_path, name, rx, tx, lcores="0"):
    """EAL for one net_pcap port, no PCI, no hugepages, a prefix of its own."""
    prefix = f"siphon-test-{os.getpid()}-{name}"
    return prefix, ["-l", lcores, "-n", "1", "--no-huge", "-m", "64", "--no-pci",
                    "--file-prefix", prefix, "--vdev", f"net_pcap0,rx_pcap={rx},tx_pcap={tx}"]


def run_pcap(tmp_path, conf, capture):
    out, punt = tmp_path / "pcap-out.pcap", tmp_path / "pcap-punt.pcap"
    p = subprocess.run([SIPHON, "--io", "pcap", "--config", conf, "--in", capture, "--out", out,
                        "--punt", punt], capture_output=True, timeout=120)
    assert p.returncode == 0, p.stderr.decode()
    return read_pcap(out), read_pcap(punt), json.loads(p.stdout)


# net_pcap writes at most this much of a frame in mbuf chains (its
# RTE_ETH_PCAP_SNAPLEN): a longer one is in OUT with caplen < len.
NET_PCAP_SNAPLEN = 16128


def as_net_pcap_writes(frames):
    """(caplen bytes, len) of each frame as net_pcap's tx_pcap records it."""
    return [(f[:NET_PCAP_SNAPLEN], len(f)) for f in frames]


def run_dpdk(tmp_path, conf, capture, seconds=1):
    out = tmp_path / "dpdk-out.pcap"
    prefix, eal = eal_args(tmp_path, "parity", capture, out)
    p = subprocess.run([SIPHON, "--io", "dpdk", "--config", conf, "--seconds", str(seconds),
                        "--exception-iface", "none", "--", *eal], capture_output=True, timeout=120)
    assert p.returncode == 0, p.stderr.decode()
    summary = json.loads(p.stdout)
    assert summary["mbufs"]["in_use_at_exit"] == 0
    # no kernel interface faces the nodes: the config's MACs only, said at start
    assert summary["next_hops"] is None
    assert ("next hops: the config's MACs only (--exception-iface none and no --egress"
            in p.stderr.decode())
    if RUNTIME:
        assert not (RUNTIME / prefix).exists()
    _, records = read_pcap_records(out)
    return [(data, wire) for _, wire, data in records], summary


def assert_same(tmp_path, conf, capture):
    want, punted, ps = run_pcap(tmp_path, conf, capture)
    got, ds = run_dpdk(tmp_path, conf, capture)
    assert got == as_net_pcap_writes(want)  # every forwarded frame, byte for byte, in order
    for key, value in ps.items():
        if key != "capture":
            assert ds[key] == value, key
    n = len(read_pcap(capture))
    port = ds["ports"][0]
    assert ds["dpdk"]["rx"] == port["ipackets"] == ps["packets"] == n
    assert ds["dpdk"]["tx"] == port["opackets"] == len(want)
    # no exception interface here (test_dpdk_exception has one): what --io
    # pcap gives the kernel is counted and freed
    assert ds["dpdk"]["to_kernel_dropped"] == len(punted)
    assert ds["dpdk"]["to_kernel"] == ds["dpdk"]["from_kernel"] == 0 and ds["exception"] is None
    assert ds["dpdk"]["tx_full"] == ds["dpdk"]["multi_segment_no_mbuf"] == 0
    return ds


def test_sipp_calls(tmp_path):
    """SIPp's calls through the lab's config (docs/lab.md)."""
    ds = assert_same(tmp_path, ROOT / "tests" / "bpf" / "lab.conf",
                     ROOT / "tests" / "bpf" / "sipp_calls.pcap")
    assert ds["outcomes"]["forward"] > 0 and ds["outcomes"]["pass"] > 0


def unlimited(tmp_path, conf):
    """conf with its rate limits out of reach: --io pcap runs on the
    capture's clock, --io dpdk on the wall clock, which takes the whole
    capture in a few milliseconds (the rule still matches and counts)."""
    text = re.sub(r"rate-limit \d+/s burst \d+", "rate-limit 10000000/s burst 10000000",
                  conf.read_text())
    path = tmp_path / ("unlimited-" + conf.name)
    path.write_text(text)
    return path


def test_the_corpus_and_the_example_calls(tmp_path):
    """test_one_path's capture: every corpus message over UDP and TCP, IPv4
    and IPv6, to the VIPs and elsewhere, and the example calls (edge.conf);
    frames up to 59 KB, which DPDK receives in chains of mbufs."""
    capture, _ = test_one_path.capture(tmp_path)
    ds = assert_same(tmp_path, unlimited(tmp_path, test_one_path.EDGE), capture)
    assert all(ds["outcomes"][k] for k in ("forward", "drop", "pass"))
    assert ds["dpdk"]["multi_segment"] > 0


def test_every_forwarding_mode_and_fragments(tmp_path):
    """dsr (with a VLAN tag), nat over IPv4 and IPv6, encap that grows the
    frame, and a fragmented INVITE whose fragments are held and released."""
    pp = test_pcap_path
    frames = [
        pp.v4_sip(pp.sip("SIP/2.0 200 OK", "r1", ";tag=t9", ";nid=d2"), "192.0.2.7"),
        pp.v4_sip(pp.sip("SIP/2.0 180 Ringing", "r2", ";tag=t9", ";nid=d1"), "192.0.2.7", vlan=100),
        pp.v4_sip(pp.sip(pp.INVITE, "n1"), "203.0.113.9"),
        pp.v6_sip(pp.sip(pp.INVITE, "n6"), "2001:db8:77::9"),
        pp.v4_sip(pp.sip(pp.INVITE, "e1"), "203.0.113.200"),
        pp.v4_sip(pp.sip(pp.INVITE, "blocked"), "192.0.2.201"),
    ]
    sent, _ = pp.nat_fragment_case("frag1")
    frames += [sent[1], sent[0], sent[2]]  # out of order: held until the first
    capture = tmp_path / "in.pcap"
    write_pcap(capture, frames)
    ds = assert_same(tmp_path, test_pcap_path.CONF, capture)
    assert ds["fragments"]["held"] > 0 and ds["nodes"]["e1"] == 1


def test_two_lcores_sum_their_counters(tmp_path):
    """Two lcores, two queues (net_pcap: one per rx_pcap=), the capture
    dealt between them: each lcore forwards its half, and the summary sums
    the two workers' counters to what --io pcap counts for the whole."""
    conf, capture = ROOT / "tests" / "bpf" / "lab.conf", ROOT / "tests" / "bpf" / "sipp_calls.pcap"
    want, _, ps = run_pcap(tmp_path, conf, capture)
    frames = read_pcap(capture)
    halves = [tmp_path / "in0.pcap", tmp_path / "in1.pcap"]
    write_pcap(halves[0], frames[0::2])
    write_pcap(halves[1], frames[1::2])
    outs = [tmp_path / "out0.pcap", tmp_path / "out1.pcap"]
    prefix = f"siphon-test-{os.getpid()}-two"
    vdev = "net_pcap0," + ",".join(f"rx_pcap={i}" for i in halves) + "," + \
           ",".join(f"tx_pcap={o}" for o in outs)
    p = subprocess.run([SIPHON, "--io", "dpdk", "--config", conf, "--seconds", "1",
                        "--exception-iface", "none", "--",
                        "-l", "0,1", "-n", "1", "--no-huge", "-m", "64", "--no-pci",
                        "--file-prefix", prefix, "--vdev", vdev],
                       capture_output=True, timeout=120)
    assert p.returncode == 0, p.stderr.decode()
    ds = json.loads(p.stdout)
    assert ds["lcores"] == 2 and ds["mbufs"]["in_use_at_exit"] == 0
    for key, value in ps.items():
        if key != "capture":
            assert ds[key] == value, key
    got = [read_pcap(o) for o in outs]
    assert all(got) and sorted(got[0] + got[1]) == sorted(want)


def test_generations_from_siphond(tmp_path):
    """--siphond: generation 1 (dp.conf) from the stand-in publisher runs
    the capture as --io pcap --config dp.conf does; generation 2 (a node
    added), published 300 ms later, is applied (ACK 0) and swapped into the
    worker; siphond got counter snapshots."""
    sg = test_siphond_gen
    capture = tmp_path / "in.pcap"
    write_pcap(capture, [sg.invite(i) for i in range(sg.CALLS)])
    want, _, ps = run_pcap(tmp_path, sg.CONF, capture)
    sock = str(tmp_path / "siphond.sock")
    pub = sg.publisher(sock, sg.CONF, 1, "--then-config", sg.conf_with_d3(tmp_path),
                       "--then-generation", "2", "--then-after-ms", "300")
    out = tmp_path / "dpdk-out.pcap"
    prefix, eal = eal_args(tmp_path, "siphond", capture, out)
    p = subprocess.run([SIPHON, "--io", "dpdk", "--siphond", sock, "--state-dir",
                        tmp_path / "no-state", "--seconds", "2", "--exception-iface", "none", "--", *eal],
                       capture_output=True, timeout=120)
    assert p.returncode == 0, p.stderr.decode()
    ev = sg.events(pub)
    assert ev[0]["line"]["params"] == {"name": "siphon-dpdk", "generation": 0}
    assert sg.acks(ev) == [{"event": "ack", "generation": 1, "status": 0, "reason": ""},
                           {"event": "ack", "generation": 2, "status": 0, "reason": ""}]
    ds = json.loads(p.stdout)
    # the last snapshot, sent at exit, holds every packet the summary counts
    snaps = [e for e in ev if e["event"] == "counters"]
    assert snaps and snaps[-1]["generation"] == 2
    assert snaps[-1]["named"]["packets.in"] == ds["packets"], (snaps[-1]["named"], ds["packets"])
    assert read_pcap(out) == want and len(want) == sg.CALLS
    for key in ("packets", "outcomes", "reasons", "packet_reasons", "dispatch"):
        assert ds[key] == ps[key], key
    g = ds["generation"]
    assert (g["running"], g["applied"], g["swapped"], ds["dpdk"]["generations"]) == (2, 2, 1, 1)
    assert g["counters_sent"] >= 1 and ds["mbufs"]["in_use_at_exit"] == 0
    assert "d3" in ds["nodes"]  # the summary shows the running generation's nodes
    if RUNTIME:
        assert not (RUNTIME / prefix).exists()


def test_egress_port(tmp_path):
    """--egress net_pcap1: every forwarded frame leaves by the second port,
    which siphon only sends on (its rx_pcap is never read); the first
    port sends nothing."""
    conf, capture = ROOT / "tests" / "bpf" / "lab.conf", ROOT / "tests" / "bpf" / "sipp_calls.pcap"
    want, _, _ = run_pcap(tmp_path, conf, capture)
    out0, out1 = tmp_path / "out0.pcap", tmp_path / "out1.pcap"
    prefix, eal = eal_args(tmp_path, "egress", capture, out0)
    p = subprocess.run([SIPHON, "--io", "dpdk", "--config", conf, "--seconds", "1", "--egress",
                        "net_pcap1", "--exception-iface", "none", "--", *eal, "--vdev",
                        f"net_pcap1,rx_pcap={capture},tx_pcap={out1}"], capture_output=True, timeout=120)
    assert p.returncode == 0, p.stderr.decode()
    ds = json.loads(p.stdout)
    assert read_pcap(out1) == want and read_pcap(out0) == []
    assert [port["ipackets"] for port in ds["ports"]] == [len(read_pcap(capture)), 0]
    assert ds["mbufs"]["in_use_at_exit"] == 0
    for bad, says in (("net_pcap0", "is port 0"), ("net_nothing", "no such DPDK port")):
        p = subprocess.run([SIPHON, "--io", "dpdk", "--config", conf, "--seconds", "1", "--egress",
                            bad, "--exception-iface", "none", "--", *eal], capture_output=True,
                           text=True, timeout=120)
        assert p.returncode == 1 and f"siphon: --egress {bad}: {says}" in p.stderr
