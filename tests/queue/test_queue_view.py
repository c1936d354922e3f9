"""The dispatcher's queue kept up to date between ticks: jobs added, cancelled and re-prioritised by
another process (its own engine and connections) are seen at the next tick, on SQLite and PostgreSQL,
and the table read change by change orders the queue exactly as a whole reload does."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from fablabctl.db.engine import make_engine, make_session_factory, session_scope
from fablabctl.db.models import Design, DesignFile, Job, Machine, Site, User
from fablabctl.queue.dispatcher import _claim_round
from fablabctl.queue.jobs import transition
from fablabctl.queue.queue_view import QueueView
from fablabctl.queue.scheduler import JobTable, MachineSlot
from fablabctl.queue.states import JobState

SIZE = {"en": {"metrics": {"size_mm": [20.0, 30.0, 10.0]}}}


@pytest.fixture
def other(engine: Engine) -> Iterator[Engine]:
    """Another process's view of the same database: its own engine, pool and connections."""
    second = make_engine(engine.url.render_as_string(hide_password=False))
    yield second
    second.dispose()


def seed(session: Session, jobs: int) -> tuple[int, int]:
    """A tigiste, a validated design and `jobs` queued jobs; returns (user id, design id)."""
    user = User(username="lea", display_name="Léa", role="tigiste", password_hash="x")
    session.add(user)
    session.add(DesignFile(sha256="a" * 64, size_bytes=1, file_type="stl", report=SIZE, ok=True))
    session.flush()
    design = Design(sha256="a" * 64, filename="cube.stl", owner_id=user.id)
    session.add(design)
    session.flush()
    for _ in range(jobs):
        add_job(session, user.id, design.id)
    return user.id, design.id


def add_job(session: Session, user_id: int, design_id: int, priority: int = 0) -> Job:
    job = Job(
        design_id=design_id,
        kind="printer",
        material="PLA",
        priority=priority,
        state=JobState.QUEUED.value,
        owner_id=user_id,
        submitted_by_id=user_id,
        queued_at=datetime.now(UTC),
        settings={},
        estimates={},
    )
    session.add(job)
    session.flush()
    return job


def queue_of(table: JobTable) -> list[int]:
    return table.ids[table.order].tolist()


def test_changes_by_another_process_are_read_change_by_change(engine: Engine, other: Engine) -> None:
    ours, theirs = make_session_factory(engine), make_session_factory(other)
    with session_scope(ours) as session:
        user_id, design_id = seed(session, 3)
    view = QueueView()
    with session_scope(ours) as session:
        first = queue_of(view.refresh(session))
    assert len(first) == 3 and view.full_loads == 1
    with session_scope(theirs) as session:  # another process: a new job, a cancel, a priority change
        added = add_job(session, user_id, design_id).id
        transition(session, session.get_one(Job, first[0]), JobState.CANCELLED, actor=None, reason="x")
        session.get_one(Job, first[2]).priority = 5
    with session_scope(ours) as session:
        table = view.refresh(session)
    assert queue_of(table) == [first[2], first[1], added]
    assert (view.full_loads, view.partial_loads) == (1, 1)  # read change by change, not reloaded
    assert table.long_side.tolist() == [30.0, 30.0, 30.0]  # the design's size, read once per design
    with session_scope(ours) as session:  # nothing changed: nothing read, nothing rebuilt
        assert view.refresh(session) is table
    assert (view.full_loads, view.partial_loads) == (1, 1)


def test_a_change_stamped_in_the_past_still_counts(engine: Engine, other: Engine) -> None:
    """A writer whose clock is behind: the queued count and id sum disagree, so the view reloads."""
    ours, theirs = make_session_factory(engine), make_session_factory(other)
    with session_scope(ours) as session:
        seed(session, 4)
    view = QueueView()
    with session_scope(ours) as session:
        first = queue_of(view.refresh(session))
    long_ago = datetime(2001, 1, 1, tzinfo=UTC)
    with session_scope(theirs) as session:
        session.execute(update(Job).where(Job.id == first[1]).values(state="cancelled", updated_at=long_ago))
    with session_scope(ours) as session:
        assert queue_of(view.refresh(session)) == [first[0], *first[2:]]
    assert view.full_loads == 2


def test_a_whole_reload_comes_periodically(engine: Engine, other: Engine) -> None:
    """Even a priority change stamped in the past (invisible to the count) is seen within
    `full_every_s`."""
    ours, theirs = make_session_factory(engine), make_session_factory(other)
    with session_scope(ours) as session:
        seed(session, 3)
    view = QueueView(full_every_s=0.0)
    with session_scope(ours) as session:
        first = queue_of(view.refresh(session))
    with session_scope(theirs) as session:
        session.execute(
            update(Job)
            .where(Job.id == first[2])
            .values(priority=3, updated_at=datetime(2001, 1, 1, tzinfo=UTC))
        )
    with session_scope(ours) as session:
        assert queue_of(view.refresh(session))[0] == first[2]


def test_many_random_changes_give_the_same_queue_as_a_reload(engine: Engine, other: Engine) -> None:
    ours, theirs = make_session_factory(engine), make_session_factory(other)
    rng = random.Random(3)
    with session_scope(ours) as session:
        user_id, design_id = seed(session, 30)
        for name in ("sam", "noa"):
            session.add(User(username=name, display_name=name, role="tigiste", password_hash="x"))
    with session_scope(ours) as session:
        users = list(session.scalars(select(User.id)))
    view = QueueView()
    for _ in range(15):
        with session_scope(theirs) as session:
            queued = list(session.scalars(select(Job).where(Job.state == "queued")))
            for job in rng.sample(queued, min(3, len(queued))):
                action = rng.choice(["cancel", "priority", "owner"])
                if action == "cancel":
                    transition(session, job, JobState.CANCELLED, actor=None, reason="x")
                elif action == "priority":
                    job.priority = rng.choice([0, 1, 2])
                else:
                    job.owner_id = rng.choice(users)
            for _ in range(rng.randrange(4)):
                add_job(session, rng.choice(users), design_id, rng.choice([0, 1]))
        with session_scope(ours) as session:
            incremental = queue_of(view.refresh(session))
            whole = queue_of(QueueView().refresh(session))
        assert incremental == whole
    assert view.full_loads == 1 and view.partial_loads >= 10
    assert user_id in users


def test_the_claim_round_starts_a_job_queued_between_two_ticks(engine: Engine, other: Engine) -> None:
    ours, theirs = make_session_factory(engine), make_session_factory(other)
    with session_scope(ours) as session:
        user_id, design_id = seed(session, 0)
        site = Site(name="main")
        session.add(site)
        session.flush()
        machine = Machine(
            site_id=site.id,
            name="p1",
            kind="printer",
            driver="marlin",
            bed_x_mm=200,
            bed_y_mm=200,
            bed_z_mm=200,
        )
        session.add(machine)
        session.flush()
        slot = MachineSlot(machine.id, "printer", True, (200.0, 200.0, 200.0), None, frozenset())
    view = QueueView()
    with session_scope(ours) as session:
        assert _claim_round(session, [slot], "me", view) == []
    with session_scope(theirs) as session:
        job_id = add_job(session, user_id, design_id).id
    with session_scope(ours) as session:
        assert _claim_round(session, [slot], "me", view) == [(job_id, slot.id)]
    with session_scope(ours) as session:  # claimed: it has left the queue, the view knows it
        assert queue_of(view.refresh(session)) == []
        assert session.get_one(Job, job_id).state == JobState.PREPARING.value
    assert view.full_loads == 1
    assert datetime.now(UTC) - timedelta(minutes=1) < view.newest


def test_a_failed_claim_drops_the_job_from_the_view(engine: Engine, other: Engine) -> None:
    """Another dispatcher took the job between our read and our claim: it leaves our copy at once."""
    ours, theirs = make_session_factory(engine), make_session_factory(other)
    with session_scope(ours) as session:
        seed(session, 2)
    view = QueueView()
    with session_scope(ours) as session:
        first = queue_of(view.refresh(session))
    with session_scope(theirs) as session:
        session.execute(update(Job).where(Job.id == first[0]).values(state="preparing"))
    with session_scope(ours) as session:
        view.recheck(session, [first[0], first[1]])
    assert queue_of(view.table) == [first[1]] and view.full_loads == 1
