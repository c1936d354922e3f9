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
from fablabctl.toolpath.laser_estimate import RAPID_MM_MIN, moves_time, paths_time
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
    rounded = np.round(points, 3) + 0.0  # + 0.0 turns -0.0 into 0.0
    if len(rounded) < 2:
        return rounded
    keep = np.concatenate([[True], np.any(rounded[1:] != rounded[:-1], axis=1)])
    return np.asarray(rounded[keep], dtype=np.float64)


def write_job(paths: list[Path2D], mat: Material, machine: MachineSpec, out: Path, title: str) -> Written:
    lines = [f"; fablabctl laser job: {title}", f"; material {mat.key} on {machine.name}", "G21 G90", "M4 S0"]
    if mat.air_assist:
        lines.append("M8")
    tidied = [(path, tidy(path.points)) for path in paths]
    tidied = [(path, points) for path, points in tidied if len(points) >= 2]
    settings = [mat.settings[path.operation] for path, _ in tidied]
    burn = paths_time([p for _, p in tidied], np.array([s.speed for s in settings], dtype=np.float64))
    hops: list[float] = []
    here = np.zeros(2)
    lengths: dict[str, float] = {}
    moves = 0
    for (path, points), setting in zip(tidied, settings, strict=True):
        power = mat.s_value(path.operation, machine)
        body = "\n".join(f"G1 X{x:.3f} Y{y:.3f}" for x, y in points[2:].tolist())
        first = f"G1 X{points[1][0]:.3f} Y{points[1][1]:.3f} F{setting.speed:.0f} S{power}"
        for _ in range(setting.passes):
            hops.append(float(np.hypot(*(points[0] - here))))
            lines.append(f"G0 X{points[0][0]:.3f} Y{points[0][1]:.3f} S0")
            lines.append(first)
            if body:
                lines.append(body)
            moves += len(points)
            here = points[-1]
        once = float(np.hypot(*np.diff(points, axis=0).T).sum())
        key = path.operation.value
        lengths[key] = lengths.get(key, 0.0) + once * setting.passes
    hops.append(float(np.hypot(*here)))
    lines.append("G0 X0 Y0 S0")
    if mat.air_assist:
        lines.append("M9")
    lines.append("M5")
    out.write_text("\n".join(lines) + "\n", encoding="ascii")
    passes = np.array([s.passes for s in settings], dtype=np.float64)
    travel = np.array(hops)
    seconds = float((burn * passes).sum() + moves_time(travel, RAPID_MM_MIN).sum())
    return Written(seconds, float(travel.sum()), {k: round(v, 1) for k, v in lengths.items()}, moves)


def needed_operations(paths: list[Path2D]) -> set[Operation]:
    return {p.operation for p in paths}
