"""A cohort's timetable: the days and hours its tigistes are expected (local time of the site)."""

from __future__ import annotations

import itertools
from datetime import date, time

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from fablabctl import audit
from fablabctl.db.models import TimetableSlot, User
from fablabctl.errors import Invalid
from fablabctl.i18n import Text
from fablabctl.people.attendance_schemas import Timetable
from fablabctl.people.cohorts import get_cohort
from fablabctl.people.roles import TEACHING, require


def slots(session: Session, cohort_id: int) -> list[TimetableSlot]:
    return list(
        session.scalars(
            select(TimetableSlot)
            .where(TimetableSlot.cohort_id == cohort_id)
            .order_by(TimetableSlot.day, TimetableSlot.starts_at)
        )
    )


def get_timetable(*, session: Session, actor: User, cohort_id: int) -> list[TimetableSlot]:
    get_cohort(session=session, actor=actor, cohort_id=cohort_id)
    return slots(session, cohort_id)


def set_timetable(*, session: Session, actor: User, cohort_id: int, data: Timetable) -> list[TimetableSlot]:
    """Replace the timetable. Slots of one day must not overlap; absences of removed slots go too."""
    require(actor, TEACHING)
    cohort = get_cohort(session=session, actor=actor, cohort_id=cohort_id)
    ordered = sorted(data.slots, key=lambda s: (s.day, s.starts_at))
    for before, after in itertools.pairwise(ordered):
        if before.day == after.day and after.starts_at < before.ends_at:
            raise Invalid(
                "TIMETABLE_OVERLAP",
                Text(
                    f"Deux créneaux se chevauchent le {before.day:%d/%m/%Y}.",
                    f"Two slots overlap on {before.day:%Y-%m-%d}.",
                ),
            )
    for slot in ordered:
        if not cohort.starts_on <= slot.day <= cohort.ends_on:
            raise Invalid(
                "TIMETABLE_OUTSIDE_COHORT",
                Text(
                    f"Le {slot.day:%d/%m/%Y} est hors des dates de la cohorte.",
                    f"{slot.day:%Y-%m-%d} is outside the cohort's dates.",
                ),
            )
    session.execute(delete(TimetableSlot).where(TimetableSlot.cohort_id == cohort_id))
    for slot in ordered:
        session.add(TimetableSlot(cohort_id=cohort_id, **slot.model_dump()))
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="timetable.set",
        target_type="cohort",
        target_id=cohort_id,
        slots=len(ordered),
    )
    return slots(session, cohort_id)


def day_ends(session: Session, cohort_id: int) -> dict[date, time]:
    """The end of each timetabled day (after it, an open check-in is reported)."""
    ends: dict[date, time] = {}
    for slot in slots(session, cohort_id):
        ends[slot.day] = max(ends.get(slot.day, slot.ends_at), slot.ends_at)
    return ends
