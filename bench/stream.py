"""Streaming throughput to the simulators over a pty emulating a serial link's speed.

Marlin: lines/s as a share of what one-ok-per-line allows on that link (target >= 90 %).
Grbl: character counting vs plain send-and-wait measured in the same run (target >= 3x), and
planner starvation while cutting short segments at a real feed rate (target: none).
Run: .venv/bin/python bench/stream.py [--lines N]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import serial

from fablabctl.machines.base import EventKind, job_lines
from fablabctl.machines.grbl import GrblDriver
from fablabctl.machines.marlin import MarlinDriver
from fablabctl.machines.marlin_protocol import numbered
from fablabctl.machines.sim.grbl_sim import GrblSimulator
from fablabctl.machines.sim.marlin_sim import MarlinSimulator

OK_BYTES = len("ok\n")


def job(path: Path, lines: int, laser: bool) -> Path:
    body = [
        f"G1X{10 + (i % 2) * 0.5:.1f}Y{10 + (i % 3) * 0.5:.1f}" + ("S500" if laser else f"E{i * 0.01:.2f}")
        for i in range(lines)
    ]
    head = ["G21", "G90", "M4S0", "G1F3000"] if laser else ["G21", "G90", "M83", "G1F3000"]
    path.write_text("\n".join(head + body + (["M5"] if laser else [])) + "\n")
    return path


async def run(driver: MarlinDriver | GrblDriver, path: Path) -> tuple[float, float]:
    await driver.connect()
    async with driver.subscribe() as events:
        cpu, wall = time.process_time(), time.perf_counter()
        await driver.start(path)
        async for event in events:
            if event.kind in (EventKind.JOB_DONE, EventKind.JOB_FAILED, EventKind.JOB_CANCELLED):
                assert event.kind is EventKind.JOB_DONE, event
                break
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    await driver.disconnect()
    return wall, cpu


def marlin(lines: int, baud: int, tmp: Path) -> None:
    path = job(tmp / "print.gcode", lines, laser=False)
    commands = job_lines(path)
    rate = baud / 10  # 8N1: 10 bits per byte
    with MarlinSimulator(bytes_per_s=rate) as sim:
        driver = MarlinDriver(sim.port, baud)
        wall, cpu = asyncio.run(run(driver, path))
    sent = sum(len(numbered(i + 4, c)) + 1 for i, c in enumerate(commands))
    limit_s = (sent + OK_BYTES * len(commands)) / rate  # every line and its ok cross the link once
    per_line = cpu / len(commands) * 1e6
    print(
        f"Marlin {baud:>6} baud: {len(commands) / wall:7.0f} lines/s = {limit_s / wall:5.1%} of the "
        f"one-ok-per-line limit ({len(commands) / limit_s:.0f} lines/s); host CPU {per_line:.0f} µs/line"
    )


def send_and_wait(port: str, baud: int, commands: list[str]) -> float:
    """The naive baseline: one line, wait for its ok, next line."""
    with serial.Serial(port, baud, timeout=2) as link:
        link.write(b"\x18")
        time.sleep(0.2)
        link.reset_input_buffer()
        start = time.perf_counter()
        for command in commands:
            link.write((command + "\n").encode())
            while True:
                reply = link.readline().strip()
                if reply == b"ok" or reply.startswith(b"error"):
                    break
        return time.perf_counter() - start


def grbl(lines: int, baud: int, tmp: Path) -> None:
    path = job(tmp / "cut.nc", lines, laser=True)
    commands = job_lines(path)
    rate = baud / 10
    # an AVR Grbl needs ~2 ms to parse and plan a line; USB-serial adapters add a few ms of latency
    with GrblSimulator(bytes_per_s=rate, time_scale=0.0, command_s=0.002, latency_s=0.004) as sim:
        counted, cpu = asyncio.run(run(GrblDriver(sim.port, baud), path))
        overflow = sim.overflowed_bytes
    with GrblSimulator(bytes_per_s=rate, time_scale=0.0, command_s=0.002, latency_s=0.004) as sim:
        naive = send_and_wait(sim.port, baud, commands)
    print(
        f"Grbl   {baud:>6} baud: character counting {len(commands) / counted:7.0f} lines/s, send-and-wait "
        f"{len(commands) / naive:6.0f} lines/s: {naive / counted:4.1f}x; overflowed bytes {overflow}; "
        f"host CPU {cpu / len(commands) * 1e6:.0f} µs/line"
    )


def starvation(baud: int, tmp: Path, lines: int = 1500) -> None:
    """0.5 mm segments at 3000 mm/min (10 ms each, real time): does the planner ever run dry?"""
    path = job(tmp / "short.nc", lines, laser=True)
    with GrblSimulator(bytes_per_s=baud / 10, time_scale=1.0) as sim:
        wall, _ = asyncio.run(run(GrblDriver(sim.port, baud), path))
        print(
            f"Grbl   {baud:>6} baud: {lines} short segments in {wall:.1f} s, planner starved "
            f"{sim.starved} times (target 0)"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for baud in (115200, 250000):
            marlin(args.lines, baud, Path(tmp))
            grbl(args.lines, baud, Path(tmp))
        starvation(115200, Path(tmp))


if __name__ == "__main__":
    main()
