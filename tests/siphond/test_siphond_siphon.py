"""The real pair: siphond publishes, `siphon --io pcap --siphond` takes the
generation and replays a capture (docs/generations.md). The output must be
byte for byte what `siphon --config` makes of the same config: the tables
travel whole. A reload changes what siphon forwards; with siphond gone,
siphon starts from the generation siphond persisted."""
import ipaddress
import os
import signal
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from packets import eth, ip4, udp4, write_pcap  # noqa: E402
from waiting import wait_for  # noqa: E402

SIPHOND = os.environ["SIPHOND"]
SIPHON = os.environ["SIPHON"]
SIPHONCTL = os.environ["SIPHONCTL"]
ROOT = Path(os.environ["SIPHON_SOURCE"])
DP_CONF = (ROOT / "tests" / "dp" / "dp.conf").read_text()
D2 = '{ name = "d2"; address = "198.51.100.22"; mac = "02:00:00:00:00:22"; }'
D3 = '{ name = "d3"; address = "198.51.100.23"; mac = "02:00:00:00:00:23"; }'
assert D2 in DP_CONF


def invites(path, n=60):
    """n new calls to the VIP from one client: Maglev spreads them."""
    src, vip = ipaddress.ip_address("192.0.2.7").packed, ipaddress.ip_address("198.51.100.10").packed
    frames = []
    for i in range(n):
        msg = (f"INVITE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK-{i}\r\n"
               f"From: <sip:a@example.com>;tag=f{i}\r\nTo: <sip:b@example.com>\r\n"
               f"Call-ID: gen-{i}@192.0.2.7\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n").encode()
        frames.append(eth(bytes.fromhex("02000000000a"), bytes.fromhex("020000000099"),
                          ip4(src, vip, 17, udp4(src, vip, 5062, 5060, msg))))
    write_pcap(path, frames)
    return path


def replay(tmp, name, *how):
    out = tmp / f"{name}.pcap"
    calls = tmp / "calls.pcap"
    if not calls.exists():
        invites(calls)
    p = subprocess.run([SIPHON, "--io", "pcap", *how, "--in", str(calls), "--out", str(out),
                        "--punt", str(tmp / f"{name}-punt.pcap")],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return out.read_bytes(), p.stderr


def test_siphon_runs_what_siphond_publishes(tmp_path):
    one, two = tmp_path / "one.conf", tmp_path / "two.conf"
    one.write_text(DP_CONF)
    two.write_text(DP_CONF.replace(D2, D2 + ",\n      " + D3))
    sock, state = str(tmp_path / "s.sock"), str(tmp_path / "state")
    link = ["--siphond", sock, "--state-dir", state]
    log = open(tmp_path / "siphond.log", "w")
    d = subprocess.Popen([SIPHOND, "--config", str(one), "--socket", sock, "--state-dir", state,
                          "--no-probes"], stderr=log)
    try:
        wait_for(lambda: os.path.exists(sock), what="siphond's socket")
        got, err = replay(tmp_path, "g1", *link)
        want, _ = replay(tmp_path, "c1", "--config", str(one))
        assert "generation 1 accepted" in err and got == want
        # a reload with d3: generation 2, and siphon forwards as the new config says
        one.write_text(two.read_text())
        r = subprocess.run([SIPHONCTL, "--socket", sock, "reload"], capture_output=True,
                           text=True, timeout=10)
        assert r.returncode == 0, r.stderr
        got2, err2 = replay(tmp_path, "g2", *link)
        want2, _ = replay(tmp_path, "c2", "--config", str(two))
        assert "generation 2 accepted" in err2 and got2 == want2 and got2 != got
        text = (tmp_path / "siphond.log").read_text()
        assert "fast path siphon-pcap acked generation 1" in text
        assert "fast path siphon-pcap acked generation 2" in text
    finally:
        d.send_signal(signal.SIGTERM)
        assert d.wait(timeout=10) == 0
    # siphond gone: the persisted generation 2, the same bytes out
    got3, err3 = replay(tmp_path, "g3", *link)
    assert "starting from generation 2" in err3 and got3 == want2
