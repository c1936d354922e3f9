"""The verdict on a G-code file for a machine: its safety policy on every line, then the estimates
a job needs (duration, filament, cut length) and the checks of the file as a whole (bounds, laser
left on, extrusion without heating).

Applied to G-code uploaded by trainers and to what our slicer and laser generator produce; the
per-line policy is `gcode_policy.LinePolicy`, the very object the drivers run again on each line
as they send it. The duration is a constant-feed estimate (sum of move length / feed rate, plus
dwells): acceleration makes real jobs longer, so it is a lower bound on short segments.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path

from fablabctl.file_limits import ValidationLimits
from fablabctl.i18n import Text
from fablabctl.specs import MachineSpec
from fablabctl.validation.gcode_parse import BinaryContent, Command, TooManyLines, read_lines
from fablabctl.validation.gcode_policy import LinePolicy, Refusal
from fablabctl.validation.report import Finding, Report, Severity

E, W = Severity.ERROR, Severity.WARNING
BOUNDS_MARGIN_MM = 5.0  # purge lines and wipes just outside the bed are normal
MAX_REPORTED = 10
PER_CODE = 5  # findings per refusal code; the first one lists every line
MOVES = frozenset({"G0", "G1", "G2", "G3"})

# codes that only set a mode: axis words on their line are a move in the current motion mode (Grbl)
MODAL_ONLY = frozenset(
    {"G17", "G18", "G19", "G20", "G21", "G54", "G55", "G56", "G57", "G58", "G59", "G90", "G91", "G93", "G94"}
    | {"M3", "M4", "M5", "M7", "M8", "M9"}
)


@dataclass
class Walk:
    """The interpreter state while reading the file."""

    pos: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    e: float = 0.0
    absolute: bool = True
    absolute_e: bool = True
    inches: bool = False
    feed: float = 1000.0  # mm/min
    seconds: float = 0.0
    filament_mm: float = 0.0
    cut_mm: float = 0.0
    travel_mm: float = 0.0
    laser_on: bool = False
    laser_s: float = 0.0
    max_hotend: float = 0.0
    max_bed: float = 0.0
    moves: int = 0
    out_of_bounds: list[int] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    settings_changes: list[int] = field(default_factory=list)
    min_xyz: list[float] = field(default_factory=lambda: [math.inf] * 3)
    max_xyz: list[float] = field(default_factory=lambda: [-math.inf] * 3)


def _move(walk: Walk, cmd: Command, machine: MachineSpec) -> None:
    scale = 25.4 if walk.inches else 1.0
    if "F" in cmd.params and cmd.params["F"] > 0:
        walk.feed = cmd.params["F"] * scale
    start = list(walk.pos)
    for i, axis in enumerate("XYZ"):
        if axis in cmd.params:
            value = cmd.params[axis] * scale
            walk.pos[i] = value if walk.absolute else walk.pos[i] + value
    length = math.dist(start, walk.pos)
    if cmd.code in ("G2", "G3") and ("I" in cmd.params or "J" in cmd.params):
        length = _arc_length(start, walk.pos, cmd, scale)
    if "E" in cmd.params:
        e = cmd.params["E"] * scale
        delta = e - walk.e if walk.absolute_e else e
        walk.e = e if walk.absolute_e else walk.e + e
        if delta > 0:
            walk.filament_mm += delta
    if "S" in cmd.params:
        walk.laser_s = cmd.params["S"]
    if length > 0:
        walk.moves += 1
        walk.seconds += length / (walk.feed / 60.0)
        cutting = machine.kind == "laser" and walk.laser_on and walk.laser_s > 0 and cmd.code != "G0"
        if cutting:
            walk.cut_mm += length
        else:
            walk.travel_mm += length
        for i in range(3):
            walk.min_xyz[i] = min(walk.min_xyz[i], walk.pos[i])
            walk.max_xyz[i] = max(walk.max_xyz[i], walk.pos[i])
        if _outside(walk.pos, machine):
            walk.out_of_bounds.append(cmd.line)


def _arc_length(start: list[float], end: list[float], cmd: Command, scale: float) -> float:
    cx, cy = start[0] + cmd.params.get("I", 0.0) * scale, start[1] + cmd.params.get("J", 0.0) * scale
    radius = math.hypot(start[0] - cx, start[1] - cy)
    a0, a1 = math.atan2(start[1] - cy, start[0] - cx), math.atan2(end[1] - cy, end[0] - cx)
    sweep = (a0 - a1) if cmd.code == "G2" else (a1 - a0)
    sweep %= 2 * math.pi
    if sweep == 0:
        sweep = 2 * math.pi
    return math.hypot(radius * sweep, end[2] - start[2])


def _outside(pos: list[float], machine: MachineSpec) -> bool:
    limits = (machine.bed_x_mm, machine.bed_y_mm, machine.bed_z_mm if machine.kind == "printer" else math.inf)
    return any(
        v < -BOUNDS_MARGIN_MM or v > lim + BOUNDS_MARGIN_MM for v, lim in zip(pos, limits, strict=True)
    )


def _line(walk: Walk, cmd: Command, machine: MachineSpec) -> None:
    """One block: its modal codes first, then its motion (Grbl's order; Marlin lines hold one code)."""
    motion = [c for c in cmd.codes if c in MOVES]
    for code in cmd.codes:
        if code not in MOVES:
            _command(walk, dataclasses.replace(cmd, code=code), machine)
    if motion or all(c in MODAL_ONLY for c in cmd.codes):
        _command(walk, dataclasses.replace(cmd, code=motion[0] if motion else ""), machine)


def _command(walk: Walk, cmd: Command, machine: MachineSpec) -> None:
    code, p = cmd.code, cmd.params
    if code in MOVES:
        _move(walk, cmd, machine)
    elif code == "":
        if "S" in p:
            walk.laser_s = p["S"]
        if any(k in p for k in "XYZ"):
            _move(walk, Command(cmd.line, "G1", p, cmd.raw), machine)
    elif code == "G4":
        dwell = (
            p.get("P", 0.0) / 1000.0
            if "P" in p and machine.kind == "printer"
            else p.get("P", p.get("S", 0.0))
        )
        walk.seconds += dwell
    elif code in ("G20", "G21"):
        walk.inches = code == "G20"
    elif code in ("G90", "G91"):
        walk.absolute = code == "G90"
        walk.absolute_e = walk.absolute
    elif code in ("M82", "M83"):
        walk.absolute_e = code == "M82"
    elif code == "G92":
        walk.e = p.get("E", walk.e)
        for i, axis in enumerate("XYZ"):
            if axis in p:
                walk.pos[i] = p[axis]
    elif code in ("M104", "M109"):
        walk.max_hotend = max([walk.max_hotend] + [p[k] for k in "SRB" if k in p])
    elif code in ("M140", "M190"):
        walk.max_bed = max([walk.max_bed] + [p[k] for k in "SR" if k in p])
    elif code in ("M3", "M4"):
        walk.laser_on = True
        if "S" in p:
            walk.laser_s = p["S"]
    elif code in ("M5", "M2", "M30"):
        walk.laser_on = False


def validate_gcode(path: Path, *, machine: MachineSpec, limits: ValidationLimits) -> Report:
    """The verdict on a G-code file for one machine: the safety policy on every line, then estimates."""
    report = Report(file_type="gcode")
    walk = Walk()
    policy = LinePolicy(machine)
    try:
        for number, text in read_lines(path, max_lines=limits.max_gcode_lines):
            verdict = policy.check(text, number)
            if verdict.refusal is not None:
                walk.refusals.append(verdict.refusal)
            if verdict.changes_settings:
                walk.settings_changes.append(number)
            if verdict.command is not None and verdict.command.problem is None:
                _line(walk, verdict.command, machine)
    except TooManyLines as exc:
        report.add(
            Finding(
                "GCODE_TOO_LONG",
                E,
                Text(
                    f"Plus de {exc.limit} lignes : fichier refusé.",
                    f"More than {exc.limit} lines: file refused.",
                ),
            )
        )
        return report
    except BinaryContent as exc:
        report.add(
            Finding(
                "GCODE_BINARY",
                E,
                Text(
                    "Ce fichier contient des données binaires : ce n'est pas du G-code.",
                    "This file holds binary data: it is not G-code.",
                ),
                location={"line": exc.line},
            )
        )
        return report
    _findings(walk, machine, report)
    report.metrics.update(
        {
            "duration_s": round(walk.seconds, 1),
            "moves": walk.moves,
            "filament_mm": round(walk.filament_mm, 1),
            "cut_length_mm": round(walk.cut_mm, 1),
            "travel_mm": round(walk.travel_mm, 1),
            "max_hotend_c": walk.max_hotend,
            "max_bed_c": walk.max_bed,
        }
    )
    if walk.moves:
        report.metrics["bounds_mm"] = [
            [round(v, 2) for v in walk.min_xyz],
            [round(v, 2) for v in walk.max_xyz],
        ]
    return report


def _refusal_findings(refusals: list[Refusal], report: Report) -> None:
    """One finding per refused line (the first few of each kind), each naming its line."""
    by_code: dict[str, list[Refusal]] = {}
    for refusal in refusals:
        by_code.setdefault(refusal.code, []).append(refusal)
    for code, found in by_code.items():
        lines = [r.line for r in found]
        for index, refusal in enumerate(found[:PER_CODE]):
            location: dict[str, object] = {"line": refusal.line}
            if index == 0 and len(found) > 1:
                location.update(_lines(lines))
            report.add(Finding(code, E, refusal.message, refusal.hint, location))


def _lines(lines: list[int]) -> dict[str, object]:
    return {"line": lines[0], "lines": lines[:MAX_REPORTED], "count": len(lines)}


def _findings(walk: Walk, machine: MachineSpec, report: Report) -> None:
    name = machine.name
    _refusal_findings(walk.refusals, report)
    if walk.out_of_bounds:
        report.add(
            Finding(
                "GCODE_OUT_OF_BOUNDS",
                E,
                Text(
                    f"{len(walk.out_of_bounds)} déplacements sortent de la zone de travail de {name} "
                    f"(ligne {walk.out_of_bounds[0]}).",
                    f"{len(walk.out_of_bounds)} moves leave {name}'s work area "
                    f"(line {walk.out_of_bounds[0]}).",
                ),
                Text(
                    "Ce G-code a été préparé pour une autre machine : refaites-le pour celle-ci.",
                    "This G-code was prepared for another machine: prepare it again for this one.",
                ),
                _lines(walk.out_of_bounds),
            )
        )
    if machine.kind == "printer" and walk.filament_mm > 0 and walk.max_hotend == 0:
        report.add(
            Finding(
                "GCODE_NO_HEATING",
                W,
                Text(
                    "Le fichier extrude sans jamais régler la température de la buse.",
                    "The file extrudes without ever setting the hotend temperature.",
                ),
            )
        )
    if machine.kind == "laser" and walk.laser_on and walk.laser_s > 0:
        report.add(
            Finding(
                "GCODE_LASER_LEFT_ON",
                E,
                Text(
                    "Le fichier se termine laser allumé : ajoutez M5 à la fin.",
                    "The file ends with the laser on: add M5 at the end.",
                ),
            )
        )
    if walk.settings_changes:
        report.add(
            Finding(
                "GCODE_CHANGES_SETTINGS",
                W,
                Text(
                    f"Le fichier modifie des réglages de la machine (ligne {walk.settings_changes[0]}).",
                    f"The file changes machine settings (line {walk.settings_changes[0]}).",
                ),
                location=_lines(walk.settings_changes),
            )
        )
    if walk.moves == 0:
        report.add(
            Finding("GCODE_NO_MOVES", E, Text("Aucun déplacement dans ce fichier.", "No moves in this file."))
        )
