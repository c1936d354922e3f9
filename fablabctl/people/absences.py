"""Absences from the timetable, the trainer's decision, and the notices for the referent (CPIP).

A tigiste enrolled in a cohort who has no presence in a slot `grace` minutes after it started is
absent. The trainer marks each absence excused or not; an unexcused absence makes a notice for
the referent, e-mailed when an SMTP server is configured (never blocking the trainer's action).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from fablabctl import audit
from fablabctl.clock import Clock, utc_now
from fablabctl.config import Settings
from fablabctl.db.models import Absence, Cohort, Enrolment, ReferentNotice, TimetableSlot, User
from fablabctl.errors import NotFound
from fablabctl.i18n import Text
from fablabctl.people.attendance import Rules, live_periods
from fablabctl.people.attendance_schemas import AbsenceDecision, AbsenceOut, NoticeOut
from fablabctl.people.cohorts import get_cohort
from fablabctl.people.hours import overlapping
from fablabctl.people.mail import send_notice
from fablabctl.people.roles import STAFF, TEACHING, Role, require, role_of
from fablabctl.people.timetable import slots


def slot_window(slot: TimetableSlot, rules: Rules) -> tuple[datetime, datetime]:
    start = datetime.combine(slot.day, slot.starts_at, tzinfo=rules.tz)
    return start, datetime.combine(slot.day, slot.ends_at, tzinfo=rules.tz)


def detect(session: Session, cohort: Cohort, rules: Rules, now: datetime) -> None:
    """Bring the cohort's absences up to date: new ones appear, undecided ones with a presence go."""
    tigistes = list(session.scalars(select(Enrolment.user_id).where(Enrolment.cohort_id == cohort.id)))
    existing = {
        (a.slot_id, a.user_id): a
        for a in session.scalars(select(Absence).where(Absence.cohort_id == cohort.id))
    }
    periods = {user_id: live_periods(session, user_id=user_id) for user_id in tigistes}
    for slot in slots(session, cohort.id):
        start, end = slot_window(slot, rules)
        if start + timedelta(minutes=rules.grace_minutes) > now:
            continue
        for user_id in tigistes:
            present = overlapping(start, end, periods[user_id], rules.tz) is not None
            absence = existing.get((slot.id, user_id))
            if not present and absence is None:
                session.add(
                    Absence(
                        site_id=cohort.site_id,
                        cohort_id=cohort.id,
                        user_id=user_id,
                        slot_id=slot.id,
                        day=slot.day,
                    )
                )
            elif present and absence is not None and absence.excused is None:
                session.delete(absence)
    session.flush()


def _absence_out(session: Session, absence: Absence) -> AbsenceOut:
    user = session.get(User, absence.user_id)
    slot = session.get(TimetableSlot, absence.slot_id)
    assert slot is not None  # cascade: an absence never outlives its slot
    notice = session.scalar(select(ReferentNotice.id).where(ReferentNotice.absence_id == absence.id))
    return AbsenceOut(
        id=absence.id,
        uuid=absence.uuid,
        user_id=absence.user_id,
        username=user.username if user else "",
        display_name=user.display_name if user else "",
        day=absence.day,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        excused=absence.excused,
        reason=absence.reason,
        notice_id=notice,
    )


def list_absences(
    *, session: Session, actor: User, cohort_id: int, rules: Rules, clock: Clock = utc_now
) -> list[AbsenceOut]:
    """Staff see everyone's absences (audited); a tigiste sees their own."""
    cohort = get_cohort(session=session, actor=actor, cohort_id=cohort_id)
    detect(session, cohort, rules, clock())
    query = select(Absence).where(Absence.cohort_id == cohort_id).order_by(Absence.day, Absence.id)
    if role_of(actor) is Role.TIGISTE:
        query = query.where(Absence.user_id == actor.id)
    else:
        require(actor, STAFF)
        audit.record(session, actor=actor, action="absence.list", target_type="cohort", target_id=cohort_id)
    return [_absence_out(session, a) for a in session.scalars(query)]


def decide(
    *,
    session: Session,
    actor: User,
    absence_id: int,
    data: AbsenceDecision,
    settings: Settings,
    clock: Clock = utc_now,
) -> AbsenceOut:
    require(actor, TEACHING)
    absence = session.get(Absence, absence_id)
    if absence is None:
        raise NotFound(
            "ABSENCE_NOT_FOUND",
            Text(f"Absence introuvable : {absence_id}", f"Absence not found: {absence_id}"),
            id=str(absence_id),
        )
    get_cohort(session=session, actor=actor, cohort_id=absence.cohort_id)
    absence.excused = data.excused
    absence.reason = data.reason
    absence.decided_by_id = actor.id
    absence.decided_at = clock()
    notice = session.scalar(select(ReferentNotice).where(ReferentNotice.absence_id == absence.id))
    if not data.excused and notice is None:
        notice = ReferentNotice(
            site_id=absence.site_id,
            cohort_id=absence.cohort_id,
            user_id=absence.user_id,
            absence_id=absence.id,
        )
        session.add(notice)
        session.flush()
        if settings.smtp_host:
            _email(session, notice, settings, clock)
    elif data.excused and notice is not None and notice.emailed_at is None:
        session.delete(notice)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="absence.decide",
        target_type="absence",
        target_id=absence.id,
        excused=data.excused,
    )
    return _absence_out(session, absence)


def notice_out(session: Session, notice: ReferentNotice) -> NoticeOut:
    user = session.get(User, notice.user_id)
    absence = session.get(Absence, notice.absence_id)
    slot = session.get(TimetableSlot, absence.slot_id) if absence else None
    assert absence is not None and slot is not None
    enrolment = session.scalar(
        select(Enrolment).where(Enrolment.cohort_id == notice.cohort_id, Enrolment.user_id == notice.user_id)
    )
    return NoticeOut(
        id=notice.id,
        uuid=notice.uuid,
        user_id=notice.user_id,
        username=user.username if user else "",
        display_name=user.display_name if user else "",
        referent_contact=enrolment.referent_contact if enrolment else "",
        day=absence.day,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        emailed_at=notice.emailed_at,
        email_error=notice.email_error,
    )


def _email(session: Session, notice: ReferentNotice, settings: Settings, clock: Clock) -> None:
    out = notice_out(session, notice)
    cohort = session.get(Cohort, notice.cohort_id)
    error = send_notice(settings, out, cohort.name if cohort else "")
    if error is None:
        notice.emailed_at = clock()
        notice.email_error = None
    else:
        notice.email_error = error[:200]


def list_notices(*, session: Session, actor: User, cohort_id: int) -> list[NoticeOut]:
    require(actor, TEACHING)
    get_cohort(session=session, actor=actor, cohort_id=cohort_id)
    audit.record(session, actor=actor, action="notice.list", target_type="cohort", target_id=cohort_id)
    rows = session.scalars(
        select(ReferentNotice).where(ReferentNotice.cohort_id == cohort_id).order_by(ReferentNotice.id)
    )
    return [notice_out(session, n) for n in rows]


def resend_notices(
    *, session: Session, actor: User, cohort_id: int, settings: Settings, clock: Clock = utc_now
) -> list[NoticeOut]:
    """Send the notices not sent yet (the SMTP server was down, or configured later)."""
    require(actor, TEACHING)
    get_cohort(session=session, actor=actor, cohort_id=cohort_id)
    pending = session.scalars(
        select(ReferentNotice).where(
            ReferentNotice.cohort_id == cohort_id, ReferentNotice.emailed_at.is_(None)
        )
    )
    for notice in pending:
        if settings.smtp_host:
            _email(session, notice, settings, clock)
    audit.record(session, actor=actor, action="notice.send", target_type="cohort", target_id=cohort_id)
    return list_notices(session=session, actor=actor, cohort_id=cohort_id)
