"""bench/report.py (bench/README.md): a known result gives exactly the
expected markdown (the page and the README's section) and an 800 x 450 PNG;
a result missing a key exits 2 naming it and writes nothing."""
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPORT = Path(os.environ.get("SIPHON_SOURCE", HERE.parents[1])) / "bench" / "report.py"
BEGIN = "<!-- bench-results:begin: written by bench/report.py from bench/results/*.json -->"
README = f"# bench\n\n{BEGIN}\n<!-- bench-results:end -->\n"


def run(tmp_path, result):
    src = tmp_path / "in.json"
    src.write_text(json.dumps(result))
    if not (tmp_path / "README.md").exists():
        (tmp_path / "README.md").write_text(README)
    return subprocess.run([sys.executable, str(REPORT), str(src), "--out", str(tmp_path / "results"),
                           "--readme", str(tmp_path / "README.md")], capture_output=True, text=True)


def example():
    return json.loads((HERE / "example.json").read_text())


def test_known_result_exact_markdown_and_png(tmp_path):
    p = run(tmp_path, example())
    assert p.returncode == 0, p.stderr
    out = tmp_path / "results"
    assert (out / "example.md").read_text() == (HERE / "example.md").read_text()
    assert (tmp_path / "README.md").read_text() == (HERE / "example-readme.md").read_text()
    assert json.loads((out / "example.json").read_text()) == example()
    png = (out / "example.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert png[12:16] == b"IHDR"
    assert struct.unpack(">II", png[16:24]) == (800, 450)


def test_readme_section_rewritten_in_place(tmp_path):
    (tmp_path / "README.md").write_text("intro\n\n" + README.split("\n\n", 1)[1] + "\nafter\n")
    assert run(tmp_path, example()).returncode == 0
    text = (tmp_path / "README.md").read_text()
    assert text.startswith("intro\n\n" + BEGIN) and text.endswith("<!-- bench-results:end -->\n\nafter\n")
    assert text.count("**bench/example**") == 1
    assert run(tmp_path, example()).returncode == 0  # a second run replaces, never appends
    assert (tmp_path / "README.md").read_text() == text


def drop(path):
    def edit(r):
        *parents, last = path
        for key in parents:
            r = r[key]
        del r[last]
    return edit


@pytest.mark.parametrize("edit, message", [
    (drop(["checks"]), "the result: missing key 'checks'"),
    (drop(["meta", "commit"]), "meta: missing key 'commit'"),
    (drop(["checks", 0, "value"]), "checks[0]: missing key 'value'"),
    (drop(["plots", 1, "series", 0, "values"]), "plots[1].series[0]: missing key 'values'"),
    (drop(["tables", 0, "rows", 2, 0]), "tables[0].rows[2]: 2 cells for 3 columns"),
])
def test_bad_result_clear_error_nothing_written(tmp_path, edit, message):
    r = example()
    edit(r)
    p = run(tmp_path, r)
    assert p.returncode == 2
    assert message in p.stderr and "Traceback" not in p.stderr
    assert not (tmp_path / "results").exists()
    assert (tmp_path / "README.md").read_text() == README


def test_readme_without_markers_is_an_error(tmp_path):
    (tmp_path / "README.md").write_text("# no section\n")
    p = run(tmp_path, example())
    assert p.returncode == 2 and "bench-results:begin" in p.stderr
