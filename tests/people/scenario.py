"""Two weeks of a real cohort, played through the API as the trainers would, with figures by hand.

Cohort « Ruche mars » from Monday 3 to Friday 14 March 2025, timetable 09:00-12:30 and 13:30-17:00
on weekdays (7 h a day, 70 h): Monday 3 is the information collective, Tuesday 4 to Friday 7 the
digital-skills training, the second week fabrication. Eight tigistes; everyone comes on time every
day except (worked out by hand, each day's total rounded to the nearest quarter hour):

- Léa      70 h due: always on time                                          -> 70 h 00, complete
- Karim    70 h due: absent Wed 5 afternoon, excused (medical)                -> 66 h 30
- Sofiane  70 h due: Tue 4 arrives 09:07 (6 h 53 -> 7 h 00); Thu 6 leaves 17:20
           (7 h 20 -> 7 h 15)                                                 -> 70 h 15, complete
- Maëlle   70 h due: Fri 7 leaves 18:45 (8 h 45: above the 8 h daily maximum) -> 71 h 45, complete
- Jordan   70 h due: Tue 11 arrives 09:10 (6 h 50 -> 6 h 45); absent Thu 13
           morning, not excused (a notice for the referent)                   -> 66 h 15
- Inès     70 h due: Mon 10 check-out typed 15:00 instead of 17:00, corrected
           (before the correction 68 h)                                       -> 70 h 00, complete
- Dylan    70 h due: Fri 14 afternoon checked in, never checked out (reported,
           not counted)                                                       -> 66 h 30
- Océane  105 h due (a longer measure, deadline 30 June 2025): always on time -> 70 h 00, 66.7 %,
           35 h left; at 7 h a day, 5 more weekdays: expected end Fri 21 March

Total 551 h 15 of 595 h due; 4 of 8 complete. Expected ends of the others: the next weekday after
the 14th (one day at their pace finishes them): Monday 17 March 2025.
Jobs: Léa's laser « Face avant (entrée) » done (Karim assembled it), Karim's printed « Réducteur
d'entrée » done, Jordan's laser « Toit » failed: 2 done out of 3 finished, 67 % success.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from fablabctl.db.models import Job
from tests.api.test_api_isolation import upload

API = "/api/v1"
FIRST = date(2025, 3, 3)
DAYS = [FIRST + timedelta(days=i) for i in range(12) if (FIRST + timedelta(days=i)).weekday() < 5]
PEOPLE = {
    "lea": ("Léa", 70),
    "karim": ("Karim", 70),
    "sofiane": ("Sofiane", 70),
    "maelle": ("Maëlle", 70),
    "jordan": ("Jordan", 70),
    "ines": ("Inès", 70),
    "dylan": ("Dylan", 70),
    "oceane": ("Océane", 105),
}
EXPECTED_HOURS = {
    "lea": 70.0,
    "karim": 66.5,
    "sofiane": 70.25,
    "maelle": 71.75,
    "jordan": 66.25,
    "ines": 70.0,
    "dylan": 66.5,
    "oceane": 70.0,
}
# day index -> (morning in, morning out, afternoon in, afternoon out); None: no such period
STANDARD = ("09:00", "12:30", "13:30", "17:00")
EXCEPTIONS: dict[tuple[str, int], tuple[str | None, str | None, str | None, str | None]] = {
    ("karim", 2): ("09:00", "12:30", None, None),
    ("sofiane", 1): ("09:07", "12:30", "13:30", "17:00"),
    ("sofiane", 3): ("09:00", "12:30", "13:30", "17:20"),
    ("maelle", 4): ("09:00", "12:30", "13:30", "18:45"),
    ("jordan", 6): ("09:10", "12:30", "13:30", "17:00"),
    ("jordan", 8): (None, None, "13:30", "17:00"),
    ("ines", 5): ("09:00", "12:30", "13:30", "15:00"),  # corrected afterwards
    ("dylan", 9): ("09:00", "12:30", "13:30", None),  # left open
}
Headers = Callable[[str], dict[str, str]]


@dataclass
class Played:
    cohort_id: int
    ids: dict[str, int]
    ines_entry: str
    jobs: dict[str, int]


def ok(response: Any, status: int = 201) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def play(client: TestClient, headers: Headers, sessions: sessionmaker[Session]) -> Played:
    admin, trainer = headers("admin"), headers("trainer")
    cid = ok(
        client.post(
            f"{API}/cohorts",
            json={"name": "Ruche mars", "starts_on": "2025-03-03", "ends_on": "2025-03-14",
                  "project": "ruche-pedagogique"},
            headers=admin,
        )
    )["id"]  # fmt: skip
    slots = []
    for i, day in enumerate(DAYS):
        phase = "information" if i == 0 else "formation" if i < 5 else "fabrication"
        for start, end in (("09:00", "12:30"), ("13:30", "17:00")):
            slots.append({"day": day.isoformat(), "starts_at": start, "ends_at": end, "phase": phase})
    assert (
        len(ok(client.put(f"{API}/cohorts/{cid}/timetable", json={"slots": slots}, headers=trainer), 200))
        == 20
    )
    ids: dict[str, int] = {}
    for username, (name, due) in PEOPLE.items():
        ids[username] = ok(
            client.post(
                f"{API}/users",
                json={
                    "username": username,
                    "display_name": name,
                    "role": "tigiste",
                    "password": "longenough",
                },
                headers=admin,
            )
        )["id"]
        enrolment = ok(
            client.post(
                f"{API}/enrolments",
                json={"cohort_id": cid, "user_id": ids[username], "hours_due": due,
                      "referent_contact": f"CPIP {username} <cpip.{username}@spip.example>"},
                headers=trainer,
            )
        )  # fmt: skip
        terms: dict[str, Any] = {"contract_signed_on": "2025-03-03"}
        if username == "oceane":
            terms |= {"deadline": "2025-06-30", "measure": "TNR"}
        ok(client.put(f"{API}/enrolments/{enrolment['id']}/terms", json=terms, headers=trainer), 200)
    ines_entry = ""
    for i, day in enumerate(DAYS):
        for username in PEOPLE:
            times = EXCEPTIONS.get((username, i), STANDARD)
            for start, end in ((times[0], times[1]), (times[2], times[3])):
                if start is None:
                    continue
                body = {"user_id": ids[username], "at": f"{day}T{start}"}
                entry = ok(
                    client.post(f"{API}/cohorts/{cid}/attendance/check-in", json=body, headers=trainer)
                )
                if end is not None:
                    body = {"user_id": ids[username], "at": f"{day}T{end}"}
                    ok(client.post(f"{API}/cohorts/{cid}/attendance/check-out", json=body, headers=trainer))
                if (username, i, start) == ("ines", 5, "13:30"):
                    ines_entry = entry["entry_uuid"]
    jobs = make_jobs(client, headers, sessions, cid, ids)
    ok(
        client.post(
            f"{API}/jobs/{jobs['face']}/contributions", json={"user_id": ids["karim"], "role": "assembled"},
            headers=trainer,
        )
    )  # fmt: skip
    for username, pre, post in (("lea", 1, 3), ("karim", 0, 2), ("jordan", 2, 2)):
        for stage, level in (("pre", pre), ("post", post)):
            scores = dict.fromkeys(
                ("information", "communication", "creation", "protection", "environment"), level
            )
            body = {"user_id": ids[username], "stage": stage, "scores": scores}
            ok(client.post(f"{API}/cohorts/{cid}/assessments", json=body, headers=trainer))
    return Played(cid, ids, ines_entry, jobs)


def make_jobs(
    client: TestClient, headers: Headers, sessions: sessionmaker[Session], cid: int, ids: dict[str, int]
) -> dict[str, int]:
    """Real uploads and submissions; the machine run itself is the dispatcher's business (tested
    there), so the end states are written as the dispatcher would leave them."""
    out: dict[str, int] = {}
    for key, owner, part, kind, state in (
        ("face", "lea", "Face avant (entrée)", "laser", "done"),
        ("reducteur", "karim", "Réducteur d'entrée", "printer", "done"),
        ("toit", "jordan", "Toit", "laser", "failed"),
    ):
        login = ok(client.post(f"{API}/auth/login", json={"username": owner, "password": "longenough"}), 200)
        auth = {"Authorization": f"Bearer {login['token']}"}
        client.cookies.clear()
        design = upload(client, auth, name=f"{key}.stl")
        body = {"design_id": design["id"], "material": "PLA", "cohort_id": cid}
        job = ok(client.post(f"{API}/jobs", json=body, headers=auth))
        with sessions() as session, session.begin():
            row = session.get(Job, job["id"])
            assert row is not None
            row.state, row.kind, row.settings = state, kind, {"part_fr": part}
        out[key] = job["id"]
    return out
