"""Designs: uploaded files stored once by content hash, and who uploaded what.

`DesignFile` is the immutable content (and its validation report, computed once per content);
`Design` is one person's upload of it, so two tigistes uploading the same STL share the file but
not each other's history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from fablabctl.clock import utc_now
from fablabctl.db.base import Base, UTCDateTime


class DesignFile(Base):
    __tablename__ = "design_files"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    file_type: Mapped[str] = mapped_column(String(16))  # stl | dxf | gcode | unknown
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ok: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)


class Design(Base):
    __tablename__ = "designs"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("design_files.sha256", ondelete="RESTRICT"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    derived_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("designs.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
