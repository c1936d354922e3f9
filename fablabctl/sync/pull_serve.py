"""Central side of a pull: what a van needs for its cohort, and nothing more (least data).

The cohort, its timetable, its tigistes and trainers (no referent contact), their enrolments, the
designs of the cohort's people (the catalogue project once started), the material library and the
machines that travel with the van (those of the token's site).
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fablabctl import audit
from fablabctl.content_store import path_for
from fablabctl.db.models import (
    Cohort,
    CohortTrainer,
    Design,
    DesignFile,
    Enrolment,
    EnrolmentTerms,
    Machine,
    TimetableSlot,
    User,
)
from fablabctl.fleet.materials import library_toml
from fablabctl.sync.codec import ensure_link, iso
from fablabctl.sync.tokens import TokenScope

PULL_FORMAT = "fablabctl-pull/1"
MACHINE_SKIP = {"id", "site_id", "created_at", "current_job_id", "state", "last_error"}


def _user(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "active": user.active,
        # so trainers and tigistes can log in on the van's pages with their usual password (argon2)
        "password_hash": user.password_hash,
    }


def _machine(machine: Machine) -> dict[str, Any]:
    return {c.name: getattr(machine, c.name) for c in Machine.__table__.columns if c.name not in MACHINE_SKIP}


def pull_bundle(session: Session, scope: TokenScope, designs_dir: Path) -> dict[str, Any]:
    cohort = session.get(Cohort, scope.cohort_id)
    assert cohort is not None  # the token's foreign key
    enrolments = list(session.scalars(select(Enrolment).where(Enrolment.cohort_id == cohort.id)))
    trainer_ids = list(
        session.scalars(select(CohortTrainer.user_id).where(CohortTrainer.cohort_id == cohort.id))
    )
    people_ids = [e.user_id for e in enrolments] + trainer_ids
    users = list(session.scalars(select(User).where(User.id.in_(people_ids)).order_by(User.id)))
    names = {u.id: u.username for u in users}
    enrolled = []
    for e in enrolments:
        terms = session.get(EnrolmentTerms, e.id)
        enrolled.append(
            {
                "username": names[e.user_id],
                "hours_due": e.hours_due,
                "measure": terms.measure if terms else "TIG",
                "deadline": iso(terms.deadline) if terms else None,
                "contract_signed_on": iso(terms.contract_signed_on) if terms else None,
            }
        )
    slots = session.scalars(
        select(TimetableSlot).where(TimetableSlot.cohort_id == cohort.id).order_by(TimetableSlot.day)
    )
    designs, files = [], {}
    owned = select(Design).where(Design.owner_id.in_([e.user_id for e in enrolments])).order_by(Design.id)
    for design in session.scalars(owned):
        stored = session.get(DesignFile, design.sha256)
        path = path_for(designs_dir, design.sha256)
        if stored is None or not path.is_file():
            continue
        designs.append(
            {
                "uuid": ensure_link(session, "design", design.id).uuid,
                "sha256": design.sha256,
                "filename": design.filename,
                "owner": names.get(design.owner_id),
                "file": {
                    "size_bytes": stored.size_bytes,
                    "file_type": stored.file_type,
                    "report": stored.report,
                    "ok": stored.ok,
                },
            }
        )
        files[design.sha256] = base64.b64encode(path.read_bytes()).decode()
    machines = session.scalars(select(Machine).where(Machine.site_id == scope.site_id).order_by(Machine.id))
    audit.record(
        session, actor=None, action="sync.pull", target_type="cohort", target_id=cohort.id, site=scope.site
    )
    return {
        "format": PULL_FORMAT,
        "site": scope.site,
        "cohort": {
            "id": cohort.id,
            "name": cohort.name,
            "starts_on": iso(cohort.starts_on),
            "ends_on": iso(cohort.ends_on),
            "project": cohort.project,
        },
        "users": [_user(u) for u in users],
        "trainers": [names[i] for i in trainer_ids],
        "enrolments": enrolled,
        "timetable": [
            {"day": iso(s.day), "starts_at": iso(s.starts_at), "ends_at": iso(s.ends_at), "phase": s.phase}
            for s in slots
        ],
        "machines": [_machine(m) for m in machines],
        "designs": designs,
        "files": files,
        "materials": library_toml(session),
    }
