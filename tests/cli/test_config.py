"""siphonctl check, flags and explain --config, run as a user would.

The bad configs are tests/config/bad/*.conf, one problem each; what the
error must say about each is tests/config/errors.tsv."""
import json
import os
import re
import struct
import subprocess
from pathlib import Path

import pytest

from frames import frame_v4, frame_v6, write_pcap

SIPHONCTL = os.environ["SIPHONCTL"]
SOURCE = Path(os.environ["SIPHON_SOURCE"])
EXAMPLES = SOURCE / "docs" / "examples"
EDGE = EXAMPLES / "edge.conf"
CONFIGS = SOURCE / "tests" / "config"
BAD = CONFIGS / "bad"

POOL = 'pools = ( { name = "core"; nodes = ( { name = "n1"; address = "198.51.100.21"; } ); } );\n'
ROUTE = 'route = ( { then = "pool core"; } );\n'


# Only the sanitizer build reads it: libconfig's own leak on syntax errors.
ENV = dict(os.environ, LSAN_OPTIONS=":".join(filter(None, [
    os.environ.get("LSAN_OPTIONS"),
    f"suppressions={CONFIGS / 'lsan-libconfig.supp'}",
    "print_suppressions=0"])))


def run(*args, check_rc=0, cwd=None):
    p = subprocess.run([SIPHONCTL, *map(str, args)], capture_output=True, timeout=60, cwd=cwd,
                       env=ENV)
    assert p.returncode == check_rc, (p.returncode, p.stderr.decode(errors="replace"))
    return p


def json_lines(p):
    return [json.loads(line) for line in p.stdout.decode().splitlines()]


def error_rows():
    rows = []
    for line in (CONFIGS / "errors.tsv").read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, lineno, want = line.split("\t")
        rows.append(pytest.param(name, None if lineno == "-" else int(lineno), want, id=name))
    return rows


def check_fails(path, line, want, cwd=None):
    """check exits 1 with one line: "siphonctl check: PATH:LINE: ..." (PATH: alone
    when line is None) containing want."""
    p = run("check", path, check_rc=1, cwd=cwd)
    err = p.stderr.decode()
    assert p.stdout == b""
    assert f"{path}:{line}: " in err if line is not None else f": {path}: " in err, err
    assert want in err, err
    assert err.startswith("siphonctl check: ") and err.count("\n") == 1, err
    return err


# --- siphonctl check: the table of bad configs

def test_error_table_covers_every_bad_config():
    listed = {p.values[0] for p in error_rows()}
    files = {f.name for f in BAD.glob("*.conf")}
    assert listed == files
    assert len(files) >= 40


@pytest.mark.parametrize("name, line, want", error_rows())
def test_bad_config(name, line, want):
    check_fails(BAD / name, line, want)


def flags_text(n):
    return "flags = (\n" + ",\n".join(
        f'  {{ name = "F{i}"; method = "M{i % 30}"; }}' for i in range(n)) + "\n);\n"


def test_128_flags_load_and_129_do_not(tmp_path):
    ok = tmp_path / "f128.conf"
    ok.write_text(flags_text(128) + POOL + ROUTE)
    p = run("check", ok)
    assert p.stdout.decode().splitlines()[0] == \
        f"{ok}: ok: 128 flags, 0 header patterns, 1 rules, 1 pools, 1 nodes"
    bad = tmp_path / "f129.conf"
    bad.write_text(flags_text(129) + POOL + ROUTE)
    check_fails(bad, 1, "flags: 129 flags; at most 128")


def test_more_than_32_method_names(tmp_path):
    # the method table is bounded too, and says so on the flag's line
    conf = tmp_path / "methods.conf"
    text = "flags = (\n" + ",\n".join(
        f'  {{ name = "F{i}"; method = "M{i}"; }}' for i in range(33)) + "\n);\n"
    conf.write_text(text + POOL + ROUTE)
    check_fails(conf, 34, "flag F32: method: more than 32 method names")


def test_error_names_the_path_as_given(tmp_path):
    (tmp_path / "x.conf").write_text(POOL + 'route = ( { then = "pool edge"; } );\n')
    err = check_fails("x.conf", 2, "pool 'edge' is not defined", cwd=tmp_path)
    assert str(tmp_path) not in err


def test_reply_reason_with_cr_lf_is_refused(tmp_path):
    # BUG: a reason phrase with CR LF would put header lines of the
    # config's choosing into every reply (RFC 3261 Reason-Phrase has no
    # CR or LF); the loader must refuse it, on the rule's line.
    conf = tmp_path / "crlf.conf"
    conf.write_text('flags = ( { name = "A"; method = "OPTIONS"; } );\n' + POOL +
                    'route = ( { when = "A"; then = "reply 503 \\"Busy\\r\\nX-Injected: 1\\""; },\n'
                    '          { then = "pool core"; } );\n')
    p = run("check", conf, check_rc=1)
    assert p.stdout == b""
    assert f"{conf}:3: " in p.stderr.decode() and "reply 503" in p.stderr.decode()


def test_include_is_found_beside_the_file(tmp_path):
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "flags.inc").write_text('flags = ( { name = "A"; method = "INVITE"; } );\n')
    (tmp_path / "conf" / "main.conf").write_text('@include "flags.inc"\n' + POOL + ROUTE)
    p = run("check", "conf/main.conf", cwd=tmp_path)
    assert p.stdout.decode().startswith("conf/main.conf: ok: 1 flags,")
    p = run("check", tmp_path / "conf" / "main.conf")
    assert " ok: 1 flags," in p.stdout.decode()


def test_include_missing_file(tmp_path):
    (tmp_path / "main.conf").write_text(POOL + '@include "nowhere.inc"\n' + ROUTE)
    check_fails(tmp_path / "main.conf", 2, '@include "' + str(tmp_path / "nowhere.inc") +
                '": No such file or directory')


def test_include_of_a_directory(tmp_path):
    # BUG: the same exit(2) from inside libconfig for an @include of a
    # directory (tests/fuzz/corpus/config/crash-include-directory).
    (tmp_path / "sub").mkdir()
    (tmp_path / "main.conf").write_text(POOL + '@include "sub"\n' + ROUTE)
    p = run("check", tmp_path / "main.conf", check_rc=1)
    assert f"{tmp_path / 'main.conf'}:" in p.stderr.decode()
    assert p.stdout == b""


INCLUDED_ERRORS = [  # included text, the line of its error
    ('flags = (\n  { name = "A"; method = "INVITE"; },\n  { name = "B"; methodz = "BYE"; }\n);\n', 3),
    ('flags = (\n  { name = "A"; method = "INVITE"; },\n  { name "B"; method = "BYE"; }\n);\n', 3),
    ('flags = (\n  { name = "A"; header = "X-A"; match = "a"; },\n'
     '  { name = "B"; header = "X-B"; match = "(b"; }\n);\n', 3),
]


@pytest.mark.parametrize("text, line", INCLUDED_ERRORS, ids=["key", "syntax", "pattern"])
def test_error_in_an_included_file_names_that_file(tmp_path, text, line):
    # BUG: an error in an @include'd file is reported with the main file's
    # name and the included file's line ("main.conf:3" for flags.inc line 3).
    (tmp_path / "flags.inc").write_text(text)
    (tmp_path / "main.conf").write_text("# main\n\n\n\n\n\n" + '@include "flags.inc"\n' + POOL + ROUTE)
    p = run("check", tmp_path / "main.conf", check_rc=1)
    err = p.stderr.decode()
    assert f"flags.inc:{line}: " in err, err


# --- siphonctl check: the good config and usage

NOT_YET = {  # what check says of each setting only siphond applies (or nothing yet)
    "grace_s": "{path}: note: grace_s (line {line}) is applied by siphond, which keeps the "
               "previous Maglev table that long after a node leaves or joins; siphon --config "
               "alone loads its tables once and keeps none",
    "probe": "{path}: note: probe (line {line}, {n}) is applied by siphond; siphon --config "
             "alone does not probe: every node with a weight takes calls",
    "fallback": "{path}: note: fallback ({n}) is applied by siphond when a pool has no live "
                "node; siphon --config alone never uses it",
    "reply": "{path}: note: reply ({line}) is carried out by siphond, which answers on the "
             "balancer addresses; siphon --config alone punts the message without an answer",
}


LANES_PIPELINE = ("lanes: the pipeline (--io pcap, AF_XDP, --io dpdk) takes this config; --io dpdk "
                  "gives what it punts or passes to the kernel on its exception interface "
                  "(--exception-iface, docs/dpdk.md)")


def test_check_edge_conf():
    """check says what each lane makes of the config, rule by rule."""
    p = run("check", EDGE)
    unless = "AF_XDP lane, and so is every rule below it for that message"
    assert p.stdout.decode().splitlines() == [
        f"{EDGE}: ok: 15 flags, 3 header patterns, 8 rules, 2 pools, 5 nodes",
        NOT_YET["grace_s"].format(path=EDGE, line=12),
        NOT_YET["probe"].format(path=EDGE, line=45, n="1 pool"),
        NOT_YET["reply"].format(path=EDGE, line="lines 62, 63"),
        "next hops: static MAC: b1 b2 b3-small a1 a2; the others from the kernel (--io xdp; --io pcap drops them as no_next_hop)",
        LANES_PIPELINE,
        "lanes: the XDP kernel lane takes it (at most 4 pools, 256 nodes, 256 rules, "
        "512 route terms, 8 VIPs per family); rule by rule:",
        f"  line 59: in the kernel, except a message with user-agent or from: {unless}",
        f"  line 60: in the kernel, except a response (own_probe_answer): {unless}",
        "  line 61: AF_XDP lane for every message it may hold for (the token buckets are there)",
        f"  line 62: in the kernel, except a request (to_self): {unless}",
        f"  line 63: in the kernel, except a request (to_self): {unless}",
        f"  line 64: in the kernel, except a message with resource-priority: {unless}",
        "  line 65: AF_XDP lane (pool carrier_a is not dsr: the kernel rewrites dsr only)",
        "  line 66: decided in the kernel",
    ]
    assert p.stderr == b""


def test_check_says_what_the_kernel_lane_refuses(tmp_path):
    """A config the pipeline takes but --io xdp would refuse is said so by
    check, with the limit and the count (exit 0: it loads)."""
    pools = ",\n".join(
        f'{{ name = "p{i}"; nodes = ( {{ name = "n{i}"; address = "198.51.100.{20 + i}"; }} ); }}'
        for i in range(5))
    conf = tmp_path / "five.conf"
    conf.write_text(f"pools = (\n{pools}\n);\nroute = ( {{ then = \"pool p0\"; }} );\n")
    lines = run("check", conf).stdout.decode().splitlines()
    assert lines[2:] == [
        LANES_PIPELINE,
        "lanes: --io xdp refuses it: the XDP kernel lane takes at most 4 pools, the config "
        "has 5 (use --io pcap, or build bpf/ with larger SK_ limits)"]


def test_check_says_nothing_of_settings_not_used(tmp_path):
    conf = tmp_path / "plain.conf"
    conf.write_text(POOL + ROUTE)
    p = run("check", conf)
    assert p.stdout.decode().splitlines()[:3] == [
        f"{conf}: ok: 0 flags, 0 header patterns, 1 rules, 1 pools, 1 nodes",
        "next hops: static MAC: none; the others from the kernel (--io xdp; --io pcap drops "
        "them as no_next_hop)",
        LANES_PIPELINE]


def test_check_names_each_setting_once(tmp_path):
    conf = tmp_path / "two.conf"
    conf.write_text(
        'balancer = { addresses = ["198.51.100.10"]; names = ["lb"]; };\n'
        'flags = ( { name = "O"; method = "OPTIONS"; } );\n'
        'pools = (\n'
        '  { name = "a"; probe = { down = 2; }; nodes = ( { name = "n1"; address = "198.51.100.21"; } ); },\n'
        '  { name = "b"; probe = { up = 3; }; nodes = ( { name = "n2"; address = "198.51.100.22"; } ); }\n'
        ');\n'
        'route = ( { when = "O"; then = "reply 200"; }, { then = "pool a"; } );\n')
    out = run("check", conf).stdout.decode().splitlines()
    assert out[1:3] == [NOT_YET["probe"].format(path=conf, line=4, n="2 pools"),
                       NOT_YET["reply"].format(path=conf, line="line 7")]


def test_check_shows_retry_after(tmp_path):
    """Each pool that sets retry_after_s, with its value (0: none) and line."""
    conf = tmp_path / "ra.conf"
    conf.write_text(
        'pools = (\n'
        '  { name = "a"; retry_after_s = 5; nodes = ( { name = "n1"; address = "198.51.100.21"; } ); },\n'
        '  { name = "b"; nodes = ( { name = "n2"; address = "198.51.100.22"; } ); },\n'
        '  { name = "c"; retry_after_s = 0; nodes = ( { name = "n3"; address = "198.51.100.23"; } ); }\n'
        ');\n' + ROUTE.replace("core", "a"))
    out = run("check", conf).stdout.decode().splitlines()
    assert out[1] == (
        f"{conf}: note: retry_after_s (pool a: 5 s, line 2; pool c: none, line 4) is the "
        "Retry-After of siphond's 503 to a new call for a pool with no live node (default "
        "30 s); siphon --config alone punts such a call without an answer")


@pytest.mark.parametrize("args", [[], ["a.conf", "b.conf"], ["--help"], ["-"],
                                  ["--config"], ["a.conf", "--config", "b.conf"]])
def test_check_usage(args):
    p = run("check", *args, check_rc=2)
    assert "usage: siphonctl check FILE | --config FILE" in p.stderr.decode()
    assert p.stdout == b""


@pytest.mark.parametrize("command", ["check", "flags"])
def test_check_and_flags_take_file_and_config_file_alike(command):
    a = run(command, EDGE)
    b = run(command, "--config", EDGE)
    assert a.stdout == b.stdout and a.stdout != b""
    assert a.stderr == b.stderr == b""


def test_version():
    want = f"siphonctl {os.environ['SIPHON_VERSION']}\n".encode()
    assert run("--version").stdout == want
    assert run("version").stdout == want
    run("version", "x", check_rc=2)


def test_help_and_man_page_mention_version():
    assert "siphonctl --version" in run("help").stdout.decode()
    p = subprocess.run([SIPHONCTL], capture_output=True, timeout=60, env=ENV)
    assert p.returncode == 2 and b"siphonctl --version" in p.stderr
    man = run("help", "--man").stdout.decode()
    assert ".B siphonctl --version" in man
    assert ".B siphonctl version | --version\n" in man


def test_check_missing_file(tmp_path):
    p = run("check", tmp_path / "none.conf", check_rc=1)
    assert f"{tmp_path / 'none.conf'}: No such file or directory" in p.stderr.decode()
    assert p.stdout == b""


def test_check_directory(tmp_path):
    # BUG: fopen() takes a directory, then libconfig's scanner fails to read
    # it and calls exit(2) ("input in flex scanner failed"): siphond would
    # exit on such a reload. Expected: exit 1 naming the path.
    p = run("check", tmp_path, check_rc=1)
    assert str(tmp_path) in p.stderr.decode()
    assert p.stdout == b""


# --- siphonctl flags

EDGE_FLAGS = [  # name, line, kind, a piece of how it matches
    ("INTERNALLY_SOURCED", 17, "source", "source 198.51.100.0/24, 2001:db8:5::/48"),
    ("CARRIER_A", 19, "source", "source 192.0.2.0/25"),
    ("CARRIER_B", 20, "source", "source 192.0.2.128/25, 2001:db8:b::/48"),
    ("OPTIONS", 24, "method", "method OPTIONS"),
    ("REGISTER", 25, "method", "method REGISTER"),
    ("TO_SELF", 26, "to_self", "to_self"),
    ("PROBE_ANSWER", 27, "own_probe_answer", "own_probe_answer"),
    ("IN_DIALOG", 28, "in_dialog", "in_dialog"),
    ("OVER_TLS", 29, "transport", "transport TLS, WSS"),
    ("SCANNER_UA", 32, "match", 'header User-Agent ~* "friendly-scanner|sipvicious'),
    ("SIPVICIOUS_FROM", 34, "match", 'header From ~* "^"?sipvicious"'),
    ("SCANNER", 35, "expr", "expr SCANNER_UA or SIPVICIOUS_FROM"),
    ("EMERGENCY", 38, "match", 'header Resource-Priority ~* "esnet\\.[0-9]"'),
    ("HAS_ROUTE", 39, "present", "header Route present"),
    ("TRUSTED", 40, "expr", "expr INTERNALLY_SOURCED or CARRIER_A or CARRIER_B"),
]


def test_flags_json():
    objs = json_lines(run("flags", "--config", EDGE, "--format", "json"))
    assert len(objs) == len(EDGE_FLAGS)
    for bit, (obj, (name, line, kind, how)) in enumerate(zip(objs, EDGE_FLAGS)):
        assert obj["flag"] == name and obj["bit"] == bit, obj
        assert obj["line"] == line and obj["kind"] == kind, obj
        assert how in obj["matches"], obj
        assert isinstance(obj["doc"], str)
    assert objs[1]["doc"] == "interconnect partner A"
    assert objs[3]["doc"] == ""


def test_flags_table():
    out = run("flags", "--config", EDGE).stdout.decode().splitlines()
    assert out[0].split() == ["BIT", "FLAG", "LINE", "KIND", "MATCHES"]
    assert len(out) == len(EDGE_FLAGS) + 1
    for bit, (row, (name, line, kind, how)) in enumerate(zip(out[1:], EDGE_FLAGS)):
        assert row.split()[:4] == [str(bit), name, str(line), kind], row
        assert how in row, row
    assert out[2].endswith("# interconnect partner A")


@pytest.mark.parametrize("args, rc, message", [
    ([], 2, "FILE or --config FILE is required"),
    (["--config"], 2, "usage: siphonctl flags FILE | --config FILE [--format json|table]"),
    (["--config", EDGE, "--format", "xml"], 2, "usage: siphonctl flags"),
    (["--bogus"], 2, "usage: siphonctl flags"),
    ([EDGE, "--config", EDGE], 2, "one config at a time"),
    (["--config", BAD / "expr-self.conf"], 1, "expr-self.conf:3: "),
    ([BAD / "expr-self.conf"], 1, "expr-self.conf:3: "),
])
def test_flags_errors(args, rc, message):
    p = run("flags", *args, check_rc=rc)
    assert message in p.stderr.decode()
    assert p.stdout == b""


# --- siphonctl explain --config

EDGE_ORDER = [f[0] for f in EDGE_FLAGS]


def explain(*args):
    return json_lines(run("explain", "--config", EDGE, *args))


def by_file(objs):
    return {Path(o["file"]).name: o for o in objs}


def test_explain_examples_from_outside():
    files = sorted(EXAMPLES.glob("*.sip"))
    objs = by_file(explain("--source", "203.0.113.5", *files))
    assert len(objs) == len(files)
    for o in objs.values():
        assert {"flags", "rule", "action", "pool"} <= o.keys()
        assert set(o["rule"]) == {"line", "text"}
    inv = objs["01-invite.sip"]
    assert inv["flags"] == [] and inv["verdict"] == "forward" and inv["reason"] == "rule_pool"
    assert inv["rule"] == {"line": 66, "text": "then pool core"}
    assert inv["action"] == "pool" and inv["pool"] == "core" and "reply" not in inv
    assert objs["02-ringing.sip"]["flags"] == ["IN_DIALOG"]
    assert objs["04-bye.sip"]["flags"] == ["IN_DIALOG", "HAS_ROUTE"]
    # the seed case: OPTIONS to the balancer itself, from outside
    opt = objs["05-options.sip"]
    assert opt["flags"] == ["OPTIONS", "TO_SELF"]
    assert opt["verdict"] == "reply" and opt["reason"] == "rule_reply"
    assert opt["rule"] == {"line": 62, "text":
                           'when OPTIONS and TO_SELF and not TRUSTED '
                           'then reply 503 "Options Reply"'}
    assert opt["rate_limits"] == [61]
    assert opt["action"] == "reply" and opt["pool"] is None
    assert opt["reply"] == {"code": 503, "reason": "Options Reply"}
    scan = objs["06-scanner-options.sip"]
    assert scan["flags"] == ["OPTIONS", "SCANNER_UA", "SIPVICIOUS_FROM", "SCANNER"]
    assert scan["verdict"] == "drop" and scan["reason"] == "rule_drop"
    assert scan["rule"] == {"line": 59, "text": "when SCANNER then drop"}
    assert scan["action"] == "drop" and scan["pool"] is None


@pytest.mark.parametrize("source, flag", [
    ("198.51.100.7", "INTERNALLY_SOURCED"), ("2001:db8:5:ffff::1", "INTERNALLY_SOURCED"),
    ("192.0.2.9", "CARRIER_A"), ("2001:db8:b::1", "CARRIER_B")])
def test_explain_options_from_trusted_peers(source, flag):
    """Our own network and the carriers get 200 to their keep-alives."""
    (opt,) = explain("--source", source, EXAMPLES / "05-options.sip")
    assert opt["flags"] == sorted([flag, "OPTIONS", "TO_SELF", "TRUSTED"],
                                  key=lambda f: EDGE_ORDER.index(f))
    assert "rate_limits" not in opt
    assert opt["rule"] == {"line": 63, "text": 'when OPTIONS and TO_SELF then reply 200 "OK"'}
    assert opt["reply"] == {"code": 200, "reason": "OK"}


def test_explain_carrier_source():
    (inv,) = explain("--source", "192.0.2.127", EXAMPLES / "01-invite.sip")
    assert inv["flags"] == ["CARRIER_A", "TRUSTED"]
    assert inv["rule"]["line"] == 65 and inv["pool"] == "carrier_a"
    (inv,) = explain("--source", "192.0.2.128", EXAMPLES / "01-invite.sip")
    assert inv["flags"] == ["CARRIER_B", "TRUSTED"]
    assert inv["rule"]["line"] == 66 and inv["pool"] == "core"
    (inv,) = explain("--source", "2001:db8:b::9", EXAMPLES / "01-invite.sip")
    assert inv["flags"] == ["CARRIER_B", "TRUSTED"]


def test_explain_without_source_sets_no_source_flag():
    (opt,) = explain(EXAMPLES / "05-options.sip")
    assert opt["flags"] == ["OPTIONS", "TO_SELF"]
    assert opt["reply"]["code"] == 503


@pytest.mark.parametrize("transport, flagged", [
    ("tls", True), ("TLS", True), ("wss", True), ("udp", False), ("tcp", False), ("ws", False),
    ("sctp", False)])
def test_explain_transport(transport, flagged):
    (inv,) = explain("--transport", transport, EXAMPLES / "01-invite.sip")
    assert ("OVER_TLS" in inv["flags"]) == flagged


def test_explain_register_rate_limit_is_not_terminal(tmp_path):
    reg = tmp_path / "reg.sip"
    reg.write_bytes(b"REGISTER sip:example.com SIP/2.0\r\n"
                    b"Via: SIP/2.0/UDP 203.0.113.9;branch=z9hG4bK-r1\r\n"
                    b"From: <sip:a@example.com>;tag=1\r\nTo: <sip:a@example.com>\r\n"
                    b"Call-ID: reg1\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n")
    (o,) = explain("--source", "203.0.113.9", reg)
    assert o["flags"] == ["REGISTER"]
    assert o["rate_limits"] == [61]
    assert o["rule"]["line"] == 66 and o["pool"] == "core"
    (o,) = explain("--source", "192.0.2.1", reg)
    assert "rate_limits" not in o and o["pool"] == "carrier_a"


def test_explain_scanner_drop_is_not_a_rule(tmp_path):
    junk = tmp_path / "junk.sip"
    junk.write_bytes(b"\r\n\r\n")
    (o,) = explain("--source", "198.51.100.7", junk)
    assert o["verdict"] == "drop" and o["reason"] == "keepalive"
    assert o["flags"] == [] and o["rule"] is None and o["action"] is None and o["pool"] is None


def test_explain_table_with_config():
    out = run("explain", "--config", EDGE, "--format", "table", "--source", "203.0.113.5",
              EXAMPLES / "05-options.sip").stdout.decode().splitlines()
    assert out[0].split()[-1] == "RULE"
    assert out[1].endswith('62: when OPTIONS and TO_SELF and not TRUSTED '
                           'then reply 503 "Options Reply"')


def test_explain_pcap_sources_set_flags(tmp_path):
    invite = (EXAMPLES / "01-invite.sip").read_bytes()
    options = (EXAMPLES / "05-options.sip").read_bytes()
    cap = tmp_path / "edge.pcap"
    write_pcap(cap, [
        frame_v4(invite),                                 # 192.0.2.7: CARRIER_A
        frame_v4(options, src=bytes([203, 0, 113, 20])),  # outside: 503
        frame_v4(options, src=bytes([198, 51, 100, 2])),  # inside: 200
        frame_v6(invite, bytes.fromhex("20010db8000b00000000000000000007"),
                 bytes.fromhex("20010db8001000000000000000000010")),  # CARRIER_B, to the VIP
        frame_v6(invite),                                 # to another address: the kernel's
    ])
    objs = json_lines(run("explain", "--config", EDGE, "--pcap", cap))
    assert [o["packet"] for o in objs] == [1, 2, 3, 4, 5]
    assert objs[4] == {"packet": 5, "src": "[2001:db8::7]:5060", "dst": "[2001:db8::a]:5060",
                       "verdict": "pass", "reason": "not_for_us"}
    assert objs[0]["src"] == "192.0.2.7:5062"
    assert objs[0]["flags"] == ["CARRIER_A", "TRUSTED"]
    assert objs[0]["pool"] == "carrier_a" and objs[0]["rule"]["line"] == 65
    assert objs[1]["flags"] == ["OPTIONS", "TO_SELF"] and objs[1]["reply"]["code"] == 503
    assert objs[2]["flags"] == ["INTERNALLY_SOURCED", "OPTIONS", "TO_SELF", "TRUSTED"]
    assert objs[2]["reply"] == {"code": 200, "reason": "OK"}
    assert objs[3]["src"] == "[2001:db8:b::7]:5060"
    assert objs[3]["flags"] == ["CARRIER_B", "TRUSTED"] and objs[3]["pool"] == "core"


@pytest.mark.parametrize("args, message", [
    (["--source", "192.0.2.300"], "--source '192.0.2.300'"),
    (["--source", "192.0.2.0/24"], "--source '192.0.2.0/24'"),
    (["--source", "lb.example.com"], "--source 'lb.example.com'"),
    (["--transport", "quic"], "--transport 'quic'"),
    (["--transport", ""], "--transport ''"),
])
def test_explain_bad_source_or_transport(args, message):
    p = run("explain", "--config", EDGE, *args, EXAMPLES / "01-invite.sip", check_rc=2)
    assert message in p.stderr.decode()
    assert p.stdout == b""


def test_explain_source_with_pcap_is_a_usage_error(tmp_path):
    p = run("explain", "--source", "192.0.2.1", "--pcap", tmp_path / "x.pcap", check_rc=2)
    assert "--source" in p.stderr.decode()


def test_explain_bad_config_fails_before_any_output():
    p = run("explain", "--config", BAD / "route-no-default.conf", EXAMPLES / "01-invite.sip",
            check_rc=1)
    assert "route-no-default.conf:5: " in p.stderr.decode()
    assert p.stdout == b""


# --- packaging/: the example config meson installs as /etc/siphon/siphon.conf

def test_packaged_example_config_passes_check():
    p = run("check", SOURCE / "packaging" / "siphon.conf")
    assert b"siphon.conf: ok: 4 flags, 1 header patterns, 4 rules, 1 pools, 2 nodes" in p.stdout


def test_units_are_configured():
    """The units meson writes from packaging/systemd/*.in: every @VAR@ replaced."""
    units = Path(os.environ["SIPHON_UNITS"])
    for name in ("siphond.service", "siphon@.service"):
        text = (units / name).read_text()
        assert not re.search(r"@[A-Z_]+@", text), name
        assert "ExecStart=/" in text and "NoNewPrivileges=yes" in text
        assert "CAP_SYS_ADMIN" not in text.split("CapabilityBoundingSet=")[1].splitlines()[0]
