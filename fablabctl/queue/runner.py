"""One job on one machine, from claimed to finished: prepare, confirm, start, follow, record.

The job's state is committed before every driver call, so a crash at any point leaves a state the
next start-up can reconcile (see `recovery.py`): nothing is lost, nothing runs twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from fablabctl.clock import utc_now
from fablabctl.context import ServiceContext
from fablabctl.db.engine import session_scope
from fablabctl.db.models import Design, Job, Machine
from fablabctl.designs.service import design_path
from fablabctl.fleet.service import to_spec
from fablabctl.machines.base import TERMINAL_EVENTS, Driver, EventKind, MachineError, MachineEvent
from fablabctl.queue import events
from fablabctl.queue.claims import release_machine
from fablabctl.queue.jobs import transition
from fablabctl.queue.stagger import StaggeredStarts
from fablabctl.queue.states import JobState
from fablabctl.toolpath.prepare import prepare_design
from fablabctl.toolpath.result import ToolpathError

log = logging.getLogger(__name__)
ACTION_POLL_S = 0.5
PROGRESS_EVERY_S = 1.0


@dataclass
class Outcome:
    state: JobState
    reason: str | None = None


class JobRunner:
    def __init__(self, context: ServiceContext, stagger: StaggeredStarts) -> None:
        self.context, self.stagger = context, stagger

    # ------------------------------------------------------------------ database steps

    def _move(self, job_id: int, to: JobState, reason: str | None = None, **fields: object) -> Job:
        with session_scope(self.context.sessions) as session:
            job = session.get(Job, job_id)
            assert job is not None
            for name, value in fields.items():
                setattr(job, name, value)
            transition(session, job, to, actor=None, reason=reason)
            return job

    def _requested(self, job_id: int) -> str | None:
        with session_scope(self.context.sessions) as session:
            return session.scalar(select(Job.requested_action).where(Job.id == job_id))

    def _clear_request(self, job_id: int) -> None:
        with session_scope(self.context.sessions) as session:
            job = session.get(Job, job_id)
            if job is not None:
                job.requested_action = None

    def _finish(self, job_id: int, machine_id: int, outcome: Outcome, machine_seconds: float) -> None:
        with session_scope(self.context.sessions) as session:
            job = session.get(Job, job_id)
            machine = session.get(Machine, machine_id)
            assert job is not None and machine is not None
            job.machine_seconds = round(job.machine_seconds + machine_seconds, 1)
            job.requested_action = None
            if outcome.state is JobState.DONE:
                job.progress = 1.0
            transition(session, job, outcome.state, actor=None, reason=outcome.reason)
            machine.run_seconds += machine_seconds
            if outcome.state is JobState.DONE:
                machine.jobs_done += 1
            elif outcome.state is JobState.FAILED:
                machine.jobs_failed += 1
            release_machine(session, machine_id, job_id)
            events.defer(session, events.MACHINE_STATE, {"machine_id": machine_id, "job_id": None})

    # ------------------------------------------------------------------ the job

    async def run(self, job_id: int, machine_id: int, driver: Driver) -> Outcome:
        try:
            prepared = await self._prepare(job_id, machine_id)
            if prepared is None:
                return Outcome(JobState.FAILED)
            if not await self._confirmed(job_id, machine_id):
                self._finish(job_id, machine_id, Outcome(JobState.CANCELLED, "annulé avant le départ"), 0.0)
                return Outcome(JobState.CANCELLED)
            await self.stagger.turn()
            if self._requested(job_id) == "cancel":
                self._finish(job_id, machine_id, Outcome(JobState.CANCELLED, "annulé avant le départ"), 0.0)
                return Outcome(JobState.CANCELLED)
            self._move(job_id, JobState.RUNNING, requested_action=None)  # committed before the machine moves
            return await self.follow(job_id, machine_id, driver, start=prepared)
        except Exception as exc:  # whatever breaks, the job must not stay claimed: fail it with the cause
            log.exception("job %s crashed in the dispatcher", job_id)
            with contextlib.suppress(Exception):
                self._finish(job_id, machine_id, Outcome(JobState.FAILED, f"erreur interne : {exc}"), 0.0)
            return Outcome(JobState.FAILED, str(exc))

    async def _prepare(self, job_id: int, machine_id: int) -> Path | None:
        settings = self.context.settings
        with session_scope(self.context.sessions) as session:
            job = session.get(Job, job_id)
            machine = session.get(Machine, machine_id)
            assert job is not None and machine is not None
            design = session.get(Design, job.design_id)
            assert design is not None
            source, spec, material, copies = (
                design_path(settings.designs_dir, design),
                to_spec(machine),
                job.material,
                1,
            )
        try:
            result = await asyncio.to_thread(
                prepare_design,
                source,
                machine=spec,
                material=material,
                cache_dir=settings.cache_dir,
                copies=copies,
                slicer_timeout_s=settings.slicer_timeout_s,
                data_dir=settings.data_dir,
                limits=self.context.limits,
            )
        except ToolpathError as exc:
            self._finish(
                job_id, machine_id, Outcome(JobState.FAILED, f"{exc.message_fr} / {exc.message_en}"), 0.0
            )
            return None
        with session_scope(self.context.sessions) as session:
            job = session.get(Job, job_id)
            assert job is not None
            job.gcode_path, job.estimates = str(result.gcode_path), dict(result.estimates)
            job.settings = {**result.settings, "machine": spec.name}
        return result.gcode_path

    async def _confirmed(self, job_id: int, machine_id: int) -> bool:
        with session_scope(self.context.sessions) as session:
            machine = session.get(Machine, machine_id)
            job = session.get(Job, job_id)
            assert machine is not None and job is not None
            ask, name, owner = machine.confirm_before_start, machine.name, job.owner_id
        if not ask:
            return True
        self._move(job_id, JobState.WAITING_OPERATOR)
        self.context.bus.publish(
            events.OPERATOR_PROMPT,
            {
                "job_id": job_id,
                "machine_id": machine_id,
                "machine": name,
                "question_fr": f"{name} : plateau dégagé / plaque en place ? "
                f"Confirmez pour lancer le travail {job_id}.",
                "question_en": f"{name}: bed clear / sheet in place? Confirm to start job {job_id}.",
            },
            owner_id=owner,
        )
        while True:
            action = self._requested(job_id)
            if action == "confirm":
                self._clear_request(job_id)
                return True
            if action == "cancel":
                return False
            await asyncio.sleep(ACTION_POLL_S)

    async def follow(self, job_id: int, machine_id: int, driver: Driver, *, start: Path | None) -> Outcome:
        """Start (or, after a restart, re-attach to) the job and record what happens until it ends."""
        running_since = time.monotonic()
        machine_seconds = 0.0
        paused_at: float | None = None
        last_progress = 0.0
        async with driver.subscribe() as stream:
            if start is not None:
                try:
                    await driver.start(start)
                except MachineError as exc:
                    outcome = Outcome(JobState.FAILED, f"{exc.message.fr} / {exc.message.en}")
                    self._finish(job_id, machine_id, outcome, 0.0)
                    return outcome
            iterator = aiter(stream)
            pending: asyncio.Future[MachineEvent] = asyncio.ensure_future(anext(iterator))
            while True:
                done, _ = await asyncio.wait({pending}, timeout=ACTION_POLL_S)
                if not done:
                    paused_at = await self._obey(job_id, driver, paused_at)
                    continue
                event = pending.result()
                if event.kind in TERMINAL_EVENTS:
                    break
                pending = asyncio.ensure_future(anext(iterator))
                last_progress = self._on_event(job_id, machine_id, event, last_progress)
        machine_seconds = time.monotonic() - running_since
        outcome = {
            EventKind.JOB_DONE: Outcome(JobState.DONE),
            EventKind.JOB_CANCELLED: Outcome(JobState.CANCELLED, self._cancel_reason(job_id)),
        }.get(
            event.kind,
            Outcome(JobState.FAILED, f"{event.data.get('reason_fr', '')} / {event.data.get('reason', '')}"),
        )
        self._finish(job_id, machine_id, outcome, machine_seconds)
        return outcome

    def _cancel_reason(self, job_id: int) -> str | None:
        with session_scope(self.context.sessions) as session:
            return session.scalar(select(Job.reason).where(Job.id == job_id))

    async def _obey(self, job_id: int, driver: Driver, paused_at: float | None) -> float | None:
        """Carry out what staff asked through the API (pause, resume, cancel), then record the new state."""
        action = self._requested(job_id)
        if action is None:
            return paused_at
        try:
            if action == "pause" and paused_at is None:
                await driver.pause()
                self._move(job_id, JobState.PAUSED, requested_action=None)
                return time.monotonic()
            if action == "resume" and paused_at is not None:
                await driver.resume()
                self._move(job_id, JobState.RUNNING, requested_action=None)
                return None
            if action == "cancel":
                self._clear_request(job_id)
                await driver.cancel()  # the driver's job_cancelled event ends the follow loop
                return paused_at
        except MachineError as exc:
            log.warning("job %s: %s refused: %s", job_id, action, exc.message.en)
        self._clear_request(job_id)
        return paused_at

    def _on_event(self, job_id: int, machine_id: int, event: MachineEvent, last_progress: float) -> float:
        bus = self.context.bus
        if event.kind is EventKind.PROGRESS and time.monotonic() - last_progress >= PROGRESS_EVERY_S:
            total = event.data.get("total") or 0
            progress = round(event.data.get("done", 0) / total, 4) if total else 0.0
            with session_scope(self.context.sessions) as session:
                job = session.get(Job, job_id)
                if job is not None:
                    job.progress = progress
                    job.updated_at = utc_now()
                    events.defer(
                        session,
                        events.JOB_PROGRESS,
                        {"job_id": job_id, "progress": progress},
                        owner_id=job.owner_id,
                    )
            return time.monotonic()
        if event.kind is EventKind.TEMPERATURE:
            bus.publish(events.MACHINE_TEMPERATURES, {"machine_id": machine_id, **event.data})
        elif event.kind is EventKind.STATE:
            bus.publish(events.MACHINE_STATE, {"machine_id": machine_id, "state": event.data.get("state")})
        elif event.kind in (EventKind.MESSAGE, EventKind.ERROR):
            bus.publish(events.MACHINE_MESSAGE, {"machine_id": machine_id, **event.data})
        return last_progress
