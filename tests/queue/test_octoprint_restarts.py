"""The real OctoPrint server stopped at random points of a print, again and again, under a dispatcher.

Each cycle: a job starts on an OctoPrint printer; at a random moment (seeded) OctoPrint is killed
or stopped, stays down a random while, and starts again. Every job must end `done` or `failed`
with the cause named, the machine must be free again, and the next job must start; the last job,
with no outage, must print to the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from fablabctl.db.engine import session_scope
from fablabctl.db.models import JobEvent, Machine
from fablabctl.queue.dispatcher import Dispatcher
from fablabctl.queue.events import JOB_STATE, Event
from tests.machines.octoprint_server import OctoPrintServer
from tests.queue.conftest import Lab

SEED = 20261201
CYCLES = 5
SETTLE_S = 60.0  # from OctoPrint back to the job ended (the driver polls every second)


@pytest.fixture
def database_url(tmp_path: Path) -> str:  # SQLite only: this test is about OctoPrint, not the database
    return f"sqlite:///{tmp_path / 'test.db'}"


def long_print(path: Path, moves: int) -> Path:
    body = "\n".join(f"G1 X{10 + (i % 2) * 0.05:.2f} Y10 F6000" for i in range(moves))
    path.write_text("G90\n" + body + "\n")
    return path


def outage(server: OctoPrintServer, rng: random.Random) -> str:
    """Kill or stop OctoPrint, keep it down a little, start it again; say what was done."""
    assert server.process is not None
    how = rng.choice(["kill", "kill", "stop"])
    if how == "kill":
        server.process.kill()
        server.process.wait(timeout=10)
        server.process = None
    else:
        server.stop()
    down = rng.uniform(0.2, 2.0)
    time.sleep(down)
    server.start()
    return f"{how}, down {down:.1f} s"


@pytest.mark.slow
def test_octoprint_stopped_at_random_points_of_prints(
    lab: Lab, octoprint: OctoPrintServer, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    machine_id = lab.machine(
        "octo-1",
        driver="octoprint",
        connection={"url": octoprint.url, "api_key": octoprint.api_key, "port": "VIRTUAL"},
    )
    dispatcher = Dispatcher(lab.context)
    log: list[str] = []

    def state(job_id: int) -> tuple[str, str | None]:
        job = lab.job(job_id)
        return job.state, job.reason

    def machine_free() -> bool:
        with session_scope(lab.context.sessions) as session:
            machine = session.get(Machine, machine_id)
            assert machine is not None
            return machine.current_job_id is None

    async def until(check: object, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not await asyncio.to_thread(check):  # type: ignore[arg-type]
            assert time.monotonic() < deadline, f"{what} not reached in {timeout:.0f} s: {log}"
            await asyncio.sleep(0.2)

    async def cycle(n: int, with_outage: bool) -> str:
        path = long_print(tmp_path / f"part-{n}.gcode", rng.choice([2000, 6000, 12000]))
        job_id = await asyncio.to_thread(lab.submit, "lea", path, kind="printer")
        await asyncio.to_thread(lab.approve, job_id)
        await until(lambda: state(job_id)[0] in ("running", "done", "failed"), 60, f"job {n} running")
        if with_outage:
            await asyncio.sleep(rng.uniform(0.0, 3.5))  # anywhere: upload, mid-print, or after the end
            log.append(f"job {job_id}: {await asyncio.to_thread(outage, octoprint, rng)}")
        await until(lambda: state(job_id)[0] in ("done", "failed", "cancelled"), SETTLE_S, f"job {n} ended")
        end, reason = state(job_id)
        log.append(f"job {job_id}: {end} ({reason})")
        assert end in ("done", "failed"), log
        if end == "failed":
            assert reason and "OctoPrint" in reason, log
            assert "erreur interne" not in reason and "client has been closed" not in reason, log
        await until(machine_free, 10, f"machine free after job {n}")
        return end

    async def main() -> list[str]:
        task = asyncio.create_task(dispatcher.run())
        try:
            ends = [await cycle(n, with_outage=True) for n in range(CYCLES)]
            ends.append(await cycle(CYCLES, with_outage=False))  # and the lab goes on as usual
            assert not task.done(), task
            return ends
        finally:
            await dispatcher.stop()
            task.cancel()

    ends = asyncio.run(asyncio.wait_for(main(), CYCLES * 90 + 120))
    print("\n".join(log))  # shown with -s: what each outage did to its job
    assert ends[-1] == "done", log
    assert "failed" in ends[:-1], log  # the seed makes at least one outage land mid-print


def test_our_restart_reattaches_to_the_print_octoprint_kept_running(
    lab: Lab, octoprint: OctoPrintServer, tmp_path: Path
) -> None:
    lab.machine(
        "octo-2",
        driver="octoprint",
        connection={"url": octoprint.url, "api_key": octoprint.api_key, "port": "VIRTUAL"},
    )
    slow = tmp_path / "kept.gcode"  # dwells: ~30 s whatever the load, so it outlives our restart
    slow.write_text("G90\n" + "".join(f"G4 P200\nG1 X{10 + i % 2} Y10 F6000\n" for i in range(150)))
    job_id = lab.submit("lea", slow, kind="printer")
    lab.approve(job_id)

    def octoprint_printing() -> bool:
        """OctoPrint itself is printing: the job is `running` in our database *before* the upload and
        the start command reach OctoPrint, and stopping our service in between rightly interrupts it."""
        answer = httpx.get(f"{octoprint.url}/api/job", headers={"X-Api-Key": octoprint.api_key}, timeout=5)
        return answer.status_code == 200 and answer.json().get("state") == "Printing"

    heard: list[Event] = []

    async def our_life(until_state: tuple[str, ...], timeout: float, *, printing: bool = False) -> None:
        dispatcher = Dispatcher(lab.context)
        async with lab.context.bus.subscribe() as sub:
            task = asyncio.create_task(dispatcher.run())
            try:
                deadline = time.monotonic() + timeout
                while (await asyncio.to_thread(lab.job, job_id)).state not in until_state or (
                    printing and not await asyncio.to_thread(octoprint_printing)
                ):
                    assert time.monotonic() < deadline, lab.snapshot()
                    with contextlib.suppress(TimeoutError):
                        heard.append(await asyncio.wait_for(sub.get(), 0.2))
            finally:
                await dispatcher.stop()  # our service stops mid-print; OctoPrint goes on printing
                task.cancel()
            while not sub.queue.empty():
                heard.append(sub.queue.get_nowait())

    asyncio.run(our_life(("running",), 60, printing=True))
    files = httpx.get(f"{octoprint.url}/api/files/local", headers={"X-Api-Key": octoprint.api_key}, timeout=5)
    assert f"job-{job_id}-kept.gcode" in {f["name"] for f in files.json()["files"]}  # not a hash only
    time.sleep(1.0)
    asyncio.run(our_life(("done", "failed", "cancelled", "interrupted"), 90))
    job = lab.job(job_id)
    assert job.state == "done", (job.state, job.reason)
    with session_scope(lab.context.sessions) as session:
        moves = session.execute(
            select(JobEvent.from_state, JobEvent.to_state, JobEvent.reason_code).where(
                JobEvent.job_id == job_id
            )
        ).all()
    assert [m for m in moves if m.to_state == "running" and m.from_state != "running"] == [
        ("preparing", "running", None)
    ]  # followed again, not started again
    assert (
        "running",
        "running",
        "REATTACHED",
    ) in moves  # the history says a restart and a re-attach happened
    assert any(
        e.name == JOB_STATE and e.data["job_id"] == job_id and e.data.get("reason_code") == "REATTACHED"
        for e in heard
    ), [e.data for e in heard if e.name == JOB_STATE]
    # the machine time is the whole print, not only the part after our restart
    assert job.running_at is not None and job.finished_at is not None
    whole = (job.finished_at - job.running_at).total_seconds()
    assert job.machine_seconds >= 0.9 * whole, (job.machine_seconds, whole)
