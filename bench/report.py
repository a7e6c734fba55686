#!/usr/bin/python3
"""bench/report.py: a benchmark's results as bench/results/NAME.md (the
tables, the machine, the commit, the command), NAME.png (the plot) and
NAME.json (its input, kept so bench/README.md can be rebuilt), then the
generated section of bench/README.md rewritten from every NAME.json.

  report.py RESULTS.json [--command CMD] [--out DIR] [--readme FILE | --no-readme]

--command: gather the metadata now (bench/meta.py) for that command line;
without it RESULTS.json must carry "meta". Prints the files written;
a result with a missing or malformed key exits 2 naming it.

RESULTS.json: {"name", "title", ["description"], ["meta"],
  "checks": [{"what", "value", "unit", ["format"], ["baseline", "baseline_name"],
              ["target", "target_op": "<=" | ">=", "target_on": "value" | "ratio"]}],
  "tables": [{"title", "columns": [{"title", ["format"]}], "rows": [[cell, ...]]}],
  "plots": [{"title", "ylabel", "categories", "series": [{"label", "values"}],
             ["targets"], ["target_label"], ["log"]}]}
Missing figures are null: a dash in the tables, a gap in the plot."""
import argparse
import json
import re
import sys
from pathlib import Path

import meta
import report_md

BENCH = Path(__file__).resolve().parent
REQUIRED = {
    "": ("name", "title", "meta", "checks", "tables", "plots"),
    "meta": ("cpu", "cores", "kernel", "commit", "dirty", "command", "date"),
    "checks": ("what", "value", "unit"),
    "tables": ("title", "columns", "rows"),
    "plots": ("title", "ylabel", "categories", "series"),
}


class BadResult(ValueError):
    pass


def need(obj, keys, where):
    if not isinstance(obj, dict):
        raise BadResult(f"{where or 'the result'}: not an object")
    for k in keys:
        if k not in obj:
            raise BadResult(f"{where or 'the result'}: missing key '{k}'")


def check(result):
    """BadResult naming the first thing the writers could not use"""
    need(result, REQUIRED[""], "")
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", str(result["name"])):
        raise BadResult(f"name: '{result['name']}' is not a bench name (a-z, 0-9, -)")
    need(result["meta"], REQUIRED["meta"], "meta")
    for key in ("checks", "tables", "plots"):
        for i, item in enumerate(result[key]):
            need(item, REQUIRED[key], f"{key}[{i}]")
    for i, t in enumerate(result["tables"]):
        for j, row in enumerate(t["rows"]):
            if len(row) != len(t["columns"]):
                raise BadResult(f"tables[{i}].rows[{j}]: {len(row)} cells for {len(t['columns'])} columns")
    if not result["plots"]:
        raise BadResult("plots: empty (one panel at least)")
    for i, p in enumerate(result["plots"]):
        n = len(p["categories"])
        if not p["series"]:
            raise BadResult(f"plots[{i}].series: empty")
        for j, s in enumerate(p["series"]):
            need(s, ("label", "values"), f"plots[{i}].series[{j}]")
            if len(s["values"]) != n:
                raise BadResult(f"plots[{i}].series[{j}]: {len(s['values'])} values for {n} categories")
        if len(p.get("targets") or [None] * n) != n:
            raise BadResult(f"plots[{i}].targets: not one per category")


def update_readme(readme, out):
    results = [json.loads(f.read_text()) for f in sorted(out.glob("*.json"))]
    section = report_md.readme_section(results, readme.parent, out)
    readme.write_text(report_md.replace_section(readme.read_text(), section))


def write(result, out=BENCH / "results", readme=BENCH / "README.md"):
    """NAME.md, NAME.png, NAME.json in out; readme's section (if readme)"""
    import report_plot  # matplotlib only once the input is known good

    check(result)
    out.mkdir(parents=True, exist_ok=True)
    name = result["name"]
    (out / f"{name}.md").write_text(report_md.page(result))
    report_plot.write_png(result, out / f"{name}.png")
    (out / f"{name}.json").write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    written = [out / f"{name}.{ext}" for ext in ("md", "png", "json")]
    if readme:
        update_readme(readme, out)
        written.append(readme)
    return written


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results", type=Path)
    ap.add_argument("--command", help="gather the metadata now, for this command line")
    ap.add_argument("--out", type=Path, default=BENCH / "results")
    ap.add_argument("--readme", type=Path, default=BENCH / "README.md")
    ap.add_argument("--no-readme", dest="readme", action="store_const", const=None,
                    help="leave bench/README.md alone (a smoke run's report in a temporary --out)")
    a = ap.parse_args()
    try:
        result = json.loads(a.results.read_text())
        if a.command is not None and isinstance(result, dict):
            result["meta"] = meta.gather(a.command)
        written = write(result, a.out, a.readme)
    except (OSError, ValueError) as e:  # BadResult, JSON errors, no README section
        print(f"bench/report.py: {a.results}: {e}", file=sys.stderr)
        return 2
    print(" ".join(str(p) for p in written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
