"""Two dispatcher processes on one PostgreSQL, and the PostgreSQL server restarted under them.

The server is stopped abruptly (`pg_ctl stop -m immediate`: every connection cut, as in a crash or
a failover) twice while jobs run, and started again on the same port. The dispatchers must carry
on by themselves: every job done, none run twice, none failed, no dispatcher process gone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func, select

from fablabctl.config import Settings
from fablabctl.db.engine import make_engine, make_session_factory, session_scope
from fablabctl.db.models import Job, JobEvent
from tests.postgres_server import _as_server_user, free_port, pg_bin
from tests.queue.two_sites import populate_two_sites

JOBS = 48
RESTARTS = (0.25, 0.6)  # fraction of the jobs done when the server is cut
DOWN_S = 1.5


@dataclass
class Postgres:
    """A throwaway server that can be stopped and started again on the same port."""

    root: Path
    port: int

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            _as_server_user([pg_bin("pg_ctl"), "-D", str(self.data), *args]), check=True, capture_output=True
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root / 'sock'} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=100"
        )
        self._ctl("-o", options, "-l", str(self.root / "log"), "-w", "-t", "60", "start")

    def stop(self) -> None:
        self._ctl("-m", "immediate", "-w", "stop")


@contextmanager
def restartable_postgres() -> Iterator[Postgres]:
    root = Path(tempfile.mkdtemp(prefix="fablab-pg-restart-"))
    (root / "sock").mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        shutil.chown(root / "sock", "postgres", "postgres")
    server = Postgres(root, free_port())
    subprocess.run(
        _as_server_user(
            [pg_bin("initdb"), "-D", str(server.data), "-U", "postgres", "-A", "trust", "--no-sync"]
        ),
        check=True,
        capture_output=True,
    )
    server.start()
    try:
        yield server
    finally:
        subprocess.run(
            _as_server_user([pg_bin("pg_ctl"), "-D", str(server.data), "-m", "immediate", "-w", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


def count_done(url: str) -> int:
    try:
        with psycopg.connect(url, connect_timeout=2) as conn:
            row = conn.execute("SELECT count(*) FROM jobs WHERE state = 'done'").fetchone()
            return int(row[0]) if row else 0
    except psycopg.Error:
        return -1  # the server is down right now


@pytest.mark.postgres
@pytest.mark.slow
def test_dispatchers_ride_out_a_postgres_restart(tmp_path: Path) -> None:
    with restartable_postgres() as server:
        with psycopg.connect(server.url, autocommit=True) as conn:
            conn.execute('CREATE DATABASE "fablab"')
        url = server.url.rsplit("/", 1)[0] + "/fablab"
        data = tmp_path / "var"
        data.mkdir()
        settings = Settings(database_url=url, data_dir=data)
        job_file = tmp_path / "clip.gcode"
        job_file.write_text("M83\n" + "".join(f"G1 X{10 + i % 20} Y10 E0.1 F6000\n" for i in range(300)))
        populate_two_sites(settings, job_file, machines_per_site=2, jobs=JOBS)
        env = {
            **os.environ,
            "FABLAB_DATABASE_URL": url,
            "FABLAB_DATA_DIR": str(data),
            "FABLAB_SIM_SPEED": "200",
            "FABLAB_STAGGER_START_S": "0",
            "FABLAB_DISPATCH_POLL_S": "0.1",
        }
        logs = {site: tmp_path / f"{site}.log" for site in ("nord", "sud")}
        workers = []
        for site, path in logs.items():
            with path.open("wb") as log:
                workers.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "fablabctl", "dispatch"],
                        env={**env, "FABLAB_SITE": site},
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )

        def tails() -> str:
            return "\n".join(p.read_text()[-2500:] for p in logs.values())

        restarts = list(RESTARTS)
        begun = time.monotonic()
        try:
            deadline = time.monotonic() + 240
            done = 0
            while done < JOBS:
                assert time.monotonic() < deadline, f"{done}/{JOBS} done: {tails()}"
                assert all(w.poll() is None for w in workers), tails()
                done = max(done, count_done(url))
                if restarts and done >= restarts[0] * JOBS:
                    print(f"cut at {time.monotonic() - begun:.1f} s with {done} done")
                    restarts.pop(0)
                    server.stop()
                    time.sleep(DOWN_S)
                    server.start()
                time.sleep(0.3)
        finally:
            for worker in workers:
                worker.terminate()
                worker.wait(timeout=30)
        print(f"all done at {time.monotonic() - begun:.1f} s")
        engine = make_engine(settings.sqlalchemy_url)
        with session_scope(make_session_factory(engine)) as session:
            runs = Counter(session.scalars(select(JobEvent.job_id).where(JobEvent.to_state == "running")))
            states = Counter(session.scalars(select(Job.state)))
            claimed_by = Counter(w.split("@")[0] for w in session.scalars(select(Job.claimed_by)))
            jobs = session.scalar(select(func.count()).select_from(Job))
        engine.dispose()
        assert not restarts, "the server was not restarted"
        assert jobs == JOBS and states == {"done": JOBS}, states
        assert len(runs) == JOBS and set(runs.values()) == {1}, runs.most_common(3)  # each ran once
        assert set(claimed_by) == {"nord", "sud"}
        log = "\n".join(p.read_text() for p in logs.values())
        print(log[-3000:])
        assert "database unavailable" in log  # they did see the outage...
        assert "crashed in the dispatcher" not in log  # ...and rode it out
