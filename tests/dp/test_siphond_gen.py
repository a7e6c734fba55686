"""siphon --siphond against a stand-in publisher (gen_publisher.c).

siphon --io pcap --siphond takes the current generation, acknowledges it and
replays: generation 1 (dp.conf) sends the calls to d1 and d2; generation 2,
the same with a node d3 added to the pool, sends new calls to d3 too. A
corrupt generation is refused (ACK -EINVAL, the checksum named) and, with no
persisted generation, siphon exits 1; a persisted one (generation.blob in
--state-dir) is taken when siphond is not there. --config with --siphond is
refused (exit 2)."""
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from packets import eth, ip4, udp4, write_pcap  # noqa: E402
import ipaddress  # noqa: E402

SIPHON = os.environ["SIPHON"]
PUBLISHER = os.environ["GEN_PUBLISHER"]
HERE = Path(__file__).parent
CONF = HERE / "dp.conf"
CALLS = 90

VIP4 = ipaddress.ip_address("198.51.100.10").packed
SRC = ipaddress.ip_address("192.0.2.7").packed


def invite(i):
    msg = (f"INVITE sip:b@example.com SIP/2.0\r\n"
           f"Via: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK-c{i}\r\n"
           f"From: <sip:a@example.com>;tag=f1\r\nTo: <sip:b@example.com>\r\n"
           f"Call-ID: call-{i}@192.0.2.7\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n"
           f"Content-Length: 0\r\n\r\n").encode()
    return eth(bytes.fromhex("02000000000a"), bytes.fromhex("020000000099"),
               ip4(SRC, VIP4, 17, udp4(SRC, VIP4, 5062, 5060, msg)))


def conf_with_d3(tmp_path):
    text = CONF.read_text().replace(
        '{ name = "d2"; address = "198.51.100.22"; mac = "02:00:00:00:00:22"; })',
        '{ name = "d2"; address = "198.51.100.22"; mac = "02:00:00:00:00:22"; },\n'
        '      { name = "d3"; address = "198.51.100.23"; mac = "02:00:00:00:00:23"; })')
    assert "d3" in text
    path = tmp_path / "gen2.conf"
    path.write_text(text)
    return path


def publisher(sock, conf, gen, *extra):
    p = subprocess.Popen([PUBLISHER, "--socket", sock, "--config", conf, "--generation",
                          str(gen), *extra], stdout=subprocess.PIPE, text=True)
    assert json.loads(p.stdout.readline()) == {"event": "listening"}
    return p


def events(p):
    out, _ = p.communicate(timeout=30)
    assert p.returncode == 0
    return [json.loads(line) for line in out.splitlines()]


def acks(ev):
    return [e for e in ev if e["event"] == "ack"]


def replay(tmp_path, *args):
    src = tmp_path / "in.pcap"
    write_pcap(src, [invite(i) for i in range(CALLS)])
    return subprocess.run([SIPHON, "--io", "pcap", *args, "--in", src, "--out",
                           tmp_path / "out.pcap"], capture_output=True, text=True, timeout=60)


def test_generation_1_then_2_adds_a_node(tmp_path):
    sock = str(tmp_path / "siphond.sock")
    pub = publisher(sock, CONF, 1)
    r = replay(tmp_path, "--siphond", sock)
    assert r.returncode == 0, r.stderr
    ev = events(pub)
    attach = ev[0]["line"]
    assert attach["method"] == "fastpath.attach" and attach["params"]["generation"] == 0
    assert attach["params"]["name"] == "siphon-pcap"
    assert acks(ev) == [{"event": "ack", "generation": 1, "status": 0, "reason": ""}]
    # the replay's one snapshot, after it: every packet in it
    (snap,) = [e for e in ev if e["event"] == "counters"]
    assert (snap["generation"], snap["named"]["packets.in"]) == (1, CALLS)
    nodes1 = json.loads(r.stdout)["nodes"]
    assert set(nodes1) == {"d1", "d2", "n1", "n6", "e1"}
    assert nodes1["d1"] + nodes1["d2"] == CALLS and nodes1["d1"] > 0 and nodes1["d2"] > 0

    pub = publisher(sock, conf_with_d3(tmp_path), 2)
    r = replay(tmp_path, "--siphond", sock)
    assert r.returncode == 0, r.stderr
    assert acks(events(pub)) == [{"event": "ack", "generation": 2, "status": 0, "reason": ""}]
    nodes2 = json.loads(r.stdout)["nodes"]
    assert nodes2["d1"] + nodes2["d2"] + nodes2["d3"] == CALLS
    assert nodes2["d3"] > CALLS // 6  # Maglev: about a third of the new calls
    # a node that joins takes only its own share: no call moved between d1 and d2
    assert nodes2["d1"] <= nodes1["d1"] and nodes2["d2"] <= nodes1["d2"]


def test_corrupt_generation_refused(tmp_path):
    sock = str(tmp_path / "siphond.sock")
    pub = publisher(sock, CONF, 5, "--corrupt")
    r = replay(tmp_path, "--siphond", sock, "--state-dir", str(tmp_path))
    ev = events(pub)
    assert ev[1]["event"] == "ack" and ev[1]["generation"] == 5
    assert ev[1]["status"] == -22 and ev[1]["reason"].startswith("checksum:")
    assert r.returncode == 1
    assert "generation 5 refused: checksum" in r.stderr
    assert "no generation to start from" in r.stderr
    assert "generation.blob" in r.stderr


def test_cold_start_from_state_dir(tmp_path):
    sock = str(tmp_path / "nobody.sock")
    state = tmp_path / "state"
    state.mkdir()
    r = replay(tmp_path, "--siphond", sock, "--state-dir", str(state))
    assert r.returncode == 1
    assert "no generation to start from" in r.stderr and "No such file" in r.stderr
    subprocess.run([PUBLISHER, "--write-state", state, "--config", conf_with_d3(tmp_path),
                    "--generation", "9"], check=True)
    r = replay(tmp_path, "--siphond", sock, "--state-dir", str(state))
    assert r.returncode == 0, r.stderr
    assert "starting from generation 9" in r.stderr
    assert json.loads(r.stdout)["nodes"]["d3"] > 0


def test_config_and_siphond_exclude_each_other(tmp_path):
    r = replay(tmp_path, "--config", str(CONF), "--siphond", str(tmp_path / "s.sock"))
    assert r.returncode == 2
    assert "--config and --siphond exclude each other" in r.stderr
