"""A request holds a database connection only while it runs SQL (issue 15, item 1).

A real uvicorn server in this process (so the test can look at the engine's pool) with a pool of
just 2 connections and no overflow: open event streams hold none, and 80 clients at once, each
authenticated, all get their answer. Before, a request took its connection in the authentication
step and kept it while waiting for a worker thread: 20 clients stalled a pool of 15 for 30 s.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from sqlalchemy.engine import Engine

from fablabctl.config import Settings
from fablabctl.context import ServiceContext
from fablabctl.db.engine import make_engine, make_session_factory
from fablabctl.people.ratelimit import LoginLimiter
from fablabctl.web.app import create_app
from tests.api.conftest import PASSWORD
from tests.postgres_server import free_port

CLIENTS = 80
STREAMS = 10


@pytest.fixture
def small_pool(settings: Settings, engine: Engine, user_ids: dict[str, int]) -> Iterator[tuple[str, Engine]]:
    tiny = make_engine(settings.sqlalchemy_url, pool_size=2, max_overflow=0, pool_timeout=5)
    context = ServiceContext(
        settings=settings, engine=tiny, sessions=make_session_factory(tiny), limiter=LoginLimiter(1000)
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, context=context), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/api/v1", tiny
    server.should_exit = True
    thread.join(timeout=15)
    tiny.dispose()


def test_streams_hold_no_connection_and_many_clients_share_a_tiny_pool(
    small_pool: tuple[str, Engine],
) -> None:
    url, tiny = small_pool
    token = httpx.post(f"{url}/auth/login", json={"username": "tigiste", "password": PASSWORD}).json()[
        "token"
    ]
    auth = {"Authorization": f"Bearer {token}"}

    async def scenario() -> tuple[list[int], int]:
        async with httpx.AsyncClient(
            base_url=url, headers=auth, timeout=30, limits=httpx.Limits(max_connections=CLIENTS + STREAMS)
        ) as client:
            streams = []
            for _ in range(STREAMS):
                request = client.build_request("GET", "/events")
                response = await client.send(request, stream=True)
                assert response.status_code == 200
                first = await anext(response.aiter_lines())
                assert first.startswith(":"), first
                streams.append(response)
            held_by_streams = tiny.pool.checkedout()  # type: ignore[attr-defined]
            paths = ["/jobs", "/machines", "/designs", "/auth/me"]
            answers = await asyncio.gather(*(client.get(paths[i % len(paths)]) for i in range(CLIENTS)))
            for response in streams:
                await response.aclose()
            return [a.status_code for a in answers], held_by_streams

    statuses, held = asyncio.run(asyncio.wait_for(scenario(), timeout=120))
    assert held == 0, f"{held} connections held by {STREAMS} open event streams"
    assert statuses == [200] * CLIENTS, sorted(set(statuses))
