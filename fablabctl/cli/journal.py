"""`fablabctl journal add/list`: the journal de bord, dated notes by trainers per cohort."""

from __future__ import annotations

from typing import Annotated

import typer

from fablabctl.cli.common import backend, print_json, say, show_table
from fablabctl.cli.people_ref import display_names, local_day, name_of
from fablabctl.i18n import Text

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
    say(Text("note #{id} du {day} ajoutée", "note #{id} of {day} added"), id=row["id"], day=row["day"])


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
        people = display_names(api) if rows else {}
    show_table(
        Text("Journal de bord", "Logbook"),
        ("id", Text("jour", "day"), Text("auteur", "author"), "note"),
        [(r["id"], r["day"], name_of(people, r["author_id"]), r["text"]) for r in rows],
    )


def register(app: typer.Typer) -> None:
    app.add_typer(group, name="journal")
