"""Several lines in flight against a simulated Marlin that has a real receive buffer (128 bytes, bytes
lost when it is full): the driver keeps it busy without ever overflowing it, every line runs once in
order, and the simulator really loses what a careless host sends too fast."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import serial

from fablabctl.machines.base import EventKind
from fablabctl.machines.marlin import MarlinDriver
from fablabctl.machines.marlin_protocol import numbered
from fablabctl.machines.sim.marlin_sim import MarlinSimulator
from tests.machines.helpers import gcode_file, run_job


def job_ran(sim: MarlinSimulator) -> list[tuple[int, str]]:
    start = max(i for i, (_, command) in enumerate(sim.numbered) if command.startswith("M110"))
    return sim.numbered[start + 1 :]


def test_a_slow_firmware_gets_several_lines_at_once_and_never_loses_a_byte(tmp_path: Path) -> None:
    async def scenario() -> None:
        path, expected = gcode_file(tmp_path / "job.gcode", 1500)
        with MarlinSimulator(command_s=0.001, bytes_per_s=11520) as sim:
            driver = MarlinDriver(sim.port, 115200)
            await driver.connect()
            end, _ = await run_job(driver, path, timeout=120)
            assert end.kind is EventKind.JOB_DONE, end
            assert job_ran(sim) == list(enumerate(expected, start=1))  # each line once, in order
            assert sim.overflowed_bytes == 0  # never more than the firmware can hold
            assert driver.flow.deepest == 3  # and it did keep three lines in flight
            assert driver.flow.resends == 0
            assert (await driver.status()).done == len(expected)
            await driver.disconnect()

    asyncio.run(asyncio.wait_for(scenario(), 180))


def test_one_line_at_a_time_still_works(tmp_path: Path) -> None:
    async def scenario() -> None:
        path, expected = gcode_file(tmp_path / "job.gcode", 300)
        with MarlinSimulator() as sim:
            driver = MarlinDriver(sim.port, 115200, window=1)
            await driver.connect()
            end, _ = await run_job(driver, path, timeout=60)
            assert end.kind is EventKind.JOB_DONE, end
            assert job_ran(sim) == list(enumerate(expected, start=1))
            assert driver.flow.deepest == 1
            await driver.disconnect()

    asyncio.run(asyncio.wait_for(scenario(), 90))


def test_the_simulated_receive_buffer_loses_what_overflows_it() -> None:
    """A host that writes 20 lines while the firmware is busy: bytes are lost, as on a real board."""
    with MarlinSimulator(command_s=0.05) as sim, serial.Serial(sim.port, 115200, timeout=0.2) as link:
        time.sleep(0.2)
        link.write(b"N0 M110 N0*125\n")
        time.sleep(0.3)
        link.write("".join(numbered(n, f"G1 X{n}") + "\n" for n in range(1, 21)).encode())
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and sim.received_lines < 2:
            time.sleep(0.05)
        time.sleep(1.5)
        assert sim.overflowed_bytes > 0
        assert len(sim.numbered) < 21  # not every line made it: the host must hold back
