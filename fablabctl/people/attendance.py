"""Check-in, check-out, confirmation and correction: an append-only record of presence.

Nothing is ever updated: a check-out, a confirmation or a correction adds a new version of the
entry (who, when, why), and the hours always use the latest version. Overlapping periods of one
person are refused. Staff record anyone enrolled; a tigiste may check themselves in, and a
trainer confirms it before it counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import NoReturn
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from fablabctl import audit
from fablabctl.clock import Clock, utc_now
from fablabctl.config import Settings
from fablabctl.db.models import AttendanceEntry, Cohort, Enrolment, TimetableSlot, User
from fablabctl.db.models.attendance import new_uuid
from fablabctl.errors import Conflict, Invalid, NotFound, forbidden
from fablabctl.i18n import Text
from fablabctl.people.attendance_schemas import CheckIn, CheckOut, Correction
from fablabctl.people.cohorts import get_cohort
from fablabctl.people.hours import Period, overlapping
from fablabctl.people.roles import STAFF, TEACHING, require, role_of


@dataclass(frozen=True, slots=True)
class Rules:
    """The settings the hours depend on, read once from the service settings."""

    tz: tzinfo
    rounding_minutes: int
    daily_max_hours: float
    grace_minutes: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Rules:
        return cls(
            tz=ZoneInfo(settings.timezone),
            rounding_minutes=settings.hours_rounding_minutes,
            daily_max_hours=settings.daily_max_hours,
            grace_minutes=settings.absence_grace_minutes,
        )

    def aware(self, moment: datetime) -> datetime:
        """A time without offset is the site's local time."""
        return moment.replace(tzinfo=self.tz) if moment.tzinfo is None else moment


def latest_versions(
    session: Session, *, cohort_id: int | None = None, user_id: int | None = None
) -> list[AttendanceEntry]:
    """The latest version of every entry (cancelled ones included), oldest check-in first."""
    query = select(AttendanceEntry)
    if cohort_id is not None:
        query = query.where(AttendanceEntry.cohort_id == cohort_id)
    if user_id is not None:
        query = query.where(AttendanceEntry.user_id == user_id)
    latest: dict[str, AttendanceEntry] = {}
    for row in session.scalars(query):
        current = latest.get(row.entry_uuid)
        if current is None or row.version > current.version:
            latest[row.entry_uuid] = row
    return sorted(latest.values(), key=lambda e: (e.check_in, e.id))


def as_period(entry: AttendanceEntry) -> Period:
    return Period(entry.entry_uuid, entry.check_in, entry.check_out, entry.phase, entry.method)


def live_periods(session: Session, *, user_id: int, cohort_id: int | None = None) -> list[Period]:
    return [
        as_period(e)
        for e in latest_versions(session, cohort_id=cohort_id, user_id=user_id)
        if not e.cancelled
    ]


def _enrolled(session: Session, cohort_id: int, user_id: int) -> Enrolment:
    enrolment = session.scalar(
        select(Enrolment).where(Enrolment.cohort_id == cohort_id, Enrolment.user_id == user_id)
    )
    if enrolment is not None:
        return enrolment
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(
            "USER_NOT_FOUND",
            Text(f"Personne inconnue : {user_id}", f"Unknown person: {user_id}"),
            id=user_id,
        )
    raise Invalid(
        "NOT_ENROLLED",
        Text(
            f"« {user.username} » n'est pas inscrit(e) dans la cohorte {cohort_id} : "
            f"inscrivez la personne d'abord (cohort enrol {cohort_id} {user.username}).",
            f"“{user.username}” is not enrolled in cohort {cohort_id}: "
            f"enrol them first (cohort enrol {cohort_id} {user.username}).",
        ),
    )


def _may_record_for(actor: User, user_id: int) -> str:
    """The method of a record made by this actor for this person: staff, or self (to confirm)."""
    if role_of(actor) in STAFF:
        return "staff"
    if actor.id == user_id:
        return "self"
    raise forbidden()


def _not_future(at: datetime, now: datetime) -> None:
    if at > now + timedelta(minutes=5):
        raise Invalid(
            "TIME_IN_FUTURE",
            Text("Cette heure est dans le futur.", "This time is in the future."),
        )


def _refuse_overlap(
    session: Session, rules: Rules, user_id: int, start: datetime, end: datetime | None, skip: str | None
) -> None:
    others = [p for p in live_periods(session, user_id=user_id) if p.entry_uuid != skip]
    clash = overlapping(start, end, others, rules.tz)
    if clash is None:
        return
    local_in = clash.check_in.astimezone(rules.tz)
    span = f"{local_in:%d/%m/%Y %H:%M}"
    span += f"–{clash.check_out.astimezone(rules.tz):%H:%M}" if clash.check_out else " (sans sortie)"
    if clash.check_out is None and end is None:
        raise Conflict(
            "ATTENDANCE_ALREADY_OPEN",
            Text(
                f"Cette personne est déjà pointée présente depuis le {span} (pointage "
                f"#{find_entry(session, clash.entry_uuid).id}) : pointez d'abord sa sortie.",
                f"This person is already checked in since {span} (entry "
                f"#{find_entry(session, clash.entry_uuid).id}): check them out first.",
            ),
            entry=clash.entry_uuid,
        )
    raise Conflict(
        "ATTENDANCE_OVERLAP",
        Text(
            f"Ce créneau chevauche une présence déjà enregistrée ({span}) : corrigez l'une des deux.",
            f"This period overlaps a recorded presence ({span}): correct one of them.",
        ),
        entry=clash.entry_uuid,
    )


def _default_phase(session: Session, cohort_id: int, day: date) -> str:
    phase = session.scalar(
        select(TimetableSlot.phase)
        .where(TimetableSlot.cohort_id == cohort_id, TimetableSlot.day == day)
        .order_by(TimetableSlot.starts_at)
    )
    return phase or "formation"


def check_in(
    *, session: Session, actor: User, cohort_id: int, data: CheckIn, rules: Rules, clock: Clock = utc_now
) -> AttendanceEntry:
    cohort: Cohort = get_cohort(session=session, actor=actor, cohort_id=cohort_id)
    method = _may_record_for(actor, data.user_id)
    _enrolled(session, cohort_id, data.user_id)
    now = clock()
    at = rules.aware(data.at) if data.at and method == "staff" else now
    _not_future(at, now)
    _refuse_overlap(session, rules, data.user_id, at, None, None)
    phase = data.phase or _default_phase(session, cohort_id, at.astimezone(rules.tz).date())
    first = AttendanceEntry(
        site_id=cohort.site_id,
        cohort_id=cohort_id,
        user_id=data.user_id,
        phase=phase,
        check_in=at,
        method=method,
        recorded_by_id=actor.id,
        reason="entrée",
    )
    first.uuid = first.entry_uuid = new_uuid()
    session.add(first)
    session.flush()
    audit.record(
        session, actor=actor, action="attendance.check_in", target_type="attendance", target_id=first.uuid
    )
    return first


def _new_version(previous: AttendanceEntry, actor: User, reason: str, **changes: object) -> AttendanceEntry:
    values = {
        "site_id": previous.site_id,
        "cohort_id": previous.cohort_id,
        "user_id": previous.user_id,
        "phase": previous.phase,
        "check_in": previous.check_in,
        "check_out": previous.check_out,
        "method": previous.method,
        "cancelled": previous.cancelled,
    }
    values.update(changes)
    return AttendanceEntry(
        uuid=new_uuid(),
        entry_uuid=previous.entry_uuid,
        version=previous.version + 1,
        supersedes=previous.uuid,
        recorded_by_id=actor.id,
        reason=reason,
        **values,
    )


def check_out(
    *, session: Session, actor: User, cohort_id: int, data: CheckOut, rules: Rules, clock: Clock = utc_now
) -> AttendanceEntry:
    get_cohort(session=session, actor=actor, cohort_id=cohort_id)
    method = _may_record_for(actor, data.user_id)
    _enrolled(session, cohort_id, data.user_id)
    now = clock()
    at = rules.aware(data.at) if data.at and method == "staff" else now
    _not_future(at, now)
    open_entries = [
        e
        for e in latest_versions(session, cohort_id=cohort_id, user_id=data.user_id)
        if e.check_out is None and not e.cancelled
    ]
    if not open_entries:
        raise Conflict(
            "NO_OPEN_CHECKIN",
            Text(
                "Aucune entrée sans sortie pour cette personne dans cette cohorte.",
                "No open check-in for this person in this cohort.",
            ),
        )
    day = at.astimezone(rules.tz).date()
    same_day = [e for e in open_entries if e.check_in.astimezone(rules.tz).date() == day]
    if not same_day:
        _open_on_another_day(open_entries[-1], rules)
    previous = same_day[-1]
    if at <= previous.check_in:
        raise Invalid(
            "CHECKOUT_BEFORE_CHECKIN",
            Text(
                f"La sortie doit être après l'entrée ({previous.check_in.astimezone(rules.tz):%H:%M}).",
                f"The check-out must be after the check-in ({previous.check_in.astimezone(rules.tz):%H:%M}).",
            ),
        )
    _refuse_overlap(session, rules, data.user_id, previous.check_in, at, previous.entry_uuid)
    entry = _new_version(previous, actor, "sortie", check_out=at)
    session.add(entry)
    session.flush()
    audit.record(
        session, actor=actor, action="attendance.check_out", target_type="attendance", target_id=entry.uuid
    )
    return entry


def _open_on_another_day(entry: AttendanceEntry, rules: Rules) -> NoReturn:
    """A check-out never closes a check-in of another day (that would count the night): the
    trainer says when the person left that day, with a correction."""
    since = entry.check_in.astimezone(rules.tz)
    raise Conflict(
        "OPEN_CHECKIN_OTHER_DAY",
        Text(
            f"La seule entrée sans sortie de cette personne date du {since:%d/%m/%Y} à {since:%H:%M} "
            f"(pointage #{entry.id}) : corrigez-la en indiquant l'heure de sortie de ce jour-là "
            f"(attendance correct {entry.id} --in … --out … --reason …).",
            f"This person's only open check-in is from {since:%d/%m/%Y} at {since:%H:%M} "
            f"(entry #{entry.id}): correct it with that day's check-out time "
            f"(attendance correct {entry.id} --in … --out … --reason …).",
        ),
        entry=entry.entry_uuid,
    )


def find_entry(session: Session, ref: str) -> AttendanceEntry:
    """The latest version of an entry named by a row id, its uuid, or a uuid prefix (8+ chars)."""
    row: AttendanceEntry | None = None
    if ref.isdigit() and int(ref) < 2**31:  # a row id (larger ones overflow PostgreSQL's integer)
        row = session.get(AttendanceEntry, int(ref))
    if row is None and len(ref) >= 8:  # a uuid prefix can be all digits (65755875...)
        matches = list(
            session.scalars(
                select(AttendanceEntry).where(
                    (AttendanceEntry.uuid.startswith(ref)) | (AttendanceEntry.entry_uuid.startswith(ref))
                )
            )
        )
        if len({m.entry_uuid for m in matches}) == 1:
            row = matches[0]
    if row is None:
        raise NotFound(
            "ATTENDANCE_NOT_FOUND",
            Text(f"Pointage introuvable : {ref}", f"Attendance entry not found: {ref}"),
            id=ref,
        )
    versions = list(
        session.scalars(select(AttendanceEntry).where(AttendanceEntry.entry_uuid == row.entry_uuid))
    )
    return max(versions, key=lambda e: e.version)


def correct(
    *, session: Session, actor: User, ref: str, data: Correction, rules: Rules, clock: Clock = utc_now
) -> AttendanceEntry:
    require(actor, TEACHING)
    previous = find_entry(session, ref)
    start = rules.aware(data.check_in)
    end = rules.aware(data.check_out) if data.check_out else None
    _not_future(end or start, clock())
    if end is not None and end.astimezone(rules.tz).date() != start.astimezone(rules.tz).date():
        raise Invalid(
            "PERIOD_SPANS_DAYS",
            Text(
                "L'entrée et la sortie doivent être le même jour (une présence par jour et par période).",
                "Check-in and check-out must be on the same day (one entry per day and period).",
            ),
        )
    if not data.cancel:
        _refuse_overlap(session, rules, previous.user_id, start, end, previous.entry_uuid)
    method = "confirmed" if previous.method == "self" else previous.method
    entry = _new_version(
        previous,
        actor,
        data.reason,
        check_in=start,
        check_out=end,
        phase=data.phase or previous.phase,
        cancelled=data.cancel,
        method=method,
    )
    session.add(entry)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="attendance.correct",
        target_type="attendance",
        target_id=entry.uuid,
        version=entry.version,
        supersedes=previous.uuid,
    )
    return entry


def confirm(*, session: Session, actor: User, ref: str) -> AttendanceEntry:
    """A trainer confirms a self check-in: from now on it counts."""
    require(actor, TEACHING)
    previous = find_entry(session, ref)
    if previous.method != "self":
        raise Conflict(
            "NOTHING_TO_CONFIRM",
            Text("Ce pointage n'attend pas de confirmation.", "This entry is not awaiting confirmation."),
        )
    entry = _new_version(previous, actor, "confirmé par un formateur", method="confirmed")
    session.add(entry)
    session.flush()
    audit.record(
        session, actor=actor, action="attendance.confirm", target_type="attendance", target_id=entry.uuid
    )
    return entry
