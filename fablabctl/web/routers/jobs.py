"""Jobs: submit, list with filters, approve / reject (trainers), cancel, history of state changes."""

from __future__ import annotations

from fastapi import APIRouter

from fablabctl.db.models import Cohort
from fablabctl.errors import not_found
from fablabctl.queue import actions, jobs, records
from fablabctl.queue.schemas import JobCancel, JobEventOut, JobOut, JobReject, JobResolve, JobSubmit
from fablabctl.queue.states import JobState
from fablabctl.web.deps import CurrentUser, SessionDep
from fablabctl.web.params import Id, IdQuery, Limit, Offset
from fablabctl.web.transactions import CommitFirstRoute

router = APIRouter(prefix="/jobs", tags=["jobs"], route_class=CommitFirstRoute)


@router.post("", status_code=201)
def submit_job(body: JobSubmit, session: SessionDep, actor: CurrentUser) -> JobOut:
    if body.cohort_id is not None and session.get(Cohort, body.cohort_id) is None:
        raise not_found("cohort", body.cohort_id)  # a 404 with a code, not a foreign-key failure
    return JobOut.model_validate(jobs.submit_job(session=session, actor=actor, data=body))


@router.get("")
def list_jobs(
    session: SessionDep,
    actor: CurrentUser,
    state: JobState | None = None,
    cohort_id: IdQuery = None,
    owner_id: IdQuery = None,
    machine_id: IdQuery = None,
    limit: Limit = 200,
    offset: Offset = 0,
) -> list[JobOut]:
    rows = jobs.list_jobs(
        session=session,
        actor=actor,
        state=state.value if state else None,
        cohort_id=cohort_id,
        owner_id=owner_id,
        machine_id=machine_id,
        limit=limit,
        offset=offset,
    )
    return [JobOut.model_validate(j) for j in rows]


@router.get("/history")
def job_history(
    session: SessionDep,
    actor: CurrentUser,
    owner_id: IdQuery = None,
    cohort_id: IdQuery = None,
    limit: Limit = 200,
) -> list[records.JobRecord]:
    """Finished jobs: attempts, machine, durations (queued, preparing, running), material, outcome."""
    return records.job_history(
        session=session, actor=actor, owner_id=owner_id, cohort_id=cohort_id, limit=limit
    )


@router.get("/{job_id}")
def get_job(job_id: Id, session: SessionDep, actor: CurrentUser) -> JobOut:
    return JobOut.model_validate(jobs.get_job(session=session, actor=actor, job_id=job_id))


@router.get("/{job_id}/events")
def job_events(job_id: Id, session: SessionDep, actor: CurrentUser) -> list[JobEventOut]:
    return [
        JobEventOut.model_validate(e) for e in jobs.job_events(session=session, actor=actor, job_id=job_id)
    ]


@router.post("/{job_id}/approve")
def approve_job(job_id: Id, session: SessionDep, actor: CurrentUser) -> JobOut:
    return JobOut.model_validate(jobs.approve_job(session=session, actor=actor, job_id=job_id))


@router.post("/{job_id}/reject")
def reject_job(job_id: Id, body: JobReject, session: SessionDep, actor: CurrentUser) -> JobOut:
    return JobOut.model_validate(
        jobs.reject_job(session=session, actor=actor, job_id=job_id, reason=body.reason)
    )


@router.post("/{job_id}/cancel")
def cancel_job(job_id: Id, session: SessionDep, actor: CurrentUser, body: JobCancel | None = None) -> JobOut:
    reason = body.reason if body else None
    return JobOut.model_validate(jobs.cancel_job(session=session, actor=actor, job_id=job_id, reason=reason))


@router.post("/{job_id}/confirm")
def confirm_job(job_id: Id, session: SessionDep, actor: CurrentUser) -> JobOut:
    """The operator checked the bed is clear / the sheet is in place: the machine may start."""
    return JobOut.model_validate(
        actions.request_action(session=session, actor=actor, job_id=job_id, action="confirm")
    )


@router.post("/{job_id}/pause")
def pause_job(job_id: Id, session: SessionDep, actor: CurrentUser) -> JobOut:
    return JobOut.model_validate(
        actions.request_action(session=session, actor=actor, job_id=job_id, action="pause")
    )


@router.post("/{job_id}/resume")
def resume_job(job_id: Id, session: SessionDep, actor: CurrentUser) -> JobOut:
    return JobOut.model_validate(
        actions.request_action(session=session, actor=actor, job_id=job_id, action="resume")
    )


@router.post("/{job_id}/retry", status_code=201)
def retry_job(job_id: Id, session: SessionDep, actor: CurrentUser) -> JobOut:
    """Print again: a new attempt linked to this one, queued at once."""
    return JobOut.model_validate(actions.retry_job(session=session, actor=actor, job_id=job_id))


@router.post("/{job_id}/resolve")
def resolve_job(job_id: Id, body: JobResolve, session: SessionDep, actor: CurrentUser) -> JobOut:
    """Say what became of a job interrupted by a crash (done, failed or cancelled)."""
    job = actions.resolve_interrupted(
        session=session, actor=actor, job_id=job_id, outcome=body.outcome, reason=body.reason
    )
    return JobOut.model_validate(job)
