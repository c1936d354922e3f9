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


def test_a_held_write_lock_gives_503_and_nothing_is_acknowledged(tmp_path: Path) -> None:
    service = LiveService(tmp_path / "data", db_busy_timeout_s="0.5")
    service.start()
    try:
        admin = service.login()
        cohort = service.call("POST", "/cohorts", admin, json={**COHORT, "name": "avant"}).json()
        other = sqlite3.connect(service.data / "fablabctl.db", isolation_level=None)
        statuses: list[int] = []
        try:
            other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
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
        again = service.call("PATCH", f"/cohorts/{cohort['id']}", admin, json={"name": "après"})
        assert again.status_code == 200
        assert service.call("GET", f"/cohorts/{cohort['id']}", admin).json()["name"] == "après"
        assert "Traceback" not in service.tail(400)
        print(f"write lock held: {len(statuses)} writes refused with 503, 0 acknowledged, 0 stored")
    finally:
        service.stop()
