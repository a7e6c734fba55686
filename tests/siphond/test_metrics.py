"""siphond's /metrics and `stats` (docs/metrics.md): a fake fast path sends
COUNTERS snapshots over the publish channel, /metrics is scraped over HTTP
on 127.0.0.1 (a free port) and must show what was sent; malformed
snapshots are refused and counted; then the real pair, `siphon --io pcap
--siphond`, whose one snapshot after the replay counts its packets."""
import ipaddress
import json
import os
import re
import signal
import socket
import struct
import subprocess
import time
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from packets import eth, ip4, udp4, write_pcap  # noqa: E402
from waiting import wait_for  # noqa: E402

SIPHOND = os.environ["SIPHOND"]
SIPHONCTL = os.environ["SIPHONCTL"]
SIPHON = os.environ["SIPHON"]
ROOT = Path(os.environ["SIPHON_SOURCE"])
EDGE = (ROOT / "docs" / "examples" / "edge.conf").read_text()
DP_CONF = (ROOT / "tests" / "dp" / "dp.conf").read_text()

MAGIC, GENERATION, ACK, COUNTERS = 0x42555053, 1, 2, 3
FLAG, RULE, NODE, KRULE, KNODE, KBYTES, NODE_MSG, KNODE_MSG, KFLAG = 1, 2, 3, 4, 5, 6, 7, 8, 9
FINAL = 1
AFXDP, KERNEL = 1, 2


def rule_key(text, line):
    """The key of the rule at a line of the config, from siphon_rule_info."""
    m = re.search(r'siphon_rule_info\{rule="([0-9a-f-]+)",line="%d"\} 1' % line, text)
    assert m, text
    return m.group(1)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def line_of(text, needle):
    return text.splitlines().index(next(l for l in text.splitlines() if needle in l)) + 1


def with_metrics(text, port):
    return text.replace("balancer = {", 'balancer = {\n  metrics = "127.0.0.1:%d";' % port, 1)


def snapshot(generation, named, indexed, lanes=AFXDP | KERNEL, seq=1, sort=True, instance=1,
             flags=0, version=3):
    """A COUNTERS payload: named {"group.counter": n}, indexed [(kind, index, n)]."""
    names = sorted(named) if sort else list(named)
    body = struct.pack("<IIIIQQQII", version, lanes, len(names), len(indexed), generation, seq,
                       instance, flags, 0)
    for n in names:
        body += struct.pack("<40sQ", n.encode(), named[n])
    for kind, index, value in (sorted(indexed) if sort else indexed):
        body += struct.pack("<HHIQ", kind, 0, index, value)
    return body


class Siphond:
    def __init__(self, tmp, config_text):
        self.tmp = tmp
        self.conf = tmp / "siphond.conf"
        self.conf.write_text(config_text)
        self.sock = str(tmp / "siphond.sock")
        self.log_path = tmp / "siphond.log"
        self.logf = open(self.log_path, "w")
        self.proc = subprocess.Popen([SIPHOND, "--config", str(self.conf), "--socket", self.sock,
                                      "--state-dir", str(tmp / "state"), "--no-probes"],
                                     stderr=self.logf)
        wait_for(lambda: "listening on" in self.log() or self.proc.poll() is not None)
        assert self.proc.poll() is None, self.log()

    def log(self):
        return self.log_path.read_text()

    def ctl(self, *args):
        return subprocess.run([SIPHONCTL, "--socket", self.sock, *args], capture_output=True,
                              text=True, timeout=20)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(timeout=20) == 0
        self.logf.close()


class FastPath:
    def __init__(self, d, name):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(10)
        self.s.connect(d.sock)
        self.s.sendall((json.dumps({"method": "fastpath.attach",
                                    "params": {"name": name, "generation": 0}, "id": 1})
                        + "\n").encode())
        line = b""
        while not line.endswith(b"\n"):
            line += self.s.recv(1)
        magic, _, kind, length = struct.unpack("<IHHQ", self.recv(16))
        assert (magic, kind) == (MAGIC, GENERATION)
        self.generation = struct.unpack_from("<Q", self.recv(length), 24)[0]
        self.s.sendall(struct.pack("<IHHQ", MAGIC, 1, ACK, 128) +
                       struct.pack("<Qi116s", self.generation, 0, b""))

    def recv(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.s.recv(n - len(buf))
            assert chunk, "closed"
            buf += chunk
        return buf

    def counters(self, payload, length=None):
        self.s.sendall(struct.pack("<IHHQ", MAGIC, 1, COUNTERS,
                                   len(payload) if length is None else length) + payload)


def scrape(port, path="/metrics"):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=10) as r:
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return r.read().decode()


def value(text, series):
    """The value of one exact series line, or None."""
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.split()[-1])
    return None


def families_well_formed(text):
    """Every sample's family has HELP and TYPE before it, each family once."""
    seen, current = set(), None
    for line in text.splitlines():
        m = re.match(r"# TYPE (\S+) (counter|gauge|summary)$", line)
        if m:
            assert m.group(1) not in seen, "family %s twice" % m.group(1)
            seen.add(m.group(1))
            current = m.group(1)
            continue
        if line.startswith("#"):
            assert re.match(r"# HELP \S+ .+", line), line
            continue
        name = re.match(r"([a-z_]+)[{ ]", line).group(1)
        assert name == current or name in (current + "_sum", current + "_count"), line
        assert re.match(r'[a-z_]+(\{([a-z_]+="[^"\\]*",)*[a-z_]+="[^"\\]*"\})? \S+$', line), line


@pytest.fixture
def edge(tmp_path):
    port = free_port()
    d = Siphond(tmp_path, with_metrics(EDGE, port))
    d.port = port
    yield d
    d.stop()


def test_snapshots_to_metrics_and_stats(edge):
    assert "metrics: serving http://127.0.0.1:%d/metrics" % edge.port in edge.log()
    fp = FastPath(edge, "fp1")
    g = fp.generation
    first = {"reason.too_big": 5, "reason.rule_pool": 40, "outcome.forward": 40,
             "kernel_reason.forwarded": 9, "xsk.rx": 77}
    fp.counters(snapshot(g, first, [(FLAG, 1, 3), (RULE, 0, 2), (NODE, 0, 11), (NODE, 3, 1),
                                    (KNODE, 1, 4), (KBYTES, 1, 400), (KRULE, 7, 6),
                                    (KFLAG, 1, 2)]))
    b1 = 'fastpath="fp1",lane="afxdp",pool="core",node="b1"'
    wait_for(lambda: value(scrape(edge.port), "siphon_node_forwarded_packets_total{%s}" % b1) == 11,
             what="the first snapshot in /metrics")
    text = scrape(edge.port)
    families_well_formed(text)
    assert value(text, 'siphon_reason_packets_total{fastpath="fp1",lane="afxdp",reason="too_big"}') == 5
    assert value(text, 'siphon_reason_packets_total{fastpath="fp1",lane="kernel",reason="forwarded"}') == 9
    assert value(text, 'siphon_outcome_packets_total{fastpath="fp1",lane="afxdp",outcome="forward"}') == 40
    assert value(text, 'siphon_flag_set_total{fastpath="fp1",lane="afxdp",flag="CARRIER_A"}') == 3
    assert value(text, 'siphon_flag_set_total{fastpath="fp1",lane="afxdp",'
                       'flag="INTERNALLY_SOURCED"}') == 0
    assert value(text, 'siphon_flag_set_total{fastpath="fp1",lane="kernel",flag="CARRIER_A"}') == 2
    conf = edge.conf.read_text()
    first_rule, last_rule = line_of(conf, 'when = "SCANNER"'), line_of(conf, '  { then = "pool core"; }')
    assert value(text, 'siphon_rule_matches_total{fastpath="fp1",lane="afxdp",rule="%s"}'
                 % rule_key(text, first_rule)) == 2
    assert value(text, 'siphon_rule_matches_total{fastpath="fp1",lane="kernel",rule="%s"}'
                 % rule_key(text, last_rule)) == 6
    assert value(text, 'siphon_node_forwarded_packets_total{fastpath="fp1",lane="kernel",'
                       'pool="core",node="b2"}') == 4
    assert value(text, 'siphon_node_forwarded_bytes_total{fastpath="fp1",lane="kernel",'
                       'pool="core",node="b2"}') == 400
    assert value(text, 'siphon_pool_forwarded_packets_total{fastpath="fp1",lane="afxdp",'
                       'pool="core"}') == 11
    assert value(text, 'siphon_fastpath_counter_total{fastpath="fp1",group="xsk",counter="rx"}') == 77
    assert value(text, 'siphon_fastpath_generation{fastpath="fp1"}') == g
    assert value(text, 'siphon_fastpath_attached{fastpath="fp1"}') == 1
    assert value(text, 'siphon_generation') == g
    assert value(text, 'siphon_node_up{pool="core",node="b1",state="active"}') == 1
    assert value(text, 'siphon_fastpath_snapshots_total{result="received"}') == 1

    # the next snapshot: the counters move by what moved (a total never goes down)
    more = dict(first, **{"reason.too_big": 8})
    fp.counters(snapshot(g, more, [(FLAG, 1, 3), (NODE, 0, 25), (KFLAG, 1, 5)], seq=2))
    wait_for(lambda: value(scrape(edge.port), "siphon_node_forwarded_packets_total{%s}" % b1) == 25)
    text = scrape(edge.port)
    assert value(text, 'siphon_reason_packets_total{fastpath="fp1",lane="afxdp",reason="too_big"}') == 8
    assert value(text, 'siphon_flag_set_total{fastpath="fp1",lane="afxdp",flag="CARRIER_A"}') == 3
    assert value(text, 'siphon_flag_set_total{fastpath="fp1",lane="kernel",flag="CARRIER_A"}') == 5

    # refused, counted, logged; the connection stays and the last good one is kept
    bad = [snapshot(g, {"b.x": 1, "a.x": 2}, [], sort=False),          # names out of order
           snapshot(g, {"reason.ok": 1}, [(NODE, 999, 1)]),              # no node 999
           snapshot(g, {"reason.Bad": 1}, []),                            # not [a-z0-9_]
           snapshot(0, {}, []),                                           # generation 0
           snapshot(g, {}, [(NODE, 2, 1), (NODE, 2, 1)], sort=False),     # twice
           snapshot(g, {}, [], version=1)]                                # another build
    for p in bad:
        fp.counters(p)
    wait_for(lambda: value(scrape(edge.port),
                           'siphon_fastpath_snapshots_total{result="refused"}') == len(bad))
    log = edge.log()
    assert "fast path fp1: counters refused: counters: named entry 1 (a.x) out of order; 1 so far" in log
    assert "counters refused: counters: node_packets 999, generation %d has 5; 2 so far" % g in log
    assert "; 4 so far" in log and "; 3 so far" not in log  # 1st, 2nd, 4th...
    text = scrape(edge.port)
    assert value(text, "siphon_node_forwarded_packets_total{%s}" % b1) == 25

    # stats: the same figures by name
    r = edge.ctl("stats", "--json")
    assert r.returncode == 0, r.stderr
    st = json.loads(r.stdout)
    (f,) = st["fast_paths"]
    c = f["counters"]
    assert (f["name"], f["attached"], f["refused"], c["generation"], c["seq"], c["current"]) == \
        ("fp1", True, len(bad), g, 2, True)
    assert c["groups"]["reason"] == {"rule_pool": 40, "too_big": 8}
    assert {k: c["nodes"][0][k] for k in ("pool", "node", "afxdp_packets", "kernel_packets",
                                          "kernel_bytes")} == \
        {"pool": "core", "node": "b1", "afxdp_packets": 25, "kernel_packets": 0, "kernel_bytes": 0}
    assert st["snapshots"] == {"received": 2 + len(bad), "refused": len(bad)}
    assert st["metrics"]["listen"] == "127.0.0.1:%d" % edge.port
    people = edge.ctl("stats")
    assert people.returncode == 0, people.stderr
    assert re.search(r"core/b1\s+25\s+0\s+0", people.stdout), people.stdout
    assert re.search(r"too_big\s+8\s+0", people.stdout), people.stdout
    assert (c["flags"]["CARRIER_A"], c["kernel_flags"]["CARRIER_A"]) == (3, 5)
    assert re.search(r"CARRIER_A\s+3\s+5", people.stdout), people.stdout

    # a header that does not frame a snapshot: the fast path is detached
    fp.counters(b"\0" * 20, length=20)
    wait_for(lambda: "fast path fp1 detached: protocol error: publish channel: "
                     "a counters snapshot of 20 bytes refused" in edge.log())
    text = scrape(edge.port)  # its last snapshot is still shown, as detached
    assert value(text, 'siphon_fastpath_attached{fastpath="fp1"}') == 0
    assert value(text, "siphon_node_forwarded_packets_total{%s}" % b1) == 25


def test_http_edges_and_bound(edge):
    with pytest.raises(urllib.error.HTTPError) as e:
        scrape(edge.port, "/")
    assert e.value.code == 404
    req = urllib.request.Request("http://127.0.0.1:%d/metrics" % edge.port, data=b"x",
                                 method="POST")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=10)
    assert e.value.code == 405
    # many idle connections do not keep siphond from answering
    idle = [socket.create_connection(("127.0.0.1", edge.port)) for _ in range(20)]
    r = edge.ctl("ping")
    assert r.stdout == "pong\n"
    for s in idle:
        s.close()
    wait_for(lambda: value(scrape(edge.port), "siphon_generation") == 1)


def test_metrics_off_and_taken_port(tmp_path):
    d = Siphond(tmp_path, EDGE.replace("balancer = {", 'balancer = {\n  metrics = "off";', 1))
    try:
        assert "metrics: serving" not in d.log()
        st = json.loads(d.ctl("stats", "--json").stdout)
        assert st["metrics"]["listen"] is None and st["fast_paths"] == []
    finally:
        d.stop()
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    (tmp_path / "b").mkdir()
    d = Siphond(tmp_path / "b", with_metrics(EDGE, port))
    try:
        assert ("metrics: cannot listen on 127.0.0.1:%d: Address already in use; /metrics is "
                "not served" % port) in d.log()
        assert d.ctl("ping").stdout == "pong\n"
    finally:
        d.stop()
        taken.close()


def invites(path, n):
    src, vip = ipaddress.ip_address("192.0.2.7").packed, ipaddress.ip_address("198.51.100.10").packed
    frames = []
    for i in range(n):
        msg = (f"INVITE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK-{i}\r\n"
               f"From: <sip:a@example.com>;tag=f{i}\r\nTo: <sip:b@example.com>\r\n"
               f"Call-ID: m-{i}@192.0.2.7\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n").encode()
        frames.append(eth(bytes.fromhex("02000000000a"), bytes.fromhex("020000000099"),
                          ip4(src, vip, 17, udp4(src, vip, 5062, 5060, msg))))
    write_pcap(path, frames)


def test_siphon_pcap_snapshot(tmp_path):
    port = free_port()
    d = Siphond(tmp_path, with_metrics(DP_CONF, port))
    try:
        invites(tmp_path / "in.pcap", 60)
        p = subprocess.run([SIPHON, "--io", "pcap", "--siphond", d.sock, "--state-dir",
                            str(tmp_path / "state"), "--in", str(tmp_path / "in.pcap"), "--out",
                            str(tmp_path / "out.pcap")], capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        summary = json.loads(p.stdout)
        wait_for(lambda: value(scrape(port), 'siphon_fastpath_attached{fastpath="siphon-pcap"}') == 0)
        text = scrape(port)
        families_well_formed(text)
        fp = 'fastpath="siphon-pcap",lane="afxdp"'
        d1 = value(text, 'siphon_node_forwarded_packets_total{%s,pool="dsr",node="d1"}' % fp)
        d2 = value(text, 'siphon_node_forwarded_packets_total{%s,pool="dsr",node="d2"}' % fp)
        assert (d1, d2) == (summary["nodes"]["d1"], summary["nodes"]["d2"])
        assert d1 + d2 == 60
        assert value(text, 'siphon_pool_forwarded_packets_total{%s,pool="dsr"}' % fp) == 60
        assert value(text, 'siphon_reason_packets_total{%s,reason="rule_pool"}' % fp) == 60
        assert value(text, 'siphon_packets_total{%s,kind="in"}' % fp) == 60
        default = line_of(d.conf.read_text(), 'then = "pool dsr"; }')
        assert value(text, 'siphon_rule_matches_total{%s,rule="%s"}'
                     % (fp, rule_key(text, default))) == 60
        assert value(text, 'siphon_fastpath_counter_total{fastpath="siphon-pcap",group="channel",'
                           'counter="applied"}') == 1
    finally:
        d.stop()


def next_generation(fp):
    """Reads the next GENERATION and acknowledges it; its number."""
    magic, _, kind, length = struct.unpack("<IHHQ", fp.recv(16))
    assert (magic, kind) == (MAGIC, GENERATION)
    number = struct.unpack_from("<Q", fp.recv(length), 24)[0]
    return number


def ack(fp, number):
    fp.s.sendall(struct.pack("<IHHQ", MAGIC, 1, ACK, 128) + struct.pack("<Qi116s", number, 0, b""))


def test_totals_across_a_drain(edge):
    """Snapshots across two generations (a drain publishes one): the node
    series go on from where they were, exactly, the last snapshot of the
    first generation (FINAL, sent after the second was published) counted;
    pool show and pool list give the node's traffic and rate."""
    fp = FastPath(edge, "fp1")
    g = fp.generation
    b1 = '{fastpath="fp1",lane="%s",pool="core",node="b1"}'
    totals = []

    def node_totals():
        text = scrape(edge.port)
        return (value(text, "siphon_node_forwarded_packets_total" + b1 % "afxdp"),
                value(text, "siphon_node_forwarded_packets_total" + b1 % "kernel"),
                value(text, 'siphon_node_requests_total{pool="core",node="b1",method="INVITE",'
                            'lane="afxdp"}'),
                value(text, 'siphon_node_responses_total{pool="core",node="b1",class="2xx",'
                            'lane="kernel"}'))

    def send(gen, seq, a, k, inv, ok, flags=0):
        fp.counters(snapshot(gen, {"xsk.rx": seq}, [(NODE, 0, a), (KNODE, 0, k),
                                                    (NODE_MSG, 0, inv), (KNODE_MSG, 8, ok)],
                             seq=seq, flags=flags))

    send(g, 1, 10, 5, 4, 1)
    wait_for(lambda: node_totals() == (10, 5, 4, 1))
    totals.append(node_totals())
    send(g, 2, 11, 6, 4, 2)
    wait_for(lambda: node_totals() == (11, 6, 4, 2))
    totals.append(node_totals())
    r = edge.ctl("node", "drain", "core", "b1")
    assert r.returncode == 0, r.stderr
    g2 = next_generation(fp)
    assert g2 == g + 1
    # what generation g counted after the last snapshot: in its final one
    send(g, 3, 14, 6, 5, 3, flags=FINAL)
    ack(fp, g2)
    wait_for(lambda: node_totals() == (14, 6, 5, 3))
    totals.append(node_totals())
    # generation g2 counts from 0 again; the series go on
    send(g2, 4, 2, 1, 1, 0)
    wait_for(lambda: node_totals() == (16, 7, 6, 3))
    totals.append(node_totals())
    send(g2, 5, 3, 1, 1, 1)
    wait_for(lambda: node_totals() == (17, 7, 6, 4))
    totals.append(node_totals())
    for a, b in zip(totals, totals[1:]):
        assert all(y >= x for x, y in zip(a, b)), totals
    assert "counters refused" not in edge.log()

    show = json.loads(edge.ctl("pool", "show", "--json").stdout)
    (n,) = [n for n in show["pools"][0]["nodes"] if n["name"] == "b1"]
    assert n["state"] == "draining" and n["forwarded"] == 17 + 7
    assert n["rate_pps"] > 0
    lst = json.loads(edge.ctl("pool", "list", "--json").stdout)
    core = next(p for p in lst["pools"] if p["name"] == "core")
    assert core["forwarded"] == 24
    assert next(t for t in core["traffic"] if t["node"] == "b1")["forwarded"] == 24
    text = edge.ctl("pool", "show", "core").stdout
    assert re.search(r"^b1 +draining .* 24 +\d+\.\d ", text, re.M), text


def test_top_once(edge):
    """siphonctl top --once: two samples an interval apart, one frame of
    rates per node (per lane, by method and class), state and generation."""
    fp = FastPath(edge, "fp1")
    g = fp.generation
    fp.counters(snapshot(g, {}, [(NODE, 0, 100), (KNODE, 1, 10), (NODE_MSG, 0, 50),
                                 (KNODE_MSG, 13 + 8, 10)], seq=1))
    b1 = 'siphon_node_forwarded_packets_total{fastpath="fp1",lane="afxdp",pool="core",node="b1"}'
    wait_for(lambda: value(scrape(edge.port), b1) == 100)
    top = subprocess.Popen([SIPHONCTL, "--socket", edge.sock, "top", "--once", "--interval", "2"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    # in the interval: b1 +200 (AF_XDP, 100 of them INVITEs), b2 +40 in the kernel (2xx)
    fp.counters(snapshot(g, {}, [(NODE, 0, 300), (KNODE, 1, 50), (NODE_MSG, 0, 150),
                                 (KNODE_MSG, 13 + 8, 50)], seq=2))
    out, err = top.communicate(timeout=20)
    assert top.returncode == 0, err
    assert "\033" not in out  # --once: no escapes
    lines = out.splitlines()
    assert lines[0].startswith("siphon top: generation %d (" % g), out
    assert "1 fast path," in lines[0]
    header = lines[2].split()
    assert header[:4] == ["POOL/NODE", "STATE", "AFXDP/s", "KERNEL/s"], out
    rows = {l.split()[0]: l.split() for l in lines[3:] if l.startswith("core/")}
    cols = [c for c in header if c != "|"]

    def col(node, name):
        vals = [v for v in rows[node] if v != "|"]
        return vals[cols.index(name)]

    assert col("core/b1", "STATE") == "active"
    assert 200 / 2.6 <= float(col("core/b1", "AFXDP/s")) <= 200 / 1.9, out
    assert 100 / 2.6 <= float(col("core/b1", "INVITE")) <= 100 / 1.9, out
    assert float(col("core/b1", "KERNEL/s")) == 0.0
    assert 40 / 2.6 <= float(col("core/b2", "KERNEL/s")) <= 40 / 1.9, out
    assert 40 / 2.6 <= float(col("core/b2", "2xx")) <= 40 / 1.9, out
    assert float(col("core/b2", "AFXDP/s")) == 0.0
    assert col("core/b1", "RTT") == "-"  # no probes in this test
    # usage
    r = edge.ctl("top", "--interval", "0")
    assert r.returncode == 2 and "--interval '0': seconds from 0.1 to 3600" in r.stderr
