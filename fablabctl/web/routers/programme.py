"""Contributions, the measure's terms, PIX self-assessments and the journal de bord."""

from __future__ import annotations

from fastapi import APIRouter

from fablabctl.people import programme
from fablabctl.people.programme import (
    AssessmentIn,
    AssessmentOut,
    ContributionIn,
    ContributionOut,
    JournalIn,
    JournalOut,
    TermsIn,
    TermsOut,
)
from fablabctl.web.deps import CurrentUser, SessionDep
from fablabctl.web.transactions import CommitFirstRoute

router = APIRouter(tags=["programme"], route_class=CommitFirstRoute)  # commit before answering


@router.post("/jobs/{job_id}/contributions", status_code=201)
def add_contribution(
    job_id: int, body: ContributionIn, session: SessionDep, actor: CurrentUser
) -> ContributionOut:
    row = programme.add_contribution(session=session, actor=actor, job_id=job_id, data=body)
    return ContributionOut.model_validate(row)


@router.get("/enrolments/{enrolment_id}/terms")
def get_terms(enrolment_id: int, session: SessionDep, actor: CurrentUser) -> TermsOut:
    return programme.get_terms(session=session, actor=actor, enrolment_id=enrolment_id)


@router.put("/enrolments/{enrolment_id}/terms")
def set_terms(enrolment_id: int, body: TermsIn, session: SessionDep, actor: CurrentUser) -> TermsOut:
    terms = programme.set_terms(session=session, actor=actor, enrolment_id=enrolment_id, data=body)
    return TermsOut.model_validate(terms)


@router.post("/cohorts/{cohort_id}/assessments", status_code=201)
def record_assessment(
    cohort_id: int, body: AssessmentIn, session: SessionDep, actor: CurrentUser
) -> AssessmentOut:
    row = programme.record_assessment(session=session, actor=actor, cohort_id=cohort_id, data=body)
    return AssessmentOut.model_validate(row)


@router.get("/cohorts/{cohort_id}/assessments")
def list_assessments(cohort_id: int, session: SessionDep, actor: CurrentUser) -> list[AssessmentOut]:
    rows = programme.list_assessments(session=session, actor=actor, cohort_id=cohort_id)
    return [AssessmentOut.model_validate(r) for r in rows]


@router.post("/cohorts/{cohort_id}/journal", status_code=201)
def add_journal(cohort_id: int, body: JournalIn, session: SessionDep, actor: CurrentUser) -> JournalOut:
    row = programme.add_journal(session=session, actor=actor, cohort_id=cohort_id, data=body)
    return JournalOut.model_validate(row)


@router.get("/cohorts/{cohort_id}/journal")
def list_journal(cohort_id: int, session: SessionDep, actor: CurrentUser) -> list[JournalOut]:
    rows = programme.list_journal(session=session, actor=actor, cohort_id=cohort_id)
    return [JournalOut.model_validate(r) for r in rows]
