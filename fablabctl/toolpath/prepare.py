"""One entry point from a design file to machine-ready G-code, whatever the file is.

STL -> PrusaSlicer; DXF -> our laser generator; G-code -> used as is. Every result is then checked
by the machine's G-code safety policy: nothing reaches a machine that the policy refuses.
"""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
from pathlib import Path

from fablabctl.file_limits import ValidationLimits
from fablabctl.files import written_aside
from fablabctl.specs import MachineSpec
from fablabctl.toolpath.result import ToolpathError, ToolpathResult
from fablabctl.validation.gcode import validate_gcode
from fablabctl.validation.sniff import detect_type, family


def prepare_design(
    path: Path,
    *,
    machine: MachineSpec,
    material: str,
    cache_dir: Path,
    quality: str = "normal",
    copies: int = 1,
    kerf_mm: float | None = None,
    slicer_timeout_s: float = 600.0,
    data_dir: Path | None = None,
    limits: ValidationLimits | None = None,
) -> ToolpathResult:
    """`kerf_mm` None (the default, what jobs use): the material's kerf on this machine with its
    press-fit allowance (`default_kerf`). A design that validation refuses is refused here too,
    with the same message: preparation never makes G-code from a file the report calls broken."""
    limits = limits or ValidationLimits()
    kind = family(detect_type(path))
    if kind in ("stl", "dxf"):
        _refuse_what_validation_refuses(path, machine, limits)
    if kind == "stl":
        if machine.kind != "printer":
            raise _wrong_machine("STL", machine)
        from fablabctl.toolpath.slicer import slice_stl

        result = slice_stl(
            path,
            machine=machine,
            material=material,
            cache_dir=cache_dir,
            quality=quality,
            copies=copies,
            timeout_s=slicer_timeout_s,
            profiles_dir=data_dir / "profiles" if data_dir else None,
        )
    elif kind == "dxf":
        if machine.kind != "laser":
            raise _wrong_machine("DXF", machine)
        from fablabctl.toolpath.laser import generate_laser_job

        materials_file = data_dir / "materials.toml" if data_dir else None
        if kerf_mm is None:
            kerf_mm = default_kerf(material, machine, materials_file)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:24]
        out = cache_dir / "laser" / f"{digest}-{machine.name}-{material}-{kerf_mm:g}.nc"
        out.parent.mkdir(parents=True, exist_ok=True)
        with written_aside(out) as partial:
            generated = generate_laser_job(
                path,
                machine=machine,
                material=material,
                out_path=partial,
                kerf_mm=kerf_mm,
                limits=limits,
                materials_file=materials_file,
            )
        result = dataclasses.replace(generated, gcode_path=out)
    elif kind == "gcode":
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:24]
        out = cache_dir / "gcode" / f"{digest}.gcode"
        out.parent.mkdir(parents=True, exist_ok=True)
        if not out.is_file():  # copies may be prepared at the same time
            with written_aside(out) as partial:
                shutil.copyfile(path, partial)
        result = ToolpathResult(out, 0.0, {"source": "uploaded G-code"}, {})
    else:
        raise ToolpathError(
            "NOT_A_DESIGN",
            "Ce fichier n'est ni un STL, ni un DXF, ni du G-code.",
            "This file is neither STL, DXF nor G-code.",
        )
    return _checked(result, machine, limits)


def default_kerf(material: str, machine: MachineSpec, materials_file: Path | None = None) -> float:
    """The kerf a laser job compensates when nobody says otherwise: the material's measured kerf on
    this machine (`kerf_by_machine`, else `kerf_mm`) plus its press-fit allowance."""
    from fablabctl.toolpath.materials import material as find_material

    return find_material(material, materials_file).kerf_for(machine)


def _refuse_what_validation_refuses(path: Path, machine: MachineSpec, limits: ValidationLimits) -> None:
    from fablabctl.validation.validate import validate_file

    report = validate_file(path, machines=[machine], limits=limits)
    if report.errors:
        first = report.errors[0]
        more_fr = f" (et {len(report.errors) - 1} autre(s) problème(s))" if len(report.errors) > 1 else ""
        more_en = f" (and {len(report.errors) - 1} more problem(s))" if len(report.errors) > 1 else ""
        raise ToolpathError(first.code, first.message.fr + more_fr, first.message.en + more_en)


def _checked(result: ToolpathResult, machine: MachineSpec, limits: ValidationLimits) -> ToolpathResult:
    report = validate_gcode(result.gcode_path, machine=machine, limits=limits)
    if not report.ok:
        first = report.errors[0]
        raise ToolpathError(
            "GCODE_REFUSED",
            f"G-code refusé par la politique de sécurité de {machine.name} : {first.message.fr}",
            f"G-code refused by {machine.name}'s safety policy: {first.message.en}",
        )
    estimates = dict(result.estimates)
    for key in ("duration_s", "filament_mm" if machine.kind == "printer" else "cut_length_mm"):
        estimates.setdefault(key, report.metrics.get(key, 0.0))
    return ToolpathResult(
        result.gcode_path, estimates.get("duration_s", 0.0), result.settings, estimates, result.cached
    )


def _wrong_machine(what: str, machine: MachineSpec) -> ToolpathError:
    return ToolpathError(
        "WRONG_MACHINE_KIND",
        f"Un fichier {what} ne va pas sur {machine.name} ({machine.kind}).",
        f"A {what} file does not go to {machine.name} (a {machine.kind}).",
    )
