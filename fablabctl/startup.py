"""What the run command does before serving: check settings, migrate, first admin, demo machines.

Kept apart from the CLI so the tests and `fablabctl serve` walk exactly the same path.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from fablabctl.config import Settings, SettingsError, check_data_dir
from fablabctl.db.engine import make_engine
from fablabctl.db.migrate import upgrade
from fablabctl.db.models import Machine, User
from fablabctl.fleet.schemas import MachineCreate
from fablabctl.fleet.service import create_machine
from fablabctl.people.roles import Role
from fablabctl.people.schemas import UserCreate
from fablabctl.people.users import create_user
from fablabctl.sites import get_or_create_site
from fablabctl.specs import DEFAULT_LASER, DEFAULT_PRINTER

log = logging.getLogger(__name__)

FIRST_ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class FirstAdmin:
    username: str
    generated_password: str | None  # shown once when we made it up; None when taken from settings


def prepare_database(settings: Settings) -> Engine:
    """Check the data dir, connect, and apply migrations; one-line `SettingsError` on failure."""
    check_data_dir(settings)
    engine = make_engine(settings.sqlalchemy_url)
    try:
        upgrade(engine)
    except Exception as exc:  # the driver's own error types vary; all mean "cannot use this database"
        engine.dispose()
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise SettingsError(f"FABLAB_DATABASE_URL: cannot open or migrate the database: {reason}") from None
    return engine


def ensure_first_admin(session: Session, settings: Settings) -> FirstAdmin | None:
    """Create the `admin` account when no admin exists yet; None when there already is one."""
    if session.scalar(select(User.id).where(User.role == Role.ADMIN.value).limit(1)) is not None:
        return None
    password = settings.admin_password or secrets.token_urlsafe(12)
    create_user(
        session=session,
        actor=None,
        data=UserCreate(
            username=FIRST_ADMIN, display_name="Administrateur", role=Role.ADMIN, password=password
        ),
    )
    return FirstAdmin(FIRST_ADMIN, None if settings.admin_password else password)


def ensure_demo_machines(session: Session, settings: Settings) -> list[str]:
    """With no machine configured and demo on, add a simulated printer and laser; return their names."""
    get_or_create_site(session, settings.site)
    if not settings.demo or session.scalar(select(Machine.id).limit(1)) is not None:
        return []
    created = []
    for spec in (DEFAULT_PRINTER, DEFAULT_LASER):
        name = f"demo-{spec.kind}"
        create_machine(
            session=session,
            actor=None,
            data=MachineCreate(
                name=name,
                kind=spec.kind,
                driver=spec.driver,
                connection={"simulated": True},
                bed_x_mm=spec.bed_x_mm,
                bed_y_mm=spec.bed_y_mm,
                bed_z_mm=spec.bed_z_mm,
                materials=list(spec.materials),
                confirm_before_start=False,
            ),
            default_site=settings.site,
        )
        created.append(name)
    log.info("demo mode: added simulated machines %s", ", ".join(created))
    return created
