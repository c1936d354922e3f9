"""The dispatcher: an asyncio loop inside the service that turns queued jobs into finished parts.

Each tick: look at this site's machines (connecting those not yet reachable), read the queue,
ask the scheduler, claim each assignment in the database (safe with several processes, see
`claims.py`), and hand it to a `JobRunner` task that holds the machine's link until the job ends.
At start-up, jobs left behind by a crash are reconciled first; every `WATCHDOG_S` the watchdog
looks for this process's jobs that no task follows any more and settles them (`recovery.py`).

Database work runs in the dispatcher's own worker threads (`db/retry.py`): the loop that follows
the machines never waits on the database, and a busy database delays a tick, never kills a job.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Coroutine
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fablabctl.context import ServiceContext
from fablabctl.db.models import Machine, Site
from fablabctl.db.retry import Transactions, describe, is_transient
from fablabctl.fleet.service import to_spec
from fablabctl.machines.base import Driver, MachineState
from fablabctl.queue import events
from fablabctl.queue.blocked import BlockedWatch, accepted_materials, update_blocked
from fablabctl.queue.claims import claim
from fablabctl.queue.links import Links
from fablabctl.queue.materials import laser_library
from fablabctl.queue.queue_view import QueueView
from fablabctl.queue.recovery import FOLLOWER_LOST, REQUEUED, Reattached, orphans, reconcile, settle
from fablabctl.queue.runner import JobRunner
from fablabctl.queue.scheduler import MachineSlot, schedule
from fablabctl.queue.stagger import StaggeredStarts

log = logging.getLogger(__name__)
WATCHDOG_S = 5.0
DB_WORKERS = 4


def worker_name(site: str) -> str:
    return f"{site}@{socket.gethostname()}:{os.getpid()}"


# ---------------------------------------------------------------------- database steps (worker threads)


def _machines(session: Session, site: str, data_dir: Path | None = None) -> list[tuple[Any, ...]]:
    machines = session.scalars(
        select(Machine).join(Site, Site.id == Machine.site_id).where(Site.name == site).order_by(Machine.id)
    ).all()
    return [
        (
            m.id,
            m.kind,
            m.driver,
            dict(m.connection),
            (m.bed_x_mm, m.bed_y_mm, m.bed_z_mm),
            m.loaded_material,
            accepted_materials(m, laser_library(data_dir)),  # a diode laser never gets clear acrylic
            m.maintenance,
            m.current_job_id,
            m.state,
            to_spec(m),  # its limits: the drivers run its G-code safety policy on every line sent
        )
        for m in machines
    ]


def _set_machine_states(session: Session, changes: list[tuple[int, str, str | None]]) -> None:
    for machine_id, state, error in changes:
        machine = session.get(Machine, machine_id)
        if machine is not None:
            machine.state, machine.last_error = state, error
            data = events.machine_state(machine_id, state, machine.current_job_id)
            events.defer(session, events.MACHINE_STATE, data)


def _claim_round(
    session: Session, slots: list[MachineSlot], worker: str, view: QueueView
) -> list[tuple[int, int]]:
    """Schedule the queue on the idle slots and claim each assignment; (job, machine) claimed.

    The queue comes from `view`, brought up to date with what changed since the last tick."""
    table = view.refresh(session)
    claimed, missed = [], []
    for a in schedule(table, slots, explain=False).assignments:
        if claim(session, job_id=a.job_id, machine_id=a.machine_id, worker=worker):
            claimed.append((a.job_id, a.machine_id))
        else:
            missed.append(a.job_id)
    if missed:  # someone else took it, or our copy of the queue missed a change: look again
        view.recheck(session, missed)
    return claimed


# ---------------------------------------------------------------------- the loop


class Dispatcher:
    def __init__(self, context: ServiceContext, *, links: Links | None = None) -> None:
        self.context = context
        self.worker = worker_name(context.settings.site)
        self.links = links or Links(context.settings.sim_speed)
        sessions = context.worker_sessions or context.sessions  # its own pool under `serve`
        self.db = Transactions(sessions, workers=DB_WORKERS, name="dispatcher-db")
        self.runner = JobRunner(context, StaggeredStarts(context.settings.stagger_start_s), self.db)
        self.queue = QueueView()  # the queued jobs, kept up to date tick after tick
        self.blocked = BlockedWatch()
        self.tasks: dict[int, asyncio.Task[object]] = {}  # job id -> its runner
        self.following: dict[int, tuple[int, Driver]] = {}  # job id -> (machine, the driver it follows)
        self.watchdog_s = WATCHDOG_S
        self._stop = asyncio.Event()
        self.ticks = self.tick_failures = 0  # shown to admins (GET /api/v1/health/pool) and the API bench

    async def run(self) -> None:
        """Until `stop()`: reconcile, then tick every `dispatch_poll_s` and watch every `watchdog_s`."""
        main = asyncio.ensure_future(self._main())
        stopping = asyncio.ensure_future(self._stop.wait())
        try:
            await asyncio.wait({main, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (main, stopping):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _main(self) -> None:
        site = self.context.settings.site
        while True:  # the database may be down when we start: wait for it, do not give up
            try:
                recovered = await reconcile(site=site, links=self.links, db=self.db, worker=self.worker)
                break
            except Exception as exc:
                self._log_failure("start-up recovery", exc)
                await asyncio.sleep(1.0)
        for item in recovered:
            self._follow_again(item)
        last_watch = time.monotonic()
        while True:
            try:
                await self.tick()
                self.ticks += 1
            except Exception as exc:  # a bad tick (database hiccup) must not stop the lab: log and go on
                self.tick_failures += 1
                self._log_failure("dispatcher tick", exc)
            if time.monotonic() - last_watch >= self.watchdog_s:
                last_watch = time.monotonic()
                try:
                    await self.watch()
                except Exception as exc:
                    self._log_failure("watchdog", exc)
            await asyncio.sleep(self.context.settings.dispatch_poll_s)

    @staticmethod
    def _log_failure(what: str, exc: Exception) -> None:
        if is_transient(exc):  # `Transactions` reports the outage itself, once
            log.debug("%s skipped: database unavailable (%s)", what, describe(exc))
        else:
            log.exception("%s failed", what)

    async def stop(self) -> None:
        self._stop.set()
        for task in self.tasks.values():
            task.cancel()
        for task in list(self.tasks.values()):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.links.close_all()
        self.db.close()

    # ------------------------------------------------------------------ runner tasks

    def _spawn(self, job_id: int, machine_id: int, driver: Driver, work: Coroutine[Any, Any, object]) -> None:
        """Run `work` for the job; its runner holds the machine's link until it ends."""
        self.links.hold(machine_id, job_id)
        task: asyncio.Task[object] = asyncio.ensure_future(work)
        self.tasks[job_id], self.following[job_id] = task, (machine_id, driver)

        def ended(done: asyncio.Task[object]) -> None:
            if self.tasks.get(job_id) is done:
                del self.tasks[job_id]
                self.following.pop(job_id, None)
                self.links.release(machine_id, job_id)
            if not done.cancelled() and done.exception() is not None:
                log.error("job %s: its runner ended with an error", job_id, exc_info=done.exception())

        task.add_done_callback(ended)

    def _follow_again(self, item: Reattached) -> None:
        link = self.links.get(item.machine_id)
        if link is not None and link.driver is not None:
            driver = link.driver
            self._spawn(
                item.job_id,
                item.machine_id,
                driver,
                self.runner.follow(item.job_id, item.machine_id, driver, start=None, paused=item.paused),
            )

    async def watch(self) -> int:
        """The watchdog: settle this process's jobs that no live task follows; returns how many."""
        for job_id, (machine_id, driver) in list(self.following.items()):
            link = self.links.get(machine_id)
            if link is None or link.driver is not driver:  # never expected (the link is held): stop it
                log.error(
                    "job %s follows a driver machine %s no longer uses: stopping it", job_id, machine_id
                )
                self.tasks[job_id].cancel()
        left = await orphans(
            site=self.context.settings.site, db=self.db, worker=self.worker, live=set(self.tasks)
        )
        if not left:
            return 0
        log.warning("watchdog: job(s) %s have no runner any more: reconciling", [i.job_id for i in left])
        for item in await settle(
            left,
            links=self.links,
            db=self.db,
            worker=self.worker,
            interrupted_reason=FOLLOWER_LOST,
            requeued_reason=REQUEUED,
        ):
            self._follow_again(item)
        return len(left)

    # ------------------------------------------------------------------ one tick

    async def _slots(self) -> list[MachineSlot]:
        """This site's machines, each reachable one marked idle when it holds no job."""
        rows = await self.db.run(
            partial(_machines, site=self.context.settings.site, data_dir=self.context.settings.data_dir),
            attempts=3,
            what="machines",
        )

        async def reachable(row: tuple[Any, ...]) -> bool:
            mid, _kind, driver_type, connection, *_rest = row
            maintenance = row[7]
            driver = None if maintenance else await self.links.ensure(mid, driver_type, connection, row[10])
            return driver is not None and (await driver.status()).state is MachineState.IDLE

        up = await asyncio.gather(*(reachable(row) for row in rows))
        slots, changes = [], []
        for row, is_up in zip(rows, up, strict=True):
            mid, kind, _driver, _conn, bed, loaded, accepted, maintenance, current, state, _spec = row
            new_state = (
                "busy" if current else ("idle" if is_up else ("maintenance" if maintenance else "offline"))
            )
            if new_state != state:
                link = self.links.get(mid)
                changes.append((mid, new_state, link.error if link else None))
            slots.append(
                MachineSlot(mid, kind, is_up and current is None, bed, loaded, accepted, maintenance)
            )
        if changes:
            try:
                await self.db.run(
                    partial(_set_machine_states, changes=changes), attempts=3, what="machine states"
                )
            except Exception as exc:  # shown state only: the next tick writes it again
                self._log_failure("machine states", exc)
        return slots

    async def tick(self) -> int:
        """One round of scheduling; returns how many jobs were started."""
        slots = await self._slots()
        if self.blocked.due():  # why queued jobs cannot run on any machine (blocked.py)
            try:
                data_dir = self.context.settings.data_dir
                await self.db.run(partial(update_blocked, data_dir=data_dir), attempts=3, what="blocked jobs")
            except Exception as exc:  # said again at the next round
                self._log_failure("blocked jobs", exc)
        if not any(s.idle for s in slots):
            return 0
        try:
            started = await self.db.run(
                partial(_claim_round, slots=slots, worker=self.worker, view=self.queue),
                attempts=3,
                what="claim",
            )
        except BaseException:
            self.queue.forget()  # whatever happened, read the whole queue again next time
            raise
        for job_id, machine_id in started:
            link = self.links.get(machine_id)
            if link is None or link.driver is None:
                continue  # claimed but unreachable since: the watchdog puts it back in the queue
            driver = link.driver
            self._spawn(job_id, machine_id, driver, self.runner.run(job_id, machine_id, driver))
        return len(started)
