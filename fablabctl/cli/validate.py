"""`fablabctl validate FILE`: the same verdict a tigiste gets on upload, in the terminal.

Exit status: 0 no error (warnings allowed), 1 errors, 2 the file cannot be read at all.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.console import Console
from rich.markup import escape

from fablabctl.cli.common import current_lang, die, machine_spec_or_die
from fablabctl.config import SettingsError, load_settings
from fablabctl.file_limits import limits_from
from fablabctl.i18n import Lang, Text
from fablabctl.specs import DEFAULT_LASER, DEFAULT_PRINTER, MachineSpec, parse_bed
from fablabctl.validation.report import Report, Severity
from fablabctl.validation.validate import unreadable, validate_file

console = Console()
COLOURS = {Severity.ERROR.value: "red", Severity.WARNING.value: "yellow", Severity.INFO.value: "blue"}
LABELS = {
    "fr": {"error": "ERREUR", "warning": "attention", "info": "info"},
    "en": {"error": "ERROR", "warning": "warning", "info": "info"},
}


def machines_for(machine: str | None, bed: str | None, file: Path) -> list[MachineSpec]:
    if machine and bed:
        raise die(Text("--machine et --bed s'excluent", "--machine and --bed are exclusive"), code=2)
    if bed:
        try:
            x, y, z = parse_bed(bed)
        except ValueError as exc:
            raise die(Text("--bed : {error}", "--bed: {error}").format(error=exc), code=2) from None
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


def print_findings(findings: list[dict[str, Any]], lang: Lang) -> None:
    """Each finding as the API gives it: severity, code and message, then the hint and the location."""
    for finding in findings:
        severity = finding["severity"]
        colour = COLOURS.get(severity, "blue")
        label = LABELS[lang].get(severity, severity)
        console.print(
            f"  [{colour}]{label:>9}[/] {escape(finding['code'])}: {escape(finding['message'])}",
            highlight=False,
        )
        if finding.get("hint"):
            console.print(f"            → {escape(finding['hint'])}", highlight=False)
        if finding.get("location"):
            where = json.dumps(finding["location"], ensure_ascii=False)[:160]
            console.print(f"            {escape(where)}", highlight=False)


def print_report(report: Report, lang: Lang, name: str) -> None:
    data = report.to_dict(lang)
    verdict = {"fr": ("OK", "À CORRIGER"), "en": ("OK", "TO FIX")}[lang][0 if report.ok else 1]
    console.print(
        f"[bold]{escape(name)}[/] ({data['file_type']}) : [{'green' if report.ok else 'red'}]{verdict}[/]"
    )
    print_findings(data["findings"], lang)
    for key, value in data["metrics"].items():
        console.print(f"  {key}: {value}", highlight=False)
    if data["fits"] is not None:
        label = Text("tient sur", "fits").in_(lang)
        console.print(f"  {label}: {', '.join(data['fits']) or '-'}", highlight=False)


def validate(
    file: Annotated[Path, typer.Argument(help="STL, DXF or G-code file")],
    machine: Annotated[
        str | None, typer.Option(help="Check against this machine (from the database)")
    ] = None,
    bed: Annotated[
        str | None, typer.Option(help="Check against a bed size, e.g. 250x210x210 or 400x300")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
    lang: Annotated[
        Literal["fr", "en"] | None, typer.Option(help="Language of the messages (default: --lang)")
    ] = None,
) -> None:
    """Check a design file and explain what is wrong, where, and how to fix it."""
    lang = lang or current_lang()
    if not file.is_file():
        raise die(Text("fichier introuvable : {name}", "file not found: {name}").format(name=file), code=2)
    machines = machines_for(machine, bed, file)
    try:
        limits = limits_from(load_settings())  # the same limits as an upload (FABLAB_MAX_UPLOAD_MB...)
    except SettingsError as exc:
        raise die(str(exc), code=2) from None
    big = file.stat().st_size > 5_000_000
    with (
        console.status(
            Text("vérification de {name}…", "checking {name}…").format(name=escape(file.name)).in_(lang),
            spinner="dots",
        )
        if big and not as_json
        else contextlib.nullcontext()
    ):
        report = validate_file(file, machines=machines, limits=limits)
    if as_json:
        typer.echo(json.dumps(report.to_dict(lang), ensure_ascii=False, indent=2))
    else:
        print_report(report, lang, file.name)
    raise typer.Exit(2 if unreadable(report) else (0 if report.ok else 1))


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
