"""The one settings object (env prefix FABLAB_), read and checked once at start-up.

Every value that can be wrong is checked here and reported in one line (`SettingsError`), so an
operator on site sees "FABLAB_DATA_DIR /x is not writable" rather than a traceback.
"""

from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

PROJECT_ROOT = Path(__file__).resolve().parents[1]  # the checkout (the run command installs it editable)


class SettingsError(Exception):
    """A configuration value is wrong; the message names the variable and what to do."""


class Settings(BaseSettings):
    """Service configuration. Defaults run a single offline site on an embedded SQLite file."""

    model_config = SettingsConfigDict(env_prefix="FABLAB_", extra="ignore")

    environment: Literal["development", "production", "test"] = "development"
    data_dir: Path = Path("var")
    database_url: str = ""  # empty: SQLite file in data_dir
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    site: str = "local"
    admin_password: str = ""
    demo: bool = True  # simulated machines when no hardware is configured
    lang: Literal["fr", "en"] = "fr"

    # uploads and validation limits
    max_upload_mb: float = Field(default=64.0, gt=0, le=4096)
    max_triangles: int = Field(default=5_000_000, gt=0)
    max_dxf_entities: int = Field(default=500_000, gt=0)
    max_block_depth: int = Field(default=16, ge=1, le=256)

    # sessions and login
    session_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    login_attempts_per_minute: int = Field(default=10, ge=1, le=1000)

    # dispatcher
    stagger_start_s: float = Field(default=20.0, ge=0)
    slicer_timeout_s: float = Field(default=600.0, gt=0)
    # TIG projects (designs in the sibling designs/ folder): the project's own jobs/, wherever the
    # service is started from; a relative FABLAB_CATALOGUE_DIR is taken from the current directory
    catalogue_dir: Path = PROJECT_ROOT / "jobs"
    dispatch_poll_s: float = Field(default=1.0, gt=0, le=60)
    sim_speed: float = Field(default=10.0, gt=0, le=10_000)  # simulated machines run this much faster

    # requests under load (web/transactions.py, web/limits.py, web/uploads.py)
    db_busy_timeout_s: float = Field(default=10.0, gt=0, le=600)  # SQLite: wait for another writer
    user_quota_mb: float = Field(default=1024.0, gt=0)  # stored designs per account
    validation_concurrency: int = Field(default=2, ge=1, le=64)  # uploads checked at once
    validation_wait_s: float = Field(default=15.0, ge=0, le=600)  # then 503 with Retry-After
    body_timeout_s: float = Field(default=30.0, gt=0, le=3600)  # silence while a body streams: 408

    # hours and attendance (rules documented in the README, "Heures")
    timezone: str = "Europe/Paris"  # attendance times are given and shown in this local time
    hours_rounding_minutes: int = Field(default=15, ge=1, le=60)  # each day's total, to the nearest
    daily_max_hours: float = Field(default=8.0, gt=0, le=24)  # above: a warning, never a cut
    absence_grace_minutes: int = Field(default=30, ge=0, le=600)  # not checked in by then: absent
    retention_days: int = Field(default=365, ge=0)  # after the cohort's end, its people may be purged
    smtp_host: str = ""  # empty: no e-mail, notices are only listed and exported
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    smtp_from: str = "fablab@localhost"
    structure_name: str = "Fab Lab"
    structure_address: str = ""
    structure_logo: Path | None = None  # PNG/SVG printed on the documents

    @field_validator("database_url")
    @classmethod
    def _check_db_url(cls, value: str) -> str:
        if not value:
            return value
        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError(
                f"not a database URL: {value!r} (expected sqlite:///path or postgresql://...)"
            ) from exc
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise ValueError(f"unsupported database {url.get_backend_name()!r}: use sqlite or postgresql")
        return value

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. Europe/Paris)") from None
        return value

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def designs_dir(self) -> Path:
        return self.data_dir / "designs"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL, with the SQLite default and the psycopg 3 driver made explicit."""
        if not self.database_url:
            return f"sqlite:///{(self.data_dir / 'fablabctl.db').resolve()}"
        url = make_url(self.database_url)
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg")
        return url.render_as_string(hide_password=False)


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; turn pydantic's report into one readable line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            name = "FABLAB_" + "_".join(str(p) for p in err["loc"]).upper()
            problems.append(f"{name}: {err['msg']}")
        raise SettingsError("; ".join(problems)) from None


def check_data_dir(settings: Settings) -> None:
    """Create the data directory if needed and prove it is writable."""
    path = settings.data_dir
    try:
        path.mkdir(parents=True, exist_ok=True)
        # a private probe: several processes (dispatchers of one lab) may check the same folder at once
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise SettingsError(f"FABLAB_DATA_DIR {path} is not writable: {exc.strerror or exc}") from None
    for sub in (settings.designs_dir, settings.cache_dir):
        sub.mkdir(parents=True, exist_ok=True)


def check_port_free(host: str, port: int) -> None:
    """Fail early, in one line, when another program already listens on the port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise SettingsError(
                f"port {port} on {host} is already in use ({exc.strerror}): stop the other program "
                f"or set FABLAB_PORT"
            ) from None


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0
