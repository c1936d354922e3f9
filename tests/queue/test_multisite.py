"""Two dispatcher processes (two sites) on one real PostgreSQL, 500 jobs: each runs exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from fablabctl.config import Settings
from fablabctl.db.engine import make_engine, make_session_factory, session_scope
from fablabctl.db.migrate import upgrade
from fablabctl.db.models import Job, JobEvent
from fablabctl.designs.service import upload_design
from fablabctl.fleet.schemas import MachineCreate
from fablabctl.fleet.service import create_machine
from fablabctl.people.roles import Role
from fablabctl.people.schemas import UserCreate
from fablabctl.people.users import create_user
from fablabctl.queue.jobs import approve_job, submit_job
from fablabctl.queue.schemas import JobSubmit
from fablabctl.validation.limits import ValidationLimits
from tests.conftest import fresh_postgres_database

JOBS = 500


@pytest.mark.postgres
def test_two_sites_share_the_queue_and_no_job_runs_twice(postgres_url: str, tmp_path: Path) -> None:
    url = fresh_postgres_database(postgres_url)
    data = tmp_path / "var"
    settings = Settings(database_url=url, data_dir=data)
    data.mkdir()
    engine = make_engine(settings.sqlalchemy_url)
    upgrade(engine)
    sessions = make_session_factory(engine)
    job_file = tmp_path / "clip.gcode"
    job_file.write_text("M83\nG1 X10 Y10 F6000\nG1 X20 Y10 E0.5\nG1 X20 Y20 E0.5\n")
    with session_scope(sessions) as session:
        admin = create_user(
            session=session,
            actor=None,
            data=UserCreate(username="admin", display_name="A", role=Role.ADMIN, password="x" * 10),
        )
        for site in ("nord", "sud"):
            for n in range(3):
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
                filename="clip.gcode",
                chunks=iter([stream.read()]),
                designs_dir=settings.designs_dir,
                limits=ValidationLimits(),
                machines=[],
            )
        for _ in range(JOBS):
            job = submit_job(
                session=session,
                actor=admin,
                data=JobSubmit(design_id=design.id, material="PLA", kind="printer"),
            )
            approve_job(session=session, actor=admin, job_id=job.id)
    env = {
        **os.environ,
        "FABLAB_DATABASE_URL": url,
        "FABLAB_DATA_DIR": str(data),
        "FABLAB_SIM_SPEED": "1000",
        "FABLAB_STAGGER_START_S": "0",
        "FABLAB_DISPATCH_POLL_S": "0.05",
    }
    logs = {
        site: (tmp_path / f"{site}.log").open("wb") for site in ("nord", "sud")
    }  # a pipe could fill and block
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "fablabctl", "dispatch"],
            env={**env, "FABLAB_SITE": site},
            stdout=logs[site],
            stderr=subprocess.STDOUT,
        )
        for site in ("nord", "sud")
    ]
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            with session_scope(sessions) as session:
                left = session.scalar(select(func.count()).select_from(Job).where(Job.state != "done"))
            if left == 0:
                break
            assert all(w.poll() is None for w in workers), [
                (tmp_path / f"{s}.log").read_text()[-2000:] for s in logs
            ]
            time.sleep(0.5)
        assert left == 0, f"{left} jobs not done: {(tmp_path / 'nord.log').read_text()[-3000:]}"
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(timeout=30)
        for log in logs.values():
            log.close()
    with session_scope(sessions) as session:
        runs = Counter(session.scalars(select(JobEvent.job_id).where(JobEvent.to_state == "running")))
        claimed_by = Counter(w.split("@")[0] for w in session.scalars(select(Job.claimed_by)))
        failed = session.scalar(select(func.count()).select_from(Job).where(Job.state == "failed"))
    assert len(runs) == JOBS and set(runs.values()) == {1}  # every job ran, and exactly once
    assert failed == 0
    assert set(claimed_by) == {"nord", "sud"}  # both sites took their share
    engine.dispose()
