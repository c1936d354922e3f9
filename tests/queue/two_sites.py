"""Set-up shared by the multi-site tests: an admin, simulated printers on sites nord and sud, and
approved jobs of one G-code file, written straight through the service functions."""

from __future__ import annotations

from pathlib import Path

from fablabctl.config import Settings
from fablabctl.db.engine import make_engine, make_session_factory, session_scope
from fablabctl.db.migrate import upgrade
from fablabctl.designs.service import upload_design
from fablabctl.file_limits import ValidationLimits
from fablabctl.fleet.schemas import MachineCreate
from fablabctl.fleet.service import create_machine
from fablabctl.people.roles import Role
from fablabctl.people.schemas import UserCreate
from fablabctl.people.users import create_user
from fablabctl.queue.jobs import approve_job, submit_job
from fablabctl.queue.schemas import JobSubmit

SITES = ("nord", "sud")


def populate_two_sites(settings: Settings, job_file: Path, *, machines_per_site: int, jobs: int) -> None:
    """Migrate the database, then add the admin, the machines and `jobs` approved jobs of `job_file`."""
    engine = make_engine(settings.sqlalchemy_url)
    upgrade(engine)
    with session_scope(make_session_factory(engine)) as session:
        admin = create_user(
            session=session,
            actor=None,
            data=UserCreate(username="admin", display_name="A", role=Role.ADMIN, password="x" * 10),
        )
        for site in SITES:
            for n in range(machines_per_site):
                create_machine(
                    session=session,
                    actor=None,
                    default_site=site,
                    data=MachineCreate(
                        name=f"{site}-{n}",
                        kind="printer",
                        driver="marlin",
                        connection={"simulated": True},
                        bed_x_mm=250,
                        bed_y_mm=210,
                        bed_z_mm=210,
                        confirm_before_start=False,
                    ),
                )
        with job_file.open("rb") as stream:
            design = upload_design(
                session=session,
                actor=admin,
                filename=job_file.name,
                chunks=iter([stream.read()]),
                designs_dir=settings.designs_dir,
                limits=ValidationLimits(),
                machines=[],
            )
        for _ in range(jobs):
            job = submit_job(
                session=session,
                actor=admin,
                data=JobSubmit(design_id=design.id, material="PLA", kind="printer"),
            )
            approve_job(session=session, actor=admin, job_id=job.id)
    engine.dispose()
