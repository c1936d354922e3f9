"""Bad requests get a clear 4xx with a stable code, never a 500."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

Headers = Callable[[str], dict[str, str]]


def test_malformed_json(client: TestClient, headers: Headers) -> None:
    response = client.post(
        "/api/v1/machines",
        content=b'{"name": "x",',
        headers={**headers("admin"), "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "MALFORMED_JSON"


def test_wrong_types_name_the_field(client: TestClient, headers: Headers) -> None:
    response = client.post(
        "/api/v1/machines",
        json={"name": "laser", "kind": "laser", "driver": "grbl", "bed_x_mm": "wide", "bed_y_mm": 300},
        headers=headers("admin"),
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "INVALID_INPUT"
    assert "bed_x_mm" in body["message"]


def test_incoherent_machine_is_refused(client: TestClient, headers: Headers) -> None:
    response = client.post(
        "/api/v1/machines",
        json={"name": "laser", "kind": "laser", "driver": "marlin", "bed_x_mm": 400, "bed_y_mm": 300},
        headers=headers("admin"),
    )
    assert response.status_code == 422
    assert "grbl" in response.json()["message"]


def test_unknown_fields_are_refused(client: TestClient, headers: Headers) -> None:
    response = client.post(
        "/api/v1/cohorts",
        json={"name": "x", "starts_on": "2026-01-01", "ends_on": "2026-01-02", "is_admin": True},
        headers=headers("admin"),
    )
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/api/v1/machines/999", "MACHINE_NOT_FOUND"),
        ("/api/v1/users/999", "USER_NOT_FOUND"),
        ("/api/v1/cohorts/999", "COHORT_NOT_FOUND"),
        ("/api/v1/enrolments/999", "ENROLMENT_NOT_FOUND"),
        ("/api/v1/designs/999", "DESIGN_NOT_FOUND"),
        ("/api/v1/jobs/999", "JOB_NOT_FOUND"),
        ("/api/v1/nothing-here", "NOT_FOUND"),
    ],
)
def test_unknown_ids_are_404_with_a_code(client: TestClient, headers: Headers, path: str, code: str) -> None:
    response = client.get(path, headers=headers("admin"))
    assert response.status_code == 404
    assert response.json()["code"] == code


def test_non_numeric_id(client: TestClient, headers: Headers) -> None:
    response = client.get("/api/v1/jobs/abc", headers=headers("admin"))
    assert response.status_code == 422


def test_wrong_method(client: TestClient, headers: Headers) -> None:
    response = client.put("/api/v1/jobs", headers=headers("admin"))
    assert response.status_code == 405
    assert response.json()["code"] == "METHOD_NOT_ALLOWED"


def test_oversize_upload_is_413_and_stores_nothing(client: TestClient, headers: Headers, settings) -> None:  # type: ignore[no-untyped-def]
    big = b"solid x\n" + b" " * (2 * 1024 * 1024)
    response = client.post("/api/v1/designs", files={"file": ("big.stl", big)}, headers=headers("tigiste"))
    assert response.status_code == 413
    assert response.json()["code"] == "UPLOAD_TOO_LARGE"
    assert not any(p.is_file() for p in settings.designs_dir.rglob("*"))
    assert client.get("/api/v1/designs", headers=headers("tigiste")).json() == []


def test_oversize_json_body_is_413(client: TestClient, headers: Headers) -> None:
    response = client.post(
        "/api/v1/cohorts",
        content=b'{"name": "' + b"x" * (2 * 1024 * 1024) + b'"}',
        headers={**headers("admin"), "Content-Type": "application/json"},
    )
    assert response.status_code == 413


def test_upload_without_a_file_field(client: TestClient, headers: Headers) -> None:
    response = client.post("/api/v1/designs", data={"nothing": "here"}, headers=headers("tigiste"))
    assert response.status_code == 422
    assert response.json()["code"] == "INVALID_INPUT"


def test_duplicate_names_are_409(client: TestClient, headers: Headers) -> None:
    body = {
        "name": "laser-1",
        "kind": "laser",
        "driver": "grbl",
        "connection": {"simulated": True},
        "bed_x_mm": 400,
        "bed_y_mm": 300,
    }
    assert client.post("/api/v1/machines", json=body, headers=headers("admin")).status_code == 201
    again = client.post("/api/v1/machines", json=body, headers=headers("admin"))
    assert again.status_code == 409
    assert again.json()["code"] == "MACHINE_NAME_TAKEN"


def test_null_for_any_field_of_an_update_is_never_a_500(client: TestClient, headers: Headers) -> None:
    """Each optional field of a PATCH sent as null (schemathesis found `laser_max_power_s: null` a 500)."""
    admin = headers("admin")
    laser = {"name": "laser", "kind": "laser", "driver": "grbl", "bed_x_mm": 400, "bed_y_mm": 300}
    machine = client.post("/api/v1/machines", json=laser, headers=admin).json()
    cohort = client.post(
        "/api/v1/cohorts",
        json={"name": "c", "starts_on": "2026-01-01", "ends_on": "2026-01-02"},
        headers=admin,
    ).json()
    spec = client.get("/api/v1/openapi.json").json()
    for path, ids in (("/machines/{machine_id}", machine["id"]), ("/cohorts/{cohort_id}", cohort["id"])):
        operation = spec["paths"][f"/api/v1{path}"]["patch"]
        ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
        url = "/api/v1" + path.split("{")[0] + str(ids)
        for field in spec["components"]["schemas"][ref]["properties"]:
            response = client.patch(url, json={field: None}, headers=admin)
            assert response.status_code < 500, f"{path} {field}: {response.text}"
