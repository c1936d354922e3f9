"""`fablabctl journal add/list`: the journal de bord, dated notes by trainers per cohort."""

from __future__ import annotations

from typing import Annotated

import typer

from fablabctl.cli.common import backend, console, print_json, show_table
from fablabctl.cli.people_ref import local_day

group = typer.Typer(help="Journal de bord / logbook.", no_args_is_help=True)


@group.command("add")
def add(
    ctx: typer.Context,
    text: str,
    cohort: Annotated[int, typer.Option("--cohort", help="Cohort id")],
    day: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default: today)")] = None,
) -> None:
    """Add a note."""
    with backend(ctx) as api:
        row = api.call(
            "POST", f"/cohorts/{cohort}/journal", json={"text": text, "day": local_day(day, "--day")}
        )
    console.print(f"note #{row['id']} du {row['day']} ajoutée", highlight=False)


@group.command("list")
def list_(
    ctx: typer.Context,
    cohort: Annotated[int, typer.Option("--cohort", help="Cohort id")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """List the notes."""
    with backend(ctx) as api:
        rows = api.call("GET", f"/cohorts/{cohort}/journal")
    if as_json:
        print_json(rows)
        return
    show_table(
        "Journal de bord",
        ("id", "jour", "auteur", "note"),
        [(r["id"], r["day"], r["author_id"], r["text"]) for r in rows],
    )


def register(app: typer.Typer) -> None:
    app.add_typer(group, name="journal")
