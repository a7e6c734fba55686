"""A reload keeps dialogs where they are (docs/siphond.md "What a reload
keeps", docs/dispatch.md): each pool that stays gets the running Maglev
table, translated to the new node order, as `previous` for grace_s. The
tables are read back from the persisted blob (blob-check --slots) and the
decisions made by the fast path's dispatch() on it (blob-check --dispatch)."""
import json
import os
import shutil
import subprocess
import time

import test_health_loop as hl
from waiting import wait_for

SIPHOND = os.environ["SIPHOND"]
SIPHONCTL = os.environ["SIPHONCTL"]
BLOB_CHECK = os.environ["BLOB_CHECK"]
CALLS = 1000


def config(names, grace_s=30):
    ns = ",\n".join('{ name = "%s"; address = "127.0.0.%d"; port = 5060; }' % (n, 30 + ord(n[-1]))
                    for n in names)
    return """
balancer = { addresses = ["127.0.7.1"]; control = ["127.0.0.1"]; grace_s = %d; metrics = "off"; };
pools = ( { name = "core"; maglev_size = 4099; nodes = ( %s ); } );
route = ( { then = "pool core"; } );
""" % (grace_s, ns)


class Daemon:
    def __init__(self, tmp, names, grace_s=30):
        self.tmp, self.cfg = tmp, tmp / "r.conf"
        self.cfg.write_text(config(names, grace_s))
        self.sock, self.state = str(tmp / "s.sock"), str(tmp / "state")
        self.logf = open(tmp / "siphond.log", "a")
        self.p = subprocess.Popen([SIPHOND, "--config", str(self.cfg), "--socket", self.sock,
                                   "--state-dir", self.state, "--no-probes"], stderr=self.logf)
        wait_for(lambda: os.path.exists(self.sock) and os.path.exists(self.blob_path()))

    def blob_path(self):
        return self.state + "/generation.blob"

    def keep(self, name):
        """A copy of the running generation's blob, to decide with later."""
        path = str(self.tmp / name)
        shutil.copy(self.blob_path(), path)
        return path

    def reload(self, names, *args):
        self.cfg.write_text(config(names))
        r = subprocess.run([SIPHONCTL, "--socket", self.sock, "reload", "--json"] + list(args),
                           capture_output=True, text=True, timeout=10)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    def close(self):
        self.p.terminate()
        assert self.p.wait(timeout=10) == 0
        self.logf.close()


def blob_check(*args):
    r = subprocess.run([BLOB_CHECK] + list(args), capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout)


def slots(path):
    return blob_check("--slots", "core", path)


def decide(path):
    return blob_check("--dispatch", "core", str(CALLS), path)


def test_reload_adding_a_node(tmp_path):
    """b0 joins between a0 and c0: the running table becomes `previous`
    slot for slot (new indices, same nodes); no dialog moves; new calls
    reach b0."""
    d = Daemon(tmp_path, ["a0", "c0", "e0"])
    try:
        old = d.keep("old.blob")
        before = slots(old)
        assert before["previous_until"] == 0 and before["previous"] == []
        # a dry run says what would move and publishes nothing
        dry = d.reload(["a0", "b0", "c0", "e0"], "--dry-run")
        assert dry["dry_run"] and dry["generation"] == 1 and not dry["unchanged"]
        assert slots(d.blob_path()) == before
        r = d.reload(["a0", "b0", "c0", "e0"])
        assert r["generation"] == 2 and not r["unchanged"]
        after = slots(d.blob_path())
        assert after["previous"] == before["maglev"]
        assert abs(after["previous_until"] - (time.monotonic() + 30)) <= 2
        assert after["maglev"] != before["maglev"]

        was, now = decide(old), decide(d.blob_path())
        assert None not in was["dialog"] and was["dialog"] == was["initial"]
        moved = sum(a != b for a, b in zip(was["dialog"], now["dialog"]))
        assert moved == 0
        to_new = sum(n == "b0" for n in now["initial"])
        assert to_new > 0
        # without the grace table those dialogs would have moved
        assert sum(a != b for a, b in zip(was["dialog"], now["initial"])) >= to_new

        # the same config again: nothing moves, nothing is published
        r = d.reload(["a0", "b0", "c0", "e0"])
        assert r["unchanged"] and r["generation"] == 2
    finally:
        d.close()


def test_reload_removing_a_node(tmp_path):
    """b0 leaves: its slots in `previous` name no node, so its dialogs go
    where the current table sends them; every other dialog stays."""
    d = Daemon(tmp_path, ["a0", "b0", "c0", "e0"])
    try:
        old = d.keep("old.blob")
        before = slots(old)
        d.reload(["a0", "c0", "e0"])
        after = slots(d.blob_path())
        assert after["previous"] == [None if n == "b0" else n for n in before["maglev"]]
        assert abs(after["previous_until"] - (time.monotonic() + 30)) <= 2

        was, now = decide(old), decide(d.blob_path())
        on_b0 = [i for i, n in enumerate(was["dialog"]) if n == "b0"]
        assert on_b0
        for i in range(CALLS):
            if i in on_b0:
                assert now["dialog"][i] == now["initial"][i] and now["dialog"][i] in ("a0", "c0", "e0")
            else:
                assert now["dialog"][i] == was["dialog"][i], i
        assert "b0" not in now["initial"]
    finally:
        d.close()


def test_restart_keeps_the_grace(tmp_path):
    """siphond killed and started again within grace_s: the same generation
    (the reload's previous table survives)."""
    d = Daemon(tmp_path, ["a0", "c0"])
    try:
        d.reload(["a0", "b0", "c0"])
        before = open(d.blob_path(), "rb").read()
    finally:
        d.close()
    d = Daemon(tmp_path, ["a0", "b0", "c0"])
    try:
        wait_for(lambda: "generation 2 kept: " in (tmp_path / "siphond.log").read_text(),
                 what="generation 2 kept")
        assert open(d.blob_path(), "rb").read() == before
    finally:
        d.close()


def test_grace_0_keeps_no_previous(tmp_path):
    d = Daemon(tmp_path, ["a0", "c0"], grace_s=0)
    try:
        d.cfg.write_text(config(["a0", "b0", "c0"], 0))
        r = subprocess.run([SIPHONCTL, "--socket", d.sock, "reload"], capture_output=True,
                           text=True, timeout=10)
        assert r.returncode == 0, r.stderr
        after = slots(d.blob_path())
        assert after["previous"] == [] and after["previous_until"] == 0
    finally:
        d.close()


def test_inactive_node_stays_out_across_a_reload(tmp_path):
    """n2 is dead when n4 joins: it stays inactive and down in the new
    generation, nothing is sent to it (neither by the reload's previous
    table nor the current one), and the dialogs of n1 and n3 stay."""
    rs = [hl.Responder("127.0.0.%d" % (21 + i)) for i in range(4)]
    nodes = [("n%d" % (i + 1), r.addr, r.port, 100) for i, r in enumerate(rs)]
    d = hl.Daemon(tmp_path, hl.config(nodes[:3]))
    try:
        for i in range(3):
            d.wait_state("n%d" % (i + 1), "active")
        rs[1].close()
        d.wait_state("n2", "inactive", timeout=3)
        old = str(tmp_path / "old.blob")
        shutil.copy(d.state + "/generation.blob", old)
        d.cfg.write_text(hl.config(nodes))
        r = d.ctl("reload")
        assert r.returncode == 0, r.stderr
        assert d.node("n2")["state"] == "inactive"
        assert [n["up"] for n in d.blob()["pools"]["core"]["nodes"]] == [True, False, True, True]
        new = d.state + "/generation.blob"
        after = slots(new)
        # where the old generation sent dialogs: its health previous table
        # (n2 down, so not n2) where that one names a live node
        o = slots(old)
        assert o["previous_until"] > time.monotonic() and "n2" in o["previous"]
        assert after["previous"] == [p if p not in (None, "n2") else c
                                     for p, c in zip(o["previous"], o["maglev"])]
        assert "n2" not in after["previous"] and "n2" not in after["maglev"]
        was, now = decide(old), decide(new)
        assert "n2" not in now["dialog"] + now["initial"]
        assert sum(a != b for a, b in zip(was["dialog"], now["dialog"])) == 0
        assert "n4" in now["initial"]
    finally:
        d.close()
        for r in rs:
            if not r.stop:
                r.close()


def test_each_change_has_its_own_until(tmp_path):
    """A change whose now + grace_s would not pass the running
    previous_until (here grace_s lowered from 30 to 10) gets the running
    one + 1: the fast path's grace register tells a pool's changes apart by
    it (docs/dispatch.md)."""
    d = Daemon(tmp_path, ["a0", "c0"])
    try:
        d.reload(["a0", "b0", "c0"])
        first = slots(d.blob_path())["previous_until"]
        assert abs(first - (time.monotonic() + 30)) <= 2
        d.cfg.write_text(config(["a0", "b0", "c0", "e0"], 10))
        r = subprocess.run([SIPHONCTL, "--socket", d.sock, "reload"], capture_output=True,
                           text=True, timeout=10)
        assert r.returncode == 0, r.stderr
        after = slots(d.blob_path())
        assert "e0" in after["maglev"] and after["previous_until"] == first + 1
    finally:
        d.close()
