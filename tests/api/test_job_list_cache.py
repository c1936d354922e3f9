"""The job list answered from memory (`queue/job_list_cache.py`) is never a stale or foreign answer:
each change, new job and deletion shows at the next request, each reader gets their own list in their
own language, and a change stamped in the past (a slow commit, another process's clock) shows within
the cache's lifetime. On SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import delete, update

from fablabctl.context import ServiceContext
from fablabctl.db.engine import session_scope
from fablabctl.db.models import Job, JobEvent
from fablabctl.queue.job_list_cache import JobListCache
from tests.api.test_api_isolation import submit, upload

Headers = Callable[[str], dict[str, str]]


def listed(client: TestClient, who: dict[str, str], **params: object) -> dict[int, dict[str, object]]:
    response = client.get("/api/v1/jobs", params=params, headers=who)
    assert response.status_code == 200, response.text
    return {int(job["id"]): job for job in response.json()}


def test_every_change_shows_at_the_next_request(client: TestClient, headers: Headers) -> None:
    alice, trainer = headers("tigiste"), headers("trainer")
    first = submit(client, alice, upload(client, alice)["id"])
    assert listed(client, trainer)[first["id"]]["state"] == "submitted"
    assert listed(client, trainer)[first["id"]]["state"] == "submitted"  # answered from memory
    cache: JobListCache = client.app.state.job_lists  # type: ignore[attr-defined]
    assert cache.hits >= 1

    client.post(f"/api/v1/jobs/{first['id']}/approve", headers=trainer)
    assert listed(client, trainer)[first["id"]]["state"] == "queued"
    second = submit(client, alice, upload(client, alice)["id"])
    assert set(listed(client, trainer)) == {first["id"], second["id"]}
    client.post(f"/api/v1/jobs/{first['id']}/cancel", json={"reason": "plus besoin"}, headers=trainer)
    assert listed(client, trainer)[first["id"]]["state"] == "cancelled"
    assert listed(client, trainer, state="queued") == {}


def test_a_deleted_job_disappears_at_once(
    client: TestClient, headers: Headers, context: ServiceContext
) -> None:
    alice, trainer = headers("tigiste"), headers("trainer")
    kept = submit(client, alice, upload(client, alice)["id"])
    gone = submit(client, alice, upload(client, alice)["id"])
    assert set(listed(client, trainer)) == {kept["id"], gone["id"]}
    with session_scope(context.sessions) as session:  # as a purge does, without touching the others
        session.execute(delete(JobEvent).where(JobEvent.job_id == gone["id"]))
        session.execute(delete(Job).where(Job.id == gone["id"]))
    assert set(listed(client, trainer)) == {kept["id"]}


def test_each_reader_gets_their_own_list_in_their_language(client: TestClient, headers: Headers) -> None:
    alice, bob, trainer = headers("tigiste"), headers("tigiste2"), headers("trainer")
    mine = submit(client, alice, upload(client, alice)["id"])
    theirs = submit(client, bob, upload(client, bob)["id"])
    client.post(f"/api/v1/jobs/{mine['id']}/reject", json={"reason": "Pièce trop fine"}, headers=trainer)
    assert set(listed(client, trainer)) == {mine["id"], theirs["id"]}
    assert set(listed(client, alice)) == {mine["id"]}  # not the trainer's answer from memory
    assert set(listed(client, bob)) == {theirs["id"]}
    english = client.get("/api/v1/jobs", headers={**trainer, "Accept-Language": "en"})
    french = client.get("/api/v1/jobs", headers={**trainer, "Accept-Language": "fr"})
    assert english.headers["content-type"] == french.headers["content-type"] == "application/json"
    assert {j["id"] for j in english.json()} == {j["id"] for j in french.json()}


def test_a_change_stamped_in_the_past_shows_within_the_lifetime(
    client: TestClient, headers: Headers, context: ServiceContext
) -> None:
    alice, trainer = headers("tigiste"), headers("trainer")
    job = submit(client, alice, upload(client, alice)["id"])
    cache: JobListCache = client.app.state.job_lists  # type: ignore[attr-defined]
    cache.ttl_s = 0.5
    assert listed(client, trainer)[job["id"]]["priority"] == 0
    with session_scope(context.sessions) as session:  # a commit whose stamp is older than the newest
        stamp = session.get(Job, job["id"]).updated_at  # type: ignore[union-attr]
        session.execute(
            update(Job).where(Job.id == job["id"]).values(priority=5, updated_at=stamp - timedelta(hours=1))
        )
    time.sleep(0.6)
    assert listed(client, trainer)[job["id"]]["priority"] == 5
