"""The safety policy inside the drivers: a file changed after validation is stopped before the bad line.

Real drivers against the pty simulators (and a real OctoPrint): what the firmware executed shows the
refused line never arrived, the machine was left safe, and the job failed with GCODE_REFUSED_BY_POLICY.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from fablabctl.file_limits import ValidationLimits
from fablabctl.i18n import Text
from fablabctl.machines.base import INTERNAL_CODE, EventKind, MachineRefused, MachineState
from fablabctl.machines.factory import make_driver
from fablabctl.machines.gate import REFUSED_CODE, PolicyGate
from fablabctl.machines.grbl import GrblDriver
from fablabctl.machines.marlin import COOL_DOWN, MarlinDriver
from fablabctl.machines.octoprint import OctoPrintDriver
from fablabctl.machines.sim.grbl_sim import GrblSimulator
from fablabctl.machines.sim.marlin_sim import MarlinSimulator
from fablabctl.queue.links import Links
from fablabctl.specs import DEFAULT_LASER, DEFAULT_PRINTER, MachineSpec
from fablabctl.validation.gcode import validate_gcode
from tests.machines.helpers import gcode_file, run_job
from tests.machines.octoprint_server import OctoPrintServer, running_octoprint

LIMITS = ValidationLimits()
LASER_JOB = ["G21 G90", "M4 S0"] + [f"G1 X{10 + i} Y{10 + i % 3} S500 F3000" for i in range(30)] + ["M5"]


def slip_in(path: Path, at: int, line: str) -> None:
    """Change the file on disk after validation: insert `line` so that it becomes line `at`."""
    lines = path.read_text().splitlines()
    lines.insert(at - 1, line)
    path.write_text("\n".join(lines) + "\n")


def refusal_events(seen: list) -> list[str]:  # type: ignore[type-arg]
    return [e.data.get("code") for e in seen if e.kind is EventKind.ERROR]


def test_marlin_stops_a_line_changed_after_validation(tmp_path: Path) -> None:
    path, expected = gcode_file(tmp_path / "job.gcode", 40, header="M104 S200\n")
    assert validate_gcode(path, machine=DEFAULT_PRINTER, limits=LIMITS).ok
    slip_in(path, 25, "M109 R400 ; from a bad start script")

    async def scenario() -> None:
        with MarlinSimulator() as sim:
            driver = MarlinDriver(sim.port, 115200)
            await driver.connect()
            end, seen = await run_job(driver, path)
            assert end.kind is EventKind.JOB_FAILED
            assert REFUSED_CODE in refusal_events(seen)
            assert "Ligne 25" in end.data["reason_fr"] and "M109 R400" in end.data["reason_fr"]
            assert "Line 25" in end.data["reason"] and "default-printer" in end.data["reason"]
            assert not any("R400" in c or "M109" in c for c in sim.executed)  # it never reached the firmware
            job = [c for c in sim.executed if c.startswith("G1 X")]
            assert job == [line for line in expected if line.startswith("G1")][:21]  # every line before it
            assert sim.executed[-4:] == COOL_DOWN and sim.hotend.target == 0  # heaters off
            assert (await driver.status()).state is MachineState.IDLE
            await driver.disconnect()

    asyncio.run(scenario())


def test_the_factory_gives_the_driver_the_machines_own_limits(tmp_path: Path) -> None:
    """Validated against the default printer (260 °C); this machine allows 230 °C: its driver refuses."""
    cool = MachineSpec("prusa-pla", "printer", "marlin", 250, 210, 210, max_hotend_c=230)
    path, _ = gcode_file(tmp_path / "job.gcode", 10, header="M104 S240\n")
    assert validate_gcode(path, machine=DEFAULT_PRINTER, limits=LIMITS).ok

    async def scenario() -> None:
        driver, simulator = make_driver("marlin", {"simulated": True, "sim_speed": 100}, cool)
        assert simulator is not None and driver.gate.spec is cool
        try:
            await driver.connect()
            end, _ = await run_job(driver, path)
            assert end.kind is EventKind.JOB_FAILED and "prusa-pla" in end.data["reason"]
            assert "230" in end.data["reason_fr"]
            assert "M104 S240" not in simulator.executed
        finally:
            await driver.disconnect()
            simulator.stop()

    asyncio.run(scenario())
    laser, sim = make_driver("grbl", {"port": "/dev/null"})
    assert laser.gate.spec is DEFAULT_LASER and sim is None  # no spec given: the default, never no policy
    printer, _ = make_driver("marlin", {"port": "/dev/null"})
    assert printer.gate.spec is DEFAULT_PRINTER


def test_grbl_stops_a_line_changed_after_validation_and_turns_the_laser_off(tmp_path: Path) -> None:
    path = tmp_path / "cut.nc"
    path.write_text("\n".join(LASER_JOB) + "\n")
    assert validate_gcode(path, machine=DEFAULT_LASER, limits=LIMITS).ok
    slip_in(path, 20, "g1x40y40 s 1 2 0 0")

    async def scenario() -> None:
        with GrblSimulator() as sim:
            driver = GrblDriver(sim.port, 115200)
            await driver.connect()
            end, seen = await run_job(driver, path)
            assert end.kind is EventKind.JOB_FAILED and end.data["code"] == REFUSED_CODE
            assert REFUSED_CODE in refusal_events(seen)
            assert "Ligne 20" in end.data["reason_fr"] and "S1200" in end.data["reason_fr"]
            assert sim.max_power_seen <= 500 and not any("X40Y40" in c for c in sim.executed)
            assert [c for c in sim.executed if c.startswith("G1")] == [
                line.replace(" ", "") for line in LASER_JOB[2:19]
            ]
            assert "M5" in sim.executed and not sim.laser_on
            await driver.disconnect()

    asyncio.run(scenario())


def test_the_simulator_fires_harder_when_override_bytes_reach_it() -> None:
    """What the next test guards against: 0x9A anywhere in a line is Grbl's spindle override +10 %."""

    async def scenario() -> None:
        with GrblSimulator() as sim:
            driver = GrblDriver(sim.port, 115200)
            await driver.connect()
            assert driver.link is not None
            await driver.link.write(b"M4 S500\n")
            await driver.link.write("G1 X1 F1000\u1680\n".encode() * 5)  # E1 9A 80, five times
            await asyncio.sleep(0.3)
            assert sim.extended_bytes.count(0x9A) == 5 and sim.spindle_override == 150
            assert sim.max_power_seen == 750
            await driver.disconnect()

    asyncio.run(scenario())


def test_grbl_never_lets_a_real_time_byte_out_inside_a_job_line(tmp_path: Path) -> None:
    """A file changed after validation with U+1680 (E1 9A 80) before a comment on ten lines: `strip`
    would hide it once the comment is gone, and each 0x9A would raise the laser 10 % past the limit
    (without the check: the job ends `done`, the simulator's override at 200 %, the power at S1000)."""
    diode = MachineSpec("diode", "laser", "grbl", 400, 300, laser_s_max=1000, laser_max_power_s=500)
    path = tmp_path / "cut.nc"
    path.write_text("\n".join(LASER_JOB) + "\n")
    assert validate_gcode(path, machine=diode, limits=LIMITS).ok
    slip_in(path, 20, "(a)\u1680(b)")  # blank once the comments are dropped, yet E1 9A 80
    for at in range(21, 30):
        slip_in(path, at, f"G1 X{at} Y20 S500\u1680(c)")

    async def scenario() -> None:
        with GrblSimulator() as sim:
            driver = GrblDriver(sim.port, 115200)
            driver.use_policy(diode)
            await driver.connect()
            end, _ = await run_job(driver, path)
            assert end.kind is EventKind.JOB_FAILED and end.data["code"] == REFUSED_CODE
            assert "Ligne 20" in end.data["reason_fr"] and "non ASCII U+1680" in end.data["reason_fr"]
            assert sim.extended_bytes == [] and sim.spindle_override == 100
            assert 0 < sim.max_power_seen <= 500 and not sim.laser_on
            await driver.disconnect()

    asyncio.run(scenario())


def bug_at(monkeypatch: pytest.MonkeyPatch, gate: PolicyGate, line: int) -> None:
    """A bug in the policy (or anywhere in the streaming loop) at the job's `line`-th line."""
    real = gate.refusal

    def refusal(text: str, index: int) -> Text | None:
        if index == line:
            raise RuntimeError("a bug")
        return real(text, index)

    monkeypatch.setattr(gate, "refusal", refusal)


def test_a_bug_in_the_grbl_stream_still_ends_the_job_with_the_laser_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "cut.nc"
    path.write_text("\n".join(LASER_JOB) + "\n")

    async def scenario() -> None:
        with GrblSimulator() as sim:
            driver = GrblDriver(sim.port, 115200)
            await driver.connect()
            bug_at(monkeypatch, driver.gate, 12)
            end, _ = await run_job(driver, path, timeout=20)
            assert end.kind is EventKind.JOB_FAILED and end.data["code"] == INTERNAL_CODE, end
            assert "RuntimeError" in end.data["reason_fr"] and "mise en sécurité" in end.data["reason_fr"]
            assert not sim.laser_on and not sim.planner  # soft reset: stopped, laser off
            await driver.disconnect()

    asyncio.run(scenario())


def test_a_bug_in_the_marlin_stream_still_ends_the_job_with_the_heaters_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _ = gcode_file(tmp_path / "job.gcode", 40, header="M104 S200\n")

    async def scenario() -> None:
        with MarlinSimulator() as sim:
            driver = MarlinDriver(sim.port, 115200, ok_timeout=2.0)
            await driver.connect()
            bug_at(monkeypatch, driver.gate, 20)
            end, _ = await run_job(driver, path, timeout=20)
            assert end.kind is EventKind.JOB_FAILED and end.data["code"] == INTERNAL_CODE, end
            assert "RuntimeError" in end.data["reason"]
            assert sim.executed[-4:] == COOL_DOWN and sim.hotend.target == 0
            assert (await driver.status()).state is MachineState.IDLE  # free for the next job
            end, _ = await run_job(driver, path, timeout=20)
            assert end.kind is EventKind.JOB_FAILED  # the bug is still there: same clean end, no hang
            await driver.disconnect()

    asyncio.run(scenario())


def test_grbl_outside_a_job_takes_only_the_operators_commands() -> None:
    async def scenario() -> None:
        with GrblSimulator() as sim:
            driver = GrblDriver(sim.port, 115200)
            await driver.connect()
            for command in (
                "$32=0",
                "$N0=M3 S1000",
                "$J=G91 X10 F100",
                "$RST=*",
                "M3 S1000",
                "G10 L2 P1 X0",
                "$X\u1680",  # strip() would hide it: E1 9A 80 on the wire
            ):
                with pytest.raises(MachineRefused) as info:
                    await driver.system(command)
                assert info.value.code == REFUSED_CODE
            assert sim.settings[32] == "1" and sim.executed == []
            assert any(line.startswith("$32=") for line in await driver.system("$$"))
            await driver.disconnect()

    asyncio.run(scenario())


def test_grbl_waits_for_the_boot_banner_and_sends_nothing_before() -> None:
    """An Arduino boots for ~2 s after the port opens (DTR reset): bytes sent meanwhile are lost."""

    async def scenario() -> None:
        with GrblSimulator(boot_delay_s=1.5) as sim:
            driver = GrblDriver(sim.port, 115200)
            started = time.monotonic()
            await asyncio.wait_for(driver.connect(), 10)
            assert time.monotonic() - started >= 1.4
            assert sim.bytes_during_boot == 0, "a command went out before the banner"
            assert driver.version == "1.1h" and driver.settings.get(32) == "1"
            await driver.disconnect()

    asyncio.run(scenario())


def test_the_gate_names_the_files_own_line(tmp_path: Path) -> None:
    path = tmp_path / "job.gcode"
    path.write_text("; header\n\nG28\n; comment\nM104 S999\n")
    gate = PolicyGate(DEFAULT_PRINTER)
    gate.begin(path, count=2)
    assert gate.refusal("G28", 1) is None
    refused = gate.refusal("M104 S999", 2)
    assert refused is not None and "Ligne 5" in refused.fr
    assert gate.file_refusal(b"G28\r\nM104 S210\r\n") is None
    bad = gate.file_refusal(b"G28\nM104 S210\nM109 R400\n")
    assert bad is not None and "Line 3" in bad.en
    assert gate.file_refusal(b"G28\nM104 S2\x0000\n") is not None


@pytest.fixture(scope="module")
def octoprint() -> Iterator[OctoPrintServer]:
    with running_octoprint() as server:
        yield server


def test_octoprint_checks_the_exact_bytes_before_the_upload(
    octoprint: OctoPrintServer, tmp_path: Path
) -> None:
    path = tmp_path / "trap.gcode"
    path.write_text("G28\nM109 R400\nG1 X10 Y10 Z0.3 F3000\n")

    async def scenario() -> None:
        driver = OctoPrintDriver(octoprint.url, octoprint.api_key, port="VIRTUAL", poll_s=0.3)
        await driver.connect()
        try:
            with pytest.raises(MachineRefused) as info:
                await driver.start(path)
            assert info.value.code == REFUSED_CODE and "Ligne 2" in info.value.message.fr
            async with httpx.AsyncClient(
                base_url=octoprint.url, headers={"X-Api-Key": octoprint.api_key}
            ) as client:
                files = (await client.get("/api/files/local")).json()["files"]
            assert "trap.gcode" not in [f["name"] for f in files]  # nothing was uploaded
        finally:
            await driver.disconnect()

    asyncio.run(scenario())


def test_the_dispatchers_links_hand_the_machine_spec_to_its_driver() -> None:
    cool = MachineSpec("prusa-pla", "printer", "marlin", 250, 210, 210, max_hotend_c=230)
    hotter = MachineSpec("prusa-pla", "printer", "marlin", 250, 210, 210, max_hotend_c=280)

    async def scenario() -> None:
        links = Links(sim_speed=100)
        try:
            driver = await links.ensure(1, "marlin", {"simulated": True}, cool)
            assert driver is not None and driver.gate.spec is cool
            again = await links.ensure(1, "marlin", {"simulated": True}, hotter)  # the record was edited
            assert again is driver and driver.gate.spec is hotter  # same connection, new limits
        finally:
            await links.close_all()

    asyncio.run(scenario())
