"""Validation speed and memory on big files, as ratios to the bare load measured in the same run.

Targets: STL <= 1.5x `trimesh.load`, DXF <= 2x `ezdxf.readfile`, peak memory <= 3x the mesh in memory.
Run: .venv/bin/python bench/validate.py [--triangles N] [--entities N]
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import ezdxf
import numpy as np
import trimesh

from fablabctl.validation.limits import ValidationLimits
from fablabctl.validation.validate import validate_file


def timed(fn: Callable[[], object], repeat: int = 2) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def big_stl(path: Path, triangles: int) -> None:
    """A closed sphere-like mesh with about `triangles` faces (icosphere subdivisions, then cut to size)."""
    subdivisions = max(1, int(np.ceil(np.log(triangles / 20) / np.log(4))))
    mesh = trimesh.creation.icosphere(subdivisions=subdivisions, radius=80)
    mesh.export(path)


def big_dxf(path: Path, entities: int) -> None:
    doc = ezdxf.new("R2010")
    doc.header["$INSUNITS"] = 4
    msp = doc.modelspace()
    side = int(np.sqrt(entities / 4)) + 1
    pitch = 380 / side
    count = 0
    for i in range(side):
        for j in range(side):
            x, y, s = i * pitch, j * pitch, pitch * 0.6
            for a, b in (
                ((x, y), (x + s, y)),
                ((x + s, y), (x + s, y + s)),
                ((x + s, y + s), (x, y + s)),
                ((x, y + s), (x, y)),
            ):
                msp.add_line(a, b)
                count += 1
            if count >= entities:
                break
        if count >= entities:
            break
    doc.saveas(path)


def peak_bytes(fn: Callable[[], object]) -> int:
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--triangles", type=int, default=1_000_000)
    parser.add_argument("--entities", type=int, default=50_000)
    args = parser.parse_args()
    logging.getLogger("ezdxf").setLevel(logging.ERROR)
    limits = ValidationLimits(max_file_bytes=1 << 31)
    with tempfile.TemporaryDirectory() as tmp:
        stl, dxf = Path(tmp) / "big.stl", Path(tmp) / "big.dxf"
        big_stl(stl, args.triangles)
        faces = len(trimesh.load(stl).faces)
        bare = timed(lambda: trimesh.load(stl))
        ours = timed(lambda: validate_file(stl, limits=limits))
        mesh_bytes = faces * 3 * 3 * 8
        peak = peak_bytes(lambda: validate_file(stl, limits=limits))
        print(
            f"STL  {faces:>9} triangles  trimesh.load {bare:6.2f} s  validate {ours:6.2f} s  "
            f"ratio {ours / bare:4.2f}x (target <= 1.5x)"
        )
        print(
            f"     peak memory {peak / 1e6:7.1f} MB = {peak / mesh_bytes:4.2f}x the mesh in memory "
            f"({mesh_bytes / 1e6:.1f} MB; target <= 3x)"
        )
        big_dxf(dxf, args.entities)
        bare = timed(lambda: ezdxf.readfile(dxf))
        ours = timed(lambda: validate_file(dxf, limits=limits))
        print(
            f"DXF  {args.entities:>9} entities   ezdxf.readfile {bare:6.2f} s  validate {ours:6.2f} s  "
            f"ratio {ours / bare:4.2f}x (target <= 2x)"
        )


if __name__ == "__main__":
    main()
