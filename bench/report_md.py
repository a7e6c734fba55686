"""Markdown for bench/report.py: a result's page (bench/results/NAME.md)
and its entry in bench/README.md. Pure functions of a checked result."""
import os

RULE_BEGIN = "<!-- bench-results:begin: written by bench/report.py from bench/results/*.json -->"
RULE_END = "<!-- bench-results:end -->"
SUMMARY_COLUMNS = ["result", "value", "baseline", "vs baseline", "target", "vs target", "verdict"]


def fmt(value, spec=None):
    """a table cell: strings as they are, numbers by spec (4 significant
    digits by default), a missing figure as a dash"""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if spec:
        return format(value, spec)
    return str(value) if isinstance(value, int) else format(value, ".4g")


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def with_unit(value, spec, unit):
    text = fmt(value, spec)
    return text if value is None or not unit else f"{text} {unit}"


def check_row(c):
    """one summary row: the value, its ratio to the baseline, the target
    (on the value, or on that ratio) and the ratio to the target"""
    spec, unit, value, base = c.get("format"), c.get("unit", ""), c["value"], c.get("baseline")
    ratio = value / base if value is not None and base else None
    base_cell = with_unit(base, spec, unit)
    if base is not None and c.get("baseline_name"):
        base_cell += f" ({c['baseline_name']})"
    target, op = c.get("target"), c.get("target_op", "<=")
    on_ratio = c.get("target_on", "value") == "ratio"
    measured = ratio if on_ratio else value
    sign = "≤" if op == "<=" else "≥"
    if target is None:
        target_cell = vs_target = verdict = "—"
    else:
        target_cell = f"{sign} {fmt(target)}×" if on_ratio else f"{sign} {with_unit(target, None, unit)}"
        vs_target = "—" if measured is None else f"{measured / target:.2f}×"
        met = measured is not None and (measured <= target if op == "<=" else measured >= target)
        verdict = "no figure" if measured is None else "met" if met else "NOT met"
    return [c["what"], with_unit(value, spec, unit), base_cell,
            "—" if ratio is None else f"{ratio:.2f}×", target_cell, vs_target, verdict]


def summary(result):
    return table(SUMMARY_COLUMNS, [check_row(c) for c in result["checks"]])


def provenance(meta):
    state = "dirty: uncommitted changes" if meta["dirty"] else "clean"
    lines = [f"- **machine**: {meta['cpu']}, {meta['cores']} logical CPUs",
             f"- **kernel**: {meta['kernel']}",
             f"- **commit**: {meta['commit']} ({state})",
             f"- **command**: `{meta['command']}`",
             f"- **date**: {meta['date']}"]
    if meta.get("note"):
        lines.append(f"- **note**: {meta['note']}")
    return "\n".join(lines)


def page(result):
    """bench/results/NAME.md"""
    name = result["name"]
    parts = [f"# bench/{name}: {result['title']}"]
    if result.get("description"):
        parts.append(result["description"])
    parts += [provenance(result["meta"]), "## Against baselines and targets", summary(result)]
    for t in result["tables"]:
        parts.append(f"## {t['title']}")
        specs = [col.get("format") for col in t["columns"]]
        parts.append(table([col["title"] for col in t["columns"]],
                           [[fmt(v, s) for v, s in zip(row, specs)] for row in t["rows"]]))
    parts.append(f"![bench/{name}: {result['title']}]({name}.png)")
    return "\n\n".join(parts) + "\n"


def readme_entry(result, results_link):
    """one bench's part of bench/README.md's generated section"""
    m, name = result["meta"], result["name"]
    note = f" Note: {m['note']}." if m.get("note") else ""
    head = (f"**bench/{name}**: {result['title']}. {m['date']}, commit {m['commit']}"
            f"{' (dirty)' if m['dirty'] else ''}, {m['cpu']} ({m['cores']} CPUs), "
            f"kernel {m['kernel']}.{note}")
    link = f"[table]({results_link}/{name}.md), [plot]({results_link}/{name}.png)"
    return f"{head}\n\n{summary(result)}\n\n{link}"


def readme_section(results, readme_dir, results_dir):
    link = os.path.relpath(results_dir, readme_dir)
    body = [readme_entry(r, link) for r in sorted(results, key=lambda r: r["name"])]
    return "\n\n".join([RULE_BEGIN, *body, RULE_END])


def replace_section(text, section):
    """text with its marked section replaced; ValueError without markers"""
    begin, end = text.find(RULE_BEGIN), text.find(RULE_END)
    if begin < 0 or end < begin:
        raise ValueError(f"no '{RULE_BEGIN}' ... '{RULE_END}' section to rewrite")
    return text[:begin] + section + text[end + len(RULE_END):]
