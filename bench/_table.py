"""What every bench shares: the `--table` / `--quick` options, the markdown row, and whole-process runs.

A row is `| area | measure | figure | target | met |`: the measure says what is compared with what, the
figure is a ratio measured in the same run (never an absolute time checked against a constant).
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    area: str
    measure: str
    figure: str
    target: str
    met: bool | None  # None: informative, no target

    def markdown(self) -> str:
        met = "-" if self.met is None else ("yes" if self.met else "**no**")
        return f"| {self.area} | {self.measure} | {self.figure} | {self.target} | {met} |"


def options(doc: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--table", action="store_true", help="print markdown rows only (bench/run_all)")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, one repeat (CI, a quick look)")
    return parser


def emit(rows: list[Row], table: bool) -> None:
    for row in rows:
        if table:
            print(row.markdown(), flush=True)
        else:
            verdict = "" if row.met is None else ("  OK" if row.met else "  NOT MET")
            print(f"{row.area:8} {row.measure}: {row.figure} (target {row.target}){verdict}", flush=True)


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_mb: float  # the process's maximum resident set size


def run_process(argv: list[str], env: dict[str, str] | None = None) -> Run:
    """Run one whole process (interpreter start and imports included); its time and peak memory."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, **(env or {})}
    )
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode not in (0, 1):  # 1: the file has errors, still a full run
        raise RuntimeError(f"{argv[:4]} exited {proc.returncode}: {stderr.strip()[-300:]}")
    return Run(seconds, usage.ru_maxrss / 1024)


def median_runs(
    commands: dict[str, list[str]], repeat: int, env: dict[str, str] | None = None
) -> dict[str, Run]:
    """Each command `repeat` times, interleaved (so a busy machine slows all alike); the medians."""
    runs: dict[str, list[Run]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, argv in commands.items():
            runs[name].append(run_process(argv, env))
    return {
        name: Run(statistics.median(r.seconds for r in rs), statistics.median(r.peak_mb for r in rs))
        for name, rs in runs.items()
    }


# the interpreter the measured processes run (FABLAB_BENCH_PYTHON: e.g. a wrapper running another checkout)
PYTHON = shlex.split(os.environ.get("FABLAB_BENCH_PYTHON", "")) or [sys.executable]
