"""Job service: submit, approve, reject, cancel, list; every state change recorded with who and why.

Legal moves come from `fablabctl.queue.states`; this module applies them to database rows.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from fablabctl import audit
from fablabctl.clock import Clock, utc_now
from fablabctl.db.models import DesignFile, Enrolment, Job, JobEvent, Machine, User
from fablabctl.designs.service import get_design
from fablabctl.errors import Conflict, Invalid, forbidden, not_found
from fablabctl.i18n import Text
from fablabctl.people.roles import STAFF, TEACHING, Role, require, role_of
from fablabctl.queue import events
from fablabctl.queue.materials import check_material
from fablabctl.queue.reasons import BLOCKED_CODES, Reason, split
from fablabctl.queue.schemas import JobSubmit
from fablabctl.queue.states import ACTIVE_STATES, TERMINAL_STATES, JobState, can_transition

KIND_OF_FILE = {"stl": "printer", "dxf": "laser"}
TIGISTE_CANCELLABLE = frozenset({JobState.SUBMITTED, JobState.APPROVED, JobState.QUEUED})


def transition(
    session: Session,
    job: Job,
    to: JobState,
    *,
    actor: User | None,
    reason: str | Reason | None = None,
    clock: Clock = utc_now,
    actor_id: int | None = None,
) -> None:
    """Move a job to `to` if the state machine allows it, and record the move.

    `reason`: text a person typed, or a `Reason` the service gives (stored as code + parameters).
    `actor_id`: the person who asked for this move when the dispatcher carries it out (`actor` None)."""
    src = JobState(job.state)
    if not can_transition(src, to):
        raise Conflict(
            "ILLEGAL_TRANSITION",
            Text(
                f"Impossible de passer le travail {job.id} de « {src} » à « {to} ».",
                f"Job {job.id} cannot go from '{src}' to '{to}'.",
            ),
            state=src.value,
            target=to.value,
        )
    job.state = to.value
    job.updated_at = clock()
    _stamp(job, to)
    who = actor.id if actor else actor_id
    text, code, params = split(reason)
    if reason is not None:
        job.reason, job.reason_code, job.reason_params = text, code, params
    elif job.reason_code in BLOCKED_CODES:  # "no machine can take it" ends when it leaves the queue
        job.reason, job.reason_code, job.reason_params = None, None, None
    session.add(
        JobEvent(
            job_id=job.id,
            from_state=src.value,
            to_state=to.value,
            actor_id=who,
            reason=text,
            reason_code=code,
            reason_params=params,
            at=job.updated_at,
        )
    )
    events.defer(
        session,
        events.JOB_STATE,
        events.job_state(job, src.value, actor_id=who, reason=reason),
        owner_id=job.owner_id,
    )


def _stamp(job: Job, to: JobState) -> None:
    """Record when each phase began, for the durations shown in the job's history."""
    now = job.updated_at
    if to is JobState.QUEUED:
        job.queued_at = now
    elif to is JobState.PREPARING:
        job.preparing_at = now
    elif to is JobState.WAITING_OPERATOR:
        job.waiting_at = now
    elif to is JobState.RUNNING and job.running_at is None:
        job.running_at = now
    elif to in TERMINAL_STATES or to is JobState.INTERRUPTED:
        job.finished_at = now


def _default_cohort(session: Session, user: User) -> int | None:
    cohorts = list(session.scalars(select(Enrolment.cohort_id).where(Enrolment.user_id == user.id)))
    return cohorts[0] if len(cohorts) == 1 else None


def submit_job(*, session: Session, actor: User, data: JobSubmit, data_dir: Path | None = None) -> Job:
    """A validated design becomes a job waiting for a trainer; designs with errors are refused, and so
    are materials the site's library does not know or that are for the other kind of machine
    (`data_dir`: the site's own library files, over the package's)."""
    design = get_design(session=session, actor=actor, design_id=data.design_id)
    content = session.get(DesignFile, design.sha256)
    assert content is not None
    if not content.ok:
        raise Invalid(
            "DESIGN_HAS_ERRORS",
            Text(
                "Ce fichier a des erreurs : corrigez-les (voir le rapport) avant de l'envoyer.",
                "This file has errors: fix them (see the report) before submitting it.",
            ),
        )
    kind = KIND_OF_FILE.get(content.file_type) or data.kind
    if kind is None:
        raise Invalid(
            "JOB_KIND_REQUIRED",
            Text(
                "Précisez la machine : imprimante ou laser.", "Say which kind of machine: printer or laser."
            ),
        )
    if data.kind is not None and data.kind != kind:
        raise Invalid(
            "JOB_KIND_MISMATCH",
            Text(
                f"Un fichier {content.file_type.upper()} va sur : {kind}.",
                f"A {content.file_type.upper()} file goes to: {kind}.",
            ),
        )
    check_material(kind, data.material, data_dir)
    if data.pinned_machine_id is not None:
        require(actor, STAFF)
        machine = session.get(Machine, data.pinned_machine_id)
        if machine is None:
            raise not_found("machine", data.pinned_machine_id)
        if machine.kind != kind:
            raise Invalid(
                "MACHINE_WRONG_KIND",
                Text(
                    f"La machine {machine.name} n'est pas du type {kind}.",
                    f"Machine {machine.name} is not a {kind}.",
                ),
            )
    if data.priority != 0:
        require(actor, TEACHING)
    if (
        data.cohort_id is not None
        and role_of(actor) is Role.TIGISTE
        and data.cohort_id
        not in set(session.scalars(select(Enrolment.cohort_id).where(Enrolment.user_id == actor.id)))
    ):
        raise not_found("cohort", data.cohort_id)
    job = Job(
        design_id=design.id,
        kind=kind,
        material=data.material,
        quantity=data.quantity,
        priority=data.priority,
        state=JobState.SUBMITTED.value,
        owner_id=design.owner_id,
        submitted_by_id=actor.id,
        cohort_id=data.cohort_id or _default_cohort(session, actor),
        pinned_machine_id=data.pinned_machine_id,
        settings={},
        estimates={},
    )
    session.add(job)
    session.flush()
    session.add(
        JobEvent(job_id=job.id, from_state=None, to_state=job.state, actor_id=actor.id, at=job.created_at)
    )
    audit.record(session, actor=actor, action="job.submit", target_type="job", target_id=job.id)
    return job


def get_job(*, session: Session, actor: User, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None or (role_of(actor) is Role.TIGISTE and job.owner_id != actor.id):
        raise not_found("job", job_id)
    audit.staff_read(session, actor, job.owner_id, "job", job.id)
    return job


def list_jobs(
    *,
    session: Session,
    actor: User,
    state: str | None = None,
    cohort_id: int | None = None,
    owner_id: int | None = None,
    machine_id: int | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[Job]:
    query = jobs_query(
        session=session,
        actor=actor,
        state=state,
        cohort_id=cohort_id,
        owner_id=owner_id,
        machine_id=machine_id,
        limit=limit,
        offset=offset,
    )
    return list(session.scalars(query))


def jobs_query(
    *,
    session: Session,
    actor: User,
    state: str | None = None,
    cohort_id: int | None = None,
    owner_id: int | None = None,
    machine_id: int | None = None,
    limit: int = 200,
    offset: int = 0,
) -> Select[Job]:
    """The jobs `actor` may see with these filters, newest first (a staff read of one person's jobs
    is audited); the API's list runs it for its columns only (`db/fast_rows.py`)."""
    query = select(Job).order_by(Job.id.desc()).limit(limit).offset(offset)
    if role_of(actor) is Role.TIGISTE:
        query = query.where(Job.owner_id == actor.id)
    if state is not None:
        query = query.where(Job.state == JobState(state).value)
    if cohort_id is not None:
        query = query.where(Job.cohort_id == cohort_id)
    if owner_id is not None:
        query = query.where(Job.owner_id == owner_id)
        audit.staff_read(session, actor, owner_id, "jobs")
    if machine_id is not None:
        query = query.where(Job.machine_id == machine_id)
    return query


def approve_job(*, session: Session, actor: User, job_id: int) -> Job:
    """A trainer approves: the job goes straight to the queue."""
    require(actor, TEACHING)
    job = get_job(session=session, actor=actor, job_id=job_id)
    transition(session, job, JobState.APPROVED, actor=actor)
    job.approved_by_id = actor.id
    transition(session, job, JobState.QUEUED, actor=actor)
    for number in range(2, job.quantity + 1):
        _queue_copy(session, job, number, actor)
    audit.record(session, actor=actor, action="job.approve", target_type="job", target_id=job.id)
    return job


def _queue_copy(session: Session, job: Job, number: int, actor: User) -> Job:
    """Quantity > 1: each further copy is its own run, so several machines can make them at once."""
    return queue_clone(
        session,
        job,
        actor,
        reason=Reason("COPY", {"number": number, "quantity": job.quantity}),
        approved_by_id=actor.id,
        run_of_id=job.id,
        run_number=number,
        queued_at=job.queued_at,
    )


def queue_clone(session: Session, job: Job, actor: User, *, reason: Reason, **overrides: object) -> Job:
    """A new queued job making the same part as `job` (a further copy, or a new attempt), recorded."""
    fields: dict[str, object] = {
        "design_id": job.design_id,
        "kind": job.kind,
        "material": job.material,
        "quantity": job.quantity,
        "priority": job.priority,
        "owner_id": job.owner_id,
        "submitted_by_id": job.submitted_by_id,
        "approved_by_id": job.approved_by_id,
        "cohort_id": job.cohort_id,
        "pinned_machine_id": job.pinned_machine_id,
        "run_of_id": job.run_of_id,
        "run_number": job.run_number,
    }
    fields.update(overrides)
    clone = Job(state=JobState.QUEUED.value, settings={}, estimates={}, **fields)
    session.add(clone)
    session.flush()
    if clone.queued_at is None:
        clone.queued_at = clone.created_at
    text, code, params = split(reason)
    session.add(
        JobEvent(
            job_id=clone.id,
            from_state=None,
            to_state=clone.state,
            actor_id=actor.id,
            reason=text,
            reason_code=code,
            reason_params=params,
            at=clone.queued_at,
        )
    )
    events.defer(
        session,
        events.JOB_STATE,
        events.job_state(clone, None, actor_id=actor.id, reason=reason),
        owner_id=clone.owner_id,
    )
    return clone


def reject_job(*, session: Session, actor: User, job_id: int, reason: str) -> Job:
    require(actor, TEACHING)
    job = get_job(session=session, actor=actor, job_id=job_id)
    transition(session, job, JobState.REJECTED, actor=actor, reason=reason)
    audit.record(session, actor=actor, action="job.reject", target_type="job", target_id=job.id)
    return job


def cancel_job(*, session: Session, actor: User, job_id: int, reason: str | None = None) -> Job:
    """Staff cancel any job; a tigiste only their own, and only before it reaches a machine."""
    job = get_job(session=session, actor=actor, job_id=job_id)
    if role_of(actor) is Role.TIGISTE and JobState(job.state) not in TIGISTE_CANCELLABLE:
        raise forbidden(
            Text(
                "Ce travail est déjà sur une machine : demandez à un formateur.",
                "This job is already on a machine: ask a trainer.",
            )
        )
    if JobState(job.state) in ACTIVE_STATES:
        # a machine holds it: the dispatcher that runs it stops the machine, then records the cancel
        job.requested_action, job.requested_by_id = "cancel", actor.id
        job.reason, job.reason_code, job.reason_params = reason, None, None
        events.defer(
            session,
            events.JOB_STATE,
            events.job_state(job, job.state, actor_id=actor.id, requested="cancel"),
            owner_id=job.owner_id,
        )
    else:
        transition(session, job, JobState.CANCELLED, actor=actor, reason=reason)
    audit.record(session, actor=actor, action="job.cancel", target_type="job", target_id=job.id)
    return job


def job_events(*, session: Session, actor: User, job_id: int) -> list[JobEvent]:
    job = get_job(session=session, actor=actor, job_id=job_id)
    return list(session.scalars(select(JobEvent).where(JobEvent.job_id == job.id).order_by(JobEvent.id)))


PRIORITY_CHANGEABLE = frozenset({JobState.SUBMITTED, JobState.APPROVED, JobState.QUEUED})


def set_priority(*, session: Session, actor: User, job_id: int, priority: int) -> Job:
    """A trainer moves a job up or down the queue (-10..10; higher first) before a machine takes it."""
    require(actor, TEACHING)
    job = get_job(session=session, actor=actor, job_id=job_id)
    if JobState(job.state) not in PRIORITY_CHANGEABLE:
        raise Conflict(
            "JOB_PRIORITY_LOCKED",
            Text(
                f"Le travail {job.id} a déjà quitté la file (« {job.state} ») : sa priorité ne change plus.",
                f"Job {job.id} has left the queue ('{job.state}'): its priority can no longer change.",
            ),
            state=job.state,
        )
    before, job.priority = job.priority, priority
    job.updated_at = utc_now()  # the dispatcher's queue view reads the jobs changed since its last tick
    events.defer(
        session,
        events.JOB_STATE,
        {"job_id": job.id, "from": job.state, "to": job.state, "reason": None, "machine_id": job.machine_id},
        owner_id=job.owner_id,
    )
    audit.record(
        session,
        actor=actor,
        action="job.priority",
        target_type="job",
        target_id=job.id,
        before=before,
        after=priority,
    )
    return job
