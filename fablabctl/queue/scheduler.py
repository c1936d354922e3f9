"""Who runs next, and where: a pure, deterministic function of the queue and the machines.

Rules, in order:
1. A machine takes a job only if it is idle, not under maintenance, of the job's kind, big enough
   (a 90° turn on the bed is allowed), and has the job's material loaded, or nothing loaded and the
   material among those it accepts. Machines that already hold the material are preferred (no swap).
2. A job pinned to a machine waits for that machine and never goes elsewhere.
3. Higher priority first. Within a priority, fairness: cohorts take turns, and inside a cohort its
   tigistes take turns (round-robin), so one person's ten parts never block everyone; then oldest first.
4. Each machine gets at most one job per decision. Jobs that cannot run anywhere say why.

The queue is given as a `JobTable` (numpy columns, with the fairness order computed once when the
table is built), so one decision over 10,000 jobs and 200 machines stays in the millisecond range
(see bench/schedule.py, which prints the build and the decision times separately).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

NO_MACHINE = "NO_MACHINE_OF_KIND"
TOO_LARGE = "TOO_LARGE_FOR_ALL_MACHINES"
NO_MATERIAL = "MATERIAL_NOT_ACCEPTED"
MAINTENANCE = "MACHINES_IN_MAINTENANCE"
BUSY = "WAITING_FOR_A_MACHINE"
PINNED_BUSY = "PINNED_MACHINE_BUSY"
PINNED_UNAVAILABLE = "PINNED_MACHINE_UNAVAILABLE"


@dataclass(frozen=True, slots=True)
class QueuedJob:
    id: int
    kind: str  # printer | laser
    material: str
    size_mm: tuple[float, float, float]  # the part's bounding box (0 when unknown)
    priority: int
    tigiste_id: int
    cohort_id: int | None
    queued_at: float  # seconds (epoch); ties broken by id
    pinned_machine_id: int | None = None


@dataclass(frozen=True, slots=True)
class MachineSlot:
    id: int
    kind: str
    idle: bool
    bed_mm: tuple[float, float, float]  # z = 0 for lasers
    loaded_material: str | None = None
    accepted_materials: frozenset[str] = frozenset()  # empty: anything
    maintenance: bool = False


@dataclass(frozen=True, slots=True)
class Assignment:
    job_id: int
    machine_id: int


@dataclass
class Decision:
    assignments: list[Assignment] = field(default_factory=list)
    waiting: dict[int, str] = field(default_factory=dict)  # job id -> reason code


class JobTable:
    """The queue as columns; `materials` and `kinds` are coded as small integers."""

    def __init__(self, jobs: Sequence[QueuedJob]) -> None:
        n = len(jobs)
        self.ids = np.fromiter((j.id for j in jobs), dtype=np.int64, count=n)
        self.kind_names = sorted({j.kind for j in jobs})
        self.material_names = sorted({j.material for j in jobs})
        kind_code = {k: i for i, k in enumerate(self.kind_names)}
        material_code = {m: i for i, m in enumerate(self.material_names)}
        self.kinds = np.fromiter((kind_code[j.kind] for j in jobs), dtype=np.int16, count=n)
        self.materials = np.fromiter((material_code[j.material] for j in jobs), dtype=np.int32, count=n)
        sizes = np.array([j.size_mm for j in jobs], dtype=np.float64).reshape(n, 3)
        self.short_side = np.minimum(sizes[:, 0], sizes[:, 1])
        self.long_side = np.maximum(sizes[:, 0], sizes[:, 1])
        self.height = sizes[:, 2]
        self.priority = np.fromiter((j.priority for j in jobs), dtype=np.int64, count=n)
        self.tigiste = np.fromiter((j.tigiste_id for j in jobs), dtype=np.int64, count=n)
        self.cohort = np.fromiter(
            (-1 if j.cohort_id is None else j.cohort_id for j in jobs), dtype=np.int64, count=n
        )
        self.queued_at = np.fromiter((j.queued_at for j in jobs), dtype=np.float64, count=n)
        self.pinned = np.fromiter(
            (-1 if j.pinned_machine_id is None else j.pinned_machine_id for j in jobs),
            dtype=np.int64,
            count=n,
        )
        self._sort_by_age(np.lexsort((self.ids, self.queued_at)))
        self.order = self._fair_order()

    COLUMNS: tuple[str, ...] = ("ids", "kinds", "materials", "short_side", "long_side", "height", "priority")
    COLUMNS += ("tigiste", "cohort", "queued_at", "pinned")

    def _sort_by_age(self, order: NDArray[np.int64]) -> None:
        """Rows are kept oldest first (queued_at, then id): a row's index is its age rank."""
        for column in self.COLUMNS:
            setattr(self, column, getattr(self, column)[order])

    def updated(self, upserts: Sequence[QueuedJob], removed: Collection[int] = ()) -> JobTable:
        """This table without the `removed` ids, with `upserts` added or replacing rows of the same id.

        Only the changed rows are converted; the fairness order is computed again (a few sorts), so a
        queue change costs about a millisecond at 10,000 jobs instead of a full rebuild."""
        new = JobTable(upserts)
        gone = np.concatenate([np.fromiter(removed, dtype=np.int64, count=len(removed)), new.ids])
        keep = ~np.isin(self.ids, gone) if len(gone) else np.ones(len(self.ids), dtype=bool)
        out = JobTable.__new__(JobTable)
        out.kind_names = self.kind_names + [k for k in new.kind_names if k not in self.kind_names]
        out.material_names = self.material_names + [
            m for m in new.material_names if m not in self.material_names
        ]
        kind_map = np.array([out.kind_names.index(k) for k in new.kind_names], dtype=np.int16)
        material_map = np.array([out.material_names.index(m) for m in new.material_names], dtype=np.int32)
        out.kinds = np.concatenate([self.kinds[keep], kind_map[new.kinds.astype(np.int64)]])
        out.materials = np.concatenate([self.materials[keep], material_map[new.materials.astype(np.int64)]])
        for column in ("ids", "short_side", "long_side", "height", "priority", "tigiste", "cohort"):
            setattr(out, column, np.concatenate([getattr(self, column)[keep], getattr(new, column)]))
        out.queued_at = np.concatenate([self.queued_at[keep], new.queued_at])
        out.pinned = np.concatenate([self.pinned[keep], new.pinned])
        if len(new.ids):  # merge the new rows in by age: nearly sorted, so a stable sort is fast
            merged = np.argsort(out.queued_at, kind="stable")
            at, ids = out.queued_at[merged], out.ids[merged]
            if np.any((at[1:] == at[:-1]) & (ids[1:] < ids[:-1])):  # same time: the smaller id first
                merged = np.lexsort((out.ids, out.queued_at))
            out._sort_by_age(merged)
        out.order = out._fair_order()
        return out

    def _fair_order(self) -> NDArray[np.int64]:
        """Indices in serving order: priority, then cohort turns, then tigiste turns, then age.

        Rows are kept oldest first, so each step is a stable sort on small integer keys (a radix sort
        in numpy): the order of 10,000 jobs costs well under a millisecond."""
        n = len(self.ids)
        if n == 0:
            return np.empty(0, dtype=np.int64)
        prio = int(self.priority.max()) - self.priority  # 0 = the highest priority
        person = (
            prio * (int(self.tigiste.max()) - int(self.tigiste.min()) + 1) + self.tigiste - self.tigiste.min()
        )
        cohort = (
            prio * (int(self.cohort.max()) - int(self.cohort.min()) + 1) + self.cohort - self.cohort.min()
        )
        # each tigiste's jobs take turns (0 = their oldest), then inside a cohort its people take turns
        person_round = _rounds(_stable_order(person), person)
        cohort_round = _rounds(_stable_order(cohort, person_round), cohort)
        return _stable_order(prio, cohort_round)


def _stable_order(*keys: NDArray[np.int64]) -> NDArray[np.int64]:
    """Row indices sorted by `keys` (the first the most significant), ties left in row order."""
    order = np.arange(len(keys[0]), dtype=np.int64)
    for key in reversed(keys):
        ranked = key[order]
        if int(ranked.min()) >= 0 and int(ranked.max()) < 2**16:
            ranked = ranked.astype(np.uint16)  # numpy sorts 16-bit keys by radix, in linear time
        order = order[np.argsort(ranked, kind="stable")]
    return order


def _rounds(ordered: NDArray[np.int64], group: NDArray[np.int64]) -> NDArray[np.int64]:
    """For rows in `ordered` order (grouped by `group`), each row's position inside its group."""
    n = len(ordered)
    grouped = group[ordered]
    starts = np.ones(n, dtype=bool)
    starts[1:] = grouped[1:] != grouped[:-1]
    group_start = np.maximum.accumulate(np.where(starts, np.arange(n), 0))
    rounds = np.empty(n, dtype=np.int64)
    rounds[ordered] = np.arange(n) - group_start
    return rounds


def _fits(table: JobTable, machine: MachineSlot) -> NDArray[np.bool_]:
    short, long_ = min(machine.bed_mm[0], machine.bed_mm[1]), max(machine.bed_mm[0], machine.bed_mm[1])
    fits = (table.short_side <= short + 1e-6) & (table.long_side <= long_ + 1e-6)
    if machine.kind == "printer":
        fits &= table.height <= machine.bed_mm[2] + 1e-6
    return fits


def _material_ok(table: JobTable, machine: MachineSlot) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """(may take it, already has it loaded)."""
    codes = {m: i for i, m in enumerate(table.material_names)}
    loaded = np.zeros(len(table.ids), dtype=bool)
    if machine.loaded_material is not None:
        if machine.loaded_material in codes:
            loaded = table.materials == codes[machine.loaded_material]
        return loaded, loaded
    if not machine.accepted_materials:
        return np.ones(len(table.ids), dtype=bool), loaded
    accepted = np.zeros(len(table.material_names), dtype=bool)  # a lookup table by material code
    accepted[[codes[m] for m in machine.accepted_materials if m in codes]] = True
    return accepted[table.materials], loaded


def _pick(
    index: int,
    table: JobTable,
    free_classes: list[tuple[NDArray[np.bool_], NDArray[np.bool_], list[int]]],
    classes: dict[tuple[object, ...], tuple[NDArray[np.bool_], NDArray[np.bool_], list[int]]],
    class_of: dict[int, tuple[object, ...]],
    taken: set[int],
) -> int | None:
    """The machine for this job: its pinned one, else a free compatible one, preferring loaded material."""
    pinned = int(table.pinned[index])
    if pinned >= 0:
        ok = classes.get(class_of.get(pinned, ()), (None,))[0]
        return pinned if ok is not None and pinned not in taken and bool(ok[index]) else None
    options = []
    for ok, loaded, ids in free_classes:
        if ok[index]:
            candidate = next((mid for mid in ids if mid not in taken), None)
            if candidate is not None:
                options.append((not bool(loaded[index]), candidate))  # material already loaded first
    return min(options)[1] if options else None


def _signature(machine: MachineSlot) -> tuple[object, ...]:
    return (machine.kind, machine.bed_mm, machine.loaded_material, machine.accepted_materials)


def schedule(table: JobTable, machines: Sequence[MachineSlot], *, explain: bool = True) -> Decision:
    """The assignments; with `explain`, also why every other job waits (the dispatcher does not ask)."""
    decision = Decision()
    n = len(table.ids)
    if n == 0:
        return decision
    kind_code = {k: i for i, k in enumerate(table.kind_names)}
    # machines alike (kind, bed, material) share one compatibility mask: a fleet has few such classes
    classes: dict[tuple[object, ...], tuple[NDArray[np.bool_], NDArray[np.bool_], list[int]]] = {}
    any_kind = np.zeros(n, dtype=bool)
    any_fit = np.zeros(n, dtype=bool)
    any_material = np.zeros(n, dtype=bool)
    class_of: dict[int, tuple[object, ...]] = {}
    for machine in machines:
        signature = _signature(machine)
        class_of[machine.id] = signature
        if signature not in classes:
            if machine.kind not in kind_code:
                continue
            kind = table.kinds == kind_code[machine.kind]
            fits = kind & _fits(table, machine)
            allowed, loaded = _material_ok(table, machine)
            any_kind |= kind
            any_fit |= fits
            any_material |= fits & allowed
            classes[signature] = (fits & allowed, loaded, [])
        if machine.idle and not machine.maintenance:
            classes[signature][2].append(machine.id)
    free_classes = [(ok, loaded, sorted(ids)) for ok, loaded, ids in classes.values() if ids]
    unpinned = table.pinned < 0
    could = np.zeros(n, dtype=bool)
    for ok, _, _ in free_classes:
        could |= ok
    free_ids = {mid for _, _, ids in free_classes for mid in ids}
    pinned_ok = np.zeros(n, dtype=bool)
    pinned_rows = np.flatnonzero(~unpinned)
    pinned_ok[pinned_rows] = np.isin(table.pinned[pinned_rows], list(free_ids))
    remaining = len(free_ids)
    taken: set[int] = set()
    candidates = (could & unpinned) | pinned_ok
    for index in table.order[candidates[table.order]]:  # in serving order, those that may run now
        if not remaining:
            break
        chosen = _pick(int(index), table, free_classes, classes, class_of, taken)
        if chosen is not None:
            taken.add(chosen)
            remaining -= 1
            decision.assignments.append(Assignment(int(table.ids[index]), chosen))
    if explain:
        could &= unpinned
        could |= pinned_ok
        decision.waiting = _reasons(table, machines, decision, could, (any_kind, any_fit, any_material))
    return decision


REASONS = (BUSY, MAINTENANCE, NO_MATERIAL, TOO_LARGE, NO_MACHINE, PINNED_BUSY, PINNED_UNAVAILABLE)


def _reasons(
    table: JobTable,
    machines: Sequence[MachineSlot],
    decision: Decision,
    could: NDArray[np.bool_],
    any_: tuple[NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_]],
) -> dict[int, str]:
    """Job id -> reason code for every job not assigned (codes computed as small integers)."""
    any_kind, any_fit, any_material = any_
    code = {reason: i for i, reason in enumerate(REASONS)}
    kind_code = {k: i for i, k in enumerate(table.kind_names)}
    reasons = np.zeros(len(table.ids), dtype=np.int8)  # BUSY
    kinds_in_maintenance = {
        kind_code[k]
        for k in kind_code
        if all(m.maintenance for m in machines if m.kind == k) and any(m.kind == k for m in machines)
    }
    reasons[~could & np.isin(table.kinds, list(kinds_in_maintenance))] = code[MAINTENANCE]
    reasons[~any_material] = code[NO_MATERIAL]
    reasons[~any_fit] = code[TOO_LARGE]
    reasons[~any_kind] = code[NO_MACHINE]
    pinned = table.pinned >= 0
    if pinned.any():
        usable = {m.id for m in machines if not m.maintenance}
        reasons[pinned] = np.where(
            np.isin(table.pinned[pinned], list(usable)), code[PINNED_BUSY], code[PINNED_UNAVAILABLE]
        )
    assigned_ids = np.array([a.job_id for a in decision.assignments], dtype=np.int64)
    waiting = ~np.isin(table.ids, assigned_ids)
    names = np.array(REASONS, dtype=object)[reasons[waiting]]
    return dict(zip(table.ids[waiting].tolist(), names.tolist(), strict=True))
