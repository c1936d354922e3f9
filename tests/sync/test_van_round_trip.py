"""The mobile Fab Lab end to end: two real services (central on PostgreSQL, van on SQLite).

Pull before leaving; three days in the van (attendance with a correction, an absence excused, a
journal entry, a job printed on the van's printer, a contribution); push, push again; a push cut
in the middle by the central site dying after a commit, then resumed; the third day through an
encrypted file, a damaged file refused whole; a token for another cohort refused; and the central
hours equal to the sums worked out by hand (tests run in file order: --dist loadfile).

Hours by hand (each day's total rounded to the quarter hour; time shared by two entries counted once):
- Léa:   D1 09:00-12:30 + 13:30-17:00 = 7 h; D2 central 09:00-12:30 and van 09:05-12:30 (overlap, kept and
         flagged) + van 13:30-17:00 = 7 h; D3 09:00-12:00 = 3 h                            -> 17 h 00
- Karim: D1 09:00-12:30 (afternoon absent, excused) = 3 h 30; D2 09:00-12:30 + 13:30-17:15 (check-out
         17:00 corrected to 17:15) = 7 h 15                                                 -> 10 h 45
- Inès:  D1 09:10-12:30 + 13:30-17:00 = 6 h 50 -> 6 h 45; D2 09:00-12:30 = 3 h 30;
         D3 13:30-16:00 = 2 h 30                                                            -> 12 h 45
"""

from __future__ import annotations

import functools
import json
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.pool import NullPool

from fablabctl.db.engine import make_engine, make_session_factory, session_scope
from fablabctl.db.models import (
    Absence,
    AttendanceEntry,
    AuditEntry,
    Cohort,
    Enrolment,
    Job,
    JournalEntry,
    Machine,
    MaterialEntry,
    Site,
    SyncConflict,
    SyncOutbox,
    User,
)
from tests.conftest import fresh_postgres_database
from tests.sync.world import (
    D1,
    D2,
    D3,
    PERSONAL_PASSWORD,
    VAN,
    World,
    at,
    make_central,
    make_van,
    populate_central,
    van_ids,
)

# the module's fixture starts PostgreSQL and three services: on a loaded 2-core machine that alone can
# take two minutes, counted in the first test's time
pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(480)]
GCODE = b"M83\nG1 X10 Y10 F6000\nG1 X20 Y10 E0.5\nG1 X20 Y20 E0.5\n"


@pytest.fixture(scope="module")
def world(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("sync")
    url = fresh_postgres_database(postgres_url)
    (tmp / "central").mkdir()
    cohort_id, other_id = populate_central(url, tmp / "central")
    central, van = make_central(tmp / "central", url), make_van(tmp / "van")
    faulty = make_central(tmp / "central", url, FABLAB_SYNC_FAULT_AFTER_BATCHES="2")
    w = World(central, van, faulty, url, cohort_id, other_id, tmp)
    try:
        for service in (central, faulty, van):  # all at once: each takes seconds to import on a busy machine
            service.launch()
        issued = w.cli(central, "site", "token", "add", VAN, "--cohort", str(cohort_id))
        w.token = issued.stdout.strip().splitlines()[-1]
        assert w.token.startswith("fsync_") and " " not in w.token
        central.ready()
        van.ready()  # an empty van: its own admin, no machine, no cohort
        w.cli(van, "sync", "pull", "--from", w.central_base, "--cohort", str(cohort_id))  # before leaving
        faulty.ready()
        w.ids = van_ids(tmp / "van")
        yield w
    finally:
        for service in (van, faulty, central):
            if service.proc is not None:
                service.stop()


@functools.cache
def sessions_for(url: str) -> Any:
    return make_session_factory(make_engine(url, poolclass=NullPool))  # no connection kept between checks


def central_db(w: World) -> Any:
    return sessions_for(w.central_url)


def van_db(w: World) -> Any:
    return sessions_for(f"sqlite:///{w.tmp / 'van' / 'fablabctl.db'}")


def count(sessions: Any, query: Any) -> int:
    with session_scope(sessions) as session:
        return int(session.scalar(query) or 0)


def van_cohort(w: World) -> int:
    with session_scope(van_db(w)) as session:
        return int(session.scalar(select(Cohort.id).where(Cohort.name == "Ruche du camion")) or 0)


def presence(w: World, who: str, day: Any, start: str, end: str | None) -> dict[str, Any]:
    cohort = van_cohort(w)
    w.van.call(
        "POST", f"/cohorts/{cohort}/attendance/check-in", json={"user_id": w.ids[who], "at": at(day, start)}
    )
    if end is None:
        return {}
    entry: dict[str, Any] = w.van.call(
        "POST", f"/cohorts/{cohort}/attendance/check-out", json={"user_id": w.ids[who], "at": at(day, end)}
    )
    return entry


def push(w: World, *extra: str, ok: bool = True) -> Any:
    done = w.cli(w.van, "sync", "push", "--to", w.central_base, "--json", *extra, ok=ok)
    return json.loads(done.stdout) if ok else done


def van_rows(w: World) -> int:
    return count(
        central_db(w),
        select(func.count())
        .select_from(AttendanceEntry)
        .join(Site, Site.id == AttendanceEntry.site_id)
        .where(Site.name == VAN),
    )


def hostile_pushes_and_files_are_refused_one_by_one(w: World, token: str) -> None:
    """A broken or hostile van (a live token): every malformed record refused on its own with a code,
    never a 500; a file is authenticated before its body is read and kept only under its true hash."""
    bearer = {"Authorization": f"Bearer {token}"}
    big = 2**64
    items = [
        {"key": "h-1", "kind": "attendance", "payload": {"x": 1}},  # no uuid
        {"key": "h-2", "kind": "attendance", "payload": "text"},
        {"key": "h-3", "kind": "attendance"},
        {"key": "h-4", "kind": "job", "payload": {"state": "done", "design": {"a": 1}}},
        {"key": "h-5", "kind": "odometer", "payload": {"machine": ["a"]}},
        {"key": "h-6", "kind": "journal", "payload": {"uuid": "j", "text": "t", "day": "2026-12-01"}},
        {"key": "h-7", "kind": "contribution", "payload": {"job": {"a": 1}}},
        {"key": "h-8", "kind": "audit", "payload": {"target_id": big, "actor": {"x": 1}, "uuid": "u"}},
        {"key": "h-9", "kind": "audit", "payload": {
            "at": None, "actor": None, "action": "x" * 10_000, "target_type": big, "target_id": big,
            "detail": None, "uuid": "u",
        }},
    ]  # fmt: skip
    answer = httpx.post(
        f"{w.central.url}/sync/push",
        json={"cohort_id": w.other_cohort_id, "items": items},
        headers=bearer,
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [r["key"] for r in results] == [i["key"] for i in items]
    assert {r["status"] for r in results} == {"refused"}, results
    assert all(r["code"].startswith("SYNC_") for r in results), results

    content = b"solid nothing\nendsolid nothing\n"
    wrong = "0" * 64
    answer = httpx.post(
        f"{w.central.url}/sync/files", params={"sha256": wrong}, content=content, headers=bearer, timeout=30
    )
    assert answer.status_code == 422 and answer.json()["code"] == "SYNC_FILE_HASH", answer.text
    designs = w.central.data / "designs"
    assert not (designs / wrong[:2] / wrong).exists()
    assert not list(designs.glob(".upload-*")), "a refused file left a temporary file behind"
    # anonymous, announcing 50 MB and sending almost none: refused at once, not after the body
    with socket.create_connection(("127.0.0.1", w.central.port)) as raw:
        raw.sendall(
            f"POST /api/v1/sync/files?sha256={wrong} HTTP/1.1\r\nHost: x\r\n"
            "Content-Type: application/octet-stream\r\nContent-Length: 50000000\r\n\r\n".encode()
        )
        raw.settimeout(10)
        assert raw.recv(200).startswith(b"HTTP/1.1 401"), "an anonymous file was read before its 401"


def test_a_token_for_another_cohort_is_refused(world: World) -> None:
    w = world
    other = w.cli(w.central, "site", "token", "add", VAN, "--cohort", str(w.other_cohort_id)).stdout
    other_token = other.strip().splitlines()[-1]
    refused = w.cli(
        w.van,
        "sync",
        "pull",
        "--from",
        w.central_base,
        "--cohort",
        str(w.cohort_id),
        token=other_token,
        ok=False,
    )
    assert refused.returncode == 1
    assert "pas pour la cohorte" in refused.stderr, refused.stderr
    answer = httpx.post(
        f"{w.central.url}/sync/push",
        json={"cohort_id": w.cohort_id, "items": []},
        headers={"Authorization": f"Bearer {other_token}"},
        timeout=30,
    )
    assert answer.status_code == 403 and answer.json()["code"] == "SYNC_TOKEN_WRONG_COHORT"
    hostile_pushes_and_files_are_refused_one_by_one(w, other_token)
    token_id = other.strip().splitlines()[-2].split("°")[1].split()[0]
    w.cli(w.central, "site", "token", "revoke", token_id)
    answer = httpx.get(
        f"{w.central.url}/sync/pull",
        params={"cohort_id": w.other_cohort_id},
        headers={"Authorization": f"Bearer {other_token}"},
        timeout=30,
    )
    assert answer.status_code == 401 and answer.json()["code"] == "SYNC_TOKEN_INVALID"


def test_the_pull_brought_what_the_van_needs_and_no_more(world: World) -> None:
    w = world
    sessions = van_db(w)
    with session_scope(sessions) as session:
        names = set(session.scalars(select(User.username)))
        assert names == {"admin", "marc", "lea", "karim", "ines"}  # not Zoé, of another cohort
        cohort = session.scalar(select(Cohort).where(Cohort.name == "Ruche du camion"))
        assert cohort is not None and session.get(Site, cohort.site_id).name == VAN  # type: ignore[union-attr]
        contacts = set(session.scalars(select(Enrolment.referent_contact)))
        assert contacts == {""}  # the referent's contact stays at the central site
        machines = set(session.scalars(select(Machine.name)))
        assert machines == {"camion-prusa"}  # the van's printer, not the central laser
        offered = set(session.scalars(select(MaterialEntry.key).where(MaterialEntry.active.is_(True))))
        assert "mdf-atelier-3mm" in offered and "cardboard-2mm" not in offered  # the central library
    site_file = (w.tmp / "van" / "materials.toml").read_text(encoding="utf-8")
    assert "mdf-atelier-3mm" in site_file and "cardboard-2mm" not in site_file  # what preparation reads
    slots = w.van.call("GET", f"/cohorts/{van_cohort(w)}/timetable")
    assert len(slots) == 6
    login = httpx.post(f"{w.van.url}/auth/login", json={"username": "lea", "password": PERSONAL_PASSWORD})
    assert login.status_code == 200, login.text  # her usual password works in the van


def test_a_day_in_the_van_then_push_then_push_again(world: World) -> None:
    w = world
    cohort = van_cohort(w)
    presence(w, "lea", D1, "09:00", "12:30")
    presence(w, "lea", D1, "13:30", "17:00")
    presence(w, "karim", D1, "09:00", "12:30")
    presence(w, "ines", D1, "09:10", "12:30")
    presence(w, "ines", D1, "13:30", "17:00")
    presence(w, "lea", D2, "09:05", "12:30")  # she was at the central site that morning too
    presence(w, "lea", D2, "13:30", "17:00")
    w.van.call("POST", f"/cohorts/{cohort}/journal", json={"day": D1.isoformat(), "text": "Première journée"})
    design = httpx.post(
        f"{w.van.url}/designs", files={"file": ("support.gcode", GCODE)}, headers=w.van.headers, timeout=60
    ).json()
    job = w.van.call(
        "POST",
        "/jobs",
        json={"design_id": design["id"], "material": "PLA", "kind": "printer", "cohort_id": cohort},
    )
    w.van.call("POST", f"/jobs/{job['id']}/contributions", json={"user_id": w.ids["lea"], "role": "designed"})
    w.van.call("POST", f"/jobs/{job['id']}/approve")
    w.van.wait_for(
        lambda: w.van.call("GET", f"/jobs/{job['id']}")["state"] == "done", 90, "job done in the van"
    )
    w.van.call("GET", f"/cohorts/{cohort}/hours")  # the trainer looks: Karim's afternoon is an absence
    absences = [a for a in w.van.call("GET", f"/cohorts/{cohort}/absences") if a["day"] == D1.isoformat()]
    assert [a["user_id"] for a in absences] == [w.ids["karim"]], absences
    w.van.call(
        "PATCH", f"/absences/{absences[0]['id']}", json={"excused": True, "reason": "rendez-vous médical"}
    )

    status = w.cli(w.van, "sync", "status", "--json").stdout
    waiting = json.loads(status)
    assert waiting["waiting"]["attendance"] == 14 and waiting["waiting"]["job"] == 1, waiting

    first = push(w)
    assert first["files_sent"] == 1 and first["waiting"] == 0
    assert first["counts"].get("refused", 0) == 0, first["problems"]
    assert first["counts"]["flagged"] == 1  # Léa's D2 morning (its latest version), both kept
    flagged = [p for p in first["problems"] if p["status"] == "flagged"]
    assert flagged[0]["code"] == "SYNC_ATTENDANCE_OVERLAP"

    sessions = central_db(w)
    with session_scope(sessions) as session:
        assert van_rows(w) == 14
        van_job = session.scalar(select(Job).where(Job.cohort_id == w.cohort_id))
        assert van_job is not None and van_job.state == "done"
        printer = session.scalar(select(Machine).where(Machine.name == "camion-prusa"))
        assert printer is not None and printer.jobs_done == 1 and printer.run_seconds > 0
        excused = session.scalar(select(Absence).where(Absence.cohort_id == w.cohort_id, Absence.day == D1))
        assert excused is not None and excused.excused is True and excused.reason == "rendez-vous médical"
        assert session.scalar(select(JournalEntry.text).where(JournalEntry.cohort_id == w.cohort_id)) == (
            "Première journée"
        )
        assert session.scalar(select(func.count()).select_from(SyncConflict)) == 1
        audited = session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "job.approve")
        )
        assert audited and audited >= 1
        figures = (
            van_rows(w),
            session.scalar(select(func.count()).select_from(Job)),
            session.scalar(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action != "sync.push")
            ),
            printer.run_seconds,
        )

    again = push(w)  # nothing new: nothing sent
    assert again["counts"] == {} and again["waiting"] == 0
    with session_scope(van_db(w)) as session:  # resend everything already acknowledged
        session.execute(update(SyncOutbox).values(acked_at=None, outcome=None))
    resent = push(w)
    assert set(resent["counts"]) == {"duplicate"}, resent["counts"]
    with session_scope(sessions) as session:
        assert figures == (
            van_rows(w),
            session.scalar(select(func.count()).select_from(Job)),
            session.scalar(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action != "sync.push")
            ),
            session.scalar(select(Machine.run_seconds).where(Machine.name == "camion-prusa")),
        )


def test_a_push_cut_in_the_middle_completes_on_the_next_one(world: World) -> None:
    w = world
    out = presence(w, "karim", D2, "09:00", "12:30")
    assert out
    late = presence(w, "karim", D2, "13:30", "17:00")
    w.van.call(
        "POST",
        f"/attendance/{late['id']}/correct",
        json={"check_in": at(D2, "13:30"), "check_out": at(D2, "17:15"), "reason": "sortie notée trop tôt"},
    )
    presence(w, "ines", D2, "09:00", "12:30")
    before = van_rows(w)
    faulty_base = w.faulty.url.removesuffix("/api/v1")
    cut = w.cli(w.van, "sync", "push", "--to", faulty_base, "--batch", "2", ok=False)
    assert cut.returncode == 1 and "injoignable" in cut.stderr, cut.stderr
    assert w.faulty.proc is not None and w.faulty.proc.wait(timeout=30) == 9  # died after its commit
    arrived = van_rows(w)
    assert before < arrived < before + 7  # part of it arrived, not all
    waiting = json.loads(w.cli(w.van, "sync", "status", "--json").stdout)
    assert waiting["waiting_total"] > 0
    resumed = push(w)
    assert resumed["waiting"] == 0 and resumed["counts"].get("refused", 0) == 0, resumed
    assert resumed["counts"]["duplicate"] >= 1  # the batch committed but never answered
    assert van_rows(w) == before + 7  # karim 2 entries + 2 versions... each once
    with session_scope(central_db(w)) as session:
        uuids = list(session.scalars(select(AttendanceEntry.uuid)))
        assert len(uuids) == len(set(uuids))
        karim = session.scalar(select(User.id).where(User.username == "karim"))
        last = session.scalar(
            select(AttendanceEntry).where(AttendanceEntry.user_id == karim, AttendanceEntry.version == 3)
        )
        assert last is not None and last.check_out is not None and last.reason == "sortie notée trop tôt"


def test_a_day_through_an_encrypted_file_and_a_damaged_file_refused(world: World) -> None:
    w = world
    presence(w, "lea", D3, "09:00", "12:00")
    presence(w, "ines", D3, "13:30", "16:00")
    stick = w.tmp / "cle-usb"
    stick.mkdir()
    export = stick / "camion.fsync"
    w.cli(w.van, "sync", "export", "-o", str(export), "--passphrase", "jardin partagé 2026")
    data = export.read_bytes()
    assert b"lea" not in data and b"Premi" not in data  # encrypted
    before = van_rows(w)

    damaged = stick / "abime.fsync"
    middle = len(data) // 2
    damaged.write_bytes(data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1 :])
    for bad in (damaged,):  # more damages, in process: test_bundle.py
        refused = w.cli(
            w.central, "sync", "import", str(bad), "--passphrase", "jardin partagé 2026", ok=False
        )
        assert refused.returncode == 1 and "endommagé ou modifié" in refused.stderr, refused.stderr
        assert str(stick) not in refused.stderr  # no path in the message
    wrong = w.cli(w.central, "sync", "import", str(export), "--passphrase", "mauvaise", ok=False)
    assert wrong.returncode == 1 and "Phrase secrète incorrecte" in wrong.stderr
    assert van_rows(w) == before  # nothing applied from a refused file

    imported = json.loads(
        w.cli(
            w.central, "sync", "import", str(export), "--passphrase", "jardin partagé 2026", "--json"
        ).stdout
    )
    assert imported["counts"].get("applied", 0) >= 4 and "refused" not in imported["counts"], imported
    assert van_rows(w) == before + 4
    twice = json.loads(
        w.cli(
            w.central, "sync", "import", str(export), "--passphrase", "jardin partagé 2026", "--json"
        ).stdout
    )
    assert set(twice["counts"]) == {"duplicate"}
    after = push(w)  # back online: the van learns the file arrived; nothing doubles
    assert set(after["counts"]) == {"duplicate"} and after["waiting"] == 0
    assert van_rows(w) == before + 4


def test_central_hours_equal_the_sums_by_hand_and_show_the_van(world: World) -> None:
    w = world
    rows = json.loads(w.cli(w.central, "hours", "--cohort", str(w.cohort_id), "--json").stdout)
    hours = {r["username"]: r["hours_done"] for r in rows}
    assert hours == {"lea": 17.0, "karim": 10.75, "ines": 12.75}
    lea = next(r for r in rows if r["username"] == "lea")
    (van,) = lea["from_vans"]
    assert van["site"] == VAN and van["hours"] == 17.0 and van["entries"] == 5 and van["conflicts"] == 1
    text = w.cli(w.central, "hours", "--cohort", str(w.cohort_id)).stdout
    assert f"du camion « {VAN} »" in text, text
    token = w.central.headers["Authorization"].split()[1]
    page = httpx.get(f"{w.central_base}/cohorts/{w.cohort_id}", cookies={"fablab_session": token}, timeout=60)
    assert page.status_code == 200 and f"du camion « {VAN} »" in page.text, page.text[:2000]
    conflicts = w.cli(w.central, "site", "conflicts", "--cohort", str(w.cohort_id)).stdout
    assert "lea" in conflicts and VAN in conflicts  # the pair waits for a trainer
