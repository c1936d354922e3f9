"""`fablabctl hours`, `absences`, `absence excuse/unexcused`, `notices`, `timetable set/show`."""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Annotated, Any

import typer

from fablabctl.cli.common import backend, die, err_console, print_json, say, show_table, t
from fablabctl.cli.people_ref import local_day
from fablabctl.i18n import Text

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
        Text("Heures", "Hours"),
        (
            Text("personne", "person"),
            Text("faites", "done"),
            Text("dues", "due"),
            Text("reste", "left"),
            "%",
            Text("fin prévue", "expected end"),
            Text("échéance", "deadline"),
            Text("abs. non exc.", "unexc. abs."),
            Text("alertes", "warnings"),
        ),
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
            line = Text("{name} : {message}", "{name}: {message}")
            err_console.print(
                t(line, name=r["display_name"], message=w["message"]), style="yellow", markup=False
            )
    for r in rows:  # hours recorded in a mobile Fab Lab (fablabctl sync), and when they arrived
        for v in r.get("from_vans", []):
            first, last = v["first_arrival"][:16].replace("T", " "), v["last_arrival"][:16].replace("T", " ")
            overlaps = Text(", {k} chevauchement(s) à trancher", ", {k} overlap(s) to resolve")
            say(
                Text(
                    "{name} : {hours} du camion « {site} » ({n} pointages, arrivés le {arrived}){c}",
                    "{name}: {hours} from van '{site}' ({n} entries, arrived {arrived}){c}",
                ),
                name=r["display_name"],
                hours=_h(v["hours"]),
                site=v["site"],
                n=v["entries"],
                arrived=first if first == last else f"{first} → {last}",
                c=t(overlaps, k=v["conflicts"]) if v["conflicts"] else "",
            )


def absences(ctx: typer.Context, cohort: CohortOpt, as_json: JsonOpt = False) -> None:
    """Absences from the timetable (not checked in after the grace time), excused or not."""
    with backend(ctx) as api:
        rows = api.call("GET", f"/cohorts/{cohort}/absences")
    if as_json:
        print_json(rows)
        return
    state = {
        None: t(Text("à décider", "to decide")),
        True: t(Text("excusée", "excused")),
        False: t(Text("non excusée", "unexcused")),
    }
    show_table(
        Text("Absences", "Absences"),
        (
            "id",
            Text("jour", "day"),
            Text("créneau", "slot"),
            Text("personne", "person"),
            Text("statut", "status"),
            Text("motif", "reason"),
        ),
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
    what = (
        Text("excusée", "excused")
        if excused
        else Text("non excusée (avis au référent)", "unexcused (notice to the referent)")
    )
    say(
        Text("absence #{id} de {name} le {day} : {what}", "absence #{id} of {name} on {day}: {what}"),
        id=row["id"],
        name=row["display_name"],
        day=row["day"],
        what=t(what),
    )


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
        Text("Avis au référent", "Notices to the referent"),
        (
            "id",
            Text("jour", "day"),
            Text("personne", "person"),
            Text("référent", "referent"),
            Text("envoyé", "sent"),
            Text("erreur", "error"),
        ),
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
        raise die(
            Text(
                "--hours : attendu HH:MM-HH:MM, reçu « {value} »",
                "--hours: expected HH:MM-HH:MM, got “{value}”",
            ).format(value=value),
            code=2,
        ) from None


def _phases(values: list[str]) -> list[tuple[date, date, str]]:
    out = []
    for value in values:
        try:
            days, phase = value.split("=")
            first, _, last = days.partition("..")
            out.append((date.fromisoformat(first), date.fromisoformat(last or first), phase))
        except ValueError:
            raise die(
                Text(
                    "--phase : attendu AAAA-MM-JJ[..AAAA-MM-JJ]=phase, reçu « {value} »",
                    "--phase: expected YYYY-MM-DD[..YYYY-MM-DD]=phase, got “{value}”",
                ).format(value=value),
                code=2,
            ) from None
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
    skipped = {date.fromisoformat(str(local_day(d, "--skip"))) for d in skip or []}
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
    say(Text("emploi du temps : {count} créneaux", "timetable: {count} slots"), count=len(rows))


@timetable_group.command("show")
def show_timetable(ctx: typer.Context, cohort: CohortOpt, as_json: JsonOpt = False) -> None:
    """Show the timetable."""
    with backend(ctx) as api:
        rows = api.call("GET", f"/cohorts/{cohort}/timetable")
    if as_json:
        print_json(rows)
        return
    show_table(
        Text("Emploi du temps", "Timetable"),
        (Text("jour", "day"), Text("début", "start"), Text("fin", "end"), "phase"),
        [(r["day"], r["starts_at"][:5], r["ends_at"][:5], r["phase"]) for r in rows],
    )


def register(app: typer.Typer) -> None:
    app.command("hours")(hours)
    app.command("absences")(absences)
    app.command("notices")(notices)
    app.add_typer(absence_group, name="absence")
    app.add_typer(timetable_group, name="timetable")
