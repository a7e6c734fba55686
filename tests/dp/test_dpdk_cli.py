"""siphon --io dpdk set-up failures (docs/dpdk.md): bad EAL arguments, no
port, a port that cannot be opened, no hugepages, more lcores than the
port has queues. Each gets exit 1, EAL's line when EAL has one, and one
line of siphon's that says what to do; nothing is printed on stdout and
nothing is left in EAL's runtime directory (suite dp, registered when DPDK
is built)."""
import json
import os
import signal
import struct
import subprocess
import time
from pathlib import Path

import pytest

SIPHON = os.environ["SIPHON"]
ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "tests" / "bpf" / "lab.conf"
CALLS = ROOT / "tests" / "bpf" / "sipp_calls.pcap"
RUNTIME = Path("/var/run/dpdk") if os.getuid() == 0 else None


def free_hugepages():
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("HugePages_Free:"):
            return int(line.split()[1])
    return 0


def siphon_dpdk(name, *eal, lcores="0"):
    prefix = f"siphon-test-{os.getpid()}-{name}"
    r = subprocess.run([SIPHON, "--io", "dpdk", "--config", CONF, "--seconds", "1", "--exception-iface", "none", "--",
                        "-l", lcores, "--no-pci", "--file-prefix", prefix, *eal],
                       capture_output=True, text=True, timeout=60)
    if RUNTIME:
        assert not (RUNTIME / prefix).exists(), "EAL's runtime directory was left behind"
    return r


def siphon_lines(stderr):
    return [l for l in stderr.splitlines() if l.startswith("siphon: ")]


@pytest.mark.parametrize("name, eal, message", [
    ("bad-arg", ["--no-huge", "--bogus"], "EAL did not start: the EAL arguments are not valid"),
    ("bad-lcore", ["--no-huge", "--lcores", "4095"],
     "EAL did not start: the EAL arguments are not valid"),
    ("no-port", ["--no-huge"], "no DPDK port came up"),
    ("port-fails", ["--no-huge", "--vdev", "net_pcap0,rx_pcap=/nonexistent/in.pcap,tx_pcap=/tmp/x"],
     "no DPDK port came up: EAL's lines above name a device that failed"),
    ("queues", ["--no-huge", "--vdev", f"net_pcap0,rx_pcap={CALLS},tx_pcap=/dev/null"],
     "port 0 (net_pcap0) has 1 receive and 1 transmit queues, 2 worker lcores need 2"),
])
def test_set_up_failures(name, eal, message):
    r = siphon_dpdk(name, *eal, lcores="0,1" if name == "queues" else "0")
    assert r.returncode == 1, r
    assert r.stdout == ""
    lines = siphon_lines(r.stderr)
    assert len(lines) == 1 and message in lines[0], r.stderr
    if name == "bad-arg":
        assert "siphon EAL: unrecognized option '--bogus'" in r.stderr
        assert "EAL common options" not in r.stderr  # not EAL's usage page


def test_no_hugepages():
    if free_hugepages():
        pytest.skip("this machine has free hugepages now")
    r = siphon_dpdk("no-huge", "--vdev", "net_null0")
    assert r.returncode == 1, r
    assert siphon_lines(r.stderr) == [
        "siphon: DPDK EAL did not start: no usable hugepages: reserve and mount them "
        "(docs/dpdk.md), or give EAL --no-huge"], r.stderr


def hugetlbfs_mount():
    for line in Path("/proc/mounts").read_text().splitlines():
        dev, where, kind = line.split()[:3]
        if kind == "hugetlbfs":
            return Path(where)
    return None


def test_hugepages_are_given_back(tmp_path):
    """With hugepages (when this machine has them free and mounted): siphon
    runs on them and leaves no PREFIXmap_N file in the mount, so the pages
    are free again (EAL keeps its files unless told --huge-unlink, which
    siphon adds)."""
    mount, free = hugetlbfs_mount(), free_hugepages()
    if not mount or free < 64:
        pytest.skip("needs free hugepages and a hugetlbfs mount (docs/dpdk.md)")
    r = siphon_dpdk("huge", "-m", "64", "--huge-dir", str(mount), "--vdev",
                    f"net_pcap0,rx_pcap={CALLS},tx_pcap={tmp_path / 'out.pcap'}")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["mbufs"]["in_use_at_exit"] == 0
    assert not list(mount.glob(f"siphon-test-{os.getpid()}-hugemap_*"))
    assert free_hugepages() == free


def test_sigterm_stops_cleanly(tmp_path):
    """Without --seconds, SIGTERM ends the run: the ports are closed (the
    output capture complete), the summary printed, no mbuf in use."""
    out = tmp_path / "out.pcap"
    prefix = f"siphon-test-{os.getpid()}-sigterm"
    p = subprocess.Popen([SIPHON, "--io", "dpdk", "--config", CONF, "--exception-iface", "none", "--", "-l", "0",
                          "--no-huge",
                          "--no-pci", "--file-prefix", prefix, "--vdev",
                          f"net_pcap0,rx_pcap={CALLS},tx_pcap={out}"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.5)
        assert p.poll() is None, p.communicate()
        p.send_signal(signal.SIGTERM)
        stdout, stderr = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, stderr
    s = json.loads(stdout)
    assert s["mbufs"]["in_use_at_exit"] == 0
    assert s["dpdk"]["tx"] == s["outcomes"]["forward"] == s["ports"][0]["opackets"] > 0
    sizes = frame_sizes(out)
    assert len(sizes) == s["ports"][0]["opackets"]
    assert out.stat().st_size == 24 + sum(16 + n for n in sizes)  # no record cut short
    if RUNTIME:
        assert not (RUNTIME / prefix).exists()


def frame_sizes(path):
    data, off, sizes = path.read_bytes(), 24, []
    while off + 16 <= len(data):
        caplen = struct.unpack("<I", data[off + 8:off + 12])[0]
        sizes.append(caplen)
        off += 16 + caplen
    return sizes


def test_summary_file_and_stats_interval(tmp_path):
    """--summary FILE and --stats-interval as in --io xdp: while running,
    FILE is rewritten whole every interval with "running": true (the
    ports' counters and the mbufs in use now); at exit the final summary
    replaces it ("running": false, no mbuf in use), nothing goes to stdout,
    and no FILE.tmp is left."""
    summary = tmp_path / "summary.json"
    prefix = f"siphon-test-{os.getpid()}-summary"
    p = subprocess.Popen([SIPHON, "--io", "dpdk", "--config", CONF, "--exception-iface", "none",
                          "--summary", str(summary), "--stats-interval", "1", "--seconds", "4", "--",
                          "-l", "0", "--no-huge", "--no-pci", "--file-prefix", prefix, "--vdev",
                          f"net_pcap0,rx_pcap={CALLS},tx_pcap={tmp_path / 'out.pcap'}"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    live = []
    try:
        deadline = time.monotonic() + 30
        while p.poll() is None and time.monotonic() < deadline:
            if summary.exists():
                s = json.loads(summary.read_text())  # whole, or the rename had not happened
                if s["running"]:
                    live.append(s)
            time.sleep(0.2)
        stdout, stderr = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, stderr
    assert stdout == ""
    assert live, "no live summary while running"
    s = live[-1]
    assert s["io"] == "dpdk" and s["lcores"] == 1 and "in_use" in s["mbufs"], s
    assert s["ports"][0]["ipackets"] == s["dpdk"]["rx"] == s["packets"] > 0, s
    final = json.loads(summary.read_text())
    assert final["running"] is False and final["mbufs"]["in_use_at_exit"] == 0, final
    assert final["dpdk"]["tx"] == final["outcomes"]["forward"] == final["ports"][0]["opackets"] > 0
    assert not (tmp_path / "summary.json.tmp").exists()
    if RUNTIME:
        assert not (RUNTIME / prefix).exists()
