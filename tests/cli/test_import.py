"""siphonctl import-dispatcher (docs/migrating.md), run as a user would.

tests/dispatcher/dispatcher.list must give tests/dispatcher/dispatcher.conf
byte for byte, and what it does not carry must be said on stderr as
tests/dispatcher/dispatcher.notes says, line by line."""
import json
import os
import subprocess
from pathlib import Path

import pytest

SIPHONCTL = os.environ["SIPHONCTL"]
SOURCE = Path(os.environ["SIPHON_SOURCE"])
SAMPLE = Path("tests/dispatcher/dispatcher.list")  # relative: notes name it as given
EXPECTED = SOURCE / "tests" / "dispatcher" / "dispatcher.conf"
NOTES = SOURCE / "tests" / "dispatcher" / "dispatcher.notes"
PREFIX = "siphonctl import-dispatcher: "


def run(*args, rc=0, cwd=SOURCE):
    p = subprocess.run([SIPHONCTL, *map(str, args)], capture_output=True, timeout=60, cwd=cwd)
    assert p.returncode == rc, (p.returncode, p.stderr.decode(errors="replace"))
    return p


def lines(p):
    return p.stderr.decode().splitlines()


def test_sample_gives_the_expected_config(tmp_path):
    out = tmp_path / "siphon.conf"
    p = run("import-dispatcher", SAMPLE, "--control", "198.51.100.2", "--out", out)
    assert p.stdout == b""
    assert out.read_bytes() == EXPECTED.read_bytes()
    assert [PREFIX + n for n in NOTES.read_text().splitlines()] == lines(p)
    assert not (tmp_path / "siphon.conf.tmp").exists()


def test_stdout_is_the_same_config():
    p = run("import-dispatcher", SAMPLE, "--control", "198.51.100.2")
    assert p.stdout == EXPECTED.read_bytes()


def test_expected_config_passes_check():
    p = run("check", EXPECTED)
    assert b": ok: 0 flags, 0 header patterns, 1 rules, 3 pools, 7 nodes" in p.stdout


def test_without_control_probing_is_reported():
    p = run("import-dispatcher", SAMPLE)
    assert b"balancer" not in p.stdout and b"probe = {" in p.stdout
    assert (f"{PREFIX}{SAMPLE}:6: not carried over: flag 8 (probing): siphond probes from "
            "balancer.control, which dispatcher.list does not hold: give --control ADDR "
            "(without it nothing is probed)") in lines(p)


def test_everything_mapped_exits_0(tmp_path):
    src = tmp_path / "d.list"
    src.write_text("# all carried\n1 sip:198.51.100.21 8 0 duid=b1;weight=60\r\n"
                   "1 sip:[2001:db8::22]:5080;transport=udp 8 0 weight=40\n"
                   "\n2 sip:192.0.2.9 4 0 weight=10\n")
    out = tmp_path / "out.conf"
    p = run("import-dispatcher", src, "--control", "2001:db8::2", "--out", out)
    assert p.stderr == b""
    text = out.read_text()
    assert 'control = ["2001:db8::2"];' in text
    assert ('{ name = "n198-51-100-21-5060"; address = "198.51.100.21"; port = 5060; '
            'weight = 60; id = "b1"; },  # line 2') in text
    assert '{ name = "n2001-db8--22-5080"; address = "2001:db8::22"; port = 5080; weight = 40; }' in text
    assert 'weight = 0; }  # line 5: disabled (flag 4), weight=10' in text
    assert text.count("probe = {") == 1
    run("check", out)


def test_json_report(tmp_path):
    out = tmp_path / "out.conf"
    p = run("import-dispatcher", SAMPLE, "--out", out, "--json", "--control", "198.51.100.2")
    report = json.loads(p.stdout)
    assert report["written"] is True and report["output"] == str(out)
    assert [(x["pool"], x["set"], x["nodes"], x["probe"], x["line"]) for x in report["pools"]] == [
        ("set1", 1, 3, True, 6), ("set2", 2, 2, False, 11), ("set10", 10, 2, False, 17)]
    assert [f"{SAMPLE}:{n['line']}: not carried over: {n['text']}"
            for n in report["not_carried"]] == NOTES.read_text().splitlines()
    assert "error" not in report


def test_json_needs_out():
    p = run("import-dispatcher", SAMPLE, "--json", rc=2)
    assert "--json" in p.stderr.decode()


BAD = [
    ("1\n", "1: '1' alone: a line is 'setid destination [flags [priority [attrs]]]'"),
    ("x sip:198.51.100.1\n", "1: setid 'x' is not a whole number from 0 to 2147483647"),
    ("-1 sip:198.51.100.1\n", "1: setid '-1' is not a whole number"),
    ("# c\n1 http://198.51.100.1\n", "2: destination 'http://198.51.100.1' is not a sip: or sips: URI"),
    ("1 sip:198.51.100.1:0\n", "1: destination 'sip:198.51.100.1:0': port '0' is not a number from 1 to 65535"),
    ("1 sip:198.51.100.1:99999\n", "1: destination 'sip:198.51.100.1:99999': port '99999' is not a number from 1 to 65535"),
    ("1 sip:[2001:db8::1\n", "1: destination 'sip:[2001:db8::1': '[' without ']'"),
    ("1 sip:[198.51.100.1]\n", "1: destination 'sip:[198.51.100.1]': '[198.51.100.1]' is not an IPv6 address"),
    ("1 sip:1.2.3\n", "1: destination 'sip:1.2.3': host '1.2.3' is neither an IP address nor a host name"),
    ("1 sip:198.51.100.1;transport=quic\n", "1: transport 'quic' is not udp, tcp, tls, sctp, ws or wss"),
    ("1 sip:198.51.100.1 x\n", "1: flags 'x' is not a whole number from 0 to 2147483647"),
    ("1 sip:198.51.100.1 0 high\n", "1: priority 'high' is not a whole number"),
    ("1 sip:198.51.100.1 0 0 weight=half\n", "1: weight 'half' is not a whole number from 0 to 65535"),
    ("1 sip:198.51.100.1 0 0 weight=1;weight=2\n", "1: attribute weight given twice"),
    ("1 sip:198.51.100.1 0 0 duid=\n", "1: duid is empty"),
    ("1 sip:198.51.100.1 0 0 duid=a;duid=b\n", "1: attribute duid given twice"),
    ("1 sip:198.51.100.1 0 0 a=b extra\n", "1: 'extra' after the attributes"),
    ("1 sip:198.51.100.1\x01\n", "1: byte 0x01: a dispatcher.list line is printable ASCII"),
    ("# nothing\n\n", " no destination in it: nothing to write"),
    ("1 sip:gw.example.com\n", " no destination could be carried over: nothing to write"),
    ("".join(f"{i} sip:192.0.2.{i + 1}\n" for i in range(65)),
     "65: set 64 is the 65th set with a destination: siphon has at most 64 pools"),
]


@pytest.mark.parametrize("text, want", BAD, ids=[b[1][:40] for b in BAD])
def test_malformed_input(tmp_path, text, want):
    src = tmp_path / "bad.list"
    src.write_text(text)
    out = tmp_path / "out.conf"
    p = run("import-dispatcher", src, "--out", out, rc=1)
    err = lines(p)
    assert f"{PREFIX}{src}:{want}" in err[-1], err
    assert not out.exists() and not (tmp_path / "out.conf.tmp").exists()
    assert p.stdout == b""


def test_malformed_json(tmp_path):
    src = tmp_path / "bad.list"
    src.write_text("1 sip:gw.example.com\n1 sip:198.51.100.1:0\n")
    p = run("import-dispatcher", src, "--out", tmp_path / "o.conf", "--json", rc=1)
    report = json.loads(p.stdout)
    assert report["written"] is False and report["pools"] == []
    assert report["error"] == f"{src}:2: destination 'sip:198.51.100.1:0': port '0' is not a number from 1 to 65535"
    assert report["not_carried"][0]["line"] == 1


def test_an_unwritable_output_fails(tmp_path):
    p = run("import-dispatcher", SAMPLE, "--out", tmp_path / "no" / "such" / "dir.conf", rc=1)
    assert "dir.conf.tmp" in p.stderr.decode()


@pytest.mark.parametrize("args", [
    [], ["--out"], ["a.list", "b.list"], ["a.list", "--bogus"], ["a.list", "--control", "lb"]])
def test_usage(args):
    p = run("import-dispatcher", *args, rc=2)
    assert p.stderr.decode().startswith(PREFIX), p.stderr


def test_missing_input(tmp_path):
    p = run("import-dispatcher", tmp_path / "none.list", rc=1)
    assert "No such file or directory" in p.stderr.decode()


def test_help_names_the_command():
    p = run("help", "import-dispatcher")
    assert b"usage: siphonctl import-dispatcher FILE [--out FILE] [--control ADDR] [--strict] [--json]" in p.stdout
    assert b"3 (import-dispatcher)" in run("help", "--man").stdout



def test_strict_refuses_what_is_not_carried(tmp_path):
    """--strict: the sample has notes, so nothing is written and it exits 1;
    a list that maps completely is written as without --strict."""
    out = tmp_path / "strict.conf"
    p = run("import-dispatcher", SAMPLE, "--control", "198.51.100.2", "--out", out, "--strict", rc=1)
    assert b"not carried over (--strict): nothing written" in p.stderr
    assert not out.exists()
