"""siphon --io dpdk's next hops from the kernel (docs/dpdk.md "Next hops"):
a node without a MAC in the config gets the MAC of the kernel's neighbour
entry on the exception TAP, byte for byte what --io pcap writes when the
config gives that MAC; a node the kernel has no route to by the TAP is
dropped `no_route`; one whose neighbour is not known yet is dropped
`no_neighbour`, and the kernel's ARP request for it leaves by the data port.

lab.conf with b1 (198.18.2.21) and b2 without their MACs, b2 moved off the
TAP's subnet (198.18.7.22: no route), b3 with its config MAC. Each run is in
a network namespace of its own (`unshare -n`) with a persistent TAP holding
198.18.2.1/24, IPv6 off. Root only (suite dp; skipped otherwise or without
DPDK)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from packets import read_pcap  # noqa: E402

ROOT = HERE.parents[1]
LAB_CONF = ROOT / "tests" / "bpf" / "lab.conf"
CALLS = ROOT / "tests" / "bpf" / "sipp_calls.pcap"
TAP = "sph-x-nh"
B1_MAC = "02:00:00:18:0b:01"  # the kernel's neighbour entry for b1
PORT_MAC = "02:70:63:61:70:00"  # net_pcap0's (DPDK's "pcap" MAC, port 0)

pytestmark = pytest.mark.skipif(os.getuid() != 0, reason="a TAP and a namespace need root")


def configs(tmp_path):
    """The test's config (b1, b2 without MAC) and the reference one for
    --io pcap (b1 with the MAC the kernel will give)."""
    text = LAB_CONF.read_text()
    text = text.replace(' mac = "02:00:00:18:02:21";', "")
    text = text.replace('"198.18.2.22"; port = 5060; mac = "02:00:00:18:02:22";',
                        '"198.18.7.22"; port = 5060;')
    conf, ref = tmp_path / "nh.conf", tmp_path / "nh-ref.conf"
    conf.write_text(text)
    ref.write_text(text.replace('"198.18.2.21"; port = 5060;',
                                f'"198.18.2.21"; port = 5060; mac = "{B1_MAC}";'))
    return conf, ref


def inside(siphon, conf, out, prefix, neighbour):
    """In the new namespace: the TAP with its address (and b1's neighbour
    entry when asked), then siphon over the capture; prints its result."""
    sh = lambda *a: subprocess.run(a, check=True)  # noqa: E731
    sh("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
    sh("ip", "link", "set", "lo", "up")
    sh("ip", "tuntap", "add", "dev", TAP, "mode", "tap")
    # net_pcap0's MAC already, as after an earlier siphon: siphon leaves it
    # (a new MAC would flush the neighbour entry set below)
    sh("ip", "link", "set", "dev", TAP, "address", PORT_MAC, "up")
    sh("ip", "addr", "add", "198.18.2.1/24", "dev", TAP)
    if neighbour == "yes":
        sh("ip", "neigh", "replace", "198.18.2.21", "lladdr", B1_MAC, "dev", TAP, "nud", "permanent")
    p = subprocess.run([siphon, "--io", "dpdk", "--config", conf, "--seconds", "2",
                        "--exception-iface", TAP, "--", "-l", "0", "-n", "1", "--no-huge",
                        "-m", "64", "--no-pci", "--file-prefix", prefix, "--vdev",
                        f"net_pcap0,rx_pcap={CALLS},tx_pcap={out}"],
                       capture_output=True, text=True, timeout=60)
    mac = json.loads(subprocess.run(["ip", "-j", "link", "show", "dev", TAP], check=True,
                                    capture_output=True, text=True).stdout)[0]["address"]
    print(json.dumps({"rc": p.returncode, "stderr": p.stderr, "summary": p.stdout, "mac": mac}))


def run_in_netns(tmp_path, conf, neighbour):
    out = tmp_path / f"out-{neighbour}.pcap"
    prefix = f"siphon-test-{os.getpid()}-nh-{neighbour}"
    r = subprocess.run(["unshare", "-n", sys.executable, __file__, os.environ["SIPHON"],
                        str(conf), str(out), prefix, neighbour],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert res["rc"] == 0, res["stderr"]
    assert f"next hops of nodes without a MAC: the kernel's on {TAP}" in res["stderr"]
    res["summary"] = json.loads(res["summary"])
    assert res["summary"]["mbufs"]["in_use_at_exit"] == 0
    return res, read_pcap(out)


def reference(tmp_path, ref):
    out = tmp_path / "pcap-out.pcap"
    p = subprocess.run([os.environ["SIPHON"], "--io", "pcap", "--config", ref, "--in", CALLS,
                        "--out", out], capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr.decode()
    return json.loads(p.stdout), read_pcap(out)


def test_node_without_mac_takes_the_kernels_neighbour(tmp_path):
    conf, ref = configs(tmp_path)
    want, want_frames = reference(tmp_path, ref)
    # the capture's calls reach every node: b2's are the ones without a next hop
    assert want["nodes"]["b1"] > 0 and want["nodes"]["b3"] > 0
    assert want["packet_reasons"]["no_next_hop"] > 0

    res, frames = run_in_netns(tmp_path, conf, "yes")
    s = res["summary"]
    # b1's frames carry the neighbour entry's MAC: byte for byte --io pcap's
    assert frames == want_frames
    assert s["nodes"] == want["nodes"]
    assert s["packet_reasons"]["no_route"] == want["packet_reasons"]["no_next_hop"]
    assert s["packet_reasons"]["no_next_hop"] == 0 and s["packet_reasons"]["no_neighbour"] == 0
    assert s["next_hops"]["nodes"] == {"b1": B1_MAC, "b2": "no_route",
                                       "b3": "config 02:00:00:18:02:23"}


def test_missing_neighbour_is_asked_for_through_the_port(tmp_path):
    conf, ref = configs(tmp_path)
    want, want_frames = reference(tmp_path, ref)

    res, frames = run_in_netns(tmp_path, conf, "no")
    s = res["summary"]
    assert s["packet_reasons"]["no_neighbour"] == want["nodes"]["b1"]
    assert s["nodes"]["b1"] == 0 and s["nodes"]["b3"] == want["nodes"]["b3"]
    assert s["next_hops"]["resolve_asked"] >= 1
    # the kernel's ARP request for b1, from the TAP's (the port's) MAC,
    # left by the data port: everything else there is b3's forwarded frames
    assert res["mac"] == PORT_MAC
    mac = bytes.fromhex(PORT_MAC.replace(":", ""))
    arp = [f for f in frames if f[12:14] == b"\x08\x06"]
    assert arp and all(f[:6] == b"\xff" * 6 and f[6:12] == mac and f[20:22] == b"\x00\x01"
                       and f[38:42] == bytes([198, 18, 2, 21]) for f in arp)
    assert s["dpdk"]["from_kernel"] == len(arp)
    assert [f for f in frames if f[12:14] != b"\x08\x06"] == [
        f for f in want_frames if f[:6] != bytes.fromhex(B1_MAC.replace(":", ""))]


if __name__ == "__main__":
    inside(*sys.argv[1:])
