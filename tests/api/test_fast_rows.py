"""The job list is encoded straight from rows (`db/fast_rows.py`, issue 15): it must say exactly what
the model says for each job (`GET /jobs/{id}`), on SQLite and PostgreSQL, in one query whatever the
number of rows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event

from fablabctl.context import ServiceContext
from fablabctl.db.engine import session_scope
from fablabctl.db.models import Design, DesignFile, Job

Headers = Callable[[str], dict[str, str]]


def add_jobs(context: ServiceContext, owner_id: int, count: int) -> None:
    """Jobs with every kind of value: empty and nested JSON, accents, coded and typed reasons,
    missing and whole-second datetimes."""
    moment = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    with session_scope(context.sessions) as session:
        if session.get(DesignFile, "c" * 64) is None:
            session.add(DesignFile(sha256="c" * 64, size_bytes=10, file_type="dxf", ok=True, report={}))
            session.flush()
        design = Design(sha256="c" * 64, filename="ruche-toit.dxf", owner_id=owner_id)
        session.add(design)
        session.flush()
        for n in range(count):
            coded = n % 3 == 0
            session.add(
                Job(
                    design_id=design.id,
                    kind="laser" if n % 2 else "printer",
                    material="contreplaqué peuplier 5 mm",
                    state=("queued", "done", "rejected")[n % 3],
                    reason=None if coded else ("Pièce « trop » fine" if n % 3 == 2 else None),
                    reason_code="NO_MACHINE_OF_KIND" if coded else None,
                    reason_params={"kind_fr": "imprimante 3D", "kind_en": "3D printer"} if coded else None,
                    owner_id=owner_id,
                    submitted_by_id=owner_id,
                    settings={} if n % 2 else {"profil": "fin", "couches": [0.1, 0.2], "ok": True},
                    estimates={"seconds": 61.5 + n},
                    progress=n / count,
                    queued_at=None if n % 2 else moment + timedelta(microseconds=n),
                    finished_at=moment,  # whole seconds: written without a fraction
                    created_at=moment - timedelta(minutes=n, microseconds=123456),
                    updated_at=moment,
                )
            )


def normal(job: dict[str, Any]) -> dict[str, Any]:
    """Datetimes compared as moments (`…:00Z` and `…:00.000000Z` are the same instant)."""
    out = dict(job)
    for key, value in job.items():
        if key.endswith("_at") and value is not None:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            assert moment.tzinfo is not None and moment.utcoffset() == timedelta(0), (key, value)
            out[key] = moment
    return out


def test_the_list_says_what_each_job_says(
    client: TestClient, headers: Headers, user_ids: dict[str, int], context: ServiceContext
) -> None:
    add_jobs(context, user_ids["tigiste"], 12)
    for lang in ("fr", "en"):
        trainer = {**headers("trainer"), "Accept-Language": lang}
        listed = client.get("/api/v1/jobs", headers=trainer)
        assert listed.status_code == 200 and listed.headers["content-type"] == "application/json"
        assert len(listed.json()) == 12
        for job in listed.json():
            one = client.get(f"/api/v1/jobs/{job['id']}", headers=trainer).json()
            assert normal(job) == normal(one)
            assert list(job) == list(one)  # the same fields, in the same order
        coded = next(j for j in listed.json() if j["reason_code"])
        assert coded["reason"].startswith("aucune machine" if lang == "fr" else "no machine of this site")


def test_one_query_for_any_number_of_rows(
    client: TestClient, headers: Headers, user_ids: dict[str, int], context: ServiceContext
) -> None:
    trainer = headers("trainer")
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(context.engine, "before_cursor_execute", count)
    try:
        figures = []
        for added, total in ((2, 2), (198, 200)):
            add_jobs(context, user_ids["tigiste"], added)
            statements.clear()
            response = client.get("/api/v1/jobs", headers=trainer)
            assert response.status_code == 200 and len(response.json()) == total
            on_jobs = [s.lower() for s in statements if "jobs" in s.lower()]
            version = [s for s in on_jobs if "max(jobs.updated_at)" in s]  # job_list_cache.py
            figures.append((len(on_jobs) - len(version), len(version)))
    finally:
        event.remove(context.engine, "before_cursor_execute", count)
    assert figures == [(1, 1), (1, 1)], figures  # one query for the rows, one for the version


def test_a_tigiste_lists_only_their_own_jobs(
    client: TestClient, headers: Headers, user_ids: dict[str, int], context: ServiceContext
) -> None:
    add_jobs(context, user_ids["tigiste"], 3)
    add_jobs(context, user_ids["tigiste2"], 2)
    mine = client.get("/api/v1/jobs", headers=headers("tigiste2")).json()
    assert len(mine) == 2 and {j["owner_id"] for j in mine} == {user_ids["tigiste2"]}
