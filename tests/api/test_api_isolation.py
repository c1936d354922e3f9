"""A tigiste sees only their own designs, jobs and hours; ids of others' things reveal nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import trimesh
from fastapi.testclient import TestClient

Headers = Callable[[str], dict[str, str]]


def cube_stl(size: float = 20.0) -> bytes:
    data: bytes = trimesh.creation.box(extents=(size, size, size)).export(file_type="stl")
    return data


def upload(
    client: TestClient, auth: dict[str, str], name: str = "cube.stl", data: bytes | None = None
) -> Any:
    response = client.post("/api/v1/designs", files={"file": (name, data or cube_stl())}, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def submit(client: TestClient, auth: dict[str, str], design_id: int) -> Any:
    response = client.post("/api/v1/jobs", json={"design_id": design_id, "material": "PLA"}, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def test_a_tigiste_cannot_read_another_tigistes_designs_or_jobs(client: TestClient, headers: Headers) -> None:
    alice, bob = headers("tigiste"), headers("tigiste2")
    design = upload(client, alice)
    job = submit(client, alice, design["id"])

    for path in (
        f"/api/v1/designs/{design['id']}",
        f"/api/v1/designs/{design['id']}/report",
        f"/api/v1/jobs/{job['id']}",
        f"/api/v1/jobs/{job['id']}/events",
    ):
        response = client.get(path, headers=bob)
        assert response.status_code == 404, path
        assert response.json()["code"].endswith("_NOT_FOUND")
        assert client.get(path, headers=alice).status_code == 200, path

    assert client.get("/api/v1/designs", headers=bob).json() == []
    assert client.get("/api/v1/jobs", headers=bob).json() == []
    assert client.get("/api/v1/jobs", params={"owner_id": job["owner_id"]}, headers=bob).json() == []
    cancel = client.post(f"/api/v1/jobs/{job['id']}/cancel", headers=bob)
    assert cancel.status_code == 404
    # bob cannot submit alice's design as his own job either
    stolen = client.post("/api/v1/jobs", json={"design_id": design["id"], "material": "PLA"}, headers=bob)
    assert stolen.status_code == 404
    assert [j["id"] for j in client.get("/api/v1/jobs", headers=alice).json()] == [job["id"]]


def test_the_same_file_uploaded_twice_is_stored_once_but_owned_separately(
    client: TestClient, headers: Headers
) -> None:
    first = upload(client, headers("tigiste"))
    second = upload(client, headers("tigiste2"))
    assert first["sha256"] == second["sha256"]
    assert first["id"] != second["id"]
    assert first["owner_id"] != second["owner_id"]


def test_hours_and_cohorts_are_private(
    client: TestClient, headers: Headers, user_ids: dict[str, int]
) -> None:
    trainer = headers("trainer")
    cohort = client.post(
        "/api/v1/cohorts",
        json={"name": "Ruche", "starts_on": "2026-12-01", "ends_on": "2026-12-12"},
        headers=trainer,
    ).json()
    other = client.post(
        "/api/v1/cohorts",
        json={"name": "Signalétique", "starts_on": "2026-12-01", "ends_on": "2026-12-12"},
        headers=trainer,
    ).json()
    mine = client.post(
        "/api/v1/enrolments",
        json={
            "cohort_id": cohort["id"],
            "user_id": user_ids["tigiste"],
            "hours_due": 70,
            "referent_contact": "SPIP 75",
        },
        headers=trainer,
    )
    theirs = client.post(
        "/api/v1/enrolments",
        json={"cohort_id": other["id"], "user_id": user_ids["tigiste2"], "hours_due": 35},
        headers=trainer,
    )
    assert mine.status_code == theirs.status_code == 201
    alice = headers("tigiste")
    assert [e["id"] for e in client.get("/api/v1/enrolments", headers=alice).json()] == [mine.json()["id"]]
    assert [c["id"] for c in client.get("/api/v1/cohorts", headers=alice).json()] == [cohort["id"]]
    assert client.get(f"/api/v1/enrolments/{theirs.json()['id']}", headers=alice).status_code == 404
    assert client.get(f"/api/v1/cohorts/{other['id']}", headers=alice).status_code == 404
    assert client.get(f"/api/v1/users/{user_ids['tigiste2']}", headers=alice).status_code == 404
