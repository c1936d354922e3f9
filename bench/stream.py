"""Streaming throughput to the simulators over a pty emulating a serial link's speed.

Marlin: lines/s as a share of what one-ok-per-line allows on that link (target >= 90 %), against our
simulator with its 128-byte receive buffer (bytes overflowed must stay 0); and our driver's rate as a share
of a minimal ping-pong client (write a numbered line, wait for its ok) against the same third-party
emulation, OctoPrint's virtual printer on a pty (bench/_virtual_marlin.py, target >= 95 %), with the
driver at one line in flight (as before) and at its default window, in the same run.
Grbl: character counting vs plain send-and-wait measured in the same run (target >= 3x), and
planner starvation while cutting short segments at a real feed rate (target: none).
Run: .venv/bin/python bench/stream.py [--lines N] [--table]
"""

from __future__ import annotations

import asyncio
import subprocess
import tempfile
import time
from pathlib import Path

import serial
from _table import Row, emit, options

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


ROOT = Path(__file__).resolve().parents[1]
VIRTUAL_PYTHON = ROOT / ".venv-octoprint" / "bin" / "python"
ROWS: list[Row] = []


def row(area: str, measure: str, figure: str, target: str, met: bool | None) -> None:
    ROWS.append(Row(area, measure, figure, target, met))


def marlin(lines: int, baud: int, tmp: Path, window: int | None = None) -> None:
    path = job(tmp / "print.gcode", lines, laser=False)
    commands = job_lines(path)
    rate = baud / 10  # 8N1: 10 bits per byte
    with MarlinSimulator(bytes_per_s=rate) as sim:
        driver = (
            MarlinDriver(sim.port, baud) if window is None else MarlinDriver(sim.port, baud, window=window)
        )
        wall, cpu = asyncio.run(run(driver, path))
        overflowed = sim.overflowed_bytes
    sent = sum(len(numbered(i + 1, c)) + 1 for i, c in enumerate(commands))
    limit_s = (sent + OK_BYTES * len(commands)) / rate  # every line and its ok cross the link once
    per_line = cpu / len(commands) * 1e6
    share = limit_s / wall
    how = f"window {driver.flow.window}"
    print(
        f"Marlin {baud:>6} baud ({how}): {len(commands) / wall:7.0f} lines/s = {share:5.1%} of the "
        f"one-ok-per-line limit ({len(commands) / limit_s:.0f} lines/s); host CPU {per_line:.0f} µs/line; "
        f"receive buffer overflowed by {overflowed} bytes"
    )
    row(
        "marlin",
        f"{lines} lines at {baud} baud, share of the link limit ({how}, simulator, 128-byte buffer)",
        f"{share:.1%} (overflowed bytes: {overflowed})",
        "≥ 90 %, 0 bytes",
        share >= 0.9 and overflowed == 0,
    )


def virtual_printer() -> tuple[subprocess.Popen[str], str]:
    """OctoPrint's virtual printer on a fresh pty; (its process, the port)."""
    process = subprocess.Popen(
        [str(VIRTUAL_PYTHON), str(ROOT / "bench" / "_virtual_marlin.py")],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    port = process.stdout.readline().strip()
    if not port:
        process.kill()
        raise RuntimeError("OctoPrint's virtual printer did not start")
    return process, port


def ping_pong(port: str, commands: list[str]) -> float:
    """The minimal client: one numbered line, wait for its `ok`, the next line."""
    with serial.Serial(port, 115200, timeout=5) as link:
        time.sleep(0.2)
        link.reset_input_buffer()
        link.write((numbered(0, "M110 N0") + "\n").encode())
        while not link.readline().startswith(b"ok"):
            pass
        start = time.perf_counter()
        for number, command in enumerate(commands, start=1):
            link.write((numbered(number, command) + "\n").encode())
            while True:
                reply = link.readline()
                if reply.startswith(b"ok"):
                    break
                if not reply or reply.startswith((b"Resend", b"Error")):
                    raise RuntimeError(f"ping-pong client: line {number}: {reply!r}")
        return time.perf_counter() - start


def versus_ping_pong(lines: int, tmp: Path) -> None:
    if not VIRTUAL_PYTHON.exists():
        print("Marlin vs ping-pong: skipped, OctoPrint's venv is missing (scripts/setup_octoprint.sh)")
        return
    path = job(tmp / "vp.gcode", lines, laser=False)
    commands = job_lines(path)
    rates: dict[str, float] = {}
    resends: dict[str, int] = {}
    for name in ("ping-pong", "window 1", "default window"):
        process, port = virtual_printer()
        try:
            if name == "ping-pong":
                rates[name] = len(commands) / ping_pong(port, commands)
                continue
            driver = (
                MarlinDriver(port, 115200, window=1) if name == "window 1" else MarlinDriver(port, 115200)
            )
            wall, _ = asyncio.run(run(driver, path))
            rates[name], resends[name] = len(commands) / wall, driver.flow.resends
        finally:
            process.kill()
            process.wait()
    for name in ("window 1", "default window"):
        share = rates[name] / rates["ping-pong"]
        print(
            f"Marlin vs ping-pong, OctoPrint virtual printer, {lines} lines: driver ({name}) "
            f"{rates[name]:.0f} lines/s, ping-pong {rates['ping-pong']:.0f} lines/s = {share:.1%}; "
            f"lines resent {resends[name]}"
        )
        row(
            "marlin",
            f"{lines} lines vs a minimal ping-pong client, OctoPrint's virtual printer ({name})",
            f"{share:.1%} ({rates[name]:.0f} vs {rates['ping-pong']:.0f} lines/s)",
            "≥ 95 %",
            share >= 0.95 if name == "default window" else None,
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
    parser = options(__doc__)
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--marlin-only", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.lines = min(args.lines, 2000)
    with tempfile.TemporaryDirectory() as tmp:
        for baud in (115200, 250000):
            marlin(args.lines, baud, Path(tmp), window=1)
            marlin(args.lines, baud, Path(tmp))
            if not args.marlin_only:
                grbl(args.lines, baud, Path(tmp))
        versus_ping_pong(args.lines, Path(tmp))
        if not args.marlin_only:
            starvation(115200, Path(tmp))
    if args.table:
        emit(ROWS, table=True)


if __name__ == "__main__":
    main()
