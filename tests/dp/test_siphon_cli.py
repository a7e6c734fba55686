"""siphon's command line: every bad argument gets exit 2 and a message that
names it; set-up failures of --io xdp get exit 1 and name the interface or
path; nothing is attached or written on the way (suite dp)."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SIPHON = os.environ["SIPHON"]
# whether this build has --io xdp (meson: xdp_io_enabled); without it every
# xdp command must say so instead
XDP_BUILT = os.environ["SIPHON_XDP"] == "1"
NOT_BUILT = "--io xdp is not built here"
CONF = Path(__file__).parent / "dp.conf"
VERSION = os.environ["SIPHON_VERSION"]  # meson.build's project version


def run(*args):
    return subprocess.run([SIPHON, *args], capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("args, message", [
    (["--io", "dpdk", "--config", str(CONF)], "--io dpdk needs the EAL arguments after --"),
    (["--io", "dpdk", "--", "--no-huge"], "--io dpdk needs --config FILE (standalone) or --siphond"),
    (["--io", "dpdk", "--config", str(CONF), "--siphond", "/x.sock", "--", "--no-huge"],
     "--config and --siphond exclude each other"),
    (["--io", "pcap", "--config", str(CONF), "--in", "a", "--out", "b", "--", "-l", "0"],
     "unexpected argument '-l'"),
    (["--io", "netmap", "--config", str(CONF)], "--io 'netmap': pcap, xdp or dpdk"),
    (["--config", str(CONF)], "--io '': pcap, xdp or dpdk"),
    (["--io", "pcap", "--config", str(CONF)], "needs --config (or --siphond), --in and --out"),
    (["--io", "xdp", "--iface", "lo", "--config", str(CONF), "--siphond", "/x.sock"],
     "--config and --siphond exclude each other"),
    (["--io", "pcap", "--config", str(CONF), "--state-dir", "/tmp", "--in", "a", "--out", "b"],
     "--state-dir goes with --siphond"),
    (["--io", "xdp", "--config", str(CONF)], "--io xdp needs --iface"),
    (["--io", "xdp", "--iface", "lo"], "--io xdp needs --config (standalone) or --siphond PATH"),
    (["--io", "xdp", "--iface", "lo", "--config", str(CONF), "--queues", "0"],
     "--queues '0': a whole number from 1 to 64"),
    (["--io", "xdp", "--iface", "lo", "--config", str(CONF), "--queues", "65"],
     "--queues '65': a whole number from 1 to 64"),
    (["--io", "xdp", "--iface", "lo", "--config", str(CONF), "--queues", "2x"],
     "--queues '2x'"),
    (["--io", "xdp", "--iface", "lo", "--config", str(CONF), "--queues", "-1"],
     "--queues '-1'"),
    (["--io", "xdp", "--iface", "lo", "--config", str(CONF), "--frames", "100"],
     "--frames '100': a whole number from 512"),
    (["--io", "xdp", "--iface", "lo", "--config", str(CONF), "--seconds", "0"],
     "--seconds '0'"),
    (["--io", "xdp", "--iface", "lo", "--config", str(CONF), "--stats-interval", "0"],
     "--stats-interval '0': a whole number from 1"),
    (["--io", "xdp", "--iface", "lo", "--config", str(CONF), "--cpu", "x"],
     "--cpu 'x'"),
    (["--io", "xdp", "--iface", "lo", "--config", str(CONF), "--coalesce-us", "1001"],
     "--coalesce-us '1001': a whole number from 0 to 1000"),
    (["--io", "pcap", "--config", str(CONF), "--in", "a", "--out", "b", "--coalesce-us", "100"],
     "--coalesce-us goes with --io xdp"),
    (["--io", "xdp", "--iface", "lo", "--config", str(CONF), "--kernel-lane", "maybe"],
     "--kernel-lane 'maybe': on or off"),
    (["--io", "xdp", "--iface", "lo", "--config", str(CONF), "--zero-copy", "--copy"],
     "--zero-copy and --copy exclude each other"),
    (["--io", "xdp", "--iface", "lo", "--detach", "--counters"], "one at a time"),
    (["--io", "xdp", "--iface", "lo", "--config", str(CONF), "extra"],
     "unexpected argument 'extra'"),
])
def test_bad_arguments(args, message):
    r = run(*args)
    assert r.returncode == 2, r
    assert message in r.stderr, r.stderr


def test_unknown_interface():
    r = run("--io", "xdp", "--iface", "sph-no-such-if", "--config", str(CONF), "--queues", "1")
    assert r.returncode == 1, r
    assert ("sph-no-such-if" if XDP_BUILT else NOT_BUILT) in r.stderr, r.stderr


def test_bpffs_that_is_not_one(tmp_path):
    r = run("--io", "xdp", "--iface", "lo", "--config", str(CONF), "--queues", "1",
            "--bpffs", str(tmp_path))
    assert r.returncode == 1, r
    assert ("not a bpffs mount" if XDP_BUILT else NOT_BUILT) in r.stderr, r.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written there


def test_counters_without_pins(tmp_path):
    r = run("--io", "xdp", "--iface", "lo", "--counters", "--bpffs", str(tmp_path))
    assert r.returncode == 1, r
    assert (str(tmp_path) if XDP_BUILT else NOT_BUILT) in r.stderr, r.stderr


def test_bad_config_is_named():
    r = run("--io", "xdp", "--iface", "lo", "--config", "/nonexistent/siphon.conf")
    assert r.returncode == 1, r
    assert "/nonexistent/siphon.conf" in r.stderr, r.stderr


def test_no_arguments_prints_the_usage():
    r = run()
    assert r.returncode == 2, r
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert lines[0] == "usage: siphon --io pcap --config FILE --in IN.pcap --out OUT.pcap " \
                       "[--punt PUNT.pcap]"
    assert "       siphon --version" in lines
    assert r.stderr == run("--bogus").stderr.split("\n", 1)[1]  # the same usage as a bad option


def test_version():
    r = run("--version")
    assert (r.returncode, r.stdout, r.stderr) == (0, f"siphon {VERSION}\n", "")
    h = run("--help")
    assert h.returncode == 0 and "siphon --version" in h.stdout


def test_sighup_is_ignored_with_a_log_line(tmp_path):
    """siphon --io pcap reading a FIFO runs as long as the writer keeps it
    open: a SIGHUP in the middle is logged and changes nothing."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from packets import eth, ip4, udp4, write_pcap
    fifo, whole = tmp_path / "in.fifo", tmp_path / "whole.pcap"
    src, vip = bytes([192, 0, 2, 7]), bytes([198, 51, 100, 10])
    frames = [eth(bytes.fromhex("02000000000a"), bytes.fromhex("020000000099"),
                  ip4(src, vip, 17, udp4(src, vip, 5062, 5060 + i, b"x" * 20))) for i in (1, 2)]
    write_pcap(whole, frames)
    data = whole.read_bytes()
    half = 24 + 16 + len(frames[0])
    os.mkfifo(fifo)
    p = subprocess.Popen([SIPHON, "--io", "pcap", "--config", CONF, "--in", fifo, "--out",
                          tmp_path / "out.pcap"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    try:
        with open(fifo, "wb") as w:  # opens once siphon has the handler and reads
            w.write(data[:half])
            w.flush()
            time.sleep(0.3)
            p.send_signal(signal.SIGHUP)
            time.sleep(0.3)
            assert p.poll() is None, "siphon died of SIGHUP"
            w.write(data[half:])
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, err
    assert err == "siphon: SIGHUP ignored: reload comes with siphond " \
                  "(restart siphon to load a new config)\n"
    c = json.loads(out)
    assert c["capture"]["records"] == 2 and c["packets"] == 2
