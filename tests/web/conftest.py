"""Pages under test through a real ASGI client; one account per role (the API tests' fixtures).

The pages add no SQL of their own beyond the service functions (tested on both databases in
tests/api), so these run on SQLite only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import ACCOUNTS, PASSWORD, client, context, user_ids

__all__ = ["ACCOUNTS", "PASSWORD", "client", "context", "user_ids"]


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'pages.db'}"


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field in the page"
    return found.group(1)


@pytest.fixture
def log_in(client: TestClient, user_ids: dict[str, int]) -> Callable[[str], str]:
    """Log `name` in through the login form (cookie session); returns the page's CSRF token after."""

    def go(name: str) -> str:
        client.cookies.clear()
        token = csrf_of(client.get("/login").text)
        response = client.post(
            "/login",
            data={"username": name, "password": PASSWORD, "csrf": token, "next": "/"},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        return csrf_of(client.get(response.headers["location"]).text)

    return go
