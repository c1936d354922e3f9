"""The simulated UART (`sim/serial_wire.py`) paces each direction at the baud rate, independently of
the other, as a real UART's two wires; the Marlin driver reads its port in the event loop."""

from __future__ import annotations

import asyncio
import os
import select
import threading
import time
from pathlib import Path

import pytest

from fablabctl.machines.base import EventKind
from fablabctl.machines.marlin import MarlinDriver
from fablabctl.machines.marlin_link import LoopSerialLink
from fablabctl.machines.marlin_stream import encode
from fablabctl.machines.sim.marlin_sim import MarlinSimulator
from fablabctl.machines.sim.pty_port import PtyPort
from fablabctl.machines.sim.serial_wire import SerialWire
from tests.machines.helpers import gcode_file, run_job


def test_bytes_reach_the_firmware_one_after_the_other_at_the_baud_rate() -> None:
    pty = PtyPort()
    wire = SerialWire(pty, bytes_per_s=1000)  # 1 ms a byte
    try:
        wire.receive(b"ab\n", now=10.0)
        assert wire.arrived(10.0005) == b""  # the first byte is still on the wire
        assert wire.arrived(10.0015) == b"a"
        assert wire.next_line_at() == pytest.approx(10.003)
        wire.receive(b"cd\n", now=10.002)  # written while the first line still crosses: it queues
        assert wire.arrived(10.0035) == b"b\n"
        assert wire.next_line_at() == pytest.approx(10.006)
        assert wire.arrived(10.0065) == b"cd\n"
        assert wire.next_line_at() is None
        wire.receive(b"e\n", now=20.0)  # after a quiet spell: from the moment it was written
        assert wire.arrived(20.0005) == b""
        assert wire.arrived(20.0025) == b"e\n"
    finally:
        wire.close()
        pty.close()


def test_a_reply_crosses_at_the_baud_rate_without_holding_up_what_the_host_sends() -> None:
    pty = PtyPort()
    wire = SerialWire(pty, bytes_per_s=2000)
    host = os.open(pty.path, os.O_RDWR | os.O_NOCTTY)
    try:
        start = time.monotonic()
        wire.send(b"x" * 199 + b"\n")  # 100 ms on the firmware-to-host wire
        wire.receive(b"y" * 99 + b"\n", start)  # 50 ms on the other wire, at the same time
        assert wire.arrived(start + 0.06) == b"y" * 99 + b"\n"  # full duplex: not after the reply
        received = b""
        deadline = start + 10
        while len(received) < 200 and time.monotonic() < deadline:
            if select.select([host], [], [], 0.5)[0]:
                received += os.read(host, 4096)
        assert received == b"x" * 199 + b"\n", "the reply never reached the host"
        assert time.monotonic() - start >= 0.099  # its last byte not sooner than the link allows
    finally:
        os.close(host)
        wire.close()
        pty.close()


def test_a_job_never_streams_faster_than_the_link_and_every_line_runs_once(tmp_path: Path) -> None:
    """The windowed driver on a 4800 B/s wire: the job takes at least its lines' time on the wire."""

    async def scenario() -> None:
        path, expected = gcode_file(tmp_path / "job.gcode", 200)
        with MarlinSimulator(bytes_per_s=4800) as sim:
            driver = MarlinDriver(sim.port, 115200)
            await driver.connect()
            started = time.monotonic()
            end, _ = await run_job(driver, path, timeout=60)
            elapsed = time.monotonic() - started
            assert end.kind is EventKind.JOB_DONE, end
            start = max(i for i, (_, command) in enumerate(sim.numbered) if command.startswith("M110"))
            assert sim.numbered[start + 1 :] == list(enumerate(expected, start=1))
            assert sim.overflowed_bytes == 0
            on_the_wire = sum(len(encode(n, command)) for n, command in enumerate(expected, start=1))
            assert elapsed >= on_the_wire / 4800
            await driver.disconnect()

    asyncio.run(asyncio.wait_for(scenario(), 90))


def test_the_marlin_driver_reads_its_port_in_the_event_loop(tmp_path: Path) -> None:
    """No reader thread: each `ok` is handled where the next line is written (see `marlin_link`)."""

    async def scenario() -> None:
        path, expected = gcode_file(tmp_path / "job.gcode", 100)
        with MarlinSimulator() as sim:
            driver = MarlinDriver(sim.port, 115200)
            await driver.connect()
            assert isinstance(driver.link, LoopSerialLink) and driver.link.in_loop
            assert not any(thread.name == f"serial {sim.port}" for thread in threading.enumerate())
            end, _ = await run_job(driver, path)
            assert end.kind is EventKind.JOB_DONE, end
            assert (await driver.status()).done == len(expected)
            await driver.disconnect()
            assert not driver.link.in_loop  # the descriptor is no longer watched once closed

    asyncio.run(asyncio.wait_for(scenario(), 60))
