"""What happened: per job (attempts, machine, durations, material, outcome) and per machine (odometer)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from fablabctl import audit
from fablabctl.db.models import Design, Job, Machine, User
from fablabctl.i18n import DEFAULT_LANG, Lang
from fablabctl.people.roles import Role, role_of
from fablabctl.queue.reasons import render
from fablabctl.queue.states import TERMINAL_STATES, JobState

FINISHED = sorted(s.value for s in (*TERMINAL_STATES, JobState.INTERRUPTED) if s is not JobState.REJECTED)


class JobRecord(BaseModel):
    job_id: int
    filename: str
    owner_id: int
    machine: str | None
    attempt_of_id: int | None
    run: str  # "2/5"
    outcome: str
    reason: str | None  # in the reader's language
    reason_code: str | None = None
    queued_s: float | None  # waiting in the queue
    preparing_s: float | None  # slicing / laser G-code and its safety check
    waiting_operator_s: float | None = None  # until the operator confirmed the bed / sheet
    running_s: float  # machine time
    estimates: dict[str, Any]
    finished_at: datetime | None


class MachineStats(BaseModel):
    machine_id: int
    name: str
    kind: str
    state: str
    maintenance: bool
    hours_run: float
    jobs_done: int
    jobs_failed: int


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    return round((end - start).total_seconds(), 1) if start and end else None


def job_history(
    *,
    session: Session,
    actor: User,
    owner_id: int | None = None,
    cohort_id: int | None = None,
    limit: int = 200,
    lang: Lang = DEFAULT_LANG,
) -> list[JobRecord]:
    query = (
        select(Job, Design.filename, Machine.name)
        .join(Design, Design.id == Job.design_id)
        .outerjoin(Machine, Machine.id == Job.machine_id)
        .where(Job.state.in_(FINISHED))
        .order_by(Job.finished_at.desc(), Job.id.desc())
        .limit(limit)
    )
    if role_of(actor) is Role.TIGISTE:
        query = query.where(Job.owner_id == actor.id)
    if owner_id is not None:
        query = query.where(Job.owner_id == owner_id)
        audit.staff_read(session, actor, owner_id, "history")
    if cohort_id is not None:
        query = query.where(Job.cohort_id == cohort_id)
    records = []
    for job, filename, machine in session.execute(query):
        records.append(
            JobRecord(
                job_id=job.id,
                filename=filename,
                owner_id=job.owner_id,
                machine=machine,
                attempt_of_id=job.attempt_of_id,
                run=f"{job.run_number}/{job.quantity}",
                outcome=job.state,
                reason=render(job.reason_code, job.reason_params, job.reason, lang),
                reason_code=job.reason_code,
                queued_s=_seconds(job.queued_at, job.preparing_at),
                preparing_s=_seconds(job.preparing_at, job.waiting_at or job.running_at),
                waiting_operator_s=_seconds(job.waiting_at, job.running_at),
                running_s=round(job.machine_seconds, 1),
                estimates=job.estimates,
                finished_at=job.finished_at,
            )
        )
    return records


def machine_stats(*, session: Session) -> list[MachineStats]:
    return [
        MachineStats(
            machine_id=m.id,
            name=m.name,
            kind=m.kind,
            state=m.state,
            maintenance=m.maintenance,
            hours_run=round(m.run_seconds / 3600, 2),
            jobs_done=m.jobs_done,
            jobs_failed=m.jobs_failed,
        )
        for m in session.scalars(select(Machine).order_by(Machine.name))
    ]
