"""DXF -> Grbl laser G-code: the public entry points `generate_laser_job` and `generate_framing`.

The drawing is read by `geometry` (the same reading validation reports on), compensated for the kerf,
placed on the bed (`geometry.placement`: kept where drawn, else moved to the origin, else turned a
quarter turn), ordered (`laser_order`) and written (`laser_gcode`). Anything that makes a job
impossible raises `ToolpathError` with a stable code and a message in French and English.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fablabctl.file_limits import ValidationLimits
from fablabctl.geometry.contours import Contour
from fablabctl.geometry.drawing import Extents, LoadedDrawing, load_drawing
from fablabctl.geometry.dxf_read import DxfLoadError
from fablabctl.geometry.gc_pause import gc_paused
from fablabctl.geometry.joints import joint_depth
from fablabctl.geometry.operations import LayerRules, default_rules
from fablabctl.geometry.placement import Placement, place
from fablabctl.specs import MachineSpec
from fablabctl.toolpath.laser_estimate import RAPID_MM_MIN, move_time
from fablabctl.toolpath.laser_gcode import needed_operations, write_job
from fablabctl.toolpath.laser_order import Path2D, compensate_kerf, file_order, job_travel, order
from fablabctl.toolpath.materials import Material
from fablabctl.toolpath.materials import material as find_material
from fablabctl.toolpath.result import ToolpathError, ToolpathResult

log = logging.getLogger(__name__)
MAX_KERF_MM = 2.0
FRAMING_MAX_FRACTION = 0.05  # framing at more than 5 % would mark the sheet
FRAMING_FEED = 3000.0
JOINT_TOLERANCE_MM = 0.1


@dataclass(frozen=True, slots=True)
class Plan:
    paths: list[Path2D]
    placement: Placement
    baseline: list[Path2D]  # the drawing as drawn: what ordering is measured against
    kerf_kept: int  # contours too small to compensate, cut as drawn
    joint_depth_mm: float | None = None  # finger joints cut for this sheet thickness (None: no joints)


def _read(dxf_path: Path, rules: LayerRules, limits: ValidationLimits) -> LoadedDrawing:
    try:
        return load_drawing(dxf_path, limits=limits, rules=rules)
    except DxfLoadError as exc:
        raise ToolpathError(
            exc.code,
            "Ce DXF ne peut pas être lu : validez-le pour savoir pourquoi.",
            "This DXF cannot be read: validate it to see why.",
        ) from None


def _extents(contours: list[Contour]) -> Extents:
    points = np.vstack([c.points for c in contours])
    return Extents(points.min(axis=0), points.max(axis=0))


def plan(
    dxf_path: Path, machine: MachineSpec, *, rules: LayerRules, kerf_mm: float, limits: ValidationLimits
) -> Plan:
    """Read, compensate, place and order: everything but writing."""
    if machine.kind != "laser":
        raise ToolpathError(
            "NOT_A_LASER",
            f"{machine.name} n'est pas un laser : impossible d'y découper un DXF.",
            f"{machine.name} is not a laser: a DXF cannot be cut on it.",
        )
    if not 0 <= kerf_mm <= MAX_KERF_MM:
        raise ToolpathError(
            "BAD_KERF",
            f"Largeur de trait (kerf) {kerf_mm:g} mm hors limites (0 à {MAX_KERF_MM:g} mm).",
            f"Kerf {kerf_mm:g} mm out of range (0 to {MAX_KERF_MM:g} mm).",
        )
    drawing = _read(dxf_path, rules, limits)
    with gc_paused():
        return _arrange(drawing, machine, kerf_mm)


def _arrange(drawing: LoadedDrawing, machine: MachineSpec, kerf_mm: float) -> Plan:
    """Compensate, place and order a drawing already read (the collector paused: `gc_pause`)."""
    if not drawing.contours:
        raise ToolpathError(
            "NOTHING_TO_CUT",
            "Rien à découper ni graver dans ce dessin (calques ignorés ? textes non convertis ?).",
            "Nothing to cut or engrave in this drawing (ignored layers? unconverted texts?).",
        )
    contours, kept = compensate_kerf(drawing.contours, kerf_mm)
    extents = _extents(contours)
    placement = place(extents, machine)
    if not placement.fits:
        w, h = extents.size
        raise ToolpathError(
            "OUTSIDE_BED",
            f"Le dessin ({w:.1f} x {h:.1f} mm) ne tient pas sur {machine.name} "
            f"({machine.bed_x_mm:g} x {machine.bed_y_mm:g} mm), même tourné.",
            f"The drawing ({w:.1f} x {h:.1f} mm) does not fit {machine.name} "
            f"({machine.bed_x_mm:g} x {machine.bed_y_mm:g} mm), even rotated.",
        )
    placed = [
        Contour(placement.apply(c.points), c.closed, c.operation, c.layer, c.colour, c.handles, c.depth)
        for c in contours
    ]
    paths = order(placed)
    return Plan(paths, placement, file_order(placed), kept, joint_depth(drawing.contours))


def generate_laser_job(
    dxf_path: Path,
    *,
    machine: MachineSpec,
    material: str,
    out_path: Path,
    rules: LayerRules | None = None,
    kerf_mm: float = 0.0,
    limits: ValidationLimits = ValidationLimits(),
    materials_file: Path | None = None,
) -> ToolpathResult:
    """Turn a DXF into a Grbl laser job for `material` (a key of the material library).

    `kerf_mm` is applied as given (0: cut on the drawn lines); jobs and `fablabctl prepare` go through
    `prepare_design`, which takes the material's kerf and press-fit allowance by default.
    `materials_file`: the lab's own library (entries added to or replacing the package's).
    """
    rules = rules or default_rules()
    mat = find_material(material, materials_file)
    job = plan(dxf_path, machine, rules=rules, kerf_mm=kerf_mm, limits=limits)
    missing = sorted(op.value for op in needed_operations(job.paths) if op not in mat.settings)
    if missing:
        raise ToolpathError(
            "MATERIAL_MISSING_OPERATION",
            f"Le matériau « {mat.key} » n'a pas de réglage pour : {', '.join(missing)}.",
            f"Material '{mat.key}' has no setting for: {', '.join(missing)}.",
        )
    passes = {op: setting.passes for op, setting in mat.settings.items()}
    with gc_paused():
        written = write_job(job.paths, mat, machine, out_path, dxf_path.name)
        baseline = job_travel(job.baseline, passes)
    estimates = {
        "duration_s": round(written.duration_s, 1),
        "cut_length_mm": written.length_mm.get("cut", 0.0),
        "cut_length_mm_by_operation": written.length_mm,
        "travel_mm": round(written.travel_mm, 1),
        "travel_file_order_mm": round(baseline, 1),
        "paths": len(job.paths),
        "moves": written.moves,
    }
    settings = {
        **mat.as_dict(machine),
        "warnings": thickness_warnings(job.joint_depth_mm, mat),
        "kerf_mm": kerf_mm,
        "kerf_not_applied": job.kerf_kept,
        "rules": rules.describe(),
        "placement": {
            "moved": job.placement.moved,
            "rotated": job.placement.rotated,
            "offset_mm": [round(float(v), 3) for v in job.placement.offset],
        },
    }
    log.info("laser job %s: %d paths, %.0f s", out_path.name, len(job.paths), written.duration_s)
    return ToolpathResult(out_path, round(written.duration_s, 1), settings, estimates)


def thickness_warnings(depth: float | None, mat: Material) -> list[dict[str, str]]:
    """A box whose joints are cut for another sheet thickness does not close: say so before cutting."""
    if depth is None or mat.thickness_mm is None or abs(depth - mat.thickness_mm) <= JOINT_TOLERANCE_MM:
        return []
    return [
        {
            "code": "JOINT_DEPTH_MISMATCH",
            "fr": f"Les tenons de ce dessin sont prévus pour une planche de {depth:g} mm, le matériau "
            f"« {mat.key} » fait {mat.thickness_mm:g} mm : l'assemblage ne fermera pas.",
            "en": f"This drawing's finger joints are cut for a {depth:g} mm sheet, material "
            f"'{mat.key}' is {mat.thickness_mm:g} mm thick: the joints will not close.",
        }
    ]


def generate_framing(
    dxf_path: Path,
    *,
    machine: MachineSpec,
    out_path: Path,
    power_fraction: float = 0.0,
    rules: LayerRules | None = None,
    limits: ValidationLimits = ValidationLimits(),
) -> ToolpathResult:
    """Trace the job's bounding box (laser off, or at a faint `power_fraction` <= 5 %) so the operator
    can check the sheet's placement before cutting. The box is the one the job itself will use."""
    if not 0 <= power_fraction <= FRAMING_MAX_FRACTION:
        raise ToolpathError(
            "BAD_FRAMING_POWER",
            f"Puissance de cadrage {power_fraction:g} : entre 0 et {FRAMING_MAX_FRACTION:g} (trace à peine "
            "visible).",
            f"Framing power {power_fraction:g}: between 0 and {FRAMING_MAX_FRACTION:g} (a barely visible "
            "trace).",
        )
    job = plan(dxf_path, machine, rules=rules or default_rules(), kerf_mm=0.0, limits=limits)
    points = np.vstack([p.points for p in job.paths])
    (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
    power = min(machine.laser_max_power_s, round(power_fraction * machine.laser_s_max))
    corners = [(x1, y0), (x1, y1), (x0, y1), (x0, y0)]
    lines = ["; fablabctl framing", "G21 G90", "M4 S0", f"G0 X{x0:.3f} Y{y0:.3f} S0"]
    first, *rest = corners
    lines.append(f"G1 X{first[0]:.3f} Y{first[1]:.3f} F{FRAMING_FEED:.0f} S{power}")
    lines += [f"G1 X{x:.3f} Y{y:.3f}" for x, y in rest]
    lines += ["G0 X0 Y0 S0", "M5"]
    out_path.write_text("\n".join(lines) + "\n", encoding="ascii")
    w, h = float(x1 - x0), float(y1 - y0)
    seconds = sum(move_time(side, FRAMING_FEED) for side in (w, h, w, h))
    seconds += 2 * move_time(float(np.hypot(x0, y0)), RAPID_MM_MIN)  # to the first corner, and home
    bounds = [[round(float(x0), 3), round(float(y0), 3)], [round(float(x1), 3), round(float(y1), 3)]]
    return ToolpathResult(
        out_path,
        round(seconds, 1),
        {"framing": True, "power_fraction": power_fraction, "s": power},
        {"duration_s": round(seconds, 1), "bounds_mm": bounds},
    )
