"""Purge a cohort's people: after it, no personal value of theirs remains anywhere.

What goes: usernames and display names (replaced by `anonyme-<id>` / `Anonyme <id>`), passwords and
sessions, the referent's contact, the measure's dates, free texts (reasons, journal), file names
of their uploads and the stored files themselves (designs, sliced G-code). What stays, anonymous:
hours, attendance times, absences, jobs and machine statistics, PIX levels.

Then every text column of every table (the audit log included) is searched for the erased
values, and any occurrence is replaced. The audit log is append-only by database triggers: the
purge is the one deliberate exception, in the same transaction (triggers lifted, rows rewritten,
triggers back), and it keeps ids and actions. Finally the database file is compacted so the old
values do not survive in free pages (SQLite: secure_delete + VACUUM + WAL truncation; PostgreSQL:
VACUUM FULL of the touched tables).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import JSON, String, Text, cast, delete, or_, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from fablabctl import audit
from fablabctl.clock import Clock, utc_now
from fablabctl.config import Settings
from fablabctl.content_store import path_for
from fablabctl.db.base import Base
from fablabctl.db.models import (
    Absence,
    AttendanceEntry,
    AuthToken,
    Cohort,
    Design,
    Enrolment,
    EnrolmentTerms,
    Job,
    JournalEntry,
    User,
)
from fablabctl.errors import Conflict, Invalid, forbidden
from fablabctl.i18n import Text as Msg
from fablabctl.people.cohorts import get_cohort
from fablabctl.people.roles import TEACHING, Role, require, role_of

ERASED = "[effacé]"


@dataclass
class PurgeReport:
    cohort_id: int
    purged_user_ids: list[int] = field(default_factory=list)
    kept_user_ids: list[int] = field(default_factory=list)  # still enrolled in a later cohort
    rows_scrubbed: int = 0
    files_deleted: int = 0
    touched_tables: set[str] = field(default_factory=set)


def purge_cohort(
    *,
    session: Session,
    actor: User,
    cohort_id: int,
    settings: Settings,
    now: bool = False,
    reason: str | None = None,
    clock: Clock = utc_now,
) -> PurgeReport:
    require(actor, TEACHING)
    cohort = get_cohort(session=session, actor=actor, cohort_id=cohort_id)
    if now:
        if role_of(actor) is not Role.ADMIN:
            raise forbidden(
                Msg("Seul un administrateur peut purger avant terme.", "Only an admin may purge early.")
            )
        if not reason or len(reason.strip()) < 5:
            raise Invalid(
                "PURGE_REASON_REQUIRED",
                Msg(
                    "Une purge anticipée demande un motif (--reason).",
                    "An early purge needs a reason (--reason).",
                ),
            )
    else:
        allowed_on = cohort.ends_on + timedelta(days=settings.retention_days)
        if clock().date() < allowed_on:
            raise Conflict(
                "RETENTION_NOT_OVER",
                Msg(
                    f"Durée de conservation en cours : purge possible à partir du {allowed_on:%d/%m/%Y} "
                    "(ou --now --reason par un administrateur).",
                    f"Retention period not over: purge possible from {allowed_on:%Y-%m-%d} "
                    "(or --now --reason by an admin).",
                ),
                allowed_on=allowed_on.isoformat(),
            )
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("PRAGMA secure_delete=ON"))  # freed pages are zeroed, not left as they were
    report = PurgeReport(cohort_id=cohort_id)
    values: set[str] = set()
    for enrolment in list(session.scalars(select(Enrolment).where(Enrolment.cohort_id == cohort_id))):
        later = session.scalar(
            select(Enrolment.id)
            .join(Cohort, Cohort.id == Enrolment.cohort_id)
            .where(
                Enrolment.user_id == enrolment.user_id,
                Cohort.id != cohort_id,
                Cohort.ends_on > cohort.ends_on,
            )
        )
        if later is not None:
            report.kept_user_ids.append(enrolment.user_id)
            continue
        user = session.get(User, enrolment.user_id)
        if user is None or user.username == f"anonyme-{user.id}":
            continue
        values |= name_parts(user.username) | name_parts(user.display_name)
        contacts = session.scalars(select(Enrolment.referent_contact).where(Enrolment.user_id == user.id))
        for contact in contacts:
            values |= name_parts(contact)
        _erase_person(session, settings, user, report)
        report.purged_user_ids.append(user.id)
    session.execute(update(JournalEntry).where(JournalEntry.cohort_id == cohort_id).values(text=ERASED))
    report.touched_tables |= {
        "users",
        "enrolments",
        "enrolment_terms",
        "attendance_entries",
        "journal_entries",
    }
    session.flush()
    report.rows_scrubbed = scrub_everywhere(session, {v for v in values if len(v) >= 2}, report)
    audit.record(
        session,
        actor=actor,
        action="cohort.purge",
        target_type="cohort",
        target_id=cohort_id,
        people=len(report.purged_user_ids),
        early=now,
    )
    return report


def name_parts(value: str) -> set[str]:
    """A name, and each of its words of 3 letters or more: « Léa Martin » is also « Martin »."""
    value = value.strip()
    if not value:
        return set()
    words = re.split(r"[\s<>(),;\"']+", value)
    return {value} | {w.strip(".:") for w in words if len(w.strip(".:")) >= 3}


def _erase_person(session: Session, settings: Settings, user: User, report: PurgeReport) -> None:
    user.username = f"anonyme-{user.id}"
    user.display_name = f"Anonyme {user.id}"
    user.password_hash = "!"
    user.active = False
    session.execute(delete(AuthToken).where(AuthToken.user_id == user.id))
    enrolment_ids = list(session.scalars(select(Enrolment.id).where(Enrolment.user_id == user.id)))
    session.execute(update(Enrolment).where(Enrolment.user_id == user.id).values(referent_contact=""))
    session.execute(
        update(EnrolmentTerms)
        .where(EnrolmentTerms.enrolment_id.in_(enrolment_ids))
        .values(deadline=None, contract_signed_on=None)
    )
    session.execute(update(AttendanceEntry).where(AttendanceEntry.user_id == user.id).values(reason=""))
    session.execute(update(Absence).where(Absence.user_id == user.id).values(reason=""))
    session.execute(update(Job).where(Job.owner_id == user.id).values(reason=None))
    report.touched_tables |= {"absences", "jobs", "auth_tokens", "designs"}
    for design in session.scalars(select(Design).where(Design.owner_id == user.id)):
        suffix = Path(design.filename).suffix.lower()[:8]
        design.filename = f"fichier-{design.id}{suffix}"
        shared = session.scalar(
            select(Design.id)
            .join(User, User.id == Design.owner_id)
            .where(
                Design.sha256 == design.sha256,
                Design.owner_id != user.id,
                ~User.username.startswith("anonyme-"),
            )
        )
        if shared is None:
            report.files_deleted += _delete_files(settings, design.sha256)
    for job in session.scalars(select(Job).where(Job.owner_id == user.id, Job.gcode_path.is_not(None))):
        Path(str(job.gcode_path)).unlink(missing_ok=True)  # named after the design: job-42-<its name>.gcode
        job.gcode_path = None


def _delete_files(settings: Settings, sha256: str) -> int:
    """The stored upload and every cached file derived from it (slices, laser G-code)."""
    count = 0
    candidates = [path_for(settings.designs_dir, sha256)]
    if settings.cache_dir.is_dir():
        candidates += [p for p in settings.cache_dir.rglob(f"*{sha256}*") if p.is_file()]
    for path in candidates:
        try:
            path.unlink()
            count += 1
        except FileNotFoundError:
            continue
    return count


def _patterns(values: set[str]) -> list[str]:
    """Each value as written in plain text and as JSON writes it (non-ASCII escaped)."""
    out: set[str] = set()
    for value in values:
        out.add(value)
        out.add(json.dumps(value)[1:-1])
    return sorted(out, key=len, reverse=True)


def scrub_everywhere(session: Session, values: set[str], report: PurgeReport) -> int:
    """Replace the values wherever a text or JSON column still holds them; return the rows changed."""
    if not values:
        return 0
    patterns = _patterns(values)
    # whole words only: erasing "lea" must not touch "leane" (the SQL LIKE below is only a pre-filter)
    regex = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(p) for p in patterns) + r")(?!\w)", re.IGNORECASE)
    changed = 0
    for table in Base.metadata.sorted_tables:
        if table.name == "users":
            continue  # the purged accounts are rewritten above; other people's names are theirs
        pk = list(table.primary_key.columns)
        for column in table.columns:
            if not isinstance(column.type, String | Text | JSON) or column.primary_key:
                continue
            as_text = cast(column, Text())
            condition = or_(*(as_text.ilike(f"%{p}%") for p in patterns))
            rows = session.execute(select(*pk, column).where(condition)).all()
            if not rows:
                continue
            report.touched_tables.add(table.name)
            with AuditUnlocked(session, table.name):
                for row in rows:
                    *keys, value = row
                    if isinstance(column.type, JSON):
                        new = json.loads(regex.sub(ERASED, json.dumps(value)))
                    else:
                        new = regex.sub(ERASED, str(value))
                    if new == value:
                        continue
                    where = [c == k for c, k in zip(pk, keys, strict=True)]
                    session.execute(table.update().where(*where).values({column.name: new}))
                    changed += 1
    return changed


class AuditUnlocked:
    """Lift the audit log's append-only triggers for this transaction only (the purge's exception)."""

    def __init__(self, session: Session, table: str) -> None:
        self.session, self.active = session, table == "audit_log"
        self.saved: list[str] = []

    def __enter__(self) -> None:
        if not self.active:
            return
        if self.session.get_bind().dialect.name == "sqlite":
            found = self.session.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type='trigger' AND tbl_name='audit_log'")
            ).all()
            self.saved = [str(sql) for _name, sql in found]
            for name, _sql in found:
                self.session.execute(text(f'DROP TRIGGER "{name}"'))
        else:
            self.session.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))

    def __exit__(self, *exc: object) -> None:
        if not self.active:
            return
        if self.session.get_bind().dialect.name == "sqlite":
            for sql in self.saved:
                self.session.execute(text(sql))
        else:
            self.session.execute(text("ALTER TABLE audit_log ENABLE TRIGGER USER"))


def compact(engine: Engine, tables: set[str]) -> None:
    """After the purge's commit: leave no erased value in free pages or the write-ahead log."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.execute(text("PRAGMA secure_delete=ON"))
            conn.execute(text("VACUUM"))
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        return
    known = set(Base.metadata.tables)
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        for name in sorted(tables & known):
            conn.execute(text(f'VACUUM FULL "{name}"'))
