"""No 500 from input: numbers past 2^63, unknown references, quotas, busy validation, headers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from fastapi.testclient import TestClient

from fablabctl.config import Settings
from fablabctl.errors import FablabError
from fablabctl.web.uploads import ValidationSlots
from tests.api.test_api_isolation import cube_stl

Headers = Callable[[str], dict[str, str]]
HUGE = "99999999999999999999"


PATHS = [
    f"/api/v1/jobs/{HUGE}",
    f"/api/v1/designs/{HUGE}",
    f"/api/v1/cohorts/{HUGE}",
    f"/api/v1/users/{HUGE}",
    f"/api/v1/jobs?offset={HUGE}",
    f"/api/v1/jobs?owner_id={HUGE}",
    f"/api/v1/designs?owner_id={HUGE}",
    "/api/v1/jobs/0",
    "/api/v1/jobs?limit=0",
]


def test_numbers_out_of_range_are_422_naming_the_field(client: TestClient, headers: Headers) -> None:
    for who in ("admin", "tigiste"):
        for path in PATHS:
            response = client.get(path, headers=headers(who))
            assert response.status_code == 422, f"{who} {path}: {response.text}"
            assert response.json()["code"] == "INVALID_INPUT"
            assert response.json()["detail"][0]["field"]


def test_huge_numbers_in_a_body_are_a_4xx(client: TestClient, headers: Headers) -> None:
    for body in (
        {"design_id": int(HUGE), "material": "PLA"},
        {"design_id": 1, "material": "PLA", "cohort_id": int(HUGE)},
    ):
        response = client.post("/api/v1/jobs", json=body, headers=headers("admin"))
        assert 400 <= response.status_code < 500, response.text
        assert response.json()["code"]


def test_a_job_for_an_unknown_cohort_is_404_with_a_code(client: TestClient, headers: Headers) -> None:
    trainer = headers("trainer")
    design = client.post("/api/v1/designs", files={"file": ("cube.stl", cube_stl())}, headers=trainer).json()
    body = {"design_id": design["id"], "material": "PLA", "cohort_id": 424242}
    response = client.post("/api/v1/jobs", json=body, headers=trainer)
    assert response.status_code == 404, response.text
    assert response.json()["code"] == "COHORT_NOT_FOUND"


def test_the_storage_quota_is_a_413_in_french(
    settings: Settings, client: TestClient, headers: Headers
) -> None:
    settings.user_quota_mb = 0.001  # 1 KiB: one 12-triangle cube (684 bytes) fits, not two
    alice = {**headers("tigiste"), "Accept-Language": "fr"}
    first = client.post("/api/v1/designs", files={"file": ("a.stl", cube_stl(10))}, headers=alice)
    assert first.status_code == 201, first.text
    again = client.post("/api/v1/designs", files={"file": ("b.stl", cube_stl(30))}, headers=alice)
    assert again.status_code == 413, again.text
    assert again.json()["code"] == "QUOTA_EXCEEDED"
    assert "espace de stockage est plein" in again.json()["message"]
    assert [d["filename"] for d in client.get("/api/v1/designs", headers=alice).json()] == ["a.stl"]
    other = client.post(
        "/api/v1/designs", files={"file": ("c.stl", cube_stl(12))}, headers=headers("tigiste2")
    )
    assert other.status_code == 201, "the quota is per account"


def test_validation_slots_make_others_wait_then_answer_503() -> None:
    async def scenario() -> tuple[int, FablabError | None]:
        slots = ValidationSlots(size=1, wait_s=0.2)
        async with slots.slot():
            try:
                async with slots.slot():
                    pass
            except FablabError as error:
                busy: FablabError | None = error
            else:
                busy = None
        async with slots.slot():  # released: free again
            pass
        return 1, busy

    _, busy = asyncio.run(asyncio.wait_for(scenario(), timeout=10))
    assert busy is not None
    assert busy.status == 503 and busy.code == "VALIDATION_BUSY"
    assert busy.detail["retry_after"] > 0


def test_security_headers_and_no_store_on_the_api(client: TestClient, headers: Headers) -> None:
    response = client.get("/api/v1/auth/me", headers=headers("tigiste"))
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
    error = client.get("/api/v1/jobs/1")
    assert error.status_code == 401 and error.headers["cache-control"] == "no-store"


def test_every_operation_documents_its_errors_with_the_error_body(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status in ("401", "403", "404", "409", "413", "422", "503"):
                ref = operation["responses"][status]["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/ErrorOut"), f"{method} {path} {status}"
