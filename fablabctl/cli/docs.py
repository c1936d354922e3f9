"""`fablabctl docs attestation/presence/contrat/bilan/restitution/notices`: print-ready documents."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from fablabctl.cli.backend import Backend
from fablabctl.cli.common import backend, die, say
from fablabctl.cli.people_ref import local_day, person_id
from fablabctl.i18n import Text

group = typer.Typer(help="Documents (PDF, CSV).", no_args_is_help=True)
CohortOpt = Annotated[int, typer.Option("--cohort", help="Cohort id")]
OutOpt = Annotated[Path, typer.Option("-o", "--output", help="File to write (.pdf, or .csv for tables)")]
UserOpt = Annotated[str, typer.Option("--tigiste", help="Username or id")]


def _format(output: Path, csv_ok: bool) -> str:
    suffix = output.suffix.lower()
    if suffix == ".csv" and csv_ok:
        return "csv"
    if suffix != ".pdf":
        wanted = Text(".pdf ou .csv", ".pdf or .csv") if csv_ok else Text(".pdf", ".pdf")
        raise die(
            Text(
                f"-o : extension {wanted.fr} attendue, reçu « {output.name} »",
                f"-o: a {wanted.en} extension expected, got “{output.name}”",
            ),
            code=2,
        )
    return "pdf"


def _fetch(api: Backend, cohort: int, kind: str, output: Path, params: dict[str, Any]) -> None:
    content = api.call("GET", f"/cohorts/{cohort}/documents/{kind}", params=params)
    if not isinstance(content, bytes):
        raise die(Text("réponse inattendue du service", "unexpected answer from the service"))
    try:
        output.write_bytes(content)
    except OSError as exc:
        raise die(
            Text("écriture impossible : {name} ({error})", "cannot write {name} ({error})").format(
                name=output.name, error=exc.strerror
            ),
            code=2,
        ) from None
    say(Text("{path} écrit ({kb} Ko)", "{path} written ({kb} KB)"), path=output, kb=len(content) // 1024 + 1)


@group.command("attestation")
def attestation(ctx: typer.Context, cohort: CohortOpt, tigiste: UserOpt, output: OutOpt) -> None:
    """Attestation de réussite (hours done) or of the hours done so far."""
    fmt = _format(output, csv_ok=False)
    with backend(ctx) as api:
        _fetch(api, cohort, "attestation", output, {"user_id": person_id(api, tigiste), "format": fmt})


@group.command("contrat")
def contrat(ctx: typer.Context, cohort: CohortOpt, tigiste: UserOpt, output: OutOpt) -> None:
    """Contrat d'engagement, to print and sign."""
    fmt = _format(output, csv_ok=False)
    with backend(ctx) as api:
        _fetch(api, cohort, "contrat", output, {"user_id": person_id(api, tigiste), "format": fmt})


@group.command("presence")
def presence(
    ctx: typer.Context,
    cohort: CohortOpt,
    output: OutOpt,
    tigiste: Annotated[
        str | None, typer.Option("--tigiste", help="Username or id (default: everyone)")
    ] = None,
    first: Annotated[str | None, typer.Option("--from", help="YYYY-MM-DD")] = None,
    last: Annotated[str | None, typer.Option("--to", help="YYYY-MM-DD")] = None,
) -> None:
    """Feuille de présence: one row a day, with signature boxes (PDF) or as a table (CSV)."""
    params: dict[str, Any] = {"format": _format(output, csv_ok=True)}
    if first:
        params["from"] = local_day(first, "--from")
    if last:
        params["to"] = local_day(last, "--to")
    with backend(ctx) as api:
        if tigiste:
            params["user_id"] = person_id(api, tigiste)
        _fetch(api, cohort, "presence", output, params)


@group.command("bilan")
def bilan(ctx: typer.Context, cohort: CohortOpt, output: OutOpt) -> None:
    """Bilan de session, for the referents and the funders (PDF, or CSV of the hours table)."""
    fmt = _format(output, csv_ok=True)
    with backend(ctx) as api:
        _fetch(api, cohort, "bilan", output, {"format": fmt})


@group.command("restitution")
def restitution(ctx: typer.Context, cohort: CohortOpt, output: OutOpt) -> None:
    """Fiche de restitution: one page for the closing event."""
    fmt = _format(output, csv_ok=False)
    with backend(ctx) as api:
        _fetch(api, cohort, "restitution", output, {"format": fmt})


@group.command("notices")
def notices(ctx: typer.Context, cohort: CohortOpt, output: OutOpt) -> None:
    """Unexcused absences to report to the referents (PDF or CSV)."""
    fmt = _format(output, csv_ok=True)
    with backend(ctx) as api:
        _fetch(api, cohort, "notices", output, {"format": fmt})


def register(app: typer.Typer) -> None:
    app.add_typer(group, name="docs")
