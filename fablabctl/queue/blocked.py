"""Queued jobs that no machine of the site can take, and why: told on the job, in lists and live.

Every few seconds the dispatcher asks the scheduler itself (`schedule`, with every machine of
every site seen as busy, so it only explains) why each queued job waits. The reasons that a free
machine would not cure — no machine of that kind, too large for all of them, a material none
accepts, all of them under maintenance, a pinned machine gone, a laser source the site lacks —
are written on the job as a coded reason (`reasons.py`) and announced as `notify_job_blocked`;
when machines change and the job can run again, the reason is cleared and announced the same way.
A job only waiting for a busy machine is not blocked.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fablabctl.db.models import Design, DesignFile, Job, Machine
from fablabctl.queue import events, reasons, scheduler
from fablabctl.queue.materials import laser_library, needed_source
from fablabctl.queue.reasons import Reason
from fablabctl.queue.scheduler import JobTable, MachineSlot, QueuedJob, schedule
from fablabctl.queue.states import JobState
from fablabctl.toolpath.materials import Material

log = logging.getLogger(__name__)
EVERY_S = 2.0


def co2_only(library: dict[str, Material]) -> frozenset[str]:
    return frozenset(key for key, entry in library.items() if "diode" not in entry.sources)


def accepted_materials(machine: Machine, library: dict[str, Material]) -> frozenset[str]:
    """What the scheduler may give this machine: its own list, less what its laser source cannot cut
    (a diode laser never gets clear acrylic, whatever its list says)."""
    accepted = frozenset(machine.materials)
    if machine.kind != "laser" or machine.laser_source == "co2":
        return accepted
    return (accepted or frozenset(library)) - co2_only(library)


def queued_job(job: Any, size: tuple[float, float, float]) -> QueuedJob:
    """The scheduler's view of a queued job (an ORM `Job` or a row with the same columns)."""
    return QueuedJob(
        job.id,
        job.kind,
        job.material,
        size,
        job.priority,
        job.owner_id,
        job.cohort_id,
        job.queued_at.timestamp() if job.queued_at else 0.0,
        job.pinned_machine_id,
    )


def size_from_report(report: Any) -> tuple[float, float, float]:
    """The part's size as its validation report gives it (zero when the report has none)."""
    return _size(report)


def _size(report: Any) -> tuple[float, float, float]:
    metrics = report.get("en", {}).get("metrics") if isinstance(report, dict) else None
    size = metrics.get("size_mm") if isinstance(metrics, dict) else None
    if isinstance(size, list) and len(size) >= 2:
        return (float(size[0]), float(size[1]), float(size[2]) if len(size) > 2 else 0.0)
    return (0.0, 0.0, 0.0)


def why_blocked(
    jobs: list[Job],
    sizes: dict[int, tuple[float, float, float]],
    machines: list[Machine],
    data_dir: Path | None,
) -> dict[int, Reason | None]:
    """For each queued job: why no machine can take it, or None when one can (now or once free)."""
    if not jobs:
        return {}
    library = laser_library(data_dir)
    table = JobTable([queued_job(j, sizes.get(j.id, (0.0, 0.0, 0.0))) for j in jobs])
    slots = [
        MachineSlot(
            m.id,
            m.kind,
            False,  # seen as busy: the scheduler only explains
            (m.bed_x_mm, m.bed_y_mm, m.bed_z_mm),
            m.loaded_material,
            accepted_materials(m, library),
            m.maintenance,
        )
        for m in machines
    ]
    waiting = schedule(table, slots).waiting
    co2_lasers = [m for m in machines if m.kind == "laser" and m.laser_source == "co2"]
    out: dict[int, Reason | None] = {}
    for job in jobs:
        code = waiting.get(job.id)
        params: dict[str, Any] = {"kind": job.kind, "material": job.material}
        if job.kind == "laser" and code in (None, reasons.NO_MATERIAL, reasons.MAINTENANCE, scheduler.BUSY):
            source = needed_source(job.material, data_dir, (job.settings or {}).get("laser"))
            if source == "co2" and not co2_lasers:
                code, params = reasons.NO_LASER_SOURCE, {**params, "source": "CO2"}
        if code == reasons.TOO_LARGE:
            params["size_mm"] = list(sizes.get(job.id, (0.0, 0.0, 0.0)))
        elif code == reasons.PINNED_UNAVAILABLE:
            params["machine_id"] = job.pinned_machine_id
        out[job.id] = Reason(code, params) if code in reasons.BLOCKED_CODES else None
    return out


def _announce(session: Session, job: Job, reason: Reason | None) -> None:
    text = reason.text() if reason is not None else None
    events.defer(
        session,
        events.JOB_BLOCKED,
        {
            "job_id": job.id,
            "reason_code": reason.code if reason else None,
            "reason_params": dict(reason.params) if reason else None,
            "reason_fr": text.fr if text else None,
            "reason_en": text.en if text else None,
        },
        owner_id=job.owner_id,
    )


def update_blocked(session: Session, data_dir: Path | None = None) -> int:
    """Write each queued job's blocked reason where it changed; returns how many changed."""
    jobs = list(session.scalars(select(Job).where(Job.state == JobState.QUEUED.value).order_by(Job.id)))
    if not jobs:
        return 0
    reports: dict[int, Any] = dict(
        session.execute(
            select(Design.id, DesignFile.report)
            .join(DesignFile, DesignFile.sha256 == Design.sha256)
            .where(Design.id.in_({j.design_id for j in jobs}))
        ).all()
    )
    sizes = {j.id: _size(reports.get(j.design_id)) for j in jobs}
    machines = list(session.scalars(select(Machine).order_by(Machine.id)))
    changed = 0
    for job, reason in _changes(jobs, why_blocked(jobs, sizes, machines, data_dir)):
        changed += 1
        if reason is None:
            job.reason, job.reason_code, job.reason_params = None, None, None
        else:
            job.reason, job.reason_code = reason.text().fr, reason.code
            job.reason_params = dict(reason.params)
        _announce(session, job, reason)
    return changed


def _changes(jobs: Iterable[Job], found: dict[int, Reason | None]) -> Iterable[tuple[Job, Reason | None]]:
    for job in jobs:
        reason = found.get(job.id)
        current = job.reason_code if job.reason_code in reasons.BLOCKED_CODES else None
        if reason is None and current is None:
            continue  # not blocked, and its own reason (a requeue's, say) is left as it is
        if reason is not None and current == reason.code and (job.reason_params or {}) == reason.params:
            continue
        yield job, reason


class BlockedWatch:
    """Runs `update_blocked` at most every `every_s` (the dispatcher calls `due()` each tick)."""

    def __init__(self, every_s: float = EVERY_S) -> None:
        self.every_s = every_s
        self._last = 0.0

    def due(self) -> bool:
        if time.monotonic() - self._last < self.every_s:
            return False
        self._last = time.monotonic()
        return True
