"""`/api/v1/events` through a real HTTP server and a real streaming client."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
import uvicorn

from fablabctl.config import Settings
from fablabctl.context import ServiceContext
from fablabctl.queue import events
from fablabctl.web.app import create_app
from tests.api.conftest import PASSWORD
from tests.postgres_server import free_port


@pytest.fixture
def server(settings: Settings, context: ServiceContext, user_ids: dict[str, int]) -> Iterator[str]:
    port = free_port()
    config = uvicorn.Config(
        create_app(settings, context=context), host="127.0.0.1", port=port, log_level="warning"
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


def token(url: str, username: str) -> str:
    response = httpx.post(f"{url}/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    return str(response.json()["token"])


def read_events(url: str, username: str, count: int, publish: Callable[[], None]) -> list[tuple[str, dict]]:  # type: ignore[type-arg]
    """Connect, wait for the stream to open, publish, and collect `count` events."""
    received: list[tuple[str, dict]] = []  # type: ignore[type-arg]
    headers = {"Authorization": f"Bearer {token(url, username)}"}
    with httpx.stream("GET", f"{url}/api/v1/events", headers=headers, timeout=10) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        name = None
        lines = response.iter_lines()
        assert next(lines) == ": connected"
        publish()
        for line in lines:
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: ") and name:
                received.append((name, json.loads(line.removeprefix("data: "))))
                if len(received) == count:
                    break
    return received


def test_staff_hear_everything_in_order(
    server: str, context: ServiceContext, user_ids: dict[str, int]
) -> None:
    def publish() -> None:
        context.bus.publish(events.JOB_STATE, {"job_id": 1, "to": "running"}, owner_id=user_ids["tigiste"])
        context.bus.publish(events.MACHINE_TEMPERATURES, {"machine_id": 3, "hotend": 201.5})
        context.bus.publish(events.OPERATOR_PROMPT, {"job_id": 2, "question": "Plateau dégagé ?"})

    got = read_events(server, "operator", 3, publish)
    assert [name for name, _ in got] == [
        events.JOB_STATE,
        events.MACHINE_TEMPERATURES,
        events.OPERATOR_PROMPT,
    ]
    assert got[1][1]["hotend"] == 201.5
    assert "at" in got[0][1]


def test_a_tigiste_hears_only_about_their_own_jobs(
    server: str, context: ServiceContext, user_ids: dict[str, int]
) -> None:
    def publish() -> None:
        context.bus.publish(events.JOB_STATE, {"job_id": 7}, owner_id=user_ids["tigiste2"])
        context.bus.publish(events.OPERATOR_PROMPT, {"job_id": 7})
        context.bus.publish(events.JOB_PROGRESS, {"job_id": 8, "progress": 0.5}, owner_id=user_ids["tigiste"])
        context.bus.publish(events.MACHINE_STATE, {"machine_id": 1, "state": "busy"})

    got = read_events(server, "tigiste", 2, publish)
    assert got == [
        (events.JOB_PROGRESS, {"job_id": 8, "progress": 0.5, "at": got[0][1]["at"]}),
        (events.MACHINE_STATE, {"machine_id": 1, "state": "busy", "at": got[1][1]["at"]}),
    ]


def test_events_need_a_login(server: str) -> None:
    response = httpx.get(f"{server}/api/v1/events")
    assert response.status_code == 401


def test_state_changes_are_published_only_after_commit(context: ServiceContext) -> None:
    """A rolled-back change must never be announced."""
    import asyncio

    from fablabctl.db.engine import session_scope

    async def scenario() -> list[str]:
        async with context.bus.subscribe() as sub:
            with context.sessions() as session:
                events.defer(session, events.MACHINE_STATE, {"n": "rolled back"})
                session.rollback()
            with session_scope(context.sessions) as session:
                events.defer(session, events.MACHINE_STATE, {"n": "committed"})
            item = await asyncio.wait_for(sub.get(), timeout=5)
            return [item.data["n"]] + [sub.queue.get_nowait().data["n"] for _ in range(sub.queue.qsize())]

    assert asyncio.run(scenario()) == ["committed"]
