"""Cohorts and enrolments (trainers and admins; a tigiste reads their own)."""

from __future__ import annotations

from fastapi import APIRouter

from fablabctl.people import cohorts
from fablabctl.people.schemas import (
    CohortCreate,
    CohortOut,
    CohortUpdate,
    EnrolmentCreate,
    EnrolmentOut,
    EnrolmentUpdate,
)
from fablabctl.web.deps import ContextDep, CurrentUser, SessionDep
from fablabctl.web.params import Id, IdQuery
from fablabctl.web.transactions import CommitFirstRoute

router = APIRouter(tags=["cohorts"], route_class=CommitFirstRoute)


@router.get("/cohorts")
def list_cohorts(session: SessionDep, actor: CurrentUser) -> list[CohortOut]:
    return [cohorts.cohort_out(session, c) for c in cohorts.visible_cohorts(session=session, actor=actor)]


@router.post("/cohorts", status_code=201)
def create_cohort(
    body: CohortCreate, session: SessionDep, actor: CurrentUser, context: ContextDep
) -> CohortOut:
    cohort = cohorts.create_cohort(
        session=session, actor=actor, data=body, default_site=context.settings.site
    )
    return cohorts.cohort_out(session, cohort)


@router.get("/cohorts/{cohort_id}")
def get_cohort(cohort_id: Id, session: SessionDep, actor: CurrentUser) -> CohortOut:
    return cohorts.cohort_out(session, cohorts.get_cohort(session=session, actor=actor, cohort_id=cohort_id))


@router.patch("/cohorts/{cohort_id}")
def update_cohort(cohort_id: Id, body: CohortUpdate, session: SessionDep, actor: CurrentUser) -> CohortOut:
    cohort = cohorts.update_cohort(session=session, actor=actor, cohort_id=cohort_id, data=body)
    return cohorts.cohort_out(session, cohort)


@router.delete("/cohorts/{cohort_id}", status_code=204)
def delete_cohort(cohort_id: Id, session: SessionDep, actor: CurrentUser) -> None:
    cohorts.delete_cohort(session=session, actor=actor, cohort_id=cohort_id)


@router.get("/enrolments")
def list_enrolments(session: SessionDep, actor: CurrentUser, cohort_id: IdQuery = None) -> list[EnrolmentOut]:
    rows = cohorts.list_enrolments(session=session, actor=actor, cohort_id=cohort_id)
    return [EnrolmentOut.model_validate(e) for e in rows]


@router.post("/enrolments", status_code=201)
def create_enrolment(body: EnrolmentCreate, session: SessionDep, actor: CurrentUser) -> EnrolmentOut:
    return EnrolmentOut.model_validate(cohorts.enrol(session=session, actor=actor, data=body))


@router.get("/enrolments/{enrolment_id}")
def get_enrolment(enrolment_id: Id, session: SessionDep, actor: CurrentUser) -> EnrolmentOut:
    enrolment = cohorts.get_enrolment(session=session, actor=actor, enrolment_id=enrolment_id)
    return EnrolmentOut.model_validate(enrolment)


@router.patch("/enrolments/{enrolment_id}")
def update_enrolment(
    enrolment_id: Id, body: EnrolmentUpdate, session: SessionDep, actor: CurrentUser
) -> EnrolmentOut:
    enrolment = cohorts.update_enrolment(session=session, actor=actor, enrolment_id=enrolment_id, data=body)
    return EnrolmentOut.model_validate(enrolment)


@router.delete("/enrolments/{enrolment_id}", status_code=204)
def delete_enrolment(enrolment_id: Id, session: SessionDep, actor: CurrentUser) -> None:
    cohorts.delete_enrolment(session=session, actor=actor, enrolment_id=enrolment_id)
