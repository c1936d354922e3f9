"""Write ordered paths as Grbl 1.1 laser G-code, and add up what the job will cost.

`G21 G90`, then `M4 S0` (dynamic power: Grbl scales the beam with the actual speed, so corners do not
char), `M8` air assist when the material wants it. Each path: `G0 X Y S0` to its start (laser off on
every travel), then `G1 X Y F S` and `G1 X Y` moves; repeated `passes` times. `M9`, `M5` at the end.
Coordinates have 3 decimals (1 µm, below any gantry's resolution); curves were flattened upstream to
0.02 mm chords (no G2/G3: Grbl plans short G1 segments smoothly in laser mode, and one code path is
easier to prove). Laser mode `$32=1` is checked by the Grbl driver, never written by a job.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from fablabctl.geometry.operations import Operation
from fablabctl.specs import MachineSpec
from fablabctl.toolpath.laser_estimate import RAPID_MM_MIN, moves_time, paths_time, segments
from fablabctl.toolpath.laser_order import Path2D
from fablabctl.toolpath.materials import Material


@dataclass(frozen=True, slots=True)
class Written:
    duration_s: float
    travel_mm: float
    length_mm: dict[str, float]  # burnt length per operation, passes included
    moves: int


def tidy(points: NDArray[np.float64]) -> NDArray[np.float64]:
    """Rounded to the written precision, without the zero-length moves rounding may create."""
    return tidy_all([points])[0]


def tidy_all(paths: list[NDArray[np.float64]]) -> list[NDArray[np.float64]]:
    """`tidy` of every path, in one numpy pass over all their points."""
    if not paths:
        return []
    sizes = np.array([len(p) for p in paths])
    rounded = np.round(np.concatenate(paths).reshape(-1, 2), 3) + 0.0  # + 0.0 turns -0.0 into 0.0
    keep = np.ones(len(rounded), dtype=bool)
    keep[1:] = np.any(rounded[1:] != rounded[:-1], axis=1)
    starts = np.cumsum(sizes) - sizes
    keep[starts[sizes > 0]] = True  # each path keeps its first point
    owner = np.repeat(np.arange(len(paths)), sizes)[keep]
    bounds = np.searchsorted(owner, np.arange(len(paths) + 1))
    return np.split(rounded[keep], bounds[1:-1])


def write_job(paths: list[Path2D], mat: Material, machine: MachineSpec, out: Path, title: str) -> Written:
    lines = [f"; fablabctl laser job: {title}", f"; material {mat.key} on {machine.name}", "G21 G90", "M4 S0"]
    if mat.air_assist:
        lines.append("M8")
    tidied = [
        (path, points)
        for path, points in zip(paths, tidy_all([p.points for p in paths]), strict=True)
        if len(points) >= 2
    ]
    settings = [mat.settings[path.operation] for path, _ in tidied]
    burn = paths_time([p for _, p in tidied], np.array([s.speed for s in settings], dtype=np.float64))
    passes = np.array([s.passes for s in settings], dtype=np.int64)
    # every burn's length, and the laser-off hops: to each path's start for every pass, then home
    once = _lengths([p for _, p in tidied])
    firsts = np.array([p[0] for _, p in tidied]).reshape(-1, 2)
    lasts = np.array([p[-1] for _, p in tidied]).reshape(-1, 2)
    starts, ends = np.repeat(firsts, passes, axis=0), np.repeat(lasts, passes, axis=0)
    hops = np.hypot(*(np.vstack([starts, np.zeros((1, 2))]) - np.vstack([np.zeros((1, 2)), ends])).T)
    lengths: dict[str, float] = {}
    for (path, _), length, count in zip(tidied, once.tolist(), passes.tolist(), strict=True):
        key = path.operation.value
        lengths[key] = lengths.get(key, 0.0) + length * count
    for (path, points), setting in zip(tidied, settings, strict=True):
        power = mat.s_value(path.operation, machine)
        x, y = points[0].tolist()
        travel = f"G0 X{x:.3f} Y{y:.3f} S0"
        x, y = points[1].tolist()
        burn_from = f"G1 X{x:.3f} Y{y:.3f} F{setting.speed:.0f} S{power}"
        body = ("\nG1 X%.3f Y%.3f" * (len(points) - 2)) % tuple(points[2:].ravel().tolist())
        lines.extend([travel, burn_from + body] * setting.passes)
    lines.append("G0 X0 Y0 S0")
    if mat.air_assist:
        lines.append("M9")
    lines.append("M5")
    out.write_text("\n".join(lines) + "\n", encoding="ascii")
    moves = int(sum(len(p) * count for (_, p), count in zip(tidied, passes.tolist(), strict=True)))
    seconds = float((burn * passes).sum() + moves_time(hops, RAPID_MM_MIN).sum())
    return Written(seconds, float(hops.sum()), {k: round(v, 1) for k, v in lengths.items()}, moves)


def _lengths(paths: list[NDArray[np.float64]]) -> NDArray[np.float64]:
    """Length of each path, summed in one pass over all segments."""
    if not paths:
        return np.zeros(0)
    d, owner = segments(paths)
    return np.bincount(owner, weights=np.hypot(d[:, 0], d[:, 1]), minlength=len(paths)).astype(np.float64)


def needed_operations(paths: list[Path2D]) -> set[Operation]:
    return {p.operation for p in paths}
