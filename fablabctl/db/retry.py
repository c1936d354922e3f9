"""Whole transactions, retried when the database is only momentarily unavailable.

A busy SQLite (another process holds the write lock past the busy timeout), a PostgreSQL
serialization failure or deadlock, a PostgreSQL server restarting under us: the transaction did
not happen (or its commit is in doubt), and running the same function again in a fresh session
is the fix. Work functions must therefore be *re-runnable*: they read what they need and decide
again, never assume the previous attempt left nothing behind (the dispatcher's writes are
conditional and idempotent for that reason).

`Transactions` runs them in a small thread pool of its own, so the asyncio loop never waits on
the database and a long slicing job (which uses the default pool) never delays a state change.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, sessionmaker

from fablabctl.db.engine import session_scope

log = logging.getLogger(__name__)
T = TypeVar("T")

FIRST_DELAY_S = 0.05
OUTAGE_AFTER_S = 1.0
MAX_DELAY_S = 1.0  # a lock is short, a restart a few seconds: retrying each second is cheap
# SQLSTATE classes/codes that mean "try the whole transaction again": serialization failure,
# deadlock, connection exceptions (08...), server shutting down / starting up (57P01-57P03).
_RETRY_SQLSTATES = frozenset({"40001", "40P01", "57P01", "57P02", "57P03"})
_SQLITE_BUSY = ("database is locked", "database is busy", "database table is locked")


def is_transient(error: BaseException) -> bool:
    """True when running the same transaction again may well succeed."""
    if isinstance(error, sa_exc.TimeoutError):  # no connection free in the pool right now
        return True
    if not isinstance(error, sa_exc.DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    original = error.orig
    sqlstate = str(getattr(original, "sqlstate", "") or "")
    if sqlstate in _RETRY_SQLSTATES or sqlstate.startswith("08"):
        return True
    if isinstance(error, sa_exc.OperationalError):
        text = str(original).lower()
        if any(busy in text for busy in _SQLITE_BUSY):
            return True
        # psycopg raises OperationalError for a lost or refused connection (no SQLSTATE then)
        return type(original).__module__.startswith("psycopg")
    return False


def describe(error: BaseException) -> str:
    """A short, plain description for logs (never shown to users)."""
    if isinstance(error, sa_exc.DBAPIError) and error.orig is not None:
        lines = str(error.orig).strip().splitlines()
        return f"{type(error.orig).__name__}: {lines[0] if lines else 'no message'}"
    return f"{type(error).__name__}: {error}"


def _next_delay(delay: float) -> float:
    return min(delay * 2, MAX_DELAY_S)


def run_retrying(
    factory: sessionmaker[Session],
    work: Callable[[Session], T],
    *,
    attempts: int = 5,
    what: str = "transaction",
) -> T:
    """Blocking version (for code already in a worker thread): `work(session)` in a transaction,
    run again on transient errors, at most `attempts` times."""
    delay = FIRST_DELAY_S
    for attempt in range(1, attempts + 1):
        try:
            with session_scope(factory) as session:
                return work(session)
        except Exception as error:
            if not is_transient(error) or attempt == attempts:
                raise
            log.info("%s: attempt %d failed (%s), retrying", what, attempt, describe(error))
            time.sleep(delay * random.uniform(0.5, 1.0))
            delay = _next_delay(delay)
    raise AssertionError("unreachable")


class Transactions:
    """Runs transactions off the event loop, retrying transient failures with bounded backoff."""

    def __init__(self, factory: sessionmaker[Session], *, workers: int = 4, name: str = "db") -> None:
        self.factory = factory
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self.down_since: float | None = None  # an outage is logged once when it starts, once when it ends
        self.outages = 0
        self.retries = 0  # transient failures met (and retried or given back), for tests and figures

    def _went_down(self, what: str, error: Exception) -> None:
        if self.down_since is None:
            self.down_since = time.monotonic()
            self.outages += 1
            log.warning("database unavailable (%s, during %s): retrying", describe(error), what)

    def _came_back(self) -> None:
        if self.down_since is not None:
            log.warning("database available again after %.1f s", time.monotonic() - self.down_since)
            self.down_since = None

    def _once(self, work: Callable[[Session], T]) -> T:
        with session_scope(self.factory) as session:
            return work(session)

    async def run(
        self, work: Callable[[Session], T], *, attempts: int | None = 5, what: str = "transaction"
    ) -> T:
        """`work(session)` in one transaction in a worker thread; `attempts=None` retries until it
        succeeds (or the task is cancelled): for the state changes a job must never lose."""
        loop = asyncio.get_running_loop()
        delay, attempt, since = FIRST_DELAY_S, 0, time.monotonic()
        while True:
            attempt += 1
            try:
                result = await loop.run_in_executor(self._pool, self._once, work)
            except Exception as error:
                if not is_transient(error):
                    raise
                self.retries += 1
                lost = isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated
                if lost or time.monotonic() - since >= OUTAGE_AFTER_S:  # a busy moment is not an outage
                    self._went_down(what, error)
                if attempts is not None and attempt >= attempts:
                    raise
                log.debug("%s: attempt %d failed (%s)", what, attempt, describe(error))
            else:
                if self.down_since is None and attempt > 1 and time.monotonic() - since >= OUTAGE_AFTER_S:
                    self.outages += 1  # it went through before we called it an outage: say it once
                    log.warning("%s: database was busy for %.1f s", what, time.monotonic() - since)
                self._came_back()
                return result
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            delay = _next_delay(delay)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
