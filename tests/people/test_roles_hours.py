"""Role matrix of every attendance, hours, programme and document endpoint: allowed (2xx) or 403.

Each call gets a fresh cohort in which the fixture's `tigiste` account is enrolled (so a tigiste's
refusal is a 403 about the action, not a 404 about an unknown cohort), with another tigiste, a
past timetable slot that the first one missed, a closed entry of the other one, and a job.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.test_api_isolation import upload

Headers = Callable[[str], dict[str, str]]
ROLES = ("admin", "trainer", "operator", "tigiste")
EVERYONE = frozenset(ROLES)
STAFF = frozenset({"admin", "trainer", "operator"})
TEACH = frozenset({"admin", "trainer"})
TEACH_AND_OWN = TEACH | {"tigiste"}
ADMIN = frozenset({"admin"})
_n = itertools.count()
API = "/api/v1"


def ok(response: Any, status: int = 201) -> Any:
    assert response.status_code == status, response.text
    return response.json()


class World:
    def __init__(self, client: TestClient, headers: Headers, user_ids: dict[str, int]) -> None:
        self.client, self.headers, self.admin = client, headers, headers("admin")
        self.me = user_ids["tigiste"]

    def post(self, path: str, body: dict[str, Any] | None = None, status: int = 201) -> Any:
        return ok(self.client.post(API + path, json=body, headers=self.admin), status)

    def make(
        self, self_checkin: bool = False, open_entry: bool = False, job: bool = False, me: bool = True
    ) -> dict[str, Any]:
        n = next(_n)
        cid = self.post("/cohorts", {"name": f"r{n}", "starts_on": "2025-02-03", "ends_on": "2025-02-07"})[
            "id"
        ]
        other = self.post(
            "/users",
            {"username": f"o{n}", "display_name": f"O{n}", "role": "tigiste", "password": "longenough"},
        )["id"]
        enrolment = (
            self.post("/enrolments", {"cohort_id": cid, "user_id": self.me, "hours_due": 70})["id"]
            if me
            else 0
        )
        self.post("/enrolments", {"cohort_id": cid, "user_id": other, "hours_due": 70})
        slot = {"day": "2025-02-03", "starts_at": "09:00", "ends_at": "12:00", "phase": "formation"}
        ok(self.client.put(f"{API}/cohorts/{cid}/timetable", json={"slots": [slot]}, headers=self.admin), 200)
        entry = self.post(f"/cohorts/{cid}/attendance/check-in", {"user_id": other, "at": "2025-02-03T09:00"})
        self.post(f"/cohorts/{cid}/attendance/check-out", {"user_id": other, "at": "2025-02-03T12:00"})
        absences = ok(self.client.get(f"{API}/cohorts/{cid}/absences", headers=self.admin), 200)
        ids = {
            "c": cid,
            "other": other,
            "e": entry["entry_uuid"],
            "a": absences[0]["id"] if me else 0,
            "n": enrolment,
        }
        ids["me"] = self.me
        if job:  # an upload is slow (the design is checked): only for the case that needs one
            design = upload(self.client, self.headers("tigiste"), name=f"r{n}.stl")
            body = {"design_id": design["id"], "material": "PLA", "cohort_id": cid}
            ids["j"] = ok(self.client.post(f"{API}/jobs", json=body, headers=self.headers("tigiste")))["id"]
        if open_entry:
            self.post(f"/cohorts/{cid}/attendance/check-in", {"user_id": other, "at": "2025-02-04T09:00"})
        if self_checkin:  # a fresh tigiste checks themselves in: an entry awaiting confirmation
            body = {"username": f"s{n}", "display_name": f"S{n}", "role": "tigiste", "password": "longenough"}
            own = self.post("/users", body)["id"]
            self.post("/enrolments", {"cohort_id": cid, "user_id": own, "hours_due": 70})
            login = ok(
                self.client.post(f"{API}/auth/login", json={"username": f"s{n}", "password": "longenough"}),
                200,
            )
            self.client.cookies.clear()
            auth = {"Authorization": f"Bearer {login['token']}"}
            mine = ok(
                self.client.post(
                    f"{API}/cohorts/{cid}/attendance/check-in", json={"user_id": own}, headers=auth
                )
            )
            ids["e"] = mine["entry_uuid"]
        return ids


@dataclass
class Case:
    method: str
    path: str  # {c} cohort, {e} entry, {a} absence, {n} enrolment, {j} job
    allowed: frozenset[str]
    body: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    params: Callable[[dict[str, Any]], dict[str, Any]] = field(default=lambda ids: {})
    self_checkin: bool = False
    open_entry: bool = False
    job: bool = False
    me: bool = True  # enrol the fixture's tigiste (not for the purge: it would erase that account)


SCORES = dict.fromkeys(("information", "communication", "creation", "protection", "environment"), 2)
CASES = {
    "attendance.check_in_other": Case(
        "POST",
        "/cohorts/{c}/attendance/check-in",
        STAFF,
        body=lambda i: {"user_id": i["other"], "at": "2025-02-04T09:00"},
    ),
    "attendance.check_out_other": Case(
        "POST",
        "/cohorts/{c}/attendance/check-out",
        STAFF,
        body=lambda i: {"user_id": i["other"], "at": "2025-02-04T12:00"},  # the open check-in's day
        open_entry=True,
    ),
    "attendance.list": Case("GET", "/cohorts/{c}/attendance", EVERYONE),
    "attendance.correct": Case(
        "POST",
        "/attendance/{e}/correct",
        TEACH,
        body=lambda i: {"check_in": "2025-02-03T08:45", "check_out": "2025-02-03T12:00", "reason": "oubli"},
    ),
    "attendance.confirm": Case("POST", "/attendance/{e}/confirm", TEACH, self_checkin=True),
    "hours.read": Case("GET", "/cohorts/{c}/hours", EVERYONE),
    "timetable.read": Case("GET", "/cohorts/{c}/timetable", EVERYONE),
    "timetable.set": Case("PUT", "/cohorts/{c}/timetable", TEACH, body=lambda i: {"slots": []}),
    "absences.list": Case("GET", "/cohorts/{c}/absences", EVERYONE),
    "absences.decide": Case("PATCH", "/absences/{a}", TEACH, body=lambda i: {"excused": False}),
    "notices.list": Case("GET", "/cohorts/{c}/notices", TEACH),
    "notices.send": Case("POST", "/cohorts/{c}/notices/send", TEACH),
    "contributions.add": Case(
        "POST",
        "/jobs/{j}/contributions",
        STAFF,
        body=lambda i: {"user_id": i["other"], "role": "assembled"},
        job=True,
    ),
    "terms.read": Case("GET", "/enrolments/{n}/terms", TEACH_AND_OWN),
    "terms.set": Case("PUT", "/enrolments/{n}/terms", TEACH, body=lambda i: {"deadline": "2025-06-30"}),
    "assessments.record_own": Case(
        "POST",
        "/cohorts/{c}/assessments",
        EVERYONE,
        body=lambda i: {"user_id": i["me"], "stage": "pre", "scores": SCORES},
    ),
    "assessments.list": Case("GET", "/cohorts/{c}/assessments", EVERYONE),
    "journal.add": Case("POST", "/cohorts/{c}/journal", TEACH, body=lambda i: {"text": "RAS"}),
    "journal.list": Case("GET", "/cohorts/{c}/journal", TEACH),
    "documents.presence_own": Case(
        "GET", "/cohorts/{c}/documents/presence", TEACH_AND_OWN, params=lambda i: {"user_id": i["me"]}
    ),
    "documents.presence_other": Case(
        "GET",
        "/cohorts/{c}/documents/presence",
        TEACH,
        params=lambda i: {"user_id": i["other"], "format": "csv"},
    ),
    "documents.attestation_own": Case(
        "GET", "/cohorts/{c}/documents/attestation", TEACH_AND_OWN, params=lambda i: {"user_id": i["me"]}
    ),
    "documents.attestation_other": Case(
        "GET", "/cohorts/{c}/documents/attestation", TEACH, params=lambda i: {"user_id": i["other"]}
    ),
    "documents.contrat_own": Case(
        "GET", "/cohorts/{c}/documents/contrat", TEACH_AND_OWN, params=lambda i: {"user_id": i["me"]}
    ),
    "documents.bilan": Case("GET", "/cohorts/{c}/documents/bilan", TEACH, params=lambda i: {"format": "csv"}),
    "documents.restitution": Case("GET", "/cohorts/{c}/documents/restitution", TEACH),
    "documents.notices": Case(
        "GET", "/cohorts/{c}/documents/notices", TEACH, params=lambda i: {"format": "csv"}
    ),
    "cohort.export": Case("GET", "/cohorts/{c}/export", TEACH),
    "cohort.purge_early": Case(
        "POST", "/cohorts/{c}/purge", ADMIN, body=lambda i: {"now": True, "reason": "essai"}, me=False
    ),
}


@pytest.mark.timeout(900)  # 160 requests, each case with its own accounts and documents
def test_role_matrix(client: TestClient, headers: Headers, user_ids: dict[str, int]) -> None:
    """One test for all the cases (the accounts are made once): every wrong answer is listed."""
    world = World(client, headers, user_ids)
    wrong = []
    for name, case in sorted(CASES.items()):
        allowed = set()
        for role in sorted(
            ROLES, key=lambda r: r == "admin"
        ):  # admin last: its purge must not spoil the others
            ids = world.make(
                self_checkin=case.self_checkin, open_entry=case.open_entry, job=case.job, me=case.me
            )
            path = API + case.path.format(**ids)
            body = case.body(ids) if case.body else None
            response = client.request(
                case.method, path, json=body, params=case.params(ids), headers=headers(role)
            )
            if response.is_success:
                allowed.add(role)
            elif response.status_code != 403 or response.json()["code"] != "FORBIDDEN":
                wrong.append(f"{name} as {role}: {response.status_code} {response.text[:200]}")
        if allowed != case.allowed:
            wrong.append(f"{name}: allowed {sorted(allowed)}, expected {sorted(case.allowed)}")
    assert wrong == []


def test_the_matrix_covers_every_endpoint() -> None:
    """A new attendance, programme or document endpoint must be added to CASES (no request made)."""
    import re
    import typing

    from fastapi.routing import APIRoute

    from fablabctl.documents.service import Kind
    from fablabctl.web.routers import attendance, documents, programme

    def shape(path: str) -> str:
        return re.sub(r"\{[^}]+\}", "{}", path)

    def case_shape(path: str) -> str:  # /cohorts/{c}/documents/bilan is the route .../documents/{kind}
        return shape(re.sub(r"/documents/[a-z]+$", "/documents/{kind}", path))

    covered = {(c.method, case_shape(c.path)) for c in CASES.values()}
    routes = {
        (method, shape(route.path))
        for module in (attendance, documents, programme)
        for route in module.router.routes
        if isinstance(route, APIRoute)
        for method in route.methods
    }
    assert routes - covered == set()
    kinds = {c.path.rsplit("/", 1)[1] for c in CASES.values() if "/documents/" in c.path}
    assert kinds == set(typing.get_args(Kind))
