"""Reading the attendance record: a cohort's entries (staff reads audited) and their API shape."""

from __future__ import annotations

from datetime import date, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from fablabctl import audit
from fablabctl.db.models import AttendanceEntry, Site, User
from fablabctl.people.attendance import Rules, latest_versions
from fablabctl.people.attendance_schemas import EntryOut
from fablabctl.people.cohorts import get_cohort
from fablabctl.people.roles import STAFF, Role, require, role_of


def entry_out(session: Session, entry: AttendanceEntry, tz: tzinfo) -> EntryOut:
    user = session.get(User, entry.user_id)
    site = session.get(Site, entry.site_id)
    return EntryOut(
        id=entry.id,
        uuid=entry.uuid,
        entry_uuid=entry.entry_uuid,
        version=entry.version,
        supersedes=entry.supersedes,
        site=site.name if site else "",
        cohort_id=entry.cohort_id,
        user_id=entry.user_id,
        username=user.username if user else "",
        display_name=user.display_name if user else "",
        phase=entry.phase,
        check_in=entry.check_in.astimezone(tz),
        check_out=entry.check_out.astimezone(tz) if entry.check_out else None,
        method=entry.method,
        cancelled=entry.cancelled,
        recorded_by_id=entry.recorded_by_id,
        reason=entry.reason,
        created_at=entry.created_at.astimezone(tz),
    )


def list_entries(
    *,
    session: Session,
    actor: User,
    cohort_id: int,
    day: date | None,
    user_id: int | None,
    rules: Rules,
    all_versions: bool = False,
) -> list[AttendanceEntry]:
    """Staff read a cohort's attendance (audited); a tigiste reads only their own."""
    get_cohort(session=session, actor=actor, cohort_id=cohort_id)
    if role_of(actor) is Role.TIGISTE:
        user_id = actor.id
    else:
        require(actor, STAFF)
    if all_versions:
        query = select(AttendanceEntry).where(AttendanceEntry.cohort_id == cohort_id)
        if user_id is not None:
            query = query.where(AttendanceEntry.user_id == user_id)
        rows = list(session.scalars(query.order_by(AttendanceEntry.id)))
    else:
        rows = latest_versions(session, cohort_id=cohort_id, user_id=user_id)
    if day is not None:
        rows = [r for r in rows if r.check_in.astimezone(rules.tz).date() == day]
    if role_of(actor) is not Role.TIGISTE:
        audit.record(
            session,
            actor=actor,
            action="attendance.list",
            target_type="cohort",
            target_id=cohort_id,
            user_id=user_id,
            count=len(rows),
        )
    return rows
