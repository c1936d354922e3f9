"""The app under test, reached through a real ASGI client, with one account per role."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from fablabctl.config import Settings
from fablabctl.context import ServiceContext
from fablabctl.db.engine import make_session_factory, session_scope
from fablabctl.event_bus import EventBus
from fablabctl.people.ratelimit import LoginLimiter
from fablabctl.people.roles import Role
from fablabctl.people.schemas import UserCreate
from fablabctl.people.users import create_user
from fablabctl.queue.events import shape_errors
from fablabctl.web.app import create_app

PASSWORD = "correct horse battery"
ACCOUNTS = {
    "admin": Role.ADMIN,
    "trainer": Role.TRAINER,
    "operator": Role.OPERATOR,
    "tigiste": Role.TIGISTE,
    "tigiste2": Role.TIGISTE,
}


@pytest.fixture
def context(settings: Settings, engine: Engine) -> ServiceContext:
    return ServiceContext(
        settings=settings,
        engine=engine,
        sessions=make_session_factory(engine),
        limiter=LoginLimiter(settings.login_attempts_per_minute),
        bus=EventBus(check=shape_errors),
    )


@pytest.fixture
def user_ids(context: ServiceContext) -> dict[str, int]:
    ids = {}
    with session_scope(context.sessions) as session:
        for name, role in ACCOUNTS.items():
            user = create_user(
                session=session,
                actor=None,
                data=UserCreate(username=name, display_name=name.capitalize(), role=role, password=PASSWORD),
            )
            ids[name] = user.id
    return ids


@pytest.fixture
def client(settings: Settings, context: ServiceContext) -> Iterator[TestClient]:
    with TestClient(create_app(settings, context=context), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def headers(client: TestClient, user_ids: dict[str, int]) -> Callable[[str], dict[str, str]]:
    """Bearer headers for an account, logging in once per account through the real endpoint."""
    cache: dict[str, dict[str, str]] = {}

    def get(name: str) -> dict[str, str]:
        if name not in cache:
            response = client.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
            assert response.status_code == 200, response.text
            cache[name] = {"Authorization": f"Bearer {response.json()['token']}"}
            client.cookies.clear()  # each call authenticates by its own header only
        return cache[name]

    return get
