"""siphond end to end without a network namespace (docs/siphond.md): the
daemon on a temp socket and state dir, fake fast paths speaking the publish
channel (common/siphon/gen_wire.h), siphonctl state and reload."""
import json
import os
import re
import signal
import socket
import struct
import subprocess

import pytest
from waiting import wait_for

SIPHOND = os.environ["SIPHOND"]
SIPHONCTL = os.environ["SIPHONCTL"]
BLOB_CHECK = os.environ["BLOB_CHECK"]
SOURCE = os.environ["SIPHON_SOURCE"]
VERSION = os.environ["SIPHON_VERSION"]

MAGIC = 0x42555053
GENERATION, ACK = 1, 2
EDGE = open(os.path.join(SOURCE, "docs/examples/edge.conf")).read()
B3 = ('{ name = "b3"; address = "198.51.100.23"; port = 5060; weight = 50; '
      'id = "b3-small"; mac = "02:00:00:00:00:23"; }')
assert B3 in EDGE


def with_nodes(text, *nodes):
    """The core pool with nodes (name, last octet) appended after b3, in order."""
    more = "".join(',\n      { name = "%s"; address = "198.51.100.%d"; port = 5060; }' % n
                   for n in nodes)
    return text.replace(B3, B3 + more)


class Daemon:
    def __init__(self, tmp, config):
        self.tmp, self.config = tmp, config
        self.sock = str(tmp / "run" / "siphond.sock")
        self.state = str(tmp / "state")
        self.log_path = tmp / "siphond.log"
        self.proc = None

    def start(self):
        self.logf = open(self.log_path, "a")
        # the edge config's nodes do not exist here: without --no-probes
        # they would go inactive and make generations (test_health_loop.py)
        self.proc = subprocess.Popen([SIPHOND, "--config", self.config, "--socket", self.sock,
                                      "--state-dir", self.state, "--no-probes"],
                                     stderr=self.logf)
        wait_for(lambda: os.path.exists(self.sock) or self.proc.poll() is not None)
        assert self.proc.poll() is None, self.log()

    def log(self):
        return self.log_path.read_text()

    def wait_log(self, pattern):
        wait_for(lambda: re.search(pattern, self.log()), what=pattern)

    def ctl(self, *args):
        return subprocess.run([SIPHONCTL, "--socket", self.sock] + list(args),
                              capture_output=True, text=True, timeout=30)

    def state_json(self):
        r = self.ctl("state", "--json")
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            rc = self.proc.wait(timeout=20)
            self.logf.close()
            return rc
        return self.proc.returncode if self.proc else None


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def recv_line(s):
    line = b""
    while not line.endswith(b"\n"):
        c = s.recv(1)
        if not c:
            return None
        line += c
    return json.loads(line)


class FastPath:
    """A fake fast path: attach, then GENERATION in, ACK out."""

    def __init__(self, daemon, name, runs):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(10)
        self.s.connect(daemon.sock)
        self.s.sendall((json.dumps({"method": "fastpath.attach",
                                    "params": {"name": name, "generation": runs},
                                    "id": 1}) + "\n").encode())
        self.reply = recv_line(self.s)

    def generation(self):
        magic, version, kind, length = struct.unpack("<IHHQ", recv_exact(self.s, 16))
        assert (magic, version, kind) == (MAGIC, 1, GENERATION)
        blob = recv_exact(self.s, length)
        return struct.unpack_from("<Q", blob, 24)[0], blob

    def ack(self, gen, status=0, reason=b""):
        self.s.sendall(struct.pack("<IHHQ", MAGIC, 1, ACK, 128) +
                       struct.pack("<Qi116s", gen, status, reason))

    def quiet(self, seconds=0.3):
        self.s.settimeout(seconds)
        try:
            data = self.s.recv(1)
        except socket.timeout:
            return True
        finally:
            self.s.settimeout(10)
        return False if data else "closed"


def maglev(blob, pool_name):
    """The pool's current Maglev slots, read from the blob's sections."""
    n = struct.unpack_from("<I", blob, 32)[0]
    sec = [struct.unpack_from("<QII", blob, 40 + 16 * i) for i in range(n)]
    names_off, n_pools, name_size = sec[12]
    pools_off, _, pool_size = sec[13]
    slots_off = sec[14][0]
    for p in range(n_pools):
        name = blob[names_off + p * name_size:][:name_size].split(b"\0")[0].decode()
        if name == pool_name:
            _, _, _, first, size = struct.unpack_from("<5I", blob, pools_off + p * pool_size)
            return struct.unpack_from("<%dH" % size, blob, slots_off + 2 * first)
    raise KeyError(pool_name)


def fp_entry(state, name):
    return [f for f in state["fast_paths"] if f["name"] == name]


@pytest.fixture
def daemon(tmp_path):
    cfg = tmp_path / "edge.conf"
    cfg.write_text(EDGE)
    d = Daemon(tmp_path, str(cfg))
    d.start()
    yield d
    d.stop()


def test_arguments():
    for args, msg in [([], "siphond: --config is required"),
                      (["--config", "x", "--bogus"], "siphond: unknown option '--bogus'"),
                      (["--config", "x", "--socket"], "siphond: --socket needs a value"),
                      (["--config", "x", "--state-dir="], "siphond: --state-dir: the value is empty"),
                      (["--config", "x", "--config", "y"], "siphond: --config given twice"),
                      (["--config", "x", "extra"], "siphond: unexpected argument 'extra'")]:
        r = subprocess.run([SIPHOND] + args, capture_output=True, text=True)
        assert r.returncode == 2, args
        assert r.stderr.splitlines()[0] == msg
        assert "usage: siphond --config FILE" in r.stderr
    r = subprocess.run([SIPHOND, "--version"], capture_output=True, text=True)
    assert (r.returncode, r.stdout) == (0, "siphond %s\n" % VERSION)


def test_bad_config_at_start(tmp_path):
    cfg = tmp_path / "bad.conf"
    cfg.write_text(EDGE.replace("weight = 50;", 'weight = "x";'))
    line = EDGE[:EDGE.index("weight = 50;")].count("\n") + 1
    r = subprocess.run([SIPHOND, "--config", str(cfg), "--socket", str(tmp_path / "s.sock"),
                        "--state-dir", str(tmp_path / "state")], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 1
    assert re.search(r"siphond: cannot start: %s:%d: " % (re.escape(str(cfg)), line), r.stderr)
    assert not os.path.exists(tmp_path / "s.sock")
    assert not os.path.exists(tmp_path / "state" / "generation.blob")


def test_publish_reload_restart(daemon, tmp_path):
    cfg = daemon.config
    blob_file = os.path.join(daemon.state, "generation.blob")
    assert oct(os.stat(daemon.sock).st_mode & 0o777) == "0o600"
    daemon.wait_log(r"siphond: generation 1 published: ")
    assert open(blob_file, "rb").read()[24:32] == struct.pack("<Q", 1)

    # a fast path that runs nothing gets generation 1, the persisted bytes
    a = FastPath(daemon, "fp-a", 0)
    assert a.reply == {"id": 1, "result": {"generation": 1, "send": True}}
    gen, blob1 = a.generation()
    assert gen == 1 and blob1 == open(blob_file, "rb").read()
    a.ack(1)
    daemon.wait_log(r"fast path fp-a acked generation 1\n")
    st = daemon.state_json()
    assert st["generation"] == 1 and st["config"] == cfg and st["state_dir"] == daemon.state
    [e] = fp_entry(st, "fp-a")
    assert (e["generation"], e["runs"], e["pid"], e["pending"], e["refused"]) == \
        (1, 0, os.getpid(), False, None)
    assert st["counters"]["fast_paths"]["attached"] == 1
    assert st["counters"]["rpc"]["handed_over"] == 1
    table = daemon.ctl("state")
    assert table.returncode == 0
    assert table.stdout.startswith("generation  1 (")
    assert re.search(r"^fp-a +%d +1 " % os.getpid(), table.stdout, re.M)

    # SIGHUP with a changed config: generation 2, persisted before it is pushed
    open(cfg, "w").write(with_nodes(EDGE, ("b4", 24)))
    daemon.proc.send_signal(signal.SIGHUP)
    gen, blob2 = a.generation()
    assert gen == 2 and blob2 == open(blob_file, "rb").read()
    daemon.wait_log(r"reload \(SIGHUP\): generation 2 published: ")
    a.ack(2)
    wait_for(lambda: fp_entry(daemon.state_json(), "fp-a")[0]["generation"] == 2)

    # an invalid config: rejected with file:line, generation 2 stays, fp-a untouched
    bad = with_nodes(EDGE, ("b4", 24)).replace("weight = 50;", "weight = 50 nonsense;")
    line = bad[:bad.index("nonsense")].count("\n") + 1
    open(cfg, "w").write(bad)
    r = daemon.ctl("reload")
    assert r.returncode == 1
    assert r.stderr.startswith("siphonctl reload: %s:%d: " % (cfg, line))
    daemon.proc.send_signal(signal.SIGHUP)
    daemon.wait_log(r"reload \(SIGHUP\) rejected: %s:%d: .*; generation 2 stays"
                    % (re.escape(cfg), line))
    assert re.search(r"reload \(rpc\) rejected: %s:%d: " % (re.escape(cfg), line), daemon.log())
    st = daemon.state_json()
    assert st["generation"] == 2 and st["counters"]["reloads_rejected"] == 2
    assert a.quiet() is True
    assert tables_generation(blob_file) == 2

    # a dry run of adding b5: what moves, exactly as the tables say; nothing published
    open(cfg, "w").write(with_nodes(EDGE, ("b4", 24), ("b5", 25)))
    r = daemon.ctl("reload", "--dry-run", "--json")
    assert r.returncode == 0, r.stderr
    dry = json.loads(r.stdout)
    assert dry["dry_run"] is True and dry["generation"] == 2 and dry["unchanged"] is False
    assert dry["changes"]["nodes"] == {"added": ["core/b5"], "removed": [], "changed": []}
    assert dry["changes"]["pools"] == {"added": [], "removed": []}
    assert dry["changes"]["flags"] == {"added": [], "removed": []}
    assert dry["changes"]["rules"] == {"added": [], "removed": [], "reordered": False}
    moves = {m["pool"]: m for m in dry["changes"]["maglev"]}
    assert moves["carrier_a"]["slots_moved"] == 0
    assert a.quiet() is True
    people = daemon.ctl("reload", "--dry-run")
    assert people.returncode == 0
    assert "  + node core/b5\n" in people.stdout
    assert re.search(r"pool core: [0-9.]+%% of the Maglev slots move \(%d of 65537\)"
                     % moves["core"]["slots_moved"], people.stdout)
    assert daemon.state_json()["generation"] == 2

    # the real reload: generation 3; the slots that moved are the dry run's number
    r = daemon.ctl("reload")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("generation 3 published:\n")
    gen, blob3 = a.generation()
    assert gen == 3
    old, new = maglev(blob2, "core"), maglev(blob3, "core")
    # b5 is appended: nodes that stay keep their index, so a moved slot is a changed value
    moved = sum(1 for x, y in zip(old, new) if x != y)
    assert moves["core"]["slots_moved"] == moved
    assert moves["core"]["size"] == len(new) == 65537
    assert moves["core"]["share_moved"] == pytest.approx(moved / 65537, abs=1e-12)
    # b5's whole share moved, plus Maglev's small reshuffle among the others
    assert 4 not in old and 0 < sum(1 for y in new if y == 4) <= moved
    assert 0.10 < moved / 65537 < 0.25
    assert maglev(blob2, "carrier_a") == maglev(blob3, "carrier_a")

    # a refusal is recorded; the fast path keeps what it ran
    a.ack(3, -22, b"the blob does not open")
    daemon.wait_log(r"fast path fp-a refused generation 3: the blob does not open")
    [e] = fp_entry(daemon.state_json(), "fp-a")
    assert e["generation"] == 2
    assert e["refused"] == {"generation": 3, "reason": "the blob does not open"}

    # unchanged: no new generation
    r = daemon.ctl("reload")
    assert (r.returncode, r.stdout) == (0, "no change: generation 3 stays\n")

    # SIGTERM: exit 0, socket removed, fast path closed
    persisted = open(blob_file, "rb").read()
    mtime = os.stat(blob_file).st_mtime_ns
    assert daemon.stop() == 0
    assert not os.path.exists(daemon.sock)
    assert a.quiet() == "closed"
    assert "siphond: Terminated: stopping\n" in daemon.log()
    assert tables_generation(blob_file) == 3

    # restart with the same config: the same generation, the file untouched
    daemon.start()
    daemon.wait_log(r"generation 3 kept: ")
    assert daemon.state_json()["generation"] == 3
    assert open(blob_file, "rb").read() == persisted
    assert os.stat(blob_file).st_mtime_ns == mtime
    # a fast path that runs it gets nothing and counts as acked
    b = FastPath(daemon, "fp-b", 3)
    assert b.reply == {"id": 1, "result": {"generation": 3, "send": False}}
    assert b.quiet() is True
    assert fp_entry(daemon.state_json(), "fp-b")[0]["generation"] == 3
    # another config after a restart: numbers keep growing
    open(cfg, "w").write(EDGE)
    assert daemon.stop() == 0
    daemon.start()
    daemon.wait_log(r"generation 4 published: ")
    assert tables_generation(blob_file) == 4


def tables_generation(path):
    r = subprocess.run([BLOB_CHECK, path], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    return int(r.stdout.split()[1])


def test_bad_handshakes_and_acks(daemon):
    def raw(line):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(daemon.sock)
        s.sendall(line)
        return s

    # params missing, a name that is not one, a negative generation: an
    # error reply, logged, counted, then closed
    for params, code, msg in [
            ({"generation": 0}, "bad_params", "params.name: missing (a required string)"),
            ({"name": "a b", "generation": 0}, "bad_params",
             "params.name: 1 to 63 printable characters, no spaces"),
            ({"name": "x", "generation": -1}, "bad_params",
             "params.generation: -1 is out of range (at least 0)")]:
        s = raw((json.dumps({"method": "fastpath.attach", "params": params, "id": 5}) + "\n").encode())
        assert recv_line(s) == {"id": 5, "error": {"code": code, "message": msg}}
        assert s.recv(1) == b""
        s.close()
    wait_for(lambda: daemon.log().count("refused at attach") == 3)
    assert daemon.state_json()["counters"]["fast_paths"]["refused"] == 3

    # a garbage ACK: logged, closed, counted
    a = FastPath(daemon, "junk", 0)
    a.generation()
    a.s.sendall(b"\xde\xad" * 72)
    assert a.s.recv(1) == b""
    daemon.wait_log(r"fast path junk detached: protocol error: publish channel: magic ")
    # an ack of a generation never sent
    b = FastPath(daemon, "liar", 0)
    b.generation()
    b.ack(99)
    assert b.s.recv(1) == b""
    daemon.wait_log(r"fast path liar detached: protocol error: an ack of generation 99, never sent")
    # a GENERATION from a fast path
    c = FastPath(daemon, "backwards", 0)
    c.generation()
    c.s.sendall(struct.pack("<IHHQ", MAGIC, 1, GENERATION, 8) + b"\0" * 8)
    assert c.s.recv(1) == b""
    daemon.wait_log(r"fast path backwards detached: protocol error: publish channel: "
                    r"a fast path sends only ACK")
    st = daemon.state_json()
    assert st["counters"]["fast_paths"]["protocol_errors"] == 3
    assert st["counters"]["fast_paths"]["detached"] == 3
    assert st["fast_paths"] == []
    r = daemon.ctl("ping")
    assert (r.returncode, r.stdout) == (0, "pong\n")


def test_ctl_arguments(daemon):
    r = daemon.ctl("state", "--bogus")
    assert r.returncode == 2 and "usage: siphonctl [--socket PATH] state [--json]" in r.stderr
    r = daemon.ctl("reload", "--bogus")
    assert r.returncode == 2 and "reload [--dry-run] [--json]" in r.stderr
    r = subprocess.run([SIPHONCTL, "--socket", daemon.sock + ".none", "state"],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "siphond is not running at" in r.stderr
