"""Role matrix: every endpoint, called by each role, is either allowed (2xx) or refused (403)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient

Headers = Callable[[str], dict[str, str]]
ROLES = ("admin", "trainer", "operator", "tigiste")
_names = itertools.count()


class World:
    """Creates resources as the admin, fresh for each call so mutating cases never interfere."""

    def __init__(self, client: TestClient, headers: Headers, user_ids: dict[str, int]) -> None:
        self.client, self.admin, self.user_ids = client, headers("admin"), user_ids

    def post(self, path: str, body: dict[str, Any]) -> int:
        response = self.client.post(f"/api/v1{path}", json=body, headers=self.admin)
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    def machine(self) -> int:
        return self.post("/machines", machine_body())

    def cohort(self) -> int:
        return self.post("/cohorts", cohort_body())

    def tigiste(self) -> int:
        n = next(_names)
        return self.post(
            "/users",
            {"username": f"t{n}", "display_name": f"T{n}", "role": "tigiste", "password": "longenough"},
        )

    def enrolment(self) -> int:
        return self.post(
            "/enrolments", {"cohort_id": self.cohort(), "user_id": self.tigiste(), "hours_due": 70}
        )


def machine_body() -> dict[str, Any]:
    return {
        "name": f"m{next(_names)}",
        "kind": "laser",
        "driver": "grbl",
        "connection": {"simulated": True},
        "bed_x_mm": 400,
        "bed_y_mm": 300,
    }


def cohort_body() -> dict[str, Any]:
    return {"name": f"c{next(_names)}", "starts_on": "2026-12-01", "ends_on": "2026-12-12"}


@dataclass
class Case:
    method: str
    path: str  # may contain {id}, filled by `make`
    allowed: frozenset[str]
    make: Callable[[World], int] | None = None
    body: Callable[[World], dict[str, Any]] | None = None
    params: dict[str, Any] = field(default_factory=dict)
    hidden: frozenset[str] = frozenset()  # refused as 404 (the id's existence is not revealed)


TEACH = frozenset({"admin", "trainer"})
KEEP = frozenset({"admin", "operator"})
EVERYONE = frozenset(ROLES)
ADMIN = frozenset({"admin"})

CASES = {
    "users.list": Case("GET", "/users", TEACH),
    "users.create_tigiste": Case(
        "POST",
        "/users",
        TEACH,
        body=lambda w: {
            "username": f"u{next(_names)}",
            "display_name": "X",
            "role": "tigiste",
            "password": "longenough",
        },
    ),
    "users.create_trainer": Case(
        "POST",
        "/users",
        ADMIN,
        body=lambda w: {
            "username": f"u{next(_names)}",
            "display_name": "X",
            "role": "trainer",
            "password": "longenough",
        },
    ),
    "users.read_other": Case("GET", "/users/{id}", TEACH, make=World.tigiste, hidden=frozenset({"tigiste"})),
    "users.update_tigiste": Case(
        "PATCH", "/users/{id}", TEACH, make=World.tigiste, body=lambda w: {"display_name": "Renamed"}
    ),
    "users.deactivate_tigiste": Case("DELETE", "/users/{id}", TEACH, make=World.tigiste),
    "machines.list": Case("GET", "/machines", EVERYONE),
    "machines.read": Case("GET", "/machines/{id}", EVERYONE, make=World.machine),
    "machines.create": Case("POST", "/machines", KEEP, body=lambda w: machine_body()),
    "machines.update": Case(
        "PATCH", "/machines/{id}", KEEP, make=World.machine, body=lambda w: {"maintenance": True}
    ),
    "machines.delete": Case("DELETE", "/machines/{id}", KEEP, make=World.machine),
    "cohorts.list": Case("GET", "/cohorts", EVERYONE),
    "cohorts.create": Case("POST", "/cohorts", TEACH, body=lambda w: cohort_body()),
    "cohorts.update": Case(
        "PATCH", "/cohorts/{id}", TEACH, make=World.cohort, body=lambda w: {"project": "ruche"}
    ),
    "cohorts.delete": Case("DELETE", "/cohorts/{id}", TEACH, make=World.cohort),
    # operators run machines: they see no hours or referent contacts; a tigiste sees their own
    "enrolments.list": Case("GET", "/enrolments", TEACH | {"tigiste"}),
    "enrolments.create": Case(
        "POST",
        "/enrolments",
        TEACH,
        body=lambda w: {"cohort_id": w.cohort(), "user_id": w.tigiste(), "hours_due": 35},
    ),
    "enrolments.update": Case(
        "PATCH", "/enrolments/{id}", TEACH, make=World.enrolment, body=lambda w: {"hours_due": 40}
    ),
    "enrolments.delete": Case("DELETE", "/enrolments/{id}", TEACH, make=World.enrolment),
    "designs.list": Case("GET", "/designs", EVERYONE),
    "jobs.list": Case("GET", "/jobs", EVERYONE),
    "auth.me": Case("GET", "/auth/me", EVERYONE),
    "jobs.history": Case("GET", "/jobs/history", EVERYONE),
    "machines.stats": Case("GET", "/machines/stats", EVERYONE),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_role_matrix(name: str, client: TestClient, headers: Headers, user_ids: dict[str, int]) -> None:
    case = CASES[name]
    world = World(client, headers, user_ids)
    outcome = {}
    for role in ROLES:
        path = "/api/v1" + case.path.format(id=case.make(world) if case.make else "")
        body = case.body(world) if case.body else None
        response = client.request(case.method, path, json=body, params=case.params, headers=headers(role))
        outcome[role] = response.status_code
        if role in case.allowed:
            assert 200 <= response.status_code < 300, (role, response.text)
        elif role in case.hidden:
            assert response.status_code == 404, (role, response.text)
        else:
            assert response.status_code == 403, (role, response.text)
            assert response.json()["code"] == "FORBIDDEN"
    assert {r for r, s in outcome.items() if s < 300} == case.allowed
