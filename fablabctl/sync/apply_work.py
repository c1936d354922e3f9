"""Central side: a van's designs, finished jobs, contributions, machine odometers and audit entries.

Designs arrive by content hash (the file itself was sent once, before); a van's jobs arrive
finished, so the central dispatcher never picks them up; an odometer reading adds only what it
grew since the last reading applied from that van.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fablabctl.content_store import path_for
from fablabctl.db.models import (
    AuditEntry,
    Contribution,
    Design,
    DesignFile,
    Job,
    JobEvent,
    Machine,
    SyncOdometer,
)
from fablabctl.i18n import Text
from fablabctl.queue.states import TERMINAL_STATES
from fablabctl.sync.codec import by_uuid, is_sha256, parse_dt, user_id
from fablabctl.sync.outcome import APPLIED, DUPLICATE, Outcome, Refusal, missing, unknown_person

COUNTERS = ("run_seconds", "jobs_done", "jobs_failed")


def _person(session: Session, name: str | None) -> int:
    uid = user_id(session, name)
    if uid is None:
        raise unknown_person(name)
    return uid


def design(session: Session, p: dict[str, Any], designs_dir: Path) -> Outcome:
    if not is_sha256(p["sha256"]):
        raise ValueError("not a content hash")
    if not path_for(designs_dir, p["sha256"]).is_file():
        raise missing("SYNC_FILE_MISSING", "Le fichier de ce dessin", "This design's file")
    if session.get(DesignFile, p["sha256"]) is None:
        session.add(DesignFile(sha256=p["sha256"], **p["file"]))
        session.flush()
    parent = by_uuid(session, "design", p["derived_from"]) if p["derived_from"] else None
    row = Design(
        sha256=p["sha256"],
        filename=p["filename"],
        owner_id=_person(session, p["owner"]),
        derived_from_id=parent.local_id if parent else None,
        created_at=parse_dt(p["created_at"]),
    )
    session.add(row)
    session.flush()
    return Outcome(APPLIED, row.id)


def job(session: Session, cohort_id: int, p: dict[str, Any]) -> Outcome:
    if p["state"] not in {s.value for s in TERMINAL_STATES}:  # never one the central dispatcher would run
        raise Refusal(
            "SYNC_JOB_NOT_FINISHED",
            Text("Seuls les travaux terminés voyagent du camion.", "Only finished jobs travel from the van."),
        )
    link = by_uuid(session, "design", p["design"]) if p["design"] else None
    if link is None or link.local_id is None:
        raise missing("SYNC_DESIGN_MISSING", "Le dessin de ce travail", "This job's design")
    machine_id = (
        session.scalar(select(Machine.id).where(Machine.name == p["machine"])) if p["machine"] else None
    )
    row = Job(
        design_id=link.local_id,
        kind=p["kind"],
        material=p["material"],
        quantity=p["quantity"],
        state=p["state"],
        reason=p["reason"],
        owner_id=_person(session, p["owner"]),
        submitted_by_id=_person(session, p["submitted_by"]),
        approved_by_id=user_id(session, p["approved_by"]),
        cohort_id=cohort_id,
        machine_id=machine_id,
        run_number=p["run_number"],
        settings=p["settings"],
        estimates=p["estimates"],
        progress=p["progress"],
        queued_at=parse_dt(p["queued_at"]),
        running_at=parse_dt(p["running_at"]),
        finished_at=parse_dt(p["finished_at"]),
        machine_seconds=p["machine_seconds"],
        created_at=parse_dt(p["created_at"]),
    )
    session.add(row)
    session.flush()
    for e in p["events"]:
        session.add(
            JobEvent(
                job_id=row.id,
                from_state=e["from"],
                to_state=e["to"],
                actor_id=user_id(session, e["actor"]),
                reason=e["reason"],
                at=parse_dt(e["at"]),
            )
        )
    session.flush()
    return Outcome(APPLIED, row.id)


def contribution(session: Session, site_id: int, p: dict[str, Any]) -> Outcome:
    link = by_uuid(session, "job", p["job"])
    if link is None or link.local_id is None:
        raise missing("SYNC_JOB_MISSING", "Le travail de cette contribution", "This contribution's job")
    uid = _person(session, p["user"])
    exists = session.scalar(
        select(Contribution.id).where(
            Contribution.job_id == link.local_id, Contribution.user_id == uid, Contribution.role == p["role"]
        )
    )
    if exists is not None:
        return Outcome(DUPLICATE, exists)
    row = Contribution(
        uuid=p["uuid"],
        site_id=site_id,
        job_id=link.local_id,
        user_id=uid,
        role=p["role"],
        recorded_by_id=user_id(session, p["recorded_by"]),
        created_at=parse_dt(p["created_at"]),
    )
    session.add(row)
    session.flush()
    return Outcome(APPLIED, row.id)


def odometer(session: Session, site_id: int, p: dict[str, Any]) -> Outcome:
    machine = session.scalar(select(Machine).where(Machine.name == p["machine"]))
    if machine is None or machine.site_id != site_id:
        raise Refusal(
            "SYNC_MACHINE_NOT_OF_SITE",
            Text(
                f"La machine {p['machine']} ne voyage pas avec ce camion au site central.",
                f"Machine {p['machine']} does not travel with this van at the central site.",
            ),
        )
    row = session.get(SyncOdometer, (site_id, machine.id))
    previous = row.reading if row is not None and row.baseline == p["baseline"] else p["baseline"]
    for key in COUNTERS:
        delta = p["reading"][key] - previous[key]
        setattr(machine, key, getattr(machine, key) + delta)
    if row is None:
        row = SyncOdometer(site_id=site_id, machine_id=machine.id)
        session.add(row)
    row.baseline, row.reading = p["baseline"], p["reading"]
    row.run_seconds = machine.run_seconds
    session.flush()
    return Outcome(APPLIED, machine.id)


def audit_entry(session: Session, site: str, p: dict[str, Any]) -> Outcome:
    target = p["target_id"]
    row = AuditEntry(
        at=parse_dt(p["at"]),
        actor_id=user_id(session, p["actor"]),
        action=p["action"],
        target_type=p["target_type"],
        target_id=None if target is None else f"{site}:{target}"[:64],
        detail={**(p["detail"] or {}), "site": site, "sync_uuid": p["uuid"], "actor": p["actor"]},
    )
    session.add(row)
    session.flush()
    return Outcome(APPLIED, row.id)
