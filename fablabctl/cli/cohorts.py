"""`fablabctl cohort add/list/enrol`: TIG sessions and who serves their hours in them."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from fablabctl.cli.common import backend, console, die, show_table

group = typer.Typer(help="Sessions TIG (cohortes) / TIG sessions.", no_args_is_help=True)


def _day(value: str, option: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise die(f"{option} : date attendue au format AAAA-MM-JJ, reçu « {value} »", code=2) from None


@group.command("add")
def add(
    ctx: typer.Context,
    name: str,
    start: Annotated[str, typer.Option(help="First day, YYYY-MM-DD")],
    end: Annotated[str, typer.Option(help="Last day, YYYY-MM-DD")],
    project: Annotated[str | None, typer.Option(help="Catalogue project id, e.g. ruche-pedagogique")] = None,
    trainer: Annotated[list[int] | None, typer.Option(help="Trainer account id (repeat)")] = None,
) -> None:
    """Create a cohort."""
    body = {
        "name": name,
        "starts_on": _day(start, "--start"),
        "ends_on": _day(end, "--end"),
        "project": project,
        "trainer_ids": trainer or [],
    }
    with backend(ctx) as api:
        cohort = api.call("POST", "/cohorts", json=body)
    console.print(
        f"cohorte #{cohort['id']} « {cohort['name']} » créée ({cohort['starts_on']} → {cohort['ends_on']})"
    )


@group.command("list")
def list_(ctx: typer.Context) -> None:
    """List the cohorts you may see."""
    with backend(ctx) as api:
        cohorts = api.call("GET", "/cohorts")
    show_table(
        "Cohortes",
        ("id", "nom", "site", "début", "fin", "projet", "formateurs"),
        [
            (
                c["id"],
                c["name"],
                c["site"],
                c["starts_on"],
                c["ends_on"],
                c["project"],
                ", ".join(map(str, c["trainer_ids"])),
            )
            for c in cohorts
        ],
    )


@group.command("enrol")
def enrol(
    ctx: typer.Context,
    cohort_id: int,
    user_id: int,
    hours: Annotated[float, typer.Option(help="Hours set by the court")],
    referent: Annotated[str, typer.Option(help="SPIP referent contact")] = "",
) -> None:
    """Enrol a tigiste in a cohort with the hours they owe."""
    body = {"cohort_id": cohort_id, "user_id": user_id, "hours_due": hours, "referent_contact": referent}
    with backend(ctx) as api:
        row = api.call("POST", "/enrolments", json=body)
    console.print(
        f"inscription #{row['id']} : compte #{user_id} dans la cohorte #{cohort_id}, {hours:g} h dues"
    )


@group.command("start-project")
def start_project(
    ctx: typer.Context,
    cohort_id: int,
    project: Annotated[str | None, typer.Option(help="Catalogue project id (default: the cohort's)")] = None,
) -> None:
    """Turn the project's parts into jobs, shared among the cohort's tigistes."""
    with backend(ctx) as api:
        jobs = api.call("POST", f"/cohorts/{cohort_id}/start-project", json={"project": project})
    show_table(
        "Travaux créés",
        ("id", "pièce", "type", "matériau", "tigiste"),
        [(j["id"], j["settings"].get("part_fr"), j["kind"], j["material"], j["owner_id"]) for j in jobs],
    )


def register(app: typer.Typer) -> None:
    app.add_typer(group, name="cohort")
    app.add_typer(group, name="cohorts", hidden=True)
