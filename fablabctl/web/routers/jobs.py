"""Jobs: submit, list with filters, approve / reject (trainers), cancel, history of state changes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from fablabctl.db.models import Cohort
from fablabctl.errors import not_found
from fablabctl.fleet.materials import refuse_disabled
from fablabctl.queue import actions, jobs, records
from fablabctl.queue.job_list import job_list_json
from fablabctl.queue.job_list_cache import JobListCache
from fablabctl.queue.schemas import JobCancel, JobEventOut, JobOut, JobReject, JobResolve, JobSubmit
from fablabctl.queue.states import JobState
from fablabctl.web.control import refuse_confirm_while_framing
from fablabctl.web.deps import ContextDep, CurrentUser, LangDep, SessionDep
from fablabctl.web.params import Id, IdQuery, Limit, Offset
from fablabctl.web.transactions import CommitFirstRoute

router = APIRouter(prefix="/jobs", tags=["jobs"], route_class=CommitFirstRoute)


class JobPriority(BaseModel):
    model_config = ConfigDict(extra="forbid")
    priority: Annotated[int, Field(ge=-10, le=10, description="Higher runs first; 0 is normal")]


@router.post("", status_code=201)
def submit_job(
    body: JobSubmit, session: SessionDep, actor: CurrentUser, lang: LangDep, context: ContextDep
) -> JobOut:
    if body.cohort_id is not None and session.get(Cohort, body.cohort_id) is None:
        raise not_found("cohort", body.cohort_id)  # a 404 with a code, not a foreign-key failure
    refuse_disabled(session, body.material)  # an admin took it out of the library
    job = jobs.submit_job(session=session, actor=actor, data=body, data_dir=context.settings.data_dir)
    return JobOut.of(job, lang)


@router.get("", response_model=list[JobOut])
def list_jobs(
    request: Request,
    session: SessionDep,
    actor: CurrentUser,
    lang: LangDep,
    state: JobState | None = None,
    cohort_id: IdQuery = None,
    owner_id: IdQuery = None,
    machine_id: IdQuery = None,
    limit: Limit = 200,
    offset: Offset = 0,
) -> Response:
    """The jobs you may see, newest first (polled by every open page: encoded straight from the rows,
    and answered from memory while no job has changed: `queue/job_list_cache.py`)."""
    query = jobs.jobs_query(
        session=session,
        actor=actor,
        state=state.value if state else None,
        cohort_id=cohort_id,
        owner_id=owner_id,
        machine_id=machine_id,
        limit=limit,
        offset=offset,
    )
    if owner_id is not None:  # a staff read of one person's jobs is audited each time: never cached
        return Response(job_list_json(session, query, lang), media_type="application/json")
    key = (actor.id, actor.role, state, cohort_id, machine_id, limit, offset, lang)
    cache: JobListCache = request.app.state.job_lists
    body = cache.get(session, key, lambda: job_list_json(session, query, lang))
    return Response(body, media_type="application/json")


@router.get("/history")
def job_history(
    session: SessionDep,
    actor: CurrentUser,
    lang: LangDep,
    owner_id: IdQuery = None,
    cohort_id: IdQuery = None,
    limit: Limit = 200,
) -> list[records.JobRecord]:
    """Finished jobs: attempts, machine, durations (queued, preparing, waiting for the operator,
    running), material, outcome and its reason in the reader's language."""
    return records.job_history(
        session=session, actor=actor, owner_id=owner_id, cohort_id=cohort_id, limit=limit, lang=lang
    )


@router.get("/{job_id}")
def get_job(job_id: Id, session: SessionDep, actor: CurrentUser, lang: LangDep) -> JobOut:
    return JobOut.of(jobs.get_job(session=session, actor=actor, job_id=job_id), lang)


@router.get("/{job_id}/events")
def job_events(job_id: Id, session: SessionDep, actor: CurrentUser, lang: LangDep) -> list[JobEventOut]:
    return [JobEventOut.of(e, lang) for e in jobs.job_events(session=session, actor=actor, job_id=job_id)]


@router.post("/{job_id}/approve")
def approve_job(job_id: Id, session: SessionDep, actor: CurrentUser, lang: LangDep) -> JobOut:
    return JobOut.of(jobs.approve_job(session=session, actor=actor, job_id=job_id), lang)


@router.post("/{job_id}/reject")
def reject_job(job_id: Id, body: JobReject, session: SessionDep, actor: CurrentUser, lang: LangDep) -> JobOut:
    return JobOut.of(jobs.reject_job(session=session, actor=actor, job_id=job_id, reason=body.reason), lang)


@router.post("/{job_id}/cancel")
def cancel_job(
    job_id: Id, session: SessionDep, actor: CurrentUser, lang: LangDep, body: JobCancel | None = None
) -> JobOut:
    reason = body.reason if body else None
    return JobOut.of(jobs.cancel_job(session=session, actor=actor, job_id=job_id, reason=reason), lang)


@router.post("/{job_id}/confirm")
def confirm_job(
    job_id: Id, session: SessionDep, actor: CurrentUser, lang: LangDep, request: Request
) -> JobOut:
    """The operator checked the bed is clear / the sheet is in place: the machine may start."""
    refuse_confirm_while_framing(request.app.state, job_id)  # 409 FRAMING_BUSY while the laser traces
    return JobOut.of(
        actions.request_action(session=session, actor=actor, job_id=job_id, action="confirm"), lang
    )


@router.post("/{job_id}/pause")
def pause_job(job_id: Id, session: SessionDep, actor: CurrentUser, lang: LangDep) -> JobOut:
    return JobOut.of(
        actions.request_action(session=session, actor=actor, job_id=job_id, action="pause"), lang
    )


@router.post("/{job_id}/resume")
def resume_job(job_id: Id, session: SessionDep, actor: CurrentUser, lang: LangDep) -> JobOut:
    return JobOut.of(
        actions.request_action(session=session, actor=actor, job_id=job_id, action="resume"), lang
    )


@router.post("/{job_id}/retry", status_code=201)
def retry_job(job_id: Id, session: SessionDep, actor: CurrentUser, lang: LangDep) -> JobOut:
    """Print again: a new attempt linked to this one, queued at once."""
    return JobOut.of(actions.retry_job(session=session, actor=actor, job_id=job_id), lang)


@router.post("/{job_id}/resolve")
def resolve_job(
    job_id: Id, body: JobResolve, session: SessionDep, actor: CurrentUser, lang: LangDep
) -> JobOut:
    """Say what became of a job interrupted by a crash (done, failed or cancelled)."""
    job = actions.resolve_interrupted(
        session=session, actor=actor, job_id=job_id, outcome=body.outcome, reason=body.reason
    )
    return JobOut.of(job, lang)


@router.post("/{job_id}/priority")
def set_job_priority(
    job_id: Id, body: JobPriority, session: SessionDep, actor: CurrentUser, lang: LangDep
) -> JobOut:
    """Trainers and admins move a job up or down the queue while no machine has taken it yet."""
    return JobOut.of(
        jobs.set_priority(session=session, actor=actor, job_id=job_id, priority=body.priority), lang
    )
