"""A whole service in the test process: database, an admin, a tigiste, simulated machines, and a
dispatcher that runs until a condition holds."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import Engine

from fablabctl.config import Settings
from fablabctl.context import ServiceContext
from fablabctl.db.engine import make_session_factory, session_scope
from fablabctl.db.models import Job
from fablabctl.event_bus import EventBus
from fablabctl.people.ratelimit import LoginLimiter
from fablabctl.people.roles import Role
from fablabctl.people.schemas import UserCreate
from fablabctl.people.users import create_user
from fablabctl.queue.dispatcher import Dispatcher
from fablabctl.queue.events import shape_errors
from fablabctl.web.app import create_app

PASSWORD = "correct horse battery"


@pytest.fixture
def lab_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"stagger_start_s": 0.0, "dispatch_poll_s": 0.1, "sim_speed": 500.0, "max_upload_mb": 16.0}
    )


@pytest.fixture
def lab(lab_settings: Settings, engine: Engine) -> Iterator[Lab]:
    context = ServiceContext(
        settings=lab_settings,
        engine=engine,
        sessions=make_session_factory(engine),
        limiter=LoginLimiter(100),
        bus=EventBus(check=shape_errors),
    )
    with session_scope(context.sessions) as session:
        for name, role in (
            ("admin", Role.ADMIN),
            ("trainer", Role.TRAINER),
            ("lea", Role.TIGISTE),
            ("sam", Role.TIGISTE),
        ):
            create_user(
                session=session,
                actor=None,
                data=UserCreate(username=name, display_name=name.title(), role=role, password=PASSWORD),
            )
    with TestClient(create_app(lab_settings, context=context)) as client:
        yield Lab(context, client)


class Lab:
    def __init__(self, context: ServiceContext, client: TestClient) -> None:
        self.context, self.client = context, client
        self._tokens: dict[str, dict[str, str]] = {}

    def auth(self, user: str) -> dict[str, str]:
        if user not in self._tokens:
            token = self.client.post(
                "/api/v1/auth/login", json={"username": user, "password": PASSWORD}
            ).json()["token"]
            self._tokens[user] = {"Authorization": f"Bearer {token}"}
            self.client.cookies.clear()
        return self._tokens[user]

    def call(self, user: str, method: str, path: str, **kwargs: Any) -> Any:
        response = self.client.request(method, f"/api/v1{path}", headers=self.auth(user), **kwargs)
        assert response.status_code < 300, response.text
        return response.json() if response.content else None

    def machine(self, name: str, kind: str = "printer", confirm: bool = False, **extra: Any) -> int:
        body = {
            "name": name,
            "kind": kind,
            "driver": "marlin" if kind == "printer" else "grbl",
            "connection": {"simulated": True},
            "bed_x_mm": 250 if kind == "printer" else 400,
            "bed_y_mm": 210 if kind == "printer" else 300,
            "bed_z_mm": 210 if kind == "printer" else 0,
            "confirm_before_start": confirm,
            "materials": ["PLA", "PETG"] if kind == "printer" else ["plywood-poplar-3mm"],
            **extra,
        }
        return int(self.call("admin", "POST", "/machines", json=body)["id"])

    def submit(self, user: str, path: Path, material: str = "PLA", **extra: Any) -> int:
        with path.open("rb") as stream:
            design = self.call(user, "POST", "/designs", files={"file": (path.name, stream)})
        assert design["ok"], design["report"]
        job = self.call(
            user, "POST", "/jobs", json={"design_id": design["id"], "material": material, **extra}
        )
        return int(job["id"])

    def approve(self, job_id: int) -> None:
        self.call("trainer", "POST", f"/jobs/{job_id}/approve")

    def job(self, job_id: int) -> Job:
        with session_scope(self.context.sessions) as session:
            job = session.get(Job, job_id)
            assert job is not None
            session.expunge(job)
            return job

    def snapshot(self) -> list[tuple[int, str, float, str | None]]:
        with session_scope(self.context.sessions) as session:
            return [
                (j.id, j.state, j.progress, j.reason) for j in session.scalars(select(Job).order_by(Job.id))
            ]

    def run_until(
        self, condition: Callable[[], bool], timeout: float = 60.0, during: Callable[[], None] | None = None
    ) -> Dispatcher:
        """Run a dispatcher until `condition()` is true (checked every 0.1 s); `during` runs each check."""
        dispatcher = Dispatcher(self.context)

        async def main() -> None:
            task = asyncio.create_task(dispatcher.run())
            try:
                loop = asyncio.get_running_loop()
                deadline = loop.time() + timeout
                while not await asyncio.to_thread(condition):
                    if during:
                        await asyncio.to_thread(during)
                    assert loop.time() < deadline, f"condition not reached in time: {self.snapshot()}"
                    assert not task.done(), task.exception()
                    await asyncio.sleep(0.1)
            finally:
                await dispatcher.stop()
                task.cancel()

        asyncio.run(main())
        return dispatcher


def gcode(path: Path, moves: int = 40) -> Path:
    path.write_text(
        "M104 S200\nM109 S200\nG28\nG90\nM83\n"
        + "".join(f"G1 X{10 + i % 50} Y{10 + i % 30} E0.1 F3000\n" for i in range(moves))
        + "M104 S0\n"
    )
    return path
