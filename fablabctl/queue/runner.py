"""One job on one machine, from claimed to finished: prepare, confirm, start, follow, record.

The job's state is committed before every driver call, so a crash at any point leaves a state the
next start-up can reconcile (see `recovery.py`): nothing is lost, nothing runs twice. Every
database step runs in a worker thread and a state change that cannot be written yet is retried
(`steps.py`): the event loop never waits on the database, and a busy database delays a job, it
never abandons it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
import unicodedata
from functools import partial
from pathlib import Path

from sqlalchemy.orm import Session

from fablabctl.context import ServiceContext
from fablabctl.db.models import Design, Job, Machine
from fablabctl.db.retry import Transactions
from fablabctl.designs.service import design_path
from fablabctl.fleet.service import to_spec
from fablabctl.i18n import Text
from fablabctl.machines.base import Driver
from fablabctl.queue import events
from fablabctl.queue.follow import ACTION_POLL_S, Follower
from fablabctl.queue.reasons import Reason
from fablabctl.queue.stagger import StaggeredStarts
from fablabctl.queue.states import JobState
from fablabctl.queue.steps import JobSteps, Outcome
from fablabctl.specs import MachineSpec
from fablabctl.toolpath.prepare import prepare_design
from fablabctl.toolpath.result import ToolpathError

log = logging.getLogger(__name__)
CANCELLED_BEFORE_START = Reason("CANCELLED_BEFORE_START")
__all__ = ["JobRunner", "Outcome"]


def internal_error(exc: BaseException) -> Reason:
    """The job's failure reason for a fault of ours: says what kind, never the exception's text."""
    return Reason("INTERNAL_ERROR", {"kind": type(exc).__name__})


def job_file_name(job_id: int, design_filename: str, suffix: str) -> str:
    """`job-42-nichoir-facade.gcode`: what an operator reads in OctoPrint's file list (safe ASCII)."""
    stem = Path(design_filename).stem
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_stem.lower()).strip("-")[:40].strip("-")
    return f"job-{job_id}-{slug}{suffix}" if slug else f"job-{job_id}{suffix}"


def named_copy(prepared: Path, folder: Path, name: str) -> Path:
    """The prepared G-code under the job's own name (a hard link when it can: no second copy)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    target.unlink(missing_ok=True)
    try:
        os.link(prepared, target)
    except OSError:
        shutil.copyfile(prepared, target)
    return target


def forget_named_copies(folder: Path, job_id: int) -> None:
    """Remove the job's named G-code once it has ended: its name carries the design's file name, and
    nothing reads it again (a re-print prepares anew from the content-addressed cache)."""
    for path in folder.glob(f"job-{job_id}[-.]*"):
        path.unlink(missing_ok=True)


def _inputs(
    session: Session, job_id: int, machine_id: int, designs_dir: Path
) -> tuple[Path, MachineSpec, str, str]:
    job = session.get(Job, job_id)
    machine = session.get(Machine, machine_id)
    assert job is not None and machine is not None
    design = session.get(Design, job.design_id)
    assert design is not None
    return design_path(designs_dir, design), to_spec(machine), job.material, design.filename


def _prepared(
    session: Session, job_id: int, gcode: str, estimates: dict[str, object], settings: dict[str, object]
) -> None:
    job = session.get(Job, job_id)
    assert job is not None
    job.gcode_path, job.estimates, job.settings = gcode, estimates, settings


def _prompt_data(session: Session, job_id: int, machine_id: int) -> tuple[bool, str, int]:
    machine = session.get(Machine, machine_id)
    job = session.get(Job, job_id)
    assert machine is not None and job is not None
    return machine.confirm_before_start, machine.name, job.owner_id


class JobRunner:
    def __init__(
        self, context: ServiceContext, stagger: StaggeredStarts, db: Transactions | None = None
    ) -> None:
        self.context, self.stagger = context, stagger
        self.db = db or Transactions(context.sessions)
        self.steps = JobSteps(self.db)
        self.follower = Follower(context, self.steps)

    async def run(self, job_id: int, machine_id: int, driver: Driver) -> Outcome:
        outcome = await self._run(job_id, machine_id, driver)  # a shutdown (CancelledError) keeps the copy
        await asyncio.to_thread(forget_named_copies, self.context.settings.cache_dir / "jobs", job_id)
        return outcome

    async def _run(self, job_id: int, machine_id: int, driver: Driver) -> Outcome:
        try:
            prepared = await self._prepare(job_id, machine_id)
            if prepared is None:
                return Outcome(JobState.FAILED)
            if not await self._confirmed(job_id, machine_id):
                return await self._cancelled_before_start(job_id, machine_id)
            await self.stagger.turn()
            if await self.steps.requested(job_id) == "cancel":
                return await self._cancelled_before_start(job_id, machine_id)
            await self.steps.move(job_id, JobState.RUNNING, requested_action=None)  # before the machine moves
            return await self.follow(job_id, machine_id, driver, start=prepared)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # whatever breaks, the job must not stay claimed: fail it with the cause
            log.exception("job %s crashed in the dispatcher", job_id)
            outcome = Outcome(JobState.FAILED, internal_error(exc))
            try:
                await self.steps.finish(job_id, machine_id, outcome, 0.0)
            except Exception:
                log.exception(
                    "job %s: the failure could not be recorded; the watchdog will settle it", job_id
                )
            return outcome

    async def follow(
        self, job_id: int, machine_id: int, driver: Driver, *, start: Path | None, paused: bool = False
    ) -> Outcome:
        outcome = await self.follower.follow(job_id, machine_id, driver, start=start, paused=paused)
        await asyncio.to_thread(forget_named_copies, self.context.settings.cache_dir / "jobs", job_id)
        return outcome

    async def _cancelled_before_start(self, job_id: int, machine_id: int) -> Outcome:
        outcome = Outcome(JobState.CANCELLED, CANCELLED_BEFORE_START)
        await self.steps.finish(job_id, machine_id, outcome, 0.0)
        return outcome

    async def _prepare(self, job_id: int, machine_id: int) -> Path | None:
        settings = self.context.settings
        source, spec, material, filename = await self.db.run(
            partial(_inputs, job_id=job_id, machine_id=machine_id, designs_dir=settings.designs_dir),
            attempts=None,
            what=f"job {job_id} inputs",
        )
        try:
            result = await asyncio.to_thread(
                prepare_design,
                source,
                machine=spec,
                material=material,
                cache_dir=settings.cache_dir,
                copies=1,
                slicer_timeout_s=settings.slicer_timeout_s,
                data_dir=settings.data_dir,
                limits=self.context.limits,
            )
        except ToolpathError as exc:
            outcome = Outcome(JobState.FAILED, Reason.message(exc.code, Text(exc.message_fr, exc.message_en)))
            await self.steps.finish(job_id, machine_id, outcome, 0.0)
            return None
        gcode = await asyncio.to_thread(
            named_copy,
            result.gcode_path,
            settings.cache_dir / "jobs",
            job_file_name(job_id, filename, result.gcode_path.suffix or ".gcode"),
        )
        await self.db.run(
            partial(
                _prepared,
                job_id=job_id,
                gcode=str(gcode),
                estimates=dict(result.estimates),
                settings={**result.settings, "machine": spec.name},
            ),
            attempts=None,
            what=f"job {job_id} prepared",
        )
        return gcode

    async def _confirmed(self, job_id: int, machine_id: int) -> bool:
        ask, name, owner = await self.db.run(
            partial(_prompt_data, job_id=job_id, machine_id=machine_id), attempts=None, what=f"job {job_id}"
        )
        if not ask:
            return True
        await self.steps.move(job_id, JobState.WAITING_OPERATOR)
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
            action = await self.steps.requested(job_id)
            if action == "confirm":  # cleared with the move to running, in one transaction
                return True
            if action == "cancel":
                return False
            await asyncio.sleep(ACTION_POLL_S)
