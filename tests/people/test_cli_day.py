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
