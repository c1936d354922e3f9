"""`fablabctl attendance in/out/list/correct/confirm`: the day's check-ins, kept append-only."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from fablabctl.cli.common import backend, die, print_json, say, show_table, t
from fablabctl.cli.people_ref import local_day, local_time, person_id
from fablabctl.i18n import Text

group = typer.Typer(help="Présences / attendance.", no_args_is_help=True)

CohortOpt = Annotated[int, typer.Option("--cohort", help="Cohort id")]
AtOpt = Annotated[str | None, typer.Option("--at", help="Local time, e.g. 2026-12-01T09:00 (default: now)")]


CANCELLED = Text(" (annulé)", " (cancelled)")
METHODS = {
    "staff": Text("équipe", "staff"),
    "self": Text("auto (à confirmer)", "self (to confirm)"),
    "confirmed": Text("confirmé", "confirmed"),
}
SHORT_REASON = Text(
    "--reason : dites pourquoi vous corrigez (au moins 3 caractères), c'est gardé avec la correction.",
    "--reason: say why you correct it (at least 3 characters); it is kept with the correction.",
)


def _hm(value: str | None) -> str:
    return value[11:16] if value else "—"


@group.command("in")
def check_in(
    ctx: typer.Context,
    user: Annotated[str, typer.Argument(help="Username or id")],
    cohort: CohortOpt,
    at: AtOpt = None,
    phase: Annotated[
        str | None, typer.Option(help="information, formation or fabrication (default: the timetable's)")
    ] = None,
) -> None:
    """Record an arrival."""
    with backend(ctx) as api:
        body = {"user_id": person_id(api, user), "at": local_time(at, "--at"), "phase": phase}
        entry = api.call("POST", f"/cohorts/{cohort}/attendance/check-in", json=body)
    say(
        Text("entrée #{id} : {name} à {at} ({phase})", "arrival #{id}: {name} at {at} ({phase})"),
        id=entry["id"],
        name=entry["display_name"],
        at=_hm(entry["check_in"]),
        phase=entry["phase"],
    )


@group.command("out")
def check_out(ctx: typer.Context, user: str, cohort: CohortOpt, at: AtOpt = None) -> None:
    """Record a departure (closes the open check-in)."""
    with backend(ctx) as api:
        body = {"user_id": person_id(api, user), "at": local_time(at, "--at")}
        entry = api.call("POST", f"/cohorts/{cohort}/attendance/check-out", json=body)
    say(
        Text("sortie #{id} : {name} {start}–{end}", "departure #{id}: {name} {start}–{end}"),
        id=entry["id"],
        name=entry["display_name"],
        start=_hm(entry["check_in"]),
        end=_hm(entry["check_out"]),
    )


def _rows(entries: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (
            e["id"],
            e["check_in"][:10],
            e["display_name"],
            _hm(e["check_in"]),
            _hm(e["check_out"]),
            e["phase"],
            (t(METHODS[e["method"]]) if e["method"] in METHODS else e["method"])
            + (t(CANCELLED) if e["cancelled"] else ""),
            f"v{e['version']}",
        )
        for e in entries
    ]


@group.command("list")
def list_(
    ctx: typer.Context,
    cohort: CohortOpt,
    day: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    user: Annotated[str | None, typer.Option(help="Username or id")] = None,
    versions: Annotated[bool, typer.Option(help="Every version, not only the latest")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """List a cohort's attendance (latest versions)."""
    with backend(ctx) as api:
        params: dict[str, Any] = {"versions": versions}
        if day:
            params["day"] = local_day(day, "--day")
        if user:
            params["user_id"] = person_id(api, user)
        entries = api.call("GET", f"/cohorts/{cohort}/attendance", params=params)
    if as_json:
        print_json(entries)
        return
    show_table(
        Text("Présences", "Attendance"),
        (
            "id",
            Text("jour", "day"),
            Text("personne", "person"),
            Text("entrée", "in"),
            Text("sortie", "out"),
            "phase",
            Text("mode", "method"),
            "version",
        ),
        _rows(entries),
    )


@group.command("correct")
def correct(
    ctx: typer.Context,
    entry: Annotated[str, typer.Argument(help="Entry id (from `attendance list`) or uuid")],
    check_in: Annotated[str, typer.Option("--in", help="Local time of arrival")],
    reason: Annotated[str, typer.Option(help="Why (kept with the new version)")],
    check_out: Annotated[str | None, typer.Option("--out", help="Local time of departure")] = None,
    phase: Annotated[str | None, typer.Option()] = None,
    cancel: Annotated[bool, typer.Option(help="The entry was a mistake: it no longer counts")] = False,
) -> None:
    """Correct an entry: a new version, the old one kept."""
    if len(reason.strip()) < 3:
        raise die(SHORT_REASON, code=2)
    body = {
        "check_in": local_time(check_in, "--in"),
        "check_out": local_time(check_out, "--out"),
        "reason": reason,
        "phase": phase,
        "cancel": cancel,
    }
    with backend(ctx) as api:
        row = api.call("POST", f"/attendance/{entry}/correct", json=body)
    say(
        Text(
            "pointage corrigé (version {version}) : {name} {start}–{end}",
            "attendance corrected (version {version}): {name} {start}–{end}",
        ),
        version=row["version"],
        name=row["display_name"],
        start=_hm(row["check_in"]),
        end=_hm(row["check_out"]),
    )


@group.command("confirm")
def confirm(ctx: typer.Context, entry: str) -> None:
    """Confirm a tigiste's own check-in."""
    with backend(ctx) as api:
        row = api.call("POST", f"/attendance/{entry}/confirm")
    say(
        Text("pointage confirmé : {name} {at}", "attendance confirmed: {name} {at}"),
        name=row["display_name"],
        at=_hm(row["check_in"]),
    )


def register(app: typer.Typer) -> None:
    app.add_typer(group, name="attendance")
