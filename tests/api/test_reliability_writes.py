"""Acknowledged means stored, against a real service process:

- `kill -9` while clients write: after a restart, every write answered 2xx is there (with its audit row);
- another process holds SQLite's write lock: writes answer 503 `DB_BUSY` (never 2xx) within the busy
  timeout, nothing of theirs is stored, and the service writes again once the lock is released.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from fablabctl.web.csrf import token_for_session
from tests.api.live import LiveService

WRITERS = 4
KILLS = 3
COHORT = {"starts_on": "2026-12-01", "ends_on": "2026-12-12"}


@dataclass
class Writes:
    """What the clients were told: cohorts created (id -> name) and the renames of a shared cohort."""

    created: dict[int, str] = field(default_factory=dict)
    renames: list[str] = field(default_factory=list)  # acknowledged, in order
    attempted_renames: list[str] = field(default_factory=list)
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _writer(service: LiveService, headers: dict[str, str], shared_id: int, tag: str, writes: Writes) -> None:
    client = httpx.Client(base_url=service.url, headers=headers, timeout=10)
    n = 0
    while True:
        n += 1
        try:
            if n % 2:
                name = f"{tag}-{n}"
                response = client.post("/cohorts", json={**COHORT, "name": name})
                if response.status_code == 201:
                    with writes.lock:
                        writes.created[response.json()["id"]] = name
            else:
                name = f"renamed-{tag}-{n}"
                with writes.lock:
                    writes.attempted_renames.append(name)
                response = client.patch(f"/cohorts/{shared_id}", json={"name": name})
                if response.status_code == 200:
                    with writes.lock:
                        writes.renames.append(name)
            if response.status_code >= 300:
                writes.refused += 1
        except httpx.HTTPError:
            return  # the service is gone: this writer's last request was never acknowledged


@pytest.fixture
def service(tmp_path: Path) -> Iterator[LiveService]:
    live = LiveService(tmp_path / "data")
    live.start()
    yield live
    live.stop()


def _db(service: LiveService) -> sqlite3.Connection:
    return sqlite3.connect(service.data / "fablabctl.db")


def test_every_acknowledged_write_survives_kill_9(service: LiveService) -> None:
    admin = service.login()
    shared = service.call("POST", "/cohorts", admin, json={**COHORT, "name": "partagée"}).json()["id"]
    writes = Writes()
    for cycle in range(KILLS):
        headers = service.login()
        threads = [
            threading.Thread(target=_writer, args=(service, headers, shared, f"c{cycle}w{i}", writes))
            for i in range(WRITERS)
        ]
        for thread in threads:
            thread.start()
        time.sleep(1.5)
        service.kill()  # mid-flight: some requests are being handled right now
        for thread in threads:
            thread.join(timeout=15)
            assert not thread.is_alive(), "a writer did not notice the service was gone"
        service.start()
    admin = service.login()
    stored = {c["id"]: c["name"] for c in service.call("GET", "/cohorts", admin).json()}
    lost = {i: name for i, name in writes.created.items() if stored.get(i) != name}
    assert len(writes.created) > 20, f"too few writes to mean anything ({len(writes.created)})"
    assert not lost, f"{len(lost)} acknowledged creations lost: {lost}"
    final = stored[shared]
    assert writes.renames, "no rename was acknowledged"
    # the last acknowledged rename, or one that was in flight when the service died (never told)
    assert final in writes.attempted_renames[writes.attempted_renames.index(writes.renames[-1]) :]
    with _db(service) as db:
        audited = {
            int(row[0]) for row in db.execute("SELECT target_id FROM audit_log WHERE action='cohort.create'")
        }
        updates = db.execute(
            "SELECT count(*) FROM audit_log WHERE action='cohort.update' AND target_id=?", (str(shared),)
        ).fetchone()[0]
    assert set(writes.created) <= audited, "an acknowledged creation has no audit row"
    assert updates >= len(writes.renames), "an acknowledged rename has no audit row"
    print(
        f"kill -9: {KILLS} kills, {len(writes.created) + len(writes.renames)} acknowledged writes checked, "
        f"{writes.refused} refused, 0 lost"
    )


def _writes_of_every_kind(
    service: LiveService, admin: dict[str, str], cohort_id: int
) -> list[tuple[str, httpx.Response]]:
    """One write through each kind of route while the lock is held: API routers added after the
    first ones (journal, users, machines) and the pages' forms (journal, admin settings, materials)."""
    token = admin["Authorization"].removeprefix("Bearer ")
    csrf = token_for_session(token)
    printer = {"name": "jamais", "kind": "printer", "driver": "marlin", "connection": {"port": "/dev/null"}}
    material = {"key": "jamais", "name_fr": "a", "name_en": "b", "source_co2": "1", "cut_speed": "100"}
    forms = {
        "page journal": (f"/cohorts/{cohort_id}/journal", {"text": "jamais"}),
        "page settings": ("/admin/settings", {"daily_max_hours": "7,5"}),
        "page material": ("/admin/materials", {**material, "cut_power": "50", "cut_passes": "1"}),
    }
    user = {"username": "jamais", "display_name": "Jamais", "role": "tigiste", "password": "mot-de-passe-42"}
    answers = [
        ("journal", service.call("POST", f"/cohorts/{cohort_id}/journal", admin, json={"text": "jamais"})),
        ("user", service.call("POST", "/users", admin, json=user)),
        (
            "machine",
            service.call(
                "POST",
                "/machines",
                admin,
                json={**printer, "bed_x_mm": 200, "bed_y_mm": 200, "bed_z_mm": 200},
            ),
        ),
    ]
    with httpx.Client(base_url=service.root, cookies={"fablab_session": token}, timeout=30) as pages:
        for what, (path, form) in forms.items():
            answers.append((what, pages.post(path, data={**form, "csrf": csrf})))
    return answers


def test_a_held_write_lock_gives_503_and_nothing_is_acknowledged(tmp_path: Path) -> None:
    service = LiveService(tmp_path / "data", db_busy_timeout_s="0.5")
    service.start()
    try:
        admin = service.login()
        cohort = service.call("POST", "/cohorts", admin, json={**COHORT, "name": "avant"}).json()
        other = sqlite3.connect(service.data / "fablabctl.db", isolation_level=None)
        audit_rows = other.execute("SELECT count(*) FROM audit_log").fetchone()[0]
        statuses: list[int] = []
        try:
            other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
            others = _writes_of_every_kind(service, admin, cohort["id"])
            for what, answer in others:
                if what.startswith("page"):  # a form: back to the page with an error message, nothing saved
                    assert answer.status_code == 303, f"{what}: {answer.status_code} {answer.text[:300]}"
                    assert "error" in answer.headers.get("set-cookie", ""), f"{what}: no error shown"
                else:
                    assert answer.status_code == 503, f"{what}: {answer.status_code} {answer.text[:300]}"
                    assert answer.json()["code"] == "DB_BUSY"
            for n in range(10):
                started = time.monotonic()
                response = service.call("PATCH", f"/cohorts/{cohort['id']}", admin, json={"name": f"n{n}"})
                created = service.call("POST", "/cohorts", admin, json={**COHORT, "name": f"jamais-{n}"})
                statuses += [response.status_code, created.status_code]
                assert time.monotonic() - started < 10, "a request waited far past the busy timeout"
                assert response.status_code == 503, response.text
                assert response.json()["code"] == "DB_BUSY"
                assert int(response.headers["retry-after"]) > 0
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert set(statuses) == {503}
        names = {c["name"] for c in service.call("GET", "/cohorts", admin).json()}
        assert names == {"avant"}, f"refused writes were stored: {names}"
        with sqlite3.connect(service.data / "fablabctl.db") as db:
            after = db.execute("SELECT count(*) FROM audit_log").fetchone()[0]
        assert after == audit_rows, "a refused write left an audit row"
        again = service.call("PATCH", f"/cohorts/{cohort['id']}", admin, json={"name": "après"})
        assert again.status_code == 200
        assert service.call("GET", f"/cohorts/{cohort['id']}", admin).json()["name"] == "après"
        assert "Traceback" not in service.tail(400)
        print(
            f"write lock held: {len(statuses) + len(others)} writes refused (API 503, forms an error "
            "message), 0 acknowledged, 0 stored"
        )
    finally:
        service.stop()
