"""The Grbl driver against the Grbl simulator on a real pty: character counting and every fault."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from fablabctl.machines.base import EventKind, MachineError, MachineState
from fablabctl.machines.grbl import GrblDriver
from fablabctl.machines.grbl_protocol import parse_status
from fablabctl.machines.sim.grbl_sim import GrblFaults, GrblSimulator
from tests.machines.helpers import run_job


def laser_file(path: Path, segments: int = 300) -> tuple[Path, list[str]]:
    lines = (
        ["G21", "G90", "M4S0"]
        + [f"G1X{(i * 3) % 300}Y{(i * 7) % 200}S600F3000" for i in range(segments)]
        + ["M5"]
    )
    path.write_text("; laser job\n" + "\n".join(lines) + "\n")
    return path, lines


async def connected(sim: GrblSimulator, **kwargs: float) -> GrblDriver:
    driver = GrblDriver(sim.port, 115200, **kwargs)  # type: ignore[arg-type]
    await driver.connect()
    return driver


def test_status_report_parsing() -> None:
    report = parse_status("<Hold:0|MPos:1.000,2.500,0.000|Bf:12,100|FS:1200,800|WCO:0.000,0.000,0.000>")
    assert report is not None
    assert report.base_state == "Hold" and report.mpos == (1.0, 2.5, 0.0)
    assert (report.planner_free, report.rx_free, report.feed, report.spindle) == (12, 100, 1200, 800)


def test_connect_reads_banner_and_settings() -> None:
    async def scenario() -> None:
        with GrblSimulator() as sim:
            driver = await connected(sim)
            assert driver.version == "1.1h"
            assert driver.settings[32] == "1" and driver.settings[30] == "1000"
            await driver.disconnect()

    asyncio.run(scenario())


def test_character_counting_streams_everything_without_overflow(tmp_path: Path) -> None:
    path, lines = laser_file(tmp_path / "job.nc", 600)

    async def scenario() -> None:
        with GrblSimulator(time_scale=0.0005) as sim:
            driver = await connected(sim)
            end, events = await run_job(driver, path)
            assert end.kind is EventKind.JOB_DONE, end
            assert sim.executed[-len(lines) :] == lines
            assert sim.overflowed_bytes == 0
            assert sim.max_power_seen == 600
            assert any(e.kind is EventKind.PROGRESS for e in events)
            assert driver.sent_lines == len(lines)  # several lines in flight, none sent twice
            await driver.disconnect()

    asyncio.run(scenario())


def test_laser_mode_off_is_refused_before_anything_moves(tmp_path: Path) -> None:
    path, _ = laser_file(tmp_path / "job.nc", 10)

    async def scenario() -> None:
        with GrblSimulator(laser_mode=False) as sim:
            driver = await connected(sim)
            with pytest.raises(MachineError, match=r"\$32=1") as info:
                await driver.start(path)
            assert info.value.code == "GRBL_LASER_MODE_OFF"
            assert not [c for c in sim.executed if c.startswith("G1")]
            await driver.disconnect()

    asyncio.run(scenario())


def test_an_alarm_mid_job_fails_it_with_the_meaning(tmp_path: Path) -> None:
    path, _ = laser_file(tmp_path / "job.nc", 300)

    async def scenario() -> None:
        with GrblSimulator(faults=GrblFaults(alarm_at_line=100)) as sim:
            driver = await connected(sim)
            end, _ = await run_job(driver, path)
            assert end.kind is EventKind.JOB_FAILED
            assert "ALARM:1" in end.data["reason"] and "Hard limit" in end.data["reason"]
            assert "Fin de course" in end.data["reason_fr"]
            assert sim.state == "Alarm"
            # never unlocked on our own: only the operator does it
            assert "$X" not in sim.executed
            await driver.unlock()
            assert sim.state == "Idle"
            await driver.disconnect()

    asyncio.run(scenario())


def test_an_error_line_fails_the_job_and_stops_the_laser(tmp_path: Path) -> None:
    path = tmp_path / "bad.nc"
    path.write_text("G21\nG90\nM4 S300\nG1 X10 Y10 F1000\nG5 X1\nG1 X20 Y20\nM5\n")

    async def scenario() -> None:
        with GrblSimulator() as sim:
            driver = await connected(sim)
            end, _ = await run_job(driver, path)
            assert end.kind is EventKind.JOB_FAILED
            assert "error:20" in end.data["reason"] and "line 5: G5X1" in end.data["reason"]
            await asyncio.sleep(0.1)
            assert not sim.laser_on  # the soft reset turned it off
            await driver.disconnect()

    asyncio.run(scenario())


def test_lost_oks_are_recovered_without_resending(tmp_path: Path) -> None:
    path, lines = laser_file(tmp_path / "job.nc", 60)

    async def scenario() -> None:
        with GrblSimulator(faults=GrblFaults(drop_ok_lines={62})) as sim:
            driver = await connected(sim)
            end, _ = await run_job(driver, path, timeout=30)
            assert end.kind is EventKind.JOB_DONE, end
            assert sim.executed[-len(lines) :] == lines
            await driver.disconnect()

    asyncio.run(scenario())


def test_line_noise_is_reported_not_ignored(tmp_path: Path) -> None:
    path, _ = laser_file(tmp_path / "job.nc", 50)

    async def scenario() -> None:
        with GrblSimulator(faults=GrblFaults(corrupt_lines={20})) as sim:
            driver = await connected(sim)
            end, _ = await run_job(driver, path)
            assert end.kind is EventKind.JOB_FAILED
            assert "error:" in end.data["reason"]
            await driver.disconnect()

    asyncio.run(scenario())


def test_disconnect_mid_job(tmp_path: Path) -> None:
    path, _ = laser_file(tmp_path / "job.nc", 300)

    async def scenario() -> None:
        with GrblSimulator(faults=GrblFaults(disconnect_at_line=80)) as sim:
            driver = await connected(sim)
            end, _ = await run_job(driver, path)
            assert end.kind is EventKind.JOB_FAILED
            assert "disconnected" in end.data["reason"]
            assert (await driver.status()).state is MachineState.OFFLINE
            await driver.disconnect()

    asyncio.run(scenario())


def test_hold_resume_and_cancel(tmp_path: Path) -> None:
    path, _ = laser_file(tmp_path / "job.nc", 400)

    async def scenario() -> None:
        with GrblSimulator(time_scale=0.02) as sim:
            driver = await connected(sim)
            async with driver.subscribe() as events:
                await driver.start(path)
                await asyncio.sleep(0.3)
                await driver.pause()
                report = await driver.fresh_report()
                assert report.base_state == "Hold"
                position = report.mpos
                await asyncio.sleep(0.3)
                assert (await driver.fresh_report()).mpos == position  # nothing moves while held
                await driver.resume()
                await asyncio.sleep(0.2)
                assert (await driver.fresh_report()).base_state == "Run"
                await driver.cancel()
                async for event in events:
                    if event.kind is EventKind.JOB_CANCELLED:
                        break
            await asyncio.sleep(0.1)
            assert sim.state == "Idle" and not sim.planner and not sim.laser_on
            await driver.disconnect()

    asyncio.run(scenario())


def test_check_mode_dry_run(tmp_path: Path) -> None:
    path, _ = laser_file(tmp_path / "job.nc", 30)

    async def scenario() -> None:
        with GrblSimulator(time_scale=1.0) as sim:  # real-time motion: only check mode finishes fast
            driver = await connected(sim)
            await driver.check_mode(True)
            end, _ = await run_job(driver, path, timeout=10)
            assert end.kind is EventKind.JOB_DONE
            assert sim.position != [0.0, 0.0, 0.0] and not sim.planner
            await driver.check_mode(False)
            assert sim.state == "Idle"
            await driver.disconnect()

    asyncio.run(scenario())
