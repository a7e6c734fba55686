"""bench/xdp/live.py (docs/xdp.md "Fifth pass"): a lane's ns per packet is
the program's run_time_ns over run_cnt between two samples less bpf_stats'
75 ns; the report gives medians and min-max over the rounds, the budget
check and a result bench/report.py accepts; a bad command line of
bench/xdp/live exits 2 before it touches the lab."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(os.environ.get("SIPHON_SOURCE", Path(__file__).resolve().parents[2]))
LIVE_PY = ROOT / "bench" / "xdp" / "live.py"


def sample(path, ns, cnt):
    path.write_text(json.dumps({"t": 0, "ticks": 0, "hz": 100, "sched_ns": 0,
                                "bpf_ns": ns, "bpf_cnt": cnt, "progs": [7]}) + "\n")


def row(tmp_path, lane, rnd, ns, cnt, check="3000 calls: 3000 ok, 0 failed (sipp exit 0, 3.1 s)"):
    pre = tmp_path / f"{lane}-{rnd}"
    (tmp_path / f"{lane}-{rnd}.check").write_text(check + "\n")
    sample(Path(f"{pre}.before"), 1000, 10)
    sample(Path(f"{pre}.after"), 1000 + ns, 10 + cnt)
    r = subprocess.run([sys.executable, str(LIVE_PY), "row", lane, str(rnd), str(pre)],
                       capture_output=True, text=True, check=True)
    return json.loads(r.stdout)


def test_row_is_ns_per_run_less_bpf_stats(tmp_path):
    x = row(tmp_path, "kernel", 1, 9000 * 1075, 9000)
    assert (x["calls"], x["ok"], x["failed"], x["runs"]) == (3000, 3000, 0, 9000)
    assert x["ns_per_packet"] == 1000


def test_report_medians_budget_and_report_py(tmp_path):
    rows = [row(tmp_path, "trivial", 1, 100 * 175, 100), row(tmp_path, "kernel", 1, 100 * 2075, 100),
            row(tmp_path, "trivial", 2, 100 * 195, 100), row(tmp_path, "kernel", 2, 100 * 875, 100),
            row(tmp_path, "trivial", 3, 100 * 185, 100), row(tmp_path, "kernel", 3, 100 * 1275, 100)]
    (tmp_path / "rows").write_text("".join(json.dumps(x) + "\n" for x in rows))
    (tmp_path / "facts.json").write_text(json.dumps({"id": 7, "jited_bytes": 43406, "xlated_bytes": 78304,
                                                     "maps": ["counters", "sip_scratch"]}))
    r = subprocess.run([sys.executable, str(LIVE_PY), "report", str(tmp_path / "rows"),
                        str(tmp_path / "facts.json"), "1000", "3"], capture_output=True, text=True, check=True)
    res = json.loads(r.stdout)
    check = res["checks"][0]
    assert (check["value"], check["baseline"], check["target"]) == (1200, 110, 1000)
    table = {x[0]: x[4:] for x in res["tables"][0]["rows"]}
    assert table["siphon kernel lane"] == [1200, 800, 2000]
    assert table["trivial redirect (bench-trivial-redirect)"] == [110, 100, 120]
    assert res["checks"][1]["value"] == 43406 and res["checks"][2]["value"] == 2
    res["meta"] = {"cpu": "x", "cores": 2, "kernel": "k", "commit": "c", "dirty": False, "command": "c",
                   "date": "d"}
    src = tmp_path / "report.json"
    src.write_text(json.dumps(res))
    rr = subprocess.run([sys.executable, str(ROOT / "bench" / "report.py"), str(src), "--out",
                         str(tmp_path / "out"), "--no-readme"], capture_output=True, text=True)
    assert rr.returncode == 0, rr.stderr
    assert "| siphon kernel lane | 9000 | 0 | 100 | 1200 | 800 | 2000 |" in (tmp_path / "out" / "xdp-live.md").read_text()


def test_bad_command_line_exits_2():
    for args in (["--rate", "0"], ["--seconds", "x"], ["--rounds", "10"], ["--bogus"],
                 ["--siphon-config", "/nonexistent"]):
        r = subprocess.run([str(ROOT / "bench" / "xdp" / "live"), *args], capture_output=True, text=True)
        assert r.returncode == 2, (args, r.stderr)
        assert "usage" in r.stderr.lower() or "bench/xdp/live" in r.stderr
