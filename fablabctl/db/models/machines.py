"""A machine as the service knows it: what it is, how to reach it, what it can take."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from fablabctl.clock import utc_now
from fablabctl.db.base import Base, UTCDateTime


class Machine(Base):
    __tablename__ = "machines"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # printer | laser
    driver: Mapped[str] = mapped_column(String(16))  # octoprint | marlin | grbl
    # e.g. {"port": "/dev/ttyUSB0", "baud": 115200}, {"url": "...", "api_key": "..."}, {"simulated": true}
    connection: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    bed_x_mm: Mapped[float] = mapped_column(Float)
    bed_y_mm: Mapped[float] = mapped_column(Float)
    bed_z_mm: Mapped[float] = mapped_column(Float, default=0.0)
    nozzle_mm: Mapped[float] = mapped_column(Float, default=0.4)
    max_hotend_c: Mapped[float] = mapped_column(Float, default=260.0)
    max_bed_c: Mapped[float] = mapped_column(Float, default=110.0)
    laser_s_max: Mapped[int] = mapped_column(Integer, default=1000)
    laser_max_power_s: Mapped[int] = mapped_column(Integer, default=1000)
    laser_source: Mapped[str | None] = mapped_column(String(8), nullable=True)  # diode (default) | co2
    materials: Mapped[list[str]] = mapped_column(JSON, default=list)
    loaded_material: Mapped[str | None] = mapped_column(String(64), nullable=True)
    state: Mapped[str] = mapped_column(String(16), default="offline")
    maintenance: Mapped[bool] = mapped_column(Boolean, default=False)
    confirm_before_start: Mapped[bool] = mapped_column(Boolean, default=True)
    current_job_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # set while claimed
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # odometer for maintenance
    run_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    jobs_done: Mapped[int] = mapped_column(Integer, default=0)
    jobs_failed: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
