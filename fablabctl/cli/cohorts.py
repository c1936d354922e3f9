"""`fablabctl cohort add/list/enrol`: TIG sessions and who serves their hours in them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fablabctl.cli.common import backend, current_lang, die, print_json, say, show_table
from fablabctl.cli.people_ref import display_names, local_day, name_of, person_id
from fablabctl.i18n import Text

group = typer.Typer(help="Sessions TIG (cohortes) / TIG sessions.", no_args_is_help=True)


def _day(value: str, option: str) -> str:
    day = local_day(value, option)
    assert day is not None
    return day


@group.command("add")
def add(
    ctx: typer.Context,
    name: str,
    start: Annotated[str, typer.Option(help="First day, YYYY-MM-DD")],
    end: Annotated[str, typer.Option(help="Last day, YYYY-MM-DD")],
    project: Annotated[str | None, typer.Option(help="Catalogue project id, e.g. ruche-pedagogique")] = None,
    trainer: Annotated[list[str] | None, typer.Option(help="Trainer: username or id (repeat)")] = None,
) -> None:
    """Create a cohort."""
    with backend(ctx) as api:
        body = {
            "name": name,
            "starts_on": _day(start, "--start"),
            "ends_on": _day(end, "--end"),
            "project": project,
            "trainer_ids": [person_id(api, t) for t in trainer or []],
        }
        cohort = api.call("POST", "/cohorts", json=body)
    say(
        Text(
            "cohorte #{id} « {name} » créée ({starts_on} → {ends_on})",
            "cohort #{id} “{name}” created ({starts_on} → {ends_on})",
        ),
        **{k: cohort[k] for k in ("id", "name", "starts_on", "ends_on")},
    )


@group.command("list")
def list_(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False
) -> None:
    """List the cohorts you may see."""
    with backend(ctx) as api:
        cohorts = api.call("GET", "/cohorts")
        if as_json:
            print_json(cohorts)
            return
        people = display_names(api) if cohorts else {}
    show_table(
        Text("Cohortes", "Cohorts"),
        (
            "id",
            Text("nom", "name"),
            "site",
            Text("début", "start"),
            Text("fin", "end"),
            Text("projet", "project"),
            Text("formateurs", "trainers"),
        ),
        [
            (
                c["id"],
                c["name"],
                c["site"],
                c["starts_on"],
                c["ends_on"],
                c["project"],
                ", ".join(name_of(people, i) for i in c["trainer_ids"]),
            )
            for c in cohorts
        ],
    )


@group.command("enrol")
def enrol(
    ctx: typer.Context,
    cohort_id: int,
    user: Annotated[str, typer.Argument(help="Tigiste: username or id")],
    hours: Annotated[float, typer.Option(help="Hours set by the court")],
    referent: Annotated[
        str, typer.Option(help="SPIP referent contact (an e-mail address gets the notices)")
    ] = "",
    measure: Annotated[str | None, typer.Option(help="TIG, TNR or autre")] = None,
    deadline: Annotated[str | None, typer.Option(help="Legal deadline of the measure, YYYY-MM-DD")] = None,
) -> None:
    """Enrol a tigiste in a cohort with the hours they owe."""
    with backend(ctx) as api:
        user_id = person_id(api, user)
        body = {"cohort_id": cohort_id, "user_id": user_id, "hours_due": hours, "referent_contact": referent}
        row = api.call("POST", "/enrolments", json=body)
        if measure or deadline:
            terms = {"measure": measure, "deadline": _day(deadline, "--deadline") if deadline else None}
            api.call("PUT", f"/enrolments/{row['id']}/terms", json={k: v for k, v in terms.items() if v})
    say(
        Text(
            "inscription #{id} : compte #{user} dans la cohorte #{cohort}, {hours:g} h dues",
            "enrolment #{id}: account #{user} in cohort #{cohort}, {hours:g} h due",
        ),
        id=row["id"],
        user=user_id,
        cohort=cohort_id,
        hours=hours,
    )


@group.command("enrolments")
def enrolments(
    ctx: typer.Context,
    cohort_id: int,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """List a cohort's enrolments."""
    with backend(ctx) as api:
        rows = api.call("GET", "/enrolments", params={"cohort_id": cohort_id})
        if as_json:
            print_json(rows)
            return
        people = display_names(api) if rows else {}
    show_table(
        Text("Inscriptions", "Enrolments"),
        ("id", "tigiste", Text("heures dues", "hours due"), Text("référent", "referent")),
        [(r["id"], name_of(people, r["user_id"]), r["hours_due"], r["referent_contact"]) for r in rows],
    )


@group.command("signed")
def signed(
    ctx: typer.Context,
    cohort_id: int,
    user: Annotated[str, typer.Argument(help="Tigiste: username or id")],
    on: Annotated[str, typer.Option("--on", help="Signature date of the contrat d'engagement, YYYY-MM-DD")],
) -> None:
    """Record the date the contrat d'engagement was signed."""
    with backend(ctx) as api:
        user_id = person_id(api, user)
        rows = api.call("GET", "/enrolments", params={"cohort_id": cohort_id})
        row = next((r for r in rows if r["user_id"] == user_id), None)
        if row is None:
            raise die(
                Text(
                    "{user} n'est pas inscrit(e) dans la cohorte {cohort}",
                    "{user} is not enrolled in cohort {cohort}",
                ).format(user=user, cohort=cohort_id),
                code=2,
            )
        api.call("PUT", f"/enrolments/{row['id']}/terms", json={"contract_signed_on": _day(on, "--on")})
    say(Text("contrat signé le {on} enregistré", "contract signed on {on} recorded"), on=on)


@group.command("export")
def export(
    ctx: typer.Context,
    cohort_id: int,
    output: Annotated[Path, typer.Option("-o", "--output", help="ZIP file to write")],
) -> None:
    """Every document and table of the cohort in one ZIP."""
    with backend(ctx) as api:
        content = api.call("GET", f"/cohorts/{cohort_id}/export")
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


@group.command("purge")
def purge(
    ctx: typer.Context,
    cohort_id: int,
    now: Annotated[bool, typer.Option("--now", help="Before the retention period ends (admin)")] = False,
    reason: Annotated[str | None, typer.Option(help="Why purge early (required with --now)")] = None,
) -> None:
    """Erase every personal value of the cohort's tigistes (hours and jobs stay, anonymous)."""
    with backend(ctx) as api:
        report = api.call("POST", f"/cohorts/{cohort_id}/purge", json={"now": now, "reason": reason})
    say(
        Text(
            "cohorte #{id} purgée : {people} personne(s) anonymisée(s), {files} fichier(s) effacé(s)",
            "cohort #{id} purged: {people} person(s) anonymised, {files} file(s) erased",
        ),
        id=cohort_id,
        people=len(report["purged_user_ids"]),
        files=report["files_deleted"],
    )
    if report["kept_user_ids"]:
        say(
            Text(
                "gardées (inscrites dans une cohorte plus récente) : {ids}",
                "kept (enrolled in a more recent cohort): {ids}",
            ),
            ids=report["kept_user_ids"],
        )


@group.command("start-project")
def start_project(
    ctx: typer.Context,
    cohort_id: int,
    project: Annotated[str | None, typer.Option(help="Catalogue project id (default: the cohort's)")] = None,
    again: Annotated[
        bool, typer.Option("--again", help="Already started: make one more set of parts anyway")
    ] = False,
) -> None:
    """Turn the project's parts into jobs, shared among the cohort's tigistes (once; --again for more)."""
    with backend(ctx) as api:
        jobs = api.call(
            "POST", f"/cohorts/{cohort_id}/start-project", json={"project": project, "again": again}
        )
        people = display_names(api) if jobs else {}
    part = "part_en" if current_lang() == "en" else "part_fr"
    show_table(
        Text("Travaux créés", "Jobs created"),
        ("id", Text("pièce", "part"), Text("type", "kind"), Text("matériau", "material"), "tigiste"),
        [
            (
                j["id"],
                j["settings"].get(part) or j["settings"].get("part_fr"),
                j["kind"],
                j["material"],
                name_of(people, j["owner_id"]),
            )
            for j in jobs
        ],
    )


def register(app: typer.Typer) -> None:
    app.add_typer(group, name="cohort")
    app.add_typer(group, name="cohorts", hidden=True)
