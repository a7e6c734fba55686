"""The man pages and the bash completion, generated at build time from the
programs' tables (docs/operating.md "Man pages", "Completion"): lint-clean
roff; every siphonctl command, RPC method and option in them; --help of
siphon and siphond names every option of their tables; the RPC's declared
params refused by type, missing, unknown and range; the completion of a few
prefixes with bash, pool and node names from a running siphond."""
import json
import os
import re
import shutil
import signal
import subprocess
import time

import pytest

SIPHON = os.environ["SIPHON"]
SIPHOND = os.environ["SIPHOND"]
SIPHONCTL = os.environ["SIPHONCTL"]
MAN_DIR = os.environ["MAN_DIR"]
COMPLETION = os.environ["COMPLETION"]
PAGES = ["siphon.8", "siphond.8", "siphonctl.8", "siphon.conf.5"]

CONFIG = """
balancer = { addresses = ["127.0.0.1"]; control = ["127.0.0.1"]; };
pools = ( { name = "core"; maglev_size = 4099;
            nodes = ( { name = "a0"; address = "127.0.0.30"; },
                      { name = "b0"; address = "127.0.0.31"; } ); },
          { name = "solo"; maglev_size = 4099;
            nodes = ( { name = "s1"; address = "127.0.1.1"; } ); } );
route = ( { then = "pool core"; } );
"""


def page(name):
    with open(os.path.join(MAN_DIR, name)) as f:
        return f.read()


def ctl(*args, sock=None):
    pre = ["--socket", sock] if sock else []
    return subprocess.run([SIPHONCTL] + pre + list(args), capture_output=True, text=True,
                          timeout=10)


@pytest.fixture(scope="module")
def siphond(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("man")
    (tmp / "s.conf").write_text(CONFIG)
    sock = str(tmp / "s.sock")
    log = open(tmp / "siphond.log", "w")
    p = subprocess.Popen([SIPHOND, "--config", str(tmp / "s.conf"), "--socket", sock,
                          "--state-dir", str(tmp / "state"), "--no-probes"], stderr=log)
    end = time.monotonic() + 10
    while ctl("ping", sock=sock).returncode != 0:
        assert p.poll() is None and time.monotonic() < end, (tmp / "siphond.log").read_text()
        time.sleep(0.02)
    yield sock
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=10) == 0
    log.close()


def methods(sock):
    r = ctl("rpc", "help", sock=sock)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["result"]["methods"]


@pytest.mark.skipif(not shutil.which("groff"), reason="no groff")
@pytest.mark.parametrize("name", PAGES)
def test_pages_are_lint_clean(name):
    path = os.path.join(MAN_DIR, name)
    r = subprocess.run(["groff", "-man", "-ww", "-z", path], capture_output=True, text=True)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    r = subprocess.run(["groff", "-man", "-ww", "-Tutf8", "-P-cbou", path], capture_output=True,
                       text=True)
    assert r.returncode == 0 and r.stderr == "" and "NAME" in r.stdout, r.stderr


def test_pages_are_what_the_programs_print():
    for name, cmd in [("siphon.8", [SIPHON, "--man"]), ("siphond.8", [SIPHOND, "--man"]),
                      ("siphonctl.8", [SIPHONCTL, "help", "--man"]),
                      ("siphon.conf.5", [SIPHONCTL, "help", "--man", "siphon.conf"])]:
        assert subprocess.run(cmd, capture_output=True, text=True).stdout == page(name)
    with open(COMPLETION) as f:
        assert ctl("help", "--completion").stdout == f.read()


def test_siphonctl_page_has_every_command():
    out = ctl("help").stdout
    names = re.findall(r"^  (\S+) ", out.split("commands:\n")[1], re.M)
    assert "pool" in names and "help" in names and len(names) >= 14
    man = page("siphonctl.8")
    for n in names:
        assert ".B siphonctl %s" % n in man, n
    for opt in ("socket", "timeout"):
        assert "\\fB\\-\\-%s\\fR" % opt in man


def test_siphond_page_has_every_method(siphond):
    man = page("siphond.8")
    listed = ctl("help", "rpc", sock=siphond)
    assert listed.returncode == 0, listed.stderr
    ms = methods(siphond)
    assert len(ms) >= 15
    for m in ms:
        assert ".B %s\n" % m["name"] in man, m["name"]
        assert "\n  %s\n" % m["name"] in listed.stdout
        for p in m["params"]:
            assert "%s (%s, %s" % (p["name"], p["type"], "required" if p["required"] else "optional") \
                in listed.stdout
    weight = [p for p in next(m for m in ms if m["name"] == "node.weight")["params"]
              if p["name"] == "weight"][0]
    assert (weight["min"], weight["max"]) == (0, 65535)
    assert "weight (integer, required; 0 to 65535)" in man


def test_help_rpc_without_siphond(tmp_path):
    r = ctl("help", "rpc", sock=str(tmp_path / "none.sock"))
    assert r.returncode == 1 and "usage: siphonctl rpc METHOD" in r.stdout
    assert "siphond(8) lists the methods" in r.stderr


@pytest.mark.parametrize("prog, name", [(SIPHON, "siphon.8"), (SIPHOND, "siphond.8")])
def test_help_names_every_option(prog, name):
    opts = re.findall(r"^(?:\\fB\\-\w\\fR, )?\\fB\\-\\-([\w\\-]+)\\fR", page(name), re.M)
    opts = [o.replace("\\-", "-") for o in opts]
    assert "help" in opts and "version" in opts and "man" in opts
    r = subprocess.run([prog, "--help"], capture_output=True, text=True)
    assert r.returncode == 0
    for o in opts:
        assert re.search(r"--%s\b" % re.escape(o), r.stdout), o


@pytest.mark.parametrize("method, params, message", [
    ("pool.show", {"pool": 1}, "params.pool: expected a string"),
    ("node.weight", {"pool": "core", "node": "a0"}, "params.weight: missing (a required integer)"),
    ("pool.list", {"x": 1}, "params.x: unknown parameter (pool.list takes none)"),
    ("node.drain", {"pool": "core", "node": "a0", "now": True},
     "params.now: unknown parameter (known: pool, node)"),
    ("reload", {"dry_run": "yes"}, "params.dry_run: expected a boolean"),
    ("node.add", {"pool": "core", "node": "x", "address": "127.0.0.9", "weight": -5},
     "params.weight: -5 is out of range (0 to 65535)"),
])
def test_declared_params_are_checked(siphond, method, params, message):
    r = ctl("rpc", method, json.dumps(params), sock=siphond)
    assert r.returncode == 1
    assert json.loads(r.stdout)["error"] == {"code": "bad_params", "message": message}


def complete(*words, env=None):
    """COMPREPLY for the command line `words`, the last one being completed."""
    script = ('source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); '
              '_siphonctl; printf "%s\\n" "${COMPREPLY[@]}"')
    r = subprocess.run(["bash", "-c", script, "bash", COMPLETION, SIPHONCTL] + list(words),
                       capture_output=True, text=True, timeout=30, env=env)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    return sorted(w for w in r.stdout.split("\n") if w)


def test_completion_of_commands_and_options():
    assert complete("po") == ["pool"]
    assert complete("--ti") == ["--timeout"]
    assert complete("") == sorted(ctl("help", "--completion").stdout.split('"')[1].split() +
                                  ["--socket", "--timeout", "--version", "--help"])
    assert complete("pool", "") == ["list", "show"]
    assert complete("node", "d") == ["disable", "drain"]
    assert complete("node", "add", "--") == ["--id", "--json", "--weight"]
    assert complete("explain", "--format", "") == ["json", "table"]
    assert complete("reload", "--d") == ["--dry-run"]
    assert complete("help", "--man", "") == ["siphon.conf"]
    assert complete("help", "imp") == ["import-dispatcher"]


def test_completion_of_names_from_siphond(siphond, tmp_path):
    s = ["--socket", siphond]
    assert complete(*s, "pool", "show", "") == ["core", "solo"]
    assert complete(*s, "node", "drain", "core", "") == ["a0", "b0"]
    assert complete(*s, "node", "weight", "--json", "solo", "") == ["s1"]
    assert complete(*s, "rpc", "node.w") == ["node.weight"]
    assert complete(*s, "help", "rpc", "pool.") == ["pool.list", "pool.show"]
    env = dict(os.environ, SIPHON_SOCKET=siphond)
    assert complete("node", "enable", "c", env=env) == ["core"]
    # nothing listens: no names, no error
    assert complete("--socket", str(tmp_path / "none.sock"), "pool", "show", "") == []
