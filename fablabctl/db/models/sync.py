"""The mobile Fab Lab's sync records: site tokens, the van's outbox, links and arrivals, conflicts.

`SyncLink` gives a UUID to rows that have none (jobs, designs, audit entries) on the van, and on the
central site records every record that arrived from a van (which site, when), so a record pushed
twice or after a cut is recognised by its UUID and applied once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fablabctl.clock import utc_now
from fablabctl.db.base import Base, UTCDateTime


class SyncToken(Base):
    """A site token: one van, one cohort; only its SHA-256 is stored."""

    __tablename__ = "sync_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="RESTRICT"), index=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class SyncOutbox(Base):
    """On the van: one record waiting for the central site's acknowledgement, in push order (id)."""

    __tablename__ = "sync_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)  # record uuid (+ state digest if mutable)
    kind: Mapped[str] = mapped_column(String(24))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)  # applied|duplicate|...
    outcome_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    outcome_message: Mapped[str | None] = mapped_column(String(500), nullable=True)


class SyncLink(Base):
    """A UUID for a local row (van), or a record received from a van (central: site and arrival)."""

    __tablename__ = "sync_links"
    __table_args__ = (
        UniqueConstraint("kind", "uuid"),
        Index("ix_sync_links_kind_local_id", "kind", "local_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    uuid: Mapped[str] = mapped_column(String(80))
    local_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    origin: Mapped[str] = mapped_column(String(16))  # local | pulled | received
    site_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cohort_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)


class SyncConflict(Base):
    """Central: a van's attendance overlapping one recorded elsewhere; both kept, a trainer decides."""

    __tablename__ = "sync_conflicts"
    __table_args__ = (UniqueConstraint("entry_uuid", "other_entry_uuid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    site_id: Mapped[int] = mapped_column(Integer)
    entry_uuid: Mapped[str] = mapped_column(String(36))  # the van's entry
    other_entry_uuid: Mapped[str] = mapped_column(String(36))  # the one it overlaps
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    resolved_by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class SyncState(Base):
    """On the van: what the last pull set (central URL, cohort ids, audit watermark, baselines)."""

    __tablename__ = "sync_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)


class SyncOdometer(Base):
    """Central: the last machine counters applied from a van, so a reading adds only its difference."""

    __tablename__ = "sync_odometers"

    site_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    machine_id: Mapped[int] = mapped_column(ForeignKey("machines.id", ondelete="CASCADE"), primary_key=True)
    baseline: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reading: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    run_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
