"""Staggered starts: machines begin heating one after the other, never all at once.

A mobile lab often runs on one site socket: three printers heating their beds together can trip it.
Every start waits its turn, at least `delay_s` after the previous one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class StaggeredStarts:
    def __init__(self, delay_s: float, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.delay_s = delay_s
        self._monotonic = monotonic
        self._lock = asyncio.Lock()
        self._last: float | None = None

    async def turn(self) -> float:
        """Wait until this start may go; return how long it waited (seconds)."""
        async with self._lock:
            waited = 0.0
            if self._last is not None:
                waited = max(0.0, self._last + self.delay_s - self._monotonic())
                if waited:
                    await asyncio.sleep(waited)
            self._last = self._monotonic()
            return waited
