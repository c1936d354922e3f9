"""The database half of bench/schedule.py: the bench's world in a SQLite lab, and three tick paths run on
it, each after the same kind of changes made by another connection (another process)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from fablabctl.db.engine import make_engine, make_session_factory, session_scope
from fablabctl.db.migrate import upgrade
from fablabctl.db.models import Cohort, Design, DesignFile, Job, Machine, Site, User
from fablabctl.queue.claims import claim, queued_candidates
from fablabctl.queue.dispatcher import _claim_round
from fablabctl.queue.queue_view import COLUMNS, QueueView, size_of
from fablabctl.queue.scheduler import JobTable, MachineSlot, QueuedJob, schedule

BASE = datetime(2026, 1, 5, tzinfo=UTC)
Round = Callable[[Session, list[MachineSlot]], list[tuple[int, int]]]


def previous_round(session: Session, slots: list[MachineSlot]) -> list[tuple[int, int]]:
    """The dispatcher before the queue was kept between ticks: reload, rebuild, decide, claim."""
    candidates = queued_candidates(session)
    reports: dict[int, Any] = dict(
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
                size_of(reports.get(j.design_id, {})),
                j.priority,
                j.owner_id,
                j.cohort_id,
                j.queued_at.timestamp() if j.queued_at else 0.0,
                j.pinned_machine_id,
            )
            for j in candidates
        ]
    )
    return [
        (a.job_id, a.machine_id)
        for a in schedule(table, slots).assignments
        if claim(session, job_id=a.job_id, machine_id=a.machine_id, worker="bench")
    ]


def naive_round(session: Session, slots: list[MachineSlot]) -> list[tuple[int, int]]:
    """Reload, sort by priority then age, first fit of every job against every free machine, claim."""
    rows = session.execute(select(*COLUMNS).where(Job.state == "queued")).all()
    sizes = {
        design_id: size_of(report)
        for design_id, report in session.execute(
            select(Design.id, DesignFile.report).join(DesignFile, DesignFile.sha256 == Design.sha256)
        )
    }
    free = [m for m in slots if m.idle and not m.maintenance]
    chosen = []
    for r in sorted(rows, key=lambda r: (-r.priority, r.queued_at, r.id)):
        size = sizes.get(r.design_id, (0.0, 0.0, 0.0))
        for m in free:
            x, y = sorted(size[:2])
            a, b = sorted(m.bed_mm[:2])
            material_ok = m.loaded_material == r.material or (
                m.loaded_material is None and r.material in m.accepted_materials
            )
            fits = m.kind == r.kind and x <= a and y <= b and size[2] <= (m.bed_mm[2] or 1e9)
            if fits and material_ok and r.pinned_machine_id in (None, m.id):
                chosen.append((r.id, m.id))
                free.remove(m)
                break
    return [(j, m) for j, m in chosen if claim(session, job_id=j, machine_id=m, worker="bench")]


class TickBench:
    freed = 2  # machines whose job ends between two ticks (a busy lab: one start or two per tick)

    def __init__(self, tmp: str, jobs: list[QueuedJob], machines: list[MachineSlot]) -> None:
        url = f"sqlite:///{tmp}/bench.db"
        self.engine, self.other = make_engine(url), make_engine(url)  # ours, another process's
        upgrade(self.engine)
        self.ours, self.theirs = make_session_factory(self.engine), make_session_factory(self.other)
        self.rng = random.Random(11)
        self.slots = [
            MachineSlot(
                m.id + 1, m.kind, False, m.bed_mm, m.loaded_material, m.accepted_materials, m.maintenance
            )
            for m in machines
        ]
        self._seed(jobs)

    def _seed(self, jobs: list[QueuedJob]) -> None:
        with self.engine.begin() as db:
            db.execute(insert(Site), [{"id": 1, "name": "main", "created_at": BASE}])
            people = {j.tigiste_id for j in jobs}
            db.execute(
                insert(User),
                [
                    {
                        "id": p + 1,
                        "username": f"t{p}",
                        "display_name": "T",
                        "role": "tigiste",
                        "password_hash": "x",
                    }
                    | {"active": True, "created_at": BASE}
                    for p in sorted(people)
                ],
            )
            cohorts = {j.cohort_id for j in jobs if j.cohort_id is not None}
            db.execute(
                insert(Cohort),
                [
                    {"id": c + 1, "name": f"c{c}", "site_id": 1, "starts_on": BASE.date()}
                    | {"ends_on": BASE.date(), "created_at": BASE}
                    for c in sorted(cohorts)
                ],
            )
            db.execute(insert(DesignFile), [self._file(j.id, j.size_mm) for j in jobs])
            db.execute(insert(Design), [self._design(j.id, j.tigiste_id + 1) for j in jobs])
            db.execute(
                insert(Machine),
                [
                    {
                        "id": s.id,
                        "site_id": 1,
                        "name": f"m{s.id}",
                        "kind": s.kind,
                        "driver": "marlin" if s.kind == "printer" else "grbl",
                        "connection": {},
                        "bed_x_mm": s.bed_mm[0],
                        "bed_y_mm": s.bed_mm[1],
                        "bed_z_mm": s.bed_mm[2],
                        "materials": sorted(s.accepted_materials),
                        "loaded_material": s.loaded_material,
                        "maintenance": s.maintenance,
                        "state": "busy",
                        "current_job_id": -s.id,  # busy with a job of its own (not in the queue)
                        "created_at": BASE,
                    }
                    for s in self.slots
                ],
            )
            db.execute(insert(Job), [self._job(j) for j in jobs])  # after the machines they pin
        self.next_id = len(jobs) + 1

    @staticmethod
    def _file(n: int, size: tuple[float, float, float]) -> dict[str, Any]:
        report = {"en": {"metrics": {"size_mm": list(size)}}, "fr": {"metrics": {"size_mm": list(size)}}}
        return {"sha256": f"{n:064x}", "size_bytes": 1, "file_type": "stl", "report": report, "ok": True}

    @staticmethod
    def _design(n: int, owner: int) -> dict[str, Any]:
        return {
            "id": n + 1,
            "sha256": f"{n:064x}",
            "filename": f"p{n}.stl",
            "owner_id": owner,
            "created_at": BASE,
        }

    @staticmethod
    def _job(j: QueuedJob) -> dict[str, Any]:
        at = BASE + timedelta(seconds=j.queued_at)
        return {
            "id": j.id + 1,
            "design_id": j.id + 1,
            "kind": j.kind,
            "material": j.material,
            "quantity": 1,
            "priority": j.priority,
            "state": "queued",
            "owner_id": j.tigiste_id + 1,
            "submitted_by_id": j.tigiste_id + 1,
            "cohort_id": None if j.cohort_id is None else j.cohort_id + 1,
            "pinned_machine_id": None if j.pinned_machine_id is None else j.pinned_machine_id + 1,
            "run_number": 1,
            "settings": {},
            "estimates": {},
            "progress": 0.0,
            "machine_seconds": 0.0,
            "queued_at": at,
            "created_at": at,
            "updated_at": at,
        }

    def _between_ticks(self) -> list[MachineSlot]:
        """Another process: one job added (a new design), one cancelled, one re-prioritised; and the
        jobs of `freed` machines end. Returns the slots as the dispatcher then sees them."""
        now = datetime.now(UTC)
        n = self.next_id
        self.next_id += 1
        size = (self.rng.uniform(5, 200), self.rng.uniform(5, 200), self.rng.uniform(1, 150))
        job = QueuedJob(n, "printer", "PLA", size, 0, self.rng.randrange(400), self.rng.randrange(50), 0.0)
        with session_scope(self.theirs) as session:
            session.execute(insert(DesignFile), [self._file(n, size)])
            session.execute(insert(Design), [self._design(n, job.tigiste_id + 1)])
            session.execute(
                insert(Job), [self._job(job) | {"queued_at": now, "updated_at": now, "created_at": now}]
            )
            queued = list(session.scalars(select(Job.id).where(Job.state == "queued")))
            cancel, bump = self.rng.sample(queued, 2)
            session.execute(update(Job).where(Job.id == cancel).values(state="cancelled", updated_at=now))
            session.execute(update(Job).where(Job.id == bump).values(priority=self.rng.choice([0, 1, 5])))
            busy = [s.id for s in self.slots if not s.maintenance]
            ends = self.rng.sample(busy, self.freed)
            session.execute(
                update(Job).where(Job.machine_id.in_(ends), Job.state == "preparing").values(state="done")
            )
            session.execute(update(Machine).where(Machine.id.in_(ends)).values(current_job_id=None))
        with session_scope(self.ours) as session:
            free = set(session.scalars(select(Machine.id).where(Machine.current_job_id.is_(None))))
        return [
            MachineSlot(
                s.id, s.kind, s.id in free, s.bed_mm, s.loaded_material, s.accepted_materials, s.maintenance
            )
            for s in self.slots
        ]

    def run(self, name: str, ticks: int) -> tuple[list[float], list[float], int]:
        """`ticks` ticks of one path: the wall and CPU time of each (the decision's database work, SQLite
        runs in this process, commit included) and how many jobs they started."""
        view = QueueView()
        rounds: dict[str, Round] = {
            "incremental": lambda session, slots: _claim_round(session, slots, "bench", view),
            "reload": previous_round,
            "naive": naive_round,
        }
        tick = rounds[name]
        with session_scope(self.ours) as session:
            view.refresh(session)  # the dispatcher's first tick reads the whole queue once
        times, cpu, started = [], [], 0
        for _ in range(ticks):
            slots = self._between_ticks()
            start, start_cpu = time.perf_counter(), time.process_time()
            with session_scope(self.ours) as session:
                started += len(tick(session, slots))
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        return times, cpu, started
