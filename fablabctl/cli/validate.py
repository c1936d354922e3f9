"""`fablabctl validate FILE`: the same verdict a tigiste gets on upload, in the terminal.

Exit status: 0 no error (warnings allowed), 1 errors, 2 the file cannot be read at all.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console

from fablabctl.cli.common import die, machine_spec_or_die
from fablabctl.i18n import Lang
from fablabctl.specs import DEFAULT_LASER, DEFAULT_PRINTER, MachineSpec, parse_bed
from fablabctl.validation.report import Report, Severity
from fablabctl.validation.validate import unreadable, validate_file

console = Console()
COLOURS = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "blue"}
LABELS = {
    "fr": {"error": "ERREUR", "warning": "attention", "info": "info"},
    "en": {"error": "ERROR", "warning": "warning", "info": "info"},
}


def machines_for(machine: str | None, bed: str | None, file: Path) -> list[MachineSpec]:
    if machine and bed:
        raise die("--machine et --bed s'excluent / --machine and --bed are exclusive", code=2)
    if bed:
        try:
            x, y, z = parse_bed(bed)
        except ValueError as exc:
            raise die(f"--bed : {exc}", code=2) from None
        # the kind follows the file: a 2-number bed or a .dxf means a laser
        base = DEFAULT_LASER if (z == 0 or file.suffix.lower() == ".dxf") else DEFAULT_PRINTER
        return [
            MachineSpec(
                name=f"bed {bed}",
                kind=base.kind,
                driver=base.driver,
                bed_x_mm=x,
                bed_y_mm=y,
                bed_z_mm=z,
                materials=base.materials,
            )
        ]
    if machine:
        return [machine_spec_or_die(machine)]
    return []


def print_report(report: Report, lang: Lang, name: str) -> None:
    data = report.to_dict(lang)
    verdict = {"fr": ("OK", "À CORRIGER"), "en": ("OK", "TO FIX")}[lang][0 if report.ok else 1]
    console.print(f"[bold]{name}[/] ({data['file_type']}) : [{'green' if report.ok else 'red'}]{verdict}[/]")
    for finding, raw in zip(data["findings"], report.findings, strict=True):
        colour = COLOURS[raw.severity]
        console.print(
            f"  [{colour}]{LABELS[lang][finding['severity']]:>9}[/] {finding['code']}: {finding['message']}",
            highlight=False,
        )
        if finding["hint"]:
            console.print(f"            → {finding['hint']}", highlight=False)
        if finding["location"]:
            console.print(
                f"            {json.dumps(finding['location'], ensure_ascii=False)[:160]}", highlight=False
            )
    for key, value in data["metrics"].items():
        console.print(f"  {key}: {value}", highlight=False)
    if data["fits"] is not None:
        console.print(f"  fits: {', '.join(data['fits']) or '-'}", highlight=False)


def validate(
    file: Annotated[Path, typer.Argument(help="STL, DXF or G-code file")],
    machine: Annotated[
        str | None, typer.Option(help="Check against this machine (from the database)")
    ] = None,
    bed: Annotated[
        str | None, typer.Option(help="Check against a bed size, e.g. 250x210x210 or 400x300")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
    lang: Annotated[Literal["fr", "en"], typer.Option(help="Language of the messages")] = "fr",
) -> None:
    """Check a design file and explain what is wrong, where, and how to fix it."""
    if not file.is_file():
        raise die(f"fichier introuvable / file not found: {file}", code=2)
    machines = machines_for(machine, bed, file)
    big = file.stat().st_size > 5_000_000
    with (
        console.status(f"vérification de {file.name}…", spinner="dots")
        if big and not as_json
        else contextlib.nullcontext()
    ):
        report = validate_file(file, machines=machines)
    if as_json:
        typer.echo(json.dumps(report.to_dict(lang), ensure_ascii=False, indent=2))
    else:
        print_report(report, lang, file.name)
    raise typer.Exit(2 if unreadable(report) else (0 if report.ok else 1))


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
