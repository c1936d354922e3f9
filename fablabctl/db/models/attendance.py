"""Attendance and the programme around the hours: records that travel between sites.

Every record carries a UUID and its site, so a mobile Fab Lab's records merge into the central
site's without clashes. Attendance is append-only: a check-out or a correction adds a new version
of the entry (same `entry_uuid`, `version` + 1, `supersedes` = the previous row's uuid); the hours
always use the latest version. No name is stored here: people are ids, texts are the staff's.
"""

from __future__ import annotations

import uuid as uuid_lib
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fablabctl.clock import utc_now
from fablabctl.db.base import Base, UTCDateTime


def new_uuid() -> str:
    return str(uuid_lib.uuid4())


class AttendanceEntry(Base):
    """One version of one presence period (check-in, optional check-out) of a tigiste in a cohort."""

    __tablename__ = "attendance_entries"
    __table_args__ = (
        UniqueConstraint("entry_uuid", "version"),
        Index("ix_attendance_entries_cohort_id_user_id", "cohort_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    entry_uuid: Mapped[str] = mapped_column(String(36), index=True)  # first version's uuid
    version: Mapped[int] = mapped_column(Integer, default=1)
    supersedes: Mapped[str | None] = mapped_column(String(36), nullable=True)  # previous version's uuid
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="RESTRICT"))
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    phase: Mapped[str] = mapped_column(String(16))  # information | formation | fabrication
    check_in: Mapped[datetime] = mapped_column(UTCDateTime())
    check_out: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    method: Mapped[str] = mapped_column(String(16))  # staff | self | confirmed
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)  # a correction that removes the entry
    recorded_by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")  # why this version (check-out, correction...)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)


class TimetableSlot(Base):
    """One day of a cohort's timetable, in the site's local time."""

    __tablename__ = "timetable_slots"
    __table_args__ = (UniqueConstraint("cohort_id", "day", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    starts_at: Mapped[time] = mapped_column(Time)
    ends_at: Mapped[time] = mapped_column(Time)
    phase: Mapped[str] = mapped_column(String(16))


class Absence(Base):
    """A timetable slot a tigiste did not check in to; the trainer says whether it is excused."""

    __tablename__ = "absences"
    __table_args__ = (UniqueConstraint("slot_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="RESTRICT"))
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("timetable_slots.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    excused: Mapped[bool | None] = mapped_column(Boolean, nullable=True)  # None: not decided yet
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)


class ReferentNotice(Base):
    """An unexcused absence to tell the referent (CPIP): listed, exported, e-mailed when SMTP is set."""

    __tablename__ = "referent_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="RESTRICT"))
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    absence_id: Mapped[int] = mapped_column(ForeignKey("absences.id", ondelete="CASCADE"), unique=True)
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    email_error: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)


class Contribution(Base):
    """Who worked on which job, and how (owner, designed, prepared, assembled)."""

    __tablename__ = "contributions"
    __table_args__ = (UniqueConstraint("job_id", "user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="RESTRICT"))
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    recorded_by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)


class JournalEntry(Base):
    """Journal de bord: a dated note by a trainer about a cohort."""

    __tablename__ = "journal_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="RESTRICT"))
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    day: Mapped[date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)


class EnrolmentTerms(Base):
    """The measure around an enrolment: its kind, the legal deadline, the contract's signature date."""

    __tablename__ = "enrolment_terms"

    enrolment_id: Mapped[int] = mapped_column(
        ForeignKey("enrolments.id", ondelete="CASCADE"), primary_key=True
    )
    measure: Mapped[str] = mapped_column(String(16), default="TIG")  # TIG | TNR | other
    deadline: Mapped[date | None] = mapped_column(Date, nullable=True)
    contract_signed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now, onupdate=utc_now)


class PixAssessment(Base):
    """A self-assessment on the five PIX areas, before (pre) and after (post) the session."""

    __tablename__ = "pix_assessments"
    __table_args__ = (UniqueConstraint("cohort_id", "user_id", "stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="RESTRICT"))
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(8))  # pre | post
    scores: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # area -> level 0..3
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
