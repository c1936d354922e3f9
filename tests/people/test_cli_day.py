"""The trainer's day in commands, exactly as the README shows it (people named by username)."""

from __future__ import annotations

import json
from collections.abc import Callable

from fablabctl.context import ServiceContext


def test_the_trainers_day(cli: Callable[..., str], context: ServiceContext) -> None:
    cli("user", "add", "lea", "--role", "tigiste", "--display-name", "Léa", "--password", "longenough")
    cli("user", "add", "marc", "--role", "trainer", "--password", "formateur-2026")
    cohort = json.loads(cli("cohort", "list", "--json"))
    assert cohort == []
    cli("cohort", "add", "Ruche mars", "--start", "2025-03-03", "--end", "2025-03-14", "--trainer", "marc")
    (cohort,) = json.loads(cli("cohort", "list", "--json"))
    cid = str(cohort["id"])
    users = {u["username"]: u["id"] for u in json.loads(cli("user", "list", "--json"))}
    assert cohort["trainer_ids"] == [users["marc"]]
    cli(
        "cohort",
        "enrol",
        cid,
        "lea",
        "--hours",
        "70",
        "--referent",
        "cpip@spip.example",
        "--deadline",
        "2025-06-30",
    )
    (enrolment,) = json.loads(cli("cohort", "enrolments", cid, "--json"))
    assert enrolment["user_id"] == users["lea"] and enrolment["hours_due"] == 70
    out = cli(
        "timetable", "set", "--cohort", cid, "--hours", "09:00-12:30", "--hours", "13:30-17:00",
        "--phase", "2025-03-03=information", "--phase", "2025-03-10..2025-03-14=fabrication",
    )  # fmt: skip
    assert "20 créneaux" in out
    slots = json.loads(cli("timetable", "show", "--cohort", cid, "--json"))
    assert [s["phase"] for s in slots[:4]] == ["information", "information", "formation", "formation"]

    assert "Léa à 09:05 (information)" in cli(
        "attendance", "in", "lea", "--cohort", cid, "--at", "2025-03-03T09:05"
    )
    refused = cli("attendance", "in", "lea", "--cohort", cid, "--at", "2025-03-03T09:30", ok=False)
    assert "ATTENDANCE_ALREADY_OPEN" in refused and "pointez d'abord sa sortie" in refused
    cli("attendance", "out", "lea", "--cohort", cid, "--at", "2025-03-03T12:30")
    cli("attendance", "in", str(users["lea"]), "--cohort", cid, "--at", "2025-03-03T13:30")  # an id works too
    cli("attendance", "out", "lea", "--cohort", cid, "--at", "2025-03-03T17:02")
    entries = json.loads(cli("attendance", "list", "--cohort", cid, "--day", "2025-03-03", "--json"))
    assert [(e["check_in"][11:16], e["check_out"][11:16]) for e in entries] == [
        ("09:05", "12:30"),
        ("13:30", "17:02"),
    ]
    (hours,) = json.loads(cli("hours", "--cohort", cid, "--json"))
    # 3 h 25 + 3 h 32 = 6 h 57 -> 7 h 00
    assert (hours["username"], hours["display_name"], hours["hours_done"], hours["hours_due"]) == (
        "lea",
        "Léa",
        7.0,
        70.0,
    )
    assert hours["deadline"] == "2025-06-30"
    absences = json.loads(cli("absences", "--cohort", cid, "--json"))
    assert len(absences) == 18 and all(
        a["excused"] is None for a in absences
    )  # nine more days, two slots each
    cli("journal", "add", "--cohort", cid, "--day", "2025-03-03", "Présentation du programme.")
    assert "Présentation du programme." in cli("journal", "list", "--cohort", cid)
    assert json.loads(cli("job", "list", "--owner", "lea", "--json")) == []
    assert isinstance(json.loads(cli("machine", "list", "--json")), list)
    assert "contrat signé le 2025-03-03" in cli("cohort", "signed", cid, "lea", "--on", "2025-03-03")

    # every staff read of a tigiste's record and every change is in the audit log, by ids, never names
    from sqlalchemy import select

    from fablabctl.db.engine import session_scope
    from fablabctl.db.models import AuditEntry

    with session_scope(context.sessions) as session:
        rows = list(session.scalars(select(AuditEntry)))
    actions = {r.action for r in rows}
    assert {
        "attendance.check_in",
        "attendance.check_out",
        "attendance.list",
        "hours.read",
        "absence.list",
        "journal.add",
        "journal.list",
        "enrolment.create",
        "enrolment.terms",
        "timetable.set",
    } <= actions
    assert not [r for r in rows if "Léa" in json.dumps(r.detail, ensure_ascii=False)]


def test_the_trainers_mistakes(cli: Callable[..., str], context: ServiceContext) -> None:
    """What a trainer gets wrong, each answered by one French line and a non-zero exit, no traceback."""
    cli("user", "add", "lea", "--role", "tigiste", "--display-name", "Léa", "--password", "longenough")
    cli("user", "add", "zoe", "--role", "tigiste", "--password", "longenough")
    cli("cohort", "add", "Ruche mars", "--start", "2025-03-03", "--end", "2025-03-14")
    cli("cohort", "enrol", "1", "lea", "--hours", "70")
    assert "NOT_ENROLLED" in (out := cli("attendance", "in", "zoe", "--cohort", "1", ok=False))
    assert "« zoe » n'est pas inscrit(e)" in out and "cohort enrol 1 zoe" in out
    assert "USER_NOT_FOUND" in cli("attendance", "in", "999", "--cohort", "1", ok=False)
    assert "personne inconnue : nobody" in cli("attendance", "in", "nobody", "--cohort", "1", ok=False)
    assert "AAAA-MM-JJTHH:MM" in cli("attendance", "in", "lea", "--cohort", "1", "--at", "4/3 9h", ok=False)
    assert "TIME_IN_FUTURE" in cli(
        "attendance", "in", "lea", "--cohort", "1", "--at", "2999-01-01T09:00", ok=False
    )
    assert "NO_OPEN_CHECKIN" in cli(
        "attendance", "out", "lea", "--cohort", "1", "--at", "2025-03-04T12:00", ok=False
    )

    # Tuesday's check-in left open; Wednesday's check-out must not close it (it would count the night)
    cli("attendance", "in", "lea", "--cohort", "1", "--at", "2025-03-04T09:00")
    assert "CHECKOUT_BEFORE_CHECKIN" in cli(
        "attendance", "out", "lea", "--cohort", "1", "--at", "2025-03-04T08:00", ok=False
    )
    refused = cli("attendance", "out", "lea", "--cohort", "1", "--at", "2025-03-05T12:30", ok=False)
    assert "OPEN_CHECKIN_OTHER_DAY" in refused and "04/03/2025 à 09:00" in refused
    # ... nor stop Wednesday's check-in, nor hide Wednesday's absences: it stops at midnight
    cli("attendance", "in", "lea", "--cohort", "1", "--at", "2025-03-05T09:00")
    cli("attendance", "out", "lea", "--cohort", "1", "--at", "2025-03-05T12:30")
    (hours,) = json.loads(cli("hours", "--cohort", "1", "--json"))
    assert hours["hours_done"] == 3.5
    assert [(w["code"], w["day"]) for w in hours["warnings"]] == [("OPEN_CHECKIN", "2025-03-04")]

    # the trainer corrects Tuesday: a reason is required, and a period stays within its day
    tuesday = json.loads(cli("attendance", "list", "--cohort", "1", "--day", "2025-03-04", "--json"))[0]["id"]
    fix = ("attendance", "correct", str(tuesday), "--in", "2025-03-04T09:00")
    assert "--reason" in cli(*fix, "--out", "2025-03-04T12:30", ok=False)
    assert "--reason" in cli(*fix, "--out", "2025-03-04T12:30", "--reason", "x", ok=False)
    assert "PERIOD_SPANS_DAYS" in cli(*fix, "--out", "2025-03-05T12:30", "--reason", "oubli", ok=False)
    assert "la sortie doit être après l'entrée" in cli(
        *fix, "--out", "2025-03-04T08:30", "--reason", "oubli", ok=False
    )
    assert "ATTENDANCE_NOT_FOUND" in cli(
        "attendance", "correct", "9999", "--in", "2025-03-04T09:00", "--reason", "oubli", ok=False
    )
    assert "version 2" in cli(*fix, "--out", "2025-03-04T12:30", "--reason", "sortie oubliée")
    (hours,) = json.loads(cli("hours", "--cohort", "1", "--json"))
    assert hours["hours_done"] == 7.0 and hours["warnings"] == []
    assert "équipe" in cli("attendance", "list", "--cohort", "1")


def test_every_list_command_takes_json() -> None:
    """Every command that lists something (users, cohorts, enrolments, jobs, machines, attendance,
    hours, absences, notices, journal, timetable, site tokens...) answers `--json` for scripts."""
    import typer.main

    from fablabctl.cli import app

    listing = {"list", "enrolments", "show", "hours", "absences", "notices"}
    found, missing = [], []

    def walk(group: object, path: str) -> None:
        for name, command in getattr(group, "commands", {}).items():
            if getattr(command, "commands", None):
                walk(command, f"{path} {name}")
            elif name in listing and path != "fablabctl docs":  # docs write files (-o), not lists
                found.append(f"{path} {name}")
                if not any("--json" in p.opts for p in command.params):
                    missing.append(f"{path} {name}")

    walk(typer.main.get_command(app), "fablabctl")
    assert len(found) >= 11 and missing == [], (found, missing)


def test_an_entry_named_by_an_all_digit_uuid_prefix(cli: Callable[..., str], context: ServiceContext) -> None:
    """`attendance correct 65755875` is a uuid prefix when no row has that id (a random uuid starts
    with eight digits about once in 43); a huge number is not found, never a database error."""
    from datetime import UTC, datetime

    from fablabctl.db.engine import session_scope
    from fablabctl.db.models import AttendanceEntry, Cohort

    cli("user", "add", "lea", "--role", "tigiste", "--display-name", "Léa", "--password", "longenough")
    cli("cohort", "add", "Ruche mars", "--start", "2025-03-03", "--end", "2025-03-14")
    cli("cohort", "enrol", "1", "lea", "--hours", "70")
    (user,) = [u for u in json.loads(cli("user", "list", "--json")) if u["username"] == "lea"]
    digits = "65755875-0000-4000-8000-000000000001"
    with session_scope(context.sessions) as session:
        cohort = session.get(Cohort, 1)
        assert cohort is not None
        session.add(
            AttendanceEntry(
                uuid=digits, entry_uuid=digits, site_id=cohort.site_id, cohort_id=1, user_id=user["id"],
                phase="formation", check_in=datetime(2025, 3, 3, 8, tzinfo=UTC), method="staff",
            )
        )  # fmt: skip
    fix = ("--in", "2025-03-03T09:00", "--out", "2025-03-03T12:30", "--reason", "sortie oubliée")
    assert "version 2" in cli("attendance", "correct", "65755875", *fix)
    assert "ATTENDANCE_NOT_FOUND" in cli("attendance", "correct", "99999999999", *fix, ok=False)
