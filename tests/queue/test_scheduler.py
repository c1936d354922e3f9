"""The scheduler, case by case: compatibility, pinning, priority, fairness, reasons for waiting."""

from __future__ import annotations

import pytest

from fablabctl.queue.scheduler import (
    BUSY,
    MAINTENANCE,
    NO_MACHINE,
    NO_MATERIAL,
    PINNED_BUSY,
    PINNED_UNAVAILABLE,
    TOO_LARGE,
    Assignment,
    JobTable,
    MachineSlot,
    QueuedJob,
    schedule,
)

PRINTER = MachineSlot(1, "printer", True, (250, 210, 210), accepted_materials=frozenset({"PLA", "PETG"}))
PRINTER2 = MachineSlot(2, "printer", True, (180, 180, 180), loaded_material="PETG")
LASER = MachineSlot(10, "laser", True, (400, 300, 0), accepted_materials=frozenset({"plywood-poplar-3mm"}))


def job(
    id: int,
    kind: str = "printer",
    material: str = "PLA",
    size: tuple[float, float, float] = (20, 20, 20),
    priority: int = 0,
    tigiste: int = 1,
    cohort: int | None = 1,
    at: float = 0.0,
    pinned: int | None = None,
) -> QueuedJob:
    return QueuedJob(id, kind, material, size, priority, tigiste, cohort, at or float(id), pinned)


def decide(
    jobs: list[QueuedJob], machines: list[MachineSlot]
) -> tuple[list[tuple[int, int]], dict[int, str]]:
    decision = schedule(JobTable(jobs), machines)
    return [(a.job_id, a.machine_id) for a in decision.assignments], decision.waiting


CASES = {
    "kind and material": (
        [job(1), job(2, "laser", "plywood-poplar-3mm")],
        [PRINTER, LASER],
        [(1, 1), (2, 10)],
        {},
    ),
    "loaded material preferred": ([job(1, material="PETG")], [PRINTER, PRINTER2], [(1, 2)], {}),
    "rotated to fit": ([job(1, size=(240, 20, 20))], [PRINTER2, PRINTER], [(1, 1)], {}),
    "rotated 90 on the bed": ([job(1, size=(20, 245, 20))], [PRINTER], [(1, 1)], {}),
    "too large": ([job(1, size=(300, 300, 10))], [PRINTER], [], {1: TOO_LARGE}),
    "no machine of kind": ([job(1, "laser", "mdf-3mm")], [PRINTER], [], {1: NO_MACHINE}),
    "material refused": ([job(1, "laser", "acrylic-3mm")], [LASER], [], {1: NO_MATERIAL}),
    "one job per machine": ([job(1), job(2)], [PRINTER], [(1, 1)], {2: BUSY}),
    "busy machine": ([job(1)], [MachineSlot(1, "printer", False, (250, 210, 210))], [], {1: BUSY}),
    "maintenance": (
        [job(1)],
        [MachineSlot(1, "printer", True, (250, 210, 210), maintenance=True)],
        [],
        {1: MAINTENANCE},
    ),
    "pinned waits for its machine": (
        [job(1, pinned=2, material="PETG")],
        [PRINTER, MachineSlot(2, "printer", False, (180, 180, 180))],
        [],
        {1: PINNED_BUSY},
    ),
    "pinned goes to its machine": (
        [job(1, material="PETG", pinned=2), job(2, material="PETG")],
        [PRINTER, PRINTER2],
        [(1, 2), (2, 1)],
        {},
    ),
    "pinned to a machine in maintenance": (
        [job(1, pinned=1)],
        [MachineSlot(1, "printer", True, (250, 210, 210), maintenance=True)],
        [],
        {1: PINNED_UNAVAILABLE},
    ),
    "priority first": ([job(1), job(2, priority=5)], [PRINTER], [(2, 1)], {1: BUSY}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_cases(name: str) -> None:
    jobs, machines, assignments, waiting = CASES[name]
    got_assignments, got_waiting = decide(jobs, machines)
    assert got_assignments == assignments
    assert got_waiting == waiting


def test_one_persons_ten_parts_do_not_block_the_others() -> None:
    jobs = [job(i, tigiste=1, at=i) for i in range(1, 11)] + [
        job(20, tigiste=2, at=50),
        job(30, tigiste=3, at=60),
    ]
    machines = [MachineSlot(i, "printer", True, (250, 210, 210)) for i in range(1, 4)]
    assignments, _ = decide(jobs, machines)
    assert sorted(j for j, _ in assignments) == [1, 20, 30]


def test_cohorts_take_turns_before_tigistes_within_them() -> None:
    # cohort 1 has three tigistes with old jobs, cohort 2 one tigiste with a newer job
    jobs = [
        job(1, tigiste=1, cohort=1, at=1),
        job(2, tigiste=2, cohort=1, at=2),
        job(3, tigiste=3, cohort=1, at=3),
        job(4, tigiste=9, cohort=2, at=10),
    ]
    machines = [MachineSlot(i, "printer", True, (250, 210, 210)) for i in range(1, 3)]
    assignments, _ = decide(jobs, machines)
    assert sorted(j for j, _ in assignments) == [1, 4]


def test_deterministic() -> None:
    jobs = [job(i, tigiste=i % 4, cohort=i % 2, at=float(i % 7)) for i in range(1, 60)]
    machines = [MachineSlot(i, "printer", True, (250, 210, 210)) for i in range(1, 8)]
    assert decide(jobs, machines) == decide(list(reversed(jobs)), list(reversed(machines)))


def test_assignment_type() -> None:
    decision = schedule(JobTable([job(1)]), [PRINTER])
    assert decision.assignments == [Assignment(1, 1)]
    assert schedule(JobTable([]), [PRINTER]).assignments == []


def test_a_job_that_cannot_run_does_not_hand_its_turn_to_a_lower_priority() -> None:
    """The oldest job is a laser job with no laser free: the urgent print still goes first."""
    jobs = [job(1, "laser", "plywood-poplar-3mm"), job(2), job(3, priority=9, tigiste=2)]
    assert decide(jobs, [PRINTER])[0] == [(3, 1)]


def test_an_updated_table_is_the_table_built_anew() -> None:
    jobs = [job(i, priority=i % 3, tigiste=i % 4, cohort=i % 2, at=float(100 - i)) for i in range(1, 40)]
    table = JobTable(jobs)
    changed = [job(7, priority=9), job(50, tigiste=3, at=1.5), job(51, "laser", "acrylic-3mm", at=200.0)]
    updated = table.updated(changed, removed=[3, 4, 99])
    rest = [j for j in jobs if j.id not in (3, 4, 7)] + changed
    fresh = JobTable(rest)
    assert updated.ids[updated.order].tolist() == fresh.ids[fresh.order].tolist()
    machines = [PRINTER, PRINTER2, LASER]
    assert schedule(updated, machines).waiting == schedule(fresh, machines).waiting
