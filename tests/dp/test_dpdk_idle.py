"""siphon --io dpdk's idle back-off (docs/dpdk.md "Idle"): a worker whose
ports stay empty sleeps (counted), and the frames that arrive while it is
in back-off are every one forwarded, byte for byte as --io pcap forwards
them; --idle-sleep-us 0 never sleeps.

The live run is in a network namespace of its own (`unshare -n`: gone with
the process) with two veth pairs, as bench/dpdk's: frames go in on
`idl-gen` -> `idl-in` (siphon's net_af_packet port 0) and leave by
`idl-out` (the --egress port) -> `idl-sink`, where a packet socket takes
them; IPv6 is off, so the kernel sends nothing of its own. The frames are
sent in bursts once siphon's live summary shows it asleep. Assertions are
counts and bytes, never times. Root only (suite dp; skipped without DPDK)."""
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
from packets import read_pcap  # noqa: E402

ROOT = HERE.parents[1]
CONF = ROOT / "tests" / "bpf" / "lab.conf"
CALLS = ROOT / "tests" / "bpf" / "sipp_calls.pcap"
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
BURSTS = 4


def live_summary(path):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def inside(siphon, capture, summary, prefix, idle_us):
    """In the new namespace: the veths, siphon on them, the capture's
    frames sent in bursts while it is asleep; prints what came out."""
    sh = lambda *a: subprocess.run(a, check=True)  # noqa: E731
    sh("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
    sh("ip", "link", "set", "lo", "up")
    for a, b in (("idl-gen", "idl-in"), ("idl-out", "idl-sink")):
        sh("ip", "link", "add", a, "type", "veth", "peer", "name", b)
        sh("ip", "link", "set", a, "up")
        sh("ip", "link", "set", b, "up")
    sink = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sink.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    sink.bind(("idl-sink", 0))
    gen = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    gen.bind(("idl-gen", 0))
    p = subprocess.Popen([siphon, "--io", "dpdk", "--config", CONF, "--seconds", "4",
                          "--exception-iface", "none", "--egress", "net_af_packet1",
                          "--idle-sleep-us", idle_us, "--summary", summary, "--stats-interval", "1",
                          "--", "-l", "0", "-n", "1", "--no-huge", "-m", "64", "--no-pci",
                          "--file-prefix", prefix, "--vdev", "net_af_packet0,iface=idl-in",
                          "--vdev", "net_af_packet1,iface=idl-out"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    asleep_before = None
    for _ in range(100):  # the first live summary: siphon runs, and has been idle
        s = live_summary(summary)
        if s and s.get("running"):
            asleep_before = s["dpdk"]["idle_sleeps"]
            break
        time.sleep(0.05)
    frames = read_pcap(Path(capture))
    per = -(-len(frames) // BURSTS)
    for i in range(0, len(frames), per):  # bursts apart: each finds the worker backed off
        for f in frames[i:i + per]:
            gen.send(f)
        time.sleep(0.05)
    stdout, stderr = p.communicate(timeout=60)
    sink.setblocking(False)
    got = []
    while True:
        try:
            data, addr = sink.recvfrom(65536)
        except BlockingIOError:
            break
        if addr[2] != PACKET_OUTGOING:
            got.append(data.hex())
    print(json.dumps({"rc": p.returncode, "stderr": stderr, "summary": live_summary(summary),
                      "asleep_before": asleep_before, "out": got}))


def run_in_netns(tmp_path, name, idle_us):
    prefix = f"siphon-test-{os.getpid()}-{name}"
    r = subprocess.run(["unshare", "-n", sys.executable, __file__, os.environ["SIPHON"], str(CALLS),
                        str(tmp_path / f"{name}.json"), prefix, str(idle_us)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert res["rc"] == 0, res["stderr"]
    return res


def forwarded_by_pcap(tmp_path):
    out = tmp_path / "pcap-out.pcap"
    p = subprocess.run([os.environ["SIPHON"], "--io", "pcap", "--config", CONF, "--in", CALLS,
                        "--out", out], capture_output=True, timeout=120)
    assert p.returncode == 0, p.stderr.decode()
    return read_pcap(out)


@pytest.mark.skipif(os.getuid() != 0, reason="veths and a namespace need root")
def test_frames_arriving_in_back_off_are_all_forwarded(tmp_path):
    want = forwarded_by_pcap(tmp_path)
    res = run_in_netns(tmp_path, "idle", 200)
    s, d = res["summary"], res["summary"]["dpdk"]
    assert res["asleep_before"] and res["asleep_before"] > 0  # asleep before any frame came
    assert d["rx"] == s["ports"][0]["ipackets"] == len(read_pcap(CALLS))
    # every frame forwarded, byte for byte and in order, as --io pcap does
    assert [bytes.fromhex(h) for h in res["out"]] == want
    assert d["tx"] == len(want) and d["tx_full"] == 0
    assert d["to_kernel_dropped"] == s["outcomes"]["pass"] + s["outcomes"]["punt"]
    # it kept backing off after the frames: more sleeps than before them
    assert d["idle_sleeps"] > res["asleep_before"]
    assert d["empty_polls"] >= d["idle_sleeps"] - d["rx"]  # a light loop (a frame or more) may sleep too
    # each sleep between the first step and the bound
    assert 8 * d["idle_sleeps"] <= d["idle_sleep_us"] <= 200 * d["idle_sleeps"]
    assert s["mbufs"]["in_use_at_exit"] == 0


def test_idle_sleep_0_polls_without_rest(tmp_path):
    out = tmp_path / "out.pcap"
    r = subprocess.run([os.environ["SIPHON"], "--io", "dpdk", "--config", CONF, "--seconds", "1",
                        "--exception-iface", "none", "--idle-sleep-us", "0", "--", "-l", "0", "-n",
                        "1", "--no-huge", "-m", "64", "--no-pci", "--file-prefix",
                        f"siphon-test-{os.getpid()}-poll", "--vdev",
                        f"net_pcap0,rx_pcap={CALLS},tx_pcap={out}"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)["dpdk"]
    assert d["idle_sleeps"] == 0 and d["idle_sleep_us"] == 0
    assert d["empty_polls"] > 0  # the capture ran out at once: idle, polled
    assert d["tx"] == len(forwarded_by_pcap(tmp_path))
    assert "idle sleep up to 0 us" in r.stderr


def test_idle_sleep_us_out_of_range_is_a_command_line_error():
    for args in (["--io", "dpdk", "--config", str(CONF), "--idle-sleep-us", "1001", "--", "-l", "0"],
                 ["--io", "pcap", "--config", str(CONF), "--idle-sleep-us", "100", "--in", str(CALLS),
                  "--out", "/dev/null"]):
        r = subprocess.run([os.environ["SIPHON"], *args], capture_output=True, text=True, timeout=30)
        assert r.returncode == 2 and "--idle-sleep-us" in r.stderr, r.stderr


if __name__ == "__main__":
    inside(*sys.argv[1:])
