"""Commit, then answer: a change that fails to commit is never acknowledged with a 2xx.

The commit is made to fail for real: a SQLAlchemy `commit` event raising the driver's own error,
and (SQLite) another connection holding the write lock past a short busy timeout.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from sqlalchemy import event, exc, text
from sqlalchemy.engine import Engine

from fablabctl.config import Settings
from fablabctl.context import ServiceContext
from fablabctl.db.engine import make_engine, make_session_factory
from fablabctl.people.ratelimit import LoginLimiter
from fablabctl.web.app import create_app
from fablabctl.web.deps import SessionDep
from tests.api.conftest import PASSWORD

Headers = Callable[[str], dict[str, str]]
COHORT = {"name": "Ruche", "starts_on": "2026-12-01", "ends_on": "2026-12-12"}


def _fail_commits(engine: Engine, error: Exception) -> Callable[..., None]:
    def boom(_conn: Any) -> None:
        raise error

    event.listen(engine, "commit", boom)
    return boom


def _locked() -> exc.OperationalError:
    return exc.OperationalError("COMMIT", None, sqlite3.OperationalError("database is locked"))


def _cohort_name(client: TestClient, auth: dict[str, str], cohort_id: int) -> str:
    response = client.get(f"/api/v1/cohorts/{cohort_id}", headers=auth)
    assert response.status_code == 200, response.text
    name: str = response.json()["name"]
    return name


def test_a_commit_that_fails_is_a_503_and_nothing_changes(
    client: TestClient, headers: Headers, engine: Engine
) -> None:
    trainer = headers("trainer")
    cohort = client.post("/api/v1/cohorts", json=COHORT, headers=trainer).json()
    boom = _fail_commits(engine, _locked())
    try:
        response = client.patch(f"/api/v1/cohorts/{cohort['id']}", json={"name": "Perdu"}, headers=trainer)
        created = client.post("/api/v1/cohorts", json={**COHORT, "name": "Jamais"}, headers=trainer)
    finally:
        event.remove(engine, "commit", boom)
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "DB_BUSY"
    assert "rien n'a été enregistré" in response.json()["message"]
    assert response.headers["retry-after"] == "2"
    assert created.status_code == 503
    assert _cohort_name(client, trainer, cohort["id"]) == "Ruche"
    names = [c["name"] for c in client.get("/api/v1/cohorts", headers=trainer).json()]
    assert "Jamais" not in names


def test_a_constraint_failing_at_commit_is_a_409(
    client: TestClient, headers: Headers, engine: Engine
) -> None:
    trainer = headers("trainer")
    cohort = client.post("/api/v1/cohorts", json=COHORT, headers=trainer).json()
    boom = _fail_commits(
        engine, exc.IntegrityError("COMMIT", None, sqlite3.IntegrityError("FOREIGN KEY constraint failed"))
    )
    try:
        response = client.patch(f"/api/v1/cohorts/{cohort['id']}", json={"name": "Autre"}, headers=trainer)
    finally:
        event.remove(engine, "commit", boom)
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "DB_CONFLICT"
    assert _cohort_name(client, trainer, cohort["id"]) == "Ruche"


@pytest.fixture
def short_busy_client(settings: Settings, engine: Engine, user_ids: dict[str, int]) -> Iterator[TestClient]:
    """The app on its own engine whose SQLite writers give up after 0.3 s (SQLite only: a write lock held
    by another connection is SQLite's; PostgreSQL locks rows, and its commit failures are injected above)."""
    quick = make_engine(settings.sqlalchemy_url, busy_timeout_s=0.3)
    context = ServiceContext(
        settings=settings, engine=quick, sessions=make_session_factory(quick), limiter=LoginLimiter(100)
    )
    with TestClient(create_app(settings, context=context), raise_server_exceptions=False) as test_client:
        yield test_client
    quick.dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_write_lock_held_by_another_process_gives_503_not_200(
    short_busy_client: TestClient, settings: Settings
) -> None:
    client = short_busy_client
    token = client.post("/api/v1/auth/login", json={"username": "trainer", "password": PASSWORD}).json()
    client.cookies.clear()
    trainer = {"Authorization": f"Bearer {token['token']}"}
    cohort = client.post("/api/v1/cohorts", json=COHORT, headers=trainer).json()
    path = settings.sqlalchemy_url.removeprefix("sqlite:///")
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another writer holds the lock
        started = time.monotonic()
        response = client.patch(f"/api/v1/cohorts/{cohort['id']}", json={"name": "Bloqué"}, headers=trainer)
        elapsed = time.monotonic() - started
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "DB_BUSY"
    assert elapsed < 5, f"the busy timeout was not honoured ({elapsed:.1f} s)"
    assert _cohort_name(client, trainer, cohort["id"]) == "Ruche"
    again = client.patch(f"/api/v1/cohorts/{cohort['id']}", json={"name": "Enfin"}, headers=trainer)
    assert again.status_code == 200
    assert _cohort_name(client, trainer, cohort["id"]) == "Enfin"


def test_async_routes_and_plain_routers_also_commit_before_answering(
    settings: Settings, context: ServiceContext, engine: Engine
) -> None:
    """The session dependency's own exit (scope="function") is the safety net for any route."""
    app = create_app(settings, context=context)
    extra = APIRouter()  # deliberately without CommitFirstRoute

    @extra.post("/extra/async", status_code=201)
    async def write_async(session: SessionDep) -> dict[str, str]:
        session.execute(text("CREATE TABLE IF NOT EXISTS probe_async (x INTEGER)"))
        return {"ok": "yes"}

    @extra.post("/extra/sync", status_code=201)
    def write_sync(session: SessionDep) -> dict[str, str]:
        session.execute(text("CREATE TABLE IF NOT EXISTS probe_sync (x INTEGER)"))
        return {"ok": "yes"}

    app.include_router(extra)
    with TestClient(app, raise_server_exceptions=False) as client:
        boom = _fail_commits(engine, _locked())
        try:
            statuses = [client.post(f"/extra/{kind}").status_code for kind in ("async", "sync")]
        finally:
            event.remove(engine, "commit", boom)
        assert statuses == [503, 503]
        assert [client.post(f"/extra/{kind}").status_code for kind in ("async", "sync")] == [201, 201]


def test_every_api_route_commits_in_its_own_thread(client: TestClient) -> None:
    """Routers of the API (web/routers) use CommitFirstRoute: handler and commit in one thread."""
    from fastapi.routing import APIRoute

    from fablabctl.web.transactions import CommitFirstRoute

    found: list[APIRoute] = []

    def walk(routes: Any) -> None:
        for route in routes:
            inner = getattr(route, "original_router", None)
            if inner is not None:
                walk(inner.routes)
            elif isinstance(route, APIRoute):
                found.append(route)

    app: Any = client.app
    walk(app.router.routes)
    api = [r for r in found if r.endpoint.__module__.startswith("fablabctl.web.routers")]
    assert len(api) > 40
    plain = [r.path for r in api if not isinstance(r, CommitFirstRoute)]
    assert plain == [], f"routers without route_class=CommitFirstRoute: {plain}"
