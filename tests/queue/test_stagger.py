"""Staggered starts keep the gap between two machine starts, whatever order they ask in."""

from __future__ import annotations

import asyncio
import itertools

from fablabctl.queue.stagger import StaggeredStarts


def test_starts_are_spaced_by_the_delay() -> None:
    async def scenario() -> list[float]:
        stagger = StaggeredStarts(0.2)
        loop = asyncio.get_running_loop()
        stamps: list[float] = []

        async def start() -> None:
            await stagger.turn()
            stamps.append(loop.time())

        await asyncio.gather(*(start() for _ in range(3)))
        return stamps

    stamps = asyncio.run(scenario())
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert len(gaps) == 2
    assert all(gap >= 0.19 for gap in gaps)


def test_no_wait_when_the_previous_start_is_old_enough() -> None:
    now = [100.0]
    stagger = StaggeredStarts(20.0, monotonic=lambda: now[0])

    async def scenario() -> tuple[float, float]:
        first = await stagger.turn()
        now[0] += 25.0
        return first, await stagger.turn()

    assert asyncio.run(scenario()) == (0.0, 0.0)
