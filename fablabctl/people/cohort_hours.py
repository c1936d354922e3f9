"""Each tigiste's hours in a cohort: done, due, progress, expected end, deadline, warnings.

The figures every surface shows (API, CLI, documents) come from here, as plain data.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fablabctl import audit
from fablabctl.clock import Clock, utc_now
from fablabctl.db.models import Absence, Enrolment, EnrolmentTerms, User
from fablabctl.i18n import Lang
from fablabctl.people.absences import detect
from fablabctl.people.attendance import Rules, as_period, latest_versions
from fablabctl.people.attendance_schemas import DayOut, HoursOut, WarningOut
from fablabctl.people.cohorts import get_cohort
from fablabctl.people.hours import expected_end, minutes_to_hours, summarize
from fablabctl.people.roles import STAFF, Role, require, role_of
from fablabctl.people.timetable import day_ends
from fablabctl.people.van_hours import van_hours


def hours_of(
    session: Session, enrolment: Enrolment, rules: Rules, now_: Clock, lang: Lang = "fr"
) -> HoursOut:
    """One enrolment's figures (no role check, no audit: callers do both)."""
    user = session.get(User, enrolment.user_id)
    assert user is not None
    entries = [
        e for e in latest_versions(session, cohort_id=enrolment.cohort_id, user_id=user.id) if not e.cancelled
    ]
    summary = summarize(
        [as_period(e) for e in entries],
        tz=rules.tz,
        rounding_minutes=rules.rounding_minutes,
        daily_max_hours=rules.daily_max_hours,
        now=now_(),
        day_ends=day_ends(session, enrolment.cohort_id),
    )
    due_minutes = round(enrolment.hours_due * 60)
    absences = list(
        session.scalars(
            select(Absence.excused).where(
                Absence.cohort_id == enrolment.cohort_id, Absence.user_id == user.id
            )
        )
    )
    terms = session.get(EnrolmentTerms, enrolment.id)
    remaining = max(due_minutes - summary.minutes, 0)
    return HoursOut(
        username=user.username,
        display_name=user.display_name,
        hours_done=summary.hours,
        hours_due=enrolment.hours_due,
        hours_remaining=minutes_to_hours(remaining),
        percent=round(100 * min(summary.minutes / due_minutes, 1), 1) if due_minutes else 100.0,
        user_id=user.id,
        enrolment_id=enrolment.id,
        days_present=sum(1 for d in summary.days if d.minutes > 0),
        absences_excused=sum(1 for a in absences if a is True),
        absences_unexcused=sum(1 for a in absences if a is False),
        absences_undecided=sum(1 for a in absences if a is None),
        expected_end=expected_end(summary.days, due_minutes),
        deadline=terms.deadline if terms else None,
        measure=terms.measure if terms else "TIG",
        warnings=[WarningOut(code=w.code, day=w.day, message=w.message.in_(lang)) for w in summary.warnings],
        days=[
            DayOut(day=d.day, periods=d.periods, phases=d.phases, hours=d.hours, open=d.open)
            for d in summary.days
        ],
        from_vans=van_hours(session, cohort_id=enrolment.cohort_id, user_id=user.id, rules=rules, now=now_()),
    )


def cohort_hours(
    *,
    session: Session,
    actor: User,
    cohort_id: int,
    rules: Rules,
    clock: Clock = utc_now,
    lang: Lang = "fr",
    user_id: int | None = None,
) -> list[HoursOut]:
    """Staff read everyone's hours (audited); a tigiste reads only their own."""
    cohort = get_cohort(session=session, actor=actor, cohort_id=cohort_id)
    query = select(Enrolment).where(Enrolment.cohort_id == cohort_id).order_by(Enrolment.id)
    if role_of(actor) is Role.TIGISTE:
        query = query.where(Enrolment.user_id == actor.id)
    else:
        require(actor, STAFF)
        if user_id is not None:
            query = query.where(Enrolment.user_id == user_id)
        audit.record(
            session,
            actor=actor,
            action="hours.read",
            target_type="cohort",
            target_id=cohort_id,
            user_id=user_id,
        )
    detect(session, cohort, rules, clock())
    rows = [hours_of(session, e, rules, clock, lang) for e in session.scalars(query)]
    return sorted(rows, key=lambda h: h.display_name.lower())
