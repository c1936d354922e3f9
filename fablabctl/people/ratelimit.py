"""Login throttling: a sliding window of failed attempts per username and per client address."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class LoginLimiter:
    """Allows `limit` failures per key within `window_s`; then refuses until the oldest one ages out."""

    def __init__(
        self, limit: int, window_s: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, *keys: str) -> float:
        """Seconds to wait before another attempt is allowed (0 when allowed now)."""
        now = self._clock()
        wait = 0.0
        with self._lock:
            for key in keys:
                stamps = self._prune(key, now)
                if len(stamps) >= self.limit:
                    wait = max(wait, stamps[0] + self.window_s - now)
        return wait

    def failed(self, *keys: str) -> None:
        now = self._clock()
        with self._lock:
            for key in keys:
                self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, username_key: str) -> None:
        with self._lock:
            self._failures.pop(username_key, None)

    def _prune(self, key: str, now: float) -> deque[float]:
        stamps = self._failures.get(key)
        if stamps is None:
            return deque()
        while stamps and stamps[0] <= now - self.window_s:
            stamps.popleft()
        if not stamps:
            del self._failures[key]
        return stamps
