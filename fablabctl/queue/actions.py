"""What staff do to a job once it is approved: confirm the machine is ready, pause, resume, print again,
and decide what became of a job interrupted by a crash.

Actions on a job that a machine holds are *requests* written on the job row (`requested_action`): the
dispatcher process that runs that machine (maybe on another site's server) carries them out and
records the resulting state. The database is the message channel, so a request survives a restart.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy.orm import Session

from fablabctl import audit
from fablabctl.db.models import Job, User
from fablabctl.errors import Conflict
from fablabctl.i18n import Text
from fablabctl.people.roles import STAFF, require
from fablabctl.queue import events
from fablabctl.queue.jobs import get_job, queue_clone, transition
from fablabctl.queue.reasons import Reason
from fablabctl.queue.states import JobState

Request = Literal["confirm", "pause", "resume"]
NEEDED_STATE: dict[str, JobState] = {
    "confirm": JobState.WAITING_OPERATOR,
    "pause": JobState.RUNNING,
    "resume": JobState.PAUSED,
}
RETRYABLE = frozenset({JobState.FAILED, JobState.CANCELLED, JobState.INTERRUPTED})


def request_action(*, session: Session, actor: User, job_id: int, action: Request) -> Job:
    """Ask the dispatcher to confirm / pause / resume; refused at once when the state does not allow it."""
    require(actor, STAFF)
    job = get_job(session=session, actor=actor, job_id=job_id)
    needed = NEEDED_STATE[action]
    if JobState(job.state) is not needed:
        raise Conflict(
            "ACTION_NOT_POSSIBLE",
            Text(
                f"« {action} » n'est possible que pour un travail à l'état « {needed} » "
                f"(ce travail est « {job.state} »).",
                f"'{action}' only applies to a job in state '{needed}' (this one is '{job.state}').",
            ),
            state=job.state,
        )
    job.requested_action, job.requested_by_id = action, actor.id
    events.defer(
        session,
        events.JOB_STATE,
        events.job_state(job, job.state, actor_id=actor.id, requested=action),
        owner_id=job.owner_id,
    )
    audit.record(session, actor=actor, action=f"job.{action}", target_type="job", target_id=job.id)
    return job


def retry_job(*, session: Session, actor: User, job_id: int) -> Job:
    """Print again: a new attempt, queued at once (already approved), linked to the first one."""
    require(actor, STAFF)
    job = get_job(session=session, actor=actor, job_id=job_id)
    if JobState(job.state) not in RETRYABLE:
        raise Conflict(
            "NOT_RETRYABLE",
            Text(
                "Seul un travail échoué, annulé ou interrompu peut être relancé "
                f"(celui-ci est « {job.state} »).",
                f"Only a failed, cancelled or interrupted job can be run again (this one is '{job.state}').",
            ),
        )
    attempt = queue_clone(
        session, job, actor, reason=Reason("RETRY_OF", {"job_id": job.id}), attempt_of_id=job.id
    )
    audit.record(
        session, actor=actor, action="job.retry", target_type="job", target_id=attempt.id, attempt_of=job.id
    )
    return attempt


def resolve_interrupted(
    *,
    session: Session,
    actor: User,
    job_id: int,
    outcome: Literal["done", "failed", "cancelled"],
    reason: str | None,
) -> Job:
    """After a crash, the operator looks at the part and says what happened to it."""
    require(actor, STAFF)
    job = get_job(session=session, actor=actor, job_id=job_id)
    if JobState(job.state) is not JobState.INTERRUPTED:
        raise Conflict(
            "NOT_INTERRUPTED",
            Text(f"Le travail {job.id} n'est pas interrompu.", f"Job {job.id} is not interrupted."),
        )
    transition(session, job, JobState(outcome), actor=actor, reason=reason)
    audit.record(
        session, actor=actor, action="job.resolve", target_type="job", target_id=job.id, outcome=outcome
    )
    return job
