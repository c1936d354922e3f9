"""schemathesis against a running service's own OpenAPI: no server error, and every answer (status,
content type, body) is one the published schema describes; anonymous, as an admin, as a tigiste.

Bounded: a few examples per operation and a time budget per identity (the whole file: about 90 s).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

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

from tests.api.live import LiveService

BUDGET_S = 25.0  # per identity
EXAMPLES = 4  # per operation
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# an endless stream (covered by test_api_events); logout would revoke the token under test
SKIP = {"/api/v1/events", "/api/v1/auth/logout"}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    live = LiveService(tmp_path_factory.mktemp("schema") / "data", max_upload_mb="1")
    live.start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def identities(service: LiveService) -> dict[str, dict[str, str]]:
    """Logged in before any fuzzing (the login route's own rate limit is fuzzed too)."""
    admin = service.login()
    return {"anonymous": {}, "admin": admin, "tigiste": service.add_tigiste(admin, "fuzz")}


@pytest.mark.parametrize("identity", ["anonymous", "admin", "tigiste"])
def test_the_api_keeps_to_its_published_schema(
    service: LiveService, identities: dict[str, dict[str, str]], identity: str
) -> None:
    headers = identities[identity]
    schema = schemathesis.openapi.from_url(f"{service.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    operations = [op for op in operations if op.path not in SKIP and op.method.upper() != "DELETE"]
    assert len(operations) > 40
    failures: list[str] = []
    requests = 0
    statuses: dict[int, int] = {}
    deadline = time.monotonic() + BUDGET_S
    for operation in operations:
        if time.monotonic() > deadline:
            break

        @given(case=operation.as_strategy(), data=st.data())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case: schemathesis.Case, data: st.DataObject) -> None:
            nonlocal requests
            requests += 1
            response = case.call(base_url=service.root, headers=headers, timeout=20)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            try:
                case.validate_response(response, checks=CHECKS)
            except (AssertionError, BaseExceptionGroup) as error:
                failures.append(f"{case.method} {case.path}: {str(error)[:600]}")

        run()
    print(f"schemathesis {identity}: {requests} requests, statuses {sorted(statuses.items())}")
    assert requests > 100, f"only {requests} requests in the budget"
    assert not failures, f"{len(failures)} failures in {requests} requests:\n" + "\n\n".join(failures[:8])
    assert "Traceback" not in service.tail(400), service.tail(60)
