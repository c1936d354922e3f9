"""Accounts and access: lockouts per account and per address, sessions ended on reset, no last-admin
removal, audited staff reads, offline API docs, control characters refused."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from fablabctl.config import Settings
from fablabctl.context import ServiceContext
from fablabctl.db.engine import session_scope
from fablabctl.db.models import AuditEntry
from fablabctl.people.ratelimit import ADDRESS_FACTOR, MAX_LOCK_S, LoginLimiter, account_lock_s
from fablabctl.web.app import create_app
from tests.api.conftest import PASSWORD
from tests.api.test_api_isolation import submit, upload

Headers = Callable[[str], dict[str, str]]
API = "/api/v1"


def login(client: TestClient, username: str, password: str = PASSWORD) -> Any:
    response = client.post(f"{API}/auth/login", json={"username": username, "password": password})
    client.cookies.clear()
    return response


def audit_rows(context: ServiceContext, action: str) -> list[AuditEntry]:
    with session_scope(context.sessions) as session:
        rows = list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))
        session.expunge_all()
    return rows


# --- 1. one person's typos lock only their account -------------------------------------------------


def test_one_accounts_typos_do_not_lock_the_room(
    client: TestClient, settings: Settings, user_ids: dict[str, int]
) -> None:
    limit = settings.login_attempts_per_minute
    assert [login(client, "tigiste", "wrong-guess").status_code for _ in range(limit)] == [401] * limit
    locked = login(client, "tigiste")
    assert locked.status_code == 429
    assert locked.json()["code"] == "LOGIN_RATE_LIMITED"
    # same address, other accounts: the admin and the rest of the group still log in
    for name in ("admin", "trainer", "tigiste2"):
        assert login(client, name).status_code == 200, name


def test_failed_logins_are_committed_to_the_audit_log_and_survive_a_restart(
    client: TestClient, settings: Settings, context: ServiceContext, user_ids: dict[str, int]
) -> None:
    limit = settings.login_attempts_per_minute
    for _ in range(limit):
        assert login(client, "tigiste", "wrong-guess").status_code == 401
    assert login(client, "nobody-here", "whatever").status_code == 401
    rows = audit_rows(context, "auth.login_failed")
    assert sorted(r.target_id or "" for r in rows) == sorted([str(user_ids["tigiste"])] * limit + [""])
    for row in rows:  # no name typed, no address, no password: the id only
        assert row.actor_id is None and row.detail == {}

    # a restarted service (new limiter, new app, same database) keeps the account's lock
    restarted = ServiceContext(
        settings=settings,
        engine=context.engine,
        sessions=context.sessions,
        limiter=LoginLimiter(settings.login_attempts_per_minute),
    )
    with TestClient(create_app(settings, context=restarted), raise_server_exceptions=False) as again:
        assert login(again, "tigiste").status_code == 429
        assert login(again, "trainer").status_code == 200


def test_a_success_resets_the_count_and_the_lock_grows() -> None:
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    stamps = [now - timedelta(seconds=5 - i) for i in range(5)]
    assert account_lock_s(stamps[:4], now, limit=5, window_s=60) == 0
    assert account_lock_s(stamps, now, limit=5, window_s=60) == 59
    assert account_lock_s([*stamps, now], now, limit=5, window_s=60) == 120
    assert account_lock_s([*stamps, *[now] * 10], now, limit=5, window_s=60) == MAX_LOCK_S
    assert account_lock_s(stamps, now + timedelta(minutes=2), limit=5, window_s=60) == 0


def test_success_before_the_limit_starts_the_count_again(
    client: TestClient, settings: Settings, user_ids: dict[str, int]
) -> None:
    limit = settings.login_attempts_per_minute
    for _ in range(2):
        for _ in range(limit - 1):
            assert login(client, "tigiste", "wrong-guess").status_code == 401
        assert login(client, "tigiste").status_code == 200


def test_many_failures_from_one_address_lock_that_address_only(
    settings: Settings, context: ServiceContext, user_ids: dict[str, int]
) -> None:
    limit = 1  # the smallest policy keeps the test short: 1 failure per name, ADDRESS_FACTOR per address
    strict = ServiceContext(
        settings=settings, engine=context.engine, sessions=context.sessions, limiter=LoginLimiter(limit)
    )
    app = create_app(settings, context=strict)
    with (
        TestClient(app, raise_server_exceptions=False, client=("10.0.0.1", 50000)) as noisy,
        TestClient(app, raise_server_exceptions=False, client=("10.0.0.2", 50000)) as other,
    ):
        for n in range(ADDRESS_FACTOR * limit):  # under each name's own limit, over the address's
            assert login(noisy, f"guess{n}", "wrong-guess").status_code == 401
        blocked = login(noisy, "admin")
        assert blocked.status_code == 429
        assert int(blocked.headers["Retry-After"]) > 0
        assert login(other, "admin").status_code == 200
        # an unknown name locks like a real one: a 429 does not tell whether the account exists
        assert login(other, "guess0", "wrong-guess").status_code == 429


# --- 2. a reset or a (de)activation ends every session ---------------------------------------------


def test_password_reset_ends_the_accounts_sessions(
    client: TestClient, headers: Headers, user_ids: dict[str, int]
) -> None:
    tigiste = headers("tigiste")
    assert client.get(f"{API}/auth/me", headers=tigiste).status_code == 200
    reset = client.patch(
        f"{API}/users/{user_ids['tigiste']}", json={"password": "a new long one"}, headers=headers("trainer")
    )
    assert reset.status_code == 200, reset.text
    assert client.get(f"{API}/auth/me", headers=tigiste).status_code == 401
    assert login(client, "tigiste", "a new long one").status_code == 200


def test_reactivation_does_not_revive_old_tokens(
    client: TestClient, headers: Headers, user_ids: dict[str, int]
) -> None:
    tigiste, trainer = headers("tigiste"), headers("trainer")
    url = f"{API}/users/{user_ids['tigiste']}"
    assert client.patch(url, json={"active": False}, headers=trainer).status_code == 200
    assert client.get(f"{API}/auth/me", headers=tigiste).status_code == 401
    assert client.patch(url, json={"active": True}, headers=trainer).status_code == 200
    assert client.get(f"{API}/auth/me", headers=tigiste).status_code == 401
    assert login(client, "tigiste").status_code == 200


def test_delete_then_reactivate_does_not_revive_old_tokens(
    client: TestClient, headers: Headers, user_ids: dict[str, int]
) -> None:
    tigiste, trainer = headers("tigiste"), headers("trainer")
    url = f"{API}/users/{user_ids['tigiste']}"
    assert client.delete(url, headers=trainer).status_code == 204
    assert client.patch(url, json={"active": True}, headers=trainer).status_code == 200
    assert client.get(f"{API}/auth/me", headers=tigiste).status_code == 401


# --- 3. a tigiste cannot probe ids --------------------------------------------------------------------


def test_a_tigiste_gets_the_same_404_for_existing_and_missing_users(
    client: TestClient, headers: Headers, user_ids: dict[str, int]
) -> None:
    tigiste = headers("tigiste")
    assert client.get(f"{API}/users/{user_ids['tigiste']}", headers=tigiste).status_code == 200
    existing = client.get(f"{API}/users/{user_ids['admin']}", headers=tigiste)
    missing = client.get(f"{API}/users/99999", headers=tigiste)
    assert existing.status_code == missing.status_code == 404
    assert existing.json()["code"] == missing.json()["code"]


# --- 4. never zero active admins -----------------------------------------------------------------------


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(
    client: TestClient, headers: Headers, user_ids: dict[str, int]
) -> None:
    admin = headers("admin")
    url = f"{API}/users/{user_ids['admin']}"
    for change in ({"role": "trainer"}, {"active": False}):
        refused = client.patch(url, json=change, headers=admin)
        assert refused.status_code == 409, change
        assert refused.json()["code"] == "LAST_ADMIN"
        assert "administrateur" in refused.json()["message"]
        english = client.patch(url, json=change, headers={**admin, "Accept-Language": "en"})
        assert "administrator" in english.json()["message"]
    assert client.get(f"{API}/auth/me", headers=admin).json()["role"] == "admin"

    second = {"username": "admin2", "display_name": "Admin 2", "role": "admin", "password": PASSWORD}
    assert client.post(f"{API}/users", json=second, headers=admin).status_code == 201
    assert client.patch(url, json={"role": "trainer"}, headers=admin).status_code == 200


# --- 5. staff reads of a tigiste's data are audited, once per request ---------------------------------


def test_staff_reads_of_a_tigistes_data_are_audited(
    client: TestClient, headers: Headers, context: ServiceContext, user_ids: dict[str, int]
) -> None:
    tigiste, trainer = headers("tigiste"), headers("trainer")
    owner = user_ids["tigiste"]
    design = upload(client, tigiste)
    job = submit(client, tigiste, design["id"])
    for path in (f"/designs/{design['id']}", "/designs", f"/jobs/{job['id']}", "/jobs"):
        assert client.get(f"{API}{path}", headers=tigiste).status_code == 200
    assert audit_rows(context, "staff.read") == []  # one's own data: nothing to log

    reads = (
        (f"/designs?owner_id={owner}", "designs"),
        (f"/designs/{design['id']}", "design"),
        (f"/jobs?owner_id={owner}", "jobs"),
        (f"/jobs/{job['id']}", "job"),
        (f"/jobs/history?owner_id={owner}", "history"),
    )
    for path, _ in reads:
        assert client.get(f"{API}{path}", headers=trainer).status_code == 200, path
    rows = audit_rows(context, "staff.read")
    assert sorted(r.detail["what"] for r in rows) == sorted(what for _, what in reads)
    for row in rows:
        assert row.actor_id == user_ids["trainer"]
        assert row.target_type == "user" and row.target_id == str(owner)


# --- 6. the API docs work offline ------------------------------------------------------------------------


def test_api_docs_use_no_external_host(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert re.findall(r"https?://", page.text) == []
    assert "cdn" not in page.headers["content-security-policy"]
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text)
    assert len(assets) >= 3  # the script, the stylesheet, the icon
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert len(response.content) > 0


# --- 7. free text refuses control characters -----------------------------------------------------------


def test_control_characters_are_refused_in_free_text(
    client: TestClient, headers: Headers, user_ids: dict[str, int]
) -> None:
    admin = headers("admin")
    body = {"name": "laser-1", "kind": "laser", "driver": "grbl", "bed_x_mm": 400, "bed_y_mm": 300}
    machine = client.post(f"{API}/machines", json=body, headers=admin)
    assert machine.status_code == 201, machine.text
    url = f"{API}/machines/{machine.json()['id']}"
    for bad in ("PLA\x1b[31m", "PLA\nrouge", "PLA\x00", "\u202eALP"):
        refused = client.patch(url, json={"loaded_material": bad}, headers=admin)
        assert refused.status_code == 422, bad
        assert refused.json()["code"] == "INVALID_INPUT"
        assert refused.json()["detail"][0]["field"] == "loaded_material"
    assert client.patch(url, json={"loaded_material": "PLA rouge é"}, headers=admin).status_code == 200
    name = client.patch(
        f"{API}/users/{user_ids['tigiste']}", json={"display_name": "Al\x07ice"}, headers=admin
    )
    assert name.status_code == 422
