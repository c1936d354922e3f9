"""The dispatcher against a busy database and a runner that dies: retries, the watchdog, no stuck job.

Real SQLite locks (another connection holding the write lock past a short busy timeout), real
simulated printers; each test bounded in time.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, select, text
from sqlalchemy.exc import OperationalError

from fablabctl.db.engine import make_engine, make_session_factory, session_scope
from fablabctl.db.models import JobEvent, Machine
from fablabctl.db.retry import Transactions, is_transient
from fablabctl.machines.base import MachineState
from fablabctl.queue.dispatcher import Dispatcher
from fablabctl.queue.recovery import FOLLOWER_LOST
from tests.queue.conftest import Lab, gcode


def short_busy_timeout(engine: Engine, ms: int = 50) -> None:
    """Make "database is locked" come fast instead of after the service's 30 s."""

    @event.listens_for(engine, "connect")
    def _busy(dbapi_conn: object, _record: object) -> None:
        dbapi_conn.execute(f"PRAGMA busy_timeout={ms}")  # type: ignore[attr-defined]

    engine.dispose()  # connections opened before now keep their timeout: drop them


def hold_write_lock(database: Path, seconds: float, held: threading.Event | None = None) -> None:
    connection = sqlite3.connect(database, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        if held is not None:
            held.set()
        time.sleep(seconds)
        connection.execute("ROLLBACK")
    finally:
        connection.close()


def sqlite_file(engine: Engine) -> Path:
    assert engine.url.database
    return Path(engine.url.database)


def test_a_transaction_waits_out_a_held_lock_without_blocking_the_loop(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'locks.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (v INTEGER)"))
    short_busy_timeout(engine)
    db = Transactions(make_session_factory(engine), workers=2)

    def write(session: object) -> int:
        session.execute(text("INSERT INTO t VALUES (1)"))  # type: ignore[attr-defined]
        return 1

    async def scenario() -> tuple[int, float]:
        held = threading.Event()
        holder = threading.Thread(target=hold_write_lock, args=(sqlite_file(engine), 1.8, held))
        holder.start()
        assert await asyncio.to_thread(held.wait, 10)
        with pytest.raises(OperationalError) as info:  # bounded attempts: the error comes back
            await db.run(write, attempts=2)
        assert is_transient(info.value) and "locked" in str(info.value)
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.05)
                ticks += 1

        beat = asyncio.create_task(ticker())
        started = time.monotonic()
        written = await asyncio.wait_for(db.run(write, attempts=None), 10)  # retried until it goes through
        waited = time.monotonic() - started
        beat.cancel()
        holder.join()
        assert ticks >= waited / 0.05 * 0.5, (ticks, waited)  # the loop kept turning meanwhile
        return written, waited

    written, waited = asyncio.run(scenario())
    assert written == 1 and waited > 0.3
    assert db.outages == 1 and db.retries >= 3  # one outage (over 1 s), logged once, many retries
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 1
    db.close()
    engine.dispose()


def run_with(lab: Lab, scenario: Callable[[Dispatcher], Awaitable[None]], timeout: float = 60) -> Dispatcher:
    dispatcher = Dispatcher(lab.context)
    dispatcher.watchdog_s = 0.5

    async def main() -> None:
        task = asyncio.create_task(dispatcher.run())
        try:
            await asyncio.wait_for(scenario(dispatcher), timeout)
            assert not task.done(), task
        finally:
            await dispatcher.stop()
            task.cancel()

    asyncio.run(main())
    return dispatcher


async def until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(check):
        assert time.monotonic() < deadline, f"{what}: not reached in {timeout:.0f} s"
        await asyncio.sleep(0.1)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_watchdog_reattaches_or_interrupts_a_job_whose_runner_died(lab: Lab, tmp_path: Path) -> None:
    machine = lab.machine("orphan-maker")
    # long enough to be still printing when the watchdog looks, even on a loaded machine (at 1500 lines
    # the print could end first under load: the job was then rightly interrupted, not re-attached)
    still_printing = lab.submit("lea", gcode(tmp_path / "a.gcode", 8000), kind="printer")
    stopped = lab.submit("lea", gcode(tmp_path / "b.gcode", 20000), kind="printer")
    lab.approve(still_printing)

    async def scenario(dispatcher: Dispatcher) -> None:
        await until(lambda: lab.job(still_printing).state == "running", 30, "first job running")
        await asyncio.sleep(0.3)
        dispatcher.tasks[still_printing].cancel()  # the runner is gone; the printer goes on streaming
        await until(lambda: lab.job(still_printing).state == "done", 60, "re-attached job done")
        lab.approve(stopped)
        await until(lambda: lab.job(stopped).state == "running", 30, "second job running")
        await asyncio.sleep(0.3)
        dispatcher.watchdog_s = 3600.0  # (hold the watchdog while the scene is set)
        dispatcher.tasks[stopped].cancel()  # the runner is gone...
        link = dispatcher.links.get(machine)
        assert link is not None and link.driver is not None
        driver = link.driver
        await driver.cancel()  # ...and so is the print
        for _ in range(100):
            if (await driver.status()).state is MachineState.IDLE:
                break
            await asyncio.sleep(0.1)
        dispatcher.watchdog_s = 0.5
        await until(lambda: lab.job(stopped).state == "interrupted", 30, "orphan interrupted")

    run_with(lab, scenario)
    assert lab.job(stopped).reason_code == FOLLOWER_LOST.code
    with session_scope(lab.context.sessions) as session:
        runs = list(
            session.scalars(
                select(JobEvent.job_id).where(
                    JobEvent.to_state == "running",
                    JobEvent.from_state != "running",  # not the "followed again" note
                    JobEvent.job_id == still_printing,
                )
            )
        )
        row = session.get(Machine, machine)
        assert row is not None and row.current_job_id is None
    assert len(runs) == 1  # followed again, never started again
    with session_scope(lab.context.sessions) as session:
        notes = session.scalars(select(JobEvent.reason_code).where(JobEvent.job_id == still_printing)).all()
    assert "FOLLOWED_AGAIN" in notes  # and its history says so


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_locked_database_delays_jobs_but_never_fails_them(
    lab: Lab, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lab.machine("lock-a")
    lab.machine("lock-b")
    finishes = lab.submit("lea", gcode(tmp_path / "f.gcode", 4000), kind="printer")  # prints under the lock
    cancelled = lab.submit("sam", gcode(tmp_path / "c.gcode", 40000), kind="printer")
    lab.approve(finishes)
    lab.approve(cancelled)
    short_busy_timeout(lab.context.engine)
    database, holds = sqlite_file(lab.context.engine), []
    stop = threading.Event()

    def holder() -> None:  # 1 s of every 1.6 s, the write lock belongs to someone else
        while not stop.is_set():
            holds.append(1)
            hold_write_lock(database, 1.0)
            stop.wait(0.6)

    def call_until_accepted(path: str) -> None:
        for _ in range(100):
            response = lab.client.post(f"/api/v1{path}", headers=lab.auth("trainer"), json={"reason": "test"})
            if response.status_code < 300:
                return
            time.sleep(0.1)
        raise AssertionError(f"{path} never accepted")

    async def scenario(_dispatcher: Dispatcher) -> None:
        await until(lambda: lab.job(cancelled).state == "running", 60, "jobs running")
        thread = threading.Thread(target=holder)
        thread.start()
        try:
            await asyncio.sleep(1.0)
            asked = time.monotonic()
            await asyncio.to_thread(call_until_accepted, f"/jobs/{cancelled}/cancel")
            await until(lambda: lab.job(cancelled).state == "cancelled", 20, "cancel under a held lock")
            assert time.monotonic() - asked < 15
            await until(lambda: lab.job(finishes).state == "done", 60, "the other job done")
        finally:
            stop.set()
            await asyncio.to_thread(thread.join)

    with caplog.at_level(logging.WARNING, logger="fablabctl"):
        dispatcher = run_with(lab, scenario, timeout=120)
    assert len(holds) >= 1
    assert lab.job(cancelled).reason == "test"
    errors = [
        r for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith("fablabctl.queue")
    ]
    assert not errors, [r.getMessage() for r in errors]
    assert dispatcher.db.retries > 0  # it did meet the lock, and went through
