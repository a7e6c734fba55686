"""balancer.on_node_change (docs/siphond.md "Events"): siphond runs an
operator's command on each node state change, with the change in its
environment, and is never held up by it. Core nodes are UDP responders on
127.0.3.x (test_health_loop.Responder), probed from control 127.0.3.1."""
import json
import os
import re
import subprocess
import time

import pytest
from test_health_loop import Daemon, Responder
from waiting import wait_for

SIPHONCTL = os.environ["SIPHONCTL"]
INTERVAL, TIMEOUT, DOWN, UP = 200, 150, 2, 2


def config(nodes, command, extra=""):
    ns = ",\n".join('{ name = "%s"; address = "%s"; port = %d; }' % n for n in nodes)
    return """
balancer = { control = ["127.0.3.1"]; grace_s = 30; metrics = "off"; on_node_change = "%s"; %s };
pools = ( { name = "core";
    probe = { interval_ms = %d; timeout_ms = %d; down = %d; up = %d; };
    nodes = ( %s ); } );
route = ( { then = "pool core"; } );
""" % (command, extra, INTERVAL, TIMEOUT, DOWN, UP, ns)


def script(path, body):
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return str(path)


@pytest.fixture
def nodes():
    rs = [Responder("127.0.3.%d" % (21 + i)) for i in range(2)]
    yield rs
    for r in rs:
        if not r.stop:
            r.close()


def start(tmp_path, nodes, command, extra=""):
    d = Daemon(tmp_path, config([("n%d" % (i + 1), r.addr, r.port) for i, r in enumerate(nodes)],
                                command, extra))
    for i in range(len(nodes)):
        d.wait_state("n%d" % (i + 1), "active")
    return d


def events(d):
    r = d.ctl("state", "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["events"]


def recorded(out):
    """Each run's environment, in the order the runs started."""
    runs = []
    for f in sorted(out.glob("ev-*")):
        env = dict(l.split("=", 1) for l in f.read_text().splitlines() if "=" in l)
        runs.append(env)
    return sorted(runs, key=lambda e: float(e["SIPHON_TIME"]))


def test_environment_down_and_up(tmp_path, nodes):
    """A node stops answering and comes back: one run per state change,
    each with the pool, node, address, states, reason and the generation
    that the change made (published before the command runs)."""
    out = tmp_path / "out"
    out.mkdir()
    cmd = script(tmp_path / "record.sh",
                 'env > "%s/ev-$$.tmp" && mv "%s/ev-$$.tmp" "%s/ev-$(date +%%s%%N)-$$"'
                 % (out, out, out))
    d = start(tmp_path, nodes, cmd)
    try:
        g0 = d.show()["generation"]
        nodes[1].silent = True
        d.wait_state("n2", "inactive", timeout=5)
        wait_for(lambda: len(list(out.glob("ev-*-*"))) == 2, 5, "two runs")
        nodes[1].silent = False
        d.wait_state("n2", "active", timeout=5)
        wait_for(lambda: len(list(out.glob("ev-*-*"))) == 3, 5, "three runs")
        runs = recorded(out)
        assert [(e["SIPHON_OLD_STATE"], e["SIPHON_NEW_STATE"]) for e in runs] == [
            ("active", "trying"), ("trying", "inactive"), ("inactive", "active")]
        assert [e["SIPHON_WHY"] for e in runs] == ["none", "failures", "none"]
        # trying changes no table; inactive makes g0 + 1, active again g0 + 2
        assert [int(e["SIPHON_GENERATION"]) for e in runs] == [g0, g0 + 1, g0 + 2]
        assert [e["SIPHON_TAKES_CALLS"] for e in runs] == ["1", "0", "1"]
        for e in runs:
            assert e["SIPHON_EVENT"] == "node_change"
            assert e["SIPHON_POOL"] == "core" and e["SIPHON_NODE"] == "n2"
            assert e["SIPHON_NODE_ID"] == "n2"
            assert e["SIPHON_ADDRESS"] == "127.0.3.22"
            assert e["SIPHON_PORT"] == str(nodes[1].port)
            assert abs(float(e["SIPHON_TIME"]) - time.time()) < 30
            # nothing of siphond's own environment: PATH and SIPHON_* only
            assert set(k for k in e if not k.startswith("SIPHON_")) <= {"PATH", "PWD", "SHLVL", "_"}
        # an operator's change is one too
        assert d.ctl("node", "disable", "core", "n1").returncode == 0
        wait_for(lambda: len(list(out.glob("ev-*-*"))) == 4, 5, "four runs")
        e = recorded(out)[-1]
        assert (e["SIPHON_NODE"], e["SIPHON_OLD_STATE"], e["SIPHON_NEW_STATE"], e["SIPHON_WHY"]) == (
            "n1", "active", "disabled", "admin")
        ev = wait_for(lambda: (lambda v: v if v["succeeded"] == 4 else None)(events(d)), 5,
                      "four succeeded")
        assert ev["command"] == cmd and ev["running"] == 0
        assert ev["events"] == ev["started"] == 4
        assert ev["failed"] == ev["killed"] == ev["dropped"] == ev["spawn_failed"] == 0
    finally:
        d.close()


def group_alive(pgid):
    """A live (not zombie) process of this process group."""
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            stat = open("/proc/%s/stat" % p).read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def test_slow_command_holds_nothing_up(tmp_path, nodes):
    """A command that never ends: probes and RPC go on as if it were not
    there, a change while it runs (at most 1 at once) is dropped and
    counted, and after on_node_change_timeout_s it is killed with what it
    started (its process group)."""
    cmd = script(tmp_path / "hang.sh", "sleep 600")  # not exec: a child in its group
    # a 3 s bound leaves the RPC checks time to run while the command still
    # runs, also under ASan on a loaded machine: what is checked is that
    # siphond answers meanwhile, not how fast a siphonctl process starts
    d = start(tmp_path, nodes, cmd, "on_node_change_timeout_s = 3; on_node_change_max = 1;")
    try:
        t0 = time.time()
        nodes[1].silent = True
        # active -> trying starts it, trying -> inactive comes while it runs
        n = d.wait_state("n2", "inactive", timeout=5)
        assert n["last_change"] - t0 <= (DOWN + 1) * INTERVAL / 1000 + 0.25
        worst = 0.0
        for _ in range(3):  # the RPC answers meanwhile
            t = time.monotonic()
            assert d.ctl("ping").returncode == 0
            worst = max(worst, time.monotonic() - t)
        print("ping while the command hangs: worst %.3f s" % worst)
        ev = events(d)
        assert ev["running"] == 1, "the pings were answered after the command was killed: %s" % ev
        assert ev["started"] == 1 and ev["dropped"] == 1
        assert re.search(r"on_node_change: core/n2 trying -> inactive not run: 1 commands still running", d.log())
        m = wait_for(lambda: re.search(r"on_node_change \(core/n2 active -> trying, pid (\d+)\): "
                                       r"still running after 3 s: killed", d.log()), 6, "the kill")
        killed_at = time.time()
        pid = int(m.group(1))
        ev = wait_for(lambda: (lambda v: v if v["running"] == 0 else None)(events(d)), 3, "reaped")
        assert ev["killed"] == 1 and ev["failed"] == 0 and ev["succeeded"] == 0
        print("killed %.2f s after the first change (bound 3 s)" % (killed_at - t0))
        assert killed_at - t0 < 3 + 1.5
        wait_for(lambda: not group_alive(pid), 3, "the sleep gone too")
        # the probes went on all along: it comes back as usual
        nodes[1].silent = False
        d.wait_state("n2", "active", timeout=5)
    finally:
        d.close()


def test_failing_command_counted(tmp_path, nodes):
    """A command that exits 3: counted as failed and logged with its status."""
    cmd = script(tmp_path / "fail.sh", "exit 3")
    d = start(tmp_path, nodes, cmd)
    try:
        assert d.ctl("node", "disable", "core", "n1").returncode == 0
        ev = wait_for(lambda: (lambda v: v if v["failed"] == 1 else None)(events(d)), 5, "failed")
        assert ev["started"] == 1 and ev["succeeded"] == 0 and ev["running"] == 0
        assert re.search(r"on_node_change \(core/n1 active -> disabled, pid \d+\): exit status 3 "
                         r"\(1 failed so far\)", d.log())
    finally:
        d.close()


@pytest.mark.parametrize("value,error", [
    ("/nonexistent/cmd", "balancer: on_node_change: '/nonexistent/cmd': No such file or directory"),
    ("relative/cmd", "balancer: on_node_change: 'relative/cmd' is not an absolute path"),
    ("NOEXEC", "is not executable"),
    ("/tmp", "balancer: on_node_change: '/tmp' is not a regular file"),
])
def test_check_refuses(tmp_path, value, error):
    """siphonctl check (and so a reload) refuses a command that is not an
    absolute path to an executable file, with FILE:LINE."""
    if value == "NOEXEC":
        p = tmp_path / "noexec.sh"
        p.write_text("#!/bin/sh\n")
        p.chmod(0o644)
        value = str(p)
    cfg = tmp_path / "e.conf"
    cfg.write_text(config([("n1", "127.0.3.21", 5060)], value))
    r = subprocess.run([SIPHONCTL, "check", str(cfg)], capture_output=True, text=True)
    assert r.returncode == 1
    assert "%s:2: " % cfg in r.stderr and error in r.stderr, r.stderr


def test_check_notes(tmp_path):
    cmd = script(tmp_path / "ok.sh", "true")
    cfg = tmp_path / "ok.conf"
    cfg.write_text(config([("n1", "127.0.3.21", 5060)], cmd, "on_node_change_max = 2;"))
    r = subprocess.run([SIPHONCTL, "check", str(cfg)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert ("note: on_node_change (line 2) is run by siphond on each node state change: %s "
            "(at most 2 at once, killed after 10 s)" % cmd) in r.stdout
    cfg.write_text(config([("n1", "127.0.3.21", 5060)], cmd).replace(
        'on_node_change = "%s";' % cmd, "on_node_change_max = 2;"))
    r = subprocess.run([SIPHONCTL, "check", str(cfg)], capture_output=True, text=True)
    assert r.returncode == 1 and "need on_node_change" in r.stderr
