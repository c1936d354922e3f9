"""The programme around the hours: contributions to jobs, the measure's terms, PIX self-assessments,
and the journal de bord. Records carry a UUID and the site; none holds a name.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints, field_validator
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fablabctl import audit
from fablabctl.clock import Clock, utc_now
from fablabctl.db.models import (
    Contribution,
    Enrolment,
    EnrolmentTerms,
    Job,
    JournalEntry,
    PixAssessment,
    User,
)
from fablabctl.errors import Conflict, Invalid, not_found
from fablabctl.i18n import Text, TextValueError
from fablabctl.people.cohorts import get_cohort, get_enrolment
from fablabctl.people.roles import STAFF, TEACHING, Role, require, role_of

PIX_AREAS: dict[str, str] = {
    "information": "Information et données",
    "communication": "Communication et collaboration",
    "creation": "Création de contenu",
    "protection": "Protection et sécurité",
    "environment": "Environnement numérique",
}
PIX_LEVELS = ("je ne sais pas faire", "je commence", "je me débrouille", "je suis à l'aise")
ContributionRole = Literal["owner", "designed", "prepared", "assembled"]
ROLE_FR = {"owner": "réalisé", "designed": "conçu", "prepared": "préparé", "assembled": "assemblé"}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ContributionIn(Strict):
    user_id: int
    role: ContributionRole = "designed"


class ContributionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    uuid: str
    job_id: int
    user_id: int
    role: str


class TermsIn(Strict):
    measure: Literal["TIG", "TNR", "autre"] | None = None
    deadline: date | None = None
    contract_signed_on: date | None = None


class TermsOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    enrolment_id: int
    measure: str
    deadline: date | None
    contract_signed_on: date | None


class AssessmentIn(Strict):
    user_id: int
    stage: Literal["pre", "post"]
    scores: dict[str, int]

    @field_validator("scores")
    @classmethod
    def _five_areas(cls, value: dict[str, int]) -> dict[str, int]:
        if set(value) != set(PIX_AREAS) or any(not 0 <= v <= 3 for v in value.values()):
            raise TextValueError(
                Text(
                    "un niveau de 0 à 3 pour chaque domaine : {areas}",
                    "one level 0..3 for each area: {areas}",
                ).format(areas=", ".join(PIX_AREAS))
            )
        return value


class AssessmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    uuid: str
    user_id: int
    stage: str
    scores: dict[str, Any]


class JournalIn(Strict):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
    day: date | None = None


class JournalOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    uuid: str
    day: date
    author_id: int | None
    text: str


def _job_cohort(session: Session, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise not_found("job", job_id)
    return job


def add_contribution(*, session: Session, actor: User, job_id: int, data: ContributionIn) -> Contribution:
    require(actor, STAFF)
    job = _job_cohort(session, job_id)
    user = session.get(User, data.user_id)
    if user is None:
        raise not_found("user", data.user_id)
    if job.cohort_id is None:
        raise Invalid(
            "JOB_WITHOUT_COHORT",
            Text("Ce travail n'appartient à aucune cohorte.", "This job belongs to no cohort."),
        )
    cohort = get_cohort(session=session, actor=actor, cohort_id=job.cohort_id)
    row = Contribution(
        site_id=cohort.site_id, job_id=job.id, user_id=user.id, role=data.role, recorded_by_id=actor.id
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(
            "CONTRIBUTION_EXISTS",
            Text("Cette contribution est déjà notée.", "This contribution is already recorded."),
        ) from None
    audit.record(session, actor=actor, action="contribution.add", target_type="job", target_id=job.id)
    return row


def contributions(session: Session, cohort_id: int, user_id: int | None = None) -> list[tuple[Job, str, int]]:
    """(job, role, user id) for every job of the cohort: its owner, then those added by the staff."""
    jobs = list(session.scalars(select(Job).where(Job.cohort_id == cohort_id).order_by(Job.id)))
    out: list[tuple[Job, str, int]] = []
    for job in jobs:
        if job.run_of_id is not None or job.attempt_of_id is not None:
            continue  # copies and retries are the same object
        out.append((job, "owner", job.owner_id))
        for c in session.scalars(select(Contribution).where(Contribution.job_id == job.id)):
            out.append((job, c.role, c.user_id))
    return [row for row in out if user_id is None or row[2] == user_id]


def set_terms(*, session: Session, actor: User, enrolment_id: int, data: TermsIn) -> EnrolmentTerms:
    require(actor, TEACHING)
    enrolment = get_enrolment(session=session, actor=actor, enrolment_id=enrolment_id)
    terms = session.get(EnrolmentTerms, enrolment.id) or EnrolmentTerms(
        enrolment_id=enrolment.id, measure="TIG"
    )
    for field, value in data.model_dump(exclude_unset=True).items():
        if value is not None or field != "measure":
            setattr(terms, field, value)
    session.add(terms)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="enrolment.terms",
        target_type="enrolment",
        target_id=enrolment.id,
        fields=sorted(data.model_dump(exclude_unset=True)),
    )
    return terms


def get_terms(*, session: Session, actor: User, enrolment_id: int) -> TermsOut:
    enrolment: Enrolment = get_enrolment(session=session, actor=actor, enrolment_id=enrolment_id)
    terms = session.get(EnrolmentTerms, enrolment.id)
    if terms is None:
        return TermsOut(enrolment_id=enrolment.id, measure="TIG", deadline=None, contract_signed_on=None)
    return TermsOut.model_validate(terms)


def record_assessment(*, session: Session, actor: User, cohort_id: int, data: AssessmentIn) -> PixAssessment:
    """Staff enter anyone's answers; a tigiste answers for themselves. A new answer replaces the stage's."""
    cohort = get_cohort(session=session, actor=actor, cohort_id=cohort_id)
    if role_of(actor) is Role.TIGISTE and data.user_id != actor.id:
        raise not_found("user", data.user_id)
    if role_of(actor) is not Role.TIGISTE:
        require(actor, STAFF)
    if (
        session.scalar(
            select(Enrolment.id).where(Enrolment.cohort_id == cohort_id, Enrolment.user_id == data.user_id)
        )
        is None
    ):
        raise not_found("enrolment", f"{cohort_id}/{data.user_id}")
    row = session.scalar(
        select(PixAssessment).where(
            PixAssessment.cohort_id == cohort_id,
            PixAssessment.user_id == data.user_id,
            PixAssessment.stage == data.stage,
        )
    )
    if row is None:
        row = PixAssessment(
            site_id=cohort.site_id, cohort_id=cohort_id, user_id=data.user_id, stage=data.stage
        )
        session.add(row)
    row.scores = dict(data.scores)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="assessment.record",
        target_type="cohort",
        target_id=cohort_id,
        stage=data.stage,
    )
    return row


def list_assessments(*, session: Session, actor: User, cohort_id: int) -> list[PixAssessment]:
    get_cohort(session=session, actor=actor, cohort_id=cohort_id)
    query = select(PixAssessment).where(PixAssessment.cohort_id == cohort_id).order_by(PixAssessment.id)
    if role_of(actor) is Role.TIGISTE:
        query = query.where(PixAssessment.user_id == actor.id)
    else:
        require(actor, STAFF)
        audit.record(
            session, actor=actor, action="assessment.list", target_type="cohort", target_id=cohort_id
        )
    return list(session.scalars(query))


def add_journal(
    *, session: Session, actor: User, cohort_id: int, data: JournalIn, clock: Clock = utc_now
) -> JournalEntry:
    require(actor, TEACHING)
    cohort = get_cohort(session=session, actor=actor, cohort_id=cohort_id)
    row = JournalEntry(
        site_id=cohort.site_id,
        cohort_id=cohort_id,
        author_id=actor.id,
        day=data.day or clock().date(),
        text=data.text,
    )
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action="journal.add", target_type="journal", target_id=row.uuid)
    return row


def list_journal(*, session: Session, actor: User, cohort_id: int) -> list[JournalEntry]:
    require(actor, TEACHING)
    get_cohort(session=session, actor=actor, cohort_id=cohort_id)
    audit.record(session, actor=actor, action="journal.list", target_type="cohort", target_id=cohort_id)
    return list(
        session.scalars(
            select(JournalEntry)
            .where(JournalEntry.cohort_id == cohort_id)
            .order_by(JournalEntry.day, JournalEntry.id)
        )
    )
