"""Van side of a pull: write what the central site sent into the van's own database.

Matched by natural keys (usernames, cohort name, machine names, timetable day and start), so a
second pull updates instead of duplicating. The cohort belongs to the van's site here, so every
record made in the van carries the van's site. Machine counters start from the central figures
(the odometer baseline), unless a reading is still waiting in the outbox.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import date, time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fablabctl import audit
from fablabctl.content_store import path_for, store_bytes
from fablabctl.db.models import (
    AuditEntry,
    Cohort,
    CohortTrainer,
    Design,
    DesignFile,
    Enrolment,
    EnrolmentTerms,
    Machine,
    SyncLink,
    SyncOutbox,
    TimetableSlot,
    User,
)
from fablabctl.errors import Invalid
from fablabctl.fleet.materials import adopt_library, write_site_file
from fablabctl.i18n import Text
from fablabctl.sites import get_or_create_site
from fablabctl.sync.codec import by_uuid, get_state, set_state
from fablabctl.sync.pull_serve import PULL_FORMAT

COUNTERS = ("run_seconds", "jobs_done", "jobs_failed")


@dataclass(frozen=True, slots=True)
class PullResult:
    cohort_id: int  # on the van
    people: int
    slots: int
    machines: int
    designs: int


def _wrong_site(expected: str, here: str) -> Invalid:
    return Invalid(
        "SYNC_WRONG_SITE",
        Text(
            f"Ce jeton est celui du site « {expected} » mais ce poste est le site « {here} » : "
            f"lancez-le avec FABLAB_SITE={expected}.",
            f"This token belongs to site '{expected}' but this machine is site '{here}': "
            f"run it with FABLAB_SITE={expected}.",
        ),
    )


def _users(session: Session, bundle: dict[str, Any]) -> dict[str, int]:
    ids = {}
    for data in bundle["users"]:
        user = session.scalar(select(User).where(User.username == data["username"]))
        pulled = user is not None and by_uuid(session, "user", data["username"]) is not None
        if user is None:
            user = User(username=data["username"], role=data["role"], display_name="", password_hash="")
            session.add(user)
            session.flush()
            session.add(SyncLink(kind="user", uuid=data["username"], local_id=user.id, origin="pulled"))
            pulled = True
        if pulled:  # never overwrite a local account that happens to share the name
            user.display_name = data["display_name"]
            user.role = data["role"]
            user.active = data["active"]
            user.password_hash = data["password_hash"]
        ids[data["username"]] = user.id
    return ids


def _cohort(session: Session, bundle: dict[str, Any], site_id: int) -> Cohort:
    data = bundle["cohort"]
    cohort = session.scalar(select(Cohort).where(Cohort.name == data["name"]))
    if cohort is None:
        cohort = Cohort(name=data["name"], site_id=site_id, starts_on=date.today(), ends_on=date.today())
        session.add(cohort)
    cohort.site_id = site_id
    cohort.starts_on = date.fromisoformat(data["starts_on"])
    cohort.ends_on = date.fromisoformat(data["ends_on"])
    cohort.project = data["project"]
    session.flush()
    return cohort


def _enrolments(session: Session, bundle: dict[str, Any], cohort: Cohort, ids: dict[str, int]) -> None:
    for name in bundle["trainers"]:
        if session.get(CohortTrainer, (cohort.id, ids[name])) is None:
            session.add(CohortTrainer(cohort_id=cohort.id, user_id=ids[name]))
    for data in bundle["enrolments"]:
        enrolment = session.scalar(
            select(Enrolment).where(
                Enrolment.cohort_id == cohort.id, Enrolment.user_id == ids[data["username"]]
            )
        )
        if enrolment is None:
            enrolment = Enrolment(cohort_id=cohort.id, user_id=ids[data["username"]], hours_due=0)
            session.add(enrolment)
            session.flush()
        enrolment.hours_due = data["hours_due"]
        terms = session.get(EnrolmentTerms, enrolment.id) or EnrolmentTerms(enrolment_id=enrolment.id)
        terms.measure = data["measure"]
        terms.deadline = date.fromisoformat(data["deadline"]) if data["deadline"] else None
        signed = data["contract_signed_on"]
        terms.contract_signed_on = date.fromisoformat(signed) if signed else None
        session.add(terms)
    session.flush()


def _timetable(session: Session, bundle: dict[str, Any], cohort: Cohort) -> int:
    for data in bundle["timetable"]:
        day, start = date.fromisoformat(data["day"]), time.fromisoformat(data["starts_at"])
        slot = session.scalar(
            select(TimetableSlot).where(
                TimetableSlot.cohort_id == cohort.id,
                TimetableSlot.day == day,
                TimetableSlot.starts_at == start,
            )
        )
        if slot is None:
            slot = TimetableSlot(cohort_id=cohort.id, day=day, starts_at=start)
            session.add(slot)
        slot.ends_at = time.fromisoformat(data["ends_at"])
        slot.phase = data["phase"]
    session.flush()
    return len(bundle["timetable"])


def _machines(session: Session, bundle: dict[str, Any], site_id: int) -> dict[str, dict[str, float]]:
    waiting = session.scalar(
        select(func.count())
        .select_from(SyncOutbox)
        .where(SyncOutbox.kind == "odometer", SyncOutbox.acked_at.is_(None))
    )
    baselines = {}
    for data in bundle["machines"]:
        machine = session.scalar(select(Machine).where(Machine.name == data["name"]))
        fresh = machine is None
        if machine is None:
            machine = Machine(site_id=site_id)
            session.add(machine)
        for key, value in data.items():
            if key not in COUNTERS or fresh or not waiting:
                setattr(machine, key, value)
        machine.site_id = site_id
        baselines[data["name"]] = {k: data[k] for k in COUNTERS}
    session.flush()
    return baselines


def _designs(session: Session, bundle: dict[str, Any], ids: dict[str, int], designs_dir: Path) -> int:
    for sha, encoded in bundle["files"].items():
        data = base64.b64decode(encoded)
        if hashlib.sha256(data).hexdigest() == sha and not path_for(designs_dir, sha).is_file():
            store_bytes(designs_dir, data, limit_bytes=len(data) + 1)
    for data in bundle["designs"]:
        if by_uuid(session, "design", data["uuid"]) is not None or data["owner"] not in ids:
            continue
        if session.get(DesignFile, data["sha256"]) is None:
            session.add(DesignFile(sha256=data["sha256"], **data["file"]))
            session.flush()
        design = Design(sha256=data["sha256"], filename=data["filename"], owner_id=ids[data["owner"]])
        session.add(design)
        session.flush()
        session.add(SyncLink(kind="design", uuid=data["uuid"], local_id=design.id, origin="pulled"))
    session.flush()
    return len(bundle["designs"])


def apply_pull(
    session: Session,
    bundle: dict[str, Any],
    *,
    site_name: str,
    central_url: str,
    data_dir: Path,
    designs_dir: Path,
) -> PullResult:
    if bundle.get("format") != PULL_FORMAT:
        raise Invalid("SYNC_FORMAT", Text("Réponse du site central illisible.", "Unreadable central answer."))
    if bundle["site"] != site_name:
        raise _wrong_site(bundle["site"], site_name)
    site = get_or_create_site(session, site_name)
    cohort = _cohort(session, bundle, site.id)
    ids = _users(session, bundle)
    _enrolments(session, bundle, cohort, ids)
    slots = _timetable(session, bundle, cohort)
    baselines = _machines(session, bundle, site.id)
    designs = _designs(session, bundle, ids, designs_dir)
    adopt_library(session, bundle["materials"])
    write_site_file(session, data_dir)
    audit.record(
        session, actor=None, action="sync.pull", target_type="cohort", target_id=cohort.id, url=central_url
    )
    session.flush()
    set_state(
        session, "central", {"url": central_url, "cohort_id": bundle["cohort"]["id"], "site": site_name}
    )
    set_state(session, "cohort_id", cohort.id)
    set_state(session, "site_id", site.id)
    for name, counters in baselines.items():
        set_state(session, f"odometer:{name}", counters)
    if get_state(session, "audit_after") is None:  # from the first pull on, the van's audit is pushed
        set_state(session, "audit_after", session.scalar(select(func.max(AuditEntry.id))) or 0)
    return PullResult(cohort.id, len(ids), slots, len(baselines), designs)
