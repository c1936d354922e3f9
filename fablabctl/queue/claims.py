"""Claiming work safely when several service processes share one database.

A claim is a conditional UPDATE (`... WHERE state = 'queued'`): exactly one process can move a job
out of `queued`, on SQLite and PostgreSQL alike. On PostgreSQL the candidates are also read with
`FOR UPDATE SKIP LOCKED`, so concurrent dispatchers look at disjoint jobs instead of queueing on
each other's locks. The machine is claimed the same way (`current_job_id IS NULL`), in the same
transaction: a job never runs twice and a machine never takes two jobs.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fablabctl.clock import Clock, utc_now
from fablabctl.db.models import Job, JobEvent, Machine
from fablabctl.queue import events
from fablabctl.queue.reasons import Reason
from fablabctl.queue.states import JobState

MAX_CANDIDATES = 10_000


def queued_candidates(session: Session, *, limit: int = MAX_CANDIDATES) -> Sequence[Job]:
    """Queued jobs, oldest first, skipping rows another dispatcher is deciding on right now."""
    query = (
        select(Job)
        .where(Job.state == JobState.QUEUED.value)
        .order_by(Job.priority.desc(), Job.queued_at, Job.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Job)
    return session.scalars(query).all()


def claim(session: Session, *, job_id: int, machine_id: int, worker: str, clock: Clock = utc_now) -> bool:
    """Take the job for the machine; False when someone else got either first. Caller commits."""
    now = clock()
    machine_taken = session.execute(
        update(Machine)
        .where(Machine.id == machine_id, Machine.current_job_id.is_(None), Machine.maintenance.is_(False))
        .values(current_job_id=job_id)
    )
    if machine_taken.rowcount != 1:  # type: ignore[attr-defined]
        return False
    job_taken = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == JobState.QUEUED.value)
        .values(
            state=JobState.PREPARING.value,
            machine_id=machine_id,
            claimed_by=worker,
            preparing_at=now,
            waiting_at=None,  # an earlier attempt's wait for the operator is not this one's
            updated_at=now,
            requested_action=None,
            requested_by_id=None,
            progress=0.0,
            reason=None,  # a "no machine can take it" reason is over
            reason_code=None,
            reason_params=None,
        )
    )
    if job_taken.rowcount != 1:  # type: ignore[attr-defined]
        session.execute(update(Machine).where(Machine.id == machine_id).values(current_job_id=None))
        return False
    claimed = Reason("CLAIMED", {"machine_id": machine_id})
    session.add(
        JobEvent(
            job_id=job_id,
            from_state=JobState.QUEUED.value,
            to_state=JobState.PREPARING.value,
            actor_id=None,
            reason=claimed.text().fr,
            reason_code=claimed.code,
            reason_params=dict(claimed.params),
            at=now,
        )
    )
    owner = session.scalar(select(Job.owner_id).where(Job.id == job_id))
    events.defer(
        session,
        events.JOB_STATE,
        {
            "job_id": job_id,
            "from_state": JobState.QUEUED.value,
            "to_state": JobState.PREPARING.value,
            "machine_id": machine_id,
            "actor_id": None,
        },
        owner_id=owner,
    )
    return True


def release_machine(session: Session, machine_id: int, job_id: int) -> None:
    """Free the machine, but only if it is still held by this job."""
    session.execute(
        update(Machine)
        .where(Machine.id == machine_id, Machine.current_job_id == job_id)
        .values(current_job_id=None)
    )
