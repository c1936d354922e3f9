"""The dispatcher: an asyncio loop inside the service that turns queued jobs into finished parts.

Each tick: look at this site's machines (connecting those not yet reachable), read the queue,
ask the scheduler, claim each assignment in the database (safe with several processes, see
`claims.py`), and hand it to a `JobRunner` task. At start-up, jobs left behind by a crash are
reconciled first (`recovery.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from datetime import datetime
from typing import Any

from sqlalchemy import select

from fablabctl.context import ServiceContext
from fablabctl.db.engine import session_scope
from fablabctl.db.models import Design, DesignFile, Machine, Site
from fablabctl.machines.base import MachineState
from fablabctl.queue import events
from fablabctl.queue.claims import claim, queued_candidates
from fablabctl.queue.links import Links
from fablabctl.queue.recovery import reconcile
from fablabctl.queue.runner import JobRunner
from fablabctl.queue.scheduler import JobTable, MachineSlot, QueuedJob, schedule
from fablabctl.queue.stagger import StaggeredStarts

log = logging.getLogger(__name__)


def worker_name(site: str) -> str:
    return f"{site}@{socket.gethostname()}:{os.getpid()}"


def _size(report: dict[str, object]) -> tuple[float, float, float]:
    metrics = report.get("metrics") if isinstance(report, dict) else None
    size = metrics.get("size_mm") if isinstance(metrics, dict) else None
    if isinstance(size, list) and len(size) >= 2:
        return (float(size[0]), float(size[1]), float(size[2]) if len(size) > 2 else 0.0)
    return (0.0, 0.0, 0.0)


def _epoch(moment: datetime | None) -> float:
    return moment.timestamp() if moment else 0.0


class Dispatcher:
    def __init__(self, context: ServiceContext, *, links: Links | None = None) -> None:
        self.context = context
        self.worker = worker_name(context.settings.site)
        self.links = links or Links(context.settings.sim_speed)
        self.runner = JobRunner(context, StaggeredStarts(context.settings.stagger_start_s))
        self.tasks: dict[int, asyncio.Task[object]] = {}  # job id -> its runner
        self._stop = asyncio.Event()

    async def run(self) -> None:
        for item in await reconcile(self.context, self.links):
            link = self.links.get(item.machine_id)
            if link and link.driver:
                self._spawn(
                    item.job_id, self.runner.follow(item.job_id, item.machine_id, link.driver, start=None)
                )
        while not self._stop.is_set():
            try:
                await self.tick()
            except Exception:  # a bad tick (database hiccup) must not stop the lab: log and go on
                log.exception("dispatcher tick failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.context.settings.dispatch_poll_s)

    async def stop(self) -> None:
        self._stop.set()
        for task in self.tasks.values():
            task.cancel()
        for task in list(self.tasks.values()):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.links.close_all()

    def _spawn(self, job_id: int, work: object) -> None:
        task: asyncio.Task[object] = asyncio.ensure_future(work)  # type: ignore[call-overload]
        self.tasks[job_id] = task
        task.add_done_callback(lambda _done: self.tasks.pop(job_id, None))

    async def _slots(self) -> list[MachineSlot]:
        """This site's machines, each reachable one marked idle when it holds no job."""
        with session_scope(self.context.sessions) as session:
            machines = session.scalars(
                select(Machine)
                .join(Site, Site.id == Machine.site_id)
                .where(Site.name == self.context.settings.site)
            ).all()
            rows = [
                (
                    m.id,
                    m.kind,
                    m.driver,
                    dict(m.connection),
                    m.bed_x_mm,
                    m.bed_y_mm,
                    m.bed_z_mm,
                    m.loaded_material,
                    frozenset(m.materials),
                    m.maintenance,
                    m.current_job_id,
                    m.state,
                )
                for m in machines
            ]
        slots = []
        for (
            mid,
            kind,
            driver_type,
            connection,
            bx,
            by,
            bz,
            loaded,
            accepted,
            maintenance,
            current,
            state,
        ) in rows:
            driver = None if maintenance else await self.links.ensure(mid, driver_type, connection)
            reachable = driver is not None and (await driver.status()).state is MachineState.IDLE
            new_state = (
                "busy"
                if current
                else ("idle" if reachable else ("maintenance" if maintenance else "offline"))
            )
            if new_state != state:
                self._set_machine_state(mid, new_state)
            slots.append(
                MachineSlot(
                    mid, kind, reachable and current is None, (bx, by, bz), loaded, accepted, maintenance
                )
            )
        return slots

    def _set_machine_state(self, machine_id: int, state: str) -> None:
        with session_scope(self.context.sessions) as session:
            machine = session.get(Machine, machine_id)
            if machine is not None:
                machine.state = state
                link = self.links.get(machine_id)
                machine.last_error = link.error if link else None
                events.defer(session, events.MACHINE_STATE, {"machine_id": machine_id, "state": state})

    async def tick(self) -> int:
        """One round of scheduling; returns how many jobs were started."""
        slots = await self._slots()
        if not any(s.idle for s in slots):
            return 0
        started = []
        with session_scope(self.context.sessions) as session:
            candidates = queued_candidates(session)
            if not candidates:
                return 0
            reports: dict[int, dict[str, Any]] = dict(
                session.execute(
                    select(Design.id, DesignFile.report)
                    .join(DesignFile, DesignFile.sha256 == Design.sha256)
                    .where(Design.id.in_({j.design_id for j in candidates}))
                ).all()
            )
            table = JobTable(
                [
                    QueuedJob(
                        j.id,
                        j.kind,
                        j.material,
                        _size(reports.get(j.design_id, {}).get("en", {})),
                        j.priority,
                        j.owner_id,
                        j.cohort_id,
                        _epoch(j.queued_at),
                        j.pinned_machine_id,
                    )
                    for j in candidates
                ]
            )
            for assignment in schedule(table, slots).assignments:
                if claim(
                    session, job_id=assignment.job_id, machine_id=assignment.machine_id, worker=self.worker
                ):
                    started.append(assignment)
        for assignment in started:
            link = self.links.get(assignment.machine_id)
            if link is None or link.driver is None:
                continue
            self._spawn(
                assignment.job_id, self.runner.run(assignment.job_id, assignment.machine_id, link.driver)
            )
        return len(started)
