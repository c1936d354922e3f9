"""`fablabctl prepare FILE -o OUT.gcode`: slice an STL or turn a DXF into laser G-code, with estimates."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer

from fablabctl.cli.common import console, die, machine_spec_or_die, say, t
from fablabctl.i18n import Text
from fablabctl.specs import DEFAULT_LASER, DEFAULT_PRINTER, MachineSpec
from fablabctl.toolpath.prepare import prepare_design
from fablabctl.toolpath.result import ToolpathError
from fablabctl.validation.sniff import detect_type, family


def _machine(name: str | None, file: Path) -> MachineSpec:
    if name is None:
        return DEFAULT_LASER if family(detect_type(file)) == "dxf" else DEFAULT_PRINTER
    return machine_spec_or_die(name)


def prepare(
    file: Annotated[Path, typer.Argument(help="STL or DXF design")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the G-code")],
    machine: Annotated[
        str | None, typer.Option(help="Machine name (default: built-in printer or laser)")
    ] = None,
    profile: Annotated[str, typer.Option(help="Print quality: draft, normal or fine")] = "normal",
    material: Annotated[
        str | None, typer.Option(help="PLA, PETG / plywood-poplar-3mm, acrylic-3mm...")
    ] = None,
    copies: Annotated[int, typer.Option(min=1, max=50, help="Copies on the plate (printers)")] = 1,
    kerf: Annotated[
        float | None,
        typer.Option(
            min=0, max=2, help="Laser kerf to compensate, mm (default: the material's, see materials.toml)"
        ),
    ] = None,
) -> None:
    """Turn a design into G-code for a machine and print the estimates."""
    if not file.is_file():
        raise die(Text("fichier introuvable : {name}", "file not found: {name}").format(name=file), code=2)
    spec = _machine(machine, file)
    chosen = material or ("PLA" if spec.kind == "printer" else "plywood-poplar-3mm")
    with tempfile.TemporaryDirectory() as cache:
        try:
            result = prepare_design(
                file,
                machine=spec,
                material=chosen,
                cache_dir=Path(cache),
                quality=profile,
                copies=copies,
                kerf_mm=kerf,
            )
        except ToolpathError as exc:
            raise die(Text(f"{exc.code} : {exc.message_fr}", f"{exc.code}: {exc.message_en}")) from None
        output.write_bytes(result.gcode_path.read_bytes())
    minutes = result.duration_s / 60
    say(
        Text(
            "{output} : {machine}, {material}, durée estimée {minutes:.1f} min",
            "{output}: {machine}, {material}, estimated time {minutes:.1f} min",
        ),
        output=output,
        machine=spec.name,
        material=chosen,
        minutes=minutes,
    )
    for key, value in sorted(result.estimates.items()):
        console.print(f"  {key}: {value}", highlight=False)
    if "kerf_mm" in result.settings:
        console.print(f"  kerf_mm: {result.settings['kerf_mm']:g}", highlight=False)
    for fix in result.settings.get("mesh_fixes", []):
        say(Text("  corrigé : {fix}", "  fixed: {fix}"), fix=fix)
    for warning in result.settings.get("warnings", []):
        say(
            Text("  attention {code} : {message}", "  warning {code}: {message}"),
            code=warning["code"],
            message=t(Text(warning["fr"], warning["en"])),
        )


def register(app: typer.Typer) -> None:
    app.command("prepare")(prepare)
