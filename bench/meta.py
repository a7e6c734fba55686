"""What a benchmark result was measured on: the machine (CPU model,
logical CPUs), the kernel, the commit and whether the tree differed from
it, the exact command and the time. bench/report.py adds it to every
result; a bench never gathers it itself.
SIPHON_BENCH_NOTE, when set, is kept as a note (e.g. "short run on a
shared VM") and shown with the figures."""
import datetime
import os
import platform
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# What the benches write: a tree that differs only there is not dirty.
OUTPUTS = (":!bench/results", ":!bench/README.md")


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git(*args):
    out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
    return out.stdout.strip() if out.returncode == 0 else None


def gather(command):
    commit = git("rev-parse", "--short=12", "HEAD")
    status = git("status", "--porcelain", "--", ".", *OUTPUTS)
    meta = {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "commit": commit or "unknown (not a git checkout)",
        "dirty": bool(status),
        "command": command,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }
    if os.environ.get("SIPHON_BENCH_NOTE"):
        meta["note"] = os.environ["SIPHON_BENCH_NOTE"]
    return meta
