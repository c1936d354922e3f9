"""A room full of pages against a real `fablabctl serve` (issue 15), shortened so it runs in CI.

100 pages poll the job list (200 rows) and the machine list once a second for 5 s while 100 event
streams stay open, on SQLite and PostgreSQL. Every request is answered 200, the open streams hold
no database connection, nothing in the service's log speaks of a pool timeout or a failed database
call, and the dispatcher keeps ticking. No timing is asserted: the speed figures are in
`bench/api.py` (the same client, `bench/apiload.py`, at 200 pages and 500 streams).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.apiload import JOBS, Streams, poll, seed
from tests.api.live import LiveService

PAGES = 100
STREAMS = 100
SECONDS = 5.0
NO_ANSWER_S = 30.0  # a request unanswered this long counts as a failure (a stall), not a slow answer
TROUBLE = (
    "QueuePool limit",
    "TimeoutError",
    "DB_BUSY",
    "request failed on the database",
    "commit failed",
    "tick failed",
    "database unavailable",
    "Traceback",
)
pytestmark = pytest.mark.slow


@pytest.fixture
def service(tmp_path: Path, database_url: str) -> Iterator[LiveService]:
    live = LiveService(tmp_path / "data", demo="true")
    live.env["FABLAB_DATABASE_URL"] = database_url
    live.start(timeout=120)
    try:
        yield live
    finally:
        live.stop()


def figures(service: LiveService, admin: dict[str, str]) -> dict[str, Any]:
    response = httpx.get(f"{service.url}/health/pool", headers=admin, timeout=30)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_a_room_full_of_pages(service: LiveService, database_url: str) -> None:
    admin = service.login()
    body = {"username": "marc", "display_name": "Marc", "role": "trainer", "password": "trainer-pw-42"}
    assert service.call("POST", "/users", admin, json=body).status_code == 201
    trainer = service.login("marc", "trainer-pw-42")
    seed(database_url)
    assert len(service.call("GET", "/jobs", trainer).json()) == JOBS
    before = figures(service, admin)
    assert before["dispatcher_ticks"] is not None, "the dispatcher does not run in this service"

    async def scenario() -> tuple[Any, dict[str, Any], int]:
        streams = Streams("127.0.0.1", service.port, trainer, "/api/v1/events", STREAMS)
        await streams.open()
        held = await asyncio.to_thread(figures, service, admin)
        polled = await poll(
            "127.0.0.1",
            service.port,
            trainer,
            ["/api/v1/jobs", "/api/v1/machines"],
            clients=PAGES,
            seconds=SECONDS,
            timeout=NO_ANSWER_S,
        )
        ended = streams.ended
        await streams.close()
        return polled, held, ended

    polled, held, ended = asyncio.run(asyncio.wait_for(scenario(), timeout=150))
    after = figures(service, admin)
    assert polled.failures == 0, f"{polled.failures} failed: {polled.statuses} {polled.errors}"
    assert polled.count >= PAGES * 2, polled.count  # every page asked at least once
    assert held["checked_out"] == 0, f"{held['checked_out']} connections held by {STREAMS} open streams"
    assert ended == 0, f"{ended} event streams closed by the service"
    assert after["dispatcher_ticks"] > before["dispatcher_ticks"], "the dispatcher stopped ticking"
    assert after["dispatcher_tick_failures"] == before["dispatcher_tick_failures"]
    log = service.log.read_text(errors="replace").splitlines()
    trouble = [line for line in log if any(mark in line for mark in TROUBLE)]
    assert not trouble, "\n".join(trouble[:10])
