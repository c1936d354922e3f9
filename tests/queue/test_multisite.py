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
from fablabctl.db.models import Job, JobEvent
from tests.conftest import fresh_postgres_database
from tests.queue.two_sites import populate_two_sites

JOBS = 500


@pytest.mark.postgres
def test_two_sites_share_the_queue_and_no_job_runs_twice(postgres_url: str, tmp_path: Path) -> None:
    url = fresh_postgres_database(postgres_url)
    data = tmp_path / "var"
    settings = Settings(database_url=url, data_dir=data)
    data.mkdir()
    job_file = tmp_path / "clip.gcode"
    job_file.write_text("M83\nG1 X10 Y10 F6000\nG1 X20 Y10 E0.5\nG1 X20 Y20 E0.5\n")
    populate_two_sites(settings, job_file, machines_per_site=3, jobs=JOBS)
    engine = make_engine(settings.sqlalchemy_url)
    sessions = make_session_factory(engine)
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
