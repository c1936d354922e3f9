"""The one entry point: look at what the file really is, and run the checks for that kind of file.

STL is checked against printers, DXF against lasers, G-code against the kind of machine it was
written for (laser power commands vs extrusion). With no machine of the right kind known, the
built-in defaults are used (a 250x210x210 mm printer, a 400x300 mm laser).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fablabctl.file_limits import ValidationLimits
from fablabctl.i18n import Text
from fablabctl.specs import DEFAULT_LASER, DEFAULT_PRINTER, MachineSpec
from fablabctl.validation.gcode import validate_gcode
from fablabctl.validation.gcode_parse import BinaryContent, TooManyLines, read_commands
from fablabctl.validation.report import Finding, Report, Severity
from fablabctl.validation.sniff import detect_type, family

DESCRIPTIONS = {
    "png": Text("une image PNG", "a PNG image"),
    "jpeg": Text("une image JPEG", "a JPEG image"),
    "gif": Text("une image GIF", "a GIF image"),
    "pdf": Text("un document PDF", "a PDF document"),
    "zip": Text("une archive ZIP (ou un fichier 3MF/Office)", "a ZIP archive (or a 3MF/Office file)"),
    "gzip": Text("une archive compressée", "a compressed archive"),
    "7z": Text("une archive 7z", "a 7z archive"),
    "rar": Text("une archive RAR", "a RAR archive"),
    "unknown": Text("un format inconnu", "an unknown format"),
}


def machines_of_kind(machines: Sequence[MachineSpec], kind: str) -> list[MachineSpec]:
    chosen = [m for m in machines if m.kind == kind]
    return chosen or [DEFAULT_PRINTER if kind == "printer" else DEFAULT_LASER]


def gcode_kind(path: Path, limits: ValidationLimits) -> str:
    """A laser job switches a spindle/laser on (M3/M4); a print extrudes or heats."""
    try:
        for cmd in read_commands(path, max_lines=limits.max_gcode_lines):
            if cmd.code in ("M3", "M4"):
                return "laser"
            if cmd.code in ("M104", "M109", "M140", "M190") or "E" in cmd.params:
                return "printer"
    except (TooManyLines, BinaryContent):
        pass
    return "printer"


def validate_file(
    path: Path, *, machines: Sequence[MachineSpec] = (), limits: ValidationLimits | None = None
) -> Report:
    limits = limits or ValidationLimits()
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        report = Report(file_type="unknown")
        report.add(
            Finding(
                "FILE_TOO_LARGE",
                Severity.ERROR,
                Text(
                    f"Fichier trop gros ({size / 1e6:.1f} Mo, maximum {limits.max_file_bytes / 1e6:.0f} Mo).",
                    f"File too large ({size / 1e6:.1f} MB, maximum {limits.max_file_bytes / 1e6:.0f} MB).",
                ),
            )
        )
        return report
    detected = detect_type(path)
    kind = family(detected)
    if kind == "stl":
        from fablabctl.validation.stl import validate_stl

        return validate_stl(
            path,
            binary=detected == "stl_binary",
            machines=machines_of_kind(machines, "printer"),
            limits=limits,
        )
    if kind == "dxf":
        from fablabctl.validation.dxf import validate_dxf

        return validate_dxf(path, machines=machines_of_kind(machines, "laser"), limits=limits)
    if kind == "gcode":
        return _validate_gcode_for_kind(path, machines_of_kind(machines, gcode_kind(path, limits)), limits)
    report = Report(file_type=detected)
    if detected == "empty":
        report.add(
            Finding(
                "FILE_EMPTY",
                Severity.ERROR,
                Text("Le fichier est vide.", "The file is empty."),
                Text("Réexportez-le depuis votre logiciel.", "Export it again from your software."),
            )
        )
    else:
        what = DESCRIPTIONS.get(detected, DESCRIPTIONS["unknown"])
        report.add(
            Finding(
                "FILE_TYPE_UNSUPPORTED",
                Severity.ERROR,
                Text(
                    f"Ce fichier est {what.fr}, pas un STL, un DXF ou du G-code.",
                    f"This file is {what.en}, not an STL, a DXF or G-code.",
                ),
                Text(
                    "Exportez votre modèle en STL (impression 3D) ou en DXF (découpe laser).",
                    "Export your model as STL (3D printing) or DXF (laser cutting).",
                ),
                {"detected": detected},
            )
        )
    return report


def _validate_gcode_for_kind(path: Path, machines: list[MachineSpec], limits: ValidationLimits) -> Report:
    """Check against each machine; keep the report of the best one and list those where it is safe."""
    reports = [(m, validate_gcode(path, machine=m, limits=limits)) for m in machines]
    best = min(reports, key=lambda mr: len(mr[1].errors))[1]
    best.fits = [m.name for m, r in reports if r.ok]
    return best


# findings that mean the file could not be read at all (the CLI exits 2 on them)
UNREADABLE = frozenset(
    {
        "FILE_EMPTY",
        "FILE_TOO_LARGE",
        "FILE_TYPE_UNSUPPORTED",
        "STL_TRUNCATED",
        "STL_PARSE_ERROR",
        "STL_TOO_MANY_TRIANGLES",
        "DXF_UNREADABLE",
        "DXF_TOO_MANY_ENTITIES",
        "GCODE_BINARY",
        "GCODE_TOO_LONG",
    }
)


def unreadable(report: Report) -> bool:
    return bool(report.codes & UNREADABLE)
