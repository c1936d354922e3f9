"""Cohorts (TIG sessions) and enrolments (a tigiste, the hours the court set, the referent)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fablabctl import audit
from fablabctl.db.models import Cohort, CohortTrainer, Enrolment, Site, User
from fablabctl.errors import Conflict, Invalid, not_found
from fablabctl.i18n import Text
from fablabctl.people.roles import TEACHING, Role, require, role_of
from fablabctl.people.schemas import CohortCreate, CohortOut, CohortUpdate, EnrolmentCreate, EnrolmentUpdate
from fablabctl.sites import get_or_create_site


def cohort_out(session: Session, cohort: Cohort) -> CohortOut:
    site = session.get(Site, cohort.site_id)
    trainers = session.scalars(select(CohortTrainer.user_id).where(CohortTrainer.cohort_id == cohort.id))
    return CohortOut(
        id=cohort.id,
        name=cohort.name,
        site=site.name if site else "",
        starts_on=cohort.starts_on,
        ends_on=cohort.ends_on,
        project=cohort.project,
        trainer_ids=sorted(trainers),
    )


def _check_trainers(session: Session, trainer_ids: list[int]) -> None:
    for user_id in trainer_ids:
        user = session.get(User, user_id)
        if user is None or role_of(user) not in TEACHING:
            raise Invalid(
                "NOT_A_TRAINER",
                Text(f"L'utilisateur {user_id} n'est pas formateur.", f"User {user_id} is not a trainer."),
                user_id=user_id,
            )


def create_cohort(*, session: Session, actor: User, data: CohortCreate, default_site: str) -> Cohort:
    require(actor, TEACHING)
    if session.scalar(select(Cohort.id).where(Cohort.name == data.name)) is not None:
        raise _name_taken(data.name)
    _check_trainers(session, data.trainer_ids)
    site = get_or_create_site(session, data.site or default_site)
    cohort = Cohort(
        name=data.name, site_id=site.id, starts_on=data.starts_on, ends_on=data.ends_on, project=data.project
    )
    session.add(cohort)
    try:
        session.flush()
    except IntegrityError:
        raise _name_taken(data.name) from None
    for user_id in sorted(set(data.trainer_ids)):
        session.add(CohortTrainer(cohort_id=cohort.id, user_id=user_id))
    audit.record(session, actor=actor, action="cohort.create", target_type="cohort", target_id=cohort.id)
    return cohort


def _name_taken(name: str) -> Conflict:
    return Conflict(
        "COHORT_NAME_TAKEN", Text(f"La cohorte « {name} » existe déjà.", f"Cohort '{name}' already exists.")
    )


def visible_cohorts(*, session: Session, actor: User) -> list[Cohort]:
    """Staff see every cohort; a tigiste sees only the cohorts they are enrolled in."""
    query = select(Cohort).order_by(Cohort.starts_on, Cohort.id)
    if role_of(actor) is Role.TIGISTE:
        query = query.join(Enrolment, Enrolment.cohort_id == Cohort.id).where(Enrolment.user_id == actor.id)
    return list(session.scalars(query))


def get_cohort(*, session: Session, actor: User, cohort_id: int) -> Cohort:
    cohort = session.get(Cohort, cohort_id)
    if cohort is None or (
        role_of(actor) is Role.TIGISTE and cohort not in visible_cohorts(session=session, actor=actor)
    ):
        raise not_found("cohort", cohort_id)
    return cohort


def update_cohort(*, session: Session, actor: User, cohort_id: int, data: CohortUpdate) -> Cohort:
    require(actor, TEACHING)
    cohort = get_cohort(session=session, actor=actor, cohort_id=cohort_id)
    changed = data.model_dump(exclude_unset=True)
    for field in ("name", "starts_on", "ends_on", "project"):
        if field in changed and (changed[field] is not None or field == "project"):
            setattr(cohort, field, changed[field])
    if cohort.ends_on < cohort.starts_on:
        raise Invalid(
            "COHORT_DATES",
            Text("La date de fin précède la date de début.", "The end date is before the start date."),
        )
    if data.trainer_ids is not None:
        _check_trainers(session, data.trainer_ids)
        session.execute(delete(CohortTrainer).where(CohortTrainer.cohort_id == cohort.id))
        for user_id in sorted(set(data.trainer_ids)):
            session.add(CohortTrainer(cohort_id=cohort.id, user_id=user_id))
    try:
        session.flush()
    except IntegrityError:
        raise _name_taken(str(cohort.name)) from None
    audit.record(
        session,
        actor=actor,
        action="cohort.update",
        target_type="cohort",
        target_id=cohort.id,
        fields=sorted(changed),
    )
    return cohort


def delete_cohort(*, session: Session, actor: User, cohort_id: int) -> None:
    require(actor, TEACHING)
    cohort = get_cohort(session=session, actor=actor, cohort_id=cohort_id)
    session.delete(cohort)
    audit.record(session, actor=actor, action="cohort.delete", target_type="cohort", target_id=cohort_id)


def enrol(*, session: Session, actor: User, data: EnrolmentCreate) -> Enrolment:
    require(actor, TEACHING)
    get_cohort(session=session, actor=actor, cohort_id=data.cohort_id)
    user = session.get(User, data.user_id)
    if user is None:
        raise not_found("user", data.user_id)
    if role_of(user) is not Role.TIGISTE:
        raise Invalid(
            "NOT_A_TIGISTE",
            Text(
                f"L'utilisateur {user.id} n'a pas le rôle tigiste.",
                f"User {user.id} does not have the tigiste role.",
            ),
        )
    existing = session.scalar(
        select(Enrolment.id).where(Enrolment.cohort_id == data.cohort_id, Enrolment.user_id == data.user_id)
    )
    if existing is not None:
        raise Conflict(
            "ALREADY_ENROLLED",
            Text(
                "Cette personne est déjà inscrite dans cette cohorte.",
                "This person is already enrolled in this cohort.",
            ),
        )
    enrolment = Enrolment(**data.model_dump())
    session.add(enrolment)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="enrolment.create",
        target_type="enrolment",
        target_id=enrolment.id,
        user_id=user.id,
        cohort_id=data.cohort_id,
    )
    return enrolment


def list_enrolments(*, session: Session, actor: User, cohort_id: int | None = None) -> list[Enrolment]:
    """Trainers read every enrolment (audited); a tigiste reads only their own hours."""
    query = select(Enrolment).order_by(Enrolment.id)
    if cohort_id is not None:
        query = query.where(Enrolment.cohort_id == cohort_id)
    if role_of(actor) is Role.TIGISTE:
        query = query.where(Enrolment.user_id == actor.id)
    else:
        require(actor, TEACHING)
    rows = list(session.scalars(query))
    if role_of(actor) is not Role.TIGISTE:
        audit.record(
            session,
            actor=actor,
            action="enrolment.list",
            target_type="enrolment",
            cohort_id=cohort_id,
            count=len(rows),
        )
    return rows


def get_enrolment(*, session: Session, actor: User, enrolment_id: int) -> Enrolment:
    enrolment = session.get(Enrolment, enrolment_id)
    if enrolment is None or (role_of(actor) is Role.TIGISTE and enrolment.user_id != actor.id):
        raise not_found("enrolment", enrolment_id)
    if role_of(actor) is not Role.TIGISTE:
        require(actor, TEACHING)
        audit.record(
            session, actor=actor, action="enrolment.read", target_type="enrolment", target_id=enrolment.id
        )
    return enrolment


def update_enrolment(*, session: Session, actor: User, enrolment_id: int, data: EnrolmentUpdate) -> Enrolment:
    require(actor, TEACHING)
    enrolment = get_enrolment(session=session, actor=actor, enrolment_id=enrolment_id)
    changed = data.model_dump(exclude_unset=True, exclude_none=True)
    for field, value in changed.items():
        setattr(enrolment, field, value)
    audit.record(
        session,
        actor=actor,
        action="enrolment.update",
        target_type="enrolment",
        target_id=enrolment.id,
        fields=sorted(changed),
    )
    return enrolment


def delete_enrolment(*, session: Session, actor: User, enrolment_id: int) -> None:
    require(actor, TEACHING)
    enrolment = get_enrolment(session=session, actor=actor, enrolment_id=enrolment_id)
    session.delete(enrolment)
    audit.record(
        session, actor=actor, action="enrolment.delete", target_type="enrolment", target_id=enrolment_id
    )
