"""Shared by the machine tests: a job file and a way to run it to its end through the real driver."""

from __future__ import annotations

import asyncio
from pathlib import Path

from fablabctl.machines.base import TERMINAL_EVENTS, Driver, MachineEvent


def gcode_file(path: Path, moves: int = 50, header: str = "") -> tuple[Path, list[str]]:
    lines = [f"G1 X{i % 200} Y{(i * 7) % 200} F3000" for i in range(moves)]
    text = (
        header + "; a test job\n\n" + "\n".join(f"{line} ; move {i}" for i, line in enumerate(lines)) + "\n"
    )
    path.write_text(text)
    commands = [line.split(";")[0].strip() for line in header.splitlines() if line.split(";")[0].strip()]
    return path, commands + lines


async def run_job(driver: Driver, path: Path, timeout: float = 60) -> tuple[MachineEvent, list[MachineEvent]]:
    """Start the job and collect events until the terminal one."""
    seen: list[MachineEvent] = []
    async with driver.subscribe() as events:
        await driver.start(path)

        async def until_end() -> MachineEvent:
            async for event in events:
                seen.append(event)
                if event.kind in TERMINAL_EVENTS:
                    return event
            raise AssertionError("event stream ended")

        return await asyncio.wait_for(until_end(), timeout), seen


def job_commands(executed: list[str], expected: list[str]) -> list[str]:
    """What the firmware executed of the job, skipping the host's own handshake and polling."""
    own = {"M110 N0", "M115", "M155 S2", "M155 S1", "M105"}
    return [c for c in executed if c not in own or c in expected]
