"""Toolpath speed, as ratios measured in the same run.

Laser: G-code generation for a 20k-segment DXF vs `ezdxf.readfile` of the same file (target <= 3x), and
travel length vs the drawing's own order (target <= 50 %). Slicing: PrusaSlicer's time on a real part,
then the cache hit that makes a re-print instant.
Run: .venv/bin/python bench/toolpath.py
"""

from __future__ import annotations

import logging
import random
import tempfile
import time
from pathlib import Path

import ezdxf
import trimesh

from fablabctl.specs import DEFAULT_LASER, DEFAULT_PRINTER
from fablabctl.toolpath.laser import generate_laser_job
from fablabctl.toolpath.slicer import slice_stl


def drawing(path: Path, segments: int) -> None:
    """Many small parts with a hole each, written in shuffled order (as exported drawings often are)."""
    doc = ezdxf.new("R2010")
    doc.header["$INSUNITS"] = 4
    msp = doc.modelspace()
    parts = []
    side = 1
    while side * side * 8 < segments:  # each cell: a square part (4 segments) with a square hole (4)
        side += 1
    pitch = min(380 / side, 280 / side)
    for i in range(side):
        for j in range(side):
            x, y, s = 5 + i * pitch, 5 + j * pitch, pitch * 0.8
            parts.append([(x, y), (x + s, y), (x + s, y + s), (x, y + s)])
            h = s * 0.3
            parts.append(
                [
                    (x + h, y + h),
                    (x + 2 * h, y + h),
                    (x + 2 * h, y + 2 * h),
                    (x + h, y + 2 * h),
                    (x + 1.5 * h, y + 2.5 * h),
                    (x + h, y + 2 * h),
                ][:4]
            )
    random.Random(1).shuffle(parts)
    for points in parts:
        msp.add_lwpolyline(points, close=True)
    doc.saveas(path)


def best(fn, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    logging.getLogger("ezdxf").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        dxf = folder / "sheet.dxf"
        drawing(dxf, 20_000)
        msp = ezdxf.readfile(dxf).modelspace()
        segments = sum(len(e) for e in msp.query("LWPOLYLINE"))
        bare = best(lambda: ezdxf.readfile(dxf))
        result = None

        def generate() -> None:
            nonlocal result
            result = generate_laser_job(
                dxf, machine=DEFAULT_LASER, material="plywood-poplar-3mm", out_path=folder / "sheet.nc"
            )

        ours = best(generate)
        assert result is not None
        travel, baseline = result.estimates["travel_mm"], result.estimates["travel_file_order_mm"]
        print(
            f"laser: {segments} segments  ezdxf.readfile {bare:.2f} s  G-code {ours:.2f} s  "
            f"ratio {ours / bare:.2f}x (target <= 3x)"
        )
        print(
            f"laser: travel {travel / 1000:.1f} m vs {baseline / 1000:.1f} m in file order = "
            f"{travel / baseline:.0%} (target <= 50 %)"
        )
        stl = folder / "part.stl"
        trimesh.creation.annulus(r_min=15, r_max=30, height=20, sections=128).export(stl)
        start = time.perf_counter()
        sliced = slice_stl(stl, machine=DEFAULT_PRINTER, material="PLA", cache_dir=folder / "cache")
        first = time.perf_counter() - start
        start = time.perf_counter()
        again = slice_stl(stl, machine=DEFAULT_PRINTER, material="PLA", cache_dir=folder / "cache")
        hit = time.perf_counter() - start
        assert again.cached and not sliced.cached
        print(f"slicer: PrusaSlicer {first:.2f} s, cache hit {hit * 1000:.1f} ms ({first / hit:.0f}x faster)")


if __name__ == "__main__":
    main()
