"""siphon's command line: every bad argument gets exit 2 and a message that
names it; set-up failures of --io xdp get exit 1 and name the interface or
path; nothing is attached or written on the way (suite dp)."""
import os
import subprocess
from pathlib import Path

import pytest

SIPHON = os.environ["SIPHON"]
# whether this build has --io xdp (meson: xdp_io_enabled); without it every
# xdp command must say so instead
XDP_BUILT = os.environ["SIPHON_XDP"] == "1"
NOT_BUILT = "--io xdp is not built here"
CONF = Path(__file__).parent / "dp.conf"


def run(*args):
    return subprocess.run([SIPHON, *args], capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("args, message", [
    (["--io", "dpdk", "--config", str(CONF)], "--io 'dpdk': pcap or xdp"),
    ([], "--io '': pcap or xdp"),
    (["--io", "pcap", "--config", str(CONF)], "needs --config, --in and --out"),
    (["--io", "xdp", "--config", str(CONF)], "--io xdp needs --iface"),
    (["--io", "xdp", "--iface", "lo"], "--io xdp needs --config"),
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
