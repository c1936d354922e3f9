"""After `cohort purge`, no personal value of the cohort's people remains: not in any table (the
audit log included), not in the database file's free pages or its write-ahead log, not in the data
directory. Hours and jobs stay, anonymous. Proved by searching the raw bytes for the names."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import String, Text, cast, or_, select
from sqlalchemy.types import JSON

from fablabctl import audit
from fablabctl.config import Settings
from fablabctl.context import ServiceContext
from fablabctl.db.base import Base
from fablabctl.db.engine import session_scope
from fablabctl.db.models import User
from tests.api.test_api_isolation import cube_stl
from tests.people.scenario import ok

API = "/api/v1"
Headers = Callable[[str], dict[str, str]]
USERNAME, NAME, REFERENT = (
    "zephyrine42",
    "Zéphyrine Koulibaly",
    "Mme Durand-Pixel <durand.pixel@spip.example>",
)
SECRETS = ["zephyrine42", "Zéphyrine", "Koulibaly", "Durand-Pixel", "durand.pixel", "Z\\u00e9phyrine"]


def personal_world(client: TestClient, headers: Headers) -> tuple[int, int]:
    admin, trainer = headers("admin"), headers("trainer")
    cid = ok(client.post(f"{API}/cohorts", json={"name": "Janvier", "starts_on": "2025-01-06",
                                                 "ends_on": "2025-01-10"}, headers=admin))["id"]  # fmt: skip
    body = {"username": USERNAME, "display_name": NAME, "role": "tigiste", "password": "longenough"}
    uid = ok(client.post(f"{API}/users", json=body, headers=admin))["id"]
    body = {"cohort_id": cid, "user_id": uid, "hours_due": 35, "referent_contact": REFERENT}
    enrolment = ok(client.post(f"{API}/enrolments", json=body, headers=trainer))
    ok(
        client.put(
            f"{API}/enrolments/{enrolment['id']}/terms", json={"deadline": "2025-05-01"}, headers=trainer
        ),
        200,
    )
    entry = ok(
        client.post(
            f"{API}/cohorts/{cid}/attendance/check-in",
            json={"user_id": uid, "at": "2025-01-06T09:00"},
            headers=trainer,
        )
    )
    body = {"user_id": uid, "at": "2025-01-06T12:00"}
    ok(client.post(f"{API}/cohorts/{cid}/attendance/check-out", json=body, headers=trainer))
    body = {
        "check_in": "2025-01-06T08:30",
        "check_out": "2025-01-06T12:00",
        "reason": "Zéphyrine était là dès 8 h 30",
    }
    ok(client.post(f"{API}/attendance/{entry['entry_uuid']}/correct", json=body, headers=trainer))
    ok(
        client.post(
            f"{API}/cohorts/{cid}/journal", json={"text": "Zéphyrine a aidé Koulibaly ?"}, headers=trainer
        )
    )
    # her upload, with her name in the file name and inside the file (an STL header)
    login = ok(client.post(f"{API}/auth/login", json={"username": USERNAME, "password": "longenough"}), 200)
    client.cookies.clear()
    mine = {"Authorization": f"Bearer {login['token']}"}
    data = b"solid zephyrine42 Koulibaly".ljust(80, b" ") + cube_stl()[80:]
    response = client.post(
        f"{API}/designs", files={"file": ("Zéphyrine-Koulibaly-support.stl", data)}, headers=mine
    )
    design = ok(response)
    job = ok(client.post(f"{API}/jobs", json={"design_id": design["id"], "material": "PLA", "cohort_id": cid},
                         headers=mine))  # fmt: skip
    ok(
        client.post(
            f"{API}/jobs/{job['id']}/reject", json={"reason": "Zéphyrine : trop grand"}, headers=trainer
        ),
        200,
    )
    return cid, uid


def raw_hits(paths: list[Path]) -> list[str]:
    """Which secrets appear in the raw bytes of these files (UTF-8, as SQLite and the store write)."""
    hits = []
    for path in paths:
        if not path.is_file():
            continue
        blob = path.read_bytes().lower()
        hits += [f"{path.name}: {s}" for s in SECRETS if s.lower().encode() in blob]
    return hits


def test_purge_leaves_no_personal_value(
    client: TestClient,
    headers: Headers,
    user_ids: dict[str, int],
    context: ServiceContext,
    settings: Settings,
    cli: Callable[..., str],
    monkeypatch: object,
) -> None:
    cid, uid = personal_world(client, headers)
    with session_scope(context.sessions) as session:  # an older log line that quoted a name
        audit.record(
            session, actor=None, action="note", target_type="user", target_id=uid, said=f"appel de {NAME}"
        )
    # not before the retention period, unless an admin says why; a trainer cannot purge early
    early = client.post(
        f"{API}/cohorts/{cid}/purge", json={"now": True, "reason": "test"}, headers=headers("trainer")
    )
    assert early.status_code == 403
    no_reason = client.post(f"{API}/cohorts/{cid}/purge", json={"now": True}, headers=headers("admin"))
    assert no_reason.json()["code"] == "PURGE_REASON_REQUIRED"
    assert USERNAME in json.dumps(json.loads(cli("user", "list", "--json")), ensure_ascii=False)

    out = cli("cohort", "purge", str(cid), "--now", "--reason", "mesure terminée, demande du SPIP")
    assert "1 personne(s) anonymisée(s)" in out and "1 fichier(s) effacé(s)" in out

    # the figures stay, anonymous
    hours = json.loads(cli("hours", "--cohort", str(cid), "--json"))
    assert [(h["username"], h["display_name"], h["hours_done"]) for h in hours] == [
        (f"anonyme-{uid}", f"Anonyme {uid}", 3.5)
    ]
    # other people are untouched
    with session_scope(context.sessions) as session:
        assert session.get(User, user_ids["tigiste"]).display_name == "Tigiste"  # type: ignore[union-attr]
        assert not leftovers(session)
    context.engine.dispose()
    if settings.database_url.startswith("sqlite"):
        db = Path(settings.database_url.removeprefix("sqlite:///"))
        files = [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-journal")]
        files += [p for p in settings.data_dir.rglob("*") if p.is_file()]
        assert raw_hits(files) == []
        # nor in a file's name (a job's G-code is named after the design)
        names = [p.name.lower() for p in settings.data_dir.rglob("*")]
        assert [n for n in names if any(s.lower() in n for s in SECRETS)] == []


def leftovers(session: object) -> list[str]:
    """Every text or JSON column of every table, searched for the secrets (both databases)."""
    found = []
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, String | Text | JSON):
                as_text = cast(column, Text())
                rows = session.execute(  # type: ignore[attr-defined]
                    select(column).where(or_(*(as_text.ilike(f"%{s}%") for s in SECRETS)))
                ).all()
                found += [f"{table.name}.{column.name}: {r[0]!r}" for r in rows]
    return found
