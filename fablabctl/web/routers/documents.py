"""Documents (PDF/CSV), the cohort's export (ZIP) and its purge."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from fablabctl.documents.data import Ctx
from fablabctl.documents.service import Document, Kind, document, export_zip
from fablabctl.people import purge
from fablabctl.people.attendance import Rules
from fablabctl.web.deps import ContextDep, CurrentUser, SessionDep
from fablabctl.web.transactions import CommitFirstRoute

router = APIRouter(tags=["documents"], route_class=CommitFirstRoute)  # commit before answering


def _response(doc: Document) -> Response:
    return Response(
        content=doc.content,
        media_type=doc.media_type,
        headers={"Content-Disposition": f'attachment; filename="{doc.filename}"'},
    )


def _ctx(session: SessionDep, context: ContextDep) -> Ctx:
    return Ctx(session=session, settings=context.settings, rules=Rules.from_settings(context.settings))


@router.get(
    "/cohorts/{cohort_id}/documents/{kind}",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}, "text/csv": {}}}},
)
def get_document(
    cohort_id: int,
    kind: Kind,
    session: SessionDep,
    actor: CurrentUser,
    context: ContextDep,
    user_id: int | None = None,
    first: Annotated[date | None, Query(alias="from")] = None,
    last: Annotated[date | None, Query(alias="to")] = None,
    format: Literal["pdf", "csv"] = "pdf",
) -> Response:
    doc = document(
        session=session,
        actor=actor,
        ctx=_ctx(session, context),
        cohort_id=cohort_id,
        kind=kind,
        user_id=user_id,
        first=first,
        last=last,
        fmt=format,
    )
    return _response(doc)


@router.get(
    "/cohorts/{cohort_id}/export",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}}},
)
def export(cohort_id: int, session: SessionDep, actor: CurrentUser, context: ContextDep) -> Response:
    return _response(
        export_zip(session=session, actor=actor, ctx=_ctx(session, context), cohort_id=cohort_id)
    )


class PurgeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    now: bool = Field(default=False, description="Before the retention period ends (admins, with a reason).")
    reason: str | None = Field(default=None, max_length=500)


class PurgeOut(BaseModel):
    cohort_id: int
    purged_user_ids: list[int]
    kept_user_ids: list[int]
    rows_scrubbed: int
    files_deleted: int


@router.post("/cohorts/{cohort_id}/purge")
def purge_cohort(
    cohort_id: int,
    body: PurgeIn,
    session: SessionDep,
    actor: CurrentUser,
    context: ContextDep,
    request: Request,
) -> PurgeOut:
    report = purge.purge_cohort(
        session=session,
        actor=actor,
        cohort_id=cohort_id,
        settings=context.settings,
        now=body.now,
        reason=body.reason,
    )
    # the erased values must not survive in free pages: commit now, then compact the database
    session.commit()
    purge.compact(context.engine, report.touched_tables)
    cache = getattr(request.app.state, "job_lists", None)
    if cache is not None:
        cache.clear()  # job lists answered from memory carried the purged names
    return PurgeOut(
        cohort_id=report.cohort_id,
        purged_user_ids=report.purged_user_ids,
        kept_user_ids=report.kept_user_ids,
        rows_scrubbed=report.rows_scrubbed,
        files_deleted=report.files_deleted,
    )
