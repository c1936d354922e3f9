"""The database steps of running a job, each one short transaction in a worker thread.

State changes (`move`, `finish`) are retried until they are recorded: a busy or restarting
database delays them, it never loses them. They are written to be run again safely (an attempt
whose commit was in doubt may have gone through): a job already in the target state, or already
settled, is left as it is. Reads and progress are best effort: a miss is tried again next poll.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session

from fablabctl.clock import utc_now
from fablabctl.db.models import Job, Machine
from fablabctl.db.retry import Transactions, describe
from fablabctl.queue import events
from fablabctl.queue.claims import release_machine
from fablabctl.queue.jobs import transition
from fablabctl.queue.reasons import Reason
from fablabctl.queue.states import TERMINAL_STATES, JobState

log = logging.getLogger(__name__)
SETTLED = TERMINAL_STATES | {JobState.INTERRUPTED}
FOLLOWED = (JobState.RUNNING.value, JobState.PAUSED.value)


@dataclass
class Outcome:
    state: JobState
    reason: str | Reason | None = None


def _move(
    session: Session, job_id: int, to: JobState, reason: str | Reason | None, fields: dict[str, object]
) -> None:
    job = session.get(Job, job_id)
    if job is None:
        return
    # a move that answers a staff request (it clears the request) is recorded in that person's name
    by = job.requested_by_id if "requested_action" in fields else None
    for name, value in fields.items():
        setattr(job, name, value)
    if fields.get("requested_action", "") is None:
        job.requested_by_id = None
    if job.state != to.value:  # else an earlier attempt already committed it
        transition(session, job, to, actor=None, reason=reason, actor_id=by)


def _finish(session: Session, job_id: int, machine_id: int, outcome: Outcome, machine_seconds: float) -> None:
    job = session.get(Job, job_id)
    machine = session.get(Machine, machine_id)
    if job is None or machine is None or JobState(job.state) in SETTLED:
        release_machine(session, machine_id, job_id)  # settled already (an earlier attempt, the watchdog)
        return
    job.machine_seconds = round(job.machine_seconds + machine_seconds, 1)
    # a cancel asked by a person is recorded in their name; the progress reached is kept
    by = job.requested_by_id if job.requested_action == "cancel" else None
    job.requested_action, job.requested_by_id = None, None
    if outcome.state is JobState.DONE:
        job.progress = 1.0
    transition(session, job, outcome.state, actor=None, reason=outcome.reason, actor_id=by)
    machine.run_seconds += machine_seconds
    if outcome.state is JobState.DONE:
        machine.jobs_done += 1
    elif outcome.state is JobState.FAILED:
        machine.jobs_failed += 1
    release_machine(session, machine_id, job_id)
    if machine.state == "busy":  # free again; the next tick says otherwise if it went away
        machine.state = "idle"
    events.defer(session, events.MACHINE_STATE, events.machine_state(machine_id, machine.state, None))


def _requested(session: Session, job_id: int) -> str | None:
    return session.scalar(select(Job.requested_action).where(Job.id == job_id))


def _clear_request(session: Session, job_id: int) -> None:
    job = session.get(Job, job_id)
    if job is not None:
        job.requested_action = None


def _seconds_running(session: Session, job_id: int) -> float:
    started = session.scalar(select(Job.running_at).where(Job.id == job_id))
    return max(0.0, (utc_now() - started).total_seconds()) if started is not None else 0.0


def _reason(session: Session, job_id: int) -> str | None:
    return session.scalar(select(Job.reason).where(Job.id == job_id))


def _progress(session: Session, job_id: int, progress: float) -> None:
    job = session.get(Job, job_id)
    # never after the job ended (done sets 1.0), and never backwards: a machine that cancels or
    # stops reports 0 %, and a job cancelled at 21 % keeps 0.21
    if job is not None and job.state in FOLLOWED and progress > job.progress:
        job.progress = progress
        job.updated_at = utc_now()
        events.defer(
            session, events.JOB_PROGRESS, {"job_id": job_id, "progress": progress}, owner_id=job.owner_id
        )


class JobSteps:
    """What the runner writes and reads, off the event loop."""

    def __init__(self, db: Transactions) -> None:
        self.db = db

    async def move(
        self, job_id: int, to: JobState, reason: str | Reason | None = None, **fields: object
    ) -> None:
        await self.db.run(
            partial(_move, job_id=job_id, to=to, reason=reason, fields=fields),
            attempts=None,
            what=f"job {job_id} -> {to.value}",
        )

    async def finish(self, job_id: int, machine_id: int, outcome: Outcome, machine_seconds: float) -> None:
        await self.db.run(
            partial(
                _finish,
                job_id=job_id,
                machine_id=machine_id,
                outcome=outcome,
                machine_seconds=machine_seconds,
            ),
            attempts=None,
            what=f"job {job_id} -> {outcome.state.value}",
        )

    async def requested(self, job_id: int) -> str | None:
        """What staff asked for (None also when the database cannot say right now: asked again soon)."""
        try:
            return await self.db.run(
                partial(_requested, job_id=job_id), attempts=3, what=f"job {job_id} poll"
            )
        except Exception as error:  # a poll that fails is simply the next poll's job
            log.debug("job %s: cannot read requests now: %s", job_id, describe(error))
            return None

    async def clear_request(self, job_id: int) -> None:
        await self.db.run(partial(_clear_request, job_id=job_id), attempts=None, what=f"job {job_id} request")

    async def seconds_running(self, job_id: int) -> float:
        """How long the job has been on its machine (from its `running_at`): a job re-attached after
        a restart counts the whole run, not only the time since the restart."""
        try:
            return await self.db.run(
                partial(_seconds_running, job_id=job_id), attempts=5, what=f"job {job_id} start time"
            )
        except Exception as error:
            log.warning("job %s: cannot read when it started: %s", job_id, describe(error))
            return 0.0

    async def reason(self, job_id: int) -> str | None:
        try:
            return await self.db.run(partial(_reason, job_id=job_id), attempts=5, what=f"job {job_id} reason")
        except Exception as error:
            log.warning("job %s: cannot read the reason: %s", job_id, describe(error))
            return None

    async def progress(self, job_id: int, progress: float) -> None:
        try:
            await self.db.run(
                partial(_progress, job_id=job_id, progress=progress),
                attempts=2,
                what=f"job {job_id} progress",
            )
        except Exception as error:  # the next progress report carries the news
            log.debug("job %s: progress not saved: %s", job_id, describe(error))
