"""Pool management from siphonctl (docs/siphond.md "Pool management"):
node add, remove, weight, drain, enable, disable and pool list against
siphond on a temp socket and state dir (--no-probes), a fake fast path
receiving and acking each generation; the RPC's error objects for every
bad parameter; overrides.json across a restart, dropped by a reload, and
refused when corrupt or stale; the drain's tables read back from the
persisted blob (blob-check)."""
import json
import os
import re
import signal
import socket
import subprocess
import time

import pytest
from test_siphond import FastPath
from waiting import wait_for

SIPHOND = os.environ["SIPHOND"]
SIPHONCTL = os.environ["SIPHONCTL"]
BLOB_CHECK = os.environ["BLOB_CHECK"]
CALLS = 1000
GRACE = 30


def config(nodes=("a0", "b0", "c0"), solo=1):
    ns = ",\n".join('{ name = "%s"; address = "127.0.0.%d"; }' % (n, 30 + ord(n[0]) - ord("a"))
                    for n in nodes)
    solo_nodes = ",\n".join('{ name = "s%d"; address = "127.0.1.%d"; }' % (i, i)
                            for i in range(1, solo + 1))
    return """
balancer = { addresses = ["127.0.6.1"]; control = ["127.0.0.1"]; grace_s = %d; metrics = "off"; };
pools = ( { name = "core"; maglev_size = 4099; nodes = ( %s ); },
          { name = "solo"; maglev_size = 4099; nodes = ( %s ); } );
route = ( { then = "pool core"; } );
""" % (GRACE, ns, solo_nodes)


class Daemon:
    def __init__(self, tmp, text=None):
        self.tmp, self.cfg = tmp, tmp / "p.conf"
        if text is not None:
            self.cfg.write_text(text)
        self.sock, self.state = str(tmp / "s.sock"), str(tmp / "state")
        self.logp = tmp / "siphond.log"
        self.p = None

    def start(self):
        self.logf = open(self.logp, "a")
        starts = self.log().count("siphond: listening on") if self.logp.exists() else 0
        self.p = subprocess.Popen([SIPHOND, "--config", str(self.cfg), "--socket", self.sock,
                                   "--state-dir", self.state, "--no-probes"], stderr=self.logf)
        # the socket file exists from bind(), before listen(): wait for the log line
        wait_for(lambda: self.log().count("siphond: listening on") > starts or
                 self.p.poll() is not None)
        assert self.p.poll() is None, self.log()
        return self

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        assert self.p.wait(timeout=10) == 0
        self.logf.close()

    def log(self):
        return self.logp.read_text()

    def ctl(self, *args):
        return subprocess.run([SIPHONCTL, "--socket", self.sock] + list(args),
                              capture_output=True, text=True, timeout=10)

    def ok(self, *args):
        r = self.ctl(*args)
        assert r.returncode == 0, r.stderr
        return r.stdout

    def js(self, *args):
        return json.loads(self.ok(*(args + ("--json",))))

    def rpc(self, method, params):
        """The raw reply object of one request."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(self.sock)
        s.sendall((json.dumps({"method": method, "params": params, "id": 7}) + "\n").encode())
        buf = b""
        while not buf.endswith(b"\n"):
            buf += s.recv(65536)
        s.close()
        return json.loads(buf)

    def pool(self, name="core"):
        return next(p for p in self.js("pool", "show")["pools"] if p["name"] == name)

    def node(self, name, pool="core"):
        return next(n for n in self.pool(pool)["nodes"] if n["name"] == name)

    def generation(self):
        return self.js("state")["generation"]

    def counters(self):
        return self.js("state")["counters"]

    def blob_path(self):
        return self.state + "/generation.blob"

    def blob_bytes(self):
        return open(self.blob_path(), "rb").read()

    def overrides(self):
        p = self.state + "/overrides.json"
        return json.load(open(p)) if os.path.exists(p) else None


def blob_check(*args):
    r = subprocess.run([BLOB_CHECK] + list(args), capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout)


@pytest.fixture
def daemon(tmp_path):
    d = Daemon(tmp_path, config()).start()
    yield d
    if d.p.poll() is None:
        d.stop()


def synced(fp, d):
    """fp receives the running generation and acks it; siphond records it."""
    gen, blob = fp.generation()
    assert gen == d.generation() and blob == d.blob_bytes()
    fp.ack(gen)
    wait_for(lambda: [f["generation"] for f in d.js("state")["fast_paths"]] == [gen],
             what="ack of %d" % gen)
    return gen


def test_every_method(daemon):
    """add, weight, drain, disable, enable, remove and pool list: each a new
    generation published, received and acked by a fast path, one log line
    per change, pool show marking what differs from the config."""
    d = daemon
    fp = FastPath(d, "fp", 0)
    g = synced(fp, d)
    assert d.ok("pool", "list").splitlines()[1:3] == [
        "POOL             NODES  LIVE  DRAINING  INACTIVE  DISABLED  CHANGED   FORWARDED    PKT/S  FALLBACK",
        "core                 3     3         0         0         0        0           0      0.0  -"]

    out = d.ok("node", "add", "core", "d0", "127.0.0.40:5070", "--weight", "50", "--id", "dee")
    assert out == "core/d0 added: 127.0.0.40:5070 weight 50 id dee, active (generation %d)\n" % (g + 1)
    assert synced(fp, d) == g + 1
    n = d.node("d0")
    assert (n["state"], n["weight"], n["changes"], n["draining"]) == ("active", 50, ["added"], False)
    assert re.search(r"^siphond: node core/d0 added by rpc: 127.0.0.40:5070 weight 50 id dee\n"
                     r"siphond: node.add: generation %d published \(\d+ bytes\)$" % (g + 1),
                     d.log(), re.M)
    r = d.js("node", "add", "core", "e0", "[::1]:5080")
    assert (r["address"], r["port"], r["weight"], r["id"], r["generation"]) == ("::1", 5080, 100, "e0", g + 2)
    assert synced(fp, d) == g + 2

    out = d.ok("node", "weight", "core", "b0", "25")
    assert out == "core/b0: weight 100 -> 25 (generation %d)\n" % (g + 3)
    assert synced(fp, d) == g + 3
    n = d.node("b0")
    assert (n["weight"], n["effective_weight"], n["changes"], n["config_weight"]) == (25, 25, ["weight"], 100)
    assert "node core/b0: weight 100 -> 25 by rpc" in d.log()
    r = d.js("node", "weight", "core", "b0", "25")  # the same: no change, no generation
    assert (r["changed"], r["generation"]) == (False, g + 3)

    out = d.ok("node", "drain", "core", "a0")
    assert out == "core/a0: active -> draining (generation %d)\n" % (g + 4)
    assert synced(fp, d) == g + 4
    n = d.node("a0")
    assert (n["state"], n["draining"], n["weight"], n["effective_weight"], n["changes"]) == \
        ("draining", True, 100, 0, ["draining"])
    assert "node core/a0: active -> draining (drained by rpc)" in d.log()
    assert d.js("node", "drain", "core", "a0")["changed"] is False

    out = d.ok("node", "disable", "core", "c0")
    assert out == "core/c0: active -> disabled (generation %d)\n" % (g + 5)
    assert synced(fp, d) == g + 5
    text = d.ok("pool", "show", "core")
    for name, mark in (("a0", "[drained by rpc]"), ("b0", "[weight by rpc; 100 in the config]"),
                       ("c0", "[disabled by an operator]"), ("d0", "[added by rpc]")):
        assert re.search(r"^%s .*%s" % (name, re.escape(mark)), text, re.M), text
    assert re.search(r"^a0 +draining ", text, re.M)
    lst = d.js("pool", "list")
    core = lst["pools"][0]
    assert (core["nodes"], core["live"], core["draining"], core["disabled"], core["changed"]) == (5, 3, 1, 1, 5)
    assert lst["changes"] == ["core/d0 added", "core/e0 added", "core/b0 weight 25",
                              "core/a0 draining", "core/c0 disabled"]
    assert d.ok("pool", "list").endswith(
        "changed by rpc (until a reload): core/d0 added, core/e0 added, core/b0 weight 25, "
        "core/a0 draining, core/c0 disabled\n")

    # enable ends the drain and the disable (nothing probes here: active at once)
    assert d.ok("node", "enable", "core", "a0") == "core/a0: draining -> active (generation %d)\n" % (g + 6)
    assert synced(fp, d) == g + 6
    assert d.ok("node", "enable", "core", "c0") == "core/c0: disabled -> active (generation %d)\n" % (g + 7)
    assert synced(fp, d) == g + 7
    assert d.node("a0")["changes"] == [] and d.node("c0")["changes"] == []
    # back to the config's weight: no longer a change
    d.ok("node", "weight", "core", "b0", "100")
    assert synced(fp, d) == g + 8
    assert d.node("b0")["changes"] == [] and "config_weight" not in d.node("b0")

    out = d.ok("node", "remove", "core", "e0")
    assert out == "core/e0 removed (it was active; generation %d)\n" % (g + 9)
    assert synced(fp, d) == g + 9
    d.ok("node", "remove", "core", "a0")
    assert synced(fp, d) == g + 10
    assert d.pool()["removed"] == ["a0"]
    assert "removed by rpc: a0" in d.ok("pool", "show")
    # a config node removed, then one of its name added: replaced
    d.ok("node", "add", "core", "a0", "127.0.0.99")
    assert synced(fp, d) == g + 11
    assert d.node("a0")["changes"] == ["replaced"] and d.pool()["removed"] == []
    assert d.js("pool", "list")["changes"] == ["core/d0 added", "core/a0 replaced"]
    assert [e["node"] for e in d.overrides()["nodes"]] == ["d0", "a0"]
    # each change logged once
    for line in ("node core/e0 removed by rpc (it was active)", "node core/a0 added by rpc: 127.0.0.99:5060"):
        assert d.log().count(line) == 1
    c = d.counters()
    assert (c["pool_changes"], c["pool_changes_refused"]) == (11, 0)
    assert fp.quiet() is True


def test_drain_tables(daemon):
    """A drained node: up, out of the current table, in the previous one
    (the tables before the drain) for grace_s; dialogs of its calls still
    reach it, new calls never; enable gives it its slots back."""
    d = daemon
    before = blob_check("--slots", "core", d.blob_path())
    assert before["previous"] == [] and "a0" in before["maglev"]
    was = blob_check("--dispatch", "core", str(CALLS), d.blob_path())
    d.ok("node", "drain", "core", "a0")
    t = time.monotonic()
    tables = blob_check("--json", d.blob_path())["pools"]["core"]
    assert [n["up"] for n in tables["nodes"]] == [True, True, True]
    assert tables["nodes"][0]["slots"] == 0 and tables["nodes"][0]["moved"] > 0
    after = blob_check("--slots", "core", d.blob_path())
    assert "a0" not in after["maglev"]
    assert after["previous"] == before["maglev"]
    assert abs(after["previous_until"] - (t + GRACE)) <= 2
    now = blob_check("--dispatch", "core", str(CALLS), d.blob_path())
    on_a0 = [i for i, n in enumerate(was["dialog"]) if n == "a0"]
    assert on_a0 and all(now["dialog"][i] == "a0" for i in on_a0)
    assert "a0" not in now["initial"]
    assert sum(a != b for a, b in zip(was["dialog"], now["dialog"])) == 0
    # enable: back where it was
    d.ok("node", "enable", "core", "a0")
    assert blob_check("--slots", "core", d.blob_path())["maglev"] == before["maglev"]
    # a drained node removed: nothing moves (it had no slot), and the drain's
    # previous table stays with its until (mapped, a0 named nowhere)
    d.ok("node", "drain", "core", "b0")
    drained = blob_check("--slots", "core", d.blob_path())
    d.ok("node", "remove", "core", "b0")
    removed = blob_check("--slots", "core", d.blob_path())
    assert removed["maglev"] == drained["maglev"]
    assert removed["previous_until"] == drained["previous_until"]
    assert removed["previous"] == [None if n == "b0" else n for n in drained["previous"]]


def rpc_error(d, method, params):
    r = d.rpc(method, params)
    assert "error" in r, r
    return r["error"]["code"], r["error"]["message"]


BAD = [
    # (method, params, siphonctl args, code, message)
    ("node.add", {"pool": "nopool", "node": "x", "address": "127.0.0.9"},
     ["node", "add", "nopool", "x", "127.0.0.9"], "not_found", "no pool named 'nopool'"),
    ("node.add", {"pool": "core", "node": "b0", "address": "127.0.0.9"},
     ["node", "add", "core", "b0", "127.0.0.9"], "failed", "pool core already has a node named 'b0'"),
    ("node.add", {"pool": "core", "node": "x", "address": "127.0.0.31"},
     ["node", "add", "core", "x", "127.0.0.31:5060"], "failed",
     "pool core: 127.0.0.31 port 5060 is node b0's address already"),
    ("node.add", {"pool": "core", "node": "x", "address": "127.0.0.9", "id": "c0"},
     ["node", "add", "core", "x", "127.0.0.9", "--id", "c0"], "failed",
     "pool core: the id 'c0' is node c0's (ids are unique in a pool)"),
    ("node.add", {"pool": "core", "node": "x", "address": "127.0.0.300"},
     ["node", "add", "core", "x", "127.0.0.300"], "bad_params",
     "params.address: '127.0.0.300' is not an IPv4 or IPv6 address with an optional :PORT"),
    ("node.add", {"pool": "core", "node": "x", "address": "127.0.0.9:0"},
     ["node", "add", "core", "x", "127.0.0.9:0"], "bad_params", "params.address: '127.0.0.9:0'"),
    ("node.add", {"pool": "core", "node": "x", "address": "127.0.0.9:65536"},
     ["node", "add", "core", "x", "127.0.0.9:65536"], "bad_params", "params.address: '127.0.0.9:65536'"),
    ("node.add", {"pool": "core", "node": "x", "address": "[127.0.0.9]:5060"},
     ["node", "add", "core", "x", "[127.0.0.9]:5060"], "bad_params", "params.address: '[127.0.0.9]:5060'"),
    ("node.add", {"pool": "core", "node": "x", "address": "node.example.com"},
     ["node", "add", "core", "x", "node.example.com"], "bad_params", "params.address: 'node.example.com'"),
    ("node.add", {"pool": "core", "node": "9x", "address": "127.0.0.9"},
     ["node", "add", "core", "9x", "127.0.0.9"], "bad_params", "params.node: '9x' is not a node name"),
    ("node.add", {"pool": "core", "node": "x", "address": "127.0.0.9", "id": "a b"},
     ["node", "add", "core", "x", "127.0.0.9", "--id=a b"], "bad_params",
     "params.id: 'a b' is not a node-id token"),
    ("node.remove", {"pool": "core", "node": "zz"}, ["node", "remove", "core", "zz"],
     "not_found", "pool core has no node named 'zz'"),
    ("node.remove", {"pool": "solo", "node": "s1"}, ["node", "remove", "solo", "s1"], "failed",
     "solo/s1 is the last node of pool solo: a pool keeps one; `node disable` or `node drain` takes it out"),
    ("node.weight", {"pool": "core", "node": "zz", "weight": 1}, ["node", "weight", "core", "zz", "1"],
     "not_found", "pool core has no node named 'zz'"),
    ("node.drain", {"pool": "nopool", "node": "a0"}, ["node", "drain", "nopool", "a0"],
     "not_found", "no pool named 'nopool'"),
    ("node.enable", {"pool": "core", "node": "zz"}, ["node", "enable", "core", "zz"],
     "not_found", "pool core has no node named 'zz'"),
    ("node.disable", {"pool": "nopool", "node": "a0"}, ["node", "disable", "nopool", "a0"],
     "not_found", "no pool named 'nopool'"),
]


@pytest.mark.parametrize("method, params, args, code, message", BAD,
                         ids=["%s-%d" % (b[0], i) for i, b in enumerate(BAD)])
def test_refused(daemon, method, params, args, code, message):
    """A refused change: its error object, siphonctl's exit 1 and message,
    nothing changed, counted and logged."""
    d = daemon
    g, blob = d.generation(), d.blob_bytes()
    assert rpc_error(d, method, params)[0] == code
    assert message in rpc_error(d, method, params)[1]
    r = d.ctl(*args)
    assert r.returncode == 1 and r.stderr.startswith("siphonctl node: " + message), r.stderr
    assert d.generation() == g and d.blob_bytes() == blob and d.overrides() is None
    assert d.counters()["pool_changes_refused"] == 3
    assert d.log().count("siphond: %s refused: %s" % (method, message)) == 3
    assert d.js("pool", "list")["changes"] == []


def test_refused_when_draining_a_disabled_node(daemon):
    d = daemon
    d.ok("node", "disable", "core", "a0")
    g = d.generation()
    code, msg = rpc_error(d, "node.drain", {"pool": "core", "node": "a0"})
    assert (code, msg) == ("failed", "core/a0 is disabled: it takes no call at all; `node enable` "
                                     "first to drain it")
    assert d.generation() == g and d.node("a0")["state"] == "disabled"


def test_params_of_the_wrong_shape(daemon):
    """The RPC layer's own checks (types, missing, unknown) and siphonctl's
    usage errors (exit 2, nothing sent)."""
    d = daemon
    assert rpc_error(d, "node.weight", {"pool": "core", "node": "a0", "weight": "5"}) == \
        ("bad_params", "params.weight: expected an integer")
    assert rpc_error(d, "node.add", {"pool": "core", "node": "x"}) == \
        ("bad_params", "params.address: missing (a required string)")
    assert rpc_error(d, "node.drain", {"pool": "core", "node": "a0", "now": True})[0] == "bad_params"
    # ranges are declared with the method: checked before it runs, like types
    assert rpc_error(d, "node.weight", {"pool": "core", "node": "a0", "weight": -1}) == \
        ("bad_params", "params.weight: -1 is out of range (0 to 65535)")
    assert rpc_error(d, "node.weight", {"pool": "core", "node": "a0", "weight": 70000}) == \
        ("bad_params", "params.weight: 70000 is out of range (0 to 65535)")
    assert rpc_error(d, "node.add", {"pool": "core", "node": "x", "address": "127.0.0.9",
                                     "weight": 65536}) == \
        ("bad_params", "params.weight: 65536 is out of range (0 to 65535)")
    r = d.ctl("node", "weight", "core", "a0", "70000")
    assert r.returncode == 1 and r.stderr.startswith(
        "siphonctl node: params.weight: 70000 is out of range (0 to 65535)"), r.stderr
    requests = d.counters()["rpc"]["requests"]
    for args in (["node"], ["node", "frob", "core", "a0"], ["node", "add", "core", "x"],
                 ["node", "add", "core", "x", "127.0.0.9", "extra"],
                 ["node", "add", "core", "x", "127.0.0.9", "--weight", "ten"],
                 ["node", "add", "core", "x", "127.0.0.9", "--bogus"],
                 ["node", "remove", "core"], ["node", "drain", "core", "a0", "b0"],
                 ["node", "weight", "core", "a0"], ["node", "weight", "core", "a0", "1x"],
                 ["node", "enable", "core", "a0", "--json", "x"],
                 ["pool", "list", "core"], ["pool", "frob"]):
        r = d.ctl(*args)
        assert r.returncode == 2 and "usage: siphonctl [--socket PATH] " + args[0] in r.stderr, (args, r.stderr)
    assert d.counters()["rpc"]["requests"] == requests + 1  # the state call itself


def test_too_many_nodes(tmp_path):
    """The XDP kernel lane's SK_MAX_NODES (common/siphon/limits.h): a node
    more is refused when the tables fit it."""
    d = Daemon(tmp_path, config(("a0",), solo=255)).start()
    try:
        g = d.generation()
        code, msg = rpc_error(d, "node.add", {"pool": "core", "node": "x", "address": "127.0.0.9"})
        assert code == "failed"
        assert msg.startswith("refused: the XDP kernel lane takes at most 256 nodes, the config has 257")
        assert d.generation() == g and d.counters()["pool_changes_refused"] == 1
        # removing one makes room
        d.ok("node", "remove", "solo", "s7")
        d.ok("node", "add", "core", "x", "127.0.0.9")
    finally:
        d.stop()


def test_restart_keeps_the_changes(daemon):
    """overrides.json is re-applied at start: the same generation, the same
    bytes, the same marks; a fast path running it is sent nothing."""
    d = daemon
    d.ok("node", "add", "core", "d0", "127.0.0.40")
    d.ok("node", "weight", "core", "b0", "30")
    d.ok("node", "drain", "core", "a0")
    d.ok("node", "disable", "core", "c0")
    g, blob, show = d.generation(), d.blob_bytes(), d.pool()
    ov = d.overrides()
    assert ov["version"] == 1 and ov["config"] == str(d.cfg)
    assert ov["nodes"] == [
        {"pool": "core", "node": "d0", "added": {"address": "127.0.0.40", "port": 5060, "id": "d0"},
         "weight": 100},
        {"pool": "core", "node": "b0", "weight": 30},
        {"pool": "core", "node": "a0", "drained": True},
        {"pool": "core", "node": "c0", "disabled": True}]
    d.stop()
    d.start()
    assert re.search(r"overrides: 4 RPC changes re-applied over %s from %s/overrides.json: "
                     r"core/d0 added, core/b0 weight 30, core/a0 draining, core/c0 disabled"
                     % (re.escape(str(d.cfg)), re.escape(d.state)), d.log())
    assert "generation %d kept: " % g in d.log()
    assert d.generation() == g and d.blob_bytes() == blob
    after = d.pool()
    def kept(nodes):
        return [(n["name"], n["state"], n["weight"], n["effective_weight"], n["changes"])
                for n in nodes]
    assert kept(after["nodes"]) == kept(show["nodes"])
    fp = FastPath(d, "fp", g)
    assert fp.reply["result"] == {"generation": g, "send": False} and fp.quiet() is True
    # and go on from there
    d.ok("node", "enable", "core", "a0")
    assert d.generation() == g + 1


def test_reload_drops_the_changes(daemon):
    d = daemon
    d.ok("node", "add", "core", "d0", "127.0.0.40")
    d.ok("node", "disable", "core", "c0")
    g = d.generation()
    dry = d.js("reload", "--dry-run")
    assert dry["overrides_dropped"] == ["core/d0 added", "core/c0 disabled"]
    assert dry["changes"]["nodes"]["removed"] == ["core/d0"]
    assert "RPC changes it would drop: core/d0 added, core/c0 disabled" in d.ok("reload", "--dry-run")
    assert d.overrides() is not None and d.generation() == g
    out = d.ok("reload")
    assert out.startswith("generation %d published:\n" % (g + 1))
    assert out.endswith("RPC changes dropped: core/d0 added, core/c0 disabled\n")
    assert re.search(r"reload \(rpc\): generation %d published: .*; RPC changes dropped: "
                     r"core/d0 added, core/c0 disabled$" % (g + 1), d.log(), re.M)
    assert d.overrides() is None
    assert [n["name"] for n in d.pool()["nodes"]] == ["a0", "b0", "c0"]
    assert all(n["changes"] == [] and n["state"] == "active" for n in d.pool()["nodes"])
    assert d.counters()["overrides_dropped"] == 2
    # SIGHUP too, and the same text with nothing else changed
    d.ok("node", "drain", "core", "a0")
    d.p.send_signal(signal.SIGHUP)
    wait_for(lambda: re.search(r"reload \(SIGHUP\): generation \d+ published: .*; RPC changes "
                               r"dropped: core/a0 draining$", d.log(), re.M), what="SIGHUP drop")
    assert d.node("a0")["state"] == "active" and d.overrides() is None
    # nothing to drop, nothing said
    assert "dropped" not in d.ok("reload")


@pytest.mark.parametrize("kind, text, reason", [
    ("not json", "{ not json", "overrides.json:1: not JSON"),
    ("version", '{"version": 2, "config": "X", "config_xxh64": "0", "saved": 0, "nodes": []}',
     'expected {"version": 1'),
    ("bad entry", None, "nodes[0]: added: an address, a port, an id and a weight"),
    ("stale", None, "stale: made over another text of"),
    ("other config", None, "stale: made over another config file"),
    ("does not apply", None, "does not apply: "),
])
def test_bad_overrides_file(tmp_path, kind, text, reason):
    """A corrupt or stale overrides.json: refused with the reason, counted,
    kept aside; siphond starts from the config alone."""
    d = Daemon(tmp_path, config()).start()
    d.ok("node", "add", "core", "d0", "127.0.0.40")
    good = d.overrides()
    d.stop()
    path = d.state + "/overrides.json"
    if kind == "bad entry":
        good["nodes"][0]["added"]["address"] = "127.0.0.400"
    elif kind == "stale":
        d.cfg.write_text(config() + "# edited while siphond was down\n")
    elif kind == "other config":
        good["config"] = "/etc/siphon/other.conf"
    elif kind == "does not apply":
        good["nodes"].append({"pool": "core", "node": "zz", "weight": 5})
    if text is None:
        text = json.dumps(good)
    open(path, "w").write(text)
    d.start()
    try:
        assert re.search(r"siphond: overrides: .*%s.*; refused: siphond starts from %s alone \(the file "
                         r"is kept as %s/overrides.json.refused\)" % (re.escape(reason), re.escape(str(d.cfg)),
                                                                      re.escape(d.state)), d.log()), d.log()
        assert d.counters()["overrides_refused"] == 1
        assert not os.path.exists(path) and open(path + ".refused").read() == text
        assert [n["name"] for n in d.pool()["nodes"]] == ["a0", "b0", "c0"]
        assert d.js("pool", "list")["changes"] == []
        # changes work on from the config alone
        d.ok("node", "drain", "core", "b0")
        assert d.overrides()["nodes"] == [{"pool": "core", "node": "b0", "drained": True}]
    finally:
        d.stop()
