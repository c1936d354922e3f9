"""`fablabctl hours`, `absences`, `absence excuse/unexcused`, `notices`, `timetable set/show`."""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Annotated, Any

import typer

from fablabctl.cli.common import backend, console, die, err_console, print_json, show_table

CohortOpt = Annotated[int, typer.Option("--cohort", help="Cohort id")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON")]
absence_group = typer.Typer(help="Décider d'une absence / decide an absence.", no_args_is_help=True)
timetable_group = typer.Typer(
    help="Emploi du temps d'une cohorte / a cohort's timetable.", no_args_is_help=True
)


def _h(hours: float) -> str:
    minutes = round(hours * 60)
    return f"{minutes // 60} h {minutes % 60:02d}"


def hours(ctx: typer.Context, cohort: CohortOpt, as_json: JsonOpt = False) -> None:
    """Hours done and due per tigiste, progress, expected end, and what to check."""
    with backend(ctx) as api:
        rows = api.call("GET", f"/cohorts/{cohort}/hours")
    if as_json:
        print_json(rows)
        return
    show_table(
        "Heures",
        ("personne", "faites", "dues", "reste", "%", "fin prévue", "échéance", "abs. non exc.", "alertes"),
        [
            (
                r["display_name"],
                _h(r["hours_done"]),
                _h(r["hours_due"]),
                _h(r["hours_remaining"]),
                f"{r['percent']:g}",
                r["expected_end"],
                r["deadline"],
                r["absences_unexcused"],
                len(r["warnings"]),
            )
            for r in rows
        ],
    )
    for r in rows:
        for w in r["warnings"]:
            err_console.print(f"[yellow]{r['display_name']}[/] : {w['message']}", highlight=False)


def absences(ctx: typer.Context, cohort: CohortOpt, as_json: JsonOpt = False) -> None:
    """Absences from the timetable (not checked in after the grace time), excused or not."""
    with backend(ctx) as api:
        rows = api.call("GET", f"/cohorts/{cohort}/absences")
    if as_json:
        print_json(rows)
        return
    state = {None: "à décider", True: "excusée", False: "non excusée"}
    show_table(
        "Absences",
        ("id", "jour", "créneau", "personne", "statut", "motif"),
        [
            (
                a["id"],
                a["day"],
                f"{a['starts_at'][:5]}–{a['ends_at'][:5]}",
                a["display_name"],
                state[a["excused"]],
                a["reason"],
            )
            for a in rows
        ],
    )


def _decide(ctx: typer.Context, absence_id: int, excused: bool, reason: str) -> None:
    with backend(ctx) as api:
        row = api.call("PATCH", f"/absences/{absence_id}", json={"excused": excused, "reason": reason})
    what = "excusée" if excused else "non excusée (avis au référent)"
    console.print(f"absence #{row['id']} de {row['display_name']} le {row['day']} : {what}", highlight=False)


@absence_group.command("excuse")
def excuse(ctx: typer.Context, absence_id: int, reason: Annotated[str, typer.Option()] = "") -> None:
    """Mark an absence excused."""
    _decide(ctx, absence_id, True, reason)


@absence_group.command("unexcused")
def unexcused(ctx: typer.Context, absence_id: int, reason: Annotated[str, typer.Option()] = "") -> None:
    """Mark an absence not excused: a notice for the referent (e-mailed when SMTP is set)."""
    _decide(ctx, absence_id, False, reason)


def notices(
    ctx: typer.Context,
    cohort: CohortOpt,
    send: Annotated[bool, typer.Option(help="E-mail the notices not sent yet")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Notices for the referent (unexcused absences)."""
    with backend(ctx) as api:
        rows = api.call("POST" if send else "GET", f"/cohorts/{cohort}/notices" + ("/send" if send else ""))
    if as_json:
        print_json(rows)
        return
    show_table(
        "Avis au référent",
        ("id", "jour", "personne", "référent", "envoyé", "erreur"),
        [
            (n["id"], n["day"], n["display_name"], n["referent_contact"], n["emailed_at"], n["email_error"])
            for n in rows
        ],
    )


def _range(value: str) -> tuple[time, time]:
    try:
        start, end = value.split("-")
        return time.fromisoformat(start), time.fromisoformat(end)
    except ValueError:
        raise die(f"--hours : attendu HH:MM-HH:MM, reçu « {value} »", code=2) from None


def _phases(values: list[str]) -> list[tuple[date, date, str]]:
    out = []
    for value in values:
        try:
            days, phase = value.split("=")
            first, _, last = days.partition("..")
            out.append((date.fromisoformat(first), date.fromisoformat(last or first), phase))
        except ValueError:
            raise die(f"--phase : attendu AAAA-MM-JJ[..AAAA-MM-JJ]=phase, reçu « {value} »", code=2) from None
    return out


@timetable_group.command("set")
def set_timetable(
    ctx: typer.Context,
    cohort: CohortOpt,
    hours_: Annotated[list[str], typer.Option("--hours", help="HH:MM-HH:MM, repeat (e.g. 09:00-12:30)")],
    weekdays: Annotated[str, typer.Option(help="Days of the week, 1 = Monday")] = "12345",
    phase: Annotated[
        list[str] | None, typer.Option(help="DATE[..DATE]=information|formation|fabrication (repeat)")
    ] = None,
    skip: Annotated[
        list[str] | None, typer.Option(help="A day without sessions, YYYY-MM-DD (repeat)")
    ] = None,
) -> None:
    """Set the timetable: these hours on these weekdays, over the cohort's dates."""
    ranges = [_range(v) for v in hours_]
    phases = _phases(phase or [])
    skipped = {date.fromisoformat(d) for d in skip or []}
    with backend(ctx) as api:
        info = api.call("GET", f"/cohorts/{cohort}")
        day, last = date.fromisoformat(info["starts_on"]), date.fromisoformat(info["ends_on"])
        slots: list[dict[str, Any]] = []
        while day <= last:
            if str(day.isoweekday()) in weekdays and day not in skipped:
                name = next((p for a, b, p in phases if a <= day <= b), "formation")
                slots += [
                    {
                        "day": day.isoformat(),
                        "starts_at": s.isoformat(),
                        "ends_at": e.isoformat(),
                        "phase": name,
                    }
                    for s, e in ranges
                ]
            day += timedelta(days=1)
        rows = api.call("PUT", f"/cohorts/{cohort}/timetable", json={"slots": slots})
    console.print(f"emploi du temps : {len(rows)} créneaux", highlight=False)


@timetable_group.command("show")
def show_timetable(ctx: typer.Context, cohort: CohortOpt, as_json: JsonOpt = False) -> None:
    """Show the timetable."""
    with backend(ctx) as api:
        rows = api.call("GET", f"/cohorts/{cohort}/timetable")
    if as_json:
        print_json(rows)
        return
    show_table(
        "Emploi du temps",
        ("jour", "début", "fin", "phase"),
        [(r["day"], r["starts_at"][:5], r["ends_at"][:5], r["phase"]) for r in rows],
    )


def register(app: typer.Typer) -> None:
    app.command("hours")(hours)
    app.command("absences")(absences)
    app.command("notices")(notices)
    app.add_typer(absence_group, name="absence")
    app.add_typer(timetable_group, name="timetable")
