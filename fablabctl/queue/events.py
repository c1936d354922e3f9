"""The service's single event bus, Moonraker-style named events, published only after commit.

Anything that changes state (a job transition in an API call, the dispatcher following a machine)
`defer`s its event on the database session; the event reaches subscribers once the transaction
commits, so a client never hears of a change that was rolled back. Publishing is thread-safe:
synchronous API handlers run in worker threads, subscribers live on the event loop.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from fablabctl.clock import utc_now
from fablabctl.queue.reasons import Reason, split

log = logging.getLogger(__name__)

JOB_STATE = "notify_job_state_changed"
JOB_PROGRESS = "notify_job_progress"
MACHINE_STATE = "notify_machine_state_changed"
MACHINE_TEMPERATURES = "notify_machine_temperatures"
MACHINE_MESSAGE = "notify_machine_message"
OPERATOR_PROMPT = "notify_operator_prompt"
JOB_BLOCKED = "notify_job_blocked"
EVENT_NAMES = (
    JOB_STATE,
    JOB_PROGRESS,
    JOB_BLOCKED,
    MACHINE_STATE,
    MACHINE_TEMPERATURES,
    MACHINE_MESSAGE,
    OPERATOR_PROMPT,
)


@dataclass(frozen=True, slots=True)
class Shape:
    """The fields an event always carries, and the ones it may add (README: "Event stream")."""

    required: frozenset[str]
    optional: frozenset[str] = frozenset()
    open_ended: bool = False  # temperatures: one entry per heater, named by the machine


def _shape(required: str, optional: str = "", *, open_ended: bool = False) -> Shape:
    return Shape(frozenset(required.split()), frozenset(optional.split()), open_ended)


SHAPES: dict[str, Shape] = {
    JOB_STATE: _shape(
        "job_id from_state to_state machine_id actor_id",
        "reason reason_code reason_params requested",
    ),
    JOB_PROGRESS: _shape("job_id progress"),
    JOB_BLOCKED: _shape("job_id reason_code reason_params reason_fr reason_en"),
    MACHINE_STATE: _shape("machine_id state job_id"),
    MACHINE_TEMPERATURES: _shape("machine_id", open_ended=True),
    MACHINE_MESSAGE: _shape("machine_id text", "text_fr job_id code level"),
    OPERATOR_PROMPT: _shape("job_id machine_id machine question_fr question_en"),
}


def shapes_table() -> str:
    """The event shapes as a Markdown table (the OpenAPI description of `/api/v1/events`)."""
    lines = ["| event | always | sometimes |", "|---|---|---|"]
    for name, shape in SHAPES.items():
        always = ", ".join(f"`{k}`" for k in sorted(shape.required))
        sometimes = ", ".join(f"`{k}`" for k in sorted(shape.optional))
        if shape.open_ended:
            sometimes = "one `{actual, target}` per heater, by the heater's name"
        lines.append(f"| `{name}` | {always} | {sometimes} |")
    return "\n".join(lines)


def shape_errors(name: str, data: dict[str, Any]) -> list[str]:
    """What is wrong with this event against its documented shape (empty: it matches)."""
    shape = SHAPES.get(name)
    if shape is None:
        return [f"unknown event name {name!r}"]
    problems = [f"{name}: missing {key!r}" for key in sorted(shape.required - set(data))]
    if not shape.open_ended:
        extra = set(data) - shape.required - shape.optional
        problems += [f"{name}: undocumented {key!r}" for key in sorted(extra)]
    return problems


def job_state(
    job: Any,
    from_state: str | None,
    *,
    actor_id: int | None = None,
    reason: str | Reason | None = None,
    requested: str | None = None,
) -> dict[str, Any]:
    """`notify_job_state_changed` for `job` (a `Job` row); a staff request keeps from = to = its state."""
    data: dict[str, Any] = {
        "job_id": job.id,
        "from_state": from_state,
        "to_state": job.state,
        "machine_id": job.machine_id,
        "actor_id": actor_id,
    }
    if reason is not None:
        data["reason"], data["reason_code"], data["reason_params"] = split(reason)
    if requested is not None:
        data["requested"] = requested
    return data


def machine_state(machine_id: int, state: str, job_id: int | None) -> dict[str, Any]:
    return {"machine_id": machine_id, "state": state, "job_id": job_id}


_PENDING = "fablab_pending_events"
_BUS = "fablab_bus"


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    name: str
    data: dict[str, Any]
    owner_id: int | None = None  # set on job events: a tigiste hears only about their own jobs
    at: datetime = field(default_factory=utc_now)


class Subscription:
    """One listener's bounded queue; when a slow client falls behind, the oldest events go first."""

    def __init__(self, loop: asyncio.AbstractEventLoop, size: int) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=size)
        self.dropped = 0

    def offer(self, item: Event) -> None:  # runs on the subscriber's loop
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(item)

    async def get(self) -> Event:
        return await self.queue.get()


class EventBus:
    def __init__(self, queue_size: int = 1000) -> None:
        self._subscribers: set[Subscription] = set()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._queue_size = queue_size

    def publish(self, name: str, data: dict[str, Any], *, owner_id: int | None = None) -> Event:
        for problem in shape_errors(name, data):  # a bug of ours: said loudly, the event still goes out
            log.error("event does not match its documented shape: %s", problem)
        item = Event(id=next(self._ids), name=name, data=data, owner_id=owner_id)
        with self._lock:
            subscribers = list(self._subscribers)
        for sub in subscribers:
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is sub.loop:
                sub.offer(item)
            elif not sub.loop.is_closed():
                sub.loop.call_soon_threadsafe(sub.offer, item)
        return item

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[Subscription]:
        sub = Subscription(asyncio.get_running_loop(), self._queue_size)
        with self._lock:
            self._subscribers.add(sub)
        try:
            yield sub
        finally:
            with self._lock:
                self._subscribers.discard(sub)


def bind(factory: sessionmaker[Session], bus: EventBus) -> None:
    """Sessions from `factory` publish their deferred events to `bus` after each commit."""
    factory.kw.setdefault("info", {})[_BUS] = bus


def defer(session: Session, name: str, data: dict[str, Any], *, owner_id: int | None = None) -> None:
    """Queue an event on the session; it is published after commit (dropped on rollback)."""
    if _BUS in session.info:
        session.info.setdefault(_PENDING, []).append((name, data, owner_id))


@event.listens_for(Session, "after_commit")
def _publish_after_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    bus = session.info.get(_BUS)
    if pending and bus is not None:
        for name, data, owner_id in pending:
            bus.publish(name, data, owner_id=owner_id)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)
