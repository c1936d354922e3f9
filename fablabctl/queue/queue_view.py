"""The dispatcher's copy of the queue, kept up to date between ticks instead of reloaded on each.

Each tick asks the database two cheap questions: which jobs changed since the newest change already
seen (`updated_at`, indexed), and how many jobs are queued with which ids (count and sum of ids over
the `state` index). Changed rows are applied to the `JobTable` (queued: added or replaced; anything
else: removed); design sizes are read once per design. Every change made through the service,
the CLI or another dispatcher process sets `updated_at`, so it is seen at the next tick whoever made it.

Correctness first:
- the window is re-read with an overlap (`OVERLAP_S`): a transaction that stamped its rows a
  moment before it committed, or a process whose clock is slightly behind, is still seen;
- if the queued count or id sum disagrees with the table after the changes are applied (a row
  deleted, a change stamped with an old time), the queue is reloaded whole, at once;
- and it is reloaded whole every `FULL_EVERY_S` anyway, so nothing can stay stale for longer.
The claim itself stays a conditional UPDATE (`claims.py`): a stale row can never start twice.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fablabctl.db.models import Design, DesignFile, Job
from fablabctl.queue.blocked import queued_job
from fablabctl.queue.claims import MAX_CANDIDATES
from fablabctl.queue.scheduler import JobTable, QueuedJob
from fablabctl.queue.states import JobState

OVERLAP_S = 5.0
FULL_EVERY_S = 60.0
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
QUEUED = JobState.QUEUED.value
COLUMNS = (
    Job.id,
    Job.state,
    Job.kind,
    Job.material,
    Job.design_id,
    Job.priority,
    Job.owner_id,
    Job.cohort_id,
    Job.queued_at,
    Job.pinned_machine_id,
    Job.updated_at,
)


def size_of(report: Any) -> tuple[float, float, float]:
    """The part's bounding box from a design report (`{"en": {"metrics": {"size_mm": [x, y, z]}}}`)."""
    metrics = report.get("en", {}).get("metrics") if isinstance(report, dict) else None
    size = metrics.get("size_mm") if isinstance(metrics, dict) else None
    if isinstance(size, list) and len(size) >= 2:
        return (float(size[0]), float(size[1]), float(size[2]) if len(size) > 2 else 0.0)
    return (0.0, 0.0, 0.0)


class QueueView:
    """`refresh(session)` returns the queue as a `JobTable`, reading only what changed."""

    def __init__(self, *, overlap_s: float = OVERLAP_S, full_every_s: float = FULL_EVERY_S) -> None:
        self.overlap = timedelta(seconds=overlap_s)
        self.full_every_s = full_every_s
        self.table = JobTable([])
        self.jobs: dict[int, QueuedJob] = {}
        self.sizes: dict[int, tuple[float, float, float]] = {}  # design id -> size (designs never change)
        self.newest = EPOCH  # the newest `updated_at` read so far
        self.stale = True  # reload everything at the next refresh
        self.loaded_at = float("-inf")  # monotonic time of the last whole reload
        self.full_loads = 0
        self.partial_loads = 0

    def refresh(self, session: Session) -> JobTable:
        if self.stale or time.monotonic() - self.loaded_at >= self.full_every_s:
            return self.reload(session)
        newest = session.scalar(select(func.max(Job.updated_at)))
        changed: Sequence[Any] = ()
        if newest is not None and newest != self.newest:
            since = self.newest - self.overlap
            changed = session.execute(select(*COLUMNS).where(Job.updated_at >= since)).all()
            self._load_sizes(session, {row.design_id for row in changed if row.state == QUEUED})
        count, id_sum = session.execute(
            select(func.count(Job.id), func.coalesce(func.sum(Job.id), 0)).where(Job.state == QUEUED)
        ).one()
        jobs = dict(self.jobs)
        upserts, removed = [], []
        for row in changed:
            known = jobs.get(row.id)
            if row.state == QUEUED:
                job = self._job(session, row)
                if job != known:
                    upserts.append(job)
                    jobs[row.id] = job
            elif known is not None:
                removed.append(row.id)
                del jobs[row.id]
        if len(jobs) != count or sum(jobs) != id_sum or count > MAX_CANDIDATES:
            return self.reload(session)  # something changed that the window did not show
        if upserts or removed:
            self.table = self.table.updated(upserts, removed)
            self.jobs = jobs
            self.partial_loads += 1
        if changed:
            self.newest = max(self.newest, *(row.updated_at for row in changed))
        return self.table

    def recheck(self, session: Session, job_ids: Sequence[int]) -> None:
        """After failed claims: drop those jobs no longer queued (taken, cancelled or deleted by someone
        whose change the window did not show), so the next decision does not pick them again."""
        still = set(session.scalars(select(Job.id).where(Job.id.in_(job_ids), Job.state == QUEUED)))
        gone = [job_id for job_id in job_ids if job_id not in still and job_id in self.jobs]
        if gone:
            self.table = self.table.updated([], gone)
            self.jobs = {k: v for k, v in self.jobs.items() if k not in gone}

    def reload(self, session: Session) -> JobTable:
        """The whole queue (oldest first, at most `MAX_CANDIDATES`), as the first tick does."""
        rows = session.execute(
            select(*COLUMNS)
            .where(Job.state == QUEUED)
            .order_by(Job.priority.desc(), Job.queued_at, Job.id)
            .limit(MAX_CANDIDATES)
        ).all()
        newest = session.scalar(select(func.max(Job.updated_at)))
        self._load_sizes(session, {row.design_id for row in rows})
        jobs = {row.id: self._job(session, row) for row in rows}
        self.table, self.jobs = JobTable(list(jobs.values())), jobs
        self.newest, self.loaded_at, self.stale = newest or EPOCH, time.monotonic(), False
        self.full_loads += 1
        return self.table

    def forget(self) -> None:
        """Reload everything at the next tick (after an error, or when told the queue changed)."""
        self.stale = True

    def _job(self, session: Session, row: Any) -> QueuedJob:
        if row.design_id not in self.sizes:
            self._load_sizes(session, {row.design_id})
        return queued_job(row, self.sizes.get(row.design_id, (0.0, 0.0, 0.0)))

    def _load_sizes(self, session: Session, design_ids: set[int]) -> None:
        missing = design_ids - self.sizes.keys()
        if not missing:
            return
        reports: dict[int, Any] = dict(
            session.execute(
                select(Design.id, DesignFile.report)
                .join(DesignFile, DesignFile.sha256 == Design.sha256)
                .where(Design.id.in_(missing))
            ).all()
        )
        self.sizes.update((design_id, size_of(report)) for design_id, report in reports.items())
