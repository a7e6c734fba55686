"""siphon --io dpdk's exception path (docs/dpdk.md "Exception path"): what
the pipeline punts or passes comes out on the exception interface (a TAP)
byte for byte as --io pcap writes it to --punt, and a frame the kernel
sends on the TAP leaves by the data port (net_pcap's tx_pcap).

Each run is in a network namespace of its own (`unshare -n`: anonymous,
gone with the process), where a persistent TAP is made first so that a
packet socket is on it before siphon replays the capture; IPv6 is off
there so that the kernel sends nothing of its own on the TAP. Root only
(suite dp; skipped otherwise or without DPDK)."""
import ipaddress
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from packets import eth, ip4, read_pcap, read_pcap_records, udp4, write_pcap  # noqa: E402

ROOT = HERE.parents[1]
CONF = ROOT / "tests" / "bpf" / "lab.conf"
CALLS = ROOT / "tests" / "bpf" / "sipp_calls.pcap"
TAP = "sph-x-test"
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4

pytestmark = pytest.mark.skipif(os.getuid() != 0, reason="a TAP and a namespace need root")


def options_to_the_vip():
    """OPTIONS to the lab's VIP: lab.conf answers it by rule (reply 200),
    which the fast path punts to siphond."""
    src, vip = ipaddress.ip_address("198.18.1.2").packed, ipaddress.ip_address("198.18.0.10").packed
    sip = (b"OPTIONS sip:198.18.0.10 SIP/2.0\r\n"
           b"Via: SIP/2.0/UDP 198.18.1.2:5062;branch=z9hG4bK-exc1\r\n"
           b"From: <sip:probe@198.18.1.2>;tag=f1\r\nTo: <sip:198.18.0.10>\r\n"
           b"Call-ID: exc1@198.18.1.2\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
           b"Content-Length: 0\r\n\r\n")
    return eth(bytes.fromhex("020000180001"), bytes.fromhex("020000180102"),
               ip4(src, vip, 17, udp4(src, vip, 5062, 5060, sip)))


def from_the_kernel(mac):
    """A frame the kernel might send on the TAP (an answer from siphond's
    socket): from the port's MAC toward the caller."""
    lb, caller = ipaddress.ip_address("198.18.1.1").packed, ipaddress.ip_address("198.18.1.2").packed
    return eth(bytes.fromhex("020000180102"), mac,
               ip4(lb, caller, 17, udp4(lb, caller, 5060, 5062, b"SIP/2.0 200 OK exception test")))


def inside(siphon, capture, out, prefix):
    """In the new namespace: the TAP, a packet socket on it, siphon, one
    frame written to the TAP; prints the summary and what the TAP got."""
    sh = lambda *a: subprocess.run(a, check=True)  # noqa: E731
    sh("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
    sh("ip", "link", "set", "lo", "up")
    sh("ip", "tuntap", "add", "dev", TAP, "mode", "tap")
    sh("ip", "link", "set", "dev", TAP, "up")  # bound to a down link, the socket gets ENETDOWN
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    s.bind((TAP, 0))
    p = subprocess.Popen([siphon, "--io", "dpdk", "--config", CONF, "--seconds", "4",
                          "--exception-iface", TAP, "--", "-l", "0", "-n", "1", "--no-huge",
                          "-m", "64", "--no-pci", "--file-prefix", prefix, "--vdev",
                          f"net_pcap0,rx_pcap={capture},tx_pcap={out}"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    link = {}
    for _ in range(60):  # up and attached (LOWER_UP), with the port's MAC: siphon has it
        link = json.loads(subprocess.run(["ip", "-j", "link", "show", "dev", TAP], check=True,
                                         capture_output=True, text=True).stdout)[0]
        if "LOWER_UP" in link["flags"]:
            break
        time.sleep(0.05)
    time.sleep(0.3)
    injected = from_the_kernel(bytes.fromhex(link["address"].replace(":", "")))
    s.send(injected)
    stdout, stderr = p.communicate(timeout=60)
    s.setblocking(False)
    got = []
    while True:
        try:
            data, addr = s.recvfrom(65536)
        except BlockingIOError:
            break
        if addr[2] != PACKET_OUTGOING:
            got.append(data.hex())
    print(json.dumps({"rc": p.returncode, "stderr": stderr, "summary": stdout, "link": link,
                      "to_kernel": got, "injected": injected.hex()}))


def run_in_netns(tmp_path, capture, name):
    out = tmp_path / f"{name}-out.pcap"
    prefix = f"siphon-test-{os.getpid()}-{name}"
    r = subprocess.run(["unshare", "-n", sys.executable, __file__, os.environ["SIPHON"],
                        str(capture), str(out), prefix], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert res["rc"] == 0, res["stderr"]
    res["summary"] = json.loads(res["summary"])
    _, records = read_pcap_records(out)
    res["out"] = [data for _, _, data in records]
    return res


def test_punted_and_passed_frames_reach_the_kernel_and_back(tmp_path):
    capture = tmp_path / "in.pcap"
    write_pcap(capture, read_pcap(CALLS) + [options_to_the_vip()])
    pcap_out, pcap_punt = tmp_path / "pcap-out.pcap", tmp_path / "pcap-punt.pcap"
    p = subprocess.run([os.environ["SIPHON"], "--io", "pcap", "--config", CONF, "--in", capture,
                        "--out", pcap_out, "--punt", pcap_punt], capture_output=True, timeout=120)
    assert p.returncode == 0, p.stderr.decode()
    ps = json.loads(p.stdout)
    want_punted = read_pcap(pcap_punt)
    assert ps["outcomes"]["punt"] == 1 and ps["outcomes"]["pass"] > 0  # the OPTIONS, ARP, ...

    res = run_in_netns(tmp_path, capture, "exc")
    d, ds = res["summary"]["dpdk"], res["summary"]
    # the TAP carries the data port's MAC, under the name given
    assert ds["exception"] == {"iface": TAP, "mac": res["link"]["address"]}
    # every punted and passed frame, byte for byte and in order, on the TAP
    assert [bytes.fromhex(h) for h in res["to_kernel"]] == want_punted
    assert d["to_kernel"] == len(want_punted) and d["to_kernel_dropped"] == 0
    # the kernel's frame left by the port, after or among the forwarded ones
    injected = bytes.fromhex(res["injected"])
    assert d["from_kernel"] == 1 and d["from_kernel_dropped"] == 0
    assert res["out"].count(injected) == 1
    assert [f for f in res["out"] if f != injected] == read_pcap(pcap_out)
    assert d["tx"] == ds["ports"][0]["opackets"] == len(read_pcap(pcap_out)) + 1
    assert ds["mbufs"]["in_use_at_exit"] == 0


def test_siphon_creates_the_interface_when_missing(tmp_path):
    """Without a TAP of that name, siphon makes one for the run (gone with
    siphon; the lab makes a persistent one, whose addresses outlive it)."""
    out = tmp_path / "out.pcap"
    prefix = f"siphon-test-{os.getpid()}-create"
    script = (f'"$SIPHON" --io dpdk --config {CONF} --seconds 1 --exception-iface sph-x-new -- '
              f'-l 0 -n 1 --no-huge -m 64 --no-pci --file-prefix {prefix} '
              f'--vdev net_pcap0,rx_pcap={CALLS},tx_pcap={out} & '
              'sleep 0.5; ip -j link show dev sph-x-new >&2; wait $!; '
              'ip link show dev sph-x-new >/dev/null 2>&1 && echo left behind >&2 && exit 3; exit 0')
    r = subprocess.run(["unshare", "-n", "sh", "-c", script], capture_output=True, text=True,
                       timeout=60, env=dict(os.environ))
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    link = json.loads(next(line for line in r.stderr.splitlines() if line.startswith("[")))[0]
    assert s["exception"] == {"iface": "sph-x-new", "mac": link["address"]}
    assert s["dpdk"]["to_kernel"] == s["outcomes"]["pass"] + s["outcomes"]["punt"] > 0


if __name__ == "__main__":
    inside(*sys.argv[1:])
