"""siphonctl ping and rpc against rpc-test-server (the RPC server library
with its built-in methods plus echo and fail), and the exits when nothing
listens or nothing answers."""
import json
import os
import signal
import socket
import subprocess
import threading

import pytest

SIPHONCTL = os.environ["SIPHONCTL"]
SERVER = os.environ["RPC_TEST_SERVER"]
VERSION = os.environ["SIPHON_VERSION"]


def run(*args, check_rc=0, env=None, timeout=30):
    p = subprocess.run([SIPHONCTL, *map(str, args)], capture_output=True, timeout=timeout,
                       env=env)
    assert p.returncode == check_rc, (p.returncode, p.stdout, p.stderr.decode(errors="replace"))
    return p


@pytest.fixture
def server(tmp_path):
    path = tmp_path / "run" / "siphond.sock"
    proc = subprocess.Popen([SERVER, str(path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "ready\n"
    proc.path = path
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def stop(proc):
    """Stops the server; returns its counters."""
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0
    return json.loads(out)


def test_ping(server):
    p = run("--socket", server.path, "ping")
    assert p.stdout == b"pong\n" and p.stderr == b""
    # the socket from the environment, and --socket=PATH
    run("ping", env=dict(os.environ, SIPHON_SOCKET=str(server.path)))
    run(f"--socket={server.path}", "ping")
    counters = stop(server)
    assert counters["requests"] == 3 and counters["ok"] == 3 and counters["accepted"] == 3
    assert sum(counters["errors"].values()) == 0


def test_socket_option_wins_over_environment(server, tmp_path):
    env = dict(os.environ, SIPHON_SOCKET=str(tmp_path / "nothing.sock"))
    run("--socket", server.path, "ping", env=env)
    p = run("ping", env=env, check_rc=1)
    assert p.stderr.decode() == (f"siphonctl ping: siphond is not running at {tmp_path}/nothing.sock: "
                                 "No such file or directory\n")


def test_rpc_prints_the_reply(server):
    p = run("--socket", server.path, "rpc", "version")
    assert p.stdout.decode() == f'{{"id":1,"result":{{"version":"{VERSION}"}}}}\n'
    p = run("--socket", server.path, "rpc", "echo", '{"value": [1, "two", {"3": null}], "count": 2}')
    assert json.loads(p.stdout) == {"id": 1, "result": {"value": [1, "two", {"3": None}], "count": 2}}
    p = run("--socket", server.path, "rpc", "help", '{"method": "fail"}')
    assert json.loads(p.stdout)["result"] == {
        "name": "fail", "doc": "Fails with not_found.",
        "params": [{"name": "pool", "type": "string", "required": True, "doc": "a pool name"}]}
    p = run("--socket", server.path, "rpc", "help")
    names = [m["name"] for m in json.loads(p.stdout)["result"]["methods"]]
    assert names == ["help", "version", "ping", "echo", "fail"]


@pytest.mark.parametrize("args, line, message", [
    (["nope"], '{"id":1,"error":{"code":"unknown_method","message":'
               '"unknown method \'nope\' (known: help, version, ping, echo, fail)"}}',
     "unknown_method: unknown method 'nope' (known: help, version, ping, echo, fail)"),
    (["echo", '{"count": "2"}'], '{"id":1,"error":{"code":"bad_params","message":'
                                 '"params.count: expected an integer"}}',
     "bad_params: params.count: expected an integer"),
    (["fail", "{}"], '{"id":1,"error":{"code":"bad_params","message":'
                     '"params.pool: missing (a required string)"}}',
     "bad_params: params.pool: missing (a required string)"),
    (["fail", '{"pool": "core"}'], '{"id":1,"error":{"code":"not_found","message":'
                                   '"no pool \'core\'"}}',
     "not_found: no pool 'core'"),
], ids=["unknown-method", "wrong-type", "missing", "method-failed"])
def test_rpc_error_reply_exits_1(server, args, line, message):
    p = run("--socket", server.path, "rpc", *args, check_rc=1)
    assert p.stdout.decode() == line + "\n"
    assert p.stderr.decode() == f"siphonctl rpc: {message}\n"


@pytest.mark.parametrize("args, err", [
    (["rpc"], "siphonctl rpc: usage: siphonctl [--socket PATH] rpc METHOD [JSON-PARAMS]\n"),
    (["rpc", "ping", "[1]"], "siphonctl rpc: JSON-PARAMS: expected a JSON object, "
                             "as in '{\"method\": \"ping\"}'\n"),
    (["rpc", "ping", "{"], "siphonctl rpc: JSON-PARAMS: expected a JSON object, as in "
                           "'{\"method\": \"ping\"}': string or '}' expected near end of file\n"),
    (["ping", "x"], "siphonctl ping: 'x': usage: siphonctl [--socket PATH] ping\n"),
    (["--socket"], "siphonctl: --socket needs a value\n"),
    (["--socket=", "ping"], "siphonctl: --socket: the path is empty\n"),
    (["--timeout", "0", "ping"], "siphonctl --timeout: SECONDS '0': expected a whole number "
                                 "from 1 to 3600\n"),
])
def test_usage_errors_exit_2(server, args, err):
    p = run("--socket", server.path, *args, check_rc=2)
    assert p.stderr.decode() == err and p.stdout == b""
    assert stop(server)["requests"] == 0


def test_nothing_listening(tmp_path):
    path = tmp_path / "siphond.sock"
    for cmd in (["ping"], ["rpc", "help"]):
        p = run("--socket", path, *cmd, check_rc=1)
        assert p.stderr.decode() == (f"siphonctl {cmd[0]}: siphond is not running at {path}: "
                                     "No such file or directory\n")
        assert p.stdout == b""
    # a socket file nobody listens on: refused
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(path))
    s.close()
    p = run("--socket", path, "ping", check_rc=1)
    assert p.stderr.decode() == (f"siphonctl ping: siphond is not running at {path}: "
                                 "Connection refused\n")
    # the default path when neither option nor environment says otherwise
    env = {k: v for k, v in os.environ.items() if k != "SIPHON_SOCKET"}
    if not os.path.exists("/run/siphon/siphond.sock"):
        p = run("ping", check_rc=1, env=env)
        assert p.stderr.decode() == ("siphonctl ping: siphond is not running at "
                                     "/run/siphon/siphond.sock: No such file or directory\n")


def test_no_reply_times_out(tmp_path):
    """A server that accepts and never answers: exit 1 after --timeout."""
    path = tmp_path / "mute.sock"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(path))
    s.listen(4)
    conns = []
    t = threading.Thread(target=lambda: conns.append(s.accept()), daemon=True)
    t.start()
    p = run("--socket", path, "--timeout", "1", "ping", check_rc=1)
    assert p.stderr.decode() == f"siphonctl ping: siphond at {path}: no reply within 1 s\n"
    t.join(5)
    assert conns and conns[0][0].recv(4096) == b'{"method":"ping","id":1}\n'
    for c, _ in conns:
        c.close()
    s.close()


def test_not_a_reply(tmp_path):
    """A server that answers something else: exit 1, and the line shown."""
    path = tmp_path / "odd.sock"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(path))
    s.listen(4)

    def answer():
        c, _ = s.accept()
        c.recv(4096)
        c.sendall(b'{"id":2,"result":"pong"}\n')
        c.close()

    t = threading.Thread(target=answer, daemon=True)
    t.start()
    p = run("--socket", path, "ping", check_rc=1)
    assert p.stderr.decode() == (f"siphonctl ping: siphond at {path}: not a reply to request 1: "
                                 '{"id":2,"result":"pong"}\n')
    t.join(5)
    s.close()


def test_busy_server(tmp_path):
    """With its one client slot taken, the server answers busy: exit 1."""
    path = tmp_path / "busy.sock"
    proc = subprocess.Popen([SERVER, str(path), "1"], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "ready\n"
        hold = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        hold.connect(str(path))
        hold.sendall(b'{"method":"ping","id":1}\n')
        assert hold.recv(4096) == b'{"id":1,"result":"pong"}\n'
        p = run("--socket", path, "ping", check_rc=1)
        assert p.stderr.decode() == "siphonctl ping: busy: too many clients (1); try again later\n"
        hold.close()
        counters = stop(proc)
        assert counters["errors"]["busy"] == 1 and counters["accepted"] == 2
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def test_help_lists_ping_and_rpc():
    p = run("help")
    out = p.stdout.decode()
    assert "  ping " in out and "  rpc " in out and "--socket PATH" in out
    man = run("help", "--man").stdout.decode()
    assert ".B siphonctl rpc METHOD [JSON-PARAMS]" in man and "SIPHON_SOCKET" in man
