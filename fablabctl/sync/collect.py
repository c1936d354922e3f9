"""Van side: put every record made in the van into the outbox, once, in the order it must arrive.

Append-only records (attendance versions, journal, contributions, audit) enter once, keyed by
their UUID. Records whose state can still change enter again when it changes (an absence that a
trainer excuses, a machine's counters), keyed by UUID + digest, and the central site keeps the
latest. Jobs enter once they are finished (done, failed, cancelled, rejected): the central site
must never dispatch a van's job. Order: designs, jobs, attendance by version, absences, journal,
contributions, odometers, audit.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fablabctl.db.models import (
    Absence,
    AttendanceEntry,
    AuditEntry,
    Contribution,
    Design,
    DesignFile,
    Job,
    JobEvent,
    JournalEntry,
    Machine,
    SyncLink,
    SyncOutbox,
    TimetableSlot,
)
from fablabctl.queue.states import TERMINAL_STATES
from fablabctl.sync.codec import digest, ensure_link, get_state, iso, link_of, username
from fablabctl.sync.pull_apply import COUNTERS

Item = tuple[str, str, dict[str, Any]]  # key, kind, payload


def _designs(session: Session) -> Iterator[Item]:
    pulled = select(SyncLink.local_id).where(SyncLink.kind == "design", SyncLink.origin == "pulled")
    for design in session.scalars(select(Design).where(Design.id.not_in(pulled)).order_by(Design.id)):
        stored = session.get(DesignFile, design.sha256)
        assert stored is not None
        uuid = ensure_link(session, "design", design.id).uuid
        yield (
            uuid,
            "design",
            {
                "uuid": uuid,
                "sha256": design.sha256,
                "filename": design.filename,
                "owner": username(session, design.owner_id),
                "derived_from": _link_uuid(session, "design", design.derived_from_id),
                "created_at": iso(design.created_at),
                "file": {
                    "size_bytes": stored.size_bytes,
                    "file_type": stored.file_type,
                    "report": stored.report,
                    "ok": stored.ok,
                },
            },
        )


def _link_uuid(session: Session, kind: str, local_id: int | None) -> str | None:
    if local_id is None:
        return None
    link = link_of(session, kind, local_id)
    return link.uuid if link else None


def _machine_name(session: Session, machine_id: int | None) -> str | None:
    machine = session.get(Machine, machine_id) if machine_id else None
    return machine.name if machine else None


def _jobs(session: Session) -> Iterator[Item]:
    done = select(Job).where(Job.state.in_([s.value for s in TERMINAL_STATES])).order_by(Job.id)
    for job in session.scalars(done):
        uuid = ensure_link(session, "job", job.id).uuid
        events = session.scalars(select(JobEvent).where(JobEvent.job_id == job.id).order_by(JobEvent.id))
        yield (
            uuid,
            "job",
            {
                "uuid": uuid,
                "design": _link_uuid(session, "design", job.design_id),
                "kind": job.kind,
                "material": job.material,
                "quantity": job.quantity,
                "state": job.state,
                "reason": job.reason,
                "owner": username(session, job.owner_id),
                "submitted_by": username(session, job.submitted_by_id),
                "approved_by": username(session, job.approved_by_id),
                "machine": _machine_name(session, job.machine_id),
                "run_number": job.run_number,
                "settings": job.settings,
                "estimates": job.estimates,
                "progress": job.progress,
                "queued_at": iso(job.queued_at),
                "running_at": iso(job.running_at),
                "finished_at": iso(job.finished_at),
                "machine_seconds": job.machine_seconds,
                "created_at": iso(job.created_at),
                "events": [
                    {
                        "from": e.from_state,
                        "to": e.to_state,
                        "actor": username(session, e.actor_id),
                        "reason": e.reason,
                        "at": iso(e.at),
                    }
                    for e in events
                ],
            },
        )


def _attendance(session: Session, site_id: int) -> Iterator[Item]:
    rows = select(AttendanceEntry).where(AttendanceEntry.site_id == site_id)
    for e in session.scalars(
        rows.order_by(AttendanceEntry.created_at, AttendanceEntry.version, AttendanceEntry.id)
    ):
        yield (
            e.uuid,
            "attendance",
            {
                "uuid": e.uuid,
                "entry_uuid": e.entry_uuid,
                "version": e.version,
                "supersedes": e.supersedes,
                "user": username(session, e.user_id),
                "phase": e.phase,
                "check_in": iso(e.check_in),
                "check_out": iso(e.check_out),
                "method": e.method,
                "cancelled": e.cancelled,
                "recorded_by": username(session, e.recorded_by_id),
                "reason": e.reason,
                "created_at": iso(e.created_at),
            },
        )


def _absences(session: Session, site_id: int) -> Iterator[Item]:
    for a in session.scalars(select(Absence).where(Absence.site_id == site_id).order_by(Absence.id)):
        slot = session.get(TimetableSlot, a.slot_id)
        assert slot is not None
        payload = {
            "uuid": a.uuid,
            "user": username(session, a.user_id),
            "day": iso(a.day),
            "slot_starts_at": iso(slot.starts_at),
            "excused": a.excused,
            "reason": a.reason,
            "decided_by": username(session, a.decided_by_id),
            "decided_at": iso(a.decided_at),
        }
        yield f"{a.uuid}:{digest(payload)}", "absence", payload


def _journal(session: Session, site_id: int) -> Iterator[Item]:
    for j in session.scalars(
        select(JournalEntry).where(JournalEntry.site_id == site_id).order_by(JournalEntry.id)
    ):
        yield (
            j.uuid,
            "journal",
            {
                "uuid": j.uuid,
                "author": username(session, j.author_id),
                "day": iso(j.day),
                "text": j.text,
                "created_at": iso(j.created_at),
            },
        )


def _contributions(session: Session, site_id: int) -> Iterator[Item]:
    rows = select(Contribution).where(Contribution.site_id == site_id).order_by(Contribution.id)
    for c in session.scalars(rows):
        job = _link_uuid(session, "job", c.job_id)
        if job is None:  # its job is not finished yet: it travels with it
            continue
        yield (
            c.uuid,
            "contribution",
            {
                "uuid": c.uuid,
                "job": job,
                "user": username(session, c.user_id),
                "role": c.role,
                "recorded_by": username(session, c.recorded_by_id),
                "created_at": iso(c.created_at),
            },
        )


def _odometers(session: Session, site_id: int) -> Iterator[Item]:
    for machine in session.scalars(select(Machine).where(Machine.site_id == site_id).order_by(Machine.id)):
        baseline = get_state(session, f"odometer:{machine.name}")
        if baseline is None:  # not a machine from the central site
            continue
        reading = {k: getattr(machine, k) for k in COUNTERS}
        if reading == baseline:
            continue
        payload = {"machine": machine.name, "baseline": baseline, "reading": reading}
        yield f"odo:{machine.name}:{digest(payload)}", "odometer", payload


def _audit(session: Session) -> Iterator[Item]:
    after = int(get_state(session, "audit_after", 0) or 0)
    for a in session.scalars(select(AuditEntry).where(AuditEntry.id > after).order_by(AuditEntry.id)):
        if a.action.startswith("sync."):
            continue
        uuid = ensure_link(session, "audit", a.id).uuid
        yield (
            uuid,
            "audit",
            {
                "uuid": uuid,
                "at": iso(a.at),
                "actor": username(session, a.actor_id),
                "action": a.action,
                "target_type": a.target_type,
                "target_id": a.target_id,
                "detail": a.detail,
            },
        )


def collect(session: Session) -> int:
    """Add what is new to the outbox; returns how many records were added. No-op before a pull."""
    site_id = get_state(session, "site_id")
    if site_id is None:
        return 0
    known = set(session.scalars(select(SyncOutbox.key)))
    added = 0
    sources = (
        _designs(session),
        _jobs(session),
        _attendance(session, site_id),
        _absences(session, site_id),
        _journal(session, site_id),
        _contributions(session, site_id),
        _odometers(session, site_id),
        _audit(session),
    )
    for source in sources:
        for key, kind, payload in source:
            if key in known:
                continue
            known.add(key)
            session.add(SyncOutbox(key=key, kind=kind, payload=payload))
            added += 1
        session.flush()
    return added
