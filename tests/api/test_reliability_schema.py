"""schemathesis against a running service's own OpenAPI: no server error, and every answer (status,
content type, body) is one the published schema describes; anonymous, as an admin, as a tigiste, and
with a van's site token (the sync routes).

Every operation is tried (a first pass gives each one example, whatever the time), then more examples
per operation while the time budget lasts. The service is seeded first (a machine, a cohort, an
enrolment, a design, a job), so the small ids the generator favours reach real rows, not only 404s.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from typer.testing import CliRunner

from fablabctl.cli import app as cli_app
from tests.api.live import LiveService
from tests.api.test_api_isolation import cube_stl

BUDGET_S = 40.0  # per identity, for the examples after the first pass
EXAMPLES = 4  # per operation, at most
SITE_EXAMPLES = 25  # per sync route, with a van's token: a push carries arbitrary records
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# an endless stream (covered by test_api_events); logout would revoke the token under test, and an
# admin deleting accounts would end the tigiste's session before their turn
SKIP = {("GET", "/api/v1/events"), ("POST", "/api/v1/auth/logout"), ("DELETE", "/api/v1/users/{user_id}")}
SYNC = "/api/v1/sync/"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    live = LiveService(tmp_path_factory.mktemp("schema") / "data", max_upload_mb="1")
    live.start()
    yield live
    live.stop()


def _seed(service: LiveService, admin: dict[str, str], tigiste: dict[str, str]) -> int:
    """Rows with small ids for the generated requests to find; the cohort's id."""

    def made(response: httpx.Response) -> Any:
        assert response.status_code == 201, response.text
        return response.json()

    printer = {"name": "prusa", "kind": "printer", "driver": "marlin", "connection": {"port": "/dev/null"}}
    made(
        service.call(
            "POST", "/machines", admin, json={**printer, "bed_x_mm": 250, "bed_y_mm": 210, "bed_z_mm": 210}
        )
    )
    cohort = made(
        service.call(
            "POST",
            "/cohorts",
            admin,
            json={"name": "Ruche", "starts_on": "2026-12-01", "ends_on": "2026-12-12"},
        )
    )
    me = service.call("GET", "/auth/me", tigiste).json()["id"]
    made(
        service.call(
            "POST", "/enrolments", admin, json={"cohort_id": cohort["id"], "user_id": me, "hours_due": 70}
        )
    )
    design = made(service.call("POST", "/designs", tigiste, files={"file": ("cube.stl", cube_stl())}))
    made(service.call("POST", "/jobs", tigiste, json={"design_id": design["id"], "material": "PLA"}))
    return int(cohort["id"])


def _site_token(service: LiveService, cohort_id: int) -> str:
    env: dict[str, str | None] = {k: v for k, v in service.env.items() if k.startswith("FABLAB_")}
    env["FABLAB_DATABASE_URL"] = None  # the service's own SQLite file, whatever this process was given
    result = CliRunner().invoke(cli_app, ["site", "token", "add", "van", "--cohort", str(cohort_id)], env=env)
    assert result.exit_code == 0, result.output
    token = str(result.stdout.strip().splitlines()[-1])
    pulled = service.call(
        "GET", "/sync/pull", {"Authorization": f"Bearer {token}"}, params={"cohort_id": cohort_id}
    )
    assert pulled.status_code == 200, pulled.text
    return token


@pytest.fixture(scope="module")
def identities(service: LiveService) -> dict[str, dict[str, str]]:
    """Logged in before any fuzzing (the login route's own rate limit is fuzzed too)."""
    admin = service.login()
    tigiste = service.add_tigiste(admin, "fuzz")
    cohort_id = _seed(service, admin, tigiste)
    site = {"Authorization": f"Bearer {_site_token(service, cohort_id)}"}
    return {
        "anonymous": {},
        "admin": admin,
        "tigiste": tigiste,
        "site": site,
        "cohort": {"id": str(cohort_id)},
    }


@pytest.mark.parametrize("identity", ["site", "anonymous", "admin", "tigiste"])  # the admin deletes rows
def test_the_api_keeps_to_its_published_schema(
    service: LiveService, identities: dict[str, dict[str, str]], identity: str
) -> None:
    headers = identities[identity]
    cohort_id = int(identities["cohort"]["id"])
    schema = schemathesis.openapi.from_url(f"{service.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    operations = [op for op in operations if (op.method.upper(), op.path) not in SKIP]
    examples = EXAMPLES
    if identity == "site":  # a site token opens the sync routes only (everything else is a 401): more
        operations = [op for op in operations if op.path.startswith(SYNC)]  # examples for those four
        assert len(operations) >= 4
        examples = SITE_EXAMPLES
    else:
        assert len(operations) > 70
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    tried: Counter[str] = Counter()

    def fuzz(operation: Any, examples: int) -> None:
        @given(case=operation.as_strategy(), data=st.data())
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case: schemathesis.Case, data: st.DataObject) -> None:
            tried[f"{case.method} {operation.path}"] += 1
            if headers:  # the sync routes declare Authorization: the generator would write its own
                case.headers = {**(case.headers or {}), **headers}
            if identity == "site" and data.draw(st.booleans()):  # half the time, the token's own cohort
                if isinstance(case.body, dict) and "cohort_id" in case.body:
                    case.body = {**case.body, "cohort_id": cohort_id}
                if case.query and "cohort_id" in case.query:
                    case.query = {**case.query, "cohort_id": cohort_id}
            if case.path_parameters and data.draw(st.booleans()):  # half the time, a seeded row
                case.path_parameters = {
                    name: data.draw(st.integers(1, 3)) if isinstance(value, int) else value
                    for name, value in case.path_parameters.items()
                }
            response = case.call(base_url=service.root, headers=headers, timeout=20)
            statuses[response.status_code] += 1
            try:
                case.validate_response(response, checks=CHECKS)
            except (AssertionError, BaseExceptionGroup) as error:
                failures.append(f"{case.method} {case.path}: {str(error)[:600]}")

        run()

    for operation in operations:  # every operation once, whatever the time
        fuzz(operation, 1)
    deadline = time.monotonic() + BUDGET_S
    for operation in operations:
        if time.monotonic() > deadline:
            break
        fuzz(operation, examples - 1)
    requests = sum(statuses.values())
    print(
        f"schemathesis {identity}: {len(tried)} operations, {requests} requests, "
        f"statuses {sorted(statuses.items())}"
    )
    assert len(tried) == len(operations), f"not tried: {len(operations) - len(tried)} operations"
    assert not failures, f"{len(failures)} failures in {requests} requests:\n" + "\n\n".join(failures[:8])
    assert "Traceback" not in service.tail(400), service.tail(60)
