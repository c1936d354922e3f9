"""Attendance, hours, timetable, absences and referent notices (staff; a tigiste reads their own)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter

from fablabctl.people import absences, attendance, attendance_read, cohort_hours, timetable
from fablabctl.people.attendance import Rules
from fablabctl.people.attendance_schemas import (
    AbsenceDecision,
    AbsenceOut,
    CheckIn,
    CheckOut,
    Correction,
    EntryOut,
    HoursOut,
    NoticeOut,
    SlotOut,
    Timetable,
)
from fablabctl.web.deps import ContextDep, CurrentUser, LangDep, SessionDep
from fablabctl.web.transactions import CommitFirstRoute

router = APIRouter(tags=["attendance"], route_class=CommitFirstRoute)  # commit before answering


def _rules(context: ContextDep) -> Rules:
    return Rules.from_settings(context.settings)


@router.post("/cohorts/{cohort_id}/attendance/check-in", status_code=201)
def check_in(
    cohort_id: int, body: CheckIn, session: SessionDep, actor: CurrentUser, context: ContextDep
) -> EntryOut:
    rules = _rules(context)
    entry = attendance.check_in(session=session, actor=actor, cohort_id=cohort_id, data=body, rules=rules)
    return attendance_read.entry_out(session, entry, rules.tz)


@router.post("/cohorts/{cohort_id}/attendance/check-out", status_code=201)
def check_out(
    cohort_id: int, body: CheckOut, session: SessionDep, actor: CurrentUser, context: ContextDep
) -> EntryOut:
    rules = _rules(context)
    entry = attendance.check_out(session=session, actor=actor, cohort_id=cohort_id, data=body, rules=rules)
    return attendance_read.entry_out(session, entry, rules.tz)


@router.get("/cohorts/{cohort_id}/attendance")
def list_attendance(
    cohort_id: int,
    session: SessionDep,
    actor: CurrentUser,
    context: ContextDep,
    day: date | None = None,
    user_id: int | None = None,
    versions: bool = False,
) -> list[EntryOut]:
    rules = _rules(context)
    rows = attendance_read.list_entries(
        session=session,
        actor=actor,
        cohort_id=cohort_id,
        day=day,
        user_id=user_id,
        rules=rules,
        all_versions=versions,
    )
    return [attendance_read.entry_out(session, e, rules.tz) for e in rows]


@router.post("/attendance/{ref}/correct", status_code=201)
def correct(
    ref: str, body: Correction, session: SessionDep, actor: CurrentUser, context: ContextDep
) -> EntryOut:
    rules = _rules(context)
    entry = attendance.correct(session=session, actor=actor, ref=ref, data=body, rules=rules)
    return attendance_read.entry_out(session, entry, rules.tz)


@router.post("/attendance/{ref}/confirm", status_code=201)
def confirm(ref: str, session: SessionDep, actor: CurrentUser, context: ContextDep) -> EntryOut:
    entry = attendance.confirm(session=session, actor=actor, ref=ref)
    return attendance_read.entry_out(session, entry, _rules(context).tz)


@router.get("/cohorts/{cohort_id}/hours")
def hours(
    cohort_id: int,
    session: SessionDep,
    actor: CurrentUser,
    context: ContextDep,
    lang: LangDep,
    user_id: int | None = None,
) -> list[HoursOut]:
    return cohort_hours.cohort_hours(
        session=session, actor=actor, cohort_id=cohort_id, rules=_rules(context), lang=lang, user_id=user_id
    )


@router.get("/cohorts/{cohort_id}/timetable")
def get_timetable(cohort_id: int, session: SessionDep, actor: CurrentUser) -> list[SlotOut]:
    slots = timetable.get_timetable(session=session, actor=actor, cohort_id=cohort_id)
    return [SlotOut.model_validate(s) for s in slots]


@router.put("/cohorts/{cohort_id}/timetable")
def set_timetable(cohort_id: int, body: Timetable, session: SessionDep, actor: CurrentUser) -> list[SlotOut]:
    slots = timetable.set_timetable(session=session, actor=actor, cohort_id=cohort_id, data=body)
    return [SlotOut.model_validate(s) for s in slots]


@router.get("/cohorts/{cohort_id}/absences")
def list_absences(
    cohort_id: int, session: SessionDep, actor: CurrentUser, context: ContextDep
) -> list[AbsenceOut]:
    return absences.list_absences(session=session, actor=actor, cohort_id=cohort_id, rules=_rules(context))


@router.patch("/absences/{absence_id}")
def decide_absence(
    absence_id: int, body: AbsenceDecision, session: SessionDep, actor: CurrentUser, context: ContextDep
) -> AbsenceOut:
    return absences.decide(
        session=session, actor=actor, absence_id=absence_id, data=body, settings=context.settings
    )


@router.get("/cohorts/{cohort_id}/notices")
def list_notices(cohort_id: int, session: SessionDep, actor: CurrentUser) -> list[NoticeOut]:
    return absences.list_notices(session=session, actor=actor, cohort_id=cohort_id)


@router.post("/cohorts/{cohort_id}/notices/send")
def send_notices(
    cohort_id: int, session: SessionDep, actor: CurrentUser, context: ContextDep
) -> list[NoticeOut]:
    return absences.resend_notices(
        session=session, actor=actor, cohort_id=cohort_id, settings=context.settings
    )
