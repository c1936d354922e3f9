"""Plain data for the live boards: machine cards with their current job, the queue, and why jobs wait.

Read-only gathering from the service functions and the pure scheduler; nothing is decided here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fablabctl.db.models import Design, DesignFile, Job, User
from fablabctl.fleet.schemas import MachineOut
from fablabctl.fleet.service import list_machines
from fablabctl.queue import jobs, scheduler
from fablabctl.queue.blocked import queued_job, size_from_report
from fablabctl.queue.schemas import JobOut
from fablabctl.queue.states import ACTIVE_STATES, JobState

QUEUE_LIMIT = 100


@dataclass
class JobLine:
    job: JobOut
    filename: str
    owner: str
    machine: str | None = None
    waiting: str | None = None  # scheduler reason code for a queued job
    file_type: str = ""
    warnings: int = 0

    @property
    def duration_s(self) -> float:
        return float(self.job.estimates.get("duration_s") or 0.0)


@dataclass
class MachineCard:
    machine: MachineOut
    job: JobLine | None


def _lines(session: Session, rows: list[Job], machines: dict[int, str]) -> list[JobLine]:
    design_ids = {j.design_id for j in rows}
    owner_ids = {j.owner_id for j in rows}
    names: dict[int, tuple[str, str, Any]] = {}
    for row in session.execute(
        select(Design.id, Design.filename, DesignFile.file_type, DesignFile.report)
        .join(DesignFile, DesignFile.sha256 == Design.sha256)
        .where(Design.id.in_(design_ids))
    ).all():
        names[row[0]] = (row[1], row[2], row[3])
    owners = dict(session.execute(select(User.id, User.display_name).where(User.id.in_(owner_ids))).all())
    lines = []
    for job in rows:
        filename, file_type, report = names.get(job.design_id, ("?", "", {}))
        findings = (report or {}).get("fr", {}).get("findings", [])
        lines.append(
            JobLine(
                JobOut.model_validate(job),
                filename,
                owners.get(job.owner_id, ""),
                machines.get(job.machine_id) if job.machine_id else None,
                file_type=file_type,
                warnings=sum(1 for f in findings if f.get("severity") == "warning"),
            )
        )
    return lines


def board(session: Session, actor: User) -> dict[str, Any]:
    """Everything a dashboard shows: machine cards, jobs to approve, jobs in progress or waiting."""
    machine_rows = list_machines(session=session)
    machine_names = {m.id: m.name for m in machine_rows}
    submitted = jobs.list_jobs(
        session=session, actor=actor, state=JobState.SUBMITTED.value, limit=QUEUE_LIMIT
    )
    live_states = [s.value for s in (JobState.QUEUED, *ACTIVE_STATES, JobState.INTERRUPTED)]
    live = list(
        session.scalars(select(Job).where(Job.state.in_(live_states)).order_by(Job.id).limit(QUEUE_LIMIT))
    )
    live_lines = _lines(session, live, machine_names)
    reasons = waiting_reasons(session, [j for j in live if j.state == JobState.QUEUED.value], machine_rows)
    for line in live_lines:
        line.waiting = reasons.get(line.job.id)
    by_machine = {line.job.machine_id: line for line in live_lines if line.job.machine_id}
    cards = [MachineCard(MachineOut.model_validate(m), by_machine.get(m.id)) for m in machine_rows]
    return {
        "cards": cards,
        "submitted": _lines(session, list(reversed(submitted)), machine_names),
        "live_jobs": live_lines,
    }


def waiting_reasons(session: Session, queued: list[Job], machines: list[Any]) -> dict[int, str]:
    """Ask the scheduler itself why each queued job is not running (same rules as the dispatcher)."""
    if not queued:
        return {}
    sizes: dict[int, Any] = dict(
        session.execute(
            select(Design.id, DesignFile.report)
            .join(DesignFile, DesignFile.sha256 == Design.sha256)
            .where(Design.id.in_({j.design_id for j in queued}))
        ).all()
    )

    table = scheduler.JobTable([queued_job(j, size_from_report(sizes.get(j.design_id))) for j in queued])
    slots = [
        scheduler.MachineSlot(
            m.id,
            m.kind,
            m.state == "idle" and m.current_job_id is None,
            (m.bed_x_mm, m.bed_y_mm, m.bed_z_mm),
            m.loaded_material,
            frozenset(m.materials),
            m.maintenance,
        )
        for m in machines
    ]
    decision = scheduler.schedule(table, slots)
    reasons = dict(decision.waiting)
    for assignment in decision.assignments:  # about to start on the next dispatcher tick
        reasons[assignment.job_id] = scheduler.BUSY
    return reasons
