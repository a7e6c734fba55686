"""siphond's health loop without the lab (docs/health.md "In siphond"):
core nodes are UDP responders in this test on 127.0.0.x, siphond probes
them from its control address 127.0.0.1; states are read with siphonctl
pool show --json, the tables from the persisted blob (blob-check --json)."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest
from waiting import wait_for

SIPHOND = os.environ["SIPHOND"]
SIPHONCTL = os.environ["SIPHONCTL"]
BLOB_CHECK = os.environ["BLOB_CHECK"]

INTERVAL, TIMEOUT, DOWN, UP = 200, 150, 3, 2
SLACK = 0.25  # s: the test's own polling and scheduling, beside the bound


class Responder:
    """A core node: answers OPTIONS with `code` (and extra headers / a Via
    oc), or stays silent; close() makes the port unreachable."""

    def __init__(self, addr):
        self.addr = addr
        self.code, self.extra, self.oc, self.silent = 200, "", None, False
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind((addr, 0))
        self.port = self.s.getsockname()[1]
        self.s.settimeout(0.05)
        self.stop = False
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.stop:
            try:
                data, peer = self.s.recvfrom(4096)
            except (socket.timeout, OSError):
                continue
            if self.silent or not data.startswith(b"OPTIONS "):
                continue
            self.s.sendto(self.answer(data.decode()), peer)

    def answer(self, req):
        keep = [l for l in req.split("\r\n") if l.split(":")[0] in ("Via", "From", "To", "Call-ID", "CSeq")]
        out = []
        for l in keep:
            if l.startswith("Via") and self.oc is not None:
                # RFC 7339: the node gives the bare oc the probe sent a value
                l = l.replace(";oc;", ";oc=%d;" % self.oc)
            if l.startswith("To"):
                l += ";tag=n1"
            out.append(l)
        reason = {200: "OK", 503: "Service Unavailable", 404: "Not Found"}.get(self.code, "X")
        return ("SIP/2.0 %d %s\r\n" % (self.code, reason) + "\r\n".join(out) + "\r\n" +
                self.extra + "Content-Length: 0\r\n\r\n").encode()

    def close(self):
        self.stop = True
        self.t.join()
        self.s.close()

    def reopen(self):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind((self.addr, self.port))
        self.s.settimeout(0.05)
        self.stop = False
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()


def config(nodes, extra_pools="", fallback="", grace_s=30):
    ns = ",\n".join('{ name = "%s"; address = "%s"; port = %d; weight = %d; }' % n for n in nodes)
    return """
balancer = { addresses = ["127.0.5.1"]; control = ["127.0.0.1"]; grace_s = %d; metrics = "off"; };
pools = (
  { name = "core"; %s
    probe = { interval_ms = %d; timeout_ms = %d; down = %d; up = %d; codes = ["2xx"]; };
    nodes = ( %s ); }%s
);
route = ( { then = "pool core"; } );
""" % (grace_s, fallback, INTERVAL, TIMEOUT, DOWN, UP, ns, extra_pools)


class Daemon:
    def __init__(self, tmp, text):
        self.cfg = tmp / "h.conf"
        self.cfg.write_text(text)
        self.sock, self.state = str(tmp / "s.sock"), str(tmp / "state")
        self.logp = tmp / "siphond.log"
        self.logf = open(self.logp, "a")
        self.p = subprocess.Popen([SIPHOND, "--config", str(self.cfg), "--socket", self.sock,
                                   "--state-dir", self.state], stderr=self.logf)
        wait_for(lambda: os.path.exists(self.sock) or self.p.poll() is not None)
        assert self.p.poll() is None, self.log()

    def log(self):
        return self.logp.read_text()

    def ctl(self, *args):
        return subprocess.run([SIPHONCTL, "--socket", self.sock] + list(args),
                              capture_output=True, text=True, timeout=10)

    def show(self):
        r = self.ctl("pool", "show", "--json")
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    def node(self, name, pool="core"):
        for p in self.show()["pools"]:
            if p["name"] == pool:
                return next(n for n in p["nodes"] if n["name"] == name)
        raise KeyError(pool)

    def blob(self):
        r = subprocess.run([BLOB_CHECK, "--json", self.state + "/generation.blob"],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stdout
        return json.loads(r.stdout)

    def wait_state(self, name, state, timeout=10, pool="core"):
        return wait_for(lambda: (lambda n: n if n["state"] == state else None)(self.node(name, pool)),
                        timeout, "%s/%s %s" % (pool, name, state))

    def close(self):
        self.p.send_signal(signal.SIGTERM)
        assert self.p.wait(timeout=10) == 0
        self.logf.close()


@pytest.fixture
def nodes():
    rs = [Responder("127.0.0.%d" % (21 + i)) for i in range(3)]
    yield rs
    for r in rs:
        if not r.stop:
            r.close()


@pytest.fixture
def daemon(tmp_path, nodes):
    d = Daemon(tmp_path, config([("n%d" % (i + 1), r.addr, r.port, 100) for i, r in enumerate(nodes)]))
    for i in range(3):
        d.wait_state("n%d" % (i + 1), "active")
    wait_for(lambda: all(n["replies"]["2xx"] >= 1 for n in d.show()["pools"][0]["nodes"]),
             what="first answers")
    yield d
    d.close()


def test_dead_node_out_and_back(daemon, nodes, tmp_path):
    """A silent node: trying, then inactive within interval x down (+ one
    interval); a new generation without it whose previous table is the old
    one; back after `up` answers; every table change is one generation."""
    g0 = daemon.show()["generation"]
    before = daemon.blob()
    assert before["pools"]["core"]["previous_size"] == 0
    t0 = time.time()
    nodes[1].silent = True
    n = daemon.wait_state("n2", "inactive", timeout=5)
    detect = n["last_change"] - t0
    print("detection time %.3f s (bound %.3f s)" % (detect, (DOWN + 1) * INTERVAL / 1000))
    assert detect <= (DOWN + 1) * INTERVAL / 1000 + SLACK
    assert n["why"] == "failures" and n["timeouts"] >= DOWN and n["effective_weight"] == 0
    assert "node core/n2: active -> trying (none)" in daemon.log()
    assert "node core/n2: trying -> inactive (failures)" in daemon.log()
    after = daemon.blob()
    show = daemon.show()
    assert show["generation"] == g0 + 1 == after["generation"]  # trying made none
    pool, old = after["pools"]["core"], before["pools"]["core"]
    assert [x["up"] for x in pool["nodes"]] == [True, False, True]
    assert pool["nodes"][1]["slots"] == 0
    assert pool["previous_size"] == pool["size"]
    assert abs(pool["previous_until"] - (time.monotonic() + 30)) <= 2
    # the dead node's whole share moved, and little else (Maglev)
    assert pool["nodes"][1]["moved"] == old["nodes"][1]["slots"] > 0
    others = pool["nodes"][0]["moved"] + pool["nodes"][2]["moved"]
    print("slots moved: n2's %d, others' %d of %d" % (pool["nodes"][1]["moved"], others, pool["size"]))
    assert others <= pool["size"] // 100
    # back: inactive until `up` answers in a row
    t1 = time.time()
    nodes[1].silent = False
    n = daemon.wait_state("n2", "active", timeout=5)
    assert n["last_change"] - t1 <= (UP + 1) * INTERVAL / 1000 + TIMEOUT / 1000 + SLACK
    back = daemon.blob()
    assert back["generation"] == g0 + 2
    assert [x["slots"] for x in back["pools"]["core"]["nodes"]] == [x["slots"] for x in old["nodes"]]
    assert re.search(r"health: generation %d published" % (g0 + 2), daemon.log())


def test_probe_round_trips(daemon, nodes):
    """Answered probes have their round trip measured (stats, /metrics):
    loopback answers within the probe timeout."""
    def answered():
        r = daemon.ctl("stats", "--json")
        assert r.returncode == 0, r.stderr
        n = {x["node"]: x for x in json.loads(r.stdout)["nodes"]}["n1"]
        return n if n["rtt_count"] >= 3 else None
    n = wait_for(answered, timeout=5, what="three answered probes of n1")
    print("probe round trip on loopback: last %.3f ms, average %.3f ms" %
          (n["rtt_last_ms"], n["rtt_avg_ms"]))
    assert 0 < n["rtt_avg_ms"] < TIMEOUT and 0 < n["rtt_last_ms"] < TIMEOUT


def test_closed_port_icmp(daemon, nodes):
    """A closed port: ICMP port unreachable, inactive at the next probe
    (no timeouts needed)."""
    t0 = time.time()
    nodes[2].close()
    n = daemon.wait_state("n3", "inactive", timeout=3)
    print("ICMP detection time %.3f s (bound one interval, %.3f s)" % (n["last_change"] - t0, INTERVAL / 1000))
    assert n["why"] == "icmp_unreachable" and n["icmp_unreachable"] >= 1
    assert n["last_change"] - t0 <= INTERVAL / 1000 + SLACK
    assert daemon.show()["counters"]["icmp_unreachable"] >= 1
    nodes[2].reopen()
    daemon.wait_state("n3", "active", timeout=5)


def test_admin_disable_wins(daemon, nodes):
    g0 = daemon.show()["generation"]
    r = daemon.ctl("node", "disable", "core", "n1")
    assert r.returncode == 0 and "core/n1: active -> disabled" in r.stdout, r.stderr
    n = daemon.node("n1")
    assert n["state"] == "disabled" and n["why"] == "admin" and n["admin_disabled"]
    assert daemon.blob()["generation"] == g0 + 1
    assert [x["up"] for x in daemon.blob()["pools"]["core"]["nodes"]] == [False, True, True]
    sent = n["probes_sent"]
    time.sleep(3 * INTERVAL / 1000)  # it still answers; it is not probed, it stays out
    n = daemon.node("n1")
    assert n["state"] == "disabled" and n["probes_sent"] == sent
    r = daemon.ctl("pool", "show")
    assert r.returncode == 0 and "[disabled by an operator]" in r.stdout and "n1" in r.stdout
    assert daemon.ctl("node", "disable", "core", "n1").returncode == 0  # again: no change
    assert daemon.blob()["generation"] == g0 + 1
    r = daemon.ctl("node", "enable", "core", "n1")
    assert r.returncode == 0 and "disabled -> inactive" in r.stdout
    daemon.wait_state("n1", "active", timeout=3)
    assert daemon.blob()["generation"] == g0 + 2
    # unknown pool or node: not_found, exit 1; usage: exit 2
    r = daemon.ctl("node", "disable", "core", "nope")
    assert r.returncode == 1 and "pool core has no node named 'nope'" in r.stderr
    r = daemon.ctl("node", "enable", "nopool", "n1")
    assert r.returncode == 1 and "no pool named 'nopool'" in r.stderr
    assert daemon.ctl("node", "stop", "core", "n1").returncode == 2
    assert daemon.ctl("pool", "show", "nopool").returncode == 1
    assert daemon.ctl("pool", "list", "core").returncode == 2
    assert daemon.ctl("pool", "stats").returncode == 2


def test_503_retry_after_and_oc(daemon, nodes):
    """503 + Retry-After: out for that long; oc=50 halves the weight."""
    nodes[0].code, nodes[0].extra = 503, "Retry-After: 2\r\n"
    n = daemon.wait_state("n1", "inactive", timeout=3)
    t_out = time.monotonic()
    assert n["why"] == "retry_after" and 1 <= n["until_s"] <= 2 and n["retry_after"] == 1
    nodes[0].code, nodes[0].extra = 200, ""
    n = daemon.wait_state("n1", "active", timeout=5)
    held = time.monotonic() - t_out
    assert 1.5 <= held <= 2 + INTERVAL / 1000 + SLACK, held
    nodes[0].oc = 50
    wait_for(lambda: daemon.node("n1")["effective_weight"] == 50, 3, "oc 50")
    pool = daemon.blob()["pools"]["core"]
    share = pool["nodes"][0]["slots"] / pool["size"]
    assert 0.18 <= share <= 0.22, share  # 50 of 250
    nodes[0].oc = None
    wait_for(lambda: daemon.node("n1")["effective_weight"] == 100, 3, "oc lifted")


def test_fallback_pool(tmp_path, nodes):
    """Every node of core out: its rule's pool in the tables is the fallback;
    given back when a core node lives again."""
    spare = ',\n  { name = "spare"; nodes = ( { name = "s1"; address = "%s"; port = %d; } ); }' % (
        nodes[2].addr, nodes[2].port)
    d = Daemon(tmp_path, config([("n1", nodes[0].addr, nodes[0].port, 100)], spare,
                                'fallback = "spare";'))
    try:
        d.wait_state("n1", "active")
        assert d.blob()["rules"] == ["core"]
        nodes[0].close()
        d.wait_state("n1", "inactive", timeout=3)
        assert d.blob()["rules"] == ["spare"]
        assert d.show()["pools"][0]["fallback"] == "spare"
        nodes[0].reopen()
        d.wait_state("n1", "active", timeout=5)
        assert d.blob()["rules"] == ["core"]
    finally:
        d.close()


def test_reload_keeps_states(daemon, nodes):
    """A reload does not bring a dead node back."""
    nodes[1].close()
    daemon.wait_state("n2", "inactive", timeout=3)
    r = daemon.ctl("reload")
    assert r.returncode == 0, r.stderr
    assert daemon.node("n2")["state"] == "inactive"
    assert [x["up"] for x in daemon.blob()["pools"]["core"]["nodes"]] == [True, False, True]


def test_reload_of_siphond_settings_only(daemon, nodes):
    """probe, fallback and retry_after_s are not in the tables: a reload
    that changes only them publishes nothing, and siphond takes them."""
    spare = ',\n  { name = "spare"; nodes = ( { name = "s1"; address = "127.0.0.9"; } ); }'
    text = config([("n%d" % (i + 1), r.addr, r.port, 100) for i, r in enumerate(nodes)], spare)
    daemon.cfg.write_text(text)
    r = daemon.ctl("reload", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["unchanged"] is False, r.stdout + r.stderr
    daemon.cfg.write_text(text.replace("interval_ms = %d;" % INTERVAL, "interval_ms = 300;")
                          .replace('{ name = "core"; ', '{ name = "core"; fallback = "spare"; '
                                   'retry_after_s = 4; '))
    r = daemon.ctl("reload", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["unchanged"] is True, r.stdout + r.stderr
    core = daemon.show()["pools"][0]
    assert (core["probe"]["interval_ms"], core["fallback"], core["retry_after_s"]) == (300, "spare", 4)
    assert all(n["state"] == "active" for n in core["nodes"])


@pytest.mark.parametrize("pools, error", [
    ('{ name = "a"; fallback = "a"; nodes = ( { name = "x"; address = "192.0.2.1"; } ); }',
     'h.conf:2: pool a: fallback: a pool cannot fall back to itself'),
    ('{ name = "a"; fallback = "b"; nodes = ( { name = "x"; address = "192.0.2.1"; } ); }',
     "h.conf:2: pool a: fallback: no pool is named 'b'"),
    ('{ name = "a"; fallback = "b"; nodes = ( { name = "x"; address = "192.0.2.1"; } ); },\n'
     '{ name = "b"; fallback = "a"; nodes = ( { name = "y"; address = "192.0.2.2"; } ); }',
     "h.conf:2: pool a: fallback: 'b' makes a cycle of fallbacks back to a"),
    ('{ name = "a"; probe = { codes = ["2xx", "7xx"]; }; nodes = ( { name = "x"; address = "192.0.2.1"; } ); }',
     "h.conf:2: pool a: probe: codes: '7xx' is not a reply class"),
    ('{ name = "a"; probe = { timeout_ms = 10; }; nodes = ( { name = "x"; address = "192.0.2.1"; } ); }',
     "h.conf:2: pool a: probe: timeout_ms"),
])
def test_config_errors(tmp_path, pools, error):
    f = tmp_path / "h.conf"
    f.write_text('route = ( { then = "pool a"; } );\npools = ( ' + pools + ' );\n')
    r = subprocess.run([SIPHONCTL, "check", str(f)], capture_output=True, text=True)
    assert r.returncode == 1 and (str(tmp_path) + "/" + error) in r.stderr, r.stderr


def test_check_notes(tmp_path, nodes):
    f = tmp_path / "h.conf"
    f.write_text(config([("n1", "127.0.0.21", 5060, 100)],
                        ',\n { name = "spare"; nodes = ( { name = "s1"; address = "127.0.0.9"; } ); }',
                        'fallback = "spare";'))
    out = subprocess.run([SIPHONCTL, "check", str(f)], capture_output=True, text=True).stdout
    assert "note: probe (line 5, 1 pool) is applied by siphond; siphon --config alone does not probe" in out
    assert "note: fallback (1 pool) is applied by siphond" in out
