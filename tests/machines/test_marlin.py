"""The Marlin driver against the Marlin simulator on a real pty: the protocol and every fault."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import pytest

from fablabctl.machines.base import EventKind, MachineState
from fablabctl.machines.marlin import MarlinDriver
from fablabctl.machines.sim.marlin_sim import MarlinFaults, MarlinSimulator
from tests.machines.helpers import gcode_file, job_commands, run_job


async def bounded(scenario: Coroutine[Any, Any, None], seconds: float = 60) -> None:
    """Every scenario ends: a hang is a failure with a clear message, not a stuck test run."""
    try:
        await asyncio.wait_for(scenario, seconds)
    except TimeoutError:
        raise AssertionError(f"the scenario did not end within {seconds} s") from None


async def connected(sim: MarlinSimulator, **kwargs: float) -> MarlinDriver:
    driver = MarlinDriver(sim.port, 115200, **kwargs)
    await driver.connect()
    return driver


def test_handshake_identifies_the_firmware(tmp_path: Path) -> None:
    async def scenario() -> None:
        with MarlinSimulator() as sim:
            driver = await connected(sim)
            assert driver.capabilities.firmware.startswith("Marlin 2.1")
            assert driver.capabilities.autoreport_temp
            assert (await driver.status()).state is MachineState.IDLE
            await driver.disconnect()
            assert sim.executed[:3] == ["M110 N0", "M115", "M155 S2"]

    asyncio.run(bounded(scenario()))


def test_a_clean_job_runs_every_line_once_in_order(tmp_path: Path) -> None:
    path, expected = gcode_file(
        tmp_path / "job.gcode", 200, header="M140 S60\nM104 S200\nM190 S60\nM109 S200\n"
    )

    async def scenario() -> None:
        with MarlinSimulator() as sim:
            driver = await connected(sim)
            end, events = await run_job(driver, path)
            assert end.kind is EventKind.JOB_DONE
            assert job_commands(sim.executed, expected) == expected
            assert any(e.kind is EventKind.TEMPERATURE for e in events)
            status = await driver.status()
            assert status.temperatures["hotend"].target == 200
            assert status.done == status.total == len(expected)
            await driver.disconnect()

    asyncio.run(bounded(scenario()))


@pytest.mark.parametrize(
    "faults",
    [
        MarlinFaults(corrupt_lines={10, 11, 50}),
        MarlinFaults(drop_ok_lines={20, 21}),
        MarlinFaults(busy_storm={15: 30}),
    ],
    ids=["checksum errors", "lost oks", "busy storm"],
)
def test_recoverable_faults_lose_and_repeat_nothing(tmp_path: Path, faults: MarlinFaults) -> None:
    path, expected = gcode_file(tmp_path / "job.gcode", 80)

    async def scenario() -> None:
        with MarlinSimulator(faults=faults) as sim:
            driver = await connected(sim, ok_timeout=0.5)
            end, _ = await run_job(driver, path)
            assert end.kind is EventKind.JOB_DONE, end
            assert job_commands(sim.executed, expected) == expected
            await driver.disconnect()

    asyncio.run(bounded(scenario()))


def test_a_pulled_cable_fails_the_job_with_the_reason(tmp_path: Path) -> None:
    path, _ = gcode_file(tmp_path / "job.gcode", 80)

    async def scenario() -> None:
        with MarlinSimulator(faults=MarlinFaults(disconnect_at_line=30)) as sim:
            driver = await connected(sim, ok_timeout=1)
            end, _ = await run_job(driver, path)
            assert end.kind is EventKind.JOB_FAILED
            assert "disconnected" in end.data["reason"]
            assert 0 < end.data["done"] < 80
            await driver.disconnect()

    asyncio.run(bounded(scenario()))


def test_thermal_runaway_stops_the_job_with_the_firmware_message(tmp_path: Path) -> None:
    path, _ = gcode_file(tmp_path / "job.gcode", 80)

    async def scenario() -> None:
        with MarlinSimulator(faults=MarlinFaults(thermal_runaway_at_line=25)) as sim:
            driver = await connected(sim, ok_timeout=1)
            end, events = await run_job(driver, path)
            assert end.kind is EventKind.JOB_FAILED
            assert "Thermal Runaway" in end.data["reason"]
            assert (await driver.status()).state is MachineState.ERROR
            assert any(e.kind is EventKind.ERROR for e in events)
            await driver.disconnect()

    asyncio.run(bounded(scenario()))


def test_pause_parks_and_resume_continues_then_cancel_cools_down(tmp_path: Path) -> None:
    path, _ = gcode_file(tmp_path / "job.gcode", 400, header="M83\n")

    async def scenario() -> None:
        with MarlinSimulator(command_s=0.002) as sim:
            driver = await connected(sim)
            async with driver.subscribe() as events:
                await driver.start(path)
                await asyncio.sleep(0.2)
                await driver.pause()
                async for event in events:
                    if event.kind is EventKind.STATE and event.data["state"] == "paused":
                        break
                done_at_pause = (await driver.status()).done
                await asyncio.sleep(0.2)
                assert (await driver.status()).done == done_at_pause  # nothing fed while paused
                assert sim.executed[-3:] == ["G91", "G1 Z5 F600", "G90"]
                await driver.resume()
                await asyncio.sleep(0.2)
                assert "G1 Z-5 F600" in sim.executed and "M83" in sim.executed[-300:]
                await driver.cancel()
                async for event in events:
                    if event.kind is EventKind.JOB_CANCELLED:
                        break
            assert sim.executed[-4:] == ["M104 S0", "M140 S0", "M107", "M84"]
            assert (await driver.status()).state is MachineState.IDLE
            await driver.disconnect()

    asyncio.run(bounded(scenario()))


def test_emergency_stop_halts_at_once(tmp_path: Path) -> None:
    path, _ = gcode_file(tmp_path / "job.gcode", 2000)

    async def scenario() -> None:
        with MarlinSimulator(command_s=0.001) as sim:
            driver = await connected(sim, ok_timeout=1)
            async with driver.subscribe() as events:
                await driver.start(path)
                await asyncio.sleep(0.1)
                await driver.emergency_stop()
                async for event in events:
                    if event.kind is EventKind.JOB_FAILED:
                        break
            for _ in range(100):  # the simulator thread acts on M112 a moment later
                if sim.halted:
                    break
                await asyncio.sleep(0.02)
            assert "M112" in sim.executed and sim.halted
            assert (await driver.status()).state is MachineState.ERROR
            await driver.disconnect()

    asyncio.run(bounded(scenario()))


def test_no_firmware_on_the_port_is_a_clear_timeout() -> None:
    async def scenario() -> None:
        with MarlinSimulator() as sim:
            sim.halted = True  # answers nothing
            driver = MarlinDriver(sim.port, 115200, connect_timeout=0.5)
            with pytest.raises(Exception, match="No Marlin answer"):
                await driver.connect()

    asyncio.run(bounded(scenario()))
