"""The service's single event bus: named events, published only after their transaction commits.

Anything that changes state (a job transition in an API call, the dispatcher following a machine)
`defer`s its event on the database session; the event reaches subscribers once the transaction
commits, so a client never hears of a change that was rolled back. Publishing is thread-safe:
synchronous API handlers run in worker threads, subscribers live on the event loop. What the events
are is the business of their makers (`queue/events.py`), which hand the bus a `check` of their shapes.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from fablabctl.clock import utc_now

log = logging.getLogger(__name__)

Check = Callable[[str, dict[str, Any]], list[str]]  # what is wrong with an event (empty: nothing)

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
    def __init__(self, queue_size: int = 1000, *, check: Check | None = None) -> None:
        self._subscribers: set[Subscription] = set()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._queue_size = queue_size
        self._check = check

    def publish(self, name: str, data: dict[str, Any], *, owner_id: int | None = None) -> Event:
        for problem in self._check(name, data) if self._check else ():  # a bug of ours: said loudly,
            log.error("event does not match its documented shape: %s", problem)  # the event still goes out
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
