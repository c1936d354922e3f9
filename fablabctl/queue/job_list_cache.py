"""The job list, answered from memory while the jobs have not changed.

Every open page polls the job list: 200 pages would need more than a core to build the same 200 rows
again each second. An answer (the JSON bytes) is kept per reader, filters and language, with the jobs
table's version: its newest `updated_at`, highest id and row count, read in one query on indexes.
Every change to a job sets `updated_at` (the dispatcher relies on it too), a new job raises the highest
id, a purge lowers the count: any of them makes the next request build the list again. An answer is
also never older than `TTL_S`: a change stamped a moment before a slow commit, or by a process whose
clock is behind, is seen within that time anyway. The cache is in the service's memory only (API
answers stay `no-store` for browsers: they hold personal data).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fablabctl.db.models import Job

TTL_S = 2.0
MAX_ENTRIES = 512  # readers × filter combinations; the least recently used goes first

VERSION = select(func.max(Job.updated_at), func.max(Job.id), func.count(Job.id))


def jobs_version(session: Session) -> tuple[Any, ...]:
    """What changes whenever any job is added, changed or deleted."""
    return tuple(session.execute(VERSION).one())


class JobListCache:
    """Thread-safe: the web's worker threads share one instance (`app.state.job_lists`)."""

    def __init__(self, *, ttl_s: float = TTL_S, max_entries: int = MAX_ENTRIES) -> None:
        self.ttl_s, self.max_entries = ttl_s, max_entries
        self._entries: OrderedDict[Hashable, tuple[tuple[Any, ...], float, bytes]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def clear(self) -> None:
        """Forget every answer (a purge: no erased name may stay in memory, even for 2 s)."""
        with self._lock:
            self._entries.clear()

    def get(self, session: Session, key: Hashable, build: Callable[[], bytes]) -> bytes:
        """The answer for `key`: from memory if the jobs have not changed since, else `build()`."""
        version = jobs_version(session)
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] == version and now - entry[1] < self.ttl_s:
                self._entries.move_to_end(key)
                self.hits += 1
                return entry[2]
        body = build()  # outside the lock: readers of other keys do not wait for this one
        with self._lock:
            self.misses += 1
            self._entries[key] = (version, now, body)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return body
