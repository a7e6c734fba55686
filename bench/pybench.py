"""Shared by the benches written in Python: the command line for the
report, TERM turned into an exit that runs their clean-up (finally
blocks; Ctrl-C already does), and the report (bench/report.py)."""
import os
import shlex
import signal
import sys
from pathlib import Path

import meta
import report


def start():
    """the command line, from the repository's root; TERM exits through finally"""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    self = os.path.relpath(Path(sys.argv[0]).resolve(), meta.ROOT)
    return shlex.join([self, *sys.argv[1:]])


def write_report(command, result, out=None):
    """bench/results/ and bench/README.md; or only the three files in out
    (a smoke run's report)"""
    result = dict(result, meta=meta.gather(command))
    written = report.write(result, out, None) if out else report.write(result)
    print("==> report: " + " ".join(map(str, written)), file=sys.stderr)
