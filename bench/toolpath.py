"""Toolpath speed and quality, as ratios measured in the same run.

Laser G-code time: `generate_laser_job` against `ezdxf.readfile` of the same file (best of 2), on a
50k-entity sheet of mixed curves (bench/_shapes.py) and on the corpus's real drawings (those that
give a job on the built-in 400 x 300 laser; times summed). Target <= 3x.
Laser travel: the job's laser-off distance against the same drawing cut in its own order (each
contour from its first point, as drawn; the baseline a plain sender would cut), on the mixed sheet
(drawn row by row: already a sensible order) and on each real drawing. Target: never longer (<= 100 %).
Slicing: PrusaSlicer's time on a real part (the corpus's Voron latch), then the cache hit that makes
a re-print instant (informative).
Run: .venv/bin/python bench/toolpath.py [--quick] [--table]
"""

from __future__ import annotations

import logging
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _shapes import CORPUS, mixed_dxf
from _table import Row, emit, options

MATERIAL = "plywood-poplar-3mm"


def best(fn: Callable[[], object], repeat: int = 2) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def laser_rows(folder: Path, quick: bool) -> list[Row]:
    import ezdxf

    from fablabctl.specs import DEFAULT_LASER
    from fablabctl.toolpath.laser import generate_laser_job
    from fablabctl.toolpath.result import ToolpathError, ToolpathResult

    def job(path: Path) -> ToolpathResult:
        return generate_laser_job(path, machine=DEFAULT_LASER, material=MATERIAL, out_path=folder / "job.nc")

    sheet = folder / "mixed.dxf"
    counts = mixed_dxf(sheet, 10_000 if quick else 50_000)
    bare = best(lambda: ezdxf.readfile(sheet))
    ours = best(lambda: job(sheet))
    result = job(sheet)
    travel = result.estimates["travel_mm"] / result.estimates["travel_file_order_mm"]
    rows = [
        Row(
            "laser",
            f"G-code ÷ `ezdxf.readfile`, {sum(counts.values()) // 1000}k mixed curves",
            f"{ours / bare:.2f}x ({ours:.2f} s / {bare:.2f} s)",
            "≤ 3x",
            ours / bare <= 3.0,
        ),
        Row(
            "laser",
            "travel ÷ the drawing's own order, mixed sheet drawn row by row",
            f"{travel:.0%}",
            "≤ 100 %",
            travel <= 1.0 + 1e-9,
        ),
    ]
    real: list[tuple[str, float | None, float, float]] = []
    for path in sorted((CORPUS / "dxf").glob("*")):
        try:
            result = job(path)
        except ToolpathError:  # unreadable, empty, larger than the bed: no job to compare
            continue
        except Exception:  # damaged corpus files ezdxf itself cannot read
            continue
        base = result.estimates["travel_file_order_mm"]
        ratio = result.estimates["travel_mm"] / base if base > 0 else 1.0
        try:
            bare_s = best(lambda p=path: ezdxf.readfile(p))  # type: ignore[misc]
        except Exception:  # read only through recovery or decimal-comma repair: no baseline to compare
            bare_s = None
        ours_s = best(lambda p=path: job(p))  # type: ignore[misc]
        real.append((path.name, bare_s, ours_s, ratio))
    timed = [r for r in real if r[1] is not None]
    bare = sum(r[1] or 0.0 for r in timed)
    ours = sum(r[2] for r in timed)
    ratios = [r[3] for r in real]
    worst = max(real, key=lambda r: r[3])
    rows += [
        Row(
            "laser",
            f"G-code ÷ `ezdxf.readfile`, the corpus's {len(timed)} real drawings that fit the laser",
            f"{ours / bare:.2f}x ({ours:.2f} s / {bare:.2f} s)",
            "≤ 3x",
            ours / bare <= 3.0,
        ),
        Row(
            "laser",
            f"travel ÷ the drawing's own order, {len(real)} real drawings: median (worst: {worst[0]})",
            f"{statistics.median(ratios):.0%} ({worst[3]:.0%})",
            "≤ 100 %",
            max(ratios) <= 1.0 + 1e-9,
        ),
    ]
    return rows


def slicer_rows(folder: Path) -> list[Row]:
    from fablabctl.specs import DEFAULT_PRINTER
    from fablabctl.toolpath.slicer import slice_stl

    if shutil.which("prusa-slicer") is None:
        return [Row("slicer", "PrusaSlicer not installed", "-", "-", None)]
    stl = folder / "latch.stl"
    shutil.copy(CORPUS / "stl" / "voron2__latch_x2.stl", stl)
    start = time.perf_counter()
    sliced = slice_stl(stl, machine=DEFAULT_PRINTER, material="PLA", cache_dir=folder / "cache")
    first = time.perf_counter() - start
    start = time.perf_counter()
    again = slice_stl(stl, machine=DEFAULT_PRINTER, material="PLA", cache_dir=folder / "cache")
    hit = time.perf_counter() - start
    assert again.cached and not sliced.cached
    return [
        Row(
            "slicer",
            "re-print of a sliced part (cache hit) ÷ slicing it (PrusaSlicer, Voron latch)",
            f"{hit / first:.4f} ({hit * 1000:.0f} ms / {first:.1f} s)",
            "-",
            None,
        )
    ]


def main() -> None:
    args = options(__doc__).parse_args()
    logging.getLogger("ezdxf").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        emit(laser_rows(Path(tmp), args.quick), args.table)
        emit(slicer_rows(Path(tmp)), args.table)


if __name__ == "__main__":
    main()
