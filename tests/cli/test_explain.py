"""siphonctl explain and reasons, run as a user would: arguments in, lines out."""
import json
import os
import struct
import subprocess
from pathlib import Path

import pytest

from frames import frame_v4, frame_v6, write_pcap

SIPHONCTL = os.environ["SIPHONCTL"]
SOURCE = Path(os.environ["SIPHON_SOURCE"])
CORPUS = SOURCE / "tests" / "corpus"
EXAMPLES = SOURCE / "docs" / "examples"


def run(*args, check_rc=0):
    p = subprocess.run([SIPHONCTL, *map(str, args)], capture_output=True, timeout=60)
    assert p.returncode == check_rc, (p.returncode, p.stderr.decode(errors="replace"))
    return p


def json_lines(p):
    return [json.loads(line) for line in p.stdout.decode().splitlines()]


def unescape(col):
    """The call_id column of expected.tsv back to bytes."""
    if col == "<empty>":
        return b""
    out, i = bytearray(), 0
    while i < len(col):
        c = col[i]
        if c != "\\":
            out += c.encode()
            i += 1
            continue
        e = col[i + 1]
        if e == "x":
            out.append(int(col[i + 2:i + 4], 16))
            i += 4
        else:
            out += {"t": b"\t", "r": b"\r", "n": b"\n", "\\": b"\\"}[e]
            i += 2
    return bytes(out)


def json_form(raw):
    """What explain promises for bytes: UTF-8 as is, other bytes as U+00XX."""
    out, i = [], 0
    while i < len(raw):
        for n in (4, 3, 2, 1):
            chunk = raw[i:i + n]
            if len(chunk) != n:
                continue
            try:
                s = chunk.decode("utf-8")
            except UnicodeDecodeError:
                continue
            if len(s) == 1:
                out.append(s)
                i += n
                break
        else:
            out.append(chr(raw[i]))
            i += 1
    return "".join(out)


def expected_rows():
    rows = []
    for line in (CORPUS / "expected.tsv").read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        f = line.split("\t")
        rows.append(dict(file=f[0], verdict=f[1], reason=f[2], start=f[3], call_id=f[4],
                         in_dialog=f[5], msg_len=f[6]))
    return rows


def test_examples_forward_with_all_fields():
    files = sorted(EXAMPLES.glob("*.sip"))
    assert len(files) >= 6
    lines = json_lines(run("explain", *files))
    assert len(lines) == len(files)
    for path, obj in zip(files, lines):
        assert obj["file"] == str(path)
        assert obj["verdict"] == "forward" and obj["reason"] == "ok"
        assert ("method" in obj) != ("status" in obj)
        assert isinstance(obj["call_id"], str) and obj["call_id"]
        # in a dialog exactly when the To header carries a tag
        to = next(l for l in path.read_text().splitlines() if l.lower().startswith("to:"))
        assert obj["in_dialog"] is (";tag=" in to), path.name
    assert [o["in_dialog"] for o in lines[:4]] == [False, True, True, True]


def test_corpus_through_the_cli():
    rows = expected_rows()
    lines = json_lines(run("explain", *[CORPUS / r["file"] for r in rows]))
    assert len(lines) == len(rows)
    for row, obj in zip(rows, lines):
        ctx = row["file"]
        assert obj["verdict"] == row["verdict"], ctx
        assert obj["reason"] == row["reason"], ctx
        if row["start"] == "-":
            assert obj.get("method", "x") is None, ctx
        elif row["start"].isdigit() and len(row["start"]) == 3 and "status" in obj:
            assert obj["status"] == int(row["start"]), ctx
        else:
            assert obj["method"] == row["start"], ctx
        if row["call_id"] == "-":
            assert obj["call_id"] is None, ctx
        else:
            assert obj["call_id"] == json_form(unescape(row["call_id"])), ctx
        if row["in_dialog"] != "-":
            assert obj["in_dialog"] == (row["in_dialog"] == "true"), ctx
        if row["msg_len"] != "-":
            assert obj["forward_bytes"] == int(row["msg_len"]), ctx


def test_non_utf8_and_quotes_are_escaped(tmp_path):
    msg = tmp_path / "odd.sip"
    msg.write_bytes(b"BYE sip:x@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n"
                    b"Call-ID: a\"b\xe9\\c\xc3\xa9 d\r\n\r\n")
    (obj,) = json_lines(run("explain", msg))
    assert obj["reason"] == "callid_invalid"
    assert obj["call_id"] == 'a"b\u00e9\\c\u00e9 d'
    raw = run("explain", msg).stdout
    assert b'"a\\"b\\u00e9\\\\c\xc3\xa9 d"' in raw


def test_table_format():
    files = sorted(EXAMPLES.glob("*.sip"))
    out = run("explain", "--format", "table", *files).stdout.decode().splitlines()
    assert out[0].split()[:4] == ["MESSAGE", "VERDICT", "REASON", "START"]
    assert len(out) == len(files) + 1
    assert all(" forward " in line and " ok " in line for line in out[1:])


def test_limits_from_the_command_line():
    invite = EXAMPLES / "01-invite.sip"
    (obj,) = json_lines(run("explain", "--max-bytes", "100", invite))
    assert obj["reason"] == "too_big"
    (obj,) = json_lines(run("explain", "--max-vias", "1", invite))
    assert obj["reason"] == "ok"


@pytest.mark.parametrize("args, message", [
    ([], "no input"),
    (["--format", "xml", "x"], "--format 'xml'"),
    (["--max-bytes", "0", "x"], "--max-bytes '0'"),
    (["--max-bytes", "12abc", "x"], "--max-bytes '12abc'"),
    (["--max-vias", "-3", "x"], "--max-vias '-3'"),
    (["--no-such-option", "x"], "no-such-option"),
    (["--pcap", "a.pcap", "b.sip"], "not both"),
])
def test_bad_arguments(args, message):
    p = run("explain", *args, check_rc=2)
    assert message in p.stderr.decode()
    assert p.stdout == b""


def test_unreadable_file_is_an_error_but_others_still_run(tmp_path):
    good = EXAMPLES / "05-options.sip"
    p = run("explain", tmp_path / "missing.sip", good, check_rc=1)
    assert "missing.sip: No such file or directory" in p.stderr.decode()
    (obj,) = json_lines(p)
    assert obj["file"] == str(good)


def test_unknown_command():
    p = run("frobnicate", check_rc=2)
    assert "unknown command 'frobnicate'" in p.stderr.decode()


def test_pcap_input(tmp_path):
    invite = (EXAMPLES / "01-invite.sip").read_bytes()
    ok = (EXAMPLES / "03-ok.sip").read_bytes()
    arp = b"\xff" * 6 + b"\x04" * 6 + b"\x08\x06" + b"\x00" * 28
    cap = tmp_path / "call.pcap"
    write_pcap(cap, [frame_v4(invite), arp, frame_v6(ok), frame_v4(b"\r\n\r\n")])
    lines = json_lines(run("explain", "--pcap", cap))
    assert [o["packet"] for o in lines] == [1, 2, 3, 4]
    assert lines[0]["src"] == "192.0.2.7:5062" and lines[0]["dst"] == "198.51.100.10:5060"
    assert lines[0]["method"] == "INVITE" and lines[0]["verdict"] == "forward"
    assert lines[1] == {"packet": 2, "skipped": "not_ip"}
    assert lines[2]["src"] == "[2001:db8::7]:5060" and lines[2]["status"] == 200
    assert lines[3]["reason"] == "keepalive" and lines[3]["verdict"] == "drop"


def test_pcap_errors(tmp_path):
    p = run("explain", "--pcap", tmp_path / "none.pcap", check_rc=1)
    assert "none.pcap" in p.stderr.decode()
    junk = tmp_path / "junk.pcap"
    junk.write_bytes(b"not a capture at all")
    p = run("explain", "--pcap", junk, check_rc=1)
    assert "junk.pcap" in p.stderr.decode()


def test_reasons_lists_every_reason_once():
    lines = json_lines(run("reasons"))
    defs = (SOURCE / "common" / "siphon" / "sip_reasons.def").read_text()
    declared = [l for l in defs.splitlines() if l.startswith("SIP_REASON(")]
    assert len(lines) == len(declared)
    names = [o["reason"] for o in lines]
    assert len(set(names)) == len(names)
    assert {"reason": "stun_binding", "verdict": "punt"}.items() <= \
        next(o for o in lines if o["reason"] == "stun_binding").items()
    run("reasons", "--format", "table")
    run("reasons", "--bogus", check_rc=2)


@pytest.mark.parametrize("cooked", ["sll", "sll2"])
def test_pcap_from_tcpdump_any(tmp_path, cooked):
    """`tcpdump -i any` writes Linux cooked records: explain reads them as
    the fast path does, through the same link conversion."""
    import packets
    invite = (EXAMPLES / "01-invite.sip").read_bytes()
    eth = frame_v4(invite)
    wrap = packets.sll if cooked == "sll" else packets.sll2
    linktype = packets.LINKTYPE_LINUX_SLL if cooked == "sll" else packets.LINKTYPE_LINUX_SLL2
    cap, ref = tmp_path / "any.pcap", tmp_path / "eth.pcap"
    packets.write_pcap(cap, [wrap(eth[14:])], linktype=linktype)
    packets.write_pcap(ref, [eth])
    got = json_lines(run("explain", "--pcap", cap))
    want = json_lines(run("explain", "--pcap", ref))
    assert got == want and got[0]["method"] == "INVITE" and got[0]["src"] == "192.0.2.7:5062"
