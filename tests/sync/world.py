"""Two real services for the mobile Fab Lab tests: the central site on PostgreSQL, the van on SQLite.

The central site is filled through the service functions (admin, a trainer, three tigistes in the
van's cohort, one in another cohort, a timetable, the van's printer); the van starts empty and gets
everything from `fablabctl sync pull`, run as the operator would, in a subprocess.
"""

from __future__ import annotations

import subprocess
import sys
import time as clock
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

import httpx
from sqlalchemy import select
from typer.testing import CliRunner

from fablabctl.cli import app
from fablabctl.config import Settings
from fablabctl.db.engine import make_engine, make_session_factory, session_scope
from fablabctl.db.migrate import upgrade
from fablabctl.db.models import MaterialEntry, User
from fablabctl.fleet.schemas import MachineCreate
from fablabctl.fleet.service import create_machine
from fablabctl.people.attendance import Rules, check_in, check_out
from fablabctl.people.attendance_schemas import CheckIn, CheckOut, SlotIn, Timetable
from fablabctl.people.cohorts import create_cohort, enrol
from fablabctl.people.roles import Role
from fablabctl.people.schemas import CohortCreate, EnrolmentCreate, UserCreate
from fablabctl.people.timetable import set_timetable
from fablabctl.people.users import create_user
from tests.queue.service import PASSWORD, Service

CENTRAL, VAN = "centre", "camion-1"
TODAY = date.today()
D1, D2, D3 = (TODAY - timedelta(days=n) for n in (6, 5, 4))
TIGISTES = {"lea": "Léa", "karim": "Karim", "ines": "Inès"}
PERSONAL_PASSWORD = "mot-de-passe-lea-42"
TZ = Settings().timezone


def at(day: date, hhmm: str) -> str:
    """Local time without offset, as the staff type it."""
    return f"{day.isoformat()}T{hhmm}"


CLEARED = ("FABLAB_DATABASE_URL", "FABLAB_SYNC_FAULT_AFTER_BATCHES", "FABLAB_SYNC_PASSPHRASE", "FABLAB_API")


@dataclass(frozen=True)
class Done:
    returncode: int
    stdout: str
    stderr: str


@dataclass
class World:
    central: Started
    van: Started
    faulty: Started  # a second central process on the same database, dying after its 2nd push batch
    central_url: str  # database
    cohort_id: int  # at the central site
    other_cohort_id: int
    tmp: Path
    token: str = ""
    ids: dict[str, int] = field(default_factory=dict)  # van-side ids

    @property
    def central_base(self) -> str:
        return self.central.url.removesuffix("/api/v1")

    def cli(self, side: Service, *args: str, ok: bool = True, token: str | None = None) -> Done:
        """Run `fablabctl ARGS` as the operator of that side would (its settings), in this process:
        the same code path as the command, without paying a Python start-up per call."""
        env: dict[str, str | None] = dict.fromkeys(CLEARED)
        env.update({k: v for k, v in side.env.items() if k.startswith("FABLAB_")})
        env["FABLAB_SYNC_TOKEN"] = self.token if token is None else token
        env["COLUMNS"] = "200"
        result = CliRunner().invoke(app, list(args), env=env)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        done = Done(result.exit_code, result.stdout, result.stderr)
        if ok:
            assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
        return done


def populate_central(url: str, data: Path) -> tuple[int, int]:
    """The central site before the van leaves; returns (the van's cohort, another cohort)."""
    settings = Settings(database_url=url, data_dir=data, site=CENTRAL)
    engine = make_engine(settings.sqlalchemy_url)
    upgrade(engine)
    rules = Rules.from_settings(settings)
    with session_scope(make_session_factory(engine)) as session:
        admin = create_user(
            session=session,
            actor=None,
            data=UserCreate(username="admin", display_name="Admin", role=Role.ADMIN, password=PASSWORD),
        )
        marc = create_user(
            session=session,
            actor=admin,
            data=UserCreate(username="marc", display_name="Marc", role=Role.TRAINER, password="x" * 12),
        )
        # the central library differs from the package's: one sheet of its own, one no longer offered
        mdf = session.scalar(select(MaterialEntry).where(MaterialEntry.key == "mdf-3mm"))
        assert mdf is not None
        session.add(
            MaterialEntry(
                key="mdf-atelier-3mm",
                kind="laser",
                active=True,
                name_fr="MDF de l'atelier 3 mm",
                name_en="Workshop MDF 3 mm",
                settings=dict(mdf.settings),
            )
        )
        cardboard = session.scalar(select(MaterialEntry).where(MaterialEntry.key == "cardboard-2mm"))
        assert cardboard is not None
        cardboard.active = False
        people = {
            name: create_user(
                session=session,
                actor=admin,
                data=UserCreate(
                    username=name, display_name=shown, role=Role.TIGISTE, password=PERSONAL_PASSWORD
                ),
            )
            for name, shown in {**TIGISTES, "zoe": "Zoé"}.items()
        }
        cohort = create_cohort(
            session=session,
            actor=admin,
            data=CohortCreate(
                name="Ruche du camion",
                starts_on=D1,
                ends_on=TODAY + timedelta(days=20),
                trainer_ids=[marc.id],
            ),
            default_site=CENTRAL,
        )
        other = create_cohort(
            session=session,
            actor=admin,
            data=CohortCreate(name="Signalétique", starts_on=D1, ends_on=TODAY + timedelta(days=20)),
            default_site=CENTRAL,
        )
        for name in TIGISTES:
            enrol(
                session=session,
                actor=admin,
                data=EnrolmentCreate(
                    cohort_id=cohort.id,
                    user_id=people[name].id,
                    hours_due=70,
                    referent_contact="Mme Morel <c.morel@spip.example>",
                ),
            )
        enrol(
            session=session,
            actor=admin,
            data=EnrolmentCreate(cohort_id=other.id, user_id=people["zoe"].id, hours_due=35),
        )
        slots = [
            SlotIn(day=day, starts_at=start, ends_at=end, phase="fabrication")
            for day in (D1, D2, D3)
            for start, end in ((time(9), time(12, 30)), (time(13, 30), time(17)))
        ]
        set_timetable(session=session, actor=admin, cohort_id=cohort.id, data=Timetable(slots=slots))
        create_machine(
            session=session,
            actor=None,
            default_site=VAN,
            data=MachineCreate(
                name="camion-prusa",
                kind="printer",
                driver="marlin",
                connection={"simulated": True},
                bed_x_mm=250,
                bed_y_mm=210,
                bed_z_mm=210,
                confirm_before_start=False,
            ),
        )
        create_machine(
            session=session,
            actor=None,
            default_site=CENTRAL,
            data=MachineCreate(
                name="atelier-laser",
                kind="laser",
                driver="grbl",
                connection={"simulated": True},
                bed_x_mm=400,
                bed_y_mm=300,
            ),
        )
        # Léa came to the central Fab Lab on the morning of D2, before the van's day there
        check_in(
            session=session,
            actor=marc,
            cohort_id=cohort.id,
            data=CheckIn(user_id=people["lea"].id, at=datetime.fromisoformat(at(D2, "09:00"))),
            rules=rules,
        )
        check_out(
            session=session,
            actor=marc,
            cohort_id=cohort.id,
            data=CheckOut(user_id=people["lea"].id, at=datetime.fromisoformat(at(D2, "12:30"))),
            rules=rules,
        )
        ids = (cohort.id, other.id)
    engine.dispose()
    return ids


def van_ids(van_data: Path) -> dict[str, int]:
    engine = make_engine(f"sqlite:///{van_data / 'fablabctl.db'}")
    with session_scope(make_session_factory(engine)) as session:
        ids = {u.username: u.id for u in session.scalars(select(User))}
    engine.dispose()
    return ids


def central_env(url: str) -> dict[str, str]:
    return {"FABLAB_DATABASE_URL": url, "FABLAB_SITE": CENTRAL, "FABLAB_DEMO": "false"}


class Started(Service):
    """A service started in two steps, so several start at once (a loaded machine is slow to import)."""

    def launch(self) -> None:
        self.data.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "fablabctl", "serve"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def ready(self, timeout: float = 240) -> None:
        assert self.proc is not None
        deadline = clock.monotonic() + timeout
        while clock.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                clock.sleep(0.2)
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
        else:
            raise AssertionError(f"service not up after {timeout:.0f} s: {self.log.read_text()[-3000:]}")
        login = httpx.post(
            f"{self.url}/auth/login", json={"username": "admin", "password": PASSWORD}, timeout=30
        )
        self.headers = {"Authorization": f"Bearer {login.json()['token']}"}


def make_central(data: Path, url: str, **extra: str) -> Started:
    service = Started(data, **central_env(url), **extra)
    service.env["FABLAB_DATABASE_URL"] = url  # Service drops it by default (SQLite)
    return service


def make_van(data: Path) -> Started:
    return Started(data, FABLAB_SITE=VAN, FABLAB_DEMO="false", FABLAB_SIM_SPEED="50")
