"""bench/micro/results.py DIR: the figures bench/micro/run kept in DIR as
one result for bench/report.py (JSON on stdout). Budgets: issue 11 (scan
<= 150 ns per 900-byte INVITE, classify + decide <= 100 ns with
edge.conf, whole pipeline <= 300 ns per message of the mix); the baseline
is the same code computing every flag (the fast path before lazy
classification), measured in the same run."""
import json
import re
import sys
from pathlib import Path

D = Path(sys.argv[1])
BUDGET_NS = {"scan": 150, "classify": 100, "pipeline": 300}
STAGES = ["parse", "+scan", "+classify+decide", "+dispatch", "+rewrite (full, incl. a frame copy)"]
MIXES = ["pipeline_mix", "corpus_mix", "corpus_mix_carrier"]


def jsonl(name):
    return [json.loads(line) for line in (D / name).read_text().splitlines() if line.startswith("{")]


def numbers(name):
    """'label: N instructions' (or 'label N') lines as {label: N}"""
    out = {}
    for line in (D / name).read_text().splitlines():
        m = re.match(r"\s*(.*?):?\s+(\d+)( instructions/\w+)?$", line)
        if m:
            out[m.group(1)] = int(m.group(2))
    return out


def cuts(name):
    """bench-pipeline's 'cut after STAGE   ns' table as {stage: ns}"""
    rows = (line.rsplit(None, 1) for line in (D / name).read_text().splitlines()[1:] if line.strip())
    return {label.strip(): float(ns) for label, ns in rows}


scan = {s["name"]: s for s in jsonl("scan.json")[0]["sets"]}
scan_ir = numbers("scan.instructions")
mix = {m: dict(jsonl(f"mix.{m}.json")[0], **numbers(f"mix.{m}.instructions")) for m in MIXES}
lazy, every = cuts("pipeline.lazy"), cuts("pipeline.all-flags")
pipe_ir = numbers("pipeline.instructions")
pipe_ir_lazy, pipe_ir_every = pipe_ir["pipeline_process (lazy)"], pipe_ir["pipeline_process --all-flags"]
dispatch, compile_ = jsonl("dispatch.json")[0], jsonl("compile.json")[0]
invite, pmix = scan["invite"], mix["pipeline_mix"]
whole = STAGES[-1]


def stage_rows():
    rows, before_l, before_e = [], 0.0, 0.0
    for st in STAGES:
        rows.append([st, lazy[st], lazy[st] - before_l, every[st], every[st] - before_e])
        before_l, before_e = lazy[st], every[st]
    return rows


result = {
    "name": "micro",
    "title": "ns and instructions per message, by stage",
    "description": ("The user-space pipeline on one core: the SIP scanner (bench-scan), classify + "
                    "decide with docs/examples/edge.conf (bench-classify), Call-ID dispatch "
                    "(bench-dispatch) and the whole per-packet pipeline over a mix of INVITE, 180, "
                    "200, BYE and OPTIONS (bench-pipeline). ns: median of the runs; instructions: "
                    "callgrind, deterministic. Budgets from issue 11; the baseline is every flag "
                    "computed (the pipeline before lazy classification), same run."),
    "checks": [
        {"what": "scan, 900-byte INVITE", "value": invite["ns_median"], "unit": "ns",
         "format": ".1f", "target": BUDGET_NS["scan"]},
        {"what": "classify + decide, pipeline mix", "value": pmix["lazy_ns"], "unit": "ns",
         "format": ".1f", "baseline": pmix["full_ns"], "baseline_name": "every flag",
         "target": BUDGET_NS["classify"]},
        {"what": "whole pipeline, per packet of the mix", "value": lazy[whole], "unit": "ns",
         "format": ".1f", "baseline": every[whole], "baseline_name": "every flag",
         "target": BUDGET_NS["pipeline"]},
        {"what": "whole pipeline, instructions per packet", "value": pipe_ir_lazy,
         "unit": "instructions", "baseline": pipe_ir_every, "baseline_name": "every flag"},
    ],
    "tables": [
        {"title": "Scanner (bench-scan), per message",
         "columns": [{"title": "set"}, {"title": "messages"}, {"title": "avg bytes"},
                     {"title": "median ns", "format": ".1f"}, {"title": "min ns", "format": ".1f"},
                     {"title": "max ns", "format": ".1f"}, {"title": "instructions"}],
         "rows": [[n, s["messages"], s["avg_bytes"], s["ns_median"], s["ns_min"], s["ns_max"],
                   scan_ir.get(n)] for n, s in scan.items()]},
        {"title": "Classify + decide with edge.conf over mixes (bench-classify mix)",
         "columns": [{"title": "mix"}, {"title": "every flag ns", "format": ".1f"},
                     {"title": "lazy ns", "format": ".1f"},
                     {"title": "Hyperscan calls/msg, every flag", "format": ".2f"},
                     {"title": "lazy", "format": ".2f"}, {"title": "instructions, every flag"},
                     {"title": "lazy"}],
         "rows": [[m, x["full_ns"], x["lazy_ns"], x["full_hs_per_msg"], x["lazy_hs_per_msg"],
                   x.get("full"), x.get("lazy")] for m, x in mix.items()]},
        {"title": "Classify + decide on single messages (bench-classify classify, every flag)",
         "columns": [{"title": "message"}, {"title": "scan ns", "format": ".1f"},
                     {"title": "classify + decide ns", "format": ".1f"}],
         "rows": [[Path(c["file"]).name, c["scan_ns"], c["classify_decide_ns"]]
                  for c in jsonl("classify.jsonl")]},
        {"title": "Pipeline per packet over the mix, cut after each stage (bench-pipeline)",
         "columns": [{"title": "cut after"}, {"title": "lazy ns", "format": ".1f"},
                     {"title": "stage ns", "format": ".1f"},
                     {"title": "every flag ns", "format": ".1f"},
                     {"title": "stage ns", "format": ".1f"}],
         "rows": stage_rows()},
        {"title": "Dispatch and config compile",
         "columns": [{"title": "what"}, {"title": "median"}],
         "rows": [[f"Call-ID hash + Maglev lookup, {dispatch['nodes']} nodes",
                   f"{dispatch['hash_lookup_ns_median']:.1f} ns"],
                  [f"Maglev rebuild, {dispatch['nodes']} nodes, {dispatch['table_size']} slots",
                   f"{dispatch['rebuild_ms_median']:.3f} ms"],
                  [f"config compile, {compile_['prefixes']} prefixes + {compile_['patterns']} patterns",
                   f"{compile_['compile_ms_median']:.2f} ms"]]},
    ],
    "plots": [
        {"title": "median ns per message", "ylabel": "ns",
         "categories": ["scan\n900-byte INVITE", "classify+decide\nmix", "whole pipeline\nmix"],
         "series": [{"label": "lazy flags", "values": [invite["ns_median"], pmix["lazy_ns"], lazy[whole]]},
                    {"label": "every flag (baseline)", "values": [None, pmix["full_ns"], every[whole]]}],
         "targets": [BUDGET_NS["scan"], BUDGET_NS["classify"], BUDGET_NS["pipeline"]],
         "target_label": "budget (issue 11)"},
        {"title": "instructions per message (callgrind)", "ylabel": "instructions",
         "categories": ["scan\n900-byte INVITE", "classify+decide\nmix", "whole pipeline\nmix"],
         "series": [{"label": "lazy flags", "values": [scan_ir.get("invite"), pmix.get("lazy"), pipe_ir_lazy]},
                    {"label": "every flag (baseline)", "values": [None, pmix.get("full"), pipe_ir_every]}]},
    ],
}
json.dump(result, sys.stdout, indent=1)
print()
