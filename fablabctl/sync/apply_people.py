"""Central side: a van's attendance versions, absences and journal entries, merged by UUID.

An attendance entry that overlaps one recorded elsewhere for the same person is kept, and the pair
is flagged for a trainer (`SyncConflict`); the hours count the time once (people/hours.py merges
overlapping periods of a day). Nothing from a van is ever dropped silently.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fablabctl.db.models import (
    Absence,
    AttendanceEntry,
    Enrolment,
    JournalEntry,
    SyncConflict,
    TimetableSlot,
    User,
)
from fablabctl.i18n import Text
from fablabctl.people.attendance import live_periods
from fablabctl.people.hours import PHASES, Period
from fablabctl.sync.codec import parse_dt, user_id
from fablabctl.sync.outcome import APPLIED, DUPLICATE, Outcome, Refusal, missing, unknown_person
from fablabctl.sync.tokens import TokenScope


def _enrolled(session: Session, scope: TokenScope, name: str | None) -> int:
    uid = user_id(session, name)
    enrolled = uid is not None and session.scalar(
        select(Enrolment.id).where(Enrolment.cohort_id == scope.cohort_id, Enrolment.user_id == uid)
    )
    if not enrolled or uid is None:
        raise unknown_person(name)
    return uid


METHODS = frozenset({"staff", "self", "confirmed"})
OPEN_SPAN = timedelta(hours=12)  # an entry still open (no check-out yet) is taken as one long day


def _clashes(start: datetime, end: datetime | None, others: list[Period]) -> list[Period]:
    stop = end or start + OPEN_SPAN
    return [o for o in others if start < (o.check_out or o.check_in + OPEN_SPAN) and o.check_in < stop]


def attendance(session: Session, scope: TokenScope, p: dict[str, Any]) -> Outcome:
    if session.scalar(select(AttendanceEntry.id).where(AttendanceEntry.uuid == p["uuid"])) is not None:
        return Outcome(DUPLICATE)
    uid = _enrolled(session, scope, p["user"])
    if p["phase"] not in PHASES or p["method"] not in METHODS:
        raise ValueError("unknown phase or method")
    if (
        p["supersedes"]
        and session.scalar(select(AttendanceEntry.id).where(AttendanceEntry.uuid == p["supersedes"])) is None
    ):
        raise missing(
            "SYNC_OUT_OF_ORDER", "La version précédente de ce pointage", "The previous version of this entry"
        )
    row = AttendanceEntry(
        uuid=p["uuid"],
        entry_uuid=p["entry_uuid"],
        version=p["version"],
        supersedes=p["supersedes"],
        site_id=scope.site_id,
        cohort_id=scope.cohort_id,
        user_id=uid,
        phase=p["phase"],
        check_in=parse_dt(p["check_in"]),
        check_out=parse_dt(p["check_out"]),
        method=p["method"],
        cancelled=p["cancelled"],
        recorded_by_id=user_id(session, p["recorded_by"]),
        reason=p["reason"],
        created_at=parse_dt(p["created_at"]),
    )
    session.add(row)
    session.flush()
    return Outcome(APPLIED, row.id)


OVERLAP = (
    "Pointage de {user} gardé, mais il chevauche {n} présence(s) enregistrée(s) ailleurs : un formateur "
    "doit trancher (fablabctl site conflicts ; les heures ne comptent le temps commun qu'une fois).",
    "{user}'s entry kept, but it overlaps {n} presence(s) recorded elsewhere: a trainer must resolve it "
    "(fablabctl site conflicts; the hours count the shared time once).",
)


def flag_overlaps(session: Session, scope: TokenScope, entry_uuids: list[str]) -> dict[str, Text]:
    """After a batch: each touched entry, as its latest version stands, against the person's other
    presences. Overlaps are kept and recorded for a trainer; returns latest version uuid -> message."""
    flagged: dict[str, Text] = {}
    for entry_uuid in dict.fromkeys(entry_uuids):
        versions = session.scalars(select(AttendanceEntry).where(AttendanceEntry.entry_uuid == entry_uuid))
        latest = max(versions, key=lambda e: e.version)
        if latest.cancelled:
            continue
        others = [o for o in live_periods(session, user_id=latest.user_id) if o.entry_uuid != entry_uuid]
        clashes = _clashes(latest.check_in, latest.check_out, others)
        for other in clashes:
            exists = session.scalar(
                select(SyncConflict.id).where(
                    SyncConflict.entry_uuid == entry_uuid, SyncConflict.other_entry_uuid == other.entry_uuid
                )
            )
            if exists is None:
                session.add(
                    SyncConflict(
                        cohort_id=scope.cohort_id,
                        user_id=latest.user_id,
                        site_id=scope.site_id,
                        entry_uuid=entry_uuid,
                        other_entry_uuid=other.entry_uuid,
                    )
                )
        if clashes:
            user = session.get(User, latest.user_id)
            values = {"user": user.username if user else latest.user_id, "n": len(clashes)}
            flagged[latest.uuid] = Text(*OVERLAP).format(**values)
    session.flush()
    return flagged


def absence(session: Session, scope: TokenScope, p: dict[str, Any]) -> Outcome:
    uid = _enrolled(session, scope, p["user"])
    slot = session.scalar(
        select(TimetableSlot).where(
            TimetableSlot.cohort_id == scope.cohort_id,
            TimetableSlot.day == date.fromisoformat(p["day"]),
            TimetableSlot.starts_at == time.fromisoformat(p["slot_starts_at"]),
        )
    )
    if slot is None:
        raise Refusal(
            "SYNC_UNKNOWN_SLOT",
            Text(
                f"Créneau du {p['day']} à {p['slot_starts_at']} absent de l'emploi du temps central.",
                f"Slot of {p['day']} at {p['slot_starts_at']} is not in the central timetable.",
            ),
        )
    row = session.scalar(select(Absence).where(Absence.uuid == p["uuid"])) or session.scalar(
        select(Absence).where(Absence.slot_id == slot.id, Absence.user_id == uid)
    )
    if row is None:
        row = Absence(
            uuid=p["uuid"],
            site_id=scope.site_id,
            cohort_id=scope.cohort_id,
            user_id=uid,
            slot_id=slot.id,
            day=slot.day,
        )
        session.add(row)
    elif row.uuid != p["uuid"] and row.excused is not None:
        return Outcome(DUPLICATE, row.id)  # decided at the central site: that decision stands
    if p["excused"] is not None or row.excused is None:
        row.excused = p["excused"]
        row.reason = p["reason"]
        row.decided_by_id = user_id(session, p["decided_by"])
        row.decided_at = parse_dt(p["decided_at"])
    session.flush()
    return Outcome(APPLIED, row.id)


def journal(session: Session, scope: TokenScope, p: dict[str, Any]) -> Outcome:
    if session.scalar(select(JournalEntry.id).where(JournalEntry.uuid == p["uuid"])) is not None:
        return Outcome(DUPLICATE)
    row = JournalEntry(
        uuid=p["uuid"],
        site_id=scope.site_id,
        cohort_id=scope.cohort_id,
        author_id=user_id(session, p["author"]),
        day=date.fromisoformat(p["day"]),
        text=p["text"],
        created_at=parse_dt(p["created_at"]),
    )
    session.add(row)
    session.flush()
    return Outcome(APPLIED, row.id)
