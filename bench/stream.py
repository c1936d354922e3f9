"""Streaming throughput to the simulators over a pty emulating a serial link's speed.

Marlin, against our simulator (its 128-byte receive buffer: bytes overflowed must stay 0), run in a
process of its own as firmware runs on its own board, with a full-duplex UART at the baud rate
(`sim/serial_wire.py`: lines reach the firmware at the link's pace while `ok`s travel back at the same
time, as on the two wires of a real UART). The link limit is what the host-to-printer wire carries:
the job's numbered lines' bytes at the baud rate; target >= 90 % at the default window. One line at a
time (window 1) cannot reach it, as each line then waits for its `ok` to cross back: it is compared
with the one-ok-per-line limit (line + `ok` bytes at the baud rate). Every line must run exactly once.
And our driver's rate as a share of a minimal ping-pong client (write a numbered line, wait for its
ok) against the same third-party emulation, OctoPrint's virtual printer on a pty
(bench/_virtual_marlin.py, target >= 95 %), with the driver at one line in flight and at its default
window. Runs are interleaved and repeated (`--repeat`): the median and the spread are reported.
Grbl: character counting vs plain send-and-wait measured in the same run (target >= 3x), and
planner starvation while cutting short segments at a real feed rate (target: none).
Run: .venv/bin/python bench/stream.py [--lines N] [--repeat N] [--marlin-only] [--table]
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import serial
from _table import Row, emit, options

from fablabctl.machines.base import EventKind, job_lines
from fablabctl.machines.grbl import GrblDriver
from fablabctl.machines.marlin import MarlinDriver
from fablabctl.machines.marlin_protocol import numbered
from fablabctl.machines.marlin_stream import WINDOW
from fablabctl.machines.sim.grbl_sim import GrblSimulator

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


class MarlinProcess:
    """Our simulator in its own process (bench/_marlin_sim.py): `port`, then `finish()` for what it saw."""

    def __init__(self, bytes_per_s: float) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "_marlin_sim.py"), str(bytes_per_s)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.port = self.process.stdout.readline().strip()
        if not self.port:
            self.process.kill()
            raise RuntimeError("the Marlin simulator did not start")

    def finish(self) -> tuple[int, list[tuple[int, str]], float]:
        """(bytes its receive buffer lost, the numbered lines of the last job as it ran them, its CPU s)."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        report = json.loads(self.process.stdout.readline())
        self.process.wait(10)
        ran = [(n, c) for n, c in report["numbered"]]
        start = max(i for i, (_, command) in enumerate(ran) if command.startswith("M110"))
        return report["overflowed_bytes"], ran[start + 1 :], report["cpu_s"]


def spread(values: list[float]) -> str:
    """The median, and the range when there are several runs."""
    middle = statistics.median(values)
    if len(values) == 1:
        return f"{middle:.1%}"
    return f"{middle:.1%} ({min(values):.1%}–{max(values):.1%}, {len(values)} runs)"


def marlin(lines: int, baud: int, tmp: Path, repeat: int) -> None:
    path = job(tmp / "print.gcode", lines, laser=False)
    commands = job_lines(path)
    expected = list(enumerate(commands, start=1))
    rate = baud / 10  # 8N1: 10 bits per byte
    sent = sum(len(numbered(i + 1, c)) + 1 for i, c in enumerate(commands))
    link_s = sent / rate  # the host-to-printer wire busy all along
    ping_pong_s = (sent + OK_BYTES * len(commands)) / rate  # each line waits for its ok to cross back
    shares: dict[int, list[float]] = {1: [], WINDOW: []}
    cpu_us: dict[int, list[float]] = {1: [], WINDOW: []}
    overflowed = 0
    for _ in range(repeat):
        for window in (1, WINDOW):
            sim = MarlinProcess(rate)
            try:
                driver = MarlinDriver(sim.port, baud, window=window)
                wall, cpu = asyncio.run(run(driver, path))
            finally:
                lost, ran, sim_cpu = sim.finish()
            if ran != expected:
                raise RuntimeError(f"Marlin {baud} baud, window {window}: a line ran twice, never or late")
            overflowed += lost
            limit = link_s if window > 1 else ping_pong_s
            shares[window].append(limit / wall)
            cpu_us[window].append(cpu / len(commands) * 1e6)
            print(
                f"Marlin {baud:>6} baud (window {window}): {len(commands) / wall:7.0f} lines/s = "
                f"{limit / wall:5.1%} of the {'link' if window > 1 else 'one-ok-per-line'} limit "
                f"({len(commands) / limit:.0f} lines/s); CPU per line: driver "
                f"{cpu / len(commands) * 1e6:.0f} µs, simulator {sim_cpu / len(commands) * 1e6:.0f} µs; "
                f"receive buffer overflowed by {lost} bytes; every line ran once, in order"
            )
    row(
        "Marlin",
        f"{lines} short moves at {baud} baud ÷ the link limit (the lines' bytes at the baud rate, full "
        f"duplex), window {WINDOW}, our simulator (128-byte buffer) in its own process",
        f"{spread(shares[WINDOW])}; 0 lines lost or repeated; {overflowed} bytes overflowed; driver CPU "
        f"{statistics.median(cpu_us[WINDOW]):.0f} µs/line",
        "≥ 90 %, 0 bytes",
        statistics.median(shares[WINDOW]) >= 0.9 and overflowed == 0,
    )
    row(
        "Marlin",
        "same, one line at a time (window 1) ÷ the one-ok-per-line limit (line + `ok` bytes)",
        spread(shares[1]),
        "–",
        None,
    )


def virtual_printer() -> tuple[subprocess.Popen[str], str]:
    """OctoPrint's virtual printer on a fresh pty; (its process, the port)."""
    process = subprocess.Popen(
        [str(VIRTUAL_PYTHON), str(ROOT / "bench" / "_virtual_marlin.py")],
        stdin=subprocess.PIPE,
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


def printer_saw(process: subprocess.Popen[str], last: int, sent: int, who: str) -> None:
    """The virtual printer accepted lines up to `last`, and received as many as were written: none
    twice (it accepts only the line after its last one and asks for a resend otherwise)."""
    assert process.stdin is not None and process.stdout is not None
    process.stdin.close()
    seen = json.loads(process.stdout.readline())
    if seen != {"last_line": last, "received_lines": sent}:
        raise RuntimeError(f"{who}: the virtual printer saw {seen}, not {last} lines once each ({sent} sent)")


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


def versus_ping_pong(lines: int, tmp: Path, repeat: int) -> None:
    if not VIRTUAL_PYTHON.exists():
        print("Marlin vs ping-pong: skipped, OctoPrint's venv is missing (scripts/setup_octoprint.sh)")
        return
    path = job(tmp / "vp.gcode", lines, laser=False)
    commands = job_lines(path)
    names = ("window 1", "default window")
    shares: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(repeat):  # interleaved: each round compares runs made under the same load
        rates: dict[str, float] = {}
        resends: dict[str, int] = {}
        for name in ("ping-pong", *names):
            process, port = virtual_printer()
            try:
                if name == "ping-pong":
                    rates[name] = len(commands) / ping_pong(port, commands)
                    printer_saw(process, len(commands), len(commands) + 1, name)  # M110 N0 first
                    continue
                driver = MarlinDriver(port, 115200, window=1 if name == "window 1" else WINDOW)
                wall, _ = asyncio.run(run(driver, path))
                rates[name], resends[name] = len(commands) / wall, driver.flow.resends
                printer_saw(process, len(commands), driver.sent_lines, name)
            finally:
                process.kill()
                process.wait()
        for name in names:
            share = rates[name] / rates["ping-pong"]
            shares[name].append(share)
            print(
                f"Marlin vs ping-pong, OctoPrint virtual printer, {lines} lines: driver ({name}) "
                f"{rates[name]:.0f} lines/s, ping-pong {rates['ping-pong']:.0f} lines/s = {share:.1%}; "
                f"lines resent {resends[name]}; every line received once"
            )
    for name in names:
        row(
            "Marlin",
            f"{lines} lines ÷ a minimal ping-pong client, OctoPrint's virtual printer ({name})",
            spread(shares[name]),
            "≥ 95 %" if name == "default window" else "–",
            statistics.median(shares[name]) >= 0.95 if name == "default window" else None,
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
    parser.add_argument("--repeat", type=int, default=3, help="runs of each Marlin measure (median)")
    parser.add_argument("--marlin-only", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.lines, args.repeat = min(args.lines, 2000), 1
    with tempfile.TemporaryDirectory() as tmp:
        for baud in (115200, 250000):
            marlin(args.lines, baud, Path(tmp), args.repeat)
            if not args.marlin_only:
                grbl(args.lines, baud, Path(tmp))
        versus_ping_pong(args.lines, Path(tmp), args.repeat)
        if not args.marlin_only:
            starvation(115200, Path(tmp))
    if args.table:
        emit(ROWS, table=True)


if __name__ == "__main__":
    main()
