"""DXF -> Grbl laser G-code, written by us: `G21 G90`, `M4` dynamic power, `S0` on every travel,
air assist `M8`/`M9` when the material wants it, `M5` at the end, feeds in mm/min.

Curves are flattened to straight segments within 0.02 mm (`geometry.dxf_load.FLATTEN_MM`), which
Grbl plans smoothly in laser mode. The duration estimate is acceleration-aware: a trapezoidal speed
profile between stops, where a stop is any corner sharper than 45° (see `estimate`).
Laser mode (`$32=1`) is checked by the driver before a job starts, never written by the job.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from fablabctl.geometry.contours import chain, nest
from fablabctl.geometry.dxf_load import DxfLoadError, load_drawing
from fablabctl.geometry.operations import LayerRules
from fablabctl.specs import MachineSpec
from fablabctl.toolpath.laser_order import Path2D, corner_stops, file_order, order, travel_length
from fablabctl.toolpath.materials import Material, material
from fablabctl.toolpath.result import ToolpathError, ToolpathResult
from fablabctl.validation.limits import ValidationLimits

RAPID_MM_MIN = 6000.0
ACCEL_MM_S2 = 1000.0  # Grbl's $120/$121 on the lab's lasers


@dataclass(frozen=True, slots=True)
class Plan:
    paths: list[Path2D]
    offset: NDArray[np.float64]  # added to drawing coordinates to land on the bed
    file_order_travel_mm: float  # travel if cut in the drawing's own order (what ordering saves)


def run_time(length: float, speed_mm_min: float, accel: float = ACCEL_MM_S2) -> float:
    """Trapezoidal profile from rest to rest: accelerate, cruise, decelerate (triangle when too short)."""
    if length <= 0:
        return 0.0
    v = speed_mm_min / 60.0
    if length >= v * v / accel:
        return length / v + v / accel
    return 2.0 * math.sqrt(length / accel)


def path_time(points: NDArray[np.float64], speed_mm_min: float) -> float:
    stops = corner_stops(points)
    seg = np.linalg.norm(np.diff(points, axis=0), axis=1)
    return sum(run_time(float(seg[a:b].sum()), speed_mm_min) for a, b in itertools.pairwise(stops))


def plan(
    dxf: Path,
    machine: MachineSpec,
    *,
    rules: LayerRules | None = None,
    kerf_mm: float = 0.0,
    limits: ValidationLimits | None = None,
) -> Plan:
    limits = limits or ValidationLimits()
    try:
        drawing = load_drawing(
            dxf,
            rules=rules or LayerRules(),
            max_entities=limits.max_dxf_entities,
            max_depth=limits.max_block_depth,
        )
    except DxfLoadError as exc:
        raise ToolpathError(
            "DXF_UNREADABLE", f"DXF illisible : {exc.detail}", f"Unreadable DXF: {exc.detail}"
        ) from None
    contours = nest(chain(drawing.polylines))
    if not contours:
        raise ToolpathError("NOTHING_TO_CUT", "Rien à découper ni graver.", "Nothing to cut or engrave.")
    low = np.vstack([c.points for c in contours]).min(axis=0)
    offset = np.where(low < 0, -low, 0.0)  # negative coordinates: moved onto the bed, as the report warned
    contours = [dataclasses.replace(c, points=c.points + offset) for c in contours]
    paths = order(contours, kerf_mm)
    baseline = file_order(contours)
    high = np.vstack([p.points for p in paths]).max(axis=0)
    if high[0] > machine.bed_x_mm + 1e-6 or high[1] > machine.bed_y_mm + 1e-6:
        raise ToolpathError(
            "OUTSIDE_BED",
            f"Le dessin ({high[0]:.1f} x {high[1]:.1f} mm) dépasse la zone de {machine.name}.",
            f"The drawing ({high[0]:.1f} x {high[1]:.1f} mm) exceeds {machine.name}'s work area.",
        )
    return Plan(paths, offset, travel_length(baseline))


def write_gcode(paths: list[Path2D], mat: Material, machine: MachineSpec, out: Path) -> dict[str, float]:
    """Write the job; return the estimates (duration, cut length per operation, travel)."""
    lines = [f"; fablabctl laser job: {mat.key} on {machine.name}", "G21 G90", "M4 S0"]
    if mat.air_assist:
        lines.append("M8")
    seconds, travel, here = 0.0, 0.0, np.zeros(2)
    lengths: dict[str, float] = {}
    for path in paths:
        setting = mat.settings[path.operation]
        power = mat.s_value(path.operation, machine.laser_s_max, machine.laser_max_power_s)
        for _ in range(setting.passes):
            start = path.points[0]
            hop = float(np.linalg.norm(start - here))
            travel += hop
            seconds += run_time(hop, RAPID_MM_MIN)
            lines.append(f"G0 X{start[0]:.3f} Y{start[1]:.3f} S0")
            lines.append(f"G1 F{setting.speed:.0f} S{power}")
            lines.extend(f"G1 X{x:.3f} Y{y:.3f}" for x, y in path.points[1:])
            lines.append("G1 S0")
            seconds += path_time(path.points, setting.speed)
            length = float(np.linalg.norm(np.diff(path.points, axis=0), axis=1).sum())
            lengths[path.operation.value] = lengths.get(path.operation.value, 0.0) + length
            here = path.points[-1]
    hop = float(np.linalg.norm(here))
    seconds += run_time(hop, RAPID_MM_MIN)
    lines += ["G0 X0 Y0 S0"] + (["M9"] if mat.air_assist else []) + ["M5"]
    out.write_text("\n".join(lines) + "\n")
    return {
        "duration_s": round(seconds, 1),
        "travel_mm": round(travel + hop, 1),
        **{f"{op}_length_mm": round(v, 1) for op, v in lengths.items()},
        "cut_length_mm": round(lengths.get("cut", 0.0), 1),
    }


def generate_laser_job(
    dxf: Path,
    *,
    machine: MachineSpec,
    material_key: str,
    out_path: Path,
    rules: LayerRules | None = None,
    kerf_mm: float = 0.0,
    limits: ValidationLimits | None = None,
    materials_file: Path | None = None,
) -> ToolpathResult:
    mat = material(material_key, materials_file)
    job = plan(dxf, machine, rules=rules, kerf_mm=kerf_mm, limits=limits)
    estimates = write_gcode(job.paths, mat, machine, out_path)
    estimates["travel_file_order_mm"] = round(job.file_order_travel_mm, 1)
    settings = {
        "material": mat.key,
        "kerf_mm": kerf_mm,
        "air_assist": mat.air_assist,
        "operations": {
            op.value: {
                "speed": s.speed,
                "power": s.power,
                "passes": s.passes,
                "s": mat.s_value(op, machine.laser_s_max, machine.laser_max_power_s),
            }
            for op, s in mat.settings.items()
        },
    }
    return ToolpathResult(out_path, estimates["duration_s"], settings, estimates)


def generate_framing(
    dxf: Path, *, machine: MachineSpec, out_path: Path, power_s: int = 0, rules: LayerRules | None = None
) -> ToolpathResult:
    """Trace the job's bounding box (laser off, or at a faint `power_s`) to check the sheet's placement."""
    job = plan(dxf, machine, rules=rules)
    points = np.vstack([p.points for p in job.paths])
    (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
    power = min(power_s, machine.laser_max_power_s)
    corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]
    lines = [
        "; fablabctl framing",
        "G21 G90",
        "M4 S0" if power else "M5",
        f"G0 X{x0:.3f} Y{y0:.3f} S0",
        f"G1 F3000 S{power}",
    ]
    lines += [f"G1 X{x:.3f} Y{y:.3f}" for x, y in corners[1:]]
    lines += ["G1 S0", "G0 X0 Y0", "M5"]
    out_path.write_text("\n".join(lines) + "\n")
    perimeter = 2 * ((x1 - x0) + (y1 - y0))
    return ToolpathResult(
        out_path,
        round(run_time(perimeter, 3000), 1),
        {"framing": True, "power_s": power},
        {"bounds_mm": [[float(x0), float(y0)], [float(x1), float(y1)]]},
    )
